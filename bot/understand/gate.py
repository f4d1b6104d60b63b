"""Which rules of a rule set can match a text, told by the characters their matches start with.

Most rules match none of a message: searching each of them was most of the understanding's
regex time, even with ``re`` scanning for first characters in C. Each rule gets the set of
one- or two-character strings that every non-empty match of its pattern starts with
(``prefixes``); ``Gate`` indexes the rules of a set by those strings, and a text's own
one- and two-character substrings then name the only rules worth searching. A rule whose
matches can start anywhere (a dot, a negated class) is always searched. ``\\d`` is the ten
ASCII digits or ``OTHER_DIGIT``, a key that stands for any other decimal digit (٣, 𝟑…):
the digits that begin amounts and dates do not leave a rule always searched.

The sets are worked out from the regex as regex_syntax parses it and only ever err on the
side of more: a construct not followed exactly (a repeat past its first time, a dot, flags)
ends a prefix early, which is still true of every match. Tests: tests/test_gate.py.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from typing import Any

from bot.understand import regex_syntax as rx
from bot.understand.ngrams import pieces

LENGTH = 2  # two characters name a Chinese word's start far better than one
_MAX_KEYS = 4096  # past this many prefixes a rule is indexed by shorter ones
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


def _extend(cur: set[_Partial], items: Sequence[rx.Node],
            subs: Mapping[str, set[_Partial]]) -> set[_Partial]:
    """The prefixes ``cur`` extended by the parsed sequence ``items``."""
    for op, av in items:
        if not any(open_ for _, open_ in cur):
            break
        if op is rx.LIT or op is rx.IN:
            found_chars = [av] if op is rx.LIT else chars(av)
            if found_chars is None:
                return _close(cur)
            # Each character, or what it stands for (a cue's mark).
            nexts = [subs.get(c) or {(c, True)} for c in found_chars]
            nxt: set[_Partial] = set()
            for p, open_ in cur:
                if not open_:
                    nxt.add((p, False))
                    continue
                for found in nexts:
                    nxt.update(((p + q)[:LENGTH], more and len(p) + len(q) < LENGTH)
                               if q != OTHER_DIGIT else (p or q, False) for q, more in found)
            if len(nxt) > _MAX_KEYS:
                return _close(cur)
            cur = nxt
        elif op is rx.GROUP:
            cur = _extend(cur, av, subs)
        elif op is rx.BRANCH:
            nxt = set()
            for seq in av:
                nxt |= _extend(cur, seq, subs)
            if len(nxt) > _MAX_KEYS:
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
    """Characters of which every match of ``pattern`` holds at least one (the fewest found;
    OTHER_DIGIT for the other decimal digits, as in ``grams``); None when none is known.
    Raises ValueError for a pattern regex_syntax cannot read."""
    tree = rx.parse(pattern)
    return None if tree.loose else _required(tree.items)


def _required(items: Sequence[rx.Node]) -> frozenset[str] | None:
    best: frozenset[str] | None = None
    for op, av in items:
        found: frozenset[str] | None = None
        if op is rx.LIT:
            found = frozenset(av)
        elif op is rx.IN:
            listed = chars(av)
            found = frozenset(listed) if listed is not None else None
        elif op is rx.GROUP:
            found = _required(av)
        elif op is rx.REPEAT and av[0] >= 1:
            found = _required(av[2])
        elif op is rx.BRANCH:
            each = [_required(seq) for seq in av]
            found = None if None in each else frozenset().union(*each)  # type: ignore[arg-type]
        if found is not None and (best is None or len(found) < len(best)):
            best = found
    return best


class Gate:
    """The rules of a set indexed by their prefixes (None in ``keys``: always searched)."""

    __slots__ = ("_always", "_index", "_keys")

    def __init__(self, keys: Sequence[frozenset[str] | None]) -> None:
        # A bit per rule: or-ing the masks of the keys found is cheaper than set unions.
        self._always = sum(1 << i for i, k in enumerate(keys) if k is None)
        index: dict[str, int] = {}
        for i, k in enumerate(keys):
            for key in k or ():
                index[key] = index.get(key, 0) | 1 << i
        self._index = index
        # A set, not the dict's keys: set & set compares stored hashes, a third cheaper.
        self._keys = frozenset(index)

    def candidates(self, text: str) -> list[int]:
        """The rules that can match ``text``, in their order."""
        index = self._index
        mask = self._always
        for key in grams(text) & self._keys:
            mask |= index[key]
        out = []
        while mask:
            low = mask & -mask
            out.append(low.bit_length() - 1)
            mask ^= low
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


__all__ = ["LENGTH", "OTHER_DIGIT", "Gate", "chars", "grams", "keys_of", "partials", "prefixes", "required"]
