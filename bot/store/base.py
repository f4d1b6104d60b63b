"""The database a store part works on, and its one write path.

SQLite is written by one group-commit writer (bot/store/writer.py): every write job of the
process goes through it, and jobs waiting at the same moment share one transaction and
one fsync. PostgreSQL runs each job in its own transaction. Either way a job is a plain
function over a SQLAlchemy ``Connection``, so each statement is written once, in
SQLAlchemy Core, for both databases; and ``write`` returns only once the job is committed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store.writer import GroupCommitWriter

T = TypeVar("T")


class Database:
    """An opened database: ``db`` for reads, ``write`` for every change."""

    def __init__(self, db: AsyncEngine, writer: GroupCommitWriter | None) -> None:
        self.db = db
        self.writer = writer  # SQLite's; None on PostgreSQL
        self.sqlite = writer is not None

    async def write(self, job: Callable[[Connection], T]) -> T:
        """Run ``job(conn)`` in a transaction; its result once it is committed."""
        if self.writer is not None:
            return await self.writer.submit(job)  # type: ignore[no-any-return]
        for attempt in range(3):
            try:
                async with self.db.begin() as conn:
                    return await conn.run_sync(job)
            except IntegrityError:  # another instance inserted the same key at the same moment
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def ping(self) -> None:
        async with self.db.connect() as conn:
            await conn.exec_driver_sql("SELECT 1")


__all__ = ["Database"]
