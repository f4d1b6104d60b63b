"""One writer per SQLite database: jobs waiting at the same moment share one transaction.

The writer owns one blocking connection. A batch's BEGIN IMMEDIATE and COMMIT run in the
writer's own thread (they may wait for another process or for the disk); its jobs run on
the event loop between them, each in its own savepoint, so a job that fails (a closed
conversation, a bad id) rolls back alone. The batch commits once and only then are the
callers answered, so an answered turn is durable (group commit).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import Connection, Engine, RootTransaction

log = logging.getLogger("csbot.store")
Job = Callable[[Connection], Any]


class GroupCommitWriter:
    """Serialises every write through one task, one thread and one connection."""

    def __init__(self, engine: Engine, max_batch: int = 512) -> None:
        self.engine = engine
        self.max_batch = max_batch
        self.queue: asyncio.Queue[tuple[Job, asyncio.Future[Any]]] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None
        self.thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="csbot-writer")
        self.batches = 0
        self.window = 0.0  # seconds to wait for more jobs when more_coming() says so
        self.more_coming: Callable[[], bool] = lambda: False
        self._conn: Connection | None = None  # opened in the writer's thread, kept open
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
            self.thread.submit(self._conn.close).result()
            self._conn = None
        self.thread.shutdown(wait=True)
        self.engine.dispose()

    async def submit(self, job: Job) -> Any:
        """Run ``job(conn)`` in the next batch; returns its result once the batch is committed."""
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        await self.queue.put((job, fut))
        return await fut

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = [await self.queue.get()]
            if self.window and self.more_coming():
                # Turns decided beside the writer arrive one by one and cost little to
                # write: without a moment's wait each batch held one or two of them, and
                # a batch's own cost (the thread hops, BEGIN, COMMIT) was most of a turn's.
                await asyncio.sleep(self.window)
            while len(batch) < self.max_batch and not self.queue.empty():
                batch.append(self.queue.get_nowait())
            try:
                try:
                    # Taking the write lock may wait for another process (a `csbot token`
                    # command) and the commit waits for the disk: both in the writer's
                    # thread. The statements between run here, on the event loop: a
                    # thread running them competed with the loop for the GIL at every
                    # statement, and the switching cost more than the statements.
                    await loop.run_in_executor(self.thread, self._begin)
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

    def _begin(self) -> None:
        # One connection for the writer's life: checking one out of the pool and resetting
        # it for every batch cost more than the batch's own statements.
        if self._conn is None or self._conn.closed or self._conn.invalidated:
            self._conn = self.engine.connect()
        self._trans = self._conn.begin()

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
