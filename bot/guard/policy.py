"""The contact policy: when a review request, a contact or a time is not allowed."""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.models import Conversation, Finding
from bot.quiet import QuietHours

if TYPE_CHECKING:
    from bot.script.machine import Script

# The standing note of a stage, by the stage's role (script.yaml `roles`).
_STAGE_NOTES = {"suspects_extortion": "malicious_evidence", "hands_over": "escalated_supervisor",
                "schedules_callback": "callback_time"}


class Policy:
    """Policy notes from ``dialogs/policy.yaml``; ``quiet``: the shop's quiet hours (its
    settings), also for the note on a contact at night."""

    def __init__(self, spec: dict[str, Any], script: Script, quiet: QuietHours) -> None:
        self.max_attempts = script.max_attempts
        # A review request is too early where the problem is not handled yet: before the
        # remedy stage, and in it until the buyer chose an option.
        self.early = script.roles.before_remedy | script.roles.offers
        self.no_request = script.roles.suspect
        self.holding = frozenset(script.holding)
        self.contacts = script.roles.contacts  # quiet hours apply
        self.standing = {sid: [code for role, code in _STAGE_NOTES.items() if script.has_role(sid, role)]
                         for sid in script.stages}
        self.notes: dict[str, tuple[str, str]] = {
            code: (n["severity"], n["message"]) for code, n in spec["notes"].items()
        }
        self.callback_time = re.compile(spec["callback_time"])
        self.hours = quiet

    def note(self, code: str, **values: str) -> Finding:
        """The policy note ``code`` as a finding without a span; ``values`` fill its {fields}
        (a shop's older message without them is said as written)."""
        severity, message = self.notes[code]
        if values:
            message = message.format(**values)
        return Finding(code=code, severity=severity, span=None, message=message)  # type: ignore[arg-type]

    def agent_turn(
        self, conv: Conversation, acts: list[str], findings: list[Finding],
        changeable: bool, at: datetime | None,
    ) -> list[Finding]:
        """Notes on an agent message, judged on the state *before* it is applied."""
        out: list[Finding] = []
        codes = {f.code for f in findings}
        if "request_review" in acts:
            if conv.stage in self.no_request or conv.context.extorted \
                    or (conv.context.suspected and conv.stage in self.holding):
                out.append(self.note("request_malicious"))
            elif conv.context.gift_only:
                out.append(self.note("request_after_gift"))
            elif not changeable:
                out.append(self.note("request_not_allowed"))
            elif conv.stage in self.early and conv.context.remedy_chosen is None:
                out.append(self.note("early_request"))
            if conv.context.review_requests >= 1 and "repeat_request" not in codes:
                out.append(self.note("repeat_request"))
        if conv.context.attempts > self.max_attempts:
            out.append(self.note("too_many_attempts"))
        if at is not None and conv.stage in self.contacts and self.hours.quiet(at):
            out.append(self.note("late_contact", quiet=self.hours.said(), next=self.hours.next_allowed(at)))
        return out

    def stage_notes(self, stage: str, time_agreed: bool = False, suspected: bool = False) -> list[Finding]:
        """Standing notes for a stage (suspected extortion, handed over, callback). Once a
        callback time is agreed, "agree a time" is said no more (the agreed time is)."""
        codes = [code for code in self.standing.get(stage, ())
                 if not (time_agreed and code == _STAGE_NOTES["schedules_callback"])]
        if suspected and _STAGE_NOTES["suspects_extortion"] not in codes:
            codes.insert(0, _STAGE_NOTES["suspects_extortion"])  # a suspected case that escalated
        return [self.note(code) for code in codes]
