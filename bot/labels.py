"""The label sets and their Chinese names, read once from the data folders.

The sets are the data: an intent, cause, emotion, act, outcome or guard finding exists when
dialogs/defaults.yaml names it in Chinese (``intent_labels``, ``cause_names``, …); stages
come from script.yaml, remedies from remedies.yaml. A shop's copy made before a mapping or
a label was added lacks it: the bundled names fill in label by label, so an older copy
keeps working and a shop's own names and labels win.

The Engine builds one ``Labels`` when it loads; chat cards, the sidebar, the report, the
assist console and the trainer all read it, so a renamed label shows the same everywhere.
``problems`` checks, when the data loads, that every label a lexicon, the script, the
remedies or a template uses is in its set.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationInfo

from bot.dataload import Problem, load_yaml
from bot.paths import dialogs_dir

# kind -> the defaults.yaml mapping that declares the set and names it.
MAPPINGS: dict[str, str] = {
    "intent": "intent_labels", "cause": "cause_names", "emotion": "emotion_labels",
    "act": "act_labels", "outcome": "outcome_labels", "code": "finding_labels",
    "severity": "severity_labels",
}
KIND_ZH: dict[str, str] = {
    "intent": "意图", "cause": "原因", "emotion": "情绪", "act": "客服动作", "outcome": "结果",
    "code": "合规问题", "severity": "严重程度", "stage": "阶段", "remedy": "补救方案",
}
UNKNOWN = "unknown"  # the cause "not named yet": named in cause_names, not a cause itself
# Where a case's cause was read (Context.cause_source): shown beside it, 质量问题（评价）.
CAUSE_SOURCES: dict[str, str] = {"review": "评价", "talk": "沟通", "correction": "更正"}


@dataclass(frozen=True, slots=True)
class Labels:
    """Id -> Chinese name, per kind (``stage``, ``intent``, ``cause``, ``emotion``, ``act``,
    ``outcome``, ``code``, ``severity``, ``remedy``); the order is the data's."""

    names: Mapping[str, Mapping[str, str]]
    spoken: Mapping[str, str]  # a cause inside a sentence (cause_labels): 质量问题, 这个问题
    defaults: Mapping[str, str]  # words for empty case fields
    unknown_cause: str  # the short name of "no cause named yet"
    _codes: dict[str, dict[str, str]] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def load(cls, dialogs: Path, stages: Mapping[str, str] | None = None,
             remedies: Mapping[str, str] | None = None) -> Labels:
        """The labels of a dialogs folder (the stage and remedy names as given: the engine
        has read them already)."""
        return cls.of(words(dialogs), stages or {}, remedies or {})

    @classmethod
    def of(cls, data: Mapping[str, Any], stages: Mapping[str, str],
           remedies: Mapping[str, str]) -> Labels:
        """From defaults.yaml's mappings (already merged with the bundled ones)."""
        names: dict[str, dict[str, str]] = {
            kind: {str(k): str(v) for k, v in (data.get(key) or {}).items()}
            for kind, key in MAPPINGS.items()}
        unknown = names["cause"].pop(UNKNOWN, "未说明原因")
        names["stage"], names["remedy"] = dict(stages), dict(remedies)
        return cls(names=names, spoken=dict(data.get("cause_labels") or {}),
                   defaults=dict(data.get("defaults") or {}), unknown_cause=unknown)

    # -- the sets ------------------------------------------------------------------------

    @property
    def intents(self) -> tuple[str, ...]:
        return tuple(self.names["intent"])

    @property
    def causes(self) -> tuple[str, ...]:
        return tuple(self.names["cause"])

    @property
    def emotions(self) -> tuple[str, ...]:
        return tuple(self.names["emotion"])

    @property
    def acts(self) -> tuple[str, ...]:
        return tuple(self.names["act"])

    @property
    def outcomes(self) -> tuple[str, ...]:
        return tuple(self.names["outcome"])

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(self.names["code"])

    # -- names -----------------------------------------------------------------------------

    def name(self, kind: str, key: str | None) -> str:
        """The Chinese name of ``key``; "—" for none (a cause: 未说明原因); an id the data
        no longer has shows as itself."""
        if not key:
            return self.unknown_cause if kind == "cause" else "—"
        return self.names.get(kind, {}).get(key, key)

    def intent_of(self, intent: str, amount: str | None = None) -> str:
        """A buyer's intent as a card shows it, with the sum of money back it names: 想退款（30元）."""
        return self.name("intent", intent) + (f"（{amount}）" if amount else "")

    def spoken_cause(self, cause: str | None) -> str:
        """A cause as the templates say it inside a sentence (its short name when the data
        gives no spoken form)."""
        key = cause or UNKNOWN
        return self.spoken.get(key) or self.name("cause", cause)

    def heading(self, kind: str) -> str:
        """What a column or a field of ``kind`` is called (原因, 阶段, …): the queue, the
        sidebar, the assist card and the report name a kind alike."""
        return KIND_ZH.get(kind, kind)

    def source(self, source: str | None) -> str | None:
        """Where a case's cause was read, in Chinese (评价, 沟通, 更正); None if unknown."""
        return CAUSE_SOURCES.get(source or "")

    def table(self) -> dict[str, dict[str, str]]:
        """Every kind's names, as the sidebar page carries them (its correction lists offer
        every cause: "not named yet" is no choice there), with the kinds' own names
        (``kind``) and where a cause was read (``cause_source``)."""
        return {**{k: dict(v) for k, v in self.names.items()}, "kind": dict(KIND_ZH),
                "cause_source": dict(CAUSE_SOURCES), "unset": {"cause": self.unknown_cause}}

    def code(self, kind: str, name: str) -> str:
        """The id of an intent, cause, stage or outcome given as its id or its Chinese name
        (a cause also by its spoken form); ValueError in Chinese for an unknown one."""
        name = name.strip()
        table = self.names.get(kind, {})
        if kind not in self._codes:
            codes = {**{v: k for k, v in reversed(list(table.items()))}, **{k: k for k in table}}
            if kind == "cause":
                codes = {**{v: k for k, v in self.spoken.items() if k != UNKNOWN}, **codes}
            self._codes[kind] = codes
        found = self._codes[kind].get(name)
        if found is None and name:
            # Part of one name is enough (质量 → 质量问题, 解决 → 已解决); two that fit are asked back.
            named = [*table.items(), *((k, v) for k, v in self.spoken.items() if k in table)] \
                if kind == "cause" else list(table.items())  # 发错 is in 发错、漏发的问题
            fits = list(dict.fromkeys(k for k, v in named if name in v))
            if len(fits) == 1:
                return fits[0]
            if fits:
                raise ValueError(f"“{name}”可以是：{'、'.join(table[k] for k in fits)}，请写全")
        if found is None:
            raise ValueError(f"没有这个{KIND_ZH.get(kind, kind)}：{name or '（空）'}"
                             f"（可选：{'、'.join(table.values())}）")
        return found

    def check(self, kind: str, value: str) -> str:
        """``value`` if it is an id of ``kind``; ValueError in Chinese otherwise."""
        if value not in self.names.get(kind, {}):
            raise ValueError(f"{KIND_ZH.get(kind, kind)}“{value}”不存在"
                             f"（可选：{'、'.join(self.names.get(kind, {}))}）")
        return value


