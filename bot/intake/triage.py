"""Triage: each review read by the understanding, each open case given an urgency and its
reasons (in Chinese), the queue sorted by them.

The urgency is a score from 0 to 100, the sum of what the issue lists, so that each factor
moves a case without any one of them hiding the others:
- the rating: 差评 40, 中评 20 (差评 first, other things equal);
- a likely malicious review (money or a benefit demanded for it): +25, with the last day of
  the 30-day complaint window; a threat to complain (platform, 12315, media): +15;
  an angry review +5;
- Taobao: the 30-day window to change a review, closing (up to +10 as it runs out); past it,
  or on Tmall (a review there cannot change), the case goes the public-explanation way;
- not contacted yet: the time since the review against the first-contact target (up to +10
  while within it; +20 and the status ``overdue`` past it);
- an agreed callback: -15 until its time, +20 once it is due;
- a case that has had its three attempts: 0 (it must not be contacted again).
Ties go to the older review.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel

from bot.intake.contact import ContactRules
from bot.labels import CAUSE_SOURCES
from bot.models import StageRef

if TYPE_CHECKING:
    from bot.labels import Labels
    from bot.script.machine import Stage

Status = Literal["waiting", "in_progress", "callback", "overdue"]
STATUSES: tuple[str, ...] = ("waiting", "in_progress", "callback", "overdue")
STATUS_LABELS = {"waiting": "待联系", "in_progress": "处理中", "callback": "待回访", "overdue": "已超时"}
CauseSource = Literal["review", "talk", "correction"]
WINDOW = timedelta(days=30)  # to change a review (Taobao), and to complain about a malicious one
_RANK = {"差评": 2, "中评": 1}


@dataclass(frozen=True, slots=True)
class Reading:
    """What the understanding read in a review's text."""

    intent: str | None = None
    cause: str | None = None
    emotion: str | None = None

    @property
    def malicious(self) -> bool:
        return self.intent == "extort"

    @property
    def threat(self) -> bool:
        return self.intent == "threaten"


_EMOTION_RANK = {"calm": 0, "upset": 1, "angry": 2}
_INTENT_RANK = {"extort": 2, "threaten": 1}


def combined(review: Reading, followup: Reading) -> Reading:
    """A review and its follow-up (追评) read as one: the stronger emotion, a demand or a threat
    in either, and the follow-up's cause when the review names none (the follow-up, written
    after living with the item, is often where the real complaint is)."""
    intent = max((review.intent, followup.intent), key=lambda i: _INTENT_RANK.get(i or "", -1)) \
        if followup.intent else review.intent
    emotion = max((review.emotion, followup.emotion), key=lambda e: _EMOTION_RANK.get(e or "", -1))
    return Reading(intent, review.cause or followup.cause, emotion)


def read_review(understander: Any, text: str | None) -> Reading:
    """The understanding of a review text (an empty review reads as nothing)."""
    if not text or not text.strip():
        return Reading()
    u = understander.buyer(text)
    return Reading(u.intent, u.cause, u.emotion)


@functools.lru_cache(maxsize=4096)
def read_typed(understander: Any, text: str | None) -> Reading:
    """``read_review`` remembered: a case typed in by hand has no stored reading, and the
    queue triages every open case on every request (the same text reads the same)."""
    return read_review(understander, text)


@dataclass(slots=True)
class ReviewRow:
    rating: str
    platform: str
    review_time: datetime | None
    reading: Reading
    explained: bool = False


@dataclass(slots=True)
class CaseView:
    """An open case as the store holds it: its row, its imported reviews, its attempts."""

    conversation_id: str
    shop: str
    agent: str | None
    stage: str
    turn: int
    state: dict[str, Any]
    created_at: datetime
    reviews: list[ReviewRow] = field(default_factory=list)
    attempts: int = 0

    @property
    def case(self) -> dict[str, Any]:
        return self.state.get("case") or {}

    @property
    def context(self) -> dict[str, Any]:
        return self.state.get("context") or {}

    @classmethod
    def of_row(cls, row: Any) -> CaseView:
        try:
            state = json.loads(row.state)
        except (TypeError, ValueError):
            state = {}
        return cls(row.id, row.shop, row.agent, row.stage, int(row.turn), state if isinstance(state, dict) else {},
                   aware(row.created_at) or datetime.now(UTC))


