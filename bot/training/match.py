"""The one condition language shared by personas (what meets an agenda item) and the rubric.

A condition is read against the facts of one trainee turn: its *signals* (agent acts,
guard finding codes, policy note codes and derived facts, see ``facts.py``), the stage
before and after the message, and the conversation counters after it.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    """Data models reject unknown keys, so a typo in a YAML file is an error, not a no-op."""

    model_config = ConfigDict(extra="forbid")


class Match(Strict):
    """A condition on one trainee turn; every field given must hold (empty = always)."""

    any: list[str] = Field(default_factory=list, description="at least one of these signals")
    all: list[str] = Field(default_factory=list, description="every one of these signals")
    none: list[str] = Field(default_factory=list, description="none of these signals")
    stage_in: list[str] = Field(default_factory=list, description="stage before the message")
    stage_after_in: list[str] = Field(default_factory=list, description="stage after the message")
    context: list[str] = Field(default_factory=list,
                               description="conversation facts that are true after the message")
    buyer_before_in: list[str] = Field(default_factory=list,
                                       description="intent of the buyer's message just before")

    def is_empty(self) -> bool:
        """True for the condition that always holds."""
        return not (self.any or self.all or self.none or self.stage_in or self.stage_after_in
                    or self.context or self.buyer_before_in)


def holds(
    m: Match, signals: list[str], stage: str, stage_after: str, context: dict[str, Any],
    buyer_before: str | None,
) -> bool:
    """Whether condition ``m`` holds for a turn with these facts."""
    if m.any and not any(s in signals for s in m.any):
        return False
    if m.all and not all(s in signals for s in m.all):
        return False
    if any(s in signals for s in m.none):
        return False
    if m.stage_in and stage not in m.stage_in:
        return False
    if m.stage_after_in and stage_after not in m.stage_after_in:
        return False
    if any(not context.get(name) for name in m.context):
        return False
    return not (m.buyer_before_in and buyer_before not in m.buyer_before_in)
