"""One writer per SQLite database: jobs waiting at the same moment share one transaction.

The writer owns one blocking connection. A batch's statements run on the event loop:
BEGIN IMMEDIATE, each job in its own savepoint (a job that fails, such as a closed
conversation or a bad id, rolls back alone). Its COMMIT, which waits for the disk (fsync,
synchronous=FULL), runs in the writer's own thread: the loop decides other turns
meanwhile, and the jobs that arrive during the commit make the next batch. Only after the
commit are the callers answered, so an answered turn is durable (group commit). The
batch never waits for company: an idle writer commits a lone job at once.

Statements stay on the loop because a thread running them handed the GIL back and forth
with the loop at every statement; a commit gives it up once, for the fsync (measured in
docs/performance.md). Taking the write lock while another process (a `csbot token`
command) holds it also waits in the thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import Connection, Engine, RootTransaction
from sqlalchemy.exc import OperationalError

log = logging.getLogger("csbot.store")
Job = Callable[[Connection], Any]
WAIT_FOR_LOCK_MS = 30_000  # how long a batch waits for another process's write lock


class GroupCommitWriter:
    """Serialises every write through one task, one thread and one connection."""

    def __init__(self, engine: Engine, max_batch: int = 512) -> None:
        self.engine = engine
        self.max_batch = max_batch
        self.queue: asyncio.Queue[tuple[Job, asyncio.Future[Any]]] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None
        self.thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="csbot-writer")
        self.batches = 0
        self._conn: Connection | None = None  # kept open for the writer's life
        self._trans: RootTransaction | None = None

    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self._run(), name="csbot-writer")

    async def stop(self) -> None:
        """Finish the queued jobs, then stop."""
        if self.task is None:
            return
        await self.queue.join()
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        self.task = None
        if self._conn is not None:
            self._conn.close()  # the last connection to close checkpoints the WAL
            self._conn = None
        self.thread.shutdown(wait=True)
        self.engine.dispose()

    async def submit(self, job: Job) -> Any:
        """Run ``job(conn)`` in the next batch; returns its result once the batch is committed."""
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.queue.put_nowait((job, fut))  # unbounded: never waits
        return await fut

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = [await self.queue.get()]
            while len(batch) < self.max_batch and not self.queue.empty():
                batch.append(self.queue.get_nowait())
            try:
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
                for (ok, value), (_, fut) in zip(results, batch, strict=True):
                    if fut.done():
                        continue
                    if ok:
                        fut.set_result(value)
                    else:
                        fut.set_exception(value)
            finally:
                for _ in batch:
                    self.queue.task_done()

    def _connection(self) -> Connection:
        # One connection for the writer's life: checking one out of the pool and resetting
        # it for every batch cost more than the batch's own statements.
        if self._conn is None or self._conn.closed or self._conn.invalidated:
            self._conn = self.engine.connect()
            raw: Any = self._conn.connection.driver_connection
            raw.execute("PRAGMA busy_timeout=0")  # BEGIN on the loop must not wait
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

    def _abandon(self) -> None:
        trans, self._trans = self._trans, None
        if trans is not None and trans.is_active:
            with contextlib.suppress(Exception):
                trans.rollback()
