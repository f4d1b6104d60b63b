"""A small weighted-pattern engine shared by the buyer, agent and guard lexicons.

Lexicons are YAML (``dialogs/lexicon/*.yaml``). A label has rules; a rule fires when its
patterns match the normalised text and are not negated, and adds its weight to the label.

Rule keys:
  any:      regexes; one non-negated match fires the rule (each match is a hit)
  all:      regexes; every one must match somewhere (non-negated)
  none:     regexes; if any matches, the rule does not fire
  weight:   what the rule adds (default 1)
  max_len:  only for texts of at most this many characters (short replies)
  negatable: false to ignore negation (the pattern carries its own)
  once:     true to count the rule once per text (default: once per clause)
Inside a regex, ``%name%`` is replaced by the alternation of the cue list ``name``.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

from bot.understand.alternation import compile_lexicon, factor, span
from bot.understand.gate import Conditions, Gate, in_order, required

_CUE = re.compile(r"%([a-z_]+)%")
_CLAUSE_END = re.compile(r"[，,。.!！?？;；~\n]")
# Where the guard's clauses end (a benefit's clause, a negation's reach): not at ".", which
# the guard reads inside amounts (9.9元) and links.
CLAUSE_BREAK = re.compile(r"[，,。!！?？;；~\n]")


def expand(pattern: str, cues: Mapping[str, list[str]]) -> str:
    """Replace ``%name%`` by ``(?:a|b|…)`` of the cue list, recursively."""

    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in cues:
            raise ValueError(f"unknown cue %{name}% in pattern {pattern!r}")
        return factor([expand(p, cues) for p in cues[name]])

    return _CUE.sub(sub, pattern)


@dataclass(slots=True)
class Hit:
    label: str
    start: int
    end: int
    weight: float
    rule: int


class Led(NamedTuple):
    """A rule pattern already expanded and led, with its prefixes (scoped._Expander), what
    a text must hold for each of its alternatives to match (gate.Gate) and each
    alternative's own led pattern (``parts``)."""

    pattern: str
    keys: frozenset[str] | None
    alternatives: tuple[Conditions, ...] = ()
    parts: tuple[str, ...] = ()
    # What each part's matches hold, in order (gate.needs, gate.in_order).
    needs: tuple[Conditions, ...] = ()


@dataclass(slots=True)
class Rule:
    # Each pattern is compiled when it is first searched: compiling every rule was most of a
    # command's start-up, and one line needs few of them (nor, of a rule the gate names,
    # the later "all" patterns or "none" unless the first ones match).
    label: str
    any: Lazy | None
    all: list[Lazy]
    none: Lazy | None
    weight: float
    max_len: int | None
    negatable: bool
    once: bool = False
    # What every match of the rule starts with (gate.prefixes; None: anything).
    keys: frozenset[str] | None = None
    # An ``any`` of several alternatives gated one by one: each alternative's own pattern
    # (``any`` stays None; see RuleSet.hits).
    parts: tuple[Lazy, ...] | None = None


