"""Conversations and their turns: the repository the turn service loads from and saves to.

``TurnRepository`` is the small interface the turn service needs (bot/service/turns.py);
``ConversationStore`` implements it over SQLAlchemy Core, every statement written once for
both databases. The PostgreSQL store adds a notification to other instances inside the
turn's transaction (bot/store/db.py).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import NamedTuple, Protocol

from sqlalchemy import Connection, and_, bindparam, func, select, update

from bot.models import Case, Conversation, Suggestion
from bot.store import schema
from bot.store.base import Database
from bot.store.errors import Forbidden, NotFound, Stale
from bot.store.mask import mask, mask_id
from bot.store.statement import JsonText, Statement, json_bytes
from bot.store.views import ConversationSummary, TurnOut

_C, _T = schema.conversations.c, schema.turns.c

# A conversation (its row's shop, open flag, turn, stage and state) and, for a repeated
# message id, the answer stored for it: one read. Without a message id the turns table is
# not touched (its index pages are more reads, and each commit empties the reader's cache).
_ROW = (_C.shop, _C.is_open, _C.turn, _C.stage, _C.state)
_LOAD = Statement(select(*_ROW).where(_C.id == bindparam("cid")))
_LOAD_ANSWERED = Statement(select(*_ROW, _T.suggestion)
         .select_from(schema.conversations.outerjoin(schema.turns, and_(
             _T.conversation_id == _C.id, _T.message_id == bindparam("mid"))))
         .where(_C.id == bindparam("cid")))
# A turn's two writes, built once: the values come as parameters, so SQLAlchemy compiles
# each statement once (``.values(...)`` with the values in it built a new cache key per turn,
# which cost more than Engine.feed).
_INSERT_TURN = Statement(schema.turns.insert().values(suggestion=bindparam("suggestion", type_=JsonText())), [
    "conversation_id", "turn", "role", "text", "message_id", "stage", "suggestion", "created_at"])
# A save writes only over the row it was computed from: every column a load reads (the shop
# never changes) still holds what the load saw, or nothing is written (``Stale``). So a
# change made meanwhile by anyone (another instance, a command, a correction) is never
# overwritten, and no other writer has anything to remember.
_UNCHANGED = and_(_C.id == bindparam("cid"), _C.turn == bindparam("was_turn"),
                  _C.stage == bindparam("was_stage"), _C.is_open == bindparam("was_open"),
                  _C.state == bindparam("was_state", type_=JsonText()))
_STATE = {"state": bindparam("state", type_=JsonText())}  # the state's JSON, as bytes (JsonText)
_UPDATE_STATE = Statement(update(schema.conversations).where(_UNCHANGED).values(_STATE), [
    "stage", "turn", "state", "updated_at", "script_version", "is_open", "outcome"])
# Most turns leave the stage and the open flag as they were: writing them all the same made
# the database rewrite their index entries (the stage index, the open-case index), about as
# much as the rest of the UPDATE.
_UPDATE_STATE_ONLY = Statement(update(schema.conversations).where(_UNCHANGED).values(_STATE), [
    "turn", "state", "updated_at", "script_version", "outcome"])
_LAST_SUGGESTION = (select(_T.suggestion).where(_T.conversation_id == bindparam("cid"))
                    .order_by(_T.turn.desc()).limit(1))


class Stored(NamedTuple):  # a NamedTuple, as the turn's other records (bot/service/turns.py)
    """A conversation as loaded: its row's shop, open flag, turn and stage, and its state
    (decoded, and the text the row holds as UTF-8, which the save checks is still there)."""

    shop: str
    is_open: bool
    turn: int
    stage: str
    conversation: Conversation
    state: bytes
    answered: Suggestion | None = None  # the answer already stored for this message id


class TurnRecord(NamedTuple):
    """One turn as stored: masked text and the masked Suggestion."""

    conversation_id: str
    turn: int
    role: str
    text: str
    message_id: str | None
    stage: str
    suggestion: Suggestion
    suggestion_json: bytes  # the same, encoded once (UTF-8 JSON: the database's and the reply's)


@dataclass(frozen=True, slots=True)
class CaseKey:
    """What makes a case the same one: shop, buyer and order (personal data hashed)."""

    shop: str
    buyer: str
    order: str

    @classmethod
    def of(cls, case: Case) -> CaseKey:
        order = case.order_id or ""
        return cls(case.shop, buyer_key(case), _kept_key(order, mask_id(order)))


def buyer_key(case: Case) -> str:
    """What tells one buyer from another in a shop: the id, else the name. One with personal
    data in it (``tb_lilei_13812345678``) is kept as its hash, so that buyers still differ
    and the phone number is not stored in the clear."""
    key = case.buyer_id or case.buyer_name
    return _kept_key(key, mask_id(key) if case.buyer_id else mask(key))


def _kept_key(key: str, masked: str) -> str:
    return key if masked == key else "sha256:" + hashlib.sha256(key.encode("utf-8")).hexdigest()


class TurnRepository(Protocol):
    """Where the turn service keeps conversations (Rasa's tracker store, in its shape)."""

    async def load(self, conv_id: str, message_id: str | None = None, *, kept: bool = False) -> Stored:
        """The conversation (raises NotFound) and the answer to a repeated message id.
        ``kept``: the conversation as this store's last turn saved it, if it has it, without
        reading (the save finds out whether the row is still that one)."""

    async def save(self, conv: Conversation, *, is_open: bool, loaded: Stored,
                   turn: TurnRecord | None = None) -> bool:
        """Write the conversation's new state and, for a turn, the turn: committed on return.
        ``loaded`` is what the change was computed from: False, and nothing written, when
        the row no longer holds it (written elsewhere since)."""

    async def flag(self, conv_id: str) -> None:
        """Mark the conversation for a person (its stage vanished from the script)."""

    async def open_case(
        self, key: CaseKey, start: Callable[[str], tuple[Conversation, Suggestion]], agent: str | None,
    ) -> tuple[Conversation, Suggestion | None, bool]:
        """The open case with this key and its newest Suggestion (None before any turn), or a
        new one made by ``start(new_id)``; and whether it was made now."""

    async def last_suggestion(self, conv_id: str) -> Suggestion | None:
        """The newest stored Suggestion (None before any turn)."""


class Decoded:
    """The conversations this store's turns saved, decoded, as they were saved.

    A turn starts from the one kept here instead of reading the row and decoding its state
    (the read and the JSON cost about a sixth of a turn): its save then writes only if the
    row is still the one saved here (``_UNCHANGED``), so a change made elsewhere meanwhile
    sends the turn back to a fresh read. A load takes the entry out: the turn that loaded it
    changes the object in place, and nobody else holds it. Bounded: the oldest go first.
    """

    def __init__(self, size: int = 1024) -> None:
        self.size = size
        self._items: dict[str, Stored] = {}

    def take(self, conv_id: str) -> Stored | None:
        return self._items.pop(conv_id, None)

    def keep(self, stored: Stored) -> None:
        if len(self._items) >= self.size:
            del self._items[next(iter(self._items))]
        self._items[stored.conversation.id] = stored


class ConversationStore(Database):
    """Conversations and turns over SQLAlchemy Core (the same statements on both databases)."""

    decoded: Decoded

    async def load(self, conv_id: str, message_id: str | None = None, *, kept: bool = False) -> Stored:
        held = self.decoded.take(conv_id)
        if kept and held is not None and message_id is None:  # a message id is looked up: a read
            return held
        if message_id is None:
            row = await self.read(lambda conn: _LOAD.run(conn, {"cid": conv_id}))
        else:
            row = await self.read(lambda conn: _LOAD_ANSWERED.run(conn, {"cid": conv_id, "mid": message_id}))
        if row is None:
            raise NotFound(conv_id)
        shop, is_open, turn, stage, text, *answered = row
        state = text.encode()
        # The row as this store saved it: the object kept is its decoding, without the JSON.
        conv = held.conversation if held is not None and held.state == state else \
            Conversation.model_validate_json(state)
        return Stored(shop, bool(is_open), turn, stage, conv, state,
                      Suggestion.model_validate_json(answered[0]) if answered and answered[0] else None)

    async def save(self, conv: Conversation, *, is_open: bool, loaded: Stored,
                   turn: TurnRecord | None = None) -> bool:
        """A turn's conversation is kept decoded (the turn service hands it to nobody else)."""
        try:
            state = await self.write(lambda conn: self._save(conn, conv, is_open, turn, loaded))
        except Stale:
            return False
        if turn is not None:
            self.decoded.keep(Stored(loaded.shop, is_open, conv.turn, conv.stage, conv, state))
        return True

    def _save(self, conn: Connection, conv: Conversation, is_open: bool, turn: TurnRecord | None,
              loaded: Stored) -> bytes:
        now = datetime.now(UTC)
        state = json_bytes(conv)
        same = loaded.stage == conv.stage and loaded.is_open == is_open
        written = (_UPDATE_STATE_ONLY if same else _UPDATE_STATE).count(conn, {
            "cid": conv.id, "stage": conv.stage, "turn": conv.turn, "state": state,
            "updated_at": now, "script_version": conv.script_version, "is_open": is_open,
            "outcome": conv.outcome, "was_turn": loaded.turn, "was_stage": loaded.stage,
            "was_open": loaded.is_open, "was_state": loaded.state})
        if not written:  # raised, so the job is rolled back (bot/store/writer.py): nothing of it stays
            raise Stale(conv.id)
        if turn is not None:
            _INSERT_TURN.run(conn, {
                "conversation_id": turn.conversation_id, "turn": turn.turn, "role": turn.role,
                "text": turn.text, "message_id": turn.message_id, "stage": turn.stage,
                "suggestion": turn.suggestion_json, "created_at": now})
        return state

    async def flag(self, conv_id: str) -> None:
        await self.write(lambda conn: conn.execute(
            update(schema.conversations).where(_C.id == conv_id).values(flagged=True)))

    async def open_case(
        self, key: CaseKey, start: Callable[[str], tuple[Conversation, Suggestion]], agent: str | None,
    ) -> tuple[Conversation, Suggestion | None, bool]:
        def job(conn: Connection) -> tuple[Conversation, Suggestion | None, bool]:
            row = conn.execute(select(_C.state).where(
                _C.shop == key.shop, _C.buyer_key == key.buyer, _C.order_key == key.order,
                _C.is_open)).first()
            if row is not None:
                conv = Conversation.model_validate_json(row.state)
                last = conn.execute(_LAST_SUGGESTION, {"cid": conv.id}).scalar()
                return conv, Suggestion.model_validate_json(last) if last else None, False
            conv, sug = start(str(uuid.uuid4()))
            now = datetime.now(UTC)
            conn.execute(schema.conversations.insert().values(
                id=conv.id, shop=key.shop, buyer_key=key.buyer, order_key=key.order,
                agent=agent or conv.case.agent, stage=conv.stage, outcome=None, is_open=True, turn=0,
                script_version=conv.script_version, state=conv.model_dump_json(),
                created_at=now, updated_at=now, flagged=False))
            return conv, sug, True

        return await self.write(job)

    async def last_suggestion(self, conv_id: str) -> Suggestion | None:
        async with self.db.connect() as conn:
            raw = (await conn.execute(_LAST_SUGGESTION, {"cid": conv_id})).scalar()
        return Suggestion.model_validate_json(raw) if raw else None

    async def suggestion(self, conv_id: str, turn: int) -> Suggestion | None:
        """The stored Suggestion of one turn."""
        async with self.db.connect() as conn:
            raw = (await conn.execute(select(_T.suggestion).where(
                _T.conversation_id == conv_id, _T.turn == turn))).scalar()
        return Suggestion.model_validate_json(raw) if raw else None

    # -- reading for people: the API's lists and details ------------------------------

    async def get(self, conv_id: str, shop: str | None = None) -> tuple[ConversationSummary, list[TurnOut]]:
        """A conversation and its turns, in one read (NotFound, Forbidden for another shop's)."""
        async with self.db.connect() as conn:
            row = (await conn.execute(select(schema.conversations).where(_C.id == conv_id))).first()
            if row is None:
                raise NotFound(conv_id)
            if shop is not None and row.shop != shop:
                raise Forbidden(conv_id)
            turns = (await conn.execute(select(schema.turns).where(_T.conversation_id == conv_id)
                                        .order_by(_T.turn))).all()
        return ConversationSummary.of_row(row), [TurnOut.of_row(r) for r in turns]

    async def find(
        self, *, shop: str | None, stage: str | None = None, outcome: str | None = None,
        agent: str | None = None, since: date | None = None, until: date | None = None,
        limit: int = 50, offset: int = 0,
    ) -> tuple[int, list[ConversationSummary]]:
        """Conversations matching the filters, newest first, with the total count."""
        conds = []
        if shop is not None:
            conds.append(_C.shop == shop)
        if stage:
            conds.append(_C.stage == stage)
        if outcome:
            conds.append(_C.outcome == outcome)
        if agent:
            conds.append(_C.agent == agent)
        if since:
            conds.append(_C.created_at >= datetime.combine(since, datetime.min.time(), UTC))
        if until:
            conds.append(_C.created_at < datetime.combine(until, datetime.max.time(), UTC))
        async with self.db.connect() as conn:
            total = (await conn.execute(select(func.count()).select_from(
                schema.conversations).where(*conds))).scalar() or 0
            rows = (await conn.execute(select(schema.conversations).where(*conds)
                                       .order_by(_C.created_at.desc(), _C.id)
                                       .limit(limit).offset(offset))).all()
        return int(total), [ConversationSummary.of_row(r) for r in rows]

    async def count_open(self) -> int:
        async with self.db.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(
                schema.conversations).where(_C.is_open))).scalar() or 0)


__all__ = ["CaseKey", "ConversationStore", "Decoded", "Stored", "TurnRecord", "TurnRepository", "buyer_key"]
