"""The work queue over the store: open cases with their reviews and attempts, triaged and
ordered; assignment; contact attempts."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select, update

from bot.intake import tables
from bot.intake.contact import ContactRules, TooManyAttempts
from bot.intake.triage import CaseView, QueueItem, Reading, ReviewRow, aware, matches, order, triage
from bot.models import attempts_made
from bot.store import schema
from bot.store.db import Store
from bot.store.errors import Forbidden, NotFound

if TYPE_CHECKING:
    from bot.engine import Engine
    from bot.labels import Labels
    from bot.script.machine import Stage

_C, _R = schema.conversations.c, tables.reviews.c


@dataclass(frozen=True, slots=True)
class QueueQuery:
    shop: str | None = None  # None: every shop (an admin)
    q: str | None = None
    status: str | None = None
    me: str | None = None  # the agent asking: their own cases first
    mine: bool = False  # only the agent's own cases
    limit: int = 200
    offset: int = 0


async def open_cases(store: Store, shop: str | None) -> list[CaseView]:
    """Every open case of a shop (all shops for None), with imported reviews and attempts."""
    conds: list[Any] = [_C.is_open]
    if shop is not None:
        conds.append(_C.shop == shop)
    async with store.db.connect() as conn:
        rows = (await conn.execute(select(_C.id, _C.shop, _C.agent, _C.stage, _C.turn, _C.state,
                                          _C.created_at).where(*conds))).all()
        reviews = (await conn.execute(
            select(_R.conversation_id, _R.rating, _R.platform, _R.review_time, _R.intent, _R.cause,
                   _R.emotion, _R.explained_at)
            .join(schema.conversations, _C.id == _R.conversation_id).where(*conds))).all()
    by_case: dict[str, list[ReviewRow]] = defaultdict(list)
    for r in reviews:
        by_case[r.conversation_id].append(ReviewRow(
            r.rating, r.platform, aware(r.review_time), Reading(r.intent, r.cause, r.emotion),
            r.explained_at is not None))
    views = []
    for row in rows:
        view = CaseView.of_row(row)
        view.reviews = by_case.get(row.id, [])
        view.attempts = used_attempts(view.turn, view.state)
        views.append(view)
    return views


def build(views: list[CaseView], rules: ContactRules, now: datetime, stages: Mapping[str, Stage],
          understander: Any, query: QueueQuery, labels: Labels | None = None) -> tuple[int, list[QueueItem]]:
    """Triage, filter and order (CPU work: the service runs it off the event loop)."""
    items = [triage(v, rules, now, stages, understander, labels) for v in views]
    items = [i for i in items if matches(i, query.q)
             and (query.status is None or i.status == query.status)
             and (not query.mine or i.assigned_to == query.me)]
    items = order(items, query.me)
    return len(items), items[query.offset:query.offset + query.limit]


async def queue(store: Store, engine: Engine, rules: ContactRules, query: QueueQuery,
                now: datetime | None = None) -> tuple[int, list[QueueItem]]:
    """The queue: (total matching, the page asked for); ``engine``: the turn service's
    (its script's stages, its understanding for cases typed in by hand)."""
    views = await open_cases(store, query.shop)
    return await asyncio.to_thread(build, views, rules, now or datetime.now(UTC), engine.script.stages,
                                   engine.understand, query, engine.labels)


def _counted(state: str | dict[str, Any]) -> int:
    """The case's one count of attempts (``Context.attempts``) in its stored state."""
    try:
        data = json.loads(state) if isinstance(state, str) else state
        return int((data.get("context") or {}).get("attempts") or 1)
    except (ValueError, TypeError, AttributeError):
        return 1


def used_attempts(turn: int, state: str | dict[str, Any]) -> int:
    """The attempts a case has had: the case's own count, the one the script enforces (a
    callback resumed) and the queue adds to (an attempt recorded): bot.models.attempts_made."""
    return attempts_made(turn, _counted(state))


def _case_row(conn: Connection, conv_id: str, shop: str | None) -> Any:
    row = conn.execute(select(_C.id, _C.shop, _C.agent, _C.is_open, _C.turn, _C.state)
                       .where(_C.id == conv_id)).first()
    if row is None:
        raise NotFound(conv_id)
    if shop is not None and row.shop != shop:
        raise Forbidden(conv_id)
    return row


class Taken(Exception):
    """An agent tried to take a case another agent holds."""

    def __init__(self, holder: str) -> None:
        super().__init__(f"这个案例已经分配给 {holder}，请让管理员改派")
        self.holder = holder


async def assign(store: Store, conv_id: str, agent: str | None, *, shop: str | None,
                 by: str | None = None) -> str | None:
    """Assign a case: an admin to ``agent`` (None: unassign); an agent (``by``) takes it for
    themselves when it is free or already theirs. Returns the new holder."""

    def job(conn: Connection) -> str | None:
        row = _case_row(conn, conv_id, shop)
        if by is not None and row.agent not in (None, "", by):
            raise Taken(row.agent)
        holder = by if by is not None else agent
        conn.execute(update(schema.conversations).where(_C.id == conv_id).values(
            agent=holder, updated_at=datetime.now(UTC)))
        return holder

    return await store.write(job)


async def attempts_of(store: Store, conv_id: str, shop: str | None) -> tuple[int, Any]:
    """The attempts a case has had, and its row."""
    async with store.db.connect() as conn:
        row = (await conn.execute(select(_C.id, _C.shop, _C.is_open, _C.turn, _C.state)
                                  .where(_C.id == conv_id))).first()
        if row is None:
            raise NotFound(conv_id)
        if shop is not None and row.shop != shop:
            raise Forbidden(conv_id)
    return used_attempts(row.turn, row.state), row


async def check_contact(store: Store, rules: ContactRules, conv_id: str, shop: str | None,
                        at: datetime | None = None) -> tuple[int, list[str]]:
    """Before a contact: (attempts so far, warnings); raises TooManyAttempts for a fourth (not
    for the call a `/恢复` has counted already: that one is no new attempt)."""
    used, row = await attempts_of(store, conv_id, shop)
    when = at or datetime.now(UTC)
    if _unpaired(row.state) == "resume":
        return used, [w for w in [rules.quiet_warning(when)] if w]
    return used, rules.check(used, when)


def _unpaired(state: str) -> str | None:
    try:
        return (json.loads(state).get("context") or {}).get("attempt_unpaired")
    except (ValueError, TypeError, AttributeError):
        return None


async def record_attempt(store: Store, rules: ContactRules, conv_id: str, kind: str, *,
                         shop: str | None, agent: str | None,
                         at: datetime | None = None) -> tuple[int, list[str]]:
    """Record one contact attempt (checked in the same transaction: two agents at once
    cannot make a fourth). Returns (attempts now, warnings); raises TooManyAttempts."""
    when = (at or datetime.now(UTC)).astimezone(UTC)  # stored as UTC (SQLite drops the zone)

    def job(conn: Connection) -> tuple[int, list[str]]:
        row = _case_row(conn, conv_id, shop)
        if not row.is_open:
            from bot.engine import ConversationClosed

            raise ConversationClosed("这个会话已经结束，不能再记录联系")
        if not store.sqlite:  # serialise attempts on one case across instances
            conn.execute(select(_C.id).where(_C.id == conv_id).with_for_update())
        used = used_attempts(row.turn, row.state)
        # the attempt is counted where the script counts it, in the case's state (a turn saved
        # from the state read before this sees it changed and is worked out again); the log row
        # says who and when. A call that reached the buyer right after `/恢复` is the contact the
        # resume counted already (Context.attempt_unpaired): logged, not counted again
        state = json.loads(row.state)
        ctx = state.setdefault("context", {})
        reached = kind != "no_answer"
        if reached and ctx.get("attempt_unpaired") == "resume":
            ctx["attempt_unpaired"] = None
            warnings, now = [w for w in [rules.quiet_warning(when)] if w], used
        else:
            warnings, now = rules.check(used, when), used + 1
            ctx["attempts"] = _counted(state) + 1
            # the first call before any message is the conversation to come; a later one that
            # reached the buyer is joined by the `/恢复` that follows it
            ctx["attempt_unpaired"] = ("first" if row.turn <= 0 else "log") if reached else None
        conn.execute(update(schema.conversations).where(_C.id == conv_id).values(
            state=json.dumps(state, ensure_ascii=False), updated_at=datetime.now(UTC)))
        conn.execute(tables.attempts.insert().values(conversation_id=conv_id, kind=kind, agent=agent, at=when))
        return now, warnings

    return await store.write(job)


__all__ = ["QueueQuery", "Taken", "TooManyAttempts", "assign", "check_contact", "open_cases", "queue",
           "record_attempt"]
