"""Diagnostic: where the open-loop latency of `csbot serve` goes, stage by stage.

    python bench/tail.py [--rate R] [--seconds 10] [--warm 3]

`csbot serve` on SQLite runs under bench/tailprobe.py (core 0), the open-loop generator
(bench/openloop.py, core 1) posts bench/turnlines.py at a fixed rate (default: half of what
wrk saturates it at, measured first on a fresh server, as bench/service.py does). Each request
is matched with the server's stamps for it (same clock) and its latency split into:
sending late, before the handler (HTTP, the loop busy with others), up to the engine (body,
lock, load), the engine, up to the write, waiting for its batch (the batch before it
committing), its batch (statements, COMMIT and fsync, the loop waking), the answer back.
Printed for the median and for the slowest 1 %, with what else happened meanwhile: commits,
checkpoints, garbage collections, the loop's lag, each thread's wait for a CPU (schedstat).
Information, no target.
"""

from __future__ import annotations

import argparse
import bisect
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from service import CONVERSATIONS, LOAD_CORE, SERVER_CORE, csbot, pin, sqlite, wrk  # noqa: E402

from tests.server_proc import STATIC, TOKEN, call, free_port  # noqa: E402

STAGES = [("late", "planned", "sent", "发送晚了"), ("http", "sent", "enter", "到处理函数之前"),
          ("lock", "enter", "decide", "读请求、锁、取会话"), ("engine", "decide", "decided", "引擎和遮蔽"),
          ("json", "decided", "submit", "到交给写入者"), ("queue", "submit", "applied", "等上一批提交完"),
          ("commit", "applied", "committed", "自己这一批（语句、COMMIT、fsync、叫醒）"),
          ("publish", "committed", "exit", "发布"), ("back", "exit", "done", "回答送回")]


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))] if xs else 0.0


