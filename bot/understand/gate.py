"""Which rules of a rule set can match a text, told by the characters their matches start with.

Most rules match none of a message: searching each of them was most of the understanding's
regex time, even with ``re`` scanning for first characters in C. Each rule gets the set of
one- or two-character strings that every non-empty match of its pattern starts with
(``prefixes``); ``Gate`` indexes the rules of a set by those strings, and a text's own
one- and two-character substrings then name the only rules worth searching. A rule whose
matches can start anywhere (a dot, a negated class) is always searched. ``\\d`` is the ten
ASCII digits or ``OTHER_DIGIT``, a key that stands for any other decimal digit (٣, 𝟑…):
the digits that begin amounts and dates do not leave a rule always searched.

A rule that is one long alternation (the guard's ``blame``, the acts' ``empathize``) has
prefixes that most messages hold (您, 是…), so it is gated by its alternatives instead
(``alternatives``: scoped._Expander gives them for the agent acts and the guard): an
alternative can match only in a text that holds one of its prefixes and, for each set
``needs`` finds, one string of that set: a character, or two written one after the other
("(您|你)…(没量准|没看清)" needs 您 or 你, and 没量 or 没看).
The rule is searched when one of its alternatives can match, and only those alternatives
(``entries``), each its own pattern (rules.Either: the match that starts first, and of
those the first alternative's, as the alternation's); when none can, neither can the
alternation, so no hit is lost and none is added. Each alternative's most telling
conditions (up to ``SLOTS``) take a bit each in one integer per gram, so a text costs the
or-ing of its grams' masks and a few shifts and ands.

The sets are worked out from the regex as regex_syntax parses it and only ever err on the
side of more: a construct not followed exactly (a repeat past its first time, a dot, flags)
ends a prefix early or adds no needed set, which is still true of every match.
Tests: tests/test_gate.py.
"""

from __future__ import annotations

import bisect
import functools
import operator
import re
from collections.abc import Mapping, Sequence
from typing import Any

from bot.understand import regex_syntax as rx
from bot.understand.ngrams import pieces

LENGTH = 2  # two characters name a Chinese word's start far better than one
MAX_KEYS = 4096  # past this many prefixes a rule is indexed by shorter ones
_MAX_RANGE = 64  # a wider class is "any of many characters"
# The key of the decimal digits other than 0-9 that \d also matches; a text holding one
# has it among its grams. It begins a prefix and ends it (one character, never two).
OTHER_DIGIT = "\x00"
_OTHER_DIGITS = re.compile(r"[^\D0-9]")

# A prefix being built: (the characters so far, whether the pattern may still add to them).
_Partial = tuple[str, bool]


def prefixes(pattern: str | rx.Parsed) -> frozenset[str] | None:
    """The strings of one or two characters such that every non-empty match of ``pattern``
    (a regex, or regex_syntax's parse of one) starts with one of them; None when a match
    can start with any character."""
    return keys_of(partials(pattern))


def partials(pattern: str | rx.Parsed, subs: Mapping[str, set[_Partial]] | None = None) -> set[_Partial]:
    """The prefixes of ``pattern`` with, for each, whether the pattern may still add to it.
    A character in ``subs`` stands for a sub-pattern with those partials (a cue in a rule:
    the rule's skeleton is parsed, not its whole expansion; see scoped._Expander).
    Raises ValueError for a pattern regex_syntax cannot read."""
    tree = rx.parse(pattern) if isinstance(pattern, str) else pattern
    if tree.loose:
        return {("", False)}
    return _extend({("", True)}, tree.items, subs or {})


def keys_of(found: set[_Partial]) -> frozenset[str] | None:
    """``prefixes`` from ``partials``."""
    keys = {p for p, _ in found}
    if "" in keys:
        return None
    return frozenset(k for k in keys if k[:-1] not in keys)  # "好" makes "好评" needless


def _close(cur: set[_Partial]) -> set[_Partial]:
    return {(p, False) for p, _ in cur}


def chars(atoms: Sequence[Any]) -> list[str] | None:
    """The characters of a class's atoms; None when there are too many to list."""
    out: list[str] = []
    for a in atoms:
        if isinstance(a, tuple) and ord(a[1]) - ord(a[0]) < _MAX_RANGE:
            out.extend(chr(c) for c in range(ord(a[0]), ord(a[1]) + 1))
        elif isinstance(a, str) and len(a) == 1:
            out.append(a)
        elif a == "\\d":
            out.extend("0123456789" + OTHER_DIGIT)
        else:  # a wide range, \s
            return None
    return out


_OPEN = operator.itemgetter(1)  # of a partial: whether the pattern may still add to it


