"""A text's character n-grams, built once for both of their readers.

The learned model scores a message's 1-, 2- and 3-grams (the 2- and 3-grams also across a
begin and an end mark); the rule gate looks its one- and two-character keys up among the
same strings. Building them (a new string object and its hash per n-gram) was about a
tenth of a turn's instructions, and each message paid for it twice: now the set is built
once and kept for the last few texts, since the rule sets and the model read the same
normalised message one after the other.
"""

from __future__ import annotations

import functools
import operator
from itertools import chain

BEGIN, END = "\x02", "\x03"


@functools.lru_cache(maxsize=8)
def padded(text: str) -> frozenset[str]:
    """The distinct 1-grams of ``text`` and its 2- and 3-grams with ``BEGIN`` before it and
    ``END`` after it (the marks alone are not 1-grams)."""
    marked = BEGIN + text + END
    two = list(map(operator.add, marked, marked[1:]))
    return frozenset(chain(text, two, map(operator.add, two, marked[2:])))


__all__ = ["BEGIN", "END", "padded"]
