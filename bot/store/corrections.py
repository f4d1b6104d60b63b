"""Agents' corrections (issue 13.6): applied to the conversation, kept with the text, and
given back as corpus lines by `csbot corrections export`."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select, update

from bot.models import Conversation, Suggestion
from bot.store import schema
from bot.store.errors import Forbidden, NotFound

if TYPE_CHECKING:
    from bot.engine import Engine
    from bot.store.db import Store

_C, _T, _K = schema.conversations.c, schema.turns.c, schema.corrections.c


async def correct(
    store: Store, engine: Engine, conv_id: str, *, turn: int | None = None, intent: str | None = None,
    cause: str | None = None, stage: str | None = None, shop: str | None = None,
    agent: str | None = None,
) -> Suggestion:
    """Apply a correction and keep it. Raises NotFound, Forbidden, or ValueError with a
    Chinese message (nothing to correct, no such turn, unknown label)."""
    if intent is None and cause is None and stage is None:
        raise ValueError("请至少更正一项：意图（intent）、原因（cause）或阶段（stage）")
    codes = {
        "intent": engine.label_code("intent", intent) if intent is not None else None,
        "cause": engine.label_code("cause", cause) if cause is not None else None,
        "stage": engine.label_code("stage", stage) if stage is not None else None,
    }

    def job(conn: Connection) -> Suggestion:
        row = conn.execute(select(_C.shop, _C.state, _C.turn).where(_C.id == conv_id)).first()
        if row is None:
            raise NotFound(conv_id)
        if shop is not None and row.shop != shop:
            raise Forbidden(conv_id)
        conv = Conversation.model_validate_json(row.state)
        last = int(row.turn)
        wanted = last if turn is None else turn
        text, role = "", None
        understood: dict[str, Any] = {}
        if codes["intent"] is not None or codes["cause"] is not None:
            q = select(_T.turn, _T.role, _T.text, _T.suggestion).where(_T.conversation_id == conv_id)
            q = q.where(_T.turn == turn) if turn is not None else q.where(_T.role == "buyer")
            found = conn.execute(q.order_by(_T.turn.desc()).limit(1)).first()
            if found is None or found.role != "buyer":
                raise ValueError("这一轮不是买家的消息，只能更正买家消息的意图和原因" if found is not None
                                 else "还没有买家的消息可以更正：意图和原因更正的是买家说的话" if turn is None
                                 else f"没有第 {turn} 轮（这个会话现在有 {last} 轮）")
            wanted, text, role = int(found.turn), found.text, found.role
            understood = json.loads(found.suggestion).get("understanding") or {}
        elif turn is not None and not 0 <= turn <= last:
            raise ValueError(f"没有第 {turn} 轮")
        previous = None
        if last > 0:
            stored = conn.execute(select(_T.suggestion).where(
                _T.conversation_id == conv_id, _T.turn == last)).scalar()
            previous = (json.loads(stored) if stored else {}).get("understanding")
        # The flow follows an intent correction of the newest message only: an older one is
        # kept as data.
        flow_intent = codes["intent"] if wanted == last and role == "buyer" else None
        conv, sug = engine.correct(conv, intent=flow_intent, cause=codes["cause"],
                                   stage=codes["stage"], text=text,
                                   emotion=understood.get("emotion") or "calm")
        if sug.understanding is None and previous:  # the newest message's reading stays shown
            if "intent" in previous and codes["cause"] is not None and wanted == last:
                previous = {**previous, "cause": codes["cause"]}
            sug = Suggestion.model_validate({**sug.model_dump(mode="json"), "understanding": previous})
        now = datetime.now(UTC)
        # Stored as a whole corpus line: what the agent did not correct is how csbot read it.
        labelled = role == "buyer"
        conn.execute(schema.corrections.insert().values(
            conversation_id=conv_id, shop=row.shop, turn=wanted, text=text,
            intent=(codes["intent"] or understood.get("intent")) if labelled else None,
            cause=(codes["cause"] or understood.get("cause")) if labelled else None,
            emotion=understood.get("emotion") if labelled else None, stage=codes["stage"],
            agent=agent, created_at=now))
        conn.execute(update(schema.conversations).where(_C.id == conv_id).values(
            stage=conv.stage, state=conv.model_dump_json(), is_open=conv.stage != engine.script.final,
            updated_at=now))
        if last > 0:  # the newest answer is the corrected one (the sidebar reloads it)
            conn.execute(update(schema.turns).where(_T.conversation_id == conv_id, _T.turn == last)
                         .values(suggestion=sug.model_dump_json(), stage=conv.stage))
        return sug

    async with store.locks(conv_id):  # not in the middle of a turn (bot/service/turns.py)
        return await store.write(job)


async def export(store: Store, since: date | None = None, shop: str | None = None) -> list[dict[str, Any]]:
    """The corrections of buyer messages as corpus lines ``{"text","intent","cause","emotion"}``,
    oldest first (a correction of the stage alone says nothing about a line's labels)."""
    q = select(_K.conversation_id, _K.turn, _K.text, _K.intent, _K.cause, _K.emotion).where(
        _K.intent.is_not(None))
    if since is not None:
        q = q.where(_K.created_at >= datetime.combine(since, time(), UTC))
    if shop is not None:
        q = q.where(_K.shop == shop)
    async with store.db.connect() as conn:
        rows = (await conn.execute(q.order_by(_K.id))).all()
    latest: dict[tuple[str, int], dict[str, Any]] = {}  # a line corrected twice: the last word
    for r in rows:
        if r.text:
            latest.pop((r.conversation_id, r.turn), None)
            latest[r.conversation_id, r.turn] = {"text": r.text, "intent": r.intent, "cause": r.cause,
                                                 "emotion": r.emotion or "calm"}
    return list(latest.values())


__all__ = ["correct", "export"]
