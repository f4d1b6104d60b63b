"""One writer per SQLite database: jobs waiting at the same moment share one transaction.

The writer owns one blocking connection. A batch's statements run on the event loop:
BEGIN IMMEDIATE, then the jobs in one savepoint (a job that fails, such as a stale save or
a bad id, rolls back alone: the batch is then run again with a savepoint per job). Its
COMMIT, which waits for the disk (fsync, synchronous=FULL), runs in the writer's own
thread: the loop decides other turns meanwhile, and the jobs that arrive during the commit
make the next batch. Only after the commit are the callers answered, so an answered turn
is durable (group commit). The batch never waits for company: an idle writer commits a
lone job at once.

Statements stay on the loop because a thread running them handed the GIL back and forth
with the loop at every statement; a commit gives it up once, for the fsync (measured in
docs/performance.md). Taking the write lock while another process (a `csbot token`
command) holds it also waits in the thread.

The WAL is checkpointed (copied into the database file) by a third thread on a connection of
its own, not by the commit that happens to fill it: that commit used to wait 10-25 ms for
the copy and the database file's fsync, and every turn queued behind it (most of the p99 at
half load). It begins when no turn waits for the writer, so that its copy and the database
file's fsync overlap as few commits as possible. A PASSIVE checkpoint takes no lock a commit
needs, so commits go on meanwhile; a commit's durability is its own fsync of the WAL,
unchanged. What was committed during that copy is copied by the writer itself between two
batches when no job waits (a few pages), so that the next commit starts the WAL from its
beginning: under steady load a WAL that is never copied to its end grows without bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import Connection, Engine, RootTransaction
from sqlalchemy.exc import OperationalError

log = logging.getLogger("csbot.store")
Job = Callable[[Connection], Any]
WAIT_FOR_LOCK_MS = 30_000  # how long a batch waits for another process's write lock
# Jobs committed before a checkpoint is due; it begins when no job waits for the writer, or
# at twice as many under a load that never empties the queue (a WAL of about 10-20 MB). Each
# checkpoint copies the pages changed since the last once (turns of the same conversations
# change the same pages) and fsyncs the database file, which slows the commits beside it:
# every 256 jobs wrote a fifth more bytes per turn and ran four times as many.
CHECKPOINT_JOBS = 1024


class GroupCommitWriter:
    """Serialises every write through one task, one thread and one connection."""

    def __init__(self, engine: Engine, max_batch: int = 512) -> None:
        self.engine = engine
        self.max_batch = max_batch
        # Jobs waiting for the next batch. A deque and one future the idle writer waits on,
        # not an asyncio.Queue: its put, get and task_done were about 1 % of a turn.
        self.jobs: deque[tuple[Job, asyncio.Future[Any]]] = deque()
        self._arrival: asyncio.Future[None] | None = None  # set while the writer waits for a job
        self._drained: asyncio.Future[None] | None = None  # stop() waits for the queue to empty
        self.task: asyncio.Task[None] | None = None
        self.thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="csbot-writer")
        self.batches = 0
        self._conn: Connection | None = None  # kept open for the writer's life
        self._trans: RootTransaction | None = None
        self.checkpoints = 0
        self._checkpointer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="csbot-checkpoint")
        self._checkpoint_conn: sqlite3.Connection | None = None
        self._checkpointing: asyncio.Future[None] | None = None
        self._since_checkpoint = 0  # jobs committed since the last checkpoint began
        self._catch_up = False  # the checkpoint thread is done: the writer copies the rest

    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self._run(), name="csbot-writer")

    async def stop(self) -> None:
        """Finish the queued jobs, then stop."""
        if self.task is None:
            return
        if self.jobs or self._arrival is None:  # jobs queued or a batch in hand: let it finish
            self._drained = asyncio.get_running_loop().create_future()
            await self._drained
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        self.task = None
        if self._checkpointing is not None:
            with contextlib.suppress(Exception):
                await self._checkpointing
        self._checkpointer.shutdown(wait=True)
        if self._checkpoint_conn is not None:
            self._checkpoint_conn.close()
            self._checkpoint_conn = None
        if self._conn is not None:
            self._conn.close()  # the last connection to close checkpoints the WAL
            self._conn = None
        self.thread.shutdown(wait=True)
        self.engine.dispose()

    async def submit(self, job: Job) -> Any:
        """Run ``job(conn)`` in the next batch; returns its result once the batch is committed."""
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.jobs.append((job, fut))  # unbounded: never waits
        if self._arrival is not None and not self._arrival.done():
            self._arrival.set_result(None)
        return await fut

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        jobs = self.jobs
        while True:
            if not jobs:
                if self._drained is not None and not self._drained.done():
                    self._drained.set_result(None)
                self._arrival = loop.create_future()
                try:
                    await self._arrival
                finally:
                    self._arrival = None
            batch = [jobs.popleft() for _ in range(min(len(jobs), self.max_batch))]
            try:
                # The statements run here, on the event loop: a thread running them
                # competed with the loop for the GIL at every statement.
                if not self._begin():
                    await loop.run_in_executor(self.thread, self._begin_waiting)
                results = self._apply([job for job, _ in batch])
                await loop.run_in_executor(self.thread, self._end)
            except Exception as exc:  # the commit itself failed: nobody's write is durable
                log.exception("batch commit failed")
                results = [(False, exc)] * len(batch)
                await loop.run_in_executor(self.thread, self._abandon)
            else:
                self.batches += 1
                self._since_checkpoint += len(batch)
                if self._checkpoint_due(idle=not jobs):
                    self._since_checkpoint = 0
                    self._checkpointing = loop.run_in_executor(self._checkpointer, self._checkpoint)
                    self._checkpointing.add_done_callback(self._checkpointed)
            for (ok, value), (_, fut) in zip(results, batch, strict=True):
                if fut.done():
                    continue
                if ok:
                    fut.set_result(value)
                else:
                    fut.set_exception(value)
            # After the callers are answered, before the next batch; while turns wait, later.
            if self._catch_up and (not jobs or self._since_checkpoint >= CHECKPOINT_JOBS):
                self._catch_up = False
                try:
                    await loop.run_in_executor(self.thread, self._checkpoint_rest)
                except Exception as exc:
                    log.warning("WAL checkpoint failed: %s", exc)

    def _checkpoint_due(self, *, idle: bool) -> bool:
        """A checkpoint starts once enough jobs are committed and no job waits; under a load
        that never leaves the queue empty, at twice as many anyway."""
        if self._checkpointing is not None or self._catch_up:
            return False
        return self._since_checkpoint >= (CHECKPOINT_JOBS if idle else 2 * CHECKPOINT_JOBS)

    def _connection(self) -> Connection:
        # One connection for the writer's life: checking one out of the pool and resetting
        # it for every batch cost more than the batch's own statements.
        if self._conn is None or self._conn.closed or self._conn.invalidated:
            self._conn = self.engine.connect()
            raw: Any = self._conn.connection.driver_connection
            raw.execute("PRAGMA busy_timeout=0")  # BEGIN on the loop must not wait
            raw.execute("PRAGMA wal_autocheckpoint=0")  # the checkpoint thread does it
            # A batch's savepoint journal (the pages its jobs change) stays in memory: past
            # 64 KiB SQLite spills it to a temporary file, a write() for every page.
            raw.execute("PRAGMA temp_store=MEMORY")
        return self._conn

    def _begin(self) -> bool:
        """BEGIN IMMEDIATE at once; False when another process holds the write lock."""
        conn = self._connection()
        try:
            self._trans = conn.begin()
        except (OperationalError, sqlite3.OperationalError) as exc:
            # Raised by the driver inside SQLAlchemy's begin event, so not always wrapped.
            if "locked" not in str(exc):
                raise
            if conn.in_transaction():
                conn.rollback()
            return False
        return True

    def _begin_waiting(self) -> None:
        """BEGIN IMMEDIATE, waiting for the write lock (in the writer's thread)."""
        conn = self._connection()
        raw: Any = conn.connection.driver_connection
        raw.execute(f"PRAGMA busy_timeout={WAIT_FOR_LOCK_MS}")
        try:
            self._trans = conn.begin()
        finally:
            raw.execute("PRAGMA busy_timeout=0")

    def _apply(self, jobs: list[Job]) -> list[tuple[bool, Any]]:
        """The batch's jobs in one savepoint; only when one fails (rare: a stale save, a
        duplicate) is the batch undone and run again with a savepoint per job, so that the
        failure rolls back alone. The jobs are functions of the database (no other effect),
        so running one twice is the same as once. A savepoint per job made SQLite copy each
        page a job changes into its statement journal: about 1 % of a turn (callgrind)."""
        assert self._conn is not None
        conn = self._conn
        raw: Any = conn.connection.driver_connection
        raw.execute("SAVEPOINT batch")
        try:
            results: list[tuple[bool, Any]] = [(True, job(conn)) for job in jobs]
        except Exception:
            raw.execute("ROLLBACK TO batch")
            results = self._apply_each(jobs)
        raw.execute("RELEASE batch")
        return results

    def _apply_each(self, jobs: list[Job]) -> list[tuple[bool, Any]]:
        assert self._conn is not None
        conn = self._conn
        raw: Any = conn.connection.driver_connection
        results: list[tuple[bool, Any]] = []
        for job in jobs:
            raw.execute("SAVEPOINT job")
            try:
                results.append((True, job(conn)))
            except Exception as exc:
                raw.execute("ROLLBACK TO job")
                results.append((False, exc))
            raw.execute("RELEASE job")
        return results

    def _end(self) -> None:
        assert self._trans is not None
        trans, self._trans = self._trans, None
        trans.commit()

    def _checkpoint(self) -> None:
        """Copy the WAL into the database file (in the checkpoint thread)."""
        if self._checkpoint_conn is None:
            path = self.engine.url.database
            if not path or path == ":memory:":
                return
            self._checkpoint_conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self._checkpoint_conn.execute("PRAGMA synchronous=FULL")  # the database file is synced too
        self._checkpoint_conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        self.checkpoints += 1

    def _checkpointed(self, done: asyncio.Future[None]) -> None:
        self._checkpointing = None
        if done.cancelled():
            return
        if done.exception() is not None:
            # The next one copies what this one left: nothing is lost, the WAL only grows meanwhile.
            log.warning("WAL checkpoint failed: %s", done.exception())
        else:
            self._catch_up = True

    def _checkpoint_rest(self) -> None:
        """Copy the pages committed during the last checkpoint (in the writer's thread,
        between batches: nothing else commits, so the copy reaches the WAL's end)."""
        assert self._conn is not None
        raw: Any = self._conn.connection.driver_connection
        raw.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    def _abandon(self) -> None:
        trans, self._trans = self._trans, None
        if trans is not None and trans.is_active:
            with contextlib.suppress(Exception):
                trans.rollback()
