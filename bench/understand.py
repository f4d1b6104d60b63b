"""Benchmark: messages per second through `csbot analyze` on a 100,000-line file, against a
Python process that reads the same file and writes one JSON line per message (same run).

    python bench/understand.py [--lines 100000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ECHO = ("import sys, json\n"
        "for l in sys.stdin: sys.stdout.write(json.dumps({'text': l.rstrip()}, ensure_ascii=False) + '\\n')")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=100_000)
    args = ap.parse_args()
    out = {}
    for role, name in (("buyer", "buyer_dev"), ("agent", "agent_dev")):
        texts = [json.loads(x)["text"] for x in (ROOT / f"tests/data/{name}.jsonl").read_text(
            encoding="utf-8").splitlines() if x.strip()]
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as fh:
            for i in range(args.lines):
                fh.write(texts[i % len(texts)] + "\n")
            path = fh.name
        runs = {}
        for label, cmd in (("baseline", [sys.executable, "-c", ECHO]),
                           ("analyze", [sys.executable, "-m", "bot", "analyze", "--role", role])):
            with open(path, "rb") as src:
                t0 = time.perf_counter()
                subprocess.run(cmd, stdin=src, stdout=subprocess.DEVNULL, check=True, cwd=ROOT)
                runs[label] = args.lines / (time.perf_counter() - t0)
        out[role] = runs
        print(f"{role:6}  analyze {runs['analyze']:9.0f} msg/s   baseline {runs['baseline']:9.0f} "
              f"lines/s   ratio {runs['analyze'] / runs['baseline']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
