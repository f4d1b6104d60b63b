"""Per-turn facts of a trainee reply, read once and used by both the buyer and the grader.

The core engine supplies the acts, guard findings, policy notes and stages; the rubric's
``facts`` section adds a few derived facts (a money offer, the buyer's right to choose,
how many concrete remedies a message names...). Keeping one source means the simulated
buyer reacts to exactly what the grader scores.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, Field

from bot.models import AgentUnderstanding, Conversation, Finding, Suggestion
from bot.training.match import Match, Strict, holds


class FactRule(Strict):
    """A derived fact: true when its text pattern, condition and remedy count all hold."""

    text: str | None = Field(default=None, description="regex on the normalised message")
    when: Match = Field(default_factory=Match)
    min_remedies: int | None = Field(default=None,
                                     description="the message names at least this many remedies")


class TurnFacts(BaseModel):
    """Everything known about one trainee reply once the engine has applied it."""

    turn: int
    text: str
    stage: str
    stage_after: str
    acts: list[str]
    findings: list[Finding]
    notes: list[Finding]
    facts: list[str]
    remedies: list[str]
    context: dict[str, Any]
    buyer_before: str | None

    @property
    def signals(self) -> list[str]:
        """Acts, finding codes, note codes and derived facts, in that order, without repeats."""
        out: list[str] = []
        for s in [*self.acts, *(f.code for f in self.findings), *(n.code for n in self.notes),
                  *self.facts]:
            if s not in out:
                out.append(s)
        return out

    def holds(self, m: Match) -> bool:
        """Whether condition ``m`` holds for this turn."""
        return holds(m, self.signals, self.stage, self.stage_after, self.context,
                     self.buyer_before)


class FactBook:
    """Derives the rubric's facts and the remedies a message names."""

    def __init__(self, rules: dict[str, FactRule], remedy_cues: dict[str, str]) -> None:
        self.rules = rules
        self._text = {name: re.compile(r.text) for name, r in rules.items() if r.text}
        self._remedies = {rid: re.compile(p) for rid, p in remedy_cues.items()}

    def remedies(self, norm_text: str) -> list[str]:
        """The remedy ids whose cue appears in the text, in the rubric's order."""
        return [rid for rid, pat in self._remedies.items() if pat.search(norm_text)]

    def read(
        self, *, turn: int, text: str, norm_text: str, before: Conversation, after: Conversation,
        sug: Suggestion, buyer_before: str | None,
    ) -> TurnFacts:
        """The facts of one trainee reply, from the engine's answer to it."""
        u = sug.understanding
        assert isinstance(u, AgentUnderstanding)
        findings = list(u.findings)
        # Suggestion.warnings = guard findings, then policy notes on the turn, then standing
        # notes of the stage; the standing ones are info and describe the stage, not the reply.
        notes = [w for w in sug.warnings[len(findings):] if w.severity != "info"]
        mentioned = self.remedies(norm_text) if "offer_remedy" in u.acts else []
        facts = TurnFacts(
            turn=turn, text=text, stage=before.stage, stage_after=after.stage, acts=list(u.acts),
            findings=findings, notes=notes, facts=[], remedies=mentioned,
            context=after.context.model_dump(), buyer_before=buyer_before,
        )
        for name, rule in self.rules.items():
            pat = self._text.get(name)
            if pat is not None and not pat.search(norm_text):
                continue
            if rule.min_remedies is not None and len(mentioned) < rule.min_remedies:
                continue
            if facts.holds(rule.when):
                facts.facts.append(name)  # later rules may build on earlier facts
        return facts
