"""Benchmark: what `csbot serve` makes of the engine's own speed, in one run.

    python bench/service.py [--seconds 10] [--rounds 3] [--concurrency 64] [--pg postgresql://…]

Four measurements, taken in turn round after round (a shared machine drifts within minutes,
and alternating keeps the drift out of the ratios); each figure is the median of its rounds:

- engine: `Engine.feed` in process on one core, the same turns the service gets (256
  conversations, bench/turnlines.py), every Suggestion serialised: turns/s and p50/p99.
- service: turns/s through `csbot serve` on SQLite (every turn committed before it is
  answered), the server on core 0 and wrk (closed loop, bench/turns.lua) on core 1: the
  saturation rate. Efficiency = service / engine; target ≥ 0.5.
- latency: the same server at half that rate, open loop (bench/openloop.py on core 1, a
  fixed arrival rate, latency from the planned send): target p99 ≤ 20 ms.
- bare: a bare aiohttp handler under the same wrk; service / bare is information only.

Needs wrk (Debian package) and two cores. Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from turnlines import LINES  # noqa: E402

from tests.server_proc import TOKEN, ServerProcess, call, free_port  # noqa: E402

SERVER_CORE, LOAD_CORE = {0}, {1}
CONVERSATIONS = 256


def pin(pid: int, cores: set[int]) -> None:
    """Every thread of a process and of its children onto `cores`."""
    for tid in os.listdir(f"/proc/{pid}/task"):
        os.sched_setaffinity(int(tid), cores)
        children = Path(f"/proc/{pid}/task/{tid}/children").read_text().split()
        for child in children:
            pin(int(child), cores)


def engine_run(seconds: float) -> dict[str, float]:
    """The engine alone (this process, pinned to the server's core)."""
    os.sched_setaffinity(0, SERVER_CORE)
    from bot.engine import Engine

    engine = Engine.load()
    convs = [engine.start({"shop": "柚子家女装", "buyer_name": f"买家{i}", "order_id": f"B{i}"})[0]
             for i in range(CONVERSATIONS)]
    said = [0] * CONVERSATIONS
    times: list[int] = []
    stop = time.monotonic() + seconds
    start = time.perf_counter()
    cpu = time.thread_time()
    i = 0
    while time.monotonic() < stop:
        k = i % CONVERSATIONS
        role, text = LINES[said[k] % len(LINES)]
        t0 = time.perf_counter_ns()
        convs[k], sug = engine.feed(convs[k], role, text)
        sug.model_dump_json()
        times.append(time.perf_counter_ns() - t0)
        said[k] += 1
        i += 1
    elapsed = time.perf_counter() - start
    cpu_us = (time.thread_time() - cpu) / len(times) * 1e6
    times.sort()
    return {"rps": len(times) / elapsed, "p50_ms": times[len(times) // 2] / 1e6,
            "p99_ms": times[int(len(times) * 0.99)] / 1e6, "cpu_us": cpu_us}


def engine(seconds: float) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, "--engine-only", "--seconds", str(seconds)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def wrk(url: str, ids: list[str], seconds: float, concurrency: int) -> dict[str, float]:
    """wrk on the load core, closed loop: the rate the server saturates at."""
    lines = ", ".join("[[" + json.dumps({"role": r, "text": t}, ensure_ascii=False) + "]]" for r, t in LINES)
    prelude = (f'token = "{TOKEN}"\nids = {{{", ".join(json.dumps(i) for i in ids)}}}\n'
               f"lines = {{{lines}}}\n")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", encoding="utf-8") as lua:
        lua.write(prelude + (ROOT / "bench/turns.lua").read_text(encoding="utf-8"))
        lua.flush()
        out = subprocess.run(["taskset", "-c", ",".join(map(str, LOAD_CORE)), "wrk", "-t1",
                              f"-c{concurrency}", f"-d{int(seconds)}s", "--latency", "-s", lua.name, url],
                             capture_output=True, text=True, check=True).stdout
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {"rps": float(out.split("Requests/sec:")[1].split()[0]),
            "errors": (int(bad.group(1)) if bad else 0) + (sum(map(int, socket.groups())) if socket else 0)}


def open_loop(url: str, ids: list[str], rate: float, seconds: float) -> dict[str, float]:
    out = subprocess.run(["taskset", "-c", ",".join(map(str, LOAD_CORE)), sys.executable,
                          str(ROOT / "bench/openloop.py"), "--url", url, "--token", TOKEN,
                          "--rate", f"{rate:.0f}", "--seconds", str(seconds), "--conversations", *ids],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def cpu_seconds(pid: int) -> float:
    """The CPU time (user + system) a process has used, all its threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def csbot(db_url: str) -> Iterator[tuple[str, list[str], int]]:
    """`csbot serve` pinned to the server core, with its conversations opened."""
    server = ServerProcess(db_url).start()
    try:
        assert server.proc is not None
        pin(server.proc.pid, SERVER_CORE)
        ids = []
        for i in range(CONVERSATIONS):  # many conversations, as on a customer-service floor
            status, body = call(server.url, "POST", "/api/v1/conversations",
                                {"shop": "柚子家女装", "buyer_name": f"买家{i}", "order_id": f"B{i}"})
            assert status in (200, 201), body
            ids.append(body["conversation"]["id"])  # type: ignore[index]
        yield server.url, ids, server.proc.pid
    finally:
        server.kill()


@contextmanager
def sqlite() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as tmp:
        yield f"sqlite:///{tmp}/bench.db"


def bare(seconds: float, concurrency: int) -> dict[str, float]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, str(ROOT / "bench/bare_server.py"), str(port)])
    try:
        deadline = time.monotonic() + 30  # a busy machine starts it slowly
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.1)
        pin(proc.pid, SERVER_CORE)
        return wrk(f"http://127.0.0.1:{port}", ["x"], seconds, concurrency)
    finally:
        proc.kill()
        proc.wait()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--pg", default=None, help="PostgreSQL URL of an empty database, measured beside (information)")
    ap.add_argument("--engine-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.engine_only:
        print(json.dumps(engine_run(args.seconds)))
        return 0
    if shutil.which("wrk") is None or (os.cpu_count() or 1) < 2:
        print("需要 wrk（apt-get install wrk）和至少两个核", file=sys.stderr)
        return 2

    def service(db: Callable[[], AbstractContextManager[str]]) -> dict[str, float]:
        with db() as url, csbot(url) as (base, ids, pid):
            before = cpu_seconds(pid)
            saturated = wrk(base, ids, args.seconds, args.concurrency)
            # CPU per turn (every thread: loop, writer, checkpoint): on a shared machine it
            # drifts less than the rate, which counts the time other programs took the core.
            cpu_us = (cpu_seconds(pid) - before) / (saturated["rps"] * int(args.seconds)) * 1e6
        with db() as url, csbot(url) as (base, ids, _):
            half = open_loop(base, ids, saturated["rps"] / 2, args.seconds)
        return {"rps": saturated["rps"], "errors": saturated["errors"] + half["errors"], "cpu_us": cpu_us,
                **{f"half_{k}": v for k, v in half.items() if k.endswith("_ms")}}

    runs: dict[str, Callable[[], dict[str, float]]] = {
        "engine": lambda: engine(args.seconds),
        "bare": lambda: bare(args.seconds, args.concurrency),
        "sqlite": lambda: service(sqlite),
    }
    if args.pg:
        @contextmanager
        def pg() -> Iterator[str]:
            yield args.pg
        runs["postgresql"] = lambda: service(pg)
    print(f"{os.cpu_count()} cores; server on core {min(SERVER_CORE)}, load on core {min(LOAD_CORE)}; "
          f"{args.rounds} rounds of {args.seconds:.0f} s")
    results: dict[str, list[dict[str, float]]] = {name: [] for name in runs}
    for r in range(args.rounds):
        for name in (list(runs) if r % 2 == 0 else list(runs)[::-1]):
            results[name].append(runs[name]())
        print(f"round {r + 1}: " + ", ".join(f"{n} {results[n][-1]['rps']:.0f}/s" for n in runs), flush=True)
    med = {name: {k: statistics.median(x[k] for x in rs) for k in rs[0]} for name, rs in results.items()}
    eng, sql = med["engine"], med["sqlite"]
    efficiency = sql["rps"] / eng["rps"]
    print(f"engine in process    {eng['rps']:8.0f} turns/s   p50 {eng['p50_ms']:.2f} ms   p99 {eng['p99_ms']:.2f} ms   "
          f"CPU {eng['cpu_us']:.0f} µs/turn")
    print(f"bare aiohttp (wrk)   {med['bare']['rps']:8.0f} req/s")
    for name in ("sqlite", "postgresql"):
        if name in med:
            m = med[name]
            print(f"csbot serve {name:10} {m['rps']:8.0f} turns/s   {m['rps'] / eng['rps']:.2f}× engine   "
                  f"{m['rps'] / med['bare']['rps']:.2f}× bare   at half load (open loop): "
                  f"p50 {m['half_p50_ms']:.1f} ms  p99 {m['half_p99_ms']:.1f} ms  "
                  f"p99.9 {m['half_p999_ms']:.1f} ms  max {m['half_max_ms']:.1f} ms  "
                  f"(sender late p99 {m['half_sender_late_p99_ms']:.1f} ms)  errors {int(m['errors'])}")
            print(f"  CPU {m['cpu_us']:.0f} µs/turn; engine / service by CPU time "
                  f"{eng['cpu_us'] / m['cpu_us']:.2f}× (information)")
    checks = {"engine p50 ≤ 0.3 ms": eng["p50_ms"] <= 0.3, "engine p99 ≤ 1 ms": eng["p99_ms"] <= 1.0,
              "service ≥ 0.5× engine": efficiency >= 0.5, "p99 at half load ≤ 20 ms": sql["half_p99_ms"] <= 20,
              "no errors": all(m.get("errors", 0) == 0 for m in med.values())}
    for name, ok in checks.items():
        print(f"target {name}: {'met' if ok else 'MISSED'}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
