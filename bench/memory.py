"""Benchmark: resident memory after 1,000 and 100,000 conversations, a few turns each.

Drives the service's own turn service and store (the code `csbot serve` runs per request)
over a SQLite file, and reads the resident memory of the process. Then, in the same run,
measures the alternative the design rejects: one `transitions` Machine per conversation,
kept in memory. Exits 1 if growth is above 0.5 KB per conversation.

    python bench/memory.py [--small 1000] [--large 100000] [--turns 3]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.engine import Engine  # noqa: E402
from bot.models import Case  # noqa: E402
from bot.service.turns import TurnService  # noqa: E402
from bot.store.db import Store  # noqa: E402

LINES = [("agent", "您好，请问是周女士吗？我是柚子家女装的售后客服小林。"), ("buyer", "是我，颜色跟图片差太多了"),
         ("agent", "真的很抱歉，让您失望了。"), ("buyer", "嗯")]


def rss_kb() -> int:
    """Resident memory of this process."""
    gc.collect()
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def fill(store: TurnService, start: int, count: int, turns: int) -> None:
    chunk = 512
    for base in range(start, start + count, chunk):
        ids = await asyncio.gather(*(
            store.create(Case(shop="柚子家女装", buyer_name=f"买家{i}", order_id=str(i)))
            for i in range(base, min(base + chunk, start + count))))
        for t in range(turns):
            role, text = LINES[t % len(LINES)]
            await asyncio.gather(*(store.turn(conv.id, role, text) for conv, _, _ in ids))


async def service_growth(small: int, large: int, turns: int) -> tuple[int, int, int]:
    engine = Engine.load()
    with tempfile.TemporaryDirectory() as tmp:
        store = await Store.open(f"sqlite:///{tmp}/mem.db", synchronous="NORMAL")
        service = TurnService.over(store, engine)
        try:
            await fill(service, 0, 200, turns)  # warm caches before the first reading
            base = rss_kb()
            await fill(service, 200, small, turns)
            after_small = rss_kb()
            await fill(service, 200 + small, large - small, turns)
            after_large = rss_kb()
        finally:
            service.shutdown()
            await store.close()
    return base, after_small, after_large


def machine_per_conversation(count: int) -> int:
    """RSS growth (KB) of keeping one transitions Machine per conversation."""
    from transitions import Machine

    engine = Engine.load()
    rows = engine.script.rows
    before = rss_kb()
    kept = []
    for _ in range(count):
        class Model:
            pass

        m = Machine(model=Model(), states=list(engine.script.stages), initial="opening",
                    auto_transitions=False)
        for r in rows:
            m.add_transition(r["trigger"], r["source"], r["dest"])
        kept.append(m)
    grown = rss_kb() - before
    del kept
    return grown


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--small", type=int, default=1000)
    ap.add_argument("--large", type=int, default=100_000)
    ap.add_argument("--turns", type=int, default=3)
    args = ap.parse_args()
    base, small, large = asyncio.run(service_growth(args.small, args.large, args.turns))
    # Bounded caches (compiled SQL, the guard's cache of rendered texts, SQLite's page cache)
    # fill during the first thousand; what grows after that is per conversation.
    per_conv = (large - small) / (args.large - args.small)
    machines = machine_per_conversation(args.small)
    print(f"RSS at start (warm): {base / 1024:8.1f} MB")
    print(f"after {args.small:>7,} conversations: {small / 1024:8.1f} MB")
    print(f"after {args.large:>7,} conversations: {large / 1024:8.1f} MB   "
          f"growth {per_conv:.3f} KB per conversation after the first {args.small:,} "
          f"({args.turns} turns each)")
    print(f"one Machine per conversation: {machines / args.small:.1f} KB per conversation "
          f"(measured over {args.small:,}); ratio {machines / args.small / max(per_conv, 0.001):.0f}×")
    ok = per_conv <= 0.5
    print("target ≤ 0.5 KB per conversation:", "met" if ok else "MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
