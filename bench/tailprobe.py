"""Run `csbot serve` with a timestamp at every stage of a turn (used by bench/tail.py).

    python bench/tailprobe.py OUT.json serve --db … --port …

Wraps, in this process only, the handler, the turn service's decide step, the writer's
submit, batch and commit, and records each turn's stages on CLOCK_MONOTONIC (the clock the
load generator stamps with, so the two line up); besides, every garbage collection
(gc.callbacks), how late the event loop runs a callback posted to it every 2 ms from another
thread (on the load's core), and each thread's time waiting for a CPU (/proc schedstat). Written to
OUT.json when the server stops (SIGTERM). Diagnostic only: the wrappers cost a few µs a turn.
"""

from __future__ import annotations

import asyncio
import atexit
import contextvars
import gc
import json
import os
import signal
import sys
import threading
import time
from array import array
from pathlib import Path
from typing import Any

ROOT = Path(os.environ.get("CSBOT_PROBE_CODE") or Path(__file__).resolve().parent.parent)
sys.path.insert(0, str(ROOT))

now = time.perf_counter  # CLOCK_MONOTONIC on Linux, as in bench/openloop.py
STAMPS = ("enter", "decide", "decided", "submit", "applied", "committed", "exit")
# Each finished turn's stamps go into arrays of floats, which the garbage collector does not
# track: a dict or tuple kept per turn or commit made the young generation fill, and be
# collected, ten times as often as without the probe.
cids: list[str] = []
numbers = array("q")
stamps = {name: array("d") for name in STAMPS}
# What happens besides, as flat arrays too: (start, end, jobs) of each COMMIT in the writer's
# thread, of each batch's statements on the loop, (start, end, 0 or 1) of each checkpoint (by
# the checkpoint thread, or the rest by the writer), (start, end, generation, CPU) of each collection.
commits = array("d")
applies = array("d")
checkpoints = array("d")
collections = array("d")
lags = array("d")  # posted, ran, posted, ran… of the loop probe's callbacks
current: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("turn", default=None)
said: dict[str, int] = {}


waits = array("d")  # when, ns the loop's thread and the writer's waited for a CPU so far, when, …
writer_tid = [0]
names: dict[int, str] = {}  # native thread id → what the thread is


def _gc(phase: str, info: dict[str, Any], started: list[float] = [0.0, 0.0]) -> None:  # noqa: B006
    if phase == "start":
        started[:] = [now(), time.thread_time()]
    else:
        collections.extend((started[0], now(), info["generation"], time.thread_time() - started[1]))


def rows(flat: array[float], width: int) -> list[list[float]]:
    return [list(flat[i:i + width]) for i in range(0, len(flat), width)]


def waited(tid: int) -> int:
    try:
        return int(Path(f"/proc/self/task/{tid}/schedstat").read_text().split()[1])
    except (OSError, IndexError):
        return 0


def schedstat() -> dict[str, tuple[int, int]]:
    """Each thread's (run time, time runnable but waiting for a CPU), in ns."""
    out = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            name = Path(f"/proc/self/task/{tid}/comm").read_text().strip()
            run, wait, _ = map(int, Path(f"/proc/self/task/{tid}/schedstat").read_text().split())
        except OSError:
            continue
        out[f"{names.get(int(tid), name)}:{tid}"] = (run, wait)
    return out


