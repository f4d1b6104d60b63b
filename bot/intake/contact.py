"""The contact rules: at most three attempts per case, quiet hours in the shop's time zone,
and the first-contact target that makes a waiting case overdue."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from bot.quiet import QuietHours

AttemptKind = Literal["contact", "no_answer", "callback"]
ATTEMPT_KINDS: dict[str, str] = {"contact": "联系上了", "no_answer": "未接通/未回复", "callback": "约定回访后再联系"}


class TooManyAttempts(Exception):
    """The case has had its three attempts: the next one is refused."""

    def __init__(self, used: int, limit: int) -> None:
        super().__init__(f"这个案例已经联系了 {used} 次（每个评价最多 {limit} 次），不能再联系买家："
                         "反复联系就是骚扰。请记录结果（联系不上就结案为 unreachable），转下一条。")
        self.used, self.limit = used, limit


@dataclass(frozen=True, slots=True)
class ContactRules:
    """What the shop allows: the settings ``quiet_hours``, ``shop_timezone``,
    ``first_contact_hours`` and the script's ``max_attempts``."""

    hours: QuietHours = field(default_factory=QuietHours)
    first_contact: timedelta = timedelta(hours=24)
    max_attempts: int = 3

    @classmethod
    def of(cls, quiet_hours: str = "21:00-08:00", timezone: str = "Asia/Shanghai",
           first_contact_hours: float = 24.0, max_attempts: int = 3) -> ContactRules:
        return cls(QuietHours.of(quiet_hours, timezone), timedelta(hours=first_contact_hours), max_attempts)

    @classmethod
    def from_settings(cls, settings: Any, max_attempts: int = 3) -> ContactRules:
        return cls.of(settings.quiet_hours, settings.shop_timezone, settings.first_contact_hours,
                      max_attempts)

    def quiet_warning(self, at: datetime) -> str | None:
        """The warning to show before contacting a buyer at ``at``, or None."""
        hours = self.hours
        if not hours.quiet(at):
            return None
        return (f"现在是买家的休息时间（店铺时区 {hours.tz.key} {hours.local(at):%H:%M}，免打扰时段 "
                f"{hours.span()}）：这时联系容易被当成骚扰，建议等到{hours.next_allowed(at)}以后再联系。")

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
