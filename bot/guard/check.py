"""Guard findings on agent text (conditional benefits, threats, private data, pressure...)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.findings import Finding, Severity
from bot.guard.names import find_name, surname, titles
from bot.guard.tie import Tie, Ties
from bot.understand.normalize import Norm
from bot.understand.rules import CLAUSE_BREAK
from bot.understand.scoped import ScopedRules, WideNegation

if TYPE_CHECKING:
    from bot.guard.learned import Model

# What a benefit's clause loses in its rewrite: the condition and the sequence words (and a card's
# 即/即可 leading the clause: "即送5元现金红包" was left over from "五星好评后即送…").
_LINK_WORDS = re.compile(r"^(?:亲亲|亲爱的|亲|宝子|宝宝|宝|姐|哥|您好|在吗|嗯嗯|好的)?[,，~～]?|"
                         r"只要|如果|要是|假如|等(您|你)|(您|你)?先|前提是|条件是|作为(交换|感谢)|"
                         r"的话|之后|以后|完就|就能|^(?:即可|即)(?=[送享领获返赠得])|马上|立马|再|才|顺便|顺手|也请(您|你)|麻烦(您|你)")

# A word said twice in a row in the normalised text: an emoji mapped to the word it stands for, next
# to that word or to itself (送您一份🎁礼物 → 一份礼物礼物).
_DOUBLED = re.compile(r"([\u4e00-\u9fff]{2,4})\1+")

# The agent's own clause inside a rewrite says 您 as the rest of the rewrite does (给你发个红包，
# …由您决定 mixed both in one message); 你们 and 迷你 are left as written.
_INFORMAL_YOU = re.compile(r"(?<!迷)你(?!们)")


@dataclass(frozen=True, slots=True)
class CodeInfo:
    severity: Severity
    message: str
    focus: re.Pattern[str] | None = None
    covered_by: frozenset[str] = frozenset()
    # said instead of ``message`` when money goes off the platform with no review in sight
    off_platform: str | None = None


class Guard:
    """Runs the rules of ``dialogs/guard.yaml`` on normalised agent text."""

    def __init__(self, spec: dict[str, Any], model: Model | None = None) -> None:
        self.codes: dict[str, CodeInfo] = {}
        rules: dict[str, list[dict[str, Any]]] = {}
        for code, body in spec["codes"].items():
            focus = body.get("focus")
            self.codes[code] = CodeInfo(body["severity"], body["message"],
                                        re.compile(focus) if focus else None,
                                        frozenset(body.get("covered_by", ())), body.get("off_platform_message"))
            rules[code] = body["rules"]
        negation = WideNegation(spec.get("negators", []), spec.get("fillers", []),
                                spec.get("coordinators", []))
        self.rules = ScopedRules(rules, spec.get("cues", {}), negation, shared_exceptions=True)
        self.ties = Ties(spec.get("ties", {}), negation, spec.get("cues", {}))
        self.rewrites: dict[str, Any] = spec.get("rewrites", {})
        cb = self.rewrites.get("conditional_benefit")
        not_kept = cb.get("not_kept") if isinstance(cb, dict) else None
        self._not_kept = re.compile(str(not_kept)) if not_kept else None
        # The buyer's full name in a public text (guard.yaml public_name; a shop's older file
        # without it gets these words)
        public = spec.get("public_name") or {}
        self.public_name = CodeInfo(public.get("severity", "block"), str(public.get("message", (
            "商家回复是公开的，以后的买家都看得到：不能写出买家的全名，姓名是买家的隐私。"
            "称呼用“您”，或者只用姓加称呼（如“王女士”）。"))))
        self.public_code = str(public.get("code", "privacy"))
        # (the forms of address: the shop's list, else the bundled one)
        self.titles = tuple(str(t) for t in public.get("titles") or titles())
        self._titles = "|".join(re.escape(t) for t in sorted(self.titles, key=len, reverse=True))
        # The learned second opinion: heard only when the rules found nothing to block.
        self.model = model
        self.model_note: str = str(spec.get("second_opinion", {}).get("note", ""))

    def __call__(self, norm: Norm, context: Sequence[str] = (), stage: str | None = None) -> list[Finding]:
        """One finding per code, in the order of the YAML file, at the part of the message
        its rules point at most (see ``_densest``).

        ``context``: the agent's previous messages of the conversation (normalised text,
        oldest first); ``stage``: the conversation's stage before this message."""
        spans: dict[str, list[tuple[int, int]]] = {}
        for hit in self.rules.hits(norm.text):
            spans.setdefault(hit.label, []).append((hit.start, hit.end))
        first = {code: _densest(norm.text, found, self.codes[code].focus if code in self.codes else None)
                 for code, found in spans.items()}
        tie = self.ties(norm.text, context, stage) if "conditional_benefit" in self.codes else None
        if tie is not None and "conditional_benefit" not in first:
            first["conditional_benefit"] = (tie.start, tie.end)
        learned: set[str] = set()
        if self.model is not None and not any(self.codes[c].severity == "block" for c in first):
            for code in self.model.codes(norm.text):
                if code == "conditional_benefit" and not self.ties.plausible(norm.text, (), stage):
                    continue
                if code in self.codes:
                    first[code] = (0, len(norm.text))  # the model points at the whole message
                    learned.add(code)
        # 加我微信，私下给您补偿 names no review: the reason is the private deal, not 好评返现
        off = tie is not None and tie.shape == "off_platform" and not (
            self.ties.review and self.ties.review.search(norm.text))
        return [
            Finding(
                code=code,
                severity=info.severity,
                span=_whole_clause(norm.source, *norm.span(*_whole_number(norm.text, *first[code]))),
                message=(info.off_platform if off and info.off_platform and code == "conditional_benefit"
                         else info.message) + (self.model_note if code in learned else ""),
                rewrite=self.rewrite("off_platform" if off and code == "conditional_benefit" else code,
                                     norm.text, tie),
            )
            for code, info in self.codes.items()
            if code in first and not info.covered_by & first.keys()
        ]

    def named(self, norm: Norm, name: str | None) -> list[Finding]:
        """The buyer's full name (``name``, normalised) in a public text: one finding at its
        first place, with the text calling the buyer by surname and title (王女士) or 您."""
        spans = find_name(norm.text, name) if name else []
        if not name or not spans:
            return []
        info = self.public_name
        return [Finding(code=self.public_code, severity=info.severity, span=norm.span(*spans[0]),
                        message=info.message, rewrite=self._unnamed(norm.source, name))]

    def _unnamed(self, text: str, name: str) -> str | None:
        """``text`` with the name said as 王女士 where a title follows it, else 您 (None when the
        name is not in the text as typed: written in traditional characters, say)."""
        if not find_name(text, name):
            return None
        flags = re.IGNORECASE if name.isascii() else 0
        if self._titles:
            text = re.sub(re.escape(name) + f"(?=(?:{self._titles}))", surname(name), text, flags=flags)
        # "王小明，您好" is "您好" (not "您，您好"); elsewhere the name is 您
        text = re.sub(re.escape(name) + r"[,，\s]*(?=[您你])", "", text, flags=flags)
        return re.sub(re.escape(name), "您", text, flags=flags)

    def rewrite(self, code: str, text: str, tie: Tie | None) -> str | None:
        """A compliant Chinese rewrite for a finding of ``code`` on ``text``."""
        spec = self.rewrites.get(code)
        if not isinstance(spec, dict):
            return spec if isinstance(spec, str) else None
        if tie is not None and tie.shape == "agree":
            return str(spec.get("agree") or spec.get("plain"))
        benefit = self._benefit_clause(text)
        if benefit and "with_benefit" in spec:
            candidate = str(spec["with_benefit"]).format(benefit=benefit)
            if self._clean(candidate):
                return candidate
        solicit = spec.get("solicit")
        # a request tied to an earlier message's offer is no slogan: the slogan's wording
        # (收到货后…) does not fit the talk it is part of
        own = tie is None or tie.shape != "cross_message"
        if own and isinstance(solicit, dict) and re.search(str(solicit["when"]), text) \
                and not re.search(str(solicit["unless"]), text):
            return self._solicit(text, solicit)
        return str(spec.get("plain")) if spec.get("plain") else None

    def _clean(self, candidate: str) -> bool:
        return not self.rules.hits(candidate) and self.ties(candidate) is None

    def _solicit(self, text: str, spec: dict[str, Any]) -> str:
        """A slogan asking for a good review, rewritten as one: its clauses that neither name the
        review nor are left out by `not_kept` ("下次下单给您优惠"), the review left to the buyer; no
        apology, as nothing went wrong."""
        rest = []
        for clause in CLAUSE_BREAK.split(text):
            if re.search(str(spec["when"]), clause) or (self.ties.review and self.ties.review.search(clause)):
                continue
            if self._not_kept is not None and self._not_kept.search(clause):
                continue
            out = _LINK_WORDS.sub("", clause).strip(" ,，~～")
            if len(out) >= 2:
                rest.append(_INFORMAL_YOU.sub("您", out))
        if rest:
            candidate = str(spec["with_rest"]).format(rest="，".join(rest))
            if self._clean(candidate):
                return candidate
        return str(spec["plain"])

    def _benefit_clause(self, text: str) -> str | None:
        """The clauses offering the benefit, without the review and the condition: the first
        one kept and those right after it that are kept too, so that a heading (作为补偿) keeps
        the benefit it introduces (给您发一个5元红包), not the heading alone."""
        run: list[str] = []
        for clause in CLAUSE_BREAK.split(text):
            out = self._kept(clause)
            if out is None or len("，".join([*run, out])) > 30:
                if run:
                    break
                continue
            run.append(out)
        return "，".join(run) or None

    def _kept(self, clause: str) -> str | None:
        """``clause`` as a compliant message keeps it, when it offers a benefit and nothing else."""
        if not self.ties.benefit or not self.ties.benefit.search(clause):
            return None
        if self.ties.review and self.ties.review.search(clause):
            return None
        if self.ties.offplatform and self.ties.offplatform.search(clause):
            return None
        if self._not_kept is not None and self._not_kept.search(clause):
            return None  # 截图找客服领取, 发您微信红包: no benefit a compliant message keeps as said
        # an emoji read as its word beside the word itself (🎁礼物, 🎁🎁 → 礼物礼物) says it once
        out = _DOUBLED.sub(r"\1", _LINK_WORDS.sub("", clause)).strip(" ,，~～")
        return _INFORMAL_YOU.sub("您", out) if 2 <= len(out) <= 30 else None

    def blocks(self, findings: list[Finding]) -> bool:
        """True when any finding is of block severity."""
        return any(f.severity == "block" for f in findings)


