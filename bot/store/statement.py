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


def _as_is(value: bytes | None) -> bytes | None:
    return value


# sqlite3 looks up an adapter for every parameter that is not an int, float, str or bytearray
# before binding it. With none registered for bytes (a turn's JSON) and None (no message id, no
# outcome) it then asks the type for ``__adapt__`` and ``__conform__``, failed attribute
# lookups that format an AttributeError each: about 3,300 instructions a parameter, five a turn
# (callgrind). With these the first lookup finds an adapter (about 1,400); what is bound is the
# same object.
sqlite3.register_adapter(bytes, _as_is)
sqlite3.register_adapter(type(None), _as_is)


def json_bytes(model: BaseModel) -> bytes:
    """``model.model_dump_json()`` as the UTF-8 bytes pydantic writes, not decoded into a str."""
    return model.__pydantic_serializer__.to_json(model)


class _DecodedText(TypeDecorator[bytes]):
    """Text bound from UTF-8 bytes, decoded (PostgreSQL's driver takes only str)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: bytes | str | None, dialect: Dialect) -> Any:
        return value.decode() if isinstance(value, bytes) else value


class JsonText(TypeDecorator[bytes]):
    """A JSON text bound from UTF-8 bytes: as they are on SQLite, cast to TEXT in the statement
    (a BLOB is never equal to the TEXT a column holds, and would be stored as a BLOB);
    decoded on any other database. On SQLite it is plain Text, with no bind processor: three
    Python calls a turn fewer."""

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        return dialect.type_descriptor(Text() if dialect.name == "sqlite" else _DecodedText())

    def bind_expression(self, bindvalue: Any) -> ColumnElement[Any]:
        return cast(bindvalue, Text)


class Statement:
    def __init__(self, stmt: Executable, keys: Sequence[str] = ()) -> None:
        self.stmt = stmt
        self.keys = list(keys)  # the columns an INSERT or UPDATE sets, by name
        self._sqlite: tuple[str, list[tuple[str, Callable[[Any], Any] | None]]] | None = None

    def run(self, conn: Connection, params: Mapping[str, Any]) -> Sequence[Any] | None:
        """Execute; the first row (a tuple-like), or None."""
        raw = conn.connection.dbapi_connection  # an attribute; the driver's own connection on SQLite
        if not isinstance(raw, sqlite3.Connection):
            result = conn.execute(self.stmt, dict(params))
            return result.first() if result.returns_rows else None
        sql, order = self._compiled(conn)
        return raw.execute(sql, [p(params[n]) if p else params[n] for n, p in order]).fetchone()

    def count(self, conn: Connection, params: Mapping[str, Any]) -> int:
        """Execute an INSERT, UPDATE or DELETE; how many rows it changed."""
        raw = conn.connection.dbapi_connection
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


class _LastTime:
    """A date-time bind processor that remembers its last value. A turn binds one time twice
    (the UPDATE's updated_at, the INSERT's created_at), and SQLite's processor formats its
    seven fields printf-style: about 18k instructions each time (callgrind), 0.8 % of a
    served turn. Shared by every statement binding a type of the same kind (``_processor``);
    datetimes are immutable and the last one is held, so ``is`` is a safe test."""

    def __init__(self, process: Callable[[Any], Any]) -> None:
        self.process = process
        self.last: tuple[Any, Any] = (None, None)  # (value, its text): one attribute, read and set whole

    def __call__(self, value: Any) -> Any:
        last = self.last
        if value is last[0]:
            return last[1]
        text = self.process(value)
        self.last = (value, text)
        return text


_TIMES: dict[str, _LastTime] = {}


def _processor(type_: Any, dialect: Dialect) -> Callable[[Any], Any] | None:
    """The bind processor of a parameter's type on this dialect; date-times' shared per
    equal type (the repr of a type names every argument that changes its format)."""
    process = type_.dialect_impl(dialect).bind_processor(dialect)
    if process is None or not isinstance(type_, DateTime):
        return process  # type: ignore[no-any-return]
    key = f"{dialect.name}:{type_!r}"
    if key not in _TIMES:
        _TIMES[key] = _LastTime(process)
    return _TIMES[key]


__all__ = ["JsonText", "Statement", "json_bytes"]
