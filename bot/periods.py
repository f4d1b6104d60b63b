"""Dates and periods as people here type them, read on the shop's calendar.

``parse_day``: one day (2026-05-03, 5月3日, 3号, 昨天, 前天, 周三, 上周三), for ``--order-date``, the
console's case card and ``corrections export --since``. ``parse_bound``: one end of a period for
``csbot report --since/--until`` (the days above, a time of day, 7天 / 近7天 / 最近三天 / 近一周 /
近一个月, 本周 / 上周 / 上上周, 本月 / 上个月 / 上上个月, 今年 / 去年), each a moment in time.
Core code: the channels (the console) use it from here, never the other way round."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from bot.numerals import cn_number

# Chinese numbers as a lead types them in a period (三天, 两周, 十二小时, 二十一天: bot/numerals.py)
_NUMBER = r"\d{1,4}|[一二两三四五六七八九十]{1,3}"
_UNITS = r"d|天|日|h|小时|个小时|个钟头|w|周|个星期|星期|个礼拜|礼拜|个月|月"
_AGO = re.compile(rf"^(近|最近|过去)?\s*({_NUMBER})\s*({_UNITS})(?:内|以来)?$", re.IGNORECASE)
# 本周, 上周, 上上周 (weeks start on Monday); 本月, 上个月, 上上个月; the year
_WEEK = re.compile(r"^(本|这|这个|上*)(?:个)?(?:周|星期|礼拜)$")
_MONTH = re.compile(r"^(本|这|这个|上*)(?:个)?月$")
_YEARS = {"今年": 0, "本年": 0, "去年": 1, "前年": 2}
_CLOCK = re.compile(r"^(\d{1,2})\s*(?:[:：]\s*(\d{1,2})(?:\s*[:：]\s*(\d{1,2}))?|[点时]\s*(?:(\d{1,2})\s*分?)?)$")
_SPLIT = re.compile(r"^(.+?)(?:\s+|T)(\d{1,2}\s*(?:[:：点时].*)?)$")
HINT = ("可以写 2026-12-01、2026-12-01 10:00、2026/12/01、12-01、12月1日、3号、周三、上周三；"
        "今天、昨天、前天、大前天；7天（或 7d）、24小时、最近三天、近一周、近一个月；"
        "本周、上周、上上周、本月、上个月、上上个月、今年、去年")


@dataclass(frozen=True, slots=True)
class Bound:
    """One end of a period: the moment, and how a report shows it (on the shop's clock)."""

    at: datetime
    shown: str


def _day_start(day: date, now: datetime) -> datetime:
    return datetime.combine(day, time.min, now.tzinfo)


def _shown(at: datetime, whole_day: bool) -> str:
    return f"{at:%Y-%m-%d}" if whole_day else f"{at:%Y-%m-%d %H:%M}"


def _months_back(day: date, n: int) -> date:
    """The same day ``n`` months earlier, the month's last day when it has no such day."""
    year, month = divmod(day.year * 12 + day.month - 1 - n, 12)
    month += 1
    last = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(day.day, last))


def _moment_back(now: datetime, n: int, unit: str) -> datetime:
    if unit in ("h", "小时", "个小时", "个钟头"):
        return now - timedelta(hours=n)
    if unit in ("w", "周", "个星期", "星期", "个礼拜", "礼拜"):
        return now - timedelta(weeks=n)
    if unit in ("个月", "月"):
        return datetime.combine(_months_back(now.date(), n), now.timetz())
    return now - timedelta(days=n)


def _back(which: str) -> int:
    """本 / 这 / 这个 -> 0, 上 -> 1, 上上 -> 2 …"""
    return which.count("上")


def _named(text: str, today: date) -> tuple[date, date] | None:
    """The days a named period spans, [first, after last)."""
    if (w := _WEEK.match(text)) is not None and w.group(1):  # a bare 周 names no week
        monday = today - timedelta(days=today.weekday()) - timedelta(weeks=_back(w.group(1)))
        return monday, monday + timedelta(weeks=1)
    if (m := _MONTH.match(text)) is not None and m.group(1):
        first = _months_back(today.replace(day=1), _back(m.group(1)))
        return first, _months_back(first, -1)
    if text in _YEARS:
        year = today.year - _YEARS[text]
        return date(year, 1, 1), date(year + 1, 1, 1)
    return None


_YMD = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?\s*$")
_MD = re.compile(r"^\s*(\d{1,2})\s*[月/.-]\s*(\d{1,2})\s*[日号]?\s*$")
_RELATIVE = {"今天": 0, "昨天": 1, "前天": 2, "大前天": 3}
_WEEKDAY = re.compile(r"^\s*(上*)\s*(?:周|星期|礼拜)([一二三四五六日天])\s*$")
_DAY = re.compile(r"^\s*(\d{1,2})\s*[日号]\s*$")


def _weekday(before: str, name: str, today: date) -> date:
    """周三: the last Wednesday up to today; 上周三: the Wednesday of last week (weeks start
    on Monday), 上上周三 the week before."""
    wanted = "一二三四五六日".find(name) if name != "天" else 6
    if not before:
        return today - timedelta(days=(today.weekday() - wanted) % 7)
    monday = today - timedelta(days=today.weekday())
    return monday - timedelta(weeks=len(before)) + timedelta(days=wanted)


def parse_day(text: str, today: date | None = None) -> date:
    """A date as people here write it: 2026-05-03, 2026/5/3, 2026.5.3, 2026年5月3日, 5月3日
    (this year, or last year when that is still to come), 3号, 昨天, 前天, 周三, 上周三.
    ValueError in Chinese."""
    today = today or date.today()
    s = text.strip()
    if s in _RELATIVE:
        return today - timedelta(days=_RELATIVE[s])
    week = _WEEKDAY.match(s)
    if week:
        return _weekday(week.group(1), week.group(2), today)
    m = _YMD.match(s)
    try:
        if (d := _DAY.match(s)) is not None:  # 3号: this month, or last month when still to come
            day = today.replace(day=int(d.group(1)))
            return day if day <= today else (today.replace(day=1) - timedelta(days=1)).replace(day=day.day)
        if m:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        m = _MD.match(s)
        if m:
            day = date(today.year, int(m.group(1)), int(m.group(2)))
            return day if day <= today else day.replace(year=today.year - 1)
    except ValueError:
        raise ValueError(f"没有这一天：{s}") from None
    raise ValueError(f"看不懂这个日期：“{s}”（可以写 2026-05-03、2026/5/3、5月3日、3号、昨天 或 上周三）")



def parse_bound(text: str, now: datetime, *, end: bool) -> Bound:
    """One end of a period, read on the calendar of ``now`` (aware, in the shop's time zone).

    ``end`` False (``--since``): where the period starts; True (``--until``): where it stops,
    a day or a named period included whole (``--until 12-01`` is up to 12-02 00:00), a time
    up to that minute. ``7天`` is the moment seven days before now, whichever end.
    ValueError in Chinese."""
    s = text.strip().replace("　", " ")
    today = now.date()
    if not s:
        raise ValueError(f"没有写日期。{HINT}")
    ago = _AGO.match(s)
    n = cn_number(ago.group(2)) if ago else None
    # 近三个月 / 3个月 is a span; a bare "3月" is March (a day below), 近零天 nothing
    if ago and n and (ago.group(3) != "月" or ago.group(1)):
        at = _moment_back(now, n, ago.group(3).casefold())
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
