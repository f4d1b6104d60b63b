"""Benchmark: one turn in process (understand + script step + compose + guard on suggestions).

Replays the turns of the development dialogs (both roles, all stages, short and long lines,
traditional Chinese) round-robin, timing each `Engine.feed`, and reports p50 / p99 / max
beside a baseline measured in the same run (a bare pydantic round trip of the Suggestion),
since absolute times drift on a shared machine. Exits 1 if p99 is above the 1 ms target.

    python bench/turn.py [--turns 10000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.engine import Engine  # noqa: E402
from bot.models import Suggestion  # noqa: E402


def _dialogs() -> list[dict]:  # type: ignore[type-arg]
    out = []
    for path in (ROOT / "tests/data/dialogs_dev.jsonl", ROOT / "tests/data/public/dialogs_dev.jsonl"):
        out += [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
    return out


def _pct(xs: list[int], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))] / 1000


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--turns", type=int, default=10_000)
    args = ap.parse_args()
    engine = Engine.load()
    dialogs = _dialogs()
    times: list[int] = []
    base: list[int] = []
    sample = None
    while len(times) < args.turns:
        for d in dialogs:
            conv, sug = engine.start(d.get("case"))
            for turn in d["turns"]:
                if conv.stage == "closed":
                    break
                t0 = time.perf_counter_ns()
                conv, sug = engine.feed(conv, turn["role"], turn["text"])
                times.append(time.perf_counter_ns() - t0)
                raw = sug.model_dump_json()
                t0 = time.perf_counter_ns()
                Suggestion.model_validate_json(raw).model_dump_json()
                base.append(time.perf_counter_ns() - t0)
                sample = sug
    assert sample is not None
    p50, p99, mx = _pct(times, 0.5), _pct(times, 0.99), max(times) / 1000
    b50, b99 = _pct(base, 0.5), _pct(base, 0.99)
    print(f"turns: {len(times)}  (dialogs: {len(dialogs)})")
    mean = statistics.mean(times) / 1000
    print(f"turn      p50 {p50:8.1f} µs   p99 {p99:8.1f} µs   max {mx:8.1f} µs   mean {mean:8.1f} µs")
    print(f"baseline  p50 {b50:8.1f} µs   p99 {b99:8.1f} µs   (pydantic JSON round trip of one Suggestion)")
    print(f"ratio     p50 {p50 / b50:8.1f} ×   p99 {p99 / b99:8.1f} ×")
    ok = p99 <= 1000
    print("target p99 ≤ 1 ms:", "met" if ok else "MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
