"""A benefit and a review action linked in any way (the ``ties:`` section of guard.yaml).

The explicit link rules of guard.yaml (好评返现, 删评后…, 只要…就…) catch the shapes they
name; this layer catches the rest of the rule as the issue states it: a benefit (or
something owed anyway: a refund, an exchange) and a review action in one message, in one
breath or across the agent's recent messages, are tied unless the agent says they are not
(改不改都可以, 跟评价没关系) or the remedy is already done. It also reads a benefit moved
off the platform (加微信, 私下转账) and, in the stages listed under ``agree_stages``
(疑似恶意), agreeing to pay or to any exchange.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.dataload import DataError
from bot.understand.alternation import compile_lexicon, factor, span
from bot.understand.rules import CLAUSE_BREAK, Negation, expand
from bot.understand.scoped import lead

# "能不能改", "可不可以删": a question, not a negation.
_ASKING = re.compile(r"(.)不\1$|可不可以$|能否$")
_WINDOW = 24
Spans = tuple[tuple[int, int], ...]


def _clause(text: str, s: int, e: int) -> tuple[int, int]:
    """The clause around the span s:e, at most _WINDOW characters each side (long texts
    without punctuation stay linear)."""
    left = s
    while left > max(0, s - _WINDOW) and not CLAUSE_BREAK.match(text[left - 1]):
        left -= 1
    right = e
    while right < min(len(text), e + _WINDOW) and not CLAUSE_BREAK.match(text[right]):
        right += 1
    return left, right


def _sentence(text: str, s: int, e: int) -> tuple[int, int]:
    """The sentence around [s, e): from after the last 。!? before s to the next one."""
    left = max(text.rfind(c, 0, s) for c in "。！？!?") + 1
    ends = [i for i in (text.find(c, e) for c in "。！？!?") if i >= 0]
    return left, min(ends) if ends else len(text)


def _quote_at(text: str, pos: int) -> str | None:
    """The quoted words around pos, if pos is inside quotation marks."""
    before = text[:pos]
    for open_, close in (("“", "”"), ("「", "」")):
        if before.count(open_) > before.count(close):
            start = before.rfind(open_) + 1
            end = text.find(close, pos)
            return text[start:end if end >= 0 else len(text)]
    if before.count('"') % 2 == 1:
        end = text.find('"', pos)
        return text[before.rfind('"') + 1:end if end >= 0 else len(text)]
    return None


def _inside(pos: int, spans: list[tuple[int, int]]) -> bool:
    return any(s <= pos < e for s, e in spans)


@dataclass(frozen=True, slots=True)
class Tie:
    """Where the tie shows in the current message, and which shape it took."""

    start: int
    end: int
    shape: str  # same_message | withheld | off_platform | cross_message | agree


class Ties:
    """Compiled from ``ties:``: lists of regexes over normalised text."""

    def __init__(self, spec: dict[str, Any], negation: Negation,
                 cues: dict[str, list[str]] | None = None) -> None:
        self.negation = negation
        cues = cues or {}

        def _compile(key: str) -> re.Pattern[str] | None:
            patterns = spec.get(key) or []
            if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
                raise DataError(f"guard.yaml：ties.{key} 应为正则表达式列表")
            try:
                # %cue% names the guard's cue lists (the disavowals of the explicit rules...)
                full = [expand(p, cues) if "%" in p else p for p in patterns]
                # a trie led by its first characters (as the rules are): each list is searched in
                # every message, and re then skips in C to where one of them can start
                return compile_lexicon(lead(factor(full))) if full else None
            except (re.error, ValueError) as exc:
                raise DataError(f"guard.yaml：ties.{key} 里的正则表达式有误：{exc}") from exc

        self.benefit = _compile("benefit")
        self.service = _compile("service")
        self.service_offer = _compile("service_offer")
        self.review = _compile("review")
        self.offplatform = _compile("offplatform")
        self.decouple = _compile("decouple")
        self.done = _compile("done")
        self.paid = _compile("paid")
        self.money = _compile("money")
        self.agree = _compile("agree")
        self.refuse = _compile("refuse")
        self.defer = _compile("defer")
        self.withhold = _compile("withhold")
        self.ordinary = _compile("ordinary")
        self.lost = _compile("lost")
        self.refund = _compile("refund")
        self.extra = _compile("extra")
        self.mechanics = _compile("mechanics")
        self.denied = _compile("denied")
        self.thanked = _compile("thanked")
        self.unless_review = _compile("unless_review")
        self.remedy = _compile("remedy")
        self.gift = _compile("gift")
        self.bare_change = _compile("bare_change")
        self.cash = _compile("cash")
        self.bare = _compile("bare")
        self.gift_free = _compile("gift_free")
        self.agree_stages = frozenset(spec.get("agree_stages", []))
        self.memory = int(spec.get("memory", 2))

    def _free(self, pat: re.Pattern[str] | None, text: str) -> list[tuple[int, int]]:
        if pat is None:
            return []
        out = []
        for m in pat.finditer(text):
            s, e = span(m)  # lexicon patterns: where the match is (alternation.span)
            if e > s and (_ASKING.search(text, max(0, s - 4), s) or not self.negation.negated(text, s)):
                out.append((s, e))
        return out

    def _pending(self, text: str, owed: bool = True) -> list[tuple[int, int]]:
        """Benefit spans not already given (已经退了 is a fact, not an offer); a service the
        buyer is owed anyway (退款, 换货) counts when its clause offers or holds it (unless
        ``owed`` is False)."""
        out = []
        lost = self._lost(text)
        spans = [(s, e, False) for s, e in self._free(self.benefit, text) if not _inside(s, lost)]
        if owed:
            spans += [(s, e, True) for s, e in self._free(self.service, text)]
        for s, e, owed in sorted(spans):
            # the clause around the hit, at most _WINDOW characters each side (long texts
            # without punctuation stay linear)
            left, right = _clause(text, s, e)
            if self._done_at(text, left, right):
                continue
            # money reported paid anywhere in its clause (补偿款10元已通过支付宝转账): a fact
            if self.paid is not None and self.paid.search(text, left, right):
                continue
            if owed and (self.service_offer is None or not self.service_offer.search(text, left, right)):
                continue
            # a service refused in its clause (退款这边没法给您办) is not offered, unless the message
            # makes the review the way round the refusal (除非您把差评删了)
            if owed and self._denied(text, left, right):
                continue
            out.append((s, e))
        return out

    def _gifts(self, text: str) -> list[tuple[int, int]]:
        """Gifts offered or just paid (红包, 券, 返您10元, 补偿您30元): pending or paid benefits
        whose clause names a gift, or cash outside the product's own remedy (给您退20元, 给您换一件
        新的 are remedies). A disclaimer beside one does not untie it from a review request."""
        spans = list(self._pending(text, owed=False))
        paid = self._paid_money(text)
        if paid is not None:
            spans.append(paid)
        out = []
        for s, e in spans:
            left, right = _clause(text, s, e)
            gift = self.gift is not None and self.gift.search(text, left, right) is not None
            # the remedy is read in the whole sentence: 20元已经提交，会原路退回 is the refund the
            # buyer chose, said over two clauses
            a, b = _sentence(text, s, e)
            cash = (self.cash is not None and self.cash.search(text, left, right) is not None
                    and (self.remedy is None or self.remedy.search(text, a, b) is None))
            if (gift or cash) and not self._practice_named(text, s):
                out.append((s, e))
        return out

    def _practice_named(self, text: str, pos: int) -> bool:
        """Whether pos is inside quotation marks that name the practice whole (以“好评返现”为由):
        a gift and a review quoted apart (发个"10元红包"，把"差评"改一下) are still offered and asked."""
        quoted = _quote_at(text, pos)
        if quoted is None or self.review is None or not self.review.search(quoted):
            return False
        return any(p is not None and p.search(quoted) for p in (self.gift, self.cash, self.benefit))

    def _gift_free(self, text: str) -> bool:
        """The practice disavowed (好评返红包吗？没有的，这种我们从来不做) or the gift said to come with
        every order (赠品是下单就有的活动), and no gift or cash offered besides: each gift is in the
        clause that says so, or in a question that is answered (活动赠品下单就有，另外给您10元红包 is
        still a gift)."""
        if self.gift_free is None:
            return False
        free = [_clause(text, *span(m)) for m in self.gift_free.finditer(text)]
        if not free:
            return False
        for pat in (self.gift, self.cash):
            for m in pat.finditer(text) if pat is not None else ():
                g = span(m)[0]
                if _inside(g, free):
                    continue
                end = _sentence(text, g, g)[1]
                if end < len(text) and text[end] in "？?":
                    continue
                return False
        return True

    def _asked(self, text: str, reviews: Spans) -> Spans:
        """Review actions asked for: those whose clause says no disclaimer (评价改不改都看您 is
        the disclaimer itself; 差评能不能改一下 beside 不改也没关系 is still asked)."""
        if self._gift_free(text):
            return ()
        return tuple(r for r in reviews if not self._practice_named(text, r[0])
                     and (self.decouple is None or self.decouple.search(text, *_clause(text, *r)) is None)
                     and not self._bare(text, *r))

    def _bare(self, text: str, s: int, e: int) -> bool:
        """A review named, not asked for (您的好评我们收到了): a bare review word, unless a gift
        follows it at once (好评返现, 好评送5元: the slogan is the request)."""
        if self.bare is None or self.bare.fullmatch(text[s:e]) is None:
            return False
        return self.gift is None or self.gift.search(text[e:e + 4]) is None

    def _denied(self, text: str, left: int, right: int) -> bool:
        return (self.denied is not None and self.denied.search(text, left, right) is not None
                and (self.unless_review is None or self.unless_review.search(text) is None))

    def _lost(self, text: str) -> list[tuple[int, int]]:
        """Money the agent or the shop loses (扣我200块, 被罚了50元): no benefit to the buyer."""
        return [span(m) for m in self.lost.finditer(text)] if self.lost is not None else []

    def _done_at(self, text: str, left: int, right: int) -> bool:
        """Whether the benefit's clause says it is done, before or after it (退款已经给您原路
        退回了, 给您补发的那件今天已经发出去了: the phrase runs on past the benefit)."""
        return self.done is not None and self.done.search(text, left, right) is not None

    def _paid_money(self, text: str) -> tuple[int, int] | None:
        """Money the message reports as just paid (已经给您转了10元, 已经给您退了10元): a sum or
        cash named in a clause that says it is done or paid."""
        if self.money is None:
            return None
        lost = self._lost(text)
        for s, e in self._free(self.money, text):
            if _inside(s, lost):
                continue
            left, right = _clause(text, s, e)
            if self._order_refund(text, left, right):
                continue  # 45元已经原路退回了: the order's refund done, the fix itself
            if (self.done is not None and self.done.search(text, left, right)) or (
                    self.paid is not None and self.paid.search(text, left, right)):
                return s, e
        return None

    def _order_refund(self, text: str, left: int, right: int) -> bool:
        """Whether the clause names the order's own refund (原路退回, 退款), not money beyond it
        (差价, 补偿, 红包): the sum is what the buyer paid, given back."""
        return (self.refund is not None and self.refund.search(text, left, right) is not None
                and (self.extra is None or self.extra.search(text, left, right) is None))

    def plausible(self, text: str, context: Sequence[str] = (), stage: str | None = None) -> bool:
        """Whether a tie could be there at all: a benefit (or an owed service, or money moved
        off the platform) and a review action somewhere in the message or its memory, or a
        stage where agreeing is enough. The learned opinion on ties is heard only then."""
        if self.decoupled(text) or (self.refuse is not None and self.refuse.search(text)):
            return False  # the agent says the benefit is free, or refuses the deal
        texts = [text, *list(context)[-self.memory:]]
        pats = (self.benefit, self.service, self.offplatform)
        gives = any(p is not None and p.search(t) for p in pats for t in texts)
        asks = stage in self.agree_stages or any(
            self.review is not None and self.review.search(t) for t in texts)
        return gives and asks

    def decoupled(self, text: str) -> bool:
        return self.decouple is not None and self.decouple.search(text) is not None

    @functools.lru_cache(maxsize=1024)  # noqa: B019 -- one Ties per guard, kept for the process
    def _read(self, text: str) -> tuple[Spans, Spans, bool]:
        """A message's review actions, pending benefits and whether it decouples them. Each
        agent message is read again as the memory of the next turns: it is read once."""
        return tuple(self._free(self.review, text)), tuple(self._pending(text)), self.decoupled(text)

    @functools.lru_cache(maxsize=256)  # noqa: B019 -- as _read; asked only when a review follows
    def _paid_before(self, text: str) -> bool:
        """Whether an earlier message reported money just paid (read only when the current
        message asks for the review, which few do)."""
        return self._paid_money(text) is not None

    def __call__(self, text: str, context: Sequence[str] = (), stage: str | None = None) -> Tie | None:
        reviews, pending, free = self._read(text)
        if stage in self.agree_stages:
            # Agreeing to pay or to a deal is a tie; the ordinary remedy for the product
            # (换货、退货) stays an unconditional offer, as with any buyer.
            deal = [p for p in self._pending(text, owed=False)
                    if self.ordinary is None or not self.ordinary.match(text, p[0])]
            hit = self._agreement(text, deal)
            if hit:
                return hit
        held = self.withhold.search(text) if self.withhold is not None else None
        # held back needs something the buyer is owed in the message: 您不改的话我们也没办法，
        # 差评会影响我的工资 holds nothing back (it pleads: guilt, not a price)
        if held and ((self.service is not None and self.service.search(text))
                     or (self.benefit is not None and self.benefit.search(text))):
            return Tie(*span(held), "withheld")
        # a gift and a review asked for in one message are tied whatever disclaimer follows
        # (给您发个10元红包，差评能不能改一下，不改也没关系); an owed remedy is not a gift
        asked = self._asked(text, reviews) if reviews and free else ()
        if free and not asked and self.bare_change is not None:
            # the review named only in the disclaimer, then asked for bare ("补偿您10元，这跟评价没关系哈，
            # 当然您要是愿意改一下我们也很感激"): the 改一下 is the review asked for
            asked = tuple(span(m) for m in self.bare_change.finditer(text)
                          if self.decouple is None or self.decouple.search(text, *_clause(text, *span(m))) is None)
        if asked:
            gifts = self._gifts(text)
            if gifts:
                return Tie(min(asked[0][0], gifts[0][0]), max(asked[0][1], gifts[0][1]), "same_message")
        if reviews and pending and not free:
            s = min(reviews[0][0], pending[0][0])
            e = max(reviews[0][1], pending[0][1])
            return Tie(s, e, "same_message")
        # money just paid, then the review asked for in the same breath (已经给您转了10元，您看
        # 差评能不能删了) reads as the price of it: tied, unless the message leaves the choice
        paid = self._paid_money(text) if reviews and not free else None
        if paid is None and reviews and not free and self.gift is not None:
            # a gift reported sent, then the review asked for (送您的枕套已经寄出了，顺便麻烦您把差评改一下):
            # as money just paid, the price of it
            paid = next((g for g in self._free(self.benefit, text)
                         if self.gift.search(text, *_clause(text, *g)) is not None), None)
        if paid is not None:
            return Tie(min(reviews[0][0], paid[0]), max(reviews[0][1], paid[1]), "paid_beside")
        off = self._free(self.offplatform, text)
        # money moved off the platform next to a review action is tied even when it is
        # reported as paid (已经支付宝转您10元，差评能不能删了); paid with no review, it is not
        money = pending or (self._free(self.benefit, text) if reviews else [])
        if off and money and not free:
            return Tie(min(off[0][0], money[0][0]), max(off[0][1], money[0][1]), "off_platform")
        if free or not context:
            return None
        if self.done is not None and self.done.search(text):
            return None  # a request after the remedy is done
        if self.mechanics is not None and self.mechanics.search(text) and not pending:
            return None  # how reviews work (天猫的评价改不了，可以追评), told after a remedy
        # newest first: a review already asked for after (or with) an earlier benefit was judged
        # with it then; asking again (还能不能再帮忙改一下) is a repeat, not a new tie
        # the buyer's own offer to change the review, thanked (谢谢亲，压扁了还愿意改评价): nothing
        # asked of them, so no price for an earlier message's offer (in one message it still ties)
        thanked = [span(m) for m in self.thanked.finditer(text)] if self.thanked is not None else []
        reviews = tuple(r for r in reviews if not _inside(r[0], thanked))
        # a fix reported done in between ("补发的已经寄出了") releases nothing: a gift or a sum offered
        # beside the fix cannot be told from the fix here, and "已经签收了" would free any gift
        for prev in reversed(list(context)[-self.memory:]):
            asked, offered, decoupled = self._read(prev)
            # a request already made stops the walk even when it left the choice to the buyer
            # (…您愿意考虑更新一下评价吗？这完全是您的权利): the offer before it was judged with it
            if reviews and asked:
                break
            if decoupled:
                continue
            # money just paid in the message before ("红包已经发您了") and now the review
            # asked for ("好评帮忙补一下哦"): the paid_beside reading, across two messages
            if reviews and (offered or self._paid_before(prev)):
                return Tie(*reviews[0], "cross_message")
            if pending and asked:
                return Tie(*pending[0], "cross_message")
        return None

    def _agreement(self, text: str, pending: list[tuple[int, int]]) -> Tie | None:
        if self.refuse is not None and self.refuse.search(text):
            return None
        agreed = self._free(self.agree, text)
        if agreed:
            return Tie(*agreed[0], "agree")
        if self.defer is not None and self.defer.search(text):
            return None  # put off to a supervisor, not agreed (nor refused)
        if pending:
            return Tie(*pending[0], "agree")
        return None
