"""One writer per SQLite database: jobs waiting at the same moment share one transaction.

Each job runs in its own savepoint, so a job that fails (a closed conversation, a bad id)
rolls back alone; the batch commits once and only then are the callers answered, so an
answered turn is durable (group commit).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger("csbot.store")
Job = Callable[[AsyncConnection], Awaitable[Any]]


class GroupCommitWriter:
    """Serialises every write through one task and one connection at a time."""

    def __init__(self, engine: AsyncEngine, max_batch: int = 256) -> None:
        self.engine = engine
        self.max_batch = max_batch
        self.queue: asyncio.Queue[tuple[Job, asyncio.Future[Any]]] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None
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

    async def submit(self, job: Job) -> Any:
        """Run ``job`` in the next batch; returns its result once the batch is committed."""
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        await self.queue.put((job, fut))
        return await fut

    async def _run(self) -> None:
        while True:
            batch = [await self.queue.get()]
            while len(batch) < self.max_batch and not self.queue.empty():
                batch.append(self.queue.get_nowait())
            try:
                await self._commit(batch)
            finally:
                for _ in batch:
                    self.queue.task_done()

    async def _commit(self, batch: list[tuple[Job, asyncio.Future[Any]]]) -> None:
        results: list[tuple[bool, Any]] = []
        try:
            async with self.engine.begin() as conn:
                for job, _ in batch:
                    try:
                        async with conn.begin_nested():
                            results.append((True, await job(conn)))
                    except Exception as exc:  # noqa: BLE001 - the job's own error, for its caller
                        results.append((False, exc))
        except Exception as exc:  # the commit itself failed: nobody's write is durable
            log.exception("batch commit failed")
            for _, fut in batch:
                if not fut.done():
                    fut.set_exception(exc)
            return
        self.batches += 1
        for (ok, value), (_, fut) in zip(results, batch, strict=True):
            if fut.done():
                continue
            if ok:
                fut.set_result(value)
            else:
                fut.set_exception(value)