class CauseRef(BaseModel):
    """The case's primary cause, its Chinese name and where it came from."""

    id: str
    label: str
    source: CauseSource | None
    source_label: str | None


class QueueItem(BaseModel):
    """One case in the queue (GET /api/v1/queue, csbot queue --json)."""

    conversation_id: str
    buyer_name: str
    order_id: str | None
    product: str | None
    review_rating: str | None
    platform: str
    stage: StageRef
    status: Status
    callback_at: datetime | None
    urgency: int
    reasons: list[str]
    assigned_to: str | None
    review_time: datetime | None
    created_at: datetime
    attempts: int
    cause: CauseRef | None = None


class QueueOut(BaseModel):
    items: list[QueueItem]
    total: int


def aware(value: Any, tz: Any = UTC) -> datetime | None:
    """A datetime with a zone (SQLite gives naive UTC back; ISO text is parsed); None if not one."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo else value.replace(tzinfo=tz)


def _hours(delta: timedelta) -> str:
    h = delta.total_seconds() / 3600
    if h >= 48:
        return f"{h / 24:.0f} 天"
    return f"{h:.0f} 小时" if h >= 1 else f"{max(delta.total_seconds() / 60, 1):.0f} 分钟"


def _days(delta: timedelta) -> int:
    return max(math.ceil(delta.total_seconds() / 86400), 0)


def cause_of(ctx: Mapping[str, Any], labels: Labels | None) -> CauseRef | None:
    """The case's primary cause as the queue shows it (None while none is known)."""
    cause = ctx.get("cause")
    if not cause:
        return None
    source = ctx.get("cause_source")
    source = source if source in CAUSE_SOURCES else None
    return CauseRef(id=cause, label=labels.name("cause", cause) if labels is not None else cause,
                    source=source, source_label=CAUSE_SOURCES.get(source or ""))