def words(dialogs: Path) -> dict[str, Any]:
    """defaults.yaml of ``dialogs``, each mapping filled in label by label from the bundled
    file (a shop's names win)."""
    own = load_yaml(dialogs, "defaults.yaml")
    bundled_dir = dialogs_dir(None)
    if dialogs.resolve() == bundled_dir.resolve():
        return own
    base = _bundled_words()
    return {key: {**(base.get(key) or {}), **(own.get(key) or {})}
            for key in dict.fromkeys([*base, *own])}


@functools.cache
def _bundled_words() -> dict[str, Any]:
    return load_yaml(dialogs_dir(None), "defaults.yaml")


@functools.cache
def bundled() -> Labels:
    """The bundled data's labels (what a corpus line is checked against when no folder's
    labels are given)."""
    return Labels.load(dialogs_dir(None))


def known(kind: str, *, fallback: bool = False) -> Callable[[str, ValidationInfo], str]:
    """A pydantic validator: the value must be an id of ``kind`` in the labels passed as
    validation context (``model_validate(…, context={"labels": labels})``). Without them it
    checks against the bundled labels when ``fallback``, else lets the value through (the
    engine's own models: their labels come from data checked when it loaded)."""

    def validate(value: str, info: ValidationInfo) -> str:
        ctx = info.context
        labels = ctx.get("labels") if isinstance(ctx, dict) else None
        if labels is None:
            if not fallback:
                return value
            labels = bundled()
        return labels.check(kind, value)

    return validate


# -- checked when the data loads --------------------------------------------------------

_TEMPLATE_KEY = re.compile(r"(cause|intent)-([A-Za-z0-9_]+)")


