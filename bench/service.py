"""Benchmark: service throughput and latency through `csbot serve`, against a bare aiohttp
handler measured in the same run, with a load generator in a separate process on loopback.

    python bench/service.py [--seconds 10] [--rounds 3] [--concurrency 64] [--pg postgresql://…] [--wrk]

Every csbot turn is durably committed (synchronous=FULL) before it is answered. csbot runs
as `csbot serve` starts by default: one process. The issue's reference point, pydantic + Jinja2 + one FSM step
per request without storage (bench/reference_server.py), is measured beside them. The runs
take turns, round after round, and each figure is the median of its rounds: a shared
machine's speed drifts by a tenth within minutes, and alternating keeps the drift out of
the ratio. Exits 1 if the default's SQLite throughput is
below 0.4 × the bare handler's.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.server_proc import TOKEN, ServerProcess, call, free_port  # noqa: E402


def load(url: str, seconds: float, concurrency: int, convs: list[str]) -> dict[str, float]:
    out = subprocess.run([sys.executable, str(ROOT / "bench/load.py"), "--url", url, "--token", TOKEN,
                          "--seconds", str(seconds), "--concurrency", str(concurrency),
                          "--conversations", *convs], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def plain(script: str, seconds: float, concurrency: int) -> dict[str, float]:
    """A server in bench/ (the bare handler, or the issue's reference pipeline) under the load."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, str(ROOT / "bench" / script), str(port)])
    try:
        time.sleep(1.0)
        return load(f"http://127.0.0.1:{port}", seconds, concurrency, ["x"])
    finally:
        proc.kill()


def csbot(db_url: str, seconds: float, concurrency: int) -> dict[str, float]:
    server = ServerProcess(db_url).start()
    try:
        convs = []
        for i in range(256):  # many conversations, as on a customer-service floor
            status, body = call(server.url, "POST", "/api/v1/conversations",
                                {"shop": "柚子家女装", "buyer_name": f"买家{i}", "order_id": f"B{i}"})
            assert status in (200, 201), body
            convs.append(body["conversation"]["id"])  # type: ignore[index]
        return load(server.url, seconds, concurrency, convs)
    finally:
        server.kill()


def bare_wrk(seconds: float, concurrency: int) -> float | None:
    """The bare handler's requests/s under wrk (C), to show what limits the baseline."""
    if shutil.which("wrk") is None:
        return None
    port = free_port()
    proc = subprocess.Popen([sys.executable, str(ROOT / "bench/bare_server.py"), str(port)])
    try:
        time.sleep(1.0)
        with tempfile.NamedTemporaryFile("w", suffix=".lua") as lua:
            lua.write('wrk.method = "POST"\nwrk.body = \'{"role":"buyer","text":"嗯"}\'\n'
                      'wrk.headers["Content-Type"] = "application/json"\n')
            lua.flush()
            out = subprocess.run(["wrk", "-t1", f"-c{concurrency}", f"-d{int(seconds)}s", "-s", lua.name,
                                  f"http://127.0.0.1:{port}/x"], capture_output=True, text=True, check=True)
        return float(out.stdout.split("Requests/sec:")[1].split()[0])
    finally:
        proc.kill()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--pg", default=None, help="PostgreSQL URL of an empty database to also measure")
    ap.add_argument("--wrk", action="store_true",
                    help="also load the bare handler with wrk (if installed), for what limits the baseline")
    args = ap.parse_args()
    print(f"{os.cpu_count()} cores")

    def on_sqlite() -> dict[str, float]:
        with tempfile.TemporaryDirectory() as tmp:
            return csbot(f"sqlite:///{tmp}/bench.db", args.seconds, args.concurrency)

    default = "csbot serve, SQLite"
    runs: dict[str, Callable[[], dict[str, float]]] = {
        "bare aiohttp handler": lambda: plain("bare_server.py", args.seconds, args.concurrency),
        # The reference (0.43× there): pydantic + Jinja2 + one FSM step, no storage.
        "reference, no storage": lambda: plain("reference_server.py", args.seconds, args.concurrency),
        default: on_sqlite,
    }
    if args.pg:
        runs["csbot serve, PostgreSQL"] = lambda: csbot(args.pg, args.seconds, args.concurrency)
    results: dict[str, list[dict[str, float]]] = {name: [] for name in runs}
    for r in range(args.rounds):
        for name in (list(runs) if r % 2 == 0 else list(runs)[::-1]):
            results[name].append(runs[name]())
        print(f"round {r + 1}: " + ", ".join(f"{n} {results[n][-1]['rps']:.0f}" for n in runs),
              flush=True)
    rows = [(name, {**{k: statistics.median(x[k] for x in rs) for k in rs[0]},
                    "errors": sum(x["errors"] for x in rs)}) for name, rs in results.items()]
    base = rows[0][1]["rps"]
    print(f"{'':28} {'turns/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'ratio':>6} {'errors':>6}")
    for name, r in rows:
        print(f"{name:28} {r['rps']:9.0f} {r['p50_ms']:8.2f} {r['p99_ms']:8.2f} "
              f"{r['rps'] / base:6.2f} {int(r['errors']):6d}")
    if args.wrk:
        under_wrk = bare_wrk(args.seconds, args.concurrency)
        print("bare aiohttp handler under wrk:",
              f"{under_wrk:.0f} req/s (not the baseline: the ratio compares like with like)"
              if under_wrk else "wrk is not installed")
    ratio = dict(rows)[default]["rps"] / base
    ok = ratio >= 0.4 and all(r["errors"] == 0 for _, r in rows)
    print("target SQLite ≥ 0.4 × bare:", "met" if ok else "MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
