"""The store: one object over the database, made of parts with one job each.

- bot/store/connect.py: the engine, SQLite's pragmas, the schema upgrade;
- bot/store/base.py: the one write path (SQLite's group-commit writer, or a PostgreSQL
  transaction);
- bot/store/conversations.py: conversations and turns (the turn service's repository);
- bot/store/tokens.py: API tokens and their cache;
- bot/store/chats.py: the channels' chat state;
- bot/store/locks.py: one turn of a conversation at a time.

SQLite (aiosqlite, WAL) is the embedded default; PostgreSQL (asyncpg) serves several
instances, and tells the others of each turn it commits (LISTEN/NOTIFY).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable, Coroutine
from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy import Engine as SyncEngine
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.models import Conversation
from bot.store.chats import ChatStore
from bot.store.connect import async_url, open_database, sqlite_blocking_engine
from bot.store.conversations import ConversationStore, Decoded, Stored, TurnRecord, _kept_key, buyer_key
from bot.store.locks import AdvisoryLocks, LocalLocks, Locks
from bot.store.tokens import TokenInfo, TokenStore, hash_token
from bot.store.writer import GroupCommitWriter

log = logging.getLogger("csbot.store")
Listener = Callable[[str, int], Coroutine[Any, Any, None]]
_CHANNEL = "csbot_turns"


class Store(TokenStore, ChatStore, ConversationStore):
    """Async access to the database; one instance per process. A repository only: what
    needs the engine (turns, the intake's triage) gets it from the turn service."""

    def __init__(self, db: AsyncEngine, writer: GroupCommitWriter | None, locks: Locks,
                 token_ttl: float = 10.0, reader: SyncEngine | None = None) -> None:
        super().__init__(db, writer, reader)
        self.locks = locks
        self.token_ttl = token_ttl
        self._tokens = {}
        self.decoded = Decoded()

    @classmethod
    async def open(cls, url: str, *, synchronous: str = "FULL",
                   token_ttl: float = 10.0) -> Store:
        """Connect, upgrade the schema, and start SQLite's writer."""
        db = await open_database(url, synchronous)
        if db.dialect.name == "sqlite":
            writer = GroupCommitWriter(sqlite_blocking_engine(db, synchronous, writer=True))
            writer.start()
            reader = sqlite_blocking_engine(db, synchronous, writer=False)
            return SqliteStore(db, writer, LocalLocks(), token_ttl, reader)
        locks = AdvisoryLocks(create_async_engine(db.url, pool_size=10, max_overflow=10,
                                                  hide_parameters=True))
        return PostgresStore(db, None, locks, token_ttl)

    async def listen(self, callback: Listener) -> None:
        """Call ``callback(conversation_id, turn)`` for each turn another instance commits."""

    async def close(self) -> None:
        if self.writer:
            await self.writer.stop()  # it finishes what it acknowledged
        if self._read_conn is not None:
            self._read_conn.close()
        if self.reader is not None:
            self.reader.dispose()
        await self.db.dispose()


class SqliteStore(Store):
    """The embedded database: one serving process, so no other instance to tell."""


class PostgresStore(Store):
    """Several instances: a turn's NOTIFY, sent in its transaction, reaches the others once
    it is committed; the instance that made the turn publishes it itself."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.instance = uuid.uuid4().hex[:12]
        self._listener: Any = None
        self._heard: asyncio.Queue[tuple[str, int]] = asyncio.Queue()
        self._drain: asyncio.Task[None] | None = None

    def _save(self, conn: Connection, conv: Conversation, is_open: bool, turn: TurnRecord | None,
              loaded: Stored) -> bytes:
        state = super()._save(conn, conv, is_open, turn, loaded)
        if turn is not None:
            conn.execute(select(func.pg_notify(_CHANNEL, f"{self.instance}:{conv.id}:{turn.turn}")))
        return state

    async def listen(self, callback: Listener) -> None:
        import asyncpg

        url = self.db.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._listener = await asyncpg.connect(url)

        def notified(_conn: Any, _pid: int, _channel: str, payload: str) -> None:
            origin, conv_id, turn = payload.split(":")
            if origin != self.instance:
                self._heard.put_nowait((conv_id, int(turn)))

        async def drain() -> None:
            # One at a time, in the order they were committed: a conversation's turns
            # reach its listeners in order.
            while True:
                conv_id, turn = await self._heard.get()
                try:
                    await callback(conv_id, turn)
                except Exception as exc:
                    log.error("pushing a committed turn to its listeners failed: %s", type(exc).__name__)

        self._drain = asyncio.get_running_loop().create_task(drain())
        await self._listener.add_listener(_CHANNEL, notified)

    async def close(self) -> None:
        if self._listener is not None:
            await self._listener.close()
            self._listener = None
        if self._drain is not None:
            self._drain.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._drain
        assert isinstance(self.locks, AdvisoryLocks)
        await self.locks.close()
        await super().close()


__all__ = ["PostgresStore", "SqliteStore", "Store", "TokenInfo", "_kept_key", "async_url",
           "buyer_key", "hash_token"]
