"""Scoped exceptions and a wider negation on top of ``rules.RuleSet``.

Used by the agent-act lexicon and the guard. Extra rule keys (removed before the rule
reaches ``RuleSet``):
  unless:       regexes; a hit is dropped when one matches in the hit's scope. Unlike
                ``none`` (whole text) this lets "补偿跟评价无关" clear its own sentence
                without clearing a real offer in the next one.
  unless_scope: ``sentence`` (default: split at 。!?; and at 但是/不过/可是/然而),
                ``clause`` (also split at commas), ``answer`` (the hit's sentence and the
                one after it: a question and its answer) or ``text``. ``unless`` may also map
                scopes to regex lists ({clause: [...], sentence: [...]}).
  context:      regexes that must each occur somewhere, negated or not (a topic such
                as the review, where "能不能删评" still names the review).
Negation: a negator may be followed by a few filler words ("没有直接退货", "不会再打扰").
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from bot.understand import gate
from bot.understand import regex_syntax as rx
from bot.understand.alternation import compile_lexicon, factor, literal_led
from bot.understand.rules import CLAUSE_BREAK, Hit, Lazy, Led, Negation, RuleSet

# Written as alternatives that each start with a plain character, so that ``re`` scans for
# those characters in C (a class among them would make it try every alternative at every
# position); a dot ends a segment unless it stands between two digits (3.5元).
_SENTENCE = re.compile(r"。|!|！|\?|？|;|；|\n|\.(?!(?<=\d\.)\d)|但是|不过|可是|然而")
_CLAUSE = re.compile(r"，|,|。|!|！|\?|？|;|；|~|\n|、|:|\.(?!(?<=\d\.)\d)|但是|不过|可是|然而")
_SCOPES = {"sentence": _SENTENCE, "clause": _CLAUSE, "answer": _SENTENCE}
# Scopes that run on to the end of the next segment ("有好评有礼活动吗？没有的哦，我们不做这类活动":
# the agent repeats the buyer's question and answers it in the next sentence)
_ANSWER = frozenset({"answer"})


_CUE = re.compile(r"%([a-z_]+)%")


def expand(pattern: str, cues: Mapping[str, list[str]]) -> str:
    """``%name%`` → the cue's alternation, led by a lookahead on its possible first
    characters: Python's ``re`` then skips most positions with one class test instead of
    trying every alternative (the lexicons are big alternations; this makes them ~3x faster)."""
    return _Expander(cues).pattern(pattern)[0]


def alternation(patterns: Iterable[str]) -> str:
    """``(?:a|b|…)`` led by its first-character lookahead."""
    return lead(factor(list(patterns)))


@lru_cache(maxsize=4096)
def lead(pattern: str) -> str:
    """``pattern`` with a first-character lookahead when that set is known."""
    if literal_led(pattern):
        return pattern
    return _led(pattern, _first_of(pattern))


@lru_cache(maxsize=4096)
def lead_and_keys(pattern: str) -> tuple[str, frozenset[str] | None]:
    """``lead(pattern)`` and the prefixes that gate it (gate.prefixes), from one parse."""
    try:
        tree = rx.parse(pattern)
    except ValueError:
        return pattern, None
    return (pattern if literal_led(pattern) else _led(pattern, _first_parsed(tree))), gate.prefixes(tree)


def _first_of(skeleton: str) -> set[str] | None:
    try:
        return _first_parsed(rx.parse(skeleton))
    except ValueError:
        return None


def _first_parsed(tree: rx.Parsed) -> set[str] | None:
    return None if tree.loose else _first(tree.items)


def _led(pattern: str, first: set[Any] | None) -> str:
    if not first or "" in first or literal_led(pattern):
        return pattern  # unknown, or re scans for the first characters itself
    return "(?=[" + _atoms(first) + "])" + pattern


def _atoms(first: set[str]) -> str:
    # Two characters: a category (\\d, \\s) written as it is; one: a character.
    return "".join(sorted(a if len(a) == 2 else re.escape(a) for a in first if a != ""))


class _Expander:
    """Expands ``%cue%`` references of one cue table.

    Each pattern comes with two *skeletons*: the same regex with every cue replaced by a
    stand-in. For the first-character lookahead the stand-in is one class of the
    characters the cue can start with (``[ab]``, ``(?:[ab])?`` when it can be empty, ``.``
    when unknown); for the gate's prefixes it is one private-use character that
    gate.partials replaces by the cue's own prefixes. Both are worked out by parsing the
    skeletons, not the full expansion: the results are the same, and parsing every rule's
    expanded text once more was most of the lexicons' compile time (CLI start-up)."""

    def __init__(self, cues: Mapping[str, list[str]]) -> None:
        self.cues = cues
        self._done: dict[str, tuple[str, str, str]] = {}
        self._subs: dict[str, set[Any]] = {}  # private-use character → a cue's prefixes
        self._needs: dict[str, list[frozenset[str]]] = {}  # private-use character → a cue's gate.needs
        self._firsts: dict[str, set[Any] | None] = {}  # private-use character → a cue's first characters
        self._stand_ins: dict[str, str] = {}  # private-use character → the cue's first-character stand-in

    def pattern(self, pattern: str) -> tuple[str, str, str]:
        """(full expansion, first-character skeleton, prefix skeleton) of one pattern."""
        if "%" not in pattern:
            return _plain(pattern)
        parts: list[tuple[str, str, str]] = []
        last = 0
        for m in _CUE.finditer(pattern):
            parts += [_plain(pattern[last:m.start()]), self.cue(m.group(1), pattern)]
            last = m.end()
        parts.append(_plain(pattern[last:]))
        return "".join(p[0] for p in parts), "".join(p[1] for p in parts), "".join(p[2] for p in parts)

    def cue(self, name: str, where: str = "") -> tuple[str, str, str]:
        """(led alternation of the cue, its two stand-ins)."""
        if name not in self._done:
            if name not in self.cues:
                raise ValueError(f"unknown cue %{name}% in pattern {where!r}")
            body, first, found, needed = self.alternation([self.pattern(p) for p in self.cues[name]])
            if first is None:
                stand_in = "."
            elif first - {""}:
                stand_in = "[" + _atoms(first) + "]" + ("?" if "" in first else "")
            else:
                stand_in = ""
            mark = chr(0xE000 + len(self._subs))
            self._subs[mark] = found
            self._needs[mark] = needed
            self._firsts[mark] = first
            self._stand_ins[mark] = stand_in
            self._done[name] = (body, stand_in, mark)
        return self._done[name]

    def alternation(self, items: list[tuple[str, str, str]], reads: list[_Read] | None = None
                    ) -> tuple[str, set[Any] | None, set[Any], list[frozenset[str]]]:
        """The led ``(?:a|b|…)`` of expanded items, its first-character set, its prefixes
        (gate.partials) and the characters its matches need (gate.needs), from each item's
        ``_read`` (``reads``, when already made)."""
        body = factor([f for f, _, _ in items])
        if reads is None:
            reads = [self._read(skel, marked) for _, skel, marked in items]
        first, found, needed = _either(reads)
        return _led(body, first), first, found, needed

    def _read(self, skeleton: str, marked: str) -> _Read:
        """The first characters, the prefixes and the needed characters of one pattern, from
        its two skeletons.

        The skeletons differ only in the cues' stand-ins, so one parse of the marked one
        serves both, a mark read as its cue's first characters (parsing each skeleton was a
        fifth of a lexicon's load). Where a stand-in is not a plain class or a dot (a cue
        that may match nothing), or the lexicon has a private-use character of its own, the
        two are parsed as before."""
        marks = _PRIVATE_USE.findall(marked)
        fallback = _PRIVATE_USE.search(skeleton) or any(self._stand_ins[m][-1:] in ("", "?") for m in marks)
        try:
            tree = rx.parse(marked)
        except ValueError:  # unknown: the rule is always searched
            return (_first_of(skeleton) if fallback else None), {("", False)}, []
        needed = gate.needs(tree, self._needs)
        if fallback:
            return _first_of(skeleton), self._partials(tree), needed
        return (None if tree.loose else _first(tree.items, self._firsts)), self._partials(tree), needed

    def led(self, patterns: Iterable[str]) -> Led:
        """``alternation(expand(p) for p in patterns)`` and its prefixes, without parsing
        the expansion; with what each pattern needs and its own led pattern (Led.parts)."""
        items = [self.pattern(p) for p in patterns]
        reads = [self._read(skel, marked) for _, skel, marked in items]
        body, _, found, _ = self.alternation(items, reads)
        return Led(body, gate.keys_of(found), tuple(map(_conditions, reads)),
                   tuple(_led(factor([full]), read[0]) for (full, _, _), read in zip(items, reads, strict=True)),
                   tuple(tuple(read[2]) for read in reads))

    def _partials(self, skeleton: str | rx.Parsed) -> set[Any]:
        try:
            return gate.partials(skeleton, self._subs)
        except ValueError:
            return {("", False)}  # unknown: the rule is always searched

    def led_one(self, pattern: str) -> Led:
        """``lead(expand(pattern))`` and its prefixes, likewise."""
        full, skel, keys = self.pattern(pattern)
        first, found, _ = self._read(skel, keys)
        return Led(_led(full, first), gate.keys_of(found))


