"""One record per stored conversation: what a report needs, read with SQLAlchemy core.

The report only reads: it opens the database without creating or upgrading it (a typo in
``--db`` must not leave an empty csbot database behind), and checks that it is csbot's.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Select, and_, inspect, make_url, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.store import schema
from bot.store.connect import check_sqlite_file
from bot.store.db import async_url
from bot.store.errors import database_reason

_C, _T = schema.conversations.c, schema.turns.c
_RESOLVED = frozenset({"resolved", "review_updated"})
# Closed with the review left as it was, or by the script with no outcome recorded: solved when the
# buyer chose a remedy (the domain: the fix counts, whatever the buyer decides about the review)
_BY_REMEDY = frozenset({"review_kept", ""})


class ReportError(Exception):
    """The database cannot be read for a report (missing, unreachable, not csbot's)."""


@dataclass(frozen=True, slots=True)
class FindingRecord:
    """A guard finding on one agent message."""

    code: str
    severity: str


@dataclass(frozen=True, slots=True)
class CaseRecord:
    """One conversation as the report sees it; empty strings mean "not recorded"."""

    id: str
    shop: str
    agent: str
    stage: str  # the stage now
    last_stage: str  # where it stopped: the stage now, or for a closed case the one before closing
    outcome: str
    is_open: bool
    created_at: datetime
    cause: str
    remedy: str
    review_answer: str
    platform: str
    rating: str
    turns: int
    findings: tuple[FindingRecord, ...] = ()
    # where the cause came from: review (the imported or typed-in review), talk, correction
    cause_source: str = ""

    @property
    def resolved(self) -> bool:
        """Closed with the buyer's problem solved: ``resolved`` or ``review_updated``, or a remedy
        the buyer chose and the review kept (``review_kept``) or no outcome recorded. Whether the
        review changed is its own figure (``review_updated``), not part of this."""
        return not self.is_open and (self.outcome in _RESOLVED
                                     or (self.outcome in _BY_REMEDY and bool(self.remedy)))

    @property
    def review_updated(self) -> bool:
        """Closed with the review changed."""
        return not self.is_open and self.outcome == "review_updated"


@dataclass(frozen=True, slots=True)
class Filters:
    """Which cases a report covers: one shop, and created on or after ``since`` and on or
    before ``until``. A date is a UTC day, as the HTTP API's filters (``until`` includes it
    whole); a datetime (``csbot report``: the lead's words read on the shop's clock,
    bot/periods.py) is a moment, ``until`` excluded. ``since_shown``/``until_shown``: how the
    report names them (the date's ISO form when empty)."""

    shop: str | None = None
    since: date | datetime | None = None
    until: date | datetime | None = None
    since_shown: str = ""
    until_shown: str = ""

    def conditions(self) -> list[Any]:
        conds: list[Any] = []
        if self.shop is not None:
            conds.append(_C.shop == self.shop)
        if isinstance(self.since, datetime):
            conds.append(_C.created_at >= self.since.astimezone(UTC))
        elif self.since is not None:
            conds.append(_C.created_at >= datetime.combine(self.since, time.min, UTC))
        if isinstance(self.until, datetime):
            conds.append(_C.created_at < self.until.astimezone(UTC))
        elif self.until is not None:  # the whole day of `until`
            conds.append(_C.created_at < datetime.combine(self.until + timedelta(days=1), time.min, UTC))
        return conds


async def open_database(url: str) -> AsyncEngine:
    """An engine on an existing csbot database; raises ReportError otherwise."""
    full = async_url(url)
    try:
        parsed = make_url(full)
        shown = make_url(url).render_as_string()  # as the user wrote it, the password hidden
    except SQLAlchemyError as exc:
        raise ReportError("数据库地址格式不对：应为 sqlite:///文件 或 postgresql://用户@主机/库") from exc
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database
        if not path or path == ":memory:":
            raise ReportError("请用 --db 指定一个已有的数据库文件，例如 sqlite:///csbot.db")
        if not Path(path).is_file():
            raise ReportError(f"数据库文件不存在：{path}（可用 --db 指定，或设置 CSBOT_DATABASE_URL）")
    elif parsed.get_backend_name() != "postgresql":
        raise ReportError(f"不支持的数据库：{shown}（只支持 sqlite:/// 和 postgresql://）")
    try:
        if parsed.get_backend_name() == "sqlite":
            check_sqlite_file(full, read_only=True)  # before aiosqlite's thread (see there)
        db = create_async_engine(full)
    except (SQLAlchemyError, ImportError) as exc:
        raise ReportError(f"数据库地址不对：{shown}：{_reason(exc)}") from exc
    try:
        async with db.connect() as conn:
            ours = await conn.run_sync(_is_csbot)
    except Exception as exc:  # SQLAlchemy's errors, and the driver's own at connect (asyncpg)
        await db.dispose()
        raise ReportError(f"无法打开数据库 {shown}：{_reason(exc)}") from exc
    if not ours:
        await db.dispose()
        raise ReportError(f"这不是 csbot 的数据库（没有会话表）：{shown}")
    return db


def _is_csbot(conn: Any) -> bool:
    names = set(inspect(conn).get_table_names())
    return {"conversations", "turns", "schema_version"} <= names


def _reason(exc: BaseException) -> str:
    # SQLAlchemy's message carries the statement and a link to its docs: the first line is
    # enough, in Chinese when the driver's words are known.
    return database_reason(exc)


def _cases_query(filters: Filters) -> Select[Any]:
    last = schema.turns.alias("last_turn")
    # The stage the last message left a case on: for a case a person closed, where it stopped.
    return (select(_C.id, _C.shop, _C.agent, _C.stage, _C.outcome, _C.is_open, _C.turn, _C.state,
                   _C.created_at, last.c.stage.label("last_stage"))
            .outerjoin(last, and_(last.c.conversation_id == _C.id, last.c.turn == _C.turn))
            .where(*filters.conditions())
            .order_by(_C.created_at, _C.id))


def _findings_query(filters: Filters) -> Select[Any]:
    # The guard checks agent messages only; buyer turns carry no findings.
    return (select(_T.conversation_id, _T.suggestion)
            .join(schema.conversations, _C.id == _T.conversation_id)
            .where(_T.role == "agent", *filters.conditions()))


def findings_of(suggestion: str, compliance: AbstractSet[str] = frozenset()) -> list[FindingRecord]:
    """The guard's findings in a stored Suggestion: its warnings with a span, and those of a
    compliance code (``compliance``: defaults.yaml's finding_labels) the flow found without one
    (a second review request). A flow note, such as a request made too early, is neither."""
    warnings = json.loads(suggestion).get("warnings") or []
    kept = [w for w in warnings if w.get("span") is not None or w.get("code") in compliance]
    # one code once a turn: the guard's wording and the flow's count of requests may both see it
    return list(dict.fromkeys(FindingRecord(str(w["code"]), str(w["severity"])) for w in kept))


async def read_records(db: AsyncEngine, filters: Filters | None = None, *, initial_stage: str,
                       compliance: AbstractSet[str] = frozenset()) -> list[CaseRecord]:
    """The cases matching ``filters``, oldest first, with their guard findings.

    ``initial_stage``: where a case closed before any message stopped (the script's first stage);
    ``compliance``: the finding codes counted without a span too (see findings_of).
    """
    filters = filters or Filters()
    found: dict[str, list[FindingRecord]] = defaultdict(list)
    async with db.connect() as conn:
        # Streamed: a store holds many turns, and only the findings of each are kept.
        result = await conn.stream(_findings_query(filters))
        async for conv_id, suggestion in result:
            found[conv_id].extend(findings_of(suggestion, compliance))
        rows = (await conn.execute(_cases_query(filters))).all()
    return [_record(row, found.get(row.id, ()), initial_stage) for row in rows]


def _record(row: Any, findings: Iterable[FindingRecord], initial_stage: str) -> CaseRecord:
    # The state is read as plain JSON, not as the Conversation model: a report should
    # still read the cases an older or newer csbot stored.
    state = json.loads(row.state)
    ctx, case = state.get("context") or {}, state.get("case") or {}
    # A case closed before any message stopped where every case starts.
    last = row.stage if row.is_open else row.last_stage or initial_stage
    created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=UTC)
    return CaseRecord(
        id=row.id, shop=row.shop, agent=row.agent or "", stage=row.stage,
        last_stage=last, outcome=row.outcome or "", is_open=bool(row.is_open),
        created_at=created, cause=ctx.get("cause") or "", remedy=ctx.get("remedy_chosen") or "",
        review_answer=ctx.get("review_answer") or "", platform=case.get("platform") or "",
        rating=case.get("review_rating") or "", turns=int(row.turn), findings=tuple(findings),
        # a case stored before the source was kept had its cause from the talk
        cause_source=(ctx.get("cause_source") or "talk") if ctx.get("cause") else "")
