"""Checks that two checkouts of csbot read the development sets the same, byte for byte:
`csbot lint --json` and `csbot analyze --role agent` on every agent line, `csbot analyze
--role buyer` on every buyer line of tests/data/*.jsonl and /work/shared/data/*_dev.jsonl
(the dialogs' turns included; never the held-out split). Start-up work (how lexicons are
expanded, how the model file is read) must not change a single output byte.

    python bench/same_output.py OTHER_CHECKOUT [THIS_CHECKOUT]
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETS = [*sorted((ROOT / "tests/data").glob("*.jsonl")), *sorted(Path("/work/shared/data").glob("*_dev.jsonl"))]


def lines() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {"agent": [], "buyer": []}
    for path in SETS:
        for raw in path.read_text(encoding="utf-8").splitlines():
            if not raw.strip():
                continue
            row = json.loads(raw)
            if "turns" in row:
                for turn in row["turns"]:
                    out["agent" if turn["role"] == "agent" else "buyer"].append(turn["text"])
            elif "intent" in row:
                out["buyer"].append(row["text"])
            else:
                out["agent"].append(row["text"])
    return {role: [t.replace("\n", " ") for t in texts if t.strip()] for role, texts in out.items()}


def run(checkout: Path, args: list[str], stdin: str) -> bytes:
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    env.pop("CSBOT_DIALOGS", None)
    got = subprocess.run([sys.executable, "-m", "bot", *args], input=stdin.encode(), cwd=checkout,
                         env=env, capture_output=True)
    return got.stdout + b"\n--stderr--\n" + got.stderr + f"\n--exit {got.returncode}--\n".encode()


def main() -> int:
    other = Path(sys.argv[1]).resolve()
    this = Path(sys.argv[2]).resolve() if len(sys.argv) > 2 else ROOT
    texts = lines()
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as fh:
        fh.write("\n".join(texts["agent"]) + "\n")
    jobs = {
        "lint --json": (["lint", "--json", fh.name], ""),
        "lint": (["lint", fh.name], ""),
        "analyze --role agent": (["analyze", "--role", "agent"], "\n".join(texts["agent"]) + "\n"),
        "analyze --role buyer": (["analyze", "--role", "buyer"], "\n".join(texts["buyer"]) + "\n"),
    }
    same = True
    for name, (args, stdin) in jobs.items():
        a, b = run(other, args, stdin), run(this, args, stdin)
        ok = a == b
        same &= ok
        print(f"{name:22s} {len(a.splitlines()):6d} lines  {hashlib.sha256(b).hexdigest()[:16]}  "
              f"{'same' if ok else 'DIFFERENT'}")
    print(f"{len(texts['agent'])} agent lines, {len(texts['buyer'])} buyer lines:", "identical" if same else "DIFFER")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
