"""Which rules of a rule set can match a text, told by the characters their matches start with.

Most rules match none of a message: searching each of them was most of the understanding's
regex time, even with ``re`` scanning for first characters in C. Each rule gets the set of
one- or two-character strings that every non-empty match of its pattern starts with
(``prefixes``); ``Gate`` indexes the rules of a set by those strings, and a text's own
one- and two-character substrings then name the only rules worth searching. A rule whose
matches can start anywhere (a dot, a negated class) is always searched.

The sets are worked out from the parsed regex and only ever err on the side of more: a
construct not followed exactly (a repeat past its first time, a lookaround, flags) ends a
prefix early, which is still true of every match. Tests: tests/test_gate.py.
"""

from __future__ import annotations

import functools
import operator
import re._constants as sre_c  # type: ignore[import-not-found]
import re._parser as sre_parse  # type: ignore[import-not-found]
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

LENGTH = 2  # two characters name a Chinese word's start far better than one
_MAX_KEYS = 4096  # past this many prefixes a rule is indexed by shorter ones
_ZERO_WIDTH = (sre_c.AT, sre_c.ASSERT, sre_c.ASSERT_NOT)
_REPEATS = (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT, getattr(sre_c, "POSSESSIVE_REPEAT", sre_c.MAX_REPEAT))
_ATOMIC = getattr(sre_c, "ATOMIC_GROUP", None)

# A prefix being built: (the characters so far, whether the pattern may still add to them).
_Partial = tuple[str, bool]


def prefixes(pattern: str | Any) -> frozenset[str] | None:
    """The strings of one or two characters such that every non-empty match of ``pattern``
    (a regex, or ``re``'s parse of one) starts with one of them; None when a match can
    start with any character."""
    return keys_of(partials(pattern))


def partials(pattern: str | Any, subs: Mapping[str, set[_Partial]] | None = None) -> set[_Partial]:
    """The prefixes of ``pattern`` with, for each, whether the pattern may still add to it.
    A character in ``subs`` stands for a sub-pattern with those partials (a cue in a rule:
    the rule's skeleton is parsed, not its whole expansion; see scoped._Expander)."""
    tree = sre_parse.parse(pattern) if isinstance(pattern, str) else pattern
    if tree.state.flags & sre_c.SRE_FLAG_IGNORECASE:
        return {("", False)}
    return _extend({("", True)}, tree, subs or {})


def keys_of(found: set[_Partial]) -> frozenset[str] | None:
    """``prefixes`` from ``partials``."""
    keys = {p for p, _ in found}
    if "" in keys:
        return None
    return frozenset(k for k in keys if k[:-1] not in keys)  # "好" makes "好评" needless


def _close(cur: set[_Partial]) -> set[_Partial]:
    return {(p, False) for p, _ in cur}


def _chars(av: Iterable[tuple[Any, Any]]) -> list[str] | None:
    out: list[str] = []
    for op, a in av:
        if op is sre_c.LITERAL:
            out.append(chr(a))
        elif op is sre_c.RANGE and a[1] - a[0] < 64:
            out.extend(chr(c) for c in range(a[0], a[1] + 1))
        else:  # a negated class, \d, \w...: any of many characters
            return None
    return out


def _extend(cur: set[_Partial], items: Sequence[tuple[Any, Any]],
            subs: Mapping[str, set[_Partial]]) -> set[_Partial]:
    """The prefixes ``cur`` extended by the parsed sequence ``items``."""
    for op, av in items:
        if not any(open_ for _, open_ in cur):
            break
        if op is sre_c.LITERAL or op is sre_c.IN:
            chars = [chr(av)] if op is sre_c.LITERAL else _chars(av)
            if chars is None:
                return _close(cur)
            # Each character, or what it stands for (re parses "(a|b)" as the class [ab]).
            nexts = [subs.get(c) or {(c, True)} for c in chars]
            nxt: set[_Partial] = set()
            for p, open_ in cur:
                if not open_:
                    nxt.add((p, False))
                    continue
                for found in nexts:
                    nxt.update(((p + q)[:LENGTH], more and len(p) + len(q) < LENGTH)
                               for q, more in found)
            if len(nxt) > _MAX_KEYS:
                return _close(cur)
            cur = nxt
        elif op is sre_c.SUBPATTERN:
            if av[1] or av[2]:  # inline flags: not followed
                return _close(cur)
            cur = _extend(cur, av[3], subs)
        elif op is _ATOMIC:
            cur = _extend(cur, av, subs)
        elif op is sre_c.BRANCH:
            nxt = set()
            for seq in av[1]:
                nxt |= _extend(cur, seq, subs)
            if len(nxt) > _MAX_KEYS:
                return _close(cur)
            cur = nxt
        elif op in _REPEATS:
            lo, hi, sub = av
            once = _extend(cur, sub, subs)
            if hi != 1:  # a second repetition or what follows: not followed
                once = _close(once)
            cur = cur | once if lo == 0 else once
        elif op not in _ZERO_WIDTH:  # a dot, a back-reference...: any character next
            return _close(cur)
    return cur


class Gate:
    """The rules of a set indexed by their prefixes (None in ``keys``: always searched)."""

    __slots__ = ("_always", "_index")

    def __init__(self, keys: Sequence[frozenset[str] | None]) -> None:
        # A bit per rule: or-ing the masks of the keys found is cheaper than set unions.
        self._always = sum(1 << i for i, k in enumerate(keys) if k is None)
        index: dict[str, int] = {}
        for i, k in enumerate(keys):
            for key in k or ():
                index[key] = index.get(key, 0) | 1 << i
        self._index = index

    def candidates(self, text: str) -> list[int]:
        """The rules that can match ``text``, in their order."""
        index = self._index
        mask = self._always
        for key in index.keys() & grams(text):
            mask |= index[key]
        out = []
        while mask:
            low = mask & -mask
            out.append(low.bit_length() - 1)
            mask ^= low
        return out


@functools.lru_cache(maxsize=8)
def grams(text: str) -> frozenset[str]:
    """The one- and two-character substrings of ``text`` (kept for the last few texts:
    several rule sets read the same message)."""
    out = set(text)
    out.update(map(operator.add, text, text[1:]))
    return frozenset(out)


__all__ = ["LENGTH", "Gate", "grams", "keys_of", "partials", "prefixes"]
