"""The ends of a period as a team lead types them (``csbot report --since/--until``):
2026-12-01, 2026-12-01 10:00, 2026/12/01, 12-01, 12月1日, 7d / 7天 / 近7天, 昨天, 本周, 本月…
read on the shop's calendar (its time zone), each a moment in time."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

_AGO = re.compile(r"^(?:近|最近|过去)?\s*(\d{1,4})\s*(d|天|日|h|小时|个小时|w|周|个星期|星期)(?:内|以来)?$",
                  re.IGNORECASE)
_CLOCK = re.compile(r"^(\d{1,2})\s*(?:[:：]\s*(\d{1,2})(?:\s*[:：]\s*(\d{1,2}))?|[点时]\s*(?:(\d{1,2})\s*分?)?)$")
_SPLIT = re.compile(r"^(.+?)(?:\s+|T)(\d{1,2}\s*(?:[:：点时].*)?)$")
HINT = "可以写 2026-12-01、2026-12-01 10:00、2026/12/01、12-01、12月1日、7天（或 7d）、昨天、本周、本月"


@dataclass(frozen=True, slots=True)
class Bound:
    """One end of a period: the moment, and how a report shows it (on the shop's clock)."""

    at: datetime
    shown: str


def _day_start(day: date, now: datetime) -> datetime:
    return datetime.combine(day, time.min, now.tzinfo)


def _shown(at: datetime, whole_day: bool) -> str:
    return f"{at:%Y-%m-%d}" if whole_day else f"{at:%Y-%m-%d %H:%M}"


def _named(text: str, today: date) -> tuple[date, date] | None:
    """The days a named period spans, [first, after last)."""
    monday = today - timedelta(days=today.weekday())
    first = today.replace(day=1)
    next_month = (first + timedelta(days=32)).replace(day=1)
    last_month = (first - timedelta(days=1)).replace(day=1)
    periods = {
        "本周": (monday, monday + timedelta(weeks=1)), "这周": (monday, monday + timedelta(weeks=1)),
        "上周": (monday - timedelta(weeks=1), monday),
        "本月": (first, next_month), "这个月": (first, next_month), "上月": (last_month, first),
        "上个月": (last_month, first),
    }
    return periods.get(text)


def parse_bound(text: str, now: datetime, *, end: bool) -> Bound:
    """One end of a period, read on the calendar of ``now`` (aware, in the shop's time zone).

    ``end`` False (``--since``): where the period starts; True (``--until``): where it stops,
    a day or a named period included whole (``--until 12-01`` is up to 12-02 00:00), a time
    up to that minute. ``7天`` is the moment seven days before now, whichever end.
    ValueError in Chinese."""
    from bot.channels.console import parse_day

    s = text.strip().replace("　", " ")
    today = now.date()
    if not s:
        raise ValueError(f"没有写日期。{HINT}")
    ago = _AGO.match(s)
    if ago:
        n, unit = int(ago.group(1)), ago.group(2).casefold()
        delta = (timedelta(hours=n) if unit in ("h", "小时", "个小时")
                 else timedelta(weeks=n) if unit in ("w", "周", "个星期", "星期") else timedelta(days=n))
        at = now - delta
        return Bound(at, _shown(at, False))
    named = _named(s, today)
    if named is not None:
        day = named[1] if end else named[0]
        return Bound(_day_start(day, now), _shown(_day_start(named[1] - timedelta(days=1) if end else day, now),
                                                  True))
    clock: tuple[int, int, int] | None = None
    split = _SPLIT.match(s)
    day_text = s
    if split is not None and (c := _CLOCK.match(split.group(2).strip())) is not None:
        day_text = split.group(1).strip()
        h, mi, sec = c.group(1), c.group(2) or c.group(4), c.group(3)
        clock = (int(h), int(mi or 0), int(sec or 0))
    try:
        day = parse_day(day_text, today)
    except ValueError as exc:
        if str(exc).startswith("没有这一天"):
            raise ValueError(f"{exc}。{HINT}") from None
        raise ValueError(f"看不懂“{text.strip()[:30]}”：{HINT}") from None
    if clock is None:
        at = _day_start(day + timedelta(days=1) if end else day, now)
        return Bound(at, _shown(_day_start(day, now), True))
    try:
        at = datetime.combine(day, time(*clock), now.tzinfo)
    except ValueError:
        raise ValueError(f"没有这个时间：“{split.group(2) if split else s}”。{HINT}") from None
    return Bound(at, _shown(at, False))