def install(out: str) -> None:
    from bot.server import app as app_mod
    from bot.service.turns import TurnService
    from bot.store.writer import GroupCommitWriter

    handler = app_mod.post_message

    async def post_message(request: Any) -> Any:
        record = {"cid": request.match_info["id"], "enter": now()}
        current.set(record)
        response = await handler(request)
        record["exit"] = now()
        cid = record["cid"]
        cids.append(cid)
        numbers.append(said.get(cid, 0))
        said[cid] = numbers[-1] + 1
        for name in STAMPS:
            stamps[name].append(record.get(name, float("nan")))
        return response

    app_mod.post_message = post_message

    decide = TurnService._decide

    def _decide(self: Any, *args: Any) -> Any:
        record = current.get()
        if record is not None:
            record["decide"] = now()
        result = decide(self, *args)
        if record is not None:
            record["decided"] = now()
        return result

    TurnService._decide = _decide  # type: ignore[method-assign]

    submit = GroupCommitWriter.submit

    async def _submit(self: Any, job: Any) -> Any:
        record = current.get()
        if record is None:
            return await submit(self, job)
        record["submit"] = now()

        def timed(conn: Any) -> Any:
            record["applied"] = now()
            return job(conn)

        result = await submit(self, timed)
        record["committed"] = now()
        return result

    GroupCommitWriter.submit = _submit  # type: ignore[method-assign]

    apply = GroupCommitWriter._apply

    def _apply(self: Any, jobs: list[Any]) -> Any:
        t0 = now()
        result = apply(self, jobs)
        applies.extend((t0, now(), len(jobs)))
        return result

    GroupCommitWriter._apply = _apply  # type: ignore[method-assign]

    end = GroupCommitWriter._end

    def _end(self: Any) -> None:
        writer_tid[0] = threading.get_native_id()
        names[writer_tid[0]] = "writer"
        t0 = now()
        end(self)
        commits.extend((t0, now(), 0))

    GroupCommitWriter._end = _end  # type: ignore[method-assign]

    for name in ("_checkpoint", "_checkpoint_rest"):
        original = getattr(GroupCommitWriter, name)

        def timed_checkpoint(self: Any, _original: Any = original, _name: str = name) -> None:
            if _name == "_checkpoint":
                names[threading.get_native_id()] = "checkpoint"
            t0 = now()
            _original(self)
            checkpoints.extend((t0, now(), _name == "_checkpoint_rest"))

        setattr(GroupCommitWriter, name, timed_checkpoint)

    gc.callbacks.append(_gc)

    start = GroupCommitWriter.start
    stop_probe = threading.Event()

    def _start(self: Any) -> None:
        start(self)
        loop = asyncio.get_running_loop()

        main_tid = threading.get_native_id()
        names[main_tid] = "loop"

        def ran(posted: float) -> None:
            lags.extend((posted, now()))

        def post() -> None:  # from a thread: how long the loop takes to run a posted callback
            names[threading.get_native_id()] = "probe"
            # Off the server's core (bench/tail.py pins every thread of the server there): its
            # reads of /proc took a tenth of that core.
            away = {(os.cpu_count() or 1) - 1}
            while not stop_probe.wait(0.002):
                if os.sched_getaffinity(0) != away:
                    os.sched_setaffinity(0, away)
                posted = now()
                waits.extend((posted, waited(main_tid), waited(writer_tid[0]) if writer_tid[0] else 0))
                try:
                    loop.call_soon_threadsafe(ran, posted)
                except RuntimeError:
                    return

        threading.Thread(target=post, daemon=True, name="probe").start()

    GroupCommitWriter.start = _start  # type: ignore[method-assign]
    sched0 = {"at": now(), "threads": schedstat()}

    def mark(*_: Any) -> None:  # SIGUSR1: the measured window starts now
        cids.clear()
        for kept_array in (numbers, lags, waits, commits, applies, checkpoints, collections, *stamps.values()):
            del kept_array[:]
        said.clear()
        sched0.update({"at": now(), "threads": schedstat()})

    signal.signal(signal.SIGUSR1, mark)
    sched1: dict[str, Any] = {}

    def window_end(*_: Any) -> None:  # SIGUSR2: the measured window ends now
        sched1.update({"at": now(), "threads": schedstat()})

    signal.signal(signal.SIGUSR2, window_end)

    def dump() -> None:
        stop_probe.set()
        turns = [{"cid": cid, "n": n, **{name: stamps[name][i] for name in STAMPS
                                         if stamps[name][i] == stamps[name][i]}}  # NaN: not reached
                 for i, (cid, n) in enumerate(zip(cids, numbers, strict=True))]
        Path(out).write_text(json.dumps({
            "turns": turns, "commits": rows(commits, 3), "applies": rows(applies, 3),
            "checkpoints": rows(checkpoints, 3), "collections": rows(collections, 4),
            "lags": rows(lags, 2),
            "waits": rows(waits, 3),
            "sched": [sched0, sched1 or {"at": now(), "threads": schedstat()}]}))

    atexit.register(dump)


if __name__ == "__main__":
    install(sys.argv[1])
    from bot.cli import main

    main(sys.argv[2:], prog_name="csbot")
