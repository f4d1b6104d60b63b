"""A turn's three statements (its load, its INSERT, its UPDATE), written once in SQLAlchemy
Core and run on either database.

On SQLite's blocking connections (the writer's and the turn reader's) a statement is
compiled once and handed to the driver with its parameters in order, each converted by
its column type's own bind processor: SQLAlchemy's execution layer cost more per turn
than deciding the turn did (docs/performance.md). Anywhere else (PostgreSQL, aiosqlite)
it runs through ``Connection.execute``. Only statements whose result columns need no
conversion (text and integers) are run this way.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.sql import Executable


class Statement:
    def __init__(self, stmt: Executable, keys: Sequence[str] = ()) -> None:
        self.stmt = stmt
        self.keys = list(keys)  # the columns an INSERT or UPDATE sets, by name
        self._sqlite: tuple[str, list[tuple[str, Callable[[Any], Any] | None]]] | None = None

    def run(self, conn: Connection, params: Mapping[str, Any]) -> Sequence[Any] | None:
        """Execute; the first row (a tuple-like), or None."""
        raw = conn.connection.driver_connection
        if not isinstance(raw, sqlite3.Connection):
            result = conn.execute(self.stmt, dict(params))
            return result.first() if result.returns_rows else None
        sql, order = self._compiled(conn)
        return raw.execute(sql, [p(params[n]) if p else params[n] for n, p in order]).fetchone()  # type: ignore[no-any-return]

    def count(self, conn: Connection, params: Mapping[str, Any]) -> int:
        """Execute an INSERT, UPDATE or DELETE; how many rows it changed."""
        raw = conn.connection.driver_connection
        if not isinstance(raw, sqlite3.Connection):
            return int(conn.execute(self.stmt, dict(params)).rowcount)
        sql, order = self._compiled(conn)
        return int(raw.execute(sql, [p(params[n]) if p else params[n] for n, p in order]).rowcount)

    def _compiled(self, conn: Connection) -> tuple[str, list[tuple[str, Callable[[Any], Any] | None]]]:
        if self._sqlite is None:
            compiled: Any = self.stmt.compile(dialect=conn.dialect, column_keys=self.keys)  # type: ignore[attr-defined]
            order = [(name, compiled.binds[name].type.dialect_impl(conn.dialect).bind_processor(conn.dialect))
                     for name in compiled.positiontup]
            self._sqlite = (str(compiled), order)
        return self._sqlite


__all__ = ["Statement"]