def _densest(text: str, spans: list[tuple[int, int]], focus: re.Pattern[str] | None) -> tuple[int, int]:
    """The span shown for a finding: overlapping hits of its rules merged into runs; the run
    its code's ``focus`` finds something in (guard.yaml), then the one most hits fall in, then
    the longest, then the first. "页面上写得很清楚这款偏小，是您自己没看尺码表" is blame in both
    clauses: the agent is shown "是您自己没", the part that turns on the buyer, not "页面上写得很"."""
    runs: list[tuple[int, int, int]] = []  # start, end, hits
    for s, e in sorted(spans):
        if runs and s < runs[-1][1]:
            rs, re_, n = runs[-1]
            runs[-1] = (rs, max(re_, e), n + 1)
        else:
            runs.append((s, e, 1))
    best = max(runs, key=lambda r: (bool(focus and focus.search(text, r[0], r[1])), r[2], r[1] - r[0], -r[0]))
    return best[0], best[1]


def _whole_number(text: str, start: int, end: int) -> tuple[int, int]:
    """A span that does not stop inside a number: a cue such as "返\\d" matched "返2" of
    "返20元", and the agent was shown "…我给您返2"; nor between a number and its measure word:
    a cue such as "送您[一两]" matched "再送您一" of "再送您一个", and the agent was shown half a
    word (the span only: which messages are found is the rules' business)."""
    while 0 < end < len(text) and text[end - 1].isdigit() and text[end].isdigit():
        end += 1
    if 0 < end < len(text) and text[end - 1].isdigit() and text[end] in _MEASURES:
        end += 1  # "返5元", not "返5"
    elif 0 < end < len(text) and text[end - 1] in _NUMERALS:
        while end < len(text) and text[end] in _NUMERALS:
            end += 1
        if end < len(text) and text[end] in _MEASURES:
            end += 1
    return start, end