_PRIVATE_USE = re.compile("[\ue000-\uf8ff]")
# What _Expander._read tells of a pattern: its first characters, its prefixes (gate.partials)
# and the characters it needs (gate.needs).
_Read = tuple[set[Any] | None, set[Any], list[frozenset[str]]]


def _either(reads: list[_Read]) -> _Read:
    """``_read`` of the alternation of patterns, from each one's: what parsing the
    alternation would give (the first characters and prefixes of either, a character of
    either one's needs), without parsing the patterns again."""
    if len(reads) == 1:
        return reads[0]
    if not reads:
        return {""}, {("", True)}, []
    firsts = [f for f, _, _ in reads]
    first = None if None in firsts else set().union(*firsts)  # type: ignore[arg-type]
    found: set[Any] = set().union(*(p for _, p, _ in reads))
    if len(found) > gate.MAX_KEYS:
        found = {("", False)}  # as gate.partials closes a branch of too many
    each = [n for _, _, n in reads]
    return first, found, [frozenset().union(*(min(n, key=len) for n in each))] if all(each) else []


def _conditions(read: _Read) -> gate.Conditions:
    """What a text must hold for one alternative to match (gate.Gate): its prefixes, when
    known, and the characters it needs."""
    keys = gate.keys_of(read[1])
    return (*(() if keys is None else (keys,)), *read[2])


