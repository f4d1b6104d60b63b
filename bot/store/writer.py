"""One writer per SQLite database: jobs waiting at the same moment share one transaction.

The writer owns one blocking connection in one thread, so a job's statements cost no
thread hop each. Each job runs in its own savepoint, so a job that fails (a closed
conversation, a bad id) rolls back alone; the batch commits once and only then are the
callers answered, so an answered turn is durable (group commit).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import Connection, Engine

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
            while len(batch) < self.max_batch and not self.queue.empty():
                batch.append(self.queue.get_nowait())
            try:
                try:
                    results = await loop.run_in_executor(self.thread, self._commit,
                                                         [job for job, _ in batch])
                except Exception as exc:  # the commit itself failed: nobody's write is durable
                    log.exception("batch commit failed")
                    results = [(False, exc)] * len(batch)
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

    def _commit(self, jobs: list[Job]) -> list[tuple[bool, Any]]:
        results: list[tuple[bool, Any]] = []
        with self.engine.begin() as conn:
            for job in jobs:
                try:
                    with conn.begin_nested():
                        results.append((True, job(conn)))
                except Exception as exc:
                    results.append((False, exc))
        return results