class Lazy:
    """A lexicon pattern compiled on its first search (see Rule). Once compiled,
    ``search`` is the pattern's own method: no Python call in between.

    ``needs``: what every match holds, in order (gate.needs). Until compiled, a search in a
    text without them one after the other (gate.in_order) finds nothing without compiling:
    the gate checks only an alternative's few most telling conditions, in no order, and
    half of the alternatives `csbot lint` compiled on 1,000 lines then matched none of them
    (a compile costs as much as hundreds of these checks; docs/performance.md)."""

    __slots__ = ("needs", "pattern", "search", "source")

    def __init__(self, source: str, needs: Conditions = ()) -> None:
        self.source = source
        self.needs = needs
        self.pattern: re.Pattern[str] | None = None
        self.search: Callable[..., re.Match[str] | None] = self._first_search
        _PENDING.append(self)

    def compile(self) -> re.Pattern[str]:
        if self.pattern is None:
            self.pattern = compile_lexicon(self.source)
            self.search = self.pattern.search
        return self.pattern

    def _first_search(self, text: str, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[str] | None:
        if self.needs and not in_order(text, self.needs):
            return None
        return self.compile().search(text, pos, endpos)


_PENDING: list[Lazy] = []  # built since the last compile_pending()


def compile_pending() -> None:
    """Compile the patterns of every rule built so far (a service does it at start-up, so
    no request pays for it)."""
    while _PENDING:
        _PENDING.pop().compile()


@dataclass(slots=True)
class RuleSet:
    """Compiled rules for a family of labels (intents, causes, acts, guard codes...)."""

    rules: list[Rule] = field(default_factory=list)
    gate: Gate = field(default_factory=lambda: Gate([]))

    @classmethod
    def build(
        cls, spec: Mapping[str, Iterable[Mapping[str, Any]]], cues: Mapping[str, list[str]]
    ) -> RuleSet:
        """Compile ``{label: [rule, …]}`` with ``%cue%`` expansion."""
        out = cls()
        alternatives: list[Sequence[Conditions] | None] = []
        for label, rules in spec.items():
            for r in rules:
                unknown = set(r) - {"any", "all", "none", "weight", "max_len", "negatable", "once"}
                if unknown:
                    raise ValueError(f"rule for {label}: unknown keys {sorted(unknown)}")
                any_pattern = _pattern(r.get("any"), cues)
                any_, any_keys = _led(any_pattern)
                # Several alternatives gated one by one (no "all"): each searched on its own.
                parts = tuple(map(Lazy, any_pattern.parts, any_pattern.needs)) if isinstance(
                    any_pattern, Led) and len(any_pattern.parts) > 1 and not r.get("all") else None
                all_ = [_led(_pattern([p], cues) if isinstance(p, str) else p) for p in r.get("all", [])]
                # Gated by its alternatives when it has no "all" (which the first one gates).
                alternatives.append(any_pattern.alternatives or None
                                    if isinstance(any_pattern, Led) and not all_ else None)
                none = _led(_pattern(r.get("none"), cues))[0]
                out.rules.append(
                    Rule(
                        label=label,
                        any=Lazy(any_) if any_ is not None and not parts else None,
                        all=[Lazy(c) for c, _ in all_ if c is not None],
                        none=Lazy(none) if none is not None else None,
                        weight=float(r.get("weight", 1)),
                        max_len=r.get("max_len"),
                        negatable=bool(r.get("negatable", True)),
                        once=bool(r.get("once", False)),
                        # Every "all" pattern must match: the first one's prefixes gate the rule.
                        keys=all_[0][1] if all_ else any_keys if any_keys is not None else _needed(any_pattern),
                        parts=parts,
                    )
                )
        out.gate = Gate([rule.keys for rule in out.rules], alternatives)
        return out

    def hits(self, text: str, negation: Negation) -> list[Hit]:
        """Every firing of every rule on ``text``."""
        found: list[Hit] = []
        n = len(text)
        rules = self.rules
        gate = self.gate
        alive = gate.alive(text)
        for idx in gate.owners(alive):
            rule = rules[idx]
            any_: Searcher | None = rule.any if rule.parts is None else _either(
                rule.parts, gate.entries(idx, alive))
            if not rule.all and any_ is not None:
                # Most rules are one alternation that does not match at all: one search
                # tells, before any of the checks below.
                m = any_.search(text)
                if m is None or (rule.max_len is not None and n > rule.max_len) or (
                        rule.none is not None and rule.none.search(text)):
                    continue
                for s, e in _free_matches(any_, text, negation if rule.negatable else None,
                                          found=m):
                    found.append(Hit(rule.label, s, e, rule.weight, idx))
                continue
            if rule.max_len is not None and n > rule.max_len:
                continue
            neg = negation if rule.negatable else None
            spans: list[tuple[int, int]] = []
            if rule.all:
                ok = True
                for pat in rule.all:
                    span = _first_free(pat, text, neg)
                    if span is None:
                        ok = False
                        break
                    spans.append(span)
                if not ok:
                    continue
            if rule.any is not None:
                matched = _free_matches(rule.any, text, neg)
                if not matched:
                    continue
                spans.extend(matched[:1] if rule.all else matched)
            # "none" last: it is compiled only for a text where the rest matches.
            if not spans or (rule.none is not None and rule.none.search(text)):
                continue
            start = min(s for s, _ in spans)
            end = max(e for _, e in spans)
            if rule.all or rule.any is None:
                found.append(Hit(rule.label, start, end, rule.weight, idx))
            else:
                found.extend(Hit(rule.label, s, e, rule.weight, idx) for s, e in spans)
        return found

    def scores(
        self, text: str, negation: Negation, emphasis: Emphasis | None = None
    ) -> dict[str, float]:
        """Summed weights per label (a rule counts once per clause, or once if ``once``)."""
        return self.scored(text, negation, emphasis)[0]

    def scored(
        self, text: str, negation: Negation, emphasis: Emphasis | None = None
    ) -> tuple[dict[str, float], set[int]]:
        """The scores (see ``scores``) and the rules that fired (indices into ``rules``)."""
        out: dict[str, float] = {}
        seen: set[tuple[str, int, int]] = set()
        fired: set[int] = set()
        for h in self.hits(text, negation):
            fired.add(h.rule)
            key = (h.label, h.rule, -1 if self.rules[h.rule].once else _clause_of(text, h.start))
            if key in seen:
                continue
            seen.add(key)
            w = h.weight * (emphasis.factor(text, h.start) if emphasis else 1.0)
            out[h.label] = out.get(h.label, 0.0) + w
        return out, fired

    def names(self) -> list[str]:
        """A name per rule, its label and its place among the label's rules (``complain.3``):
        what the learned stack calls the rule's cue."""
        count: dict[str, int] = {}
        out = []
        for r in self.rules:
            out.append(f"{r.label}.{count.get(r.label, 0)}")
            count[r.label] = count.get(r.label, 0) + 1
        return out


def _pattern(patterns: list[str] | Led | None, cues: Mapping[str, list[str]]) -> str | Led | None:
    """The factored alternation of ``patterns`` with their cues expanded."""
    if isinstance(patterns, Led):
        return patterns
    if not patterns:
        return None
    return factor([expand(p, cues) for p in patterns])


def _needed(pattern: str | Led | None) -> frozenset[str] | None:
    """For a pattern whose matches can start anywhere ("(?P<x>\\S{1,3})就是(?P=x)", a
    whole-message shape): strings of one or two characters of which every match holds one
    (gate.required), as keys. A text without them is one the pattern cannot match, so the
    gate need not search it there (grams holds every character of a text and every pair)."""
    if pattern is None:
        return None
    try:
        return required(pattern.pattern if isinstance(pattern, Led) else pattern)
    except ValueError:  # a pattern regex_syntax cannot read: searched in every text
        return None


def _led(pattern: str | Led | None) -> tuple[str | None, frozenset[str] | None]:
    """The led pattern (to compile) and the prefixes its matches start with (gate.prefixes)."""
    from bot.understand.scoped import lead_and_keys  # scoped builds on this module

    if pattern is None:
        return None, None
    if isinstance(pattern, Led):
        return pattern.pattern, pattern.keys
    # The first-character lookahead lets `re` skip most positions with one class test.
    return lead_and_keys(pattern)


class Searcher(Protocol):
    def search(self, text: str, pos: int = ...) -> re.Match[str] | None: ...


class Either:
    """The alternatives of an ``any`` that can match a text, each its own pattern, searched
    as their alternation would be: ``re`` takes the match that starts first and, of those
    starting there, the first alternative's (the alternation's match at that position).
    Compiling a rule's every alternative was most of `csbot lint`'s start-up: one line
    needs few of them."""

    __slots__ = ("parts",)

    def __init__(self, parts: list[Lazy]) -> None:
        self.parts = parts

    def search(self, text: str, pos: int = 0) -> re.Match[str] | None:
        best: re.Match[str] | None = None
        for part in self.parts:
            m = part.search(text, pos)
            if m is not None and (best is None or m.start() < best.start()):
                best = m
        return best


def _either(parts: tuple[Lazy, ...], entries: int) -> Searcher:
    """The parts whose bits ``entries`` has (Gate.entries), searched together."""
    entries &= (1 << len(parts)) - 1
    if entries & (entries - 1) == 0:  # one of them (the gate named the rule: not none)
        return parts[entries.bit_length() - 1]
    alive: list[Lazy] = []
    while entries:
        low = entries & -entries
        alive.append(parts[low.bit_length() - 1])
        entries ^= low
    return Either(alive)


def _free_matches(
    pat: Searcher, text: str, neg: Negation | None, first: bool = False,
    found: re.Match[str] | None = None,
) -> list[tuple[int, int]]:
    """Non-empty, non-negated matches (``found``: the first match, already searched).
    After a negated match the search goes on from its next character, so "还没退,快点退钱"
    still finds the free "退钱" inside it."""
    out: list[tuple[int, int]] = []
    pos = 0
    while pos <= len(text):
        m = found or pat.search(text, pos)
        found = None
        if m is None:
            break
        start, end = span(m)  # see alternation._scan_first
        if end == start or (neg and neg.negated(text, start)):
            pos = start + 1
        else:
            out.append((start, end))
            if first:
                break
            pos = end
    return out


def _first_free(pat: Searcher, text: str, neg: Negation | None) -> tuple[int, int] | None:
    found = _free_matches(pat, text, neg, first=True)
    return found[0] if found else None


def _clause_of(text: str, pos: int) -> int:
    return len(_CLAUSE_END.findall(text, 0, pos))


class Negation:
    """Decides whether a match is negated by a negator just before it in its clause.

    ``window`` (optional) bounds how far back a negator may start; with negators no longer
    than it, the answer is the same and long unpunctuated texts stay linear."""

    def __init__(self, negators: list[str], window: int | None = None) -> None:
        self._tail = compile_lexicon("(?:" + "|".join(negators) + ")$") if negators else None
        self._window = window

    def negated(self, text: str, start: int) -> bool:
        if self._tail is None or start == 0:
            return False
        floor = 0 if self._window is None else max(0, start - self._window)
        left = start - 1
        while left >= floor and not _CLAUSE_END.match(text[left]):
            left -= 1
        return bool(self._tail.search(text, left + 1, start))


class Emphasis:
    """Weights clauses that a contrast marker puts forward ("不是A，而是B": B counts)."""

    def __init__(self, markers: list[str], factor: float) -> None:
        self._markers = re.compile("^(?:" + "|".join(markers) + ")") if markers else None
        self._factor = factor

    def factor(self, text: str, pos: int) -> float:
        if self._markers is None:
            return 1.0
        left = pos - 1
        while left >= 0 and not _CLAUSE_END.match(text[left]):
            left -= 1
        clause_start = left + 1
        return self._factor if self._markers.search(text[clause_start:pos + 1]) else 1.0
