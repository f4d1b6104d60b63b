"""A bounded load generator (run as its own process): C connections posting turns for T seconds.

Prints one JSON line: requests, seconds, turns/s, p50/p99 latency in ms, errors.
Every request goes to 127.0.0.1 only; the loop stops by itself after the duration.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

import aiohttp

LINES = [("agent", "您好，请问是周女士吗？我是柚子家女装的售后客服小林。"), ("buyer", "是我，您说"),
         ("agent", "您3月2号在我们店拍的那条湖蓝色碎花连衣裙，还有印象吗？"),
         ("buyer", "記得，顏色跟圖片差好多，圖上是清清爽爽的湖藍，到手發灰發暗，我很失望"),
         ("agent", "真的很抱歉，满心期待结果颜色不对，换成我也会失望的。"), ("buyer", "嗯")]


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--token", default="")
    ap.add_argument("--conversations", nargs="*", default=[])
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--seconds", type=float, default=10)
    args = ap.parse_args()
    headers = {"Authorization": f"Bearer {args.token}"} if args.token else {}
    conn = aiohttp.TCPConnector(limit=args.concurrency)
    latencies: list[float] = []
    errors = 0
    stop = time.monotonic() + args.seconds
    convs = args.conversations or ["x"]
    said = dict.fromkeys(convs, 0)  # each conversation hears the lines in their order

    async def worker(w: int) -> None:
        nonlocal errors
        i = 0
        async with aiohttp.ClientSession(connector=conn, connector_owner=False, headers=headers) as s:
            while time.monotonic() < stop:
                cid = convs[(w + i * args.concurrency) % len(convs)]
                role, text = LINES[said[cid] % len(LINES)]
                said[cid] += 1
                t0 = time.perf_counter()
                async with s.post(f"{args.url}/api/v1/conversations/{cid}/messages",
                                  json={"role": role, "text": text}) as r:
                    await r.read()
                    if r.status != 200:
                        errors += 1
                latencies.append(time.perf_counter() - t0)
                i += 1

    t0 = time.monotonic()
    await asyncio.gather(*(worker(w) for w in range(args.concurrency)))
    elapsed = time.monotonic() - t0
    await conn.close()
    latencies.sort()
    n = len(latencies)
    print(json.dumps({"requests": n, "seconds": round(elapsed, 2), "rps": round(n / elapsed, 1),
                      "p50_ms": round(latencies[n // 2] * 1000, 2),
                      "p99_ms": round(latencies[min(n - 1, int(n * 0.99))] * 1000, 2),
                      "errors": errors}))


if __name__ == "__main__":
    asyncio.run(main())
