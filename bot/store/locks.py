"""One turn of a conversation at a time (Rasa's lock store, in its shape).

``Locks`` is the interface: ``async with locks(conversation_id): …``. SQLite has one
serving process, so an asyncio lock per conversation is enough (``LocalLocks``). Several
PostgreSQL instances share the database, so each also takes a PostgreSQL advisory lock on
the conversation (``AdvisoryLocks``), after the local one: a process never holds two
database connections for one conversation.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

# The advisory lock space of conversations (the two-key form never meets the migrations'
# one-key lock); two ids with the same hash only wait for each other.
_SPACE = 7723


class Locks(Protocol):
    def __call__(self, key: str) -> contextlib.AbstractAsyncContextManager[None]:
        """Hold the lock of ``key`` inside the ``async with``."""


class LocalLocks:
    """One asyncio lock per key, kept only while someone holds or waits for it (nothing per
    conversation stays in memory)."""

    def __init__(self) -> None:
        self._locks: dict[str, _Held] = {}

    def __call__(self, key: str) -> _Held:
        held = self._locks.get(key)
        if held is None:
            held = self._locks[key] = _Held(self._locks, key)
        return held

    def __len__(self) -> int:
        return len(self._locks)


class _Held(contextlib.AbstractAsyncContextManager[None]):
    """A key's lock and how many hold or wait for it. A plain class, not an
    ``asynccontextmanager``: its generator cost about a per cent of a turn."""

    __slots__ = ("key", "lock", "locks", "users")

    def __init__(self, locks: dict[str, _Held], key: str) -> None:
        self.locks, self.key, self.lock, self.users = locks, key, asyncio.Lock(), 0

    async def __aenter__(self) -> None:
        self.users += 1
        try:
            await self.lock.acquire()
        except BaseException:  # cancelled while waiting
            self._leave()
            raise

    async def __aexit__(self, *_: object) -> None:
        self.lock.release()
        self._leave()

    def _leave(self) -> None:
        self.users -= 1
        if not self.users:
            del self.locks[self.key]


class AdvisoryLocks:
    """The local lock, then a session advisory lock on a connection of its own pool (the
    turn's reads and writes use the store's pool: a full lock pool never stops them)."""

    def __init__(self, db: AsyncEngine) -> None:
        self.db = db
        self.local = LocalLocks()

    @contextlib.asynccontextmanager
    async def __call__(self, key: str) -> AsyncIterator[None]:
        async with self.local(key), self.db.connect() as conn:
            taken = select(func.pg_advisory_lock(_SPACE, func.hashtext(key)))
            try:
                await conn.execute(taken)
            except BaseException:  # cancelled while waiting: the lock may be held all the same
                await _drop(conn)
                raise
            try:
                yield
            finally:
                try:
                    await conn.execute(select(func.pg_advisory_unlock(_SPACE, func.hashtext(key))))
                except BaseException:
                    await _drop(conn)  # a closed session holds no lock
                    raise

    async def close(self) -> None:
        await self.db.dispose()


async def _drop(conn: Any) -> None:
    with contextlib.suppress(Exception):
        await conn.invalidate()


__all__ = ["AdvisoryLocks", "LocalLocks", "Locks"]
