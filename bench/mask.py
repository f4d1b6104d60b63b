"""Benchmark: masking time against message length, as a ratio within one run.

Masking must be linear in the text: ten times the characters should cost about ten times
the time (a quadratic rule gives a hundred). Adversarial texts first (the ones that made
the address rule backtrack), then ordinary messages repeated.

    python bench/mask.py [--repeat 20]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

from bot.store.mask import mask

CASES: dict[str, Callable[[int], str]] = {
    "路+市…": lambda n: "路" + "市" * (n - 1),
    "北京市…": lambda n: ("北京市" * n)[:n],
    "地址": lambda n: ("寄到浙江省杭州市西湖区文三路90号3栋，电话13812345678。" * n)[:n],
    "数字": lambda n: ("1-" * n)[:n],
    "闲聊": lambda n: ("衣服质量不好，颜色也不对，退货吧。" * n)[:n],
}


def best(fn: Callable[[], object], repeat: int) -> float:
    # CPU time of this thread, not the wall clock: on a busy machine a 30 ms run is
    # preempted and a 3 ms one mostly is not, which skewed the wall-clock ratio threefold.
    times = []
    for _ in range(repeat):
        t0 = time.thread_time()
        fn()
        times.append(time.thread_time() - t0)
    return min(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()
    out = {}
    for name, make in CASES.items():
        small, large = make(2_000), make(20_000)
        t_small = best(lambda s=small: mask(s), args.repeat)  # type: ignore[misc]
        t_large = best(lambda s=large: mask(s), args.repeat)  # type: ignore[misc]
        out[name] = {"2000_ms": round(t_small * 1000, 3), "20000_ms": round(t_large * 1000, 3),
                     "ratio": round(t_large / t_small, 1)}
    print(json.dumps(out, ensure_ascii=False, indent=1))
    worst = max(v["ratio"] for v in out.values())
    print(f"最大比值 {worst}（线性约为 10，平方约为 100）")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
