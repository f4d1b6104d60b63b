"""Buyer messages → intent, cause, emotion, confidence."""

from __future__ import annotations

from typing import Any, cast

from bot.models import BuyerUnderstanding, Emotion, IntentScore
from bot.understand.normalize import Norm
from bot.understand.rules import Emphasis, Negation, RuleSet

_CAUSE_INTENTS = ("affirm", "deny", "other")
_EMOTIONS = ("calm", "upset", "angry")


class BuyerModel:
    """Scores the rules of ``dialogs/lexicon/buyer.yaml`` and picks the labels."""

    def __init__(self, spec: dict[str, Any]) -> None:
        cues = spec.get("cues", {})
        window = spec.get("negation_window")
        self.negation = Negation(spec.get("negators", []), int(window) if window else None)
        self.emphasis = Emphasis(spec.get("emphasis", []), float(spec.get("emphasis_factor", 1.5)))
        self.intents = RuleSet.build(spec["intents"], cues)
        self.causes = RuleSet.build(spec["causes"], cues)
        self.emotions = RuleSet.build(spec["emotions"], cues)
        self.priority: list[str] = list(spec["priority"])
        self.cause_priority: list[str] = list(spec.get("cause_priority", []))
        self.causeless = frozenset(spec.get("causeless_intents", []))
        # Intents that a named problem turns into a complaint: a yes/no that names one, or a
        # complaint that trails off in a resigned phrase ("…挺失望的，就这样吧").
        self.cause_intents = frozenset(spec.get("cause_intents", _CAUSE_INTENTS))
        self.cause_min = float(spec.get("cause_min", 0))
        self.cause_complains = float(spec.get("cause_complains", 0))
        self.angry_at = float(spec.get("angry_at", 2))
        self.upset_at = float(spec.get("upset_at", 1))
        self.intent_heat = _floats(spec.get("intent_heat", {}))
        self.cause_heat = _floats(spec.get("cause_heat", {}))
        self.cause_heat_scale = _floats(spec.get("cause_heat_scale", {}))
        self.upset_cap = float(spec.get("upset_cap", float("inf")))
        self.emotion_cap: dict[str, str] = dict(spec.get("emotion_cap", {}))
        # Markers the convention decides by, read after the model (``sure``): a rule's index
        # is its label here, its targets kept beside.
        sure = list(spec.get("sure") or [])
        self.sure = RuleSet.build({str(i): [{k: v for k, v in r.items()
                                             if k not in ("intent", "emotion", "outright", "cause")}]
                                   for i, r in enumerate(sure)}, cues)
        self._sure_to = [(r.get("intent"), r.get("emotion")) for r in sure]
        self._outright = [bool(r.get("outright")) for r in sure]
        self._sure_cause: list[str | None] = [r.get("cause") for r in sure]
        self._fired = ([f"hi:{n}" for n in self.intents.names()], [f"hc:{n}" for n in self.causes.names()],
                       [f"he:{n}" for n in self.emotions.names()])

    def __call__(self, norm: Norm) -> BuyerUnderstanding:
        return self.read(norm)[0]

    def read(self, norm: Norm) -> tuple[BuyerUnderstanding, list[str]]:
        """The labels and the cues behind them: every label a rule scored for
        (``si:complain``, ``sc:quality``, ``se:angry``), not only the winners, and every rule
        that fired (``hi:complain.3``: the label's fourth rule). The learned stack reads them
        as extra features and learns how far to trust each cue."""
        text = norm.text
        scores, fired_i = self.intents.scored(text, self.negation, self.emphasis)
        cause_scores, fired_c = self.causes.scored(text, self.negation, self.emphasis)
        cues = [f"si:{k}" for k, v in scores.items() if v > 0]
        cues += [f"sc:{k}" for k, v in cause_scores.items() if v > 0]
        cues += [self._fired[0][i] for i in sorted(fired_i)]
        cues += [self._fired[1][i] for i in sorted(fired_c)]
        cause = _best(cause_scores, self.cause_priority)
        if cause is not None and cause_scores[cause] < self.cause_min:
            cause = None
        if cause is not None and self.cause_complains:
            scores["complain"] = scores.get("complain", 0.0) + self.cause_complains
        intent = _best(scores, self.priority) or "other"
        if intent in self.causeless:
            cause = None
        elif cause and intent in self.cause_intents:
            # A yes/no that also names a problem is a complaint (labelling convention);
            # how sure that is follows from how clearly the problem was named.
            scores["complain"] = max(scores.get(intent, 0.0), cause_scores[cause])
            intent = "complain"
        confidence = _confidence(scores, intent)
        emotion, emo, fired_e = self._emotion(text, intent, cause)
        cues += [f"se:{k}" for k, v in emo.items() if v > 0]
        cues += [self._fired[2][i] for i in sorted(fired_e)]
        return BuyerUnderstanding(
            text=norm.source,
            intent=intent,
            cause=cause,
            emotion=cast(Emotion, emotion),
            confidence=confidence,
            intents=[IntentScore(intent=intent, confidence=confidence)],
        ), cues

    def assure(self, norm: Norm, u: BuyerUnderstanding, rule: BuyerUnderstanding) -> BuyerUnderstanding:
        """``u`` raised to what the message's sure markers say (``sure``): an intent that ranks
        above the read one in ``priority`` replaces it (with the confidence its clause had, else
        the rules' when they read it too), a higher emotion replaces the read one. An
        ``outright`` marker (a whole-message shape: "好的好的 谢谢亲 辛苦啦🙏") sets its intent
        whatever its rank."""
        if not self._sure_to:
            return u
        intent, emotion, cause = u.intent, u.emotion, u.cause
        rank = {label: i for i, label in enumerate(self.priority)}
        whole = False
        for h in self.sure.hits(norm.text, self.negation):
            to_intent, to_emotion = self._sure_to[int(h.label)]
            if self._sure_cause[int(h.label)] and u.cause is not None:
                cause = self._sure_cause[int(h.label)]  # a cause read, the convention's instead
            if to_intent and self._outright[int(h.label)]:
                intent, whole = to_intent, True
            elif to_intent and not whole and rank.get(to_intent, len(rank)) < rank.get(intent, len(rank)):
                intent = to_intent
            if to_emotion and _EMOTIONS.index(to_emotion) > _EMOTIONS.index(emotion):
                emotion = to_emotion
        if (intent, emotion, cause) == (u.intent, u.emotion, u.cause) and not whole:
            return u
        update: dict[str, Any] = {"emotion": emotion, "cause": cause}
        if intent != u.intent or whole:
            listed = {i.intent: i.confidence for i in u.intents}
            conf = listed.get(intent, rule.confidence if rule.intent == intent else u.confidence)
            # (as merge_intents puts a primary no clause said: after the others)
            if whole:  # in text order: the marker's intent where the readings it overrules were,
                # the yes and the requests read beside it kept ("你先退款我就改": want_refund, agree_review)
                mine = IntentScore(intent=intent, confidence=conf)
                intents: list[IntentScore] = []
                for i in u.intents:
                    j = i if i.intent == "affirm" or i.intent.startswith("want_") or i.intent == intent else mine
                    if all(k.intent != j.intent for k in intents):
                        intents.append(mine if j.intent == intent else j)
                if all(k.intent != intent for k in intents):
                    intents.append(mine)
            else:  # listed: the list stands; else after the others, plain chat left out
                intents = list(u.intents) if intent in listed else [
                    *(i for i in u.intents if i.intent != "other"), IntentScore(intent=intent, confidence=conf)]
            update.update(intent=intent, confidence=conf, intents=intents)
        return u.model_copy(update=update)

    def _emotion(self, text: str, intent: str, cause: str | None) -> tuple[str, dict[str, float], set[int]]:
        """Angry and upset cues heat the message, calm cues cool it; intent and cause lean it
        (the emotion, the cues' scores and the rules that fired)."""
        emo, fired = self.emotions.scored(text, self.negation)
        heat = emo.get("angry", 0.0) - emo.get("calm", 0.0) + self.intent_heat.get(intent, 0.0)
        if cause is not None:
            heat += self.cause_heat.get(cause, 0.0) * self.cause_heat_scale.get(intent, 1.0)
        upset = emo.get("upset", 0.0)
        # Upset cues count fully towards upset but only up to a cap towards angry.
        if heat + min(upset, self.upset_cap) >= self.angry_at:
            emotion = "angry"
        else:
            emotion = "upset" if heat + upset >= self.upset_at else "calm"
        cap = self.emotion_cap.get(intent)
        if cap is not None and _EMOTIONS.index(emotion) > _EMOTIONS.index(cap):
            return cap, emo, fired
        return emotion, emo, fired


def _floats(mapping: dict[str, Any]) -> dict[str, float]:
    return {k: float(v) for k, v in mapping.items()}


def _best(scores: dict[str, float], priority: list[str]) -> str | None:
    """The top-scoring label (ties by ``priority``); labels at or below zero never win."""
    positive = {k: v for k, v in scores.items() if v > 0}
    if not positive:
        return None
    rank = {label: i for i, label in enumerate(priority)}
    return max(positive, key=lambda k: (positive[k], -rank.get(k, len(rank))))


def _confidence(scores: dict[str, float], intent: str) -> float:
    top = scores.get(intent, 0.0)
    if top <= 0:
        return 0.3
    rest = sorted((v for k, v in scores.items() if k != intent), reverse=True)
    second = rest[0] if rest else 0.0
    return round(min(0.99, 0.5 + 0.5 * (top - second) / (top + 1.0)), 2)