def _plain(text: str) -> tuple[str, str, str]:
    # A private-use character of the lexicon's own would read as a cue's mark: "." instead
    # (any character) only makes the gate search the rule more often.
    return text, text, _PRIVATE_USE.sub(".", text)


def _first(items: list[rx.Node], marks: Mapping[str, set[Any] | None] | None = None) -> set[str] | None:
    """Characters (or the categories \\d, \\s) a parsed sequence can start with; "" if it
    can be empty; None when unknown (negated classes, dots...). ``marks``: characters that
    stand for a cue, with the cue's own answer."""
    out: set[str] = set()
    for op, av in items:
        if op is rx.LIT:
            if marks is None or av not in marks:
                return out | {av}
            sub = marks[av]
            if sub is None:
                return None
            out |= sub - {""}
            if "" not in sub:
                return out
            continue
        if op is rx.IN:
            for a in av:
                if isinstance(a, tuple):
                    if ord(a[1]) - ord(a[0]) >= 64:
                        return None
                    out.update(chr(c) for c in range(ord(a[0]), ord(a[1]) + 1))
                else:
                    out.add(a)
            return out
        if op is rx.GROUP or op is rx.BRANCH or op is rx.REPEAT:
            seqs = [av] if op is rx.GROUP else av if op is rx.BRANCH else [av[2]]
            empty = op is rx.REPEAT and av[0] == 0
            for seq in seqs:
                f = _first(seq, marks)
                if f is None:
                    return None
                empty = empty or "" in f
                out |= f - {""}
            if not empty:
                return out
            continue
        if op is rx.ZERO:
            continue
        return None
    return out | {""}


