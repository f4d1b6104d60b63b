"""Benchmark: start-up of `csbot analyze` on one line and `csbot lint` on a 1,000-line file,
against `python -c pass` in the same run (median of several runs). Exits 1 if either is more
than 0.5 s above the baseline.

Each run compiles the lexicons it needs with ``re`` (nothing is cached between runs), and
reports user+system CPU time beside wall time: on a shared machine the CPU figures are the
steadier ones.

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


def timed(cmd: list[str], stdin: bytes) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the child) of one run."""
    before = os.times()
    t0 = time.perf_counter()
    subprocess.run(cmd, input=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT, env=_ENV)
    wall = time.perf_counter() - t0
    after = os.times()
    return wall, (after.children_user - before.children_user) + (after.children_system - before.children_system)


def median(cmd: list[str], stdin: bytes, runs: int) -> tuple[float, float]:
    timed(cmd, stdin)  # warm the page cache and the bytecode
    got = [timed(cmd, stdin) for _ in range(runs)]
    return statistics.median(w for w, _ in got), statistics.median(c for _, c in got)


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
    base, base_cpu = median([py, "-c", "pass"], b"", args.runs)
    analyze, analyze_cpu = median([py, "-m", "bot", "analyze", "--role", "buyer"],
                                  "是我，颜色跟图片差太多了\n".encode(), args.runs)
    lint, lint_cpu = median([py, "-m", "bot", "lint", replies], b"", args.runs)
    print(f"python -c pass            {base * 1000:7.0f} ms   (CPU {base_cpu * 1000:.0f} ms)")
    print(f"csbot analyze (one line)  {analyze * 1000:7.0f} ms   +{(analyze - base) * 1000:.0f} ms"
          f"   (CPU +{(analyze_cpu - base_cpu) * 1000:.0f} ms)")
    print(f"csbot lint (1,000 lines)  {lint * 1000:7.0f} ms   +{(lint - base) * 1000:.0f} ms"
          f"   (CPU +{(lint_cpu - base_cpu) * 1000:.0f} ms)")
    ok = analyze - base <= 0.5 and lint - base <= 0.5
    print("target ≤ 0.5 s above python -c pass:", "met" if ok else "MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