def problems(dialogs: Path, data: Mapping[str, Mapping[str, Any]], labels: Labels,
             templates: Path | None = None) -> list[Problem]:
    """Every label the data uses that is not in its set (one problem per label, where it is
    first used), and every intent or act the script gives no events."""
    from bot.dataload import _key, _Lines

    out: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    lines: dict[str, _Lines] = {}

    def problem(file: str, loc: tuple[str | int, ...], message: str) -> Problem:
        path = dialogs / file
        if file not in lines:
            lines[file] = _Lines(path)
        return Problem(str(path), _key(loc), lines[file].of(loc), message)

    for file, loc, kind, label in _uses(data):
        if label in labels.names[kind] or (kind == "cause" and label == UNKNOWN):
            continue
        if (kind, label) in seen:
            continue
        seen.add((kind, label))
        key = MAPPINGS[kind]
        out.append(problem(file, loc, f"{KIND_ZH[kind]}“{label}”没有中文名，系统不认识它"
                                      f"（在 defaults.yaml 的 {key} 下加一行 {label}: 中文名）"))
    script = data.get("script.yaml")
    events = (script or {}).get("events") or {}
    for role, kind, file in (("buyer", "intent", "lexicon/buyer.yaml"), ("agent", "act", "lexicon/agent.yaml")):
        if script is None:
            break  # a script that did not load has its own problems
        family = "intents" if role == "buyer" else "acts"
        given = (data.get(file) or {}).get(family) or {}
        for label in given:
            if label not in (events.get(role) or {}):
                out.append(problem(file, (family, label),
                                   f"{KIND_ZH[kind]}“{label}”在 script.yaml 的 events.{role} 下没有事件"
                                   f"（没有事件的加一行 {label}: []）"))
    if templates is not None and templates.is_dir():
        for path in sorted(templates.rglob("*.j2")):
            m = _TEMPLATE_KEY.match(path.name)
            if m is None:
                continue
            kind, label = m.group(1), m.group(2)
            if label not in labels.names[kind] and (kind, label) not in seen:
                seen.add((kind, label))
                out.append(Problem(str(path), "", None,
                                   f"模板用了不存在的{KIND_ZH[kind]}“{label}”"
                                   f"（拼写错了？或在 defaults.yaml 的 {MAPPINGS[kind]} 下加上它）"))
    return out


def _uses(data: Mapping[str, Mapping[str, Any]]) -> Iterator[tuple[str, tuple[str | int, ...], str, str]]:
    """(file, key path, kind, label) of every label the data files use."""
    buyer = data.get("lexicon/buyer.yaml") or {}
    f = "lexicon/buyer.yaml"
    for key, kind in (("intents", "intent"), ("causes", "cause"), ("emotions", "emotion"),
                      ("intent_heat", "intent"), ("cause_heat", "cause"), ("emotion_cap", "intent")):
        for label in buyer.get(key) or {}:
            yield f, (key, label), kind, str(label)
    for key, kind in (("priority", "intent"), ("cause_priority", "cause"),
                      ("causeless_intents", "intent"), ("cause_intents", "intent")):
        for i, label in enumerate(buyer.get(key) or []):
            yield f, (key, i), kind, str(label)
    for i, rule in enumerate(buyer.get("sure") or []):
        if isinstance(rule, Mapping) and rule.get("intent"):
            yield f, ("sure", i, "intent"), "intent", str(rule["intent"])
    for label in (data.get("lexicon/agent.yaml") or {}).get("acts") or {}:
        yield "lexicon/agent.yaml", ("acts", label), "act", str(label)
    for label in (data.get("guard.yaml") or {}).get("codes") or {}:
        yield "guard.yaml", ("codes", label), "code", str(label)
    events = (data.get("script.yaml") or {}).get("events") or {}
    for role, kind in (("buyer", "intent"), ("secondary", "intent"), ("agent", "act")):
        for label in events.get(role) or {}:
            yield "script.yaml", ("events", role, label), kind, str(label)
    for label in (data.get("script.yaml") or {}).get("sorry_names") or {}:
        yield "script.yaml", ("sorry_names", label), "cause", str(label)
    for cue, label in ((data.get("script.yaml") or {}).get("told_by") or {}).items():
        yield "script.yaml", ("told_by", cue), "cause", str(label)
    remedies = data.get("remedies.yaml") or {}
    for label in remedies.get("by_cause") or {}:
        yield "remedies.yaml", ("by_cause", label), "cause", str(label)
    for i, label in enumerate(remedies.get("no_goods_causes") or []):
        yield "remedies.yaml", ("no_goods_causes", i), "cause", str(label)
    for rid, body in (remedies.get("remedies") or {}).items():
        for i, label in enumerate((body or {}).get("intents") or []):
            yield "remedies.yaml", ("remedies", rid, "intents", i), "intent", str(label)


__all__ = ["CAUSE_SOURCES", "KIND_ZH", "MAPPINGS", "Labels", "bundled", "known", "problems", "words"]
