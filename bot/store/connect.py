"""Opening the database: the async engine, SQLite's pragmas, and the schema upgrade."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Engine as SyncEngine
from sqlalchemy import create_engine, event, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

from bot.store.migrations import current_version, upgrade


def async_url(url: str) -> str:
    """The SQLAlchemy async URL for a plain ``sqlite:///…`` or ``postgresql://…`` one."""
    for plain, driver in (("sqlite://", "sqlite+aiosqlite://"),
                          ("postgresql://", "postgresql+asyncpg://"),
                          ("postgres://", "postgresql+asyncpg://")):
        if url.startswith(plain):
            return driver + url[len(plain):]
    return url


def check_sqlite_file(url: str, *, read_only: bool = False) -> None:
    """Open and close a SQLite file with the standard library; raises OperationalError (as
    SQLAlchemy would) when it cannot be opened.

    Why first: when aiosqlite cannot open the file, its worker thread is left to post the
    end of its own stop to the event loop, which nobody awaits; a command that then tells
    the error and leaves closes the loop first, and the thread prints "Event loop is closed"
    after our message. A file that fails here never starts that thread."""
    path = make_url(url).database
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    target, uri = (Path(path).absolute().as_uri() + "?mode=ro", True) if read_only else (path, False)
    try:
        sqlite3.connect(target, uri=uri).close()
    except sqlite3.Error as exc:
        raise OperationalError("connect", None, exc) from exc


def open_engine(url: str, synchronous: str = "FULL") -> AsyncEngine:
    """The async engine of a csbot database; SQLite's with its pragmas and real transactions."""
    full = async_url(url)
    # hide_parameters: an error's message never carries a buyer's name or text to the log
    if full.startswith("sqlite"):
        check_sqlite_file(full)
        db = create_async_engine(full, connect_args={"timeout": 30}, hide_parameters=True)
        sqlite_pragmas(db.sync_engine, synchronous)
        return db
    return create_async_engine(full, pool_size=10, max_overflow=10, hide_parameters=True)


async def upgrade_schema(db: AsyncEngine, target: str = "head") -> tuple[str | None, str | None]:
    """Migrate the database in one transaction; returns its revision before and after."""
    async with db.begin() as conn:
        if db.dialect.name == "postgresql":  # several instances may start at once: one migrates at a time
            await conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7723001)")
        before = await conn.run_sync(current_version)
        after = await conn.run_sync(lambda c: upgrade(c, target))
    return before, after


async def open_database(url: str, synchronous: str = "FULL") -> AsyncEngine:
    """Connect and upgrade the schema to the latest revision (what `csbot serve` does on start)."""
    db = open_engine(url, synchronous)
    try:
        await upgrade_schema(db)
    except BaseException:
        await db.dispose()  # its connections and their threads end before the caller reports
        raise
    return db


def sqlite_blocking_engine(db: AsyncEngine, synchronous: str, *, writer: bool) -> SyncEngine:
    """One blocking connection on the same file: the writer's (its transactions take the
    write lock when they begin), or the turn's reader (never waits for a lock: it runs on
    the event loop). Lists and details keep using aiosqlite."""
    sync = create_engine(db.url.set(drivername="sqlite"), poolclass=StaticPool, hide_parameters=True,
                         connect_args={"check_same_thread": False, "timeout": 30 if writer else 0})
    sqlite_pragmas(sync, synchronous, begin="BEGIN IMMEDIATE" if writer else "BEGIN",
                   busy_ms=30000 if writer else 0, blocking=True)
    return sync


def sqlite_pragmas(engine: SyncEngine, synchronous: str, *, begin: str = "BEGIN",
                   busy_ms: int = 30000, blocking: bool = False) -> None:
    """WAL, the durability asked for, foreign keys; transactions begun by SQLAlchemy."""

    # pysqlite's own transaction handling breaks savepoints: take it over (SQLAlchemy recipe).
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={busy_ms}")
        cur.close()

    # The writer's BEGIN IMMEDIATE takes the write lock when it begins, not at its first write.
    # A blocking connection is sent it directly (through SQLAlchemy it cost a third of a load).
    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        if blocking:
            conn.connection.driver_connection.execute(begin)
        else:
            conn.exec_driver_sql(begin)


__all__ = ["async_url", "check_sqlite_file", "open_database", "open_engine", "sqlite_blocking_engine", "sqlite_pragmas",
           "upgrade_schema"]