def triage(view: CaseView, rules: ContactRules, now: datetime, stages: Mapping[str, Stage],
           understander: Any = None, labels: Labels | None = None) -> QueueItem:
    """A case's place in the queue: urgency, status and reasons. ``stages``: the script's,
    whose roles say which stage is a callback or a suspected extortion; ``labels``: the
    Chinese names of the causes."""
    case, ctx = view.case, view.context
    stage = stages.get(view.stage)
    roles = stage.roles if stage is not None else frozenset()
    reviews = view.reviews
    rating = max([r.rating for r in reviews] + [case.get("review_rating") or ""],
                 key=lambda x: _RANK.get(x, 0)) or None
    platform = case.get("platform") or (reviews[0].platform if reviews else "taobao")
    review_time = aware(case.get("review_time")) or min(
        (r.review_time for r in reviews if r.review_time), default=None)
    readings = [r.reading for r in reviews]
    if not readings and understander is not None:  # a case typed in by an agent
        readings = [read_typed(understander, case.get("review_text")),
                    read_typed(understander, case.get("review_followup"))]
    malicious = any(r.malicious for r in readings) or "suspects_extortion" in roles
    threat = any(r.threat for r in readings)
    angry = any(r.emotion == "angry" for r in readings)
    contacted = view.turn > 0 or view.attempts > 0
    used = view.attempts  # the case's one count (queue.used_attempts)
    callback_at = aware(ctx.get("callback_at"), rules.hours.tz)
    since = review_time or view.created_at
    elapsed = now - since
    local = rules.hours.local

    score = {2: 40, 1: 20}.get(_RANK.get(rating or "", 0), 10)
    reasons: list[str] = []  # the rating and platform are fields of their own
    if malicious:
        score += 25
        deadline = since + WINDOW
        if deadline > now:
            reasons.append(f"疑似恶意评价：不要付钱，保留聊天记录，{local(deadline):%m-%d} 前向平台投诉"
                           f"（还剩 {_days(deadline - now)} 天）")
        else:
            reasons.append("疑似恶意评价：30 天投诉期已过，保留聊天记录")
    if threat:
        score += 15
        reasons.append("评价里提到投诉或维权：请主管介入")
    if angry:
        score += 5
        reasons.append("买家情绪激动")
    followup = str(case.get("review_followup") or "").strip()
    if followup:  # the follow-up review is often where the real complaint is: the agent reads it first
        reasons.append(f"买家追评了：“{followup[:40]}{'…' if len(followup) > 40 else ''}”")
    # a review takes one reply from the shop: one posted already is not written again
    explained = bool(case.get("shop_reply")) or any(r.explained for r in reviews)
    then = "评价下已有商家回复，不用再写公开解释" if explained else "解决问题后写公开解释"
    if platform == "tmall":
        reasons.append(f"天猫评价不能修改：{then}")
    elif case.get("review_changed"):
        reasons.append(f"买家已经改过一次评价：{then}")
    elif not malicious and review_time is not None and review_time + WINDOW - now <= timedelta(0):
        score -= 10
        reasons.append(f"已过 30 天改评期：{then}")
    else:
        if not malicious and review_time is not None:
            left = review_time + WINDOW - now
            score += round(10 * (1 - left / WINDOW))
            reasons.append(f"改评期还剩 {_days(left)} 天")
        if explained:
            reasons.append("评价下已有商家回复（每条评价只能解释一次）")
    overdue = False
    if "schedules_callback" in roles:
        if callback_at is not None and callback_at <= now:
            score += 20
            reasons.append(f"约定的回访时间已到（{local(callback_at):%m-%d %H:%M}）")
        elif callback_at is not None:
            score -= 15
            reasons.append(f"已约定 {local(callback_at):%m-%d %H:%M} 回访")
        else:
            reasons.append("待回访：还没约定具体时间")
    elif not contacted:
        target = rules.first_contact
        if elapsed > target:
            overdue = True
            score += 20
            reasons.append(f"超时 {_hours(elapsed - target)}（首次联系目标：评价后 {_hours(target)}内）")
        else:
            score += round(10 * max(elapsed / target, 0))
            reasons.append(f"首次联系目标还剩 {_hours(target - elapsed)}")
    if used >= rules.max_attempts:
        score = 0
        reasons.append(f"已联系 {used} 次：不要再联系买家，记录结果后转下一条")
    elif used:
        reasons.append(f"已联系 {used} 次（最多 {rules.max_attempts} 次）")
    status: Status = ("callback" if "schedules_callback" in roles else "overdue" if overdue
                      else "in_progress" if contacted else "waiting")
    return QueueItem(
        conversation_id=view.conversation_id, buyer_name=str(case.get("buyer_name") or ""),
        order_id=case.get("order_id"), product=case.get("product"), review_rating=rating,
        platform=platform, stage=StageRef(id=view.stage, label=stage.label if stage is not None else view.stage),
        status=status, callback_at=callback_at, urgency=min(max(score, 0), 100), reasons=reasons,
        assigned_to=view.agent, review_time=review_time, created_at=view.created_at, attempts=used,
        cause=cause_of(ctx, labels))


def order(items: list[QueueItem], me: str | None = None) -> list[QueueItem]:
    """Most urgent first (older reviews first among equals); an agent's own cases before the rest."""
    far = datetime.max.replace(tzinfo=UTC)
    return sorted(items, key=lambda i: (me is not None and i.assigned_to != me, -i.urgency,
                                        i.review_time or far, i.created_at, i.conversation_id))


def matches(item: QueueItem, q: str | None) -> bool:
    """The search of the queue: buyer, order number or product contains ``q`` (any case)."""
    if not q:
        return True
    needle = q.casefold()
    return any(needle in (v or "").casefold() for v in (item.buyer_name, item.order_id, item.product))