def _asks(text: str, at: int) -> bool:
    """Whether the negator at ``at`` is the 不 of an A不A question (能不能, 可不可以, 是不是)."""
    return 0 < at < len(text) - 1 and text[at] == "不" and text[at - 1] == text[at + 1]


class WideNegation(Negation):
    """Negated when the clause before a match ends in a negator plus up to two fillers."""

    def __init__(self, negators: list[str], fillers: list[str], coordinators: list[str] | None = None,
                 conjunct: int = 8) -> None:
        """``coordinators`` (或者, 或, 以及…): a match right after one is negated when the item
        before it, at most ``conjunct`` characters long, is ("不会让您加微信或者私下转账")."""
        super().__init__(negators)
        tail = "(?:" + "|".join(negators) + ")"
        if fillers:
            tail += "(?:" + "|".join(fillers) + "){0,2}"
        self._wide = compile_lexicon(tail + "$") if negators else None
        # Only this many characters before a match can take part (keeps long texts linear).
        self._span = max(map(len, negators), default=0) + 2 * max(map(len, fillers), default=0)
        self._coordinated = None
        if negators and coordinators:
            self._coordinated = compile_lexicon(
                tail + f"[^,，。!?;；]{{1,{conjunct}}}?(?:" + "|".join(coordinators) + ")$")
            self._span += conjunct + max(map(len, coordinators))

    def negated(self, text: str, start: int) -> bool:
        if self._wide is None or start == 0:
            return False
        left = max(0, start - self._span)
        for m in CLAUSE_BREAK.finditer(text, left, start):
            left = m.end()
        found = self._wide.search(text, left, start)
        # "能不能快点改", "是不是要删": a question, not a negation
        return (found is not None and not _asks(text, found.start())) or bool(
            self._coordinated is not None and self._coordinated.search(text, left, start))



@dataclass(frozen=True, slots=True)
class _Unless:
    # The exceptions of one scope: one alternation (one scan of the segment), or with
    # ``shared_exceptions`` one pattern per exception, shared by every rule that lists it.
    patterns: tuple[Lazy, ...]
    scope: re.Pattern[str] | None  # None: the whole text
    answer: bool = False  # the segment after the hit's too


