"""Worker processes that decide turns beside the SQLite writer (``csbot serve --workers N``).

Understanding a message and composing the answer is pure CPU, and one Python process runs
it on one core. The workers spread it over the machine's cores: each reads the
conversation from the database file (WAL readers never wait for the writer), decides the
turn with ``turns.decide`` and sends back the rows to write. The serving process stays
the database's only writer: it commits each decided turn in its group commit, after
checking that the conversation has not moved on, so an answered turn is durable and turn
numbers stay contiguous. A worker that dies costs nothing acknowledged: its turns are
decided again in the serving process, and it is started again.

Frames on each worker's socket pair are a 4-byte length and a ``marshal`` tuple of plain
values (no pickle: nothing read from the socket can run code).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import gc
import logging
import marshal
import os
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.engine import ConversationClosed, Engine
from bot.store.turns import Duplicate, Forbidden, NeedsPerson, NotFound, Prepared, decide, load

log = logging.getLogger("csbot.workers")
_LEN = struct.Struct(">I")
_ERRORS: dict[str, type[Exception]] = {"not_found": NotFound, "forbidden": Forbidden,
                                       "closed": ConversationClosed, "needs_person": NeedsPerson}
_KINDS = {cls: kind for kind, cls in _ERRORS.items()}


class WorkerGone(RuntimeError):
    """No worker answered (it died, or failed unexpectedly): the caller decides the turn itself."""


class KeyedLock:
    """One asyncio lock per key, kept only while someone holds or waits for it (nothing
    per conversation stays in memory)."""

    def __init__(self) -> None:
        self._locks: dict[str, list[Any]] = {}  # key → [lock, holders and waiters]

    def __call__(self, key: str) -> _Held:
        entry = self._locks.get(key)
        if entry is None:
            entry = self._locks[key] = [asyncio.Lock(), 0]
        entry[1] += 1
        return _Held(self._locks, key, entry)

    def __len__(self) -> int:
        return len(self._locks)


class _Held:
    __slots__ = ("_entry", "_key", "_locks")

    def __init__(self, locks: dict[str, list[Any]], key: str, entry: list[Any]) -> None:
        self._locks, self._key, self._entry = locks, key, entry

    async def __aenter__(self) -> None:
        try:
            await self._entry[0].acquire()
        except BaseException:  # cancelled while waiting: no longer a user
            self._release_entry()
            raise

    async def __aexit__(self, *_: object) -> None:
        self._entry[0].release()
        self._release_entry()

    def _release_entry(self) -> None:
        self._entry[1] -= 1
        if self._entry[1] == 0:
            del self._locks[self._key]


class _Worker(asyncio.Protocol):
    """One worker process and the answers it owes, in the order they were asked.

    Frames are read as they arrive, straight from the socket's callback: a reader task
    awaiting each length and body cost the serving process more than the frames' decoding."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        loop = asyncio.get_running_loop()
        self.proc = proc
        self.pending: collections.deque[asyncio.Future[Any]] = collections.deque()
        self.alive = True
        self.hello: asyncio.Future[Any] = loop.create_future()
        self.gone: asyncio.Future[None] = loop.create_future()  # the socket closed
        self.transport: asyncio.Transport | None = None
        self._buffer = bytearray()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        buf = self._buffer
        buf += data
        pos, end = 0, len(buf)
        try:
            while end - pos >= _LEN.size:
                size = _LEN.unpack_from(buf, pos)[0]
                if end - pos - _LEN.size < size:
                    break
                pos += _LEN.size
                message = marshal.loads(buf[pos:pos + size])
                pos += size
                fut = self.hello if not self.hello.done() else self.pending.popleft()
                if not fut.done():
                    fut.set_result(message)
        except (ValueError, EOFError, TypeError, IndexError):  # garbled, or an answer nobody asked for
            log.error("a turn worker sent a frame that cannot be read")
            self.die()
        del buf[:pos]

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.gone.done():
            self.gone.set_result(None)

    def ask(self, message: tuple[Any, ...]) -> asyncio.Future[Any]:
        assert self.transport is not None
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        body = marshal.dumps(message)
        self.transport.write(_LEN.pack(len(body)) + body)
        self.pending.append(fut)
        return fut

    def die(self, kill: bool = True) -> None:
        self.alive = False
        while self.pending:
            fut = self.pending.popleft()
            if not fut.done():
                fut.set_exception(WorkerGone())
        if not self.hello.done():
            self.hello.set_exception(WorkerGone())
        if self.transport is not None:
            self.transport.close()
        if kill and self.proc.poll() is None:
            self.proc.kill()


