"""The learned models beside the rules: what the shipped model file holds and how it is used.

Every label family has two tasks in the file: ``model.<family>`` reads only the character
n-grams; ``stack.<family>`` reads them plus the rules' verdicts as extra features, so it
learns when to trust the rules (a stacked blend). ``csbot learn`` measures rules only,
model only and the stack on out-of-fold predictions of the training split and records,
per family, which one ships (``info.ship``); ``csbot eval`` shows all three on held-out.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, cast

from bot.labels import Labels
from bot.learned.linear import CLAUSES, Bank, LinearTask, ModelFile, load
from bot.models import BuyerUnderstanding, Emotion, IntentScore
from bot.understand.normalize import Norm

MODEL_FILE = Path("model") / "understand.json.gz"
BUYER_FAMILIES = ("intent", "cause", "emotion")
AGENT_FAMILIES = ("acts",)
VARIANTS = ("rules", "model", "stack")


def families(labels: Labels) -> dict[str, tuple[str, ...]]:
    """The classes a model trained over these labels has, per family (the file keeps its
    own list: a label added to the data after training is one the model never saw)."""
    return {"intent": labels.intents, "cause": ("none", *labels.causes),
            "emotion": labels.emotions, "acts": labels.acts}

_CLAUSES = CLAUSES  # a message's clauses, for its several intents
# A long rant is one complaint told at length: its clauses are not read one by one (and a
# turn stays fast).
_MAX_CLAUSES = 6


def buyer_extras(rule: BuyerUnderstanding, cues: Iterable[str] = ()) -> list[str]:
    """The rules' verdicts on a buyer message and the cues behind them (every label a rule
    scored for, BuyerModel.read), as the stack's extra features."""
    return [f"ri:{rule.intent}", f"rc:{rule.cause}", f"re:{rule.emotion}", *cues]


def agent_extras(acts: Iterable[str]) -> list[str]:
    """The rules' acts of an agent message, as the stack's extra features."""
    out = [f"ra:{a}" for a in acts]
    return out or ["ra:none"]


def clauses(text: str) -> list[str]:
    """A normalised message's clauses (split at punctuation and spaces)."""
    return _CLAUSES.findall(text)


def _top(classes: list[str], p: list[float]) -> tuple[str, float]:
    best = max(range(len(p)), key=p.__getitem__)
    return classes[best], p[best]


def merge_intents(per_clause: list[tuple[str, float]], primary: str, confidence: float,
                  clause_min: float) -> list[tuple[str, float]]:
    """Each clause's intent when the model is sure enough of it (``clause_min``), plain chat
    (``other``) left out, repeats merged, in text order; the whole message's primary intent
    always among them (after the clauses when none of them said it). One intent → just it."""
    seq: list[tuple[str, float]] = []
    for label, p in per_clause:
        if label == "other" or p < clause_min or any(label == x for x, _ in seq):
            continue
        seq.append((label, p))
    if len(seq) < 2 and not (seq and seq[0][0] != primary):
        return [(primary, confidence)]
    out = [(label, confidence if label == primary else p) for label, p in seq]
    if all(label != primary for label, _ in seq):
        out.append((primary, confidence))
    return out


_last: tuple[bytes, Learned] | None = None  # Learned.from_folder's last model and its bytes


