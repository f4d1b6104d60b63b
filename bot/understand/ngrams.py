"""A text's character n-grams, built once for both of their readers.

The rule gate looks its one- and two-character keys up among a message's 1- and 2-grams;
the learned model scores the 1-, 2- and 3-grams (the 2- and 3-grams also across a begin
and an end mark). Building them (a new string object and its hash per n-gram) was about a
tenth of a turn's instructions, and each message paid for its 2-grams twice: now they are
built once and kept for the last few texts, since the rule sets and the model read the
same normalised message one after the other. `csbot lint` reads no model and builds no
3-grams.
"""

from __future__ import annotations

import functools
import operator
from itertools import chain

BEGIN, END = "\x02", "\x03"


@functools.lru_cache(maxsize=8)
def pairs(text: str) -> list[str]:
    """The 2-grams of ``text`` in order (kept: the caller must not change the list)."""
    return list(map(operator.add, text, text[1:]))


@functools.lru_cache(maxsize=8)
def pieces(text: str) -> frozenset[str]:
    """The distinct one- and two-character substrings of ``text``."""
    return frozenset(chain(text, pairs(text)))


@functools.lru_cache(maxsize=8)
def padded(text: str) -> frozenset[str]:
    """The distinct 1-grams of ``text`` and its 2- and 3-grams with ``BEGIN`` before it and
    ``END`` after it (the marks alone are not 1-grams)."""
    if len(text) < 2:
        marked = BEGIN + text + END
        two = list(map(operator.add, marked, marked[1:]))
        return frozenset(chain(text, two, map(operator.add, two, marked[2:])))
    two = pairs(text)
    # The gate's pieces (their strings and hashes made once), the marked ones (B t0,
    # t(n-1) E, B t0 t1, t(n-2) t(n-1) E) and the text's own 3-grams.
    ends = (BEGIN + text[0], text[-1] + END, BEGIN + two[0], two[-1] + END)
    return pieces(text).union(ends, map(operator.add, two, text[2:]))


__all__ = ["BEGIN", "END", "padded", "pairs", "pieces"]
