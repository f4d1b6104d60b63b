"""The store: conversations, turns and tokens through SQLAlchemy 2 (async).

SQLite (aiosqlite, WAL) is the embedded default and is written by one group-commit writer
(bot/store/writer.py), with the turns decided in worker processes beside it when the
service has cores to spare (bot/store/workers.py);
PostgreSQL (asyncpg) serves several instances, each turn in its own transaction holding
the conversation's row lock (SELECT … FOR UPDATE), so turns on one conversation are
serialised across processes and turn numbers stay contiguous.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import secrets
import time
import uuid
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, bindparam, create_engine, event, func, select, update
from sqlalchemy import Engine as SyncEngine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

from bot.engine import ConversationClosed, Engine
from bot.models import Case, Conversation, Suggestion, Tone
from bot.store import schema
from bot.store.mask import mask, mask_id
from bot.store.migrations import upgrade
from bot.store.turns import (
    SQL_DEDUPE,
    SQL_LOAD,
    ConvRow,
    Duplicate,
    Forbidden,
    NeedsPerson,
    NotFound,
    Prepared,
    current_script,
    decide,
    load,
    mask_case,
)
from bot.store.workers import KeyedLock, WorkerGone, WorkerPool
from bot.store.writer import GroupCommitWriter

T = TypeVar("T")
log = logging.getLogger("csbot.store")
_TOKENS_KEPT = 1024  # tokens the service trusts from its cache at most (one per agent)
# Messages up to this many characters are decided on the event loop (about a millisecond at
# most: 0.7 ms for 256 characters, 20 ms for 2,000); longer ones in the store's turn thread.
INLINE_CHARS = 256


# The row-locking load for a person's actions on PostgreSQL (close, resume, tone).
_C, _T = schema.conversations.c, schema.turns.c
_LOAD_LOCKED = select(schema.conversations).where(_C.id == bindparam("cid")).with_for_update()


# The writer's statements of a turn, run on the driver's connection: through SQLAlchemy
# each cost more than the turn's own understanding (bench/service.py).
_SQL_CHECK = "SELECT turn, is_open FROM conversations WHERE id = ?"
_SQL_INSERT_TURN = ("INSERT INTO turns (conversation_id, turn, role, text, message_id, stage, suggestion,"
                    " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
_SQL_UPDATE_AFTER_TURN = ("UPDATE conversations SET stage = ?, turn = ?, state = ?, updated_at = ?,"
                          " script_version = ?, is_open = ?, outcome = ? WHERE id = ?")
_SQL_FLAG = "UPDATE conversations SET flagged = 1 WHERE id = ?"

# And the same on PostgreSQL, run on asyncpg's connection (see Store._pg_turn).
_PG_LOAD = "SELECT shop, is_open, state, turn FROM conversations WHERE id = $1 FOR UPDATE"
_PG_DEDUPE = "SELECT suggestion FROM turns WHERE conversation_id = $1 AND message_id = $2"
_PG_INSERT_TURN = ("INSERT INTO turns (conversation_id, turn, role, text, message_id, stage, suggestion,"
                   " created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
_PG_UPDATE_AFTER_TURN = ("UPDATE conversations SET stage = $1, turn = $2, state = $3, updated_at = $4,"
                         " script_version = $5, is_open = $6, outcome = $7 WHERE id = $8")
_PG_NOTIFY = "SELECT pg_notify('csbot_turns', $1)"
_PG_FLAG = "UPDATE conversations SET flagged = TRUE WHERE id = $1"
# A turn in two statements, each its own transaction: the row and a repeated message id's
# answer in one read; then the new state, the turn and its notification in one write, which
# changes nothing when the conversation moved on or closed since the read (count 0).
_PG_READ = ("SELECT c.shop, c.is_open, c.state, c.turn, t.suggestion FROM conversations c"
            " LEFT JOIN turns t ON t.conversation_id = c.id AND t.message_id = $2 WHERE c.id = $1")
_PG_WRITE = (
    "WITH moved AS (UPDATE conversations SET stage = $1, turn = $2, state = $3, updated_at = $4,"
    " script_version = $5, is_open = $6, outcome = $7 WHERE id = $8 AND turn = $9 AND is_open = $15"
    " RETURNING id),"
    " added AS (INSERT INTO turns (conversation_id, turn, role, text, message_id, stage, suggestion,"
    " created_at) SELECT id, $2, $10::varchar, $11::text, $12::varchar, $1, $13::text, $4 FROM moved"
    " RETURNING conversation_id)"
    " SELECT count(*) FROM (SELECT pg_notify('csbot_turns', $14::text) FROM added) AS notified")


def _log_failure(task: asyncio.Task[None]) -> None:
    # Nobody awaits a push that a notification started: its failure is logged, not lost.
    if not task.cancelled() and task.exception() is not None:
        log.error("pushing a committed turn to its listeners failed: %s", type(task.exception()).__name__)


def _raw(conn: Connection) -> Any:
    """The DB-API connection under a SQLAlchemy one (inside the same transaction)."""
    return conn.connection.driver_connection


def _sqlite_time(value: datetime) -> str:
    # The text form SQLAlchemy's SQLite DateTime stores and parses back (UTC, naive).
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


@dataclass(frozen=True, slots=True)
class TokenInfo:
    name: str
    role: str
    shop: str


def async_url(url: str) -> str:
    """The SQLAlchemy async URL for a plain ``sqlite:///…`` or ``postgresql://…`` one."""
    for plain, driver in (("sqlite://", "sqlite+aiosqlite://"),
                          ("postgresql://", "postgresql+asyncpg://"),
                          ("postgres://", "postgresql+asyncpg://")):
        if url.startswith(plain):
            return driver + url[len(plain):]
    return url


