"""A turn's three statements (its load, its INSERT, its UPDATE), written once in SQLAlchemy
Core and run on either database.

On SQLite's blocking connections (the writer's and the turn reader's) a statement is
compiled once and handed to the driver with its parameters in order, each converted by
its column type's own bind processor: SQLAlchemy's execution layer cost more per turn
than deciding the turn did (docs/performance.md). Anywhere else (PostgreSQL, aiosqlite)
it runs through ``Connection.execute``. Only statements whose result columns need no
conversion (text and integers) are run this way.

A turn's JSON (the conversation's state, the Suggestion) goes from pydantic to SQLite as the
UTF-8 bytes pydantic writes (``json_bytes``), bound as ``CAST(? AS TEXT)`` (``JsonText``): the
column holds the same text as before, without decoding the bytes into a str that the driver
encodes again (and the HTTP reply a third time). PostgreSQL's driver takes only str: there the
bytes are decoded as they are bound.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Connection, DateTime, Dialect, Text, cast
from sqlalchemy.sql import ColumnElement, Executable
from sqlalchemy.types import TypeDecorator


def json_bytes(model: BaseModel) -> bytes:
    """``model.model_dump_json()`` as the UTF-8 bytes pydantic writes, not decoded into a str."""
    return model.__pydantic_serializer__.to_json(model)


class JsonText(TypeDecorator[bytes]):
    """A JSON text bound from UTF-8 bytes: as they are on SQLite, cast to TEXT in the statement
    (a BLOB is never equal to the TEXT a column holds, and would be stored as a BLOB);
    decoded on any other database."""

    impl = Text
    cache_ok = True

    def bind_expression(self, bindvalue: Any) -> ColumnElement[Any]:
        return cast(bindvalue, Text)

    def process_bind_param(self, value: bytes | str | None, dialect: Dialect) -> Any:
        if isinstance(value, bytes) and dialect.name != "sqlite":
            return value.decode()
        return value


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
            order = [(name, _processor(compiled.binds[name].type, conn.dialect)) for name in compiled.positiontup]
            self._sqlite = (str(compiled), order)
        return self._sqlite


def _processor(kind: Any, dialect: Dialect) -> Callable[[Any], Any] | None:
    process: Callable[[Any], Any] | None = kind.dialect_impl(dialect).bind_processor(dialect)
    if process is None or not isinstance(kind, DateTime):
        return process
    # A turn stamps its UPDATE and its INSERT with one datetime: formatted once (about 1.3 µs).
    return _DATES.setdefault((repr(kind), dialect.name), _Once(process))


class _Once:
    """A bind processor that remembers the value it formatted last."""

    __slots__ = ("last", "process")

    def __init__(self, process: Callable[[Any], Any]) -> None:
        self.process = process
        self.last: tuple[Any, Any] = (None, None)  # (value, formatted): replaced in one step

    def __call__(self, value: Any) -> Any:
        last = self.last
        if value is last[0]:  # held here, so never another object at the same address
            return last[1]
        text = self.process(value)
        self.last = (value, text)
        return text


_DATES: dict[tuple[str, str], _Once] = {}


__all__ = ["JsonText", "Statement", "json_bytes"]