class Learned:
    """The loaded model file: buyer labels and agent acts, by the variant that ships."""

    def __init__(self, model: ModelFile) -> None:
        self.model = model
        self.version = model.version
        ship = model.info.get("ship", {})
        self.ship: dict[str, str] = {f: str(ship.get(f, "stack")) for f in (*BUYER_FAMILIES, *AGENT_FAMILIES)}
        self._known: dict[str, frozenset[str]] = {}
        self.clause_min = float(model.info.get("clause_min", 0.6))
        self.cause_fill = bool(model.info.get("cause_fill", False))
        # per act (a single number in models before per-act floors)
        floors = model.info.get("new_act_min") or {}
        self.new_act_min: dict[str, float] = (
            {str(k): float(v) for k, v in floors.items()} if isinstance(floors, dict)
            else dict.fromkeys(model.tasks["model.acts"].classes, float(floors)))
        self._tasks: dict[str, LinearTask] = {}
        self._banks: dict[str, Bank] = {}

    @classmethod
    def from_folder(cls, dialogs: Path) -> Learned | None:
        """The folder's model, or None when it has none (the rules then work alone).

        The same bytes as the last model read in this process (a reload after a script edit,
        a shop's copy of the shipped model) give that same Learned, already unpacked: reading
        and unpacking the weights is a quarter of a second. It only memoises what it reads."""
        global _last
        path = dialogs / MODEL_FILE
        if not path.is_file():
            return None
        data = path.read_bytes()
        # The bytes themselves are the key: comparing them is one memcmp when a model is
        # read again, where a digest cost every command ~15 ms of start-up. The model's
        # weights are read from these same bytes (load), so keeping them costs no memory.
        if _last is None or _last[0] != data:
            _last = (data, cls(load(path, data)))
        return _last[1]

    def task(self, name: str) -> LinearTask:
        # Built on first use: a buyer-only command never unpacks the agent's weights.
        t = self._tasks.get(name)
        if t is None:
            t = self._tasks[name] = LinearTask(self.model.tasks[name])
        return t

    def bank(self, variant: str) -> Bank:
        """The buyer's three tasks of one variant, scored together."""
        b = self._banks.get(variant)
        if b is None:
            b = self._banks[variant] = Bank([self.task(f"{variant}.{f}") for f in BUYER_FAMILIES],
                                            self.model.banks.get(f"{variant}.buyer"))
        return b

    def load_all(self) -> None:
        """Unpack what the shipped combination uses (the service does it before serving)."""
        if len({self.ship[f] for f in BUYER_FAMILIES}) == 1 and self.ship["intent"] != "rules":
            self.bank(self.ship["intent"]).pack_all()
        else:  # each family scored by its own task
            for family in BUYER_FAMILIES:
                if self.ship[family] != "rules":
                    self.task(f"{self.ship[family]}.{family}").pack_all()
        self.task("model.intent").pack_all()  # packed now: the first turn pays nothing
        if self.ship["acts"] != "rules":
            self.task(f"{self.ship['acts']}.acts").pack_all()
        for name, task in self._tasks.items():  # the rule features' rows too (~8 ms on a first turn)
            if name.startswith("stack."):
                _ = task.extras

    def _family(self, family: str, variant: str, text: str, extras: list[str]) -> list[float]:
        if variant == "stack":
            return self.task(f"stack.{family}").proba(text, extras)
        return self.task(f"model.{family}").proba(text)

    def buyer(self, norm: Norm, rule: BuyerUnderstanding, variant: str = "",
              cues: Iterable[str] = (), scores: dict[str, float | None] | None = None) -> BuyerUnderstanding:
        """Buyer labels by the shipped combination (or ``variant``: model / stack);
        ``cues``: the rules' cues (BuyerModel.read), which the stack also reads. ``scores``,
        when given, receives each family's calibrated probability of the label returned
        (None where the rules' verdict replaced the model's: it has no calibrated one)."""
        extras = buyer_extras(rule, cues)
        out: dict[str, tuple[str, float]] = {}
        chosen = [variant or self.ship[f] for f in BUYER_FAMILIES]
        if len(set(chosen)) == 1 and chosen[0] != "rules":
            # One variant for all three families: one pass over the n-grams.
            probs = self.bank(chosen[0]).proba(norm.text, extras if chosen[0] == "stack" else ())
            for family, task, p in zip(BUYER_FAMILIES, self.bank(chosen[0]).tasks, probs, strict=True):
                out[family] = _top(task.classes, p)
        for family, v in zip(BUYER_FAMILIES, chosen, strict=True):
            if family in out:
                continue
            if v == "rules":
                value = getattr(rule, family)
                out[family] = ("none" if value is None else value, rule.confidence)
                continue
            p = self._family(family, v, norm.text, extras)
            out[family] = _top(self.task(f"{v}.{family}").classes, p)
        intent, confidence = out["intent"]
        cause = out["cause"][0]
        if cause == "none" and rule.cause is not None and self.cause_fill and variant != "model":
            cause = rule.cause  # the rules' cue named a cause the model missed (chosen by csbot learn)
        # A label added to the data after the model was trained: the model cannot vote for
        # it, so where the rules found one, their verdict stands.
        unseen_intent = rule.intent not in self.known("intent")
        if unseen_intent and variant != "model":
            intent, confidence = rule.intent, rule.confidence
        if rule.cause is not None and rule.cause not in self.known("cause") and variant != "model":
            cause = rule.cause
        if scores is not None:
            for family, v in zip(BUYER_FAMILIES, chosen, strict=True):
                scores[family] = out[family][1] if v != "rules" else None
            if cause != out["cause"][0]:
                scores["cause"] = None
            if unseen_intent and variant != "model":
                scores["intent"] = None
        intents = ([IntentScore(intent=intent, confidence=round(confidence, 3))] if unseen_intent
                   else self.intents(norm.text, intent, confidence, variant or self.ship["intent"]))
        return BuyerUnderstanding(
            text=norm.source,
            intent=intent,
            cause=None if cause == "none" else cause,
            emotion=cast(Emotion, out["emotion"][0]),
            confidence=round(confidence, 3),
            intents=intents,
        )

    def known(self, family: str) -> frozenset[str]:
        """The labels of a family the model was trained on."""
        k = self._known.get(family)
        if k is None:
            k = self._known[family] = frozenset(self.model.tasks[f"model.{family}"].classes)
        return k

    def intents(self, text: str, primary: str, confidence: float, variant: str) -> list[IntentScore]:
        """The message's intents in text order (see ``merge_intents``)."""
        parts = clauses(text)
        if not 2 <= len(parts) <= _MAX_CLAUSES or variant == "rules":
            return [IntentScore(intent=primary, confidence=round(confidence, 3))]
        task = self.task("model.intent")
        found = merge_intents([_top(task.classes, task.proba(c)) for c in parts], primary, confidence,
                              self.clause_min)
        return [IntentScore(intent=i, confidence=round(p, 3)) for i, p in found]

    def acts(self, norm: Norm, rule_acts: list[str], variant: str = "",
             alone: dict[str, float] | None = None) -> list[str]:
        """Agent acts by the shipped combination (or ``variant``). ``alone``, when given, gets
        the probability of each act the model reads and the rules did not (the flow weighs them:
        script.yaml ``act_evidence``)."""
        v = variant or self.ship["acts"]
        if v == "rules":
            return rule_acts
        task = self.task(f"{v}.acts")
        got: set[str] = set()
        for c, q in task.predict(norm.text, agent_extras(rule_acts) if v == "stack" else ()):
            if v != "stack" or c in rule_acts or q >= self.new_act_min.get(c, 0.0):
                got.add(c)
                if alone is not None and c not in rule_acts:
                    alone[c] = q
        out = [a for a in task.classes if a in got]
        if not variant:  # acts added to the data after training: no vote of the model, the rules' stand
            known = self.known("acts")
            out += [a for a in rule_acts if a not in known]
        return out

    def describe(self) -> dict[str, Any]:
        return {"version": self.version, "ship": self.ship, **{k: v for k, v in self.model.info.items()
                                                                 if k != "ship"}}


__all__ = ["AGENT_FAMILIES", "BUYER_FAMILIES", "MODEL_FILE", "VARIANTS", "Learned", "agent_extras",
           "buyer_extras", "clauses", "families", "merge_intents"]