def hash_token(token: str) -> str:
    """SHA-256 of a token: tokens are long random strings, so a fast hash is enough."""
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


def buyer_key(case: Case) -> str:
    """What tells one buyer from another in a shop: the id, else the name. One with personal
    data in it (``tb_lilei_13812345678``) is kept as its hash, so that buyers still differ
    and the phone number is not stored in the clear."""
    key = case.buyer_id or case.buyer_name
    return _kept_key(key, mask_id(key) if case.buyer_id else mask(key))


def _kept_key(key: str, masked: str) -> str:
    return key if masked == key else "sha256:" + hashlib.sha256(key.encode("utf-8")).hexdigest()


class Store:
    """Async access to the database; one instance per process."""

    def __init__(self, engine: AsyncEngine, csbot: Engine, sqlite: bool,
                 synchronous: str = "FULL", token_ttl: float = 10.0) -> None:
        self.db = engine
        self.csbot = csbot
        self.sqlite = sqlite
        self.writer = GroupCommitWriter(_sync_sqlite(engine, synchronous)) if sqlite else None
        self.workers: WorkerPool | None = None
        self.locks = KeyedLock()
        self._listener: Any = None
        self.on_turn: Callable[[str, int], Coroutine[Any, Any, None]] | None = None
        self._announcing: dict[str, asyncio.Task[None]] = {}  # a conversation's latest on_turn call
        # Tokens found in the database, by hash, until a moment (monotonic): looking one up
        # on every request cost four fifths of a turn's throughput (bench: 2,400 -> 490/s).
        self.token_ttl = token_ttl
        self._tokens: dict[str, tuple[TokenInfo, float]] = {}
        # Turns are decided here, off the event loop, one at a time (the engine is shared).
        self.cpu = ThreadPoolExecutor(max_workers=1, thread_name_prefix="csbot-turns")

    @classmethod
    async def open(cls, url: str, csbot: Engine, *, synchronous: str = "FULL",
                   workers: int = 0, token_ttl: float = 10.0) -> Store:
        """Connect, upgrade the schema, and start the writer (SQLite) and its turn
        workers (``workers`` processes deciding turns beside the writer; SQLite on a file
        only: PostgreSQL spreads over instances instead)."""
        full = async_url(url)
        sqlite = full.startswith("sqlite")
        if sqlite:
            # hide_parameters: an error's message never carries a buyer's name or text to the log
            db = create_async_engine(full, connect_args={"timeout": 30}, hide_parameters=True)
            _sqlite_setup(db, synchronous)
        else:
            db = create_async_engine(full, pool_size=10, max_overflow=10, hide_parameters=True)
        async with db.begin() as conn:
            if not sqlite:  # several instances may start at once: one migrates at a time
                await conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7723001)")
            await conn.run_sync(upgrade)
        store = cls(db, csbot, sqlite, synchronous, token_ttl)
        if store.writer:
            store.writer.start()
            database = store.writer.engine.url.database
            if workers > 0 and database and database != ":memory:":
                store.workers = pool = WorkerPool(workers, database, csbot)
                await pool.start()
                # A commit waits a millisecond for the decisions still out at the workers.
                store.writer.window = 0.001
                store.writer.more_coming = lambda: any(w.pending for w in pool.workers)
        return store

    async def close(self) -> None:
        if self.workers:
            await self.workers.close()
        if self.writer:
            await self.writer.stop()
        if self._listener is not None:
            await self._listener.close()
            self._listener = None
        for task in list(self._announcing.values()):
            task.cancel()
        self.cpu.shutdown(wait=True)
        await self.db.dispose()

    async def listen(self, callback: Callable[[str, int], Coroutine[Any, Any, None]]) -> None:
        """Call ``callback(conversation_id, turn)`` for every turn committed by any instance.

        On PostgreSQL this is LISTEN/NOTIFY (the NOTIFY is sent inside the turn's
        transaction, so it arrives only once the turn is committed); on SQLite, with its
        single instance, the store calls it after each commit itself.
        """
        self.on_turn = callback
        if self.sqlite:
            return
        import asyncpg

        url = self.db.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._listener = await asyncpg.connect(url)

        def notified(_conn: Any, _pid: int, _channel: str, payload: str) -> None:
            conv_id, _, turn = payload.rpartition(":")
            self._announce(conv_id, int(turn)).add_done_callback(_log_failure)

        await self._listener.add_listener("csbot_turns", notified)

    def _announce(self, conv_id: str, turn: int) -> asyncio.Task[None]:
        """Call ``on_turn`` for a committed turn once the same conversation's earlier calls
        are done. Each call reads its turn's Suggestion back, and a later read can finish
        first: without the wait a listener could see turn 2 before turn 1."""
        callback = self.on_turn
        assert callback is not None
        before = self._announcing.get(conv_id)

        async def run() -> None:
            if before is not None:
                await asyncio.wait((before,))  # its outcome is its own; cancelling us leaves it be
            await callback(conv_id, turn)

        task = asyncio.get_running_loop().create_task(run())
        self._announcing[conv_id] = task

        def done(t: asyncio.Task[None]) -> None:
            if self._announcing.get(conv_id) is t:  # nothing per conversation stays behind
                del self._announcing[conv_id]

        task.add_done_callback(done)
        return task

    async def _write(self, job: Callable[[Connection], T]) -> T:
        """Run a write job: in the SQLite writer's next batch, or in its own PostgreSQL transaction."""
        if self.writer:
            return await self.writer.submit(job)  # type: ignore[no-any-return]
        for attempt in range(3):
            try:
                async with self.db.begin() as conn:
                    return await conn.run_sync(job)
            except IntegrityError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def ping(self) -> None:
        async with self.db.connect() as conn:
            await conn.exec_driver_sql("SELECT 1")

    # -- conversations ----------------------------------------------------------------

    async def create(
        self, case: Case, tone: Tone = "正式", agent: str | None = None
    ) -> tuple[Conversation, Suggestion, bool]:
        """Open a conversation for the case, or return the open one for the same shop + buyer + order."""
        order = case.order_id or ""
        key = (case.shop, buyer_key(case), _kept_key(order, mask_id(order)))
        case = mask_case(case)  # nothing a buyer typed is stored in the clear

        def job(conn: Connection) -> tuple[Conversation, Suggestion, bool]:
            c = schema.conversations.c
            row = (conn.execute(
                select(schema.conversations).where(c.shop == key[0], c.buyer_key == key[1],
                                                   c.order_key == key[2], c.is_open))).first()
            if row is not None:
                conv = Conversation.model_validate_json(row.state)
                last = (conn.execute(select(schema.turns.c.suggestion).where(
                    schema.turns.c.conversation_id == conv.id).order_by(
                    schema.turns.c.turn.desc()).limit(1))).scalar()
                sug = (Suggestion.model_validate_json(last) if last
                       else self.csbot.start(conv.case, conversation_id=conv.id, tone=conv.tone)[1])
                return conv, sug, False
            conv, sug = self.csbot.start(case, conversation_id=str(uuid.uuid4()), tone=tone)
            now = datetime.now(UTC)
            conn.execute(schema.conversations.insert().values(
                id=conv.id, shop=key[0], buyer_key=key[1], order_key=key[2], agent=agent or case.agent,
                stage=conv.stage, outcome=None, is_open=True, turn=0,
                script_version=conv.script_version, state=conv.model_dump_json(),
                created_at=now, updated_at=now, flagged=False))
            return conv, sug, True

        return await self._write(job)

    def _load_for_update(self, conn: Connection, conv_id: str, shop: str | None) -> Any:
        row: Any
        if self.sqlite:  # the writer's own connection: the driver directly (see _raw)
            row, _ = load(_raw(conn), conv_id, None)
        else:
            row = conn.execute(_LOAD_LOCKED, {"cid": conv_id}).first()
        if row is None:
            raise NotFound(conv_id)
        if shop is not None and row.shop != shop:
            raise Forbidden(conv_id)
        return row

    async def add_turn(
        self, conv_id: str, role: str, text: str, *, message_id: str | None = None,
        shop: str | None = None, at: datetime | None = None,
    ) -> tuple[Suggestion, bool]:
        """Apply one message; returns (Suggestion, duplicate). A repeated message id returns the stored answer."""
        done = await self.post_turn(conv_id, role, text, message_id=message_id, shop=shop, at=at)
        if isinstance(done, Duplicate):
            return Suggestion.model_validate_json(done.stored), True
        return done.sug(), False

    async def post_turn(
        self, conv_id: str, role: str, text: str, *, message_id: str | None = None,
        shop: str | None = None, at: datetime | None = None,
    ) -> Prepared | Duplicate:
        """``add_turn`` without parsing the answer back into a model (the HTTP route sends
        ``Prepared.answer`` as it is). Raises NotFound, Forbidden or NeedsPerson (a closed
        case is answered too)."""
        if self.workers is not None and self.workers.ready:
            async with self.locks(conv_id):  # one turn of a conversation decided at a time
                result = await self._post_beside(conv_id, role, text, message_id, shop, at)
        elif self.sqlite and len(text) > INLINE_CHARS:
            async with self.locks(conv_id):  # one turn of a conversation decided at a time
                result = await self._sqlite_turn(conv_id, role, text, message_id, shop, at)
        elif self.sqlite:  # a short message: decided in the writer's batch, sharing its commit
            result = await self._write(lambda conn: self._turn_job(
                conn, conv_id, role, text, message_id, shop, at))
        else:
            async with self.locks(conv_id):  # this instance's turns of it do not race each other
                result = await self._pg_turn(conv_id, role, text, message_id, shop, at)
        if isinstance(result, NeedsPerson):
            raise result
        if self.sqlite and isinstance(result, Prepared) and self.on_turn is not None:
            await self._announce(conv_id, result.turn)
        return result

    async def _pg_turn(
        self, conv_id: str, role: str, text: str, message_id: str | None, shop: str | None,
        at: datetime | None,
    ) -> Prepared | Duplicate | NeedsPerson:
        """One turn on PostgreSQL: read, decide, then write only if the conversation is still
        as it was read. Another instance's turn in between means deciding again; after three
        such tries, the turn is decided holding the conversation's row lock.

        Two round trips instead of seven (a transaction's BEGIN, the locking read, the dedupe
        read, three writes, COMMIT): each cost the database and this process more than the
        statement's own work. The statements go to asyncpg directly: through SQLAlchemy's
        async layer (a greenlet per call) they cost more than deciding the turn."""
        for _ in range(3):
            async with self.db.connect() as conn:
                raw: Any = (await conn.get_raw_connection()).driver_connection
                found = await raw.fetchrow(_PG_READ, conv_id, message_id)
                try:
                    result = await self._decide(ConvRow(*found[:4]) if found else None,
                                                found[4] if found else None, conv_id, role, text,
                                                message_id, shop, at)
                except NeedsPerson as exc:
                    await raw.execute(_PG_FLAG, conv_id)
                    return exc
                if not isinstance(result, Prepared):
                    return result
                p = result
                if await raw.fetchval(_PG_WRITE, p.stage, p.turn, p.state, datetime.now(UTC),
                                      p.script_version, p.is_open, p.outcome, p.conv_id, p.before,
                                      p.role, p.text, p.message_id, p.stored, f"{p.conv_id}:{p.turn}",
                                      p.was_open):
                    return p
        return await self._pg_turn_locked(conv_id, role, text, message_id, shop, at)

    async def _pg_turn_locked(
        self, conv_id: str, role: str, text: str, message_id: str | None, shop: str | None,
        at: datetime | None,
    ) -> Prepared | Duplicate | NeedsPerson:
        """One turn in its own transaction, holding the conversation's row lock (no retry)."""
        async with self.db.connect() as conn:
            raw: Any = (await conn.get_raw_connection()).driver_connection
            async with raw.transaction():
                found = await raw.fetchrow(_PG_LOAD, conv_id)
                stored = None if found is None or message_id is None else await raw.fetchval(
                    _PG_DEDUPE, conv_id, message_id)
                try:
                    result = await self._decide(ConvRow(*found) if found else None, stored, conv_id,
                                                role, text, message_id, shop, at)
                except NeedsPerson as exc:  # the flag is committed, then the caller raises
                    await raw.execute(_PG_FLAG, conv_id)
                    return exc
                if isinstance(result, Prepared):
                    p, now = result, datetime.now(UTC)
                    await raw.execute(_PG_INSERT_TURN, p.conv_id, p.turn, p.role, p.text,
                                      p.message_id, p.stage, p.stored, now)
                    await raw.execute(_PG_UPDATE_AFTER_TURN, p.stage, p.turn, p.state, now,
                                      p.script_version, p.is_open, p.outcome, p.conv_id)
                    await raw.execute(_PG_NOTIFY, f"{p.conv_id}:{p.turn}")
                return result

    async def _decide(
        self, row: ConvRow | None, stored: str | None, conv_id: str, role: str, text: str,
        message_id: str | None, shop: str | None, at: datetime | None,
    ) -> Prepared | Duplicate:
        """``decide``, in the store's turn thread for a long message: understanding,
        composing and masking it is CPU work, and on the event loop it held up every other
        request (a 36 KB message kept /healthz from answering for seconds). A short one costs
        less than the hand-off to a thread and back (bench/service.py)."""
        if len(text) <= INLINE_CHARS:
            return decide(self.csbot, row, stored, conv_id, role, text, message_id, shop, at)
        return await asyncio.get_running_loop().run_in_executor(self.cpu, functools.partial(
            decide, self.csbot, row, stored, conv_id, role, text, message_id, shop, at))

    async def _sqlite_turn(
        self, conv_id: str, role: str, text: str, message_id: str | None, shop: str | None,
        at: datetime | None,
    ) -> Prepared | Duplicate | NeedsPerson:
        """One turn on SQLite without worker processes: read, decide in the turn thread,
        then the writer commits it unless the conversation moved on meanwhile (another
        process); after three such tries the writer decides it itself."""
        for _ in range(3):
            async with self.db.connect() as conn:
                found: Any = (await conn.exec_driver_sql(SQL_LOAD, (conv_id,))).first()
                stored = None
                if found is not None and message_id is not None:
                    stored = (await conn.exec_driver_sql(SQL_DEDUPE, (conv_id, message_id))).scalar()
            try:
                row = ConvRow(found[0], bool(found[1]), found[2], found[3]) if found else None
                result = await self._decide(row, stored, conv_id, role, text, message_id, shop, at)
            except NeedsPerson as exc:
                await self._write(lambda conn: self._flag(conn, conv_id))
                return exc
            if isinstance(result, Duplicate):
                return result
            if await self._write(functools.partial(self._commit_checked, p=result)):
                return result
        return await self._write(lambda conn: self._turn_job(
            conn, conv_id, role, text, message_id, shop, at))

    def _turn_job(
        self, conn: Connection, conv_id: str, role: str, text: str, message_id: str | None,
        shop: str | None, at: datetime | None,
    ) -> Prepared | Duplicate | NeedsPerson:
        """One turn inside the SQLite writer's transaction."""
        row, stored = load(_raw(conn), conv_id, message_id)
        try:
            result = decide(self.csbot, row, stored, conv_id, role, text, message_id, shop, at)
        except NeedsPerson as exc:  # the flag must be committed, so it is returned, not raised
            self._flag(conn, conv_id)
            return exc
        if isinstance(result, Prepared):
            self._save_turn(conn, result)
        return result

    async def _post_beside(
        self, conv_id: str, role: str, text: str, message_id: str | None, shop: str | None,
        at: datetime | None,
    ) -> Prepared | Duplicate | NeedsPerson:
        """A worker process decides the turn; the writer commits it unless the
        conversation moved on meanwhile (then it is decided again on the new state)."""
        assert self.workers is not None
        for _ in range(3):
            try:
                result = await self.workers.decide(conv_id, role, text, message_id, shop, at)
            except WorkerGone:
                break
            except NeedsPerson as exc:
                await self._write(lambda conn: self._flag(conn, conv_id))
                return exc
            if isinstance(result, Duplicate):
                return result
            prepared = result
            if await self._write(functools.partial(self._commit_checked, p=prepared)):
                return prepared
        # No worker, or still moving after three tries: decide in the writer.
        return await self._write(lambda conn: self._turn_job(
            conn, conv_id, role, text, message_id, shop, at))

    def _commit_checked(self, conn: Connection, p: Prepared) -> bool:
        now = _raw(conn).execute(_SQL_CHECK, (p.conv_id,)).fetchone()
        if now is None or now[0] != p.before or bool(now[1]) != p.was_open:
            return False
        self._save_turn(conn, p)
        return True

    def _flag(self, conn: Connection, conv_id: str) -> None:
        _raw(conn).execute(_SQL_FLAG, (conv_id,))

    async def suggestion(self, conv_id: str, turn: int) -> Suggestion | None:
        """The stored Suggestion of one turn."""
        t = schema.turns.c
        async with self.db.connect() as conn:
            raw = (await conn.execute(select(t.suggestion).where(
                t.conversation_id == conv_id, t.turn == turn))).scalar()
        return Suggestion.model_validate_json(raw) if raw else None

    def _save_turn(self, conn: Connection, p: Prepared) -> None:
        stamp = _sqlite_time(datetime.now(UTC))
        raw = _raw(conn)
        raw.execute(_SQL_INSERT_TURN, (p.conv_id, p.turn, p.role, p.text, p.message_id, p.stage,
                                       p.stored, stamp))
        raw.execute(_SQL_UPDATE_AFTER_TURN, (p.stage, p.turn, p.state, stamp, p.script_version,
                                             int(p.is_open), p.outcome, p.conv_id))

    async def close_case(self, conv_id: str, outcome: str, shop: str | None = None) -> Conversation:
        """Close a conversation with an outcome."""

        def job(conn: Connection) -> Conversation:
            row = self._load_for_update(conn, conv_id, shop)
            conv = Conversation.model_validate_json(row.state)
            if not row.is_open and conv.outcome is not None:
                # The script closes a case after the goodbye: its outcome is still a person's to
                # record (not a turn), once.
                raise ConversationClosed("这个会话已经登记过结果")
            conv = self.csbot.close(conv, outcome)
            conn.execute(update(schema.conversations).where(
                schema.conversations.c.id == conv_id).values(
                stage=conv.stage, outcome=outcome, is_open=False, state=conv.model_dump_json(),
                updated_at=datetime.now(UTC)))
            return conv

        async with self.locks(conv_id):  # not between a worker's decision and its commit
            return await self._write(job)

    async def escalate_case(self, conv_id: str, shop: str | None = None) -> tuple[Conversation, Suggestion]:
        """Mark that a supervisor was notified (the case holds in the escalated stage); not a turn."""

        def job(conn: Connection) -> tuple[Conversation, Suggestion]:
            row = self._load_for_update(conn, conv_id, shop)
            if not row.is_open:
                raise ConversationClosed("这个会话已经结束，不能再升级")
            conv, sug = self.csbot.escalate(current_script(self.csbot, Conversation.model_validate_json(row.state)))
            conn.execute(update(schema.conversations).where(
                schema.conversations.c.id == conv_id).values(
                stage=conv.stage, state=conv.model_dump_json(), updated_at=datetime.now(UTC)))
            return conv, sug

        async with self.locks(conv_id):
            return await self._write(job)

    async def current(self, conv_id: str, shop: str | None = None) -> Suggestion:
        """The Suggestion for the conversation as it stands now (no turn, nothing written)."""
        async with self.db.connect() as conn:
            row = (await conn.execute(select(schema.conversations.c.shop, schema.conversations.c.state)
                                      .where(schema.conversations.c.id == conv_id))).first()
        if row is None:
            raise NotFound(conv_id)
        if shop is not None and row.shop != shop:
            raise Forbidden(conv_id)
        return self.csbot.current(current_script(self.csbot, Conversation.model_validate_json(row.state)))

    async def get(self, conv_id: str, shop: str | None = None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """A conversation and its turns."""
        async with self.db.connect() as conn:
            row = (await conn.execute(select(schema.conversations).where(
                schema.conversations.c.id == conv_id))).first()
            if row is None:
                raise NotFound(conv_id)
            if shop is not None and row.shop != shop:
                raise Forbidden(conv_id)
            t = schema.turns.c
            turns = (await conn.execute(select(schema.turns).where(t.conversation_id == conv_id)
                                        .order_by(t.turn))).all()
        return _summary(row), [
            {"turn": r.turn, "role": r.role, "text": r.text, "message_id": r.message_id,
             "stage": r.stage, "created_at": r.created_at.isoformat() if r.created_at else None,
             "suggestion": Suggestion.model_validate_json(r.suggestion).model_dump(mode="json")}
            for r in turns]

    async def find(
        self, *, shop: str | None, stage: str | None = None, outcome: str | None = None,
        agent: str | None = None, since: date | None = None, until: date | None = None,
        limit: int = 50, offset: int = 0,
    ) -> tuple[int, list[dict[str, Any]]]:
        """Conversations matching the filters, newest first, with the total count."""
        c = schema.conversations.c
        conds = []
        if shop is not None:
            conds.append(c.shop == shop)
        if stage:
            conds.append(c.stage == stage)
        if outcome:
            conds.append(c.outcome == outcome)
        if agent:
            conds.append(c.agent == agent)
        if since:
            conds.append(c.created_at >= datetime.combine(since, datetime.min.time(), UTC))
        if until:
            conds.append(c.created_at < datetime.combine(until, datetime.max.time(), UTC))
        async with self.db.connect() as conn:
            total = (await conn.execute(select(func.count()).select_from(
                schema.conversations).where(*conds))).scalar() or 0
            rows = (await conn.execute(select(schema.conversations).where(*conds)
                                       .order_by(c.created_at.desc(), c.id)
                                       .limit(limit).offset(offset))).all()
        return int(total), [_summary(r) for r in rows]

    async def count_open(self) -> int:
        async with self.db.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(
                schema.conversations).where(schema.conversations.c.is_open))).scalar() or 0)

    async def resume(self, conv_id: str, shop: str | None = None) -> Suggestion:
        """A person resumes a held case (a callback is a new contact attempt, at most three)."""

        def job(conn: Connection) -> Suggestion:
            row = self._load_for_update(conn, conv_id, shop)
            conv, sug = self.csbot.resume(Conversation.model_validate_json(row.state))
            conn.execute(update(schema.conversations).where(_C.id == conv_id).values(
                stage=conv.stage, state=conv.model_dump_json(), updated_at=datetime.now(UTC),
                is_open=conv.stage != self.csbot.script.final))  # a closed case contacted again
            return sug

        async with self.locks(conv_id):  # not between a worker's decision and its commit
            return await self._write(job)

    async def set_tone(self, conv_id: str, tone: Tone) -> None:
        """Change the tone of a conversation's suggestions."""

        def job(conn: Connection) -> None:
            row = self._load_for_update(conn, conv_id, None)
            conv = Conversation.model_validate_json(row.state).model_copy(update={"tone": tone})
            conn.execute(update(schema.conversations).where(_C.id == conv_id).values(
                state=conv.model_dump_json(), updated_at=datetime.now(UTC)))

        async with self.locks(conv_id):  # not between a worker's decision and its commit
            await self._write(job)

    async def last_suggestion(self, conv_id: str) -> Suggestion:
        """The newest Suggestion of a conversation (its opening one before any turn)."""
        async with self.db.connect() as conn:
            raw = (await conn.execute(select(_T.suggestion).where(_T.conversation_id == conv_id)
                                      .order_by(_T.turn.desc()).limit(1))).scalar()
            if raw:
                return Suggestion.model_validate_json(raw)
            state = (await conn.execute(select(_C.state).where(_C.id == conv_id))).scalar()
        if state is None:
            raise NotFound(conv_id)
        conv = Conversation.model_validate_json(state)
        return self.csbot.start(conv.case, conversation_id=conv.id, tone=conv.tone)[1]

    # -- channels ---------------------------------------------------------------------------

    async def first_time(self, channel: str, message_id: str) -> bool:
        """Record a platform event id; False if it was seen before (a retry)."""

        def job(conn: Connection) -> bool:
            seen = conn.execute(select(schema.channel_events.c.message_id).where(
                schema.channel_events.c.channel == channel,
                schema.channel_events.c.message_id == message_id)).first()
            if seen:
                return False
            conn.execute(schema.channel_events.insert().values(
                channel=channel, message_id=message_id, created_at=datetime.now(UTC)))
            return True

        try:
            return await self._write(job)
        except IntegrityError:  # another instance recorded it at the same moment
            return False

    async def seen_event(self, channel: str, message_id: str) -> bool:
        """Whether ``first_time`` recorded this event id."""
        ce = schema.channel_events.c
        async with self.db.connect() as conn:
            return (await conn.execute(select(ce.message_id).where(
                ce.channel == channel, ce.message_id == message_id))).first() is not None

    async def claim(self, channel: str, key: str, owner: str) -> bool:
        """Make ``key`` (a used signature) ``owner``'s (the one message it signed): True if it
        was nobody's or already ``owner``'s (a platform's retry), False if another's (a replay)."""
        ce = schema.channel_events.c
        mine = f"{key}>{owner}"[:200]

        def job(conn: Connection) -> bool:
            seen = set(conn.execute(select(ce.message_id).where(
                ce.channel == channel, ce.message_id.in_([key, mine]))).scalars())
            if mine in seen or key in seen:
                return mine in seen
            now = datetime.now(UTC)
            conn.execute(schema.channel_events.insert(), [
                {"channel": channel, "message_id": key, "created_at": now},
                {"channel": channel, "message_id": mine, "created_at": now}])
            return True

        try:
            return await self._write(job)
        except IntegrityError:  # another instance claimed it at the same moment: whose?
            return await self.seen_event(channel, mine)

    async def forget_event(self, channel: str, message_id: str) -> None:
        """Undo ``first_time``: the event failed, and the platform's retry must be handled."""
        ce = schema.channel_events.c

        def job(conn: Connection) -> None:
            conn.execute(schema.channel_events.delete().where(
                ce.channel == channel, ce.message_id == message_id))

        await self._write(job)

    async def active_case(self, channel: str, chat_id: str, agent_id: str) -> str | None:
        """The case an agent is working on in a chat."""
        cc = schema.channel_chats.c
        async with self.db.connect() as conn:
            return (await conn.execute(select(cc.conversation_id).where(
                cc.channel == channel, cc.chat_id == chat_id, cc.agent_id == agent_id))).scalar()

    async def set_active_case(self, channel: str, chat_id: str, agent_id: str, conv_id: str) -> None:
        """Make ``conv_id`` the agent's case in this chat (one open case per agent and chat)."""
        cc = schema.channel_chats.c

        def job(conn: Connection) -> None:
            now = datetime.now(UTC)
            res = conn.execute(update(schema.channel_chats).where(
                cc.channel == channel, cc.chat_id == chat_id, cc.agent_id == agent_id).values(
                conversation_id=conv_id, updated_at=now))
            if not res.rowcount:
                conn.execute(schema.channel_chats.insert().values(
                    channel=channel, chat_id=chat_id, agent_id=agent_id, conversation_id=conv_id,
                    updated_at=now))

        await self._write(job)

    # -- tokens -------------------------------------------------------------------------------

    async def add_token(self, name: str, role: str, shop: str) -> str:
        """Create a token; returns it (only its hash is stored)."""
        token = "csb_" + secrets.token_urlsafe(32)

        def job(conn: Connection) -> None:
            conn.execute(schema.tokens.insert().values(
                name=name, role=role, shop=shop, token_hash=hash_token(token),
                created_at=datetime.now(UTC)))

        await self._write(job)
        return token

    async def revoke_token(self, name: str) -> bool:
        """Revoke a token by name (another process's cache lets it pass until its time is up)."""
        for digest, (info, _) in list(self._tokens.items()):
            if info.name == name:
                del self._tokens[digest]

        def job(conn: Connection) -> bool:
            res = conn.execute(update(schema.tokens).where(
                schema.tokens.c.name == name, schema.tokens.c.revoked_at.is_(None)).values(
                revoked_at=datetime.now(UTC)))
            return bool(res.rowcount)

        return await self._write(job)

    async def list_tokens(self) -> list[dict[str, Any]]:
        async with self.db.connect() as conn:
            rows = (await conn.execute(select(schema.tokens).order_by(schema.tokens.c.name))).all()
        return [{"name": r.name, "role": r.role, "shop": r.shop,
                 "created_at": r.created_at.isoformat(),
                 "revoked": r.revoked_at is not None} for r in rows]

    async def live_token_hashes(self, digests: set[str]) -> set[str]:
        """Which of these token hashes are live (not revoked) now, from the database itself."""
        t = schema.tokens.c
        async with self.db.connect() as conn:
            rows = (await conn.execute(select(t.token_hash).where(
                t.token_hash.in_(sorted(digests)), t.revoked_at.is_(None)))).scalars().all()
        return set(rows)

    async def token(self, token: str, digest: str | None = None) -> TokenInfo | None:
        """The live token with this value, looked up by its hash. A token found is trusted
        for ``token_ttl`` seconds; one not found is looked up again next time (a token just
        added elsewhere works at once). ``digest``: its hash, if the caller has it."""
        digest = digest or hash_token(token)
        now = time.monotonic()
        cached = self._tokens.get(digest)
        if cached is not None and cached[1] > now:
            return cached[0]
        async with self.db.connect() as conn:
            row = (await conn.execute(select(schema.tokens).where(
                schema.tokens.c.token_hash == digest,
                schema.tokens.c.revoked_at.is_(None)))).first()
        info = TokenInfo(row.name, row.role, row.shop) if row else None
        self._tokens.pop(digest, None)
        if info is not None and self.token_ttl > 0:
            if len(self._tokens) >= _TOKENS_KEPT:
                del self._tokens[next(iter(self._tokens))]  # the oldest
            self._tokens[digest] = (info, now + self.token_ttl)
        return info