def _extend(cur: set[_Partial], items: Sequence[rx.Node],
            subs: Mapping[str, set[_Partial]]) -> set[_Partial]:
    """The prefixes ``cur`` extended by the parsed sequence ``items``."""
    for op, av in items:
        if not any(map(_OPEN, cur)):
            break
        if op is rx.LIT or op is rx.IN:
            found_chars = [av] if op is rx.LIT else chars(av)
            if found_chars is None:
                return _close(cur)
            # Each character, or what it stands for (a cue's mark): partials themselves.
            nexts = [subs.get(c) or {(c, c != OTHER_DIGIT)} for c in found_chars]
            nxt: set[_Partial] = set()
            for p, open_ in cur:
                if not open_:
                    nxt.add((p, False))
                    continue
                if not p:  # nothing before them: what they start with, as they are
                    nxt.update(*nexts)
                    continue
                for found in nexts:
                    nxt.update(((p + q)[:LENGTH], more and len(p) + len(q) < LENGTH)
                               if q != OTHER_DIGIT else (p or q, False) for q, more in found)
            if len(nxt) > MAX_KEYS:
                return _close(cur)
            cur = nxt
        elif op is rx.GROUP:
            cur = _extend(cur, av, subs)
        elif op is rx.BRANCH:
            nxt = set()
            for seq in av:
                nxt |= _extend(cur, seq, subs)
            if len(nxt) > MAX_KEYS:
                return _close(cur)
            cur = nxt
        elif op is rx.REPEAT:
            lo, hi, sub = av
            once = _extend(cur, sub, subs)
            if hi != 1:  # a second repetition or what follows: not followed
                once = _close(once)
            cur = cur | once if lo == 0 else once
        elif op is not rx.ZERO:  # a dot, a back-reference...: any character next
            return _close(cur)
    return cur


def required(pattern: str) -> frozenset[str] | None:
    """Strings of one or two characters of which every match of ``pattern`` holds at least
    one (the fewest found; OTHER_DIGIT for the other decimal digits, as in ``grams``); None
    when none is known. Raises ValueError for a pattern regex_syntax cannot read."""
    return min(needs(pattern), key=len, default=None)


def needs(pattern: str | rx.Parsed, subs: Mapping[str, Sequence[frozenset[str]]] | None = None) -> list[frozenset[str]]:
    """Sets of strings of one or two characters such that every match of ``pattern`` holds
    one of each set (as ``required``; a text's ``grams`` tell). A character in ``subs``
    stands for a sub-pattern with those sets (a cue's mark, as in ``partials``). Raises
    ValueError for a pattern regex_syntax cannot read."""
    tree = rx.parse(pattern) if isinstance(pattern, str) else pattern
    return [] if tree.loose else _needs(tree.items, subs or {})


def _needs(items: Sequence[rx.Node], subs: Mapping[str, Sequence[frozenset[str]]]) -> list[frozenset[str]]:
    out: list[frozenset[str]] = []
    # Plain characters one after the other (what matches nothing may stand between them)
    # are next to each other in every match: each pair of them is needed, and a pair is
    # far rarer in a text than either character ("没量准" needs 没量 and 量准, not 没 and 量).
    # Each alternative the gate leaves is compiled on its first search: with single
    # characters, half of those `csbot lint` compiled found nothing (docs/performance.md).
    run = ""
    for op, av in items:
        if op is rx.LIT and av not in subs:
            run += av
            continue
        if op is rx.ZERO:
            continue
        if run:
            out += _pairs(run)
            run = ""
        if op is rx.LIT:
            out.extend(subs[av])
        elif op is rx.IN:
            listed = chars(av)
            if listed is not None:
                out.append(frozenset(listed))
        elif op is rx.GROUP:
            out += _needs(av, subs)
        elif op is rx.REPEAT and av[0] >= 1:
            out += _needs(av[2], subs)
        elif op is rx.BRANCH:
            # One alternative matches: the union of one set of each is needed.
            each = [_needs(seq, subs) for seq in av]
            if all(each):
                out.append(frozenset().union(*(min(e, key=len) for e in each)))
    if run:
        out += _pairs(run)
    return out


def _pairs(run: str) -> list[frozenset[str]]:
    """What a run of plain characters needs: itself when one character, else each pair."""
    if len(run) == 1:
        return [frozenset((run,))]
    return [frozenset((run[i:i + 2],)) for i in range(len(run) - 1)]


# What a text must hold for one alternative of a rule to match: one string of each set.
Conditions = tuple[frozenset[str], ...]
SLOTS = 4  # the conditions an alternative is gated by at most: its most telling ones


def _cost(keys: frozenset[str]) -> float:
    """How often a text holds one of ``keys``, roughly: two characters are rarer than one."""
    return sum(1.0 if len(k) == 1 else 0.25 for k in keys)