class WorkerPool:
    """N worker processes over one SQLite file, each on the same dialogs and templates."""

    def __init__(self, count: int, database: str, engine: Engine) -> None:
        self.count, self.database, self.engine = count, database, engine
        self.workers: list[_Worker] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._closing = False
        self.restarts = 0

    @property
    def ready(self) -> bool:
        """Whether any worker is there to decide a turn."""
        return any(w.alive for w in self.workers)

    async def start(self) -> None:
        """Start the workers; a worker that cannot start is logged and left out."""
        started = await asyncio.gather(*(self._spawn() for _ in range(self.count)),
                                       return_exceptions=True)
        for w in started:
            if isinstance(w, BaseException):
                log.error("a turn worker did not start: %s", w)

    async def _spawn(self) -> _Worker:
        ours, theirs = socket.socketpair()
        cmd = [sys.executable, "-m", "bot.store.workers", "--fd", str(theirs.fileno()),
               "--db", self.database, "--dialogs", str(self.engine.dialogs),
               "--templates", str(self.engine.templates_root)]
        # The worker imports bot from where this process did, installed or not.
        root = str(Path(__file__).resolve().parents[2])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            p for p in (root, os.environ.get("PYTHONPATH")) if p)}
        proc = subprocess.Popen(cmd, pass_fds=(theirs.fileno(),), env=env)
        theirs.close()
        worker = _Worker(proc)
        await asyncio.get_running_loop().connect_accepted_socket(lambda: worker, ours)
        self._keep(self._watch(worker))
        try:
            hello = await asyncio.wait_for(asyncio.shield(worker.hello), timeout=120)
        except (TimeoutError, WorkerGone, OSError) as exc:
            worker.die()
            raise RuntimeError(f"worker exited with {proc.poll()}") from exc
        if hello != ("ready", self.engine.script.version):
            worker.die()  # the data folders changed between the two loads
            raise RuntimeError("the worker loaded a different script version")
        self.workers.append(worker)
        return worker

    def _keep(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _watch(self, worker: _Worker) -> None:
        """When the worker's socket closes: fail what it owes, reap it, start another."""
        await worker.gone
        started = worker in self.workers
        worker.die(kill=not self._closing)
        if started:
            self.workers.remove(worker)
        code = await asyncio.to_thread(worker.proc.wait)  # reaped, not left a zombie
        if started and not self._closing:
            log.error("a turn worker stopped (exit code %s); starting another", code)
            self._keep(self._respawn())

    async def _respawn(self) -> None:
        await asyncio.sleep(1.0)  # a worker that dies at once must not spin
        if not self._closing:
            self.restarts += 1
            try:
                await self._spawn()
            except Exception as exc:
                log.error("a turn worker did not start again: %s", exc)

    async def decide(
        self, conv_id: str, role: str, text: str, message_id: str | None, shop: str | None,
        at: datetime | None,
    ) -> Prepared | Duplicate:
        """Decide one turn in the least busy worker (raises what ``turns.decide`` raises,
        or WorkerGone)."""
        live = [w for w in self.workers if w.alive]
        if not live:
            raise WorkerGone()
        worker = min(live, key=lambda w: len(w.pending))
        reply = await worker.ask((conv_id, role, text, message_id, shop,
                                  at.isoformat() if at else None))
        kind = reply[0]
        if kind == "ok":
            return Prepared.from_wire(reply[1])
        if kind == "dup":
            return Duplicate(reply[1])
        if kind in _ERRORS:
            raise _ERRORS[kind](reply[1])
        raise WorkerGone(reply[1])  # a fault in the worker: the writer decides it (and logs why)

    async def close(self) -> None:
        """Stop the workers (each exits when its socket closes)."""
        self._closing = True
        workers = list(self.workers)
        for w in workers:
            w.alive = False
            if w.transport is not None:
                with contextlib.suppress(OSError):
                    w.transport.write_eof()  # the worker reads the end and exits by itself
        for w in workers:
            try:
                await asyncio.to_thread(w.proc.wait, 10)
            except subprocess.TimeoutExpired:
                w.proc.kill()
        for task in list(self._tasks):  # the readers have seen the sockets close by now
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self.workers.clear()


# -- the worker process -------------------------------------------------------------------


def _serve(sock: socket.socket, database: str, engine: Engine) -> None:
    db = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA query_only=ON")  # the serving process is the only writer
    db.execute("PRAGMA busy_timeout=30000")
    stream = sock.makefile("rb")

    def send(message: tuple[Any, ...]) -> None:
        body = marshal.dumps(message)
        sock.sendall(_LEN.pack(len(body)) + body)

    send(("ready", engine.script.version))
    while True:
        head = stream.read(_LEN.size)
        if len(head) < _LEN.size:
            return  # the serving process closed the socket or died
        conv_id, role, text, message_id, shop, at = marshal.loads(stream.read(_LEN.unpack(head)[0]))
        try:
            row, stored = load(db, conv_id, message_id)
            result = decide(engine, row, stored, conv_id, role, text, message_id, shop,
                            datetime.fromisoformat(at) if at else None)
            send(("dup", result.stored) if isinstance(result, Duplicate) else ("ok", result.wire()))
        except tuple(_KINDS) as exc:
            send((next(k for cls, k in _KINDS.items() if isinstance(exc, cls)), str(exc)))
        except Exception as exc:
            # the type only: an exception's message may quote the buyer's text
            log.error("deciding a turn failed: %s", type(exc).__name__)
            send(("error", type(exc).__name__))


def main(argv: list[str] | None = None) -> int:
    """Entry point of one worker process (started by WorkerPool, not by hand)."""
    ap = argparse.ArgumentParser(prog="python -m bot.store.workers")
    ap.add_argument("--fd", type=int, required=True)
    ap.add_argument("--db", required=True)
    ap.add_argument("--dialogs", required=True)
    ap.add_argument("--templates", required=True)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Ctrl-C and a service manager's SIGTERM reach the whole process group: the serving
    # process decides when we stop (it closes our socket; so does its death).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    sock = socket.socket(fileno=args.fd)
    engine = Engine(Path(args.dialogs), Path(args.templates))
    gc.collect()
    gc.freeze()  # see bot.cli.settle_heap
    with contextlib.suppress(KeyboardInterrupt, BrokenPipeError, ConnectionResetError):
        _serve(sock, args.db, engine)
    return 0


if __name__ == "__main__":
    sys.exit(main())