def _summary(row: Any) -> dict[str, Any]:
    conv = Conversation.model_validate_json(row.state)
    return {
        "id": row.id, "shop": row.shop, "agent": row.agent, "stage": row.stage,
        "outcome": row.outcome, "open": bool(row.is_open), "turns": row.turn,
        "flagged": bool(row.flagged), "script_version": row.script_version,
        "case": conv.case.model_dump(mode="json"),
        "supervisor_notified": conv.context.supervisor_notified,
        "callback_at": conv.context.callback_at,  # the agreed callback time (ISO), if any
        "created_at": row.created_at.isoformat(), "updated_at": row.updated_at.isoformat(),
    }


def _sync_sqlite(db: AsyncEngine, synchronous: str) -> SyncEngine:
    """The writer's own blocking engine on the same file (readers keep using aiosqlite)."""
    sync = create_engine(db.url.set(drivername="sqlite"), poolclass=StaticPool, hide_parameters=True,
                         connect_args={"check_same_thread": False, "timeout": 30})
    _sqlite_pragmas(sync, synchronous, raw_begin=True)
    return sync


def _sqlite_setup(db: AsyncEngine, synchronous: str) -> None:
    _sqlite_pragmas(db.sync_engine, synchronous)


def _sqlite_pragmas(engine: SyncEngine, synchronous: str, raw_begin: bool = False) -> None:
    # pysqlite's own transaction handling breaks savepoints: take it over (SQLAlchemy recipe).
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        if raw_begin:  # the writer's blocking pysqlite connection: straight to the driver
            conn.connection.driver_connection.execute("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")