class ScopedRules:
    """A ``RuleSet`` whose rules may carry scoped ``unless`` exceptions."""

    def __init__(
        self, spec: Mapping[str, list[dict[str, Any]]], cues: Mapping[str, list[str]],
        negation: Negation, shared_exceptions: bool = False,
    ) -> None:
        """``shared_exceptions``: compile each exception once for every rule that lists it
        and search them one by one. The guard's rules share most of theirs (%free%,
        %disavow%: compiling them again in every rule's list was a tenth of `csbot lint`'s
        regex compiling) and an exception is searched only when a rule hits, which is rare;
        the agent's acts hit on most messages, where one scan of an alternation is cheaper."""
        plain: dict[str, list[dict[str, Any]]] = {}
        ex = _Expander(cues)
        shared: dict[str, Lazy] = {}  # an exception's pattern → its one Lazy
        self._unless: list[list[_Unless]] = []
        self._context: list[list[Lazy]] = []  # compiled when first needed, like the rules
        for label, rules in spec.items():
            plain[label] = []
            for rule in rules:
                r = dict(rule)
                unless = r.pop("unless", None) or {}
                scope = r.pop("unless_scope", "sentence")
                context = r.pop("context", [])
                self._context.append([Lazy(ex.led_one(p).pattern) for p in context])
                # Led, and with their prefixes: RuleSet.build neither leads nor parses them.
                for key in ("any", "none"):
                    if key in r:
                        r[key] = ex.led(r[key])
                if "all" in r:
                    r["all"] = [ex.led_one(p) for p in r["all"]]
                plain[label].append(r)
                by_scope = unless if isinstance(unless, dict) else {scope: unless}
                self._unless.append([
                    _Unless(tuple(_shared(shared, ex.led([p]).pattern) for p in pats) if shared_exceptions
                            else (Lazy(ex.led(pats).pattern),), _SCOPES.get(sc), sc in _ANSWER)
                    for sc, pats in by_scope.items() if pats
                ])
        self.rules = RuleSet.build(plain, {})
        self.negation = negation

    def hits(self, text: str, breaks: dict[re.Pattern[str], list[tuple[int, int]]] | None = None) -> list[Hit]:
        """Every hit that no ``unless`` of its rule clears (``breaks``: the text's segment
        breaks found so far, by scope)."""
        breaks = {} if breaks is None else breaks
        memo: dict[tuple[Any, ...], bool] = {}  # a long text has many hits in one segment
        out = []
        for h in self.rules.hits(text, self.negation):
            key = ("context", h.rule)
            if key not in memo:
                memo[key] = all(p.search(text) for p in self._context[h.rule])
            if memo[key] and not self._cleared(text, h, breaks, memo):
                out.append(h)
        return out

    def scores(self, text: str) -> dict[str, float]:
        """Summed weights per label; a rule counts once per clause."""
        out: dict[str, float] = {}
        seen: set[tuple[int, int]] = set()
        breaks: dict[re.Pattern[str], list[tuple[int, int]]] = {}
        found = self.hits(text, breaks)
        ends = [e for _, e in _breaks(_CLAUSE, text, breaks)] if found else []
        for h in found:
            key = (h.rule, bisect_right(ends, h.start))
            if key in seen:
                continue
            seen.add(key)
            out[h.label] = out.get(h.label, 0.0) + h.weight
        return out

    def _cleared(
        self, text: str, hit: Hit, cache: dict[re.Pattern[str], list[tuple[int, int]]],
        memo: dict[tuple[Any, ...], bool],
    ) -> bool:
        for k, u in enumerate(self._unless[hit.rule]):
            if u.scope is None:
                start, end = 0, len(text)
            else:
                found = _breaks(u.scope, text, cache)
                start, end = _bounds(found, len(text), hit.start, max(hit.end - 1, hit.start))
                if u.answer and end < len(text):
                    end = _bounds(found, len(text), end, end)[1]
            key = (hit.rule, k, start, end)
            if key not in memo:
                pats = u.patterns
                memo[key] = (pats[0].search(text, start, end) is not None if len(pats) == 1
                             else any(p.search(text, start, end) for p in pats))
            if memo[key]:
                return True
        return False


def _shared(lazies: dict[str, Lazy], source: str) -> Lazy:
    if source not in lazies:
        lazies[source] = Lazy(source)
    return lazies[source]


def _breaks(
    scope: re.Pattern[str], text: str, cache: dict[re.Pattern[str], list[tuple[int, int]]]
) -> list[tuple[int, int]]:
    if scope not in cache:
        cache[scope] = [m.span() for m in scope.finditer(text)]
    return cache[scope]


def _bounds(breaks: list[tuple[int, int]], n: int, first: int, last: int) -> tuple[int, int]:
    """Start of the segment holding ``first`` and end of the one holding ``last``, its
    closing break included (so an exception can see the "?" of a question)."""
    i = bisect_right(breaks, (first, n)) - 1  # the last break starting at or before first
    while i >= 0 and breaks[i][1] > first:
        i -= 1
    start = breaks[i][1] if i >= 0 else 0
    j = bisect_left(breaks, (last, -1))  # the first break starting at or after last
    end = breaks[j][1] if j < len(breaks) else n
    return start, end