def _whole_clause(text: str, start: int, end: int) -> tuple[int, int]:
    """The span widened to the clauses it touches, so that it shows whole words: a rule that
    matched "必须改" of "你必须改成好评" or "会被罚" of "我们会被罚款" showed the trainee half a
    word, and Chinese has no spaces to stop at. The particles that end a clause (吧, 哦) are left out.
    On the text as typed: normalising drops the spaces that end a clause ("赶紧改评价 谢谢")."""
    if start >= end:
        return start, end
    while start > 0 and not _breaks(text, start - 1):
        start -= 1
    while end < len(text) and not _breaks(text, end):
        end += 1
    typed = end
    while end - 1 > start and text[end - 1] in _PARTICLES:
        end -= 1
    # a tag question closing the clause is no part of what was said ("…100号对吧": not "100号对");
    # a bare 对/是 only before its particle ("做得不对" keeps its 对)
    tag = _TAG_QUESTION.search(text, start, end)
    if tag and tag.start() > start and (end < typed or len(tag.group()) > 2):
        end = tag.start()
    return start, end


def _breaks(text: str, i: int) -> bool:
    """Whether ``text[i]`` ends a clause (a point between digits does not: 9.9元)."""
    if text[i] in ".．":
        return not (0 < i < len(text) - 1 and text[i - 1].isdigit() and text[i + 1].isdigit())
    return text[i] in _CLAUSE_BREAKS or text[i].isspace()


_CLAUSE_BREAKS = frozenset("，。！？,!?；;：:~～…")
_PARTICLES = frozenset("吧哦噢呢啊呀哈嘛啦么喔哟")
# what is left of a tag question once its particle is dropped (对吧 → 对, 是不是, 没错吧 → 没错)
_TAG_QUESTION = re.compile(r"(?<!不)(?:对|是|没错|对不对|是不是)$")

# Chinese numerals, and the measure words that follow them in an offer ("一个", "两双", "一张")
_NUMERALS = frozenset("一二两三四五六七八九十百几半")
_MEASURES = frozenset("个件瓶盒张双包份支只次袋套条片罐杯块元台副把本束")
