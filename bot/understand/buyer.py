"""Buyer messages → intent, cause, emotion, confidence."""

from __future__ import annotations

from typing import Any, cast

from bot.models import BuyerUnderstanding, Cause, Emotion, Intent
from bot.understand.normalize import Norm
from bot.understand.rules import Emphasis, Negation, RuleSet

_CAUSE_INTENTS = ("affirm", "deny", "other")


class BuyerModel:
    """Scores the rules of ``dialogs/lexicon/buyer.yaml`` and picks the labels."""

    def __init__(self, spec: dict[str, Any]) -> None:
        cues = spec.get("cues", {})
        self.negation = Negation(spec.get("negators", []))
        self.emphasis = Emphasis(spec.get("emphasis", []), float(spec.get("emphasis_factor", 1.5)))
        self.intents = RuleSet.build(spec["intents"], cues)
        self.causes = RuleSet.build(spec["causes"], cues)
        self.emotions = RuleSet.build(spec["emotions"], cues)
        self.priority: list[str] = list(spec["priority"])
        self.cause_priority: list[str] = list(spec.get("cause_priority", []))
        self.angry_at = float(spec.get("angry_at", 2))
        self.upset_at = float(spec.get("upset_at", 1))
        self.complaint_intents = frozenset(spec.get("complaint_intents", []))

    def __call__(self, norm: Norm) -> BuyerUnderstanding:
        text = norm.text
        scores = self.intents.scores(text, self.negation, self.emphasis)
        cause_scores = self.causes.scores(text, self.negation, self.emphasis)
        cause = _best(cause_scores, self.cause_priority)
        intent = _best(scores, self.priority) or "other"
        if cause and intent in _CAUSE_INTENTS:
            # A yes/no that also names a problem is a complaint (labelling convention).
            intent = "complain"
        confidence = _confidence(scores, intent)
        emo = self.emotions.scores(text, self.negation)
        emotion: str
        if emo.get("angry", 0) >= self.angry_at:
            emotion = "angry"
        elif emo.get("angry", 0) + emo.get("upset", 0) >= self.upset_at or (
            intent in self.complaint_intents and emo.get("calm", 0) <= 0
        ):
            emotion = "upset"
        else:
            emotion = "calm"
        return BuyerUnderstanding(
            text=norm.source,
            intent=cast(Intent, intent),
            cause=cast(Cause | None, cause),
            emotion=cast(Emotion, emotion),
            confidence=confidence,
        )


def _best(scores: dict[str, float], priority: list[str]) -> str | None:
    if not scores:
        return None
    rank = {label: i for i, label in enumerate(priority)}
    return max(scores, key=lambda k: (scores[k], -rank.get(k, len(rank))))


def _confidence(scores: dict[str, float], intent: str) -> float:
    top = scores.get(intent, 0.0)
    if top <= 0:
        return 0.3
    rest = sorted((v for k, v in scores.items() if k != intent), reverse=True)
    second = rest[0] if rest else 0.0
    return round(min(0.99, 0.5 + 0.5 * (top - second) / (top + 1.0)), 2)
