"""Agent messages → the acts of the call script."""

from __future__ import annotations

from typing import Any

from bot.understand.normalize import Norm
from bot.understand.scoped import ScopedRules, WideNegation


class AgentModel:
    """Scores the rules of ``dialogs/lexicon/agent.yaml``; an act is present at its threshold."""

    def __init__(self, spec: dict[str, Any]) -> None:
        negation = WideNegation(spec.get("negators", []), spec.get("fillers", []))
        self.acts = ScopedRules(spec["acts"], spec.get("cues", {}), negation)
        self.threshold = float(spec.get("threshold", 1))
        self.order: list[str] = list(spec["acts"])  # the lexicon's order

    def __call__(self, norm: Norm) -> list[str]:
        scores = self.acts.scores(norm.text)
        return [a for a in self.order if scores.get(a, 0) >= self.threshold]
