"""The database a store part works on: its one write path, and the turn's read.

SQLite is written by one group-commit writer (bot/store/writer.py): every write job of the
process goes through it, and jobs waiting at the same moment share one transaction and
one fsync. PostgreSQL runs each job in its own transaction. Either way a job is a plain
function over a SQLAlchemy ``Connection``, so each statement is written once, in
SQLAlchemy Core, for both databases; and ``write`` returns only once the job is committed.

``read`` runs a read by key the same way. On SQLite it runs on the event loop, on a blocking
connection of its own: through aiosqlite a turn's load was about ten hand-offs to a thread
and back, each of which waits for the GIL while the loop decides another turn (the tail of
the latency, docs/performance.md). Reads that may be long (lists, a conversation's turns)
stay on aiosqlite, off the loop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Connection
from sqlalchemy import Engine as SyncEngine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store.writer import GroupCommitWriter

T = TypeVar("T")


class Database:
    """An opened database: ``db`` for reads, ``write`` for every change."""

    def __init__(self, db: AsyncEngine, writer: GroupCommitWriter | None,
                 reader: SyncEngine | None = None) -> None:
        self.db = db
        self.writer = writer  # SQLite's; None on PostgreSQL
        self.reader = reader  # SQLite's blocking connection for reads by key
        self._read_conn: Connection | None = None
        self.sqlite = writer is not None

    def _reading(self, reader: SyncEngine) -> Connection:
        # Kept open: taking it from the pool and giving it back cost a third of a read.
        if self._read_conn is None or self._read_conn.closed or self._read_conn.invalidated:
            self._read_conn = reader.connect()
        return self._read_conn

    async def read(self, job: Callable[[Connection], T]) -> T:
        """``job(conn)`` on one snapshot: a read by key, short enough for the event loop."""
        if self.reader is not None:
            conn = self._reading(self.reader)
            try:
                return job(conn)
            except OperationalError as exc:
                if "locked" not in str(exc):
                    raise
                # Another process holds the file for a moment (a recovery, an exclusive
                # lock): wait for it off the loop.
            finally:
                conn.rollback()  # the snapshot ends: the next read sees the latest commit
        async with self.db.connect() as aconn:
            return await aconn.run_sync(job)

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
