"""The contact rules: at most three attempts per case, quiet hours in the shop's time zone,
and the first-contact target that makes a waiting case overdue."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

AttemptKind = Literal["contact", "no_answer", "callback"]
ATTEMPT_KINDS: dict[str, str] = {"contact": "联系上了", "no_answer": "未接通/未回复", "callback": "约定回访后再联系"}

_HOURS = re.compile(r"^\s*(\d{1,2})(?::(\d{2}))?\s*[-–~至到]\s*(\d{1,2})(?::(\d{2}))?\s*$")


class RulesError(ValueError):
    """A contact-rule setting that cannot be read (the message is Chinese)."""


class TooManyAttempts(Exception):
    """The case has had its three attempts: the next one is refused."""

    def __init__(self, used: int, limit: int) -> None:
        super().__init__(f"这个案例已经联系了 {used} 次（每个评价最多 {limit} 次），不能再联系买家："
                         "反复联系就是骚扰。请记录结果（联系不上就结案为 unreachable），转下一条。")
        self.used, self.limit = used, limit


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
class ContactRules:
    """What the shop allows: the settings ``quiet_hours``, ``shop_timezone``,
    ``first_contact_hours`` and the script's ``max_attempts``."""

    quiet_start: time = time(21, 0)
    quiet_end: time = time(8, 0)
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    first_contact: timedelta = timedelta(hours=24)
    max_attempts: int = 3

    @classmethod
    def of(cls, quiet_hours: str = "21:00-08:00", timezone: str = "Asia/Shanghai",
           first_contact_hours: float = 24.0, max_attempts: int = 3) -> ContactRules:
        start, end = quiet_span(quiet_hours)
        return cls(start, end, shop_zone(timezone), timedelta(hours=first_contact_hours), max_attempts)

    @classmethod
    def from_settings(cls, settings: Any, max_attempts: int = 3) -> ContactRules:
        return cls.of(settings.quiet_hours, settings.shop_timezone, settings.first_contact_hours,
                      max_attempts)

    def local(self, at: datetime) -> datetime:
        return at.astimezone(self.tz)

    def quiet(self, at: datetime) -> bool:
        """Whether ``at`` (an aware time) falls in the quiet hours of the shop's time zone;
        a span past midnight (21:00-08:00) is the evening and the next morning."""
        now = self.local(at).time()
        if self.quiet_start == self.quiet_end:
            return False
        if self.quiet_start < self.quiet_end:
            return self.quiet_start <= now < self.quiet_end
        return now >= self.quiet_start or now < self.quiet_end

    def span(self) -> str:
        return f"{self.quiet_start:%H:%M}–{self.quiet_end:%H:%M}"

    def quiet_warning(self, at: datetime) -> str | None:
        """The warning to show before contacting a buyer at ``at``, or None."""
        if not self.quiet(at):
            return None
        return (f"现在是买家的休息时间（店铺时区 {self.tz.key} {self.local(at):%H:%M}，免打扰时段 "
                f"{self.span()}）：这时联系容易被当成骚扰，建议等到{self.next_allowed(at)}以后再联系。")

    def next_allowed(self, at: datetime) -> str:
        """When the quiet hours around ``at`` end, as the agent says it from ``at``: 今天早上8点
        at 01:00, 明天早上8点 at 22:00 (not the evening 19 hours on: the first time allowed)."""
        from bot.script.flow import spoken_time  # (the settings read this module when they load)

        now = self.local(at)
        end = now.replace(hour=self.quiet_end.hour, minute=self.quiet_end.minute, second=0, microsecond=0)
        if end <= now:
            end += timedelta(days=1)
        return spoken_time(end, now)

    def check(self, used: int, at: datetime) -> list[str]:
        """Before a contact: raises TooManyAttempts when the case has had its attempts;
        otherwise the warnings (quiet hours, the last attempt)."""
        if used >= self.max_attempts:
            raise TooManyAttempts(used, self.max_attempts)
        out = []
        warning = self.quiet_warning(at)
        if warning:
            out.append(warning)
        if used + 1 == self.max_attempts:
            out.append(f"这是最后一次联系（第 {used + 1} 次，最多 {self.max_attempts} 次）。")
        return out
