"""The quiet hours: when a buyer is not to be contacted, in the shop's time zone. The one
place that decides it, for the contact queue (bot/intake/contact.py) and for the guard's
note on an agent's message (bot/guard/policy.py); the settings ``quiet_hours`` and
``shop_timezone`` say the hours and the zone."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_HOURS = re.compile(r"^\s*(\d{1,2})(?::(\d{2}))?\s*[-–~至到]\s*(\d{1,2})(?::(\d{2}))?\s*$")


class RulesError(ValueError):
    """A contact-rule setting that cannot be read (the message is Chinese)."""


def _clock(hour: str, minute: str | None, raw: str) -> time:
    h, m = int(hour), int(minute or 0)
    if h == 24 and m == 0:
        h = 0
    if not (0 <= h < 24 and 0 <= m < 60):
        raise RulesError(f"免打扰时段写法不对：“{raw}”（时间应在 00:00 到 23:59 之间）")
    return time(h, m)


def quiet_span(quiet_hours: str) -> tuple[time, time]:
    """The quiet hours written as 21:00-08:00 (or 21-8, 21:00至08:00); RulesError otherwise.
    The settings check the value with this when they load (bot/settings.py)."""
    m = _HOURS.match(quiet_hours)
    if m is None:
        raise RulesError(f"免打扰时段写法不对：“{quiet_hours}”，应写成 21:00-08:00")
    return _clock(m[1], m[2], quiet_hours), _clock(m[3], m[4], quiet_hours)


def shop_zone(timezone: str) -> ZoneInfo:
    """The shop's time zone by its IANA name (Asia/Shanghai); RulesError otherwise."""
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise RulesError(f"不认识的时区：“{timezone}”，应写成 Asia/Shanghai 这样的时区名") from None


@dataclass(frozen=True, slots=True)
class QuietHours:
    """The quiet hours of a shop: from ``start`` to ``end`` in the zone ``tz``."""

    start: time = time(21, 0)
    end: time = time(8, 0)
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))

    @classmethod
    def of(cls, quiet_hours: str = "21:00-08:00", timezone: str = "Asia/Shanghai") -> QuietHours:
        return cls(*quiet_span(quiet_hours), shop_zone(timezone))

    @classmethod
    def from_settings(cls, settings: Any) -> QuietHours:
        return cls.of(settings.quiet_hours, settings.shop_timezone)

    def local(self, at: datetime) -> datetime:
        """``at`` in the shop's time zone; a naive time already is the shop's (the service's
        clock, bot/service/turns.py shop_clock), not the server's."""
        return at.replace(tzinfo=self.tz) if at.tzinfo is None else at.astimezone(self.tz)

    def quiet(self, at: datetime) -> bool:
        """Whether ``at`` falls in the quiet hours of the shop's time zone; a span past
        midnight (21:00-08:00) is the evening and the next morning."""
        now = self.local(at).time()
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= now < self.end
        return now >= self.start or now < self.end

    def span(self) -> str:
        """21:00–08:00"""
        return f"{self.start:%H:%M}–{self.end:%H:%M}"

    def said(self) -> str:
        """The quiet hours as a sentence says them: 21:00 以后或 8:00 以前."""
        return f"{self.start.hour}:{self.start.minute:02d} 以后或 {self.end.hour}:{self.end.minute:02d} 以前"

    def next_allowed(self, at: datetime) -> str:
        """When the quiet hours around ``at`` end, as the agent says it from ``at``: 今天早上8点
        at 01:00, 明天早上8点 at 22:00 (not the evening 19 hours on: the first time allowed)."""
        from bot.script.flow import spoken_time  # (the settings read this module when they load)

        now = self.local(at)
        end = now.replace(hour=self.end.hour, minute=self.end.minute, second=0, microsecond=0)
        if end <= now:
            end += timedelta(days=1)
        return spoken_time(end, now)
