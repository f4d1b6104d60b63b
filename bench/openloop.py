"""An open-loop load generator (run as its own process): turns sent at a fixed arrival rate.

A closed loop (wrk, or C connections that each wait for their answer) slows down with the
server and hides its tail; here request i leaves at t0 + i / rate whatever happened to the
ones before, and its latency counts from that planned moment, so a stall of the server
shows in every request that should have left during it (no coordinated omission).

    python bench/openloop.py --url URL --token T --rate 500 --seconds 10 --conversations ID…

Prints one JSON line: sent, answered, errors, p50/p99/p999/max latency in ms, and how late
the generator itself sent (if that is large the figures measure the generator, not csbot).

It speaks HTTP/1.1 over plain asyncio streams, keep-alive connections reused as they come
free: an aiohttp client spent about as much CPU per request as the server's HTTP layer,
and on a busy machine its own lag (sender late p99 12-17 ms) was most of the tail it
reported.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import time
from urllib.parse import urlsplit

from turnlines import LINES

_LENGTH = re.compile(rb"(?im)^content-length: *(\d+)")


def _pct(xs: list[float], p: float) -> float:
    return round(xs[min(len(xs) - 1, int(p * len(xs)))] * 1000, 2) if xs else 0.0


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--token", default="")
    ap.add_argument("--conversations", nargs="+", required=True)
    ap.add_argument("--rate", type=float, required=True, help="requests per second")
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--dump", help="write each request's conversation, number and times here (bench/tail.py)")
    args = ap.parse_args()
    url = urlsplit(args.url)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    auth = f"Authorization: Bearer {args.token}\r\n" if args.token else ""
    latencies: list[float] = []
    late: list[float] = []
    errors = 0
    said = dict.fromkeys(args.conversations, 0)  # each conversation hears the lines in order
    total = int(args.rate * args.seconds)
    idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []  # keep-alive, free now

    requests: list[tuple[str, int, float, float, float]] = []

    async def send(cid: str, n: int, role: str, text: str, planned: float) -> None:
        nonlocal errors
        sent = time.perf_counter()
        body = json.dumps({"role": role, "text": text}, ensure_ascii=False).encode()
        head = (f"POST /api/v1/conversations/{cid}/messages HTTP/1.1\r\nHost: {host}\r\n{auth}"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()
        try:
            reader, writer = idle.pop() if idle else await asyncio.open_connection(host, port)
            writer.write(head + body)
            answer = await reader.readuntil(b"\r\n\r\n")
            length = _LENGTH.search(answer)
            await reader.readexactly(int(length.group(1)) if length else 0)
            errors += answer[9:12] != b"200"
            idle.append((reader, writer))
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            errors += 1
        done = time.perf_counter()
        latencies.append(done - planned)
        requests.append((cid, n, planned, sent, done))

    tasks = []
    t0 = time.perf_counter() + 0.05
    for i in range(total):
        planned = t0 + i / args.rate
        delay = planned - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        late.append(time.perf_counter() - planned)
        cid = args.conversations[i % len(args.conversations)]
        role, text = LINES[said[cid] % len(LINES)]
        tasks.append(asyncio.create_task(send(cid, said[cid], role, text, planned)))
        said[cid] += 1
    await asyncio.gather(*tasks)
    for _, writer in idle:
        writer.close()
    if args.dump:
        with open(args.dump, "w", encoding="utf-8") as out:
            json.dump(requests, out)
    latencies.sort()
    late.sort()
    print(json.dumps({"sent": total, "answered": len(latencies) - errors, "errors": errors,
                      "rate": args.rate, "p50_ms": _pct(latencies, 0.5), "p99_ms": _pct(latencies, 0.99),
                      "p999_ms": _pct(latencies, 0.999), "max_ms": _pct(latencies, 1.0),
                      "sender_late_p99_ms": _pct(late, 0.99)}))


if __name__ == "__main__":
    asyncio.run(main())