class Gate:
    """The rules of a set indexed by their prefixes (None in ``keys``: always searched) or,
    for a rule given its ``alternatives``, by what each alternative needs (see the module's
    docstring): such a rule is searched when one of its alternatives can match."""

    __slots__ = ("_base", "_first", "_index", "_keys", "_mask", "_owner", "_width")

    def __init__(self, keys: Sequence[frozenset[str] | None],
                 alternatives: Sequence[Sequence[Conditions] | None] = ()) -> None:
        # An entry per alternative (one for a rule without them) with up to SLOTS conditions.
        # The bit of entry e's condition in slot j is j * width + e; a text's conditions met
        # are or-ed from its grams' masks, and an entry is alive when all its slots' bits are.
        conditions: list[list[frozenset[str]]] = []
        self._owner: list[int] = []  # entry → its rule
        self._first: list[int] = []  # rule → its first entry
        for i, k in enumerate(keys):
            alts = alternatives[i] if i < len(alternatives) else None
            self._first.append(len(conditions))
            for conds in alts if alts is not None else [[k] if k is not None else []]:
                conditions.append(sorted(conds, key=_cost)[:SLOTS])
                self._owner.append(i)
        width = self._width = len(conditions)
        base = 0
        index: dict[str, int] = {}
        for e, conds in enumerate(conditions):
            for slot in range(SLOTS):
                bit = 1 << (slot * width + e)
                if slot >= len(conds):
                    base |= bit  # no condition in this slot: met in every text
                    continue
                for key in conds[slot]:
                    index[key] = index.get(key, 0) | bit
        self._base = base
        self._mask = (1 << width) - 1
        self._index = index
        # A set, not the dict's keys: set & set compares stored hashes, a third cheaper.
        self._keys = frozenset(index)

    def alive(self, text: str) -> int:
        """The entries that can match ``text``, a bit each (see ``owners``, ``entries``)."""
        index = self._index
        met = self._base
        for key in grams(text) & self._keys:
            met |= index[key]
        width = self._width
        alive = met
        for slot in range(1, SLOTS):
            alive &= met >> (slot * width)
        return alive & self._mask

    def candidates(self, text: str) -> list[int]:
        """The rules that can match ``text``, in their order."""
        return self.owners(self.alive(text))

    def owners(self, alive: int) -> list[int]:
        """The rules of the entries ``alive``, in their order."""
        owner = self._owner
        out: list[int] = []
        while alive:
            low = alive & -alive
            rule = owner[low.bit_length() - 1]
            if not out or out[-1] != rule:
                out.append(rule)
            alive ^= low
        return out

    def entries(self, rule: int, alive: int) -> int:
        """The alternatives of ``rule`` among the entries ``alive``, bit i for its i-th."""
        return alive >> self._first[rule]


def in_order(text: str, needs: Sequence[frozenset[str]]) -> bool:
    """Whether ``text`` holds one string of each set of ``needs`` (``needs``' answer for a
    pattern, in its order), each starting after the one before. So does every match: each set
    is needed by an item of the pattern's sequence or one of a run's pairs, and what a later
    item matches starts after an earlier item's characters."""
    held = grams(text)
    starts = _starts(text)
    pos = 0
    for keys in needs:
        first = len(text)
        for key in keys & held:
            at = starts[key]
            i = bisect.bisect_left(at, pos)
            if i < len(at) and at[i] < first:
                first = at[i]
        if first == len(text):
            return False
        pos = first + 1
    return True


@functools.lru_cache(maxsize=8)
def _starts(text: str) -> dict[str, list[int]]:
    """Where each of ``grams(text)`` starts in ``text``."""
    out: dict[str, list[int]] = {}
    for i, c in enumerate(text):
        out.setdefault(c, []).append(i)
        out.setdefault(text[i:i + 2], []).append(i)  # the last character a second time: harmless
    for m in _OTHER_DIGITS.finditer(text):
        out.setdefault(OTHER_DIGIT, []).append(m.start())
    return out


@functools.lru_cache(maxsize=8)
def grams(text: str) -> frozenset[str]:
    """The one- and two-character substrings of ``text``, and OTHER_DIGIT when it holds a
    decimal digit other than 0-9 (kept for the last few texts: several rule sets read the
    same message).

    The 2-grams are the ones the learned model also scores (ngrams.pairs, built once per
    message for both)."""
    found = pieces(text)
    return found | {OTHER_DIGIT} if _OTHER_DIGITS.search(text) else found


__all__ = ["LENGTH", "MAX_KEYS", "OTHER_DIGIT", "SLOTS", "Conditions", "Gate", "chars", "grams", "in_order", "keys_of",
           "needs", "partials", "prefixes", "required"]
