"""Benchmark: start-up of `csbot analyze` on one line and `csbot lint` on a 1,000-line file,
against `python -c pass` in the same run (median of several runs). Exits 1 if either is more
than 0.5 s above the baseline.

As Python's own start-up reads compiled bytecode, csbot's reads the lexicons' compiled
regexes from its cache (bot/understand/regex_cache.py) once a first run has written them:
that warm start is what the target applies to. The first run after installing or editing
the lexicons is shown too ("cold": an empty cache folder each time).

    python bench/startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


# Python's bytecode cache is part of a warm start too: a shell that sets
# PYTHONDONTWRITEBYTECODE (as some containers do, this project's machine among them) would
# have every run compile all of csbot's modules again, which no installed csbot does.
_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed(cmd: list[str], stdin: bytes, cold: bool = False) -> float:
    if cold:
        with tempfile.TemporaryDirectory() as empty:
            return _run(cmd, stdin, {**_ENV, "CSBOT_CACHE_DIR": empty})
    return _run(cmd, stdin, _ENV)


def _run(cmd: list[str], stdin: bytes, env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, input=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT, env=env)
    return time.perf_counter() - t0


def median(cmd: list[str], stdin: bytes, runs: int, cold: bool = False) -> float:
    timed(cmd, stdin)  # warm the page cache, the bytecode and the regex cache
    return statistics.median(timed(cmd, stdin, cold) for _ in range(runs))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    py = sys.executable
    lines = [json.loads(x)["text"] for x in (ROOT / "tests/data/guard_dev.jsonl").read_text(
        encoding="utf-8").splitlines() if x.strip()]
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as fh:
        for i in range(1000):
            fh.write(lines[i % len(lines)] + "\n")
        replies = fh.name
    base = median([py, "-c", "pass"], b"", args.runs)
    analyze = median([py, "-m", "bot", "analyze", "--role", "buyer"], "是我，颜色跟图片差太多了\n".encode(), args.runs)
    lint = median([py, "-m", "bot", "lint", replies], b"", args.runs)
    analyze_cold = median([py, "-m", "bot", "analyze", "--role", "buyer"], "是我，颜色跟图片差太多了\n".encode(),
                          args.runs, cold=True)
    lint_cold = median([py, "-m", "bot", "lint", replies], b"", args.runs, cold=True)
    print(f"python -c pass            {base * 1000:7.0f} ms")
    print(f"csbot analyze (one line)  {analyze * 1000:7.0f} ms   +{(analyze - base) * 1000:.0f} ms"
          f"   (cold: +{(analyze_cold - base) * 1000:.0f} ms)")
    print(f"csbot lint (1,000 lines)  {lint * 1000:7.0f} ms   +{(lint - base) * 1000:.0f} ms"
          f"   (cold: +{(lint_cold - base) * 1000:.0f} ms)")
    ok = analyze - base <= 0.5 and lint - base <= 0.5
    print("target ≤ 0.5 s above python -c pass:", "met" if ok else "MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
