"""A small parser of the regex syntax the lexicons are written in, for what ``re`` will not
tell through a public interface: which characters a pattern's matches can start with.

The tree is only read by ``gate`` (the prefixes that index a rule) and ``scoped`` (the
first-character lookahead), and both only ever need an answer that is *at least* as wide
as the truth. So anything this parser does not follow exactly (a dot, a back-reference, a
negated class, \\w, a conditional, scoped flags) becomes ``OTHER``, which both read as
"any character may come here", and global inline flags mark the whole pattern ``loose``.
Malformed patterns raise ``ValueError`` (``re.compile`` then reports them properly).

Nodes are ``(op, arg)`` pairs in a list (a sequence):
  LIT     one character
  IN      a class: a tuple of characters, ``(lo, hi)`` ranges and ``"\\d"``/``"\\s"``
  GROUP   a sequence (capturing, non-capturing, named or atomic group)
  BRANCH  a tuple of sequences (alternatives)
  REPEAT  ``(lo, hi, sequence)``; ``hi`` is None when unbounded
  ZERO    matches no character (``^ $ \\b \\B \\A \\Z`` and lookarounds)
  OTHER   something followed no further (any character may come next)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

LIT, IN, GROUP, BRANCH, REPEAT, ZERO, OTHER = "lit", "in", "group", "branch", "repeat", "zero", "other"

Node = tuple[str, Any]

_PLAIN = re.compile(r"[^\\.^$*+?{}\[\]|()]+")
_COUNT = re.compile(r"\{(\d*)(?:(,)(\d*))?\}")
_FLAGS = re.compile(r"\(\?([aiLmsux]+)\)")
_SCOPED_FLAGS = re.compile(r"\(\?[aiLmsux-]+:")
_GROUP_NAME = re.compile(r"\(\?P<[A-Za-z_]\w*>")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "f": "\f", "v": "\v", "a": "\a"}
_HEX = {"x": 2, "u": 4, "U": 8}
_ZERO_ESCAPES = frozenset("bBAZ")
_CLASS_ESCAPES = {"d": "\\d", "s": "\\s"}  # the categories a lookahead may name
_WIDE_ESCAPES = frozenset("DSWw")  # classes of too many characters to list


@dataclass(frozen=True, slots=True)
class Parsed:
    items: list[Node]
    loose: bool  # global inline flags ((?i) …): nothing is known of the first characters


def parse(pattern: str) -> Parsed:
    """The tree of ``pattern``."""
    loose = False
    pos = 0
    while (m := _FLAGS.match(pattern, pos)) is not None:  # only at the start in Python 3.11+
        loose, pos = True, m.end()
    p = _Parser(pattern, pos)
    items = p.alternatives()
    if p.pos != len(pattern):
        raise ValueError(f"unbalanced parenthesis at {p.pos}")
    return Parsed(items, loose)


class _Parser:
    __slots__ = ("pos", "src")

    def __init__(self, src: str, pos: int) -> None:
        self.src = src
        self.pos = pos

    def alternatives(self) -> list[Node]:
        """Alternatives up to a ")" or the end, as one sequence."""
        seqs = [self.sequence()]
        while self.pos < len(self.src) and self.src[self.pos] == "|":
            self.pos += 1
            seqs.append(self.sequence())
        return seqs[0] if len(seqs) == 1 else [(BRANCH, tuple(seqs))]

    def sequence(self) -> list[Node]:
        src = self.src
        n = len(src)
        items: list[Node] = []
        while self.pos < n:
            c = src[self.pos]
            if c in "|)":
                break
            m = _PLAIN.match(src, self.pos)
            if m is not None:
                items.extend((LIT, ch) for ch in m.group())
                self.pos = m.end()
                continue
            if c in "*+?{":
                if c == "{" and not self._count(items, True):
                    items.append((LIT, "{"))
                    self.pos += 1
                elif c != "{":
                    self._repeat(items, *{"*": (0, None), "+": (1, None), "?": (0, 1)}[c], 1)
                continue
            self.pos += 1
            if c == ".":
                items.append((OTHER, None))
            elif c in "^$":
                items.append((ZERO, None))
            elif c == "\\":
                items.append(self._escape())
            elif c == "[":
                items.append(self._class())
            elif c == "(":
                node = self._group()
                if node is not None:
                    items.append(node)
            else:  # "]" and "}" outside a class are literals
                items.append((LIT, c))
        return items

    def _count(self, items: list[Node], apply: bool) -> bool:
        m = _COUNT.match(self.src, self.pos)
        if m is None or m.group() == "{}":
            return False
        lo = int(m.group(1) or 0)
        hi = None if m.group(2) and not m.group(3) else int(m.group(3) or m.group(1) or 0)
        if hi is not None and hi < lo:
            raise ValueError("min repeat greater than max repeat")
        if apply:
            self._repeat(items, lo, hi, m.end() - self.pos)
        return True

    def _repeat(self, items: list[Node], lo: int, hi: int | None, width: int) -> None:
        if not items or items[-1][0] in (ZERO, REPEAT):
            raise ValueError(f"nothing to repeat at {self.pos}")
        self.pos += width
        if self.pos < len(self.src) and self.src[self.pos] in "?+":  # lazy, possessive
            self.pos += 1
        items[-1] = (REPEAT, (lo, hi, [items[-1]]))

    def _escape(self) -> Node:
        src, i = self.src, self.pos
        if i >= len(src):
            raise ValueError("bad escape (end of pattern)")
        c = src[i]
        self.pos += 1
        if c in _ZERO_ESCAPES:
            return (ZERO, None)
        if c in _CLASS_ESCAPES:
            return (IN, (_CLASS_ESCAPES[c],))
        if c in _WIDE_ESCAPES or c.isdigit():  # a wide class, a back-reference or octal
            return (OTHER, None)
        return (LIT, self._char_escape(c))

    def _char_escape(self, c: str) -> str:
        """The character of an escape whose letter ``c`` was just read."""
        if c in _ESCAPES:
            return _ESCAPES[c]
        if c in _HEX:
            digits = self.src[self.pos:self.pos + _HEX[c]]
            if len(digits) != _HEX[c] or not all(d in "0123456789abcdefABCDEF" for d in digits):
                raise ValueError(f"bad escape \\{c}")
            self.pos += _HEX[c]
            return chr(int(digits, 16))
        if c.isascii() and c.isalnum():  # \N{…}, unknown letters: not followed
            raise ValueError(f"bad escape \\{c}")
        return c

    def _class(self) -> Node:
        src = self.src
        negated = src.startswith("^", self.pos)
        if negated:
            self.pos += 1
        atoms: list[Any] = []
        wide = negated
        first = True
        while True:
            if self.pos >= len(src):
                raise ValueError("unterminated character set")
            c = src[self.pos]
            self.pos += 1
            if c == "]" and not first:
                break
            first = False
            if c == "\\":
                if self.pos >= len(src):
                    raise ValueError("bad escape (end of pattern)")
                e = src[self.pos]
                self.pos += 1
                if e in _CLASS_ESCAPES:
                    atoms.append(_CLASS_ESCAPES[e])
                    continue
                if e in _WIDE_ESCAPES or e.isdigit() or e == "N":
                    wide = True
                    if e.isdigit():  # octal: up to three digits
                        while self.pos < len(src) and src[self.pos] in "01234567" and e.isdigit():
                            self.pos += 1
                    continue
                c = "\b" if e == "b" else self._char_escape(e)
            if src.startswith("-", self.pos) and self.pos + 1 < len(src) and src[self.pos + 1] != "]":
                self.pos += 1
                hi = src[self.pos]
                self.pos += 1
                if hi == "\\":
                    e = src[self.pos]
                    self.pos += 1
                    if e in _CLASS_ESCAPES or e in _WIDE_ESCAPES:
                        raise ValueError("bad character range")
                    hi = "\b" if e == "b" else self._char_escape(e)
                if ord(hi) < ord(c):
                    raise ValueError("bad character range")
                atoms.append((c, hi))
            else:
                atoms.append(c)
        return (OTHER, None) if wide else (IN, tuple(atoms))

    def _group(self) -> Node | None:
        """A group whose "(" was just read (None: a comment)."""
        src, start = self.src, self.pos - 1
        kind = GROUP
        if src.startswith("?", self.pos):
            rest = src[self.pos + 1:self.pos + 3]
            if rest[:1] in (":", ">"):  # non-capturing, atomic
                self.pos += 2
            elif rest[:1] in ("=", "!") or rest in ("<=", "<!"):
                self.pos += 2 if rest[:1] in "=!" else 3
                kind = ZERO
            elif rest[:1] == "#":
                end = src.find(")", self.pos)
                if end < 0:
                    raise ValueError("missing ), unterminated comment")
                self.pos = end + 1
                return None
            elif (m := _GROUP_NAME.match(src, start)) is not None:
                self.pos = m.end()
            elif (m := _SCOPED_FLAGS.match(src, start)) is not None or rest[:1] in ("(", "P"):
                # Scoped flags, a conditional, (?P=name): the contents are skipped over.
                self.pos = m.end() if m is not None else self.pos + 2
                if rest == "P=":
                    end = src.find(")", self.pos)
                    if end < 0:
                        raise ValueError("missing )")
                    self.pos = end + 1
                    return (OTHER, None)
                if rest[:1] == "(":
                    end = src.find(")", self.pos)
                    if end < 0:
                        raise ValueError("missing )")
                    self.pos = end + 1
                kind = OTHER
            else:
                raise ValueError(f"unknown extension at {start}")
        inner = self.alternatives()
        if not src.startswith(")", self.pos):
            raise ValueError(f"missing ), unterminated subpattern at {start}")
        self.pos += 1
        if kind is ZERO:
            return (ZERO, None)
        if kind is OTHER:
            return (OTHER, None)
        return (GROUP, inner)


__all__ = ["BRANCH", "GROUP", "IN", "LIT", "OTHER", "REPEAT", "ZERO", "Parsed", "parse"]
