"""Input normalisation: traditional → simplified, full-width → half-width, obfuscations undone.

Every step keeps a map from each output character to its position in the raw text, so
guard findings can point at the span the agent actually typed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import opencc


@lru_cache(maxsize=1)
def _t2s() -> Any:
    return opencc.OpenCC("t2s")


@lru_cache(maxsize=1)
def _s2tw() -> Any:
    return opencc.OpenCC("s2tw")


def load_conversions() -> None:
    """Build both OpenCC converters now (`csbot serve` does, before it serves): building the
    traditional-to-Taiwan one takes about 75 ms of CPU, which the first buyer who wrote
    traditional characters paid inside a turn, with the event loop stopped for every other."""
    _t2s()
    _s2tw()


def written_traditional(text: str) -> bool:
    """Whether a message is written in traditional characters: any that simplifies (the
    conversion knows the words where simplified text keeps a traditional form: 乾隆, 著名)."""
    return bool(_t2s().convert(text) != text)


# Characters that convert to traditional but that writers of traditional type too (台北, 台灣).
_BOTH_SCRIPTS = str.maketrans("", "", "台")


def written_simplified(text: str) -> bool:
    """Whether a message is written in simplified characters: none that simplifies, and some
    that a traditional writer would write otherwise. 好的, 嗯, 1 are neither, and say nothing."""
    text = text.translate(_BOTH_SCRIPTS)
    return not written_traditional(text) and bool(_s2tw().convert(text) != text)


# Where OpenCC's s2tw writes what Taiwan does not: 尺码表 is a size chart, not a watch (錶), and
# 表里 is inside it (裡). Applied to its output, in this order.
_S2TW_FIXES = (("碼錶", "碼表"), ("碼表里", "碼表裡"))


def _s2tw_text(text: str) -> str:
    out = str(_s2tw().convert(text))
    for wrong, right in _S2TW_FIXES:
        out = out.replace(wrong, right)
    return out


def to_traditional(text: str, keep: Iterable[str] = ()) -> str:
    """A suggestion in traditional characters (Taiwan standard forms), for a buyer who writes them.

    ``keep``: names written exactly as given wherever they occur (the shop's, the agent's, the
    buyer's): 台灣小舖 does not become 臺灣小舖, nor the agent 小云 小雲."""
    names = sorted({k for k in keep if k}, key=len, reverse=True)
    if not names or not any(k in text for k in names):
        return _s2tw_text(text)
    parts = re.split("(" + "|".join(map(re.escape, names)) + ")", text)
    return "".join(part if i % 2 else _s2tw_text(part) for i, part in enumerate(parts))


# Format and combining characters (zero-width joiners, variation selectors), and the
# ranges where emoji and other symbols live: only texts holding these take the slow paths.
_INVISIBLE = "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e" \
    "\u2060-\u206f\u20d0-\u20ff\ufe00-\ufe0f\ufe20-\ufe2f\ufeff\u0300-\u036f\U000e0000-\U000e0fff"
_SYMBOLS = "\u2100-\u2bff\u3200-\u33ff\U0001f000-\U0001faff\u00a8\u00b4\u02c2-\u02ff"
_ODD_SPACE = re.compile(r"[^\S ]")


# Full-width ASCII (，！？１ａ) and the ideographic space are most of what NFKC changes in a
# chat message; mapped first, the rest is usually normal already and unicodedata's full
# NFKC pass (a tenth of normalising) is skipped. Each maps to what its compatibility
# decomposition is, so the result is the same NFKC.
_WIDE = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def nfkc(text: str) -> str:
    """``unicodedata.normalize("NFKC", text)``, faster on Chinese chat text."""
    if unicodedata.is_normalized("NFKC", text):
        return text
    text = text.translate(_WIDE)
    return text if unicodedata.is_normalized("NFKC", text) else unicodedata.normalize("NFKC", text)


# A spelled-out word has at least this many marks, each after a single character ("好，评，返，现");
# two ("哦，对，还有") are an ordinary sentence.
_SPELLED = 3


def _chain(text: str, k: int) -> int:
    """How many times the mark at k repeats every second character, around and including k."""
    left = right = k
    while left >= 2 and text[left - 2] == text[k]:
        left -= 2
    while right + 2 < len(text) and text[right + 2] == text[k]:
        right += 2
    return (right - left) // 2 + 1


def _is_word(ch: str) -> bool:
    return ch.isalnum() or "\u4e00" <= ch <= "\u9fff"


@dataclass(frozen=True, slots=True)
class Norm:
    """Normalised text with, for each of its characters, the index in ``source``."""

    source: str
    text: str
    origin: tuple[int, ...]
    traditional: bool = False  # written in traditional characters (any that simplifies)

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The raw-text span of normalised characters ``start:end``."""
        if not self.origin:
            return (0, 0)
        end = max(end, start + 1)
        return (self.origin[start], self.origin[min(end, len(self.origin)) - 1] + 1)


class Normalizer:
    """Applies the rules of ``dialogs/normalize.yaml``."""

    def __init__(self, rules: dict[str, Any]) -> None:
        self._recent: dict[str, Norm] = {}  # the last texts normalised (__call__)
        self.separators = frozenset(rules.get("separators", ""))
        aliases = rules.get("aliases", {})
        self.aliases: dict[str, str] = {str(k).lower(): v for k, v in aliases.items()}
        # pinyin sentence particles ("tk ba", "hao de ya", "ok le"): read only after an alias or
        # a word of `takes_particles` in the same run, or alone at the end of a clause after a
        # Chinese character ("好的ya"); never on their own ("ma", "de", "a货" stay as typed)
        self.particles: dict[str, str] = {str(k).lower(): str(v)
                                          for k, v in rules.get("particles", {}).items()}
        self.heads: frozenset[str] = frozenset(str(w).lower() for w in rules.get("takes_particles", []))
        self.replace: list[tuple[str, str]] = [(a, b) for a, b in rules.get("replace", [])]
        # Most messages hold none of them: one search tells, instead of a test per pair.
        self._any_replace = re.compile("|".join(re.escape(a) for a, _ in self.replace)) \
            if self.replace else None
        self.symbols: dict[str, str] = {str(k): str(v) for k, v in rules.get("symbols", {}).items()}
        # Words an emoji is slipped into ("好💯评"): the emoji between their halves is a separator.
        self.joined = frozenset(str(w) for w in rules.get("joined", []) if len(str(w)) == 2)
        protect = rules.get("protect", [])
        self._protect = re.compile("|".join(f"(?:{p})" for p in protect)) if protect else None
        self._ascii_run = re.compile(r"[a-z]+")
        # 旺旺 emoticon codes: the known ones read as the emoji they show, others are dropped.
        self.emoticons: dict[str, str] = {str(k).lower(): str(v)
                                          for k, v in rules.get("emoticons", {}).items()}
        codes = rules.get("emoticon_codes")
        self._emoticon = re.compile(str(codes)) if codes else None
        # Fast paths: most messages hold no character that needs the per-character work.
        self._special = re.compile("[" + re.escape("".join(self.symbols)) + _INVISIBLE + "]") \
            if self.symbols else re.compile("[" + _INVISIBLE + "]")
        self._maybe_sep = re.compile("[" + re.escape("".join(self.separators)) + _SYMBOLS + "]") \
            if self.separators else re.compile("[" + _SYMBOLS + "]")
        # Punctuation that separates only when it spells a word out ("好、评、返、现", "好，评，返"):
        # the same mark on both sides of a single character. One search tells (most messages
        # have commas, few spell a word out).
        # Shop-script templates (【买家昵称】, {nick}, [店铺名], XX): each placeholder reads as one
        # token for what it stands for, so a template reads like the same script filled in.
        ph = rules.get("placeholders") or {}
        self._placeholder = re.compile(str(ph["pattern"])) if ph.get("pattern") else None
        self._bare = re.compile(str(ph["bare"])) if ph.get("bare") else None
        self._bare_token = str(ph.get("bare_token", ""))
        self._placeholder_words: dict[str, str] = {
            str(w).lower(): str(token) for token, words in (ph.get("words") or {}).items() for w in words}
        # Scene notes for the agent inside a script ("（注：语气要诚恳）"): not said to the buyer.
        self._notes = re.compile(str(rules["notes"])) if rules.get("notes") else None
        marks = rules.get("template_marks")
        self._template_marks = re.compile(str(marks)) if marks else re.compile("(?!)")
        self.spelled = frozenset(rules.get("spelled", ""))
        marks = re.escape("".join(sorted(self.spelled)))
        self._spelled = re.compile(rf"\w([{marks}])\w\1\w\1\w") if self.spelled else None

    def __call__(self, source: str) -> Norm:
        """``source`` normalised. The last few are kept: a message is normalised by the
        understanding and again by the flow (the agent's text as typed, the buyer's when it
        has no space for a comma)."""
        found = self._recent.get(source)
        if found is None:
            found = self._normalize(source)
            if len(self._recent) >= 16:
                self._recent.clear()
            self._recent[source] = found
        return found

    def _normalize(self, source: str) -> Norm:
        text = nfkc(source).lower()
        if len(text) == len(source) and not self._special.search(source):
            origin = list(range(len(source)))
        else:
            text, origin = self._per_character(source)
        simplified = _t2s().convert(text)
        traditional = simplified != text
        if len(simplified) != len(text):  # a phrase conversion changed the length
            simplified = "".join(_t2s().convert(c) or c for c in text)
        if len(simplified) == len(text):
            text = simplified
        # Notes and placeholders need a bracket, an FAQ mark, "xx" or "***": most messages have none.
        if self._template_marks.search(text):
            if self._notes is not None and self._notes.search(text):
                text, origin = _splice(text, origin, ((m.start(), m.end(), "") for m in self._notes.finditer(text)))
            # before the emoticon codes: "[店铺名]" has the shape of one ("[微笑]")
            text, origin = self._fill_placeholders(source, text, origin)
        if self._emoticon is not None and self._emoticon.search(text):
            text, origin = self._replace_emoticons(text, origin)
        if self._maybe_sep.search(text) or (self._spelled is not None and self._spelled.search(text)):
            text, origin = self._drop_separators(text, origin)
        if self.aliases and self._ascii_run.search(text):  # aliases are latin letters
            text, origin = self._expand_aliases(text, origin)
        if self._any_replace is not None and self._any_replace.search(text):
            for old, new in self.replace:
                if old in text:
                    text, origin = _substitute(text, origin, old, new)
        if "  " in text or text != text.strip() or _ODD_SPACE.search(text):
            text, origin = _collapse_spaces(text, origin)
        return Norm(source, text, tuple(origin), traditional)

    def _per_character(self, source: str) -> tuple[str, list[int]]:
        chars: list[str] = []
        origin: list[int] = []
        for i, ch in enumerate(source):
            if unicodedata.category(ch) in ("Cf", "Mn"):  # zero-width joiners, emoji selectors
                continue
            if ch in self.symbols and self._splits(source, i):
                continue  # "五✨星✨好✨评", "返💰现": a separator here, not the word it stands for
            for out in self.symbols.get(ch) or unicodedata.normalize("NFKC", ch).lower():
                chars.append(out)
                origin.append(i)
        return "".join(chars), origin

    def _splits(self, text: str, k: int) -> bool:
        """Whether the symbol at ``k`` sits inside a word: strung between single characters
        ("五✨星✨好", the same symbol two places on) or between the halves of a joined word."""
        ch = text[k]
        if not 0 < k < len(text) - 1 or not _is_word(text[k - 1]) or not _is_word(text[k + 1]):
            return False
        if (k >= 2 and text[k - 2] == ch) or (k + 2 < len(text) and text[k + 2] == ch):
            return True
        return bool(self.joined) and _t2s().convert(text[k - 1] + text[k + 1]) in self.joined

    def _fill_placeholders(self, source: str, text: str, origin: list[int]) -> tuple[str, list[int]]:
        hits: list[tuple[int, int, str]] = []
        if self._placeholder is not None:
            for m in self._placeholder.finditer(text):
                token = self._placeholder_words.get(m.group(1).strip().lower())
                if token is not None:
                    hits.append((m.start(), m.end(), token))
        if self._bare is not None:
            for m in self._bare.finditer(text):
                # "XX先生" is a placeholder; a buyer's "xx" is 谢谢 and stays
                typed = "".join(source[origin[k]] for k in range(m.start(), m.end()))
                if not any(ch.islower() for ch in typed) and \
                        not any(s < m.end() and m.start() < e for s, e, _ in hits):
                    hits.append((m.start(), m.end(), self._bare_token))
        if not hits:
            return text, origin
        return _splice(text, origin, sorted(hits))

    def _replace_emoticons(self, text: str, origin: list[int]) -> tuple[str, list[int]]:
        assert self._emoticon is not None
        return _splice(text, origin, ((m.start(), m.end(), self.emoticons.get(m.group(), ""))
                                      for m in self._emoticon.finditer(text)))

    def _drop_separators(self, text: str, origin: list[int]) -> tuple[str, list[int]]:
        # "好.评.返.现", "好 评 返 现", "fan xian": a separator run between two word
        # characters is dropped (not between digits: "3.5"); one at a clause edge is kept.
        # Emoji strung between single characters ("好❤评❤返❤现") count as separators too;
        # so does one slipped between the two halves of a joined word ("好💯评"); a lone emoji
        # elsewhere in a sentence is kept (the buyer lexicon reads 😡, 😭...).
        n = len(text)
        sym = [ch > "\u2000" and not _is_word(ch) and unicodedata.category(ch) in ("So", "Sk")
               for ch in text]
        sep = [ch in self.separators or (sym[k] and ((k >= 2 and sym[k - 2])
                                                     or (k + 2 < n and sym[k + 2])
                                                     or (0 < k < n - 1 and text[k - 1] + text[k + 1] in self.joined)))
               or (ch in self.spelled and _chain(text, k) >= _SPELLED)
               for k, ch in enumerate(text)]
        keep: list[int] = []
        i = 0
        while i < n:
            if sep[i]:
                j = i
                while j < n and sep[j]:
                    j += 1
                a, b = (text[i - 1], text[j]) if i > 0 and j < n else ("", "")
                if a and _is_word(a) and _is_word(b) and not (a.isdigit() and b.isdigit()):
                    i = j
                    continue
                keep.extend(range(i, j))
                i = j
                continue
            keep.append(i)
            i += 1
        return "".join(text[k] for k in keep), [origin[k] for k in keep]

    def _expand_aliases(self, text: str, origin: list[int]) -> tuple[str, list[int]]:
        if not self.aliases:
            return text, origin
        # Brand and model names ("HP 803 墨盒") are not abbreviations.
        kept = [p.span() for p in self._protect.finditer(text)] if self._protect else []

        def hits() -> Iterator[tuple[int, int, str]]:
            for m in self._ascii_run.finditer(text):
                if any(a < m.end() and m.start() < b for a, b in kept):
                    continue
                word = m.group()
                repl = self.aliases.get(word) or self._split_aliases(word) or self._with_particles(word)
                if repl is None and len(word) >= 2 and word in self.particles and m.start() > 0 \
                        and "\u4e00" <= text[m.start() - 1] <= "\u9fff" \
                        and (m.end() == len(text) or not _is_word(text[m.end()])):
                    repl = self.particles[word]  # "好的ya", "退款ba，谢谢": a clause's last word
                if repl is not None:
                    yield m.start(), m.end(), repl

        return _splice(text, origin, hits())

    def _with_particles(self, word: str) -> str | None:
        """"tkba" -> 退款吧, "haodeya" -> 好的呀, "okle" -> ok了: one or more aliases (or words
        of `takes_particles`, kept as written), then one or more particles; None otherwise, so
        "made", "mama" or "lane" (no alias before the particles) stay as typed."""
        if not self.particles or len(word) < 3:
            return None
        parts = self._parse(word, 0, False)
        return "".join(parts) if parts is not None else None

    def _parse(self, word: str, i: int, tail: bool) -> list[str] | None:
        # heads (aliases or kept words, two letters or more) first, then particles to the end
        if i == len(word):
            return [] if tail else None
        if not tail:
            for j in range(len(word), i + 1, -1):
                w = word[i:j]
                if w in self.aliases or w in self.heads:
                    rest = self._parse(word, j, False)
                    if rest is not None:
                        return [self.aliases.get(w, w), *rest]
        if i > 0:
            for j in range(len(word), i, -1):
                w = word[i:j]
                if w in self.particles:
                    rest = self._parse(word, j, True)
                    if rest is not None:
                        return [self.particles[w], *rest]
        return None

    def _split_aliases(self, word: str) -> str | None:
        # "haopingfanxian" -> 好评返现: the whole run must be made of known aliases.
        if len(word) < 4:
            return None
        parts: list[str] = []
        i = 0
        while i < len(word):
            for j in range(len(word), i, -1):
                if word[i:j] in self.aliases and j - i >= 2:
                    parts.append(self.aliases[word[i:j]])
                    i = j
                    break
            else:
                return None
        return "".join(parts)


def _splice(text: str, origin: list[int],
            hits: Iterable[tuple[int, int, str]]) -> tuple[str, list[int]]:
    """``text`` with each (start, end, replacement) applied in order, and where every
    character of the result came from in the original message."""
    out: list[str] = []
    new_origin: list[int] = []
    last = 0
    for start, end, repl in hits:
        out.append(text[last:start])
        new_origin.extend(origin[last:start])
        out.append(repl)
        new_origin.extend(_spread(origin[start:end], len(repl)))
        last = end
    out.append(text[last:])
    new_origin.extend(origin[last:])
    return "".join(out), new_origin


def _spread(src: list[int], n: int) -> list[int]:
    if not src:
        return [0] * n
    out = [src[min(k * len(src) // max(n, 1), len(src) - 1)] for k in range(n)]
    if out:  # the last character ends where the replaced text ended: spans cover all of it
        out[-1] = src[-1]
    return out


def _substitute(text: str, origin: list[int], old: str, new: str) -> tuple[str, list[int]]:
    if old not in text:
        return text, origin
    out: list[str] = []
    new_origin: list[int] = []
    last = 0
    start = text.find(old)
    while start != -1:
        out.append(text[last:start])
        new_origin.extend(origin[last:start])
        out.append(new)
        new_origin.extend(_spread(origin[start:start + len(old)], len(new)))
        last = start + len(old)
        start = text.find(old, last)
    out.append(text[last:])
    new_origin.extend(origin[last:])
    return "".join(out), new_origin


def _collapse_spaces(text: str, origin: list[int]) -> tuple[str, list[int]]:
    chars: list[str] = []
    new_origin: list[int] = []
    for ch, o in zip(text, origin, strict=True):
        if ch.isspace():
            if not chars or chars[-1] == " ":
                continue
            ch = " "
        chars.append(ch)
        new_origin.append(o)
    while chars and chars[-1] == " ":
        chars.pop()
        new_origin.pop()
    return "".join(chars), new_origin
