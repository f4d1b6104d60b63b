"""The contact policy: when a review request, a contact or a time is not allowed."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from bot.models import Conversation, Finding

# Stages in which the problem is not handled yet: a review request there is too early.
_BEFORE_REMEDY = frozenset({"opening", "confirm_identity", "confirm_product", "listen_apologize",
                            "explain", "remedy"})


class Policy:
    """Policy notes from ``dialogs/policy.yaml``."""

    def __init__(self, spec: dict[str, Any], max_attempts: int) -> None:
        self.max_attempts = max_attempts
        self.notes: dict[str, tuple[str, str]] = {
            code: (n["severity"], n["message"]) for code, n in spec["notes"].items()
        }
        self.callback_time = re.compile(spec["callback_time"])
        self.quiet_start = int(spec["quiet_hours"]["start"])
        self.quiet_end = int(spec["quiet_hours"]["end"])

    def note(self, code: str) -> Finding:
        """The policy note ``code`` as a finding without a span."""
        severity, message = self.notes[code]
        return Finding(code=code, severity=severity, span=None, message=message)  # type: ignore[arg-type]

    def agent_turn(
        self, conv: Conversation, acts: list[str], findings: list[Finding],
        changeable: bool, at: datetime | None,
    ) -> list[Finding]:
        """Notes on an agent message, judged on the state *before* it is applied."""
        out: list[Finding] = []
        codes = {f.code for f in findings}
        if "request_review" in acts:
            if conv.stage == "malicious":
                out.append(self.note("request_malicious"))
            elif not changeable:
                out.append(self.note("request_not_allowed"))
            elif conv.stage in _BEFORE_REMEDY and conv.context.remedy_chosen is None:
                out.append(self.note("early_request"))
            if conv.context.review_requests >= 1 and "repeat_request" not in codes:
                out.append(self.note("repeat_request"))
        if conv.context.attempts > self.max_attempts:
            out.append(self.note("too_many_attempts"))
        if at is not None and conv.stage in ("opening", "callback") and self._quiet(at):
            out.append(self.note("late_contact"))
        return out

    def stage_notes(self, stage: str) -> list[Finding]:
        """Standing notes for a stage (malicious, escalated, callback)."""
        code = {"malicious": "malicious_evidence", "escalated": "escalated_supervisor",
                "callback": "callback_time"}.get(stage)
        return [self.note(code)] if code else []

    def _quiet(self, at: datetime) -> bool:
        return at.hour >= self.quiet_start or at.hour < self.quiet_end