def probe_server(db_url: str, out: str, code: Path = ROOT) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "CSBOT_TOKENS": STATIC, "PYTHONPATH": str(code), "CSBOT_PROBE_CODE": str(code)}
    log = open(Path(out).with_suffix(".log"), "wb")  # noqa: SIM115 - beside OUT, as long as the server runs
    proc = subprocess.Popen([sys.executable, str(ROOT / "bench/tailprobe.py"), out, "serve", "--db", db_url,
                             "--port", str(port)], env=env, cwd=code, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            raise RuntimeError(Path(log.name).read_text())
        try:
            if call(url, "GET", "/healthz")[0] == 200:
                return proc, url
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("server did not start")
        time.sleep(0.2)


def open_loop(url: str, ids: list[str], rate: float, seconds: float, dump: str | None = None) -> dict[str, Any]:
    cmd = ["taskset", "-c", ",".join(map(str, LOAD_CORE)), sys.executable, str(ROOT / "bench/openloop.py"),
           "--url", url, "--token", TOKEN, "--rate", f"{rate:.0f}", "--seconds", str(seconds)]
    if dump:
        cmd += ["--dump", dump]
    out = subprocess.run([*cmd, "--conversations", *ids], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rate", type=float, help="requests/s (default: half of wrk's saturation)")
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--warm", type=float, default=3)
    ap.add_argument("--code", type=Path, default=ROOT, help="serve this checkout's code (A/B against another one)")
    ap.add_argument("--keep", help="keep the raw stamps (JSON) here")
    args = ap.parse_args()
    rate = args.rate
    if rate is None:
        with sqlite() as db, csbot(db) as (base, ids, _):
            rate = wrk(base, ids, args.seconds, 64)["rps"] / 2
    with tempfile.TemporaryDirectory() as tmp, sqlite() as db:
        proc, url = probe_server(db, f"{tmp}/server.json", args.code)
        try:
            pin(proc.pid, SERVER_CORE)
            ids = []
            for i in range(CONVERSATIONS):
                _, body = call(url, "POST", "/api/v1/conversations",
                                    {"shop": "柚子家女装", "buyer_name": f"买家{i}", "order_id": f"B{i}"})
                ids.append(body["conversation"]["id"])  # type: ignore[index]
            open_loop(url, ids, rate, args.warm)
            pin(proc.pid, SERVER_CORE)  # the threads started since
            os.kill(proc.pid, signal.SIGUSR1)
            time.sleep(0.2)
            summary = open_loop(url, ids, rate, args.seconds, f"{tmp}/client.json")
            os.kill(proc.pid, signal.SIGUSR2)
            time.sleep(0.2)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(60)
        server = json.loads(Path(f"{tmp}/server.json").read_text())
        client = json.loads(Path(f"{tmp}/client.json").read_text())
    if args.keep:
        Path(args.keep).write_text(json.dumps({"rate": rate, "summary": summary, "server": server, "client": client}))
    report(rate, summary, server, client)


def report(rate: float, summary: dict[str, Any], server: dict[str, Any], client: list[list[Any]]) -> None:
    stamps = {(t["cid"], t["n"]): t for t in server["turns"]}
    waits = server["waits"]
    at = [w[0] for w in waits]

    def cpu_wait(r: dict[str, Any], which: int) -> float:
        """ms the loop's thread (1) or the writer's (2) waited for a CPU while ``r`` was out."""
        a, b = bisect.bisect_left(at, r["planned"]), bisect.bisect_right(at, r["done"]) - 1
        return (waits[b][which] - waits[a][which]) / 1e6 if b > a else 0.0

    rows = []
    for cid, n, planned, sent, done in client:
        t = stamps.get((cid, n))
        if t is not None and "applied" in t:
            rows.append({**t, "planned": planned, "sent": sent, "done": done, "total": done - planned})
    rows.sort(key=lambda r: r["total"])
    p99 = pct([r["total"] for r in rows], 0.99)
    tail = [r for r in rows if r["total"] >= p99]
    middle = rows[len(rows) // 2 - len(tail) // 2: len(rows) // 2 + len(tail) // 2 + 1]
    print(f"rate {rate:.0f}/s: {summary['answered']} answered, p50 {summary['p50_ms']} ms, p99 {summary['p99_ms']} ms, "
          f"max {summary['max_ms']} ms; {len(rows)} matched with the server's stamps")
    print(f"{'mean ms of each group':<44}{'median 1 %':>12}{'slowest 1 %':>13}")
    lines = [(zh, lambda r, a=a, b=b: (r[b] - r[a]) * 1000) for _, a, b, zh in STAGES]
    lines += [("合计", lambda r: r["total"] * 1000), ("其间事件循环的线程等 CPU", lambda r: cpu_wait(r, 1)),
              ("其间写入者的线程等 CPU", lambda r: cpu_wait(r, 2))]
    for label, value in lines:
        print(f"  {label:<40}{statistics.mean(map(value, middle)):12.2f}{statistics.mean(map(value, tail)):13.2f}")

    def share(spans: list[tuple[float, float]], group: list[dict[str, Any]]) -> str:
        hit = [any(s < r["done"] and e > r["planned"] for s, e in spans) for r in group]
        return f"{statistics.mean(hit):.0%}" if hit else "-"

    span = server["sched"][1]["at"] - server["sched"][0]["at"]
    cps = [(s, e) for s, e, _ in server["checkpoints"]]
    commits = server["commits"]
    during = [(e - s) * 1000 for s, e, _ in commits if any(x < e and y > s for x, y in cps)]
    other = [(e - s) * 1000 for s, e, _ in commits if not any(x < e and y > s for x, y in cps)]
    print(f"commits: {len(commits)} ({len(rows) / max(1, len(commits)):.1f} turns each); COMMIT (fsync) p50 "
          f"{pct(other, 0.5):.2f} ms, p99 {pct(other, 0.99):.2f} ms, max {max(other, default=0):.2f} ms; "
          f"during a checkpoint ({len(during)}) p50 {pct(during, 0.5):.2f} ms, p99 {pct(during, 0.99):.2f} ms")
    print(f"checkpoints: {len(cps)}, busy {sum(e - s for s, e in cps) / span:.1%} of the time; "
          f"overlapped {share(cps, tail)} of the slowest 1 %, {share(cps, rows)} of all")
    stalls = [(p, r) for p, r in server["lags"] if r - p > 0.005]
    lag = [(r - p) * 1000 for p, r in server["lags"]]
    print(f"loop lag (a callback posted every 2 ms from a thread): p50 {pct(lag, 0.5):.2f} ms, "
          f"p99 {pct(lag, 0.99):.2f} ms, max {max(lag, default=0):.2f} ms; "
          f"a stall over 5 ms overlapped {share(stalls, tail)} of the slowest 1 %")
    # Each batch's hand-offs: its statements end on the loop → its COMMIT starts in the writer's
    # thread (the thread woken, then waiting for the GIL the loop holds); the COMMIT returns →
    # its first turn resumes on the loop (the GIL again, then the loop's steps queued before).
    applies, ends = server["applies"], [c[1] for c in commits]
    if len(applies) == len(commits):
        start = [(c[0] - a[1]) * 1000 for a, c in zip(applies, commits, strict=True)]
        resumed = []
        for r in rows:
            k = bisect.bisect_right(ends, r["committed"]) - 1
            if k >= 0:
                resumed.append((r["committed"] - ends[k]) * 1000)
        print(f"statements done → COMMIT starts in the writer's thread: p50 {pct(start, 0.5):.2f} ms, "
              f"p99 {pct(start, 0.99):.2f} ms, max {max(start, default=0):.2f} ms; COMMIT returned → "
              f"turn resumed on the loop: p50 {pct(resumed, 0.5):.2f} ms, p99 {pct(resumed, 0.99):.2f} ms")
    episodes(tail, server, commits)
    for gen in (0, 1, 2):
        done = [((e - s) * 1000, cpu * 1000, (s, e)) for s, e, g, cpu in server["collections"] if g == gen]
        if done:
            print(f"garbage collections of generation {gen}: {len(done)}, longest {max(done)[0]:.2f} ms "
                  f"({max(done)[1]:.2f} ms CPU); overlapped {share([d[2] for d in done], tail)} of the slowest 1 %")
    s0, s1 = server["sched"]
    for name, (run1, wait1) in s1["threads"].items():
        run0, wait0 = s0["threads"].get(name, (0, 0))
        if run1 - run0 > 1e7:
            print(f"thread {name}: ran {(run1 - run0) / 1e9 / span:.0%} of the time, "
                  f"waited for a CPU {(wait1 - wait0) / 1e9 / span:.1%} of it")


def episodes(tail: list[dict[str, Any]], server: dict[str, Any], commits: list[list[float]]) -> None:
    """The slowest 1 % come in a few bursts: for each (requests planned less than 0.1 s apart),
    what happened around it: the longest COMMIT, the loop's longest lag and its thread's wait
    for a CPU, the longest garbage collection, the mean time of the loop's steps that decided a
    turn (engine and masking: longer than usual when other programs share the core)."""
    bursts: list[list[dict[str, Any]]] = []
    for r in sorted(tail, key=lambda r: r["planned"]):
        if bursts and r["planned"] - bursts[-1][-1]["planned"] < 0.1:
            bursts[-1].append(r)
        else:
            bursts.append([r])
    t0 = server["sched"][0]["at"]
    waits, at = server["waits"], [w[0] for w in server["waits"]]
    decided = sorted((t["decide"], t["decided"] - t["decide"]) for t in server["turns"] if "decided" in t)
    usual = statistics.median(d for _, d in decided) * 1000 if decided else 0.0
    print(f"the slowest 1 % in {len(bursts)} bursts (the engine step usually {usual:.2f} ms):")
    for burst in bursts:
        a, b = burst[0]["planned"] - 0.1, burst[-1]["done"]
        commit = max(((e - s) * 1000 for s, e, _ in commits if s < b and e > a), default=0.0)
        lag = max(((r - p) * 1000 for p, r in server["lags"] if a <= p <= b), default=0.0)
        i, j = bisect.bisect_left(at, a), bisect.bisect_right(at, b) - 1
        cpu = (waits[j][1] - waits[i][1]) / 1e6 if j > i else 0.0
        gc_ms = max(((e - s) * 1000 for s, e, _, _ in server["collections"] if s < b and e > a), default=0.0)
        steps = [d * 1000 for t, d in decided if a <= t <= b]
        print(f"  at {burst[0]['planned'] - t0:5.2f} s: {len(burst):3d} requests, up to "
              f"{max(r['total'] for r in burst) * 1000:6.1f} ms; longest COMMIT {commit:6.1f} ms, loop lag "
              f"{lag:5.1f} ms, loop thread waited for a CPU {cpu:5.1f} ms, GC {gc_ms:4.1f} ms, engine step "
              f"{statistics.mean(steps) if steps else 0:.2f} ms")


if __name__ == "__main__":
    main()
