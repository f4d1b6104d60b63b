"""Rewrites the lexicons' regexes into forms Python's ``re`` runs fast, matching the same.

* ``factor``: an alternation's alternatives that start with the same plain character are
  merged behind it, recursively (a trie). ``re`` tries a group's alternatives one by one,
  so a lexicon of hundreds of phrases then costs a few tests per position. Where every
  alternative starts with a plain character, ``re`` scans for those characters itself and
  the first-character lookahead (scoped.lead) is left out.
* ``compile_lexicon``: plain groups become non-capturing. Only match positions are read,
  and ``re`` saves and restores every capturing group at each alternative it tries: with
  the lexicons' hundreds of ``(a|b)`` groups that was a third of the understanding time.
  A pattern led by its first-character lookahead is turned round to start with the class
  (``_scan_first``), which ``re`` scans for in C; ``span`` reads where it matched.

Why the matches stay the same: ``re`` takes the first alternative that matches at the
leftmost position. Two alternatives with different first characters never both match at
one position, so their order does not matter; alternatives with the same first character,
and every alternative that does not start with a plain character, keep their order; no
group is added, and named groups keep their captures. Tests: tests/test_lexicon_compile.py.
"""

from __future__ import annotations

import functools
import re

_META = frozenset("\\.^$*+?{}[]|()")
_QUANTIFIERS = frozenset("*+?{")
_NUMBERED_BACKREF = re.compile(r"\\[1-9]|\(\?\(\d")


def factor(items: list[str]) -> str:
    """``(?:a|b|…)`` of the regexes ``items``, merged into a trie."""
    # A numbered reference counts groups: then no group is taken out (see _HEAD), at any depth.
    return _factor(tuple(items), False, not any(map(_NUMBERED_BACKREF.search, items)))


_LITERAL_LED: set[str] = set()  # what factor made with every alternative led by a character


# A group or class of single characters leading an alternative, not repeated: "(您|你)",
# "(?:她|他)", "[与和跟]".
_PLAIN = r"[^\\.^$*+?{}\[\]|()-]"
_HEAD = re.compile(rf"(?:\((?:\?:)?({_PLAIN}(?:\|{_PLAIN})+)\)|\[({_PLAIN}+)\])(?![*+?{{])")


# The same cue expansions recur in many rules: each is rewritten once.
@functools.lru_cache(maxsize=8192)
def _factor(items: tuple[str, ...], barless: bool, heads: bool) -> str:
    out: list[str] = []
    run: dict[str, list[str]] = {}  # first character, or class of them → the rests, in order
    owner: dict[str, str] = {}  # each character that leads in run → its key there
    led = True

    def flush() -> None:
        for head, rests in run.items():
            # The rests come from alternatives without a top-level "|": neither have they.
            out.append(head + (rests[0] if len(rests) == 1 else _factor(tuple(rests), True, heads)))
        run.clear()
        owner.clear()

    for item in items:
        bar = not barless and _top_bar(item)
        if not bar and item and item[0] not in _META and item[1:2] not in _QUANTIFIERS:
            key, chars, rest = item[0], item[0], item[1:]
        elif not bar and heads and (m := _HEAD.match(item)):
            # "(您|你)A", "(您|你)B" → "[你您](?:A|B)": one alternative where re compared
            # one per phrase at every position. One character of the group matches at a
            # time, so A and B are tried in the same order.
            chars = "".join(sorted(set(m.group(1).split("|") if m.group(1) else m.group(2))))
            key, rest = "[" + "".join(re.escape(c) for c in chars) + "]", item[m.end():]
            led = False
        else:
            flush()
            out.append(f"(?:{item})")
            led = False
            continue
        if any(owner.get(c, key) != key for c in chars):
            flush()  # a run's alternatives may be reordered only when no two start alike
        owner.update(dict.fromkeys(chars, key))
        run.setdefault(key, []).append(rest)
    flush()
    pattern = "(?:" + "|".join(out) + ")"
    if led and out:
        _LITERAL_LED.add(pattern)
    return pattern


def literal_led(pattern: str) -> bool:
    """Whether ``factor`` made ``pattern`` with every alternative led by a plain character
    (``re`` then scans for those characters itself: no lookahead is needed)."""
    return pattern in _LITERAL_LED


def compile_lexicon(pattern: str) -> re.Pattern[str]:
    """Compile a lexicon regex with its plain groups made non-capturing (named groups stay,
    a ``(?P=name)`` may refer to them; a pattern with a numbered reference is left as it is)."""
    if _NUMBERED_BACKREF.search(pattern):
        return re.compile(pattern)
    return re.compile(_scan_first(_PLAIN_GROUP.sub(_uncapture, pattern)))


# An escape, a class (a "]" first in it is a literal; one left open runs to the end) or a
# group's "(" without "?": the rewrite runs in C, where a loop over every character of the
# expansions was a tenth of what compiling them costs.
_PLAIN_GROUP = re.compile(r"\\.|\[\^?\]?(?:\\.|[^\]\\])*(?:\]|\\?\Z)|\((?!\?)", re.S)


def _uncapture(m: re.Match[str]) -> str:
    return "(?:" if m.group() == "(" else m.group()


SPAN = "csbot_match"  # the group that holds the match of a pattern rewritten by _scan_first


def span(m: re.Match[str]) -> tuple[int, int]:
    """Where a lexicon pattern matched (see _scan_first)."""
    return m.span(SPAN) if SPAN in m.re.groupindex else m.span()


def _scan_first(pattern: str) -> str:
    """``(?=[F])X`` as ``[F](?<=(?=(?P<csbot_match>X))(?s:.))``.

    Both match X at the same positions, but ``re`` runs a pattern that starts with a
    character class as a C scan for those characters, and tries a pattern that starts with
    a lookahead at every position (a fifth of the lexicons' regex time). The match itself
    is then the class's one character; the group holds X's match (``span``)."""
    if not pattern.startswith("(?=[") or pattern.startswith("(?=[^") or SPAN in pattern:
        return pattern
    i = 4
    while i < len(pattern) and pattern[i] != "]":
        i += 2 if pattern[i] == "\\" else 1
    if pattern[i:i + 2] != "])" or i == 4:
        return pattern
    return f"{pattern[3:i + 1]}(?<=(?=(?P<{SPAN}>{pattern[i + 2:]}))(?s:.))"


# -- helpers --------------------------------------------------------------------------


# An escape or a class (as in _PLAIN_GROUP), and a group holding neither "(" nor ")".
_ESCAPE_OR_CLASS = re.compile(r"\\.|\[\^?\]?(?:\\.|[^\]\\])*(?:\]|\\?\Z)", re.S)
_INNERMOST_GROUP = re.compile(r"\([^()]*\)")


@functools.lru_cache(maxsize=8192)
def _top_bar(item: str) -> bool:
    """Whether ``item`` has a top-level "|": what is left of it once its escapes, its
    classes and then its groups, innermost first, are taken out. Each step is one ``re.sub``
    in C: a loop in Python over every "(", "|" and ")" of the lexicons' expansions was a
    twentieth of building the guard (`csbot lint`'s start-up). Parentheses that do not pair
    up make no regex; the answer for such an item only decides how factor wraps it."""
    if "|" not in item:
        return False
    rest = _ESCAPE_OR_CLASS.sub("", item)
    while True:
        shorter = _INNERMOST_GROUP.sub("", rest)
        if shorter == rest:
            return "|" in rest
        rest = shorter


__all__ = ["SPAN", "compile_lexicon", "factor", "literal_led", "span"]
