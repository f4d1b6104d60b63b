"""The purge: the text of cases closed more than N days ago goes (what the buyer and the
agent wrote, the review, the buyer's name and order number); the figures `csbot report`
reads stay (stages, outcome, cause, remedy, the review's rating and platform, the guard's
findings by code and severity, the attempts)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select, update

from bot.intake import tables
from bot.store import schema
from bot.store.db import Store

_C, _T, _R = schema.conversations.c, schema.turns.c, tables.reviews.c
PURGED_NAME = "已清除"
_BATCH = 200


def _state(raw: str) -> str:
    state = json.loads(raw)
    case = state.get("case") or {}
    if case.get("buyer_name") == PURGED_NAME:
        return raw
    case.update(buyer_name=PURGED_NAME, honorific="", buyer_id=None, order_id=None, review_text=None,
                review_followup=None, shop_reply=None)
    state["case"] = case
    state["last_templates"] = []
    return json.dumps(state, ensure_ascii=False)


def _suggestion(raw: str) -> str:
    sug = json.loads(raw)
    u = sug.get("understanding")
    if isinstance(u, dict):
        u["text"] = ""
    sug["suggestions"] = []
    sug["remedies"] = []
    sug["public_reply"] = None
    return json.dumps(sug, ensure_ascii=False)


def _job(ids: list[str]) -> Any:
    def job(conn: Connection) -> int:
        for row in conn.execute(select(_C.id, _C.state).where(_C.id.in_(ids))).all():
            conn.execute(update(schema.conversations).where(_C.id == row.id).values(
                state=_state(row.state), buyer_key=f"{PURGED_NAME}:{row.id}"))
        for turn in conn.execute(select(_T.conversation_id, _T.turn, _T.suggestion).where(
                _T.conversation_id.in_(ids), _T.text != "")).all():
            conn.execute(update(schema.turns).where(_T.conversation_id == turn.conversation_id,
                                                    _T.turn == turn.turn).values(
                text="", suggestion=_suggestion(turn.suggestion)))
        conn.execute(update(tables.reviews).where(_R.conversation_id.in_(ids)).values(review_text=None))
        return len(ids)

    return job


async def stale(store: Store, days: int, now: datetime | None = None) -> list[str]:
    """The closed cases last changed more than ``days`` days ago whose text is still there."""
    cutoff = (now or datetime.now(UTC)) - timedelta(days=days)
    async with store.db.connect() as conn:
        rows = (await conn.execute(select(_C.id).where(
            ~_C.is_open, _C.updated_at < cutoff, ~_C.buyer_key.startswith(f"{PURGED_NAME}:")))).all()
    return [r.id for r in rows]


async def purge(store: Store, days: int, now: datetime | None = None) -> int:
    """Remove the text of closed cases older than ``days`` days; returns how many cases."""
    ids = await stale(store, days, now)
    for i in range(0, len(ids), _BATCH):
        await store.write(_job(ids[i:i + _BATCH]))
    return len(ids)
