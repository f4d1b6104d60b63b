"""Diagnostic: the turn service without HTTP, on a real SQLite file (synchronous=FULL).

    python bench/turnservice.py [--turns 8000] [--concurrency 64]

`TurnService.turn` from 64 tasks over 256 conversations (bench/turnlines.py), every turn
committed before it returns, after a warm-up; prints, per turn, the process's CPU time (all
threads: the loop, the writer, the checkpoint), the bytes written (the WAL and the checkpoint,
/proc/self/io wchar: independent of the machine's load), the turns per commit and the
garbage collections (how often, the CPU each took: `--turns 40000` to see one). Information
for A/B runs against another checkout (run the same command there in turn); no target.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import resource
import sys
import tempfile
import time
from itertools import count
from pathlib import Path
from typing import cast

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from turnlines import LINES  # noqa: E402

from bot.cli import SERVE_GC_THRESHOLD  # noqa: E402
from bot.engine import Engine  # noqa: E402
from bot.models import Case, Role  # noqa: E402
from bot.service.turns import TurnService  # noqa: E402
from bot.store.db import Store  # noqa: E402

CONVERSATIONS = 256


def written() -> int:
    """Bytes this process has passed to write() so far."""
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("wchar:"):
            return int(line.split()[1])
    return 0


async def run(turns: int, concurrency: int) -> None:
    engine = Engine.load()
    with tempfile.TemporaryDirectory() as tmp:
        store = await Store.open(f"sqlite:///{tmp}/bench.db", synchronous="FULL")
        service = TurnService.over(store, engine)
        opened = await asyncio.gather(*(service.create(Case(shop="柚子家女装", buyer_name=f"买家{i}", order_id=f"B{i}"))
                                        for i in range(CONVERSATIONS)))
        ids = [conv.id for conv, _, _ in opened]
        said = [0] * CONVERSATIONS
        numbers = count()

        async def worker(n: int) -> None:
            for _ in range(n):
                k = next(numbers) % CONVERSATIONS
                role, text = LINES[said[k] % len(LINES)]
                said[k] += 1
                await service.turn(ids[k], cast(Role, role), text)

        await asyncio.gather(*(worker(512 // concurrency) for _ in range(concurrency)))  # warm-up
        gc.freeze()  # as `csbot serve` does
        gc.set_threshold(SERVE_GC_THRESHOLD, *gc.get_threshold()[1:])
        # Each collection: its generation and the CPU it took (the pause it is on a quiet
        # machine; its wall time counts whatever else had the core meanwhile).
        pauses: list[tuple[int, float]] = []
        started = [0.0]

        def timed(phase: str, info: dict[str, int]) -> None:
            if phase == "start":
                started[0] = time.thread_time()
            else:
                pauses.append((info["generation"], (time.thread_time() - started[0]) * 1000))

        gc.callbacks.append(timed)
        assert store.writer is not None
        each = turns // concurrency
        done = each * concurrency
        bytes0, batches0 = written(), store.writer.batches
        r0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        await asyncio.gather(*(worker(each) for _ in range(concurrency)))
        r1, t1 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        cpu = (r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime) / done * 1e6
        system = (r1.ru_stime - r0.ru_stime) / done * 1e6
        kb = (written() - bytes0) / done / 1024
        print(f"{done} turns: CPU {cpu:.0f} µs/turn (system {system:.0f}), {kb:.1f} KB written/turn, "
              f"{done / (store.writer.batches - batches0):.1f} turns/commit, {done / (t1 - t0):.0f} turns/s")
        gc.callbacks.remove(timed)
        for gen in sorted({g for g, _ in pauses}):
            ms = [m for g, m in pauses if g == gen]
            print(f"  garbage collections of generation {gen}: {len(ms)} "
                  f"({len(ms) / done * 1000:.2f} per 1,000 turns), longest {max(ms):.1f} ms CPU, "
                  f"{sum(ms) / done * 1000:.2f} µs/turn")
        await store.close()
        service.shutdown()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--turns", type=int, default=8000)
    ap.add_argument("--concurrency", type=int, default=64)
    args = ap.parse_args()
    asyncio.run(run(args.turns, args.concurrency))


if __name__ == "__main__":
    main()
