"""Remedy options from ``dialogs/remedies.yaml``, matched to the cause and the buyer's choice."""

from __future__ import annotations

import re
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace
from typing import Any

from bot.models import Context, RemedyOption
from bot.numerals import arabic_sums

_MARK = re.compile(r"[，。！？,.!?；;\s]")  # where a clause of an agent's message ends


@dataclass(frozen=True, slots=True)
class Remedy:
    id: str
    label: str
    text: str
    short: str
    next: str | None  # what happens next once it is agreed (remedies.yaml `next`)
    again: str | None  # why the new one won't have the same problem (remedies.yaml `again`)
    shipping: str | None  # who pays the postage, with or without 运费险 (remedies.yaml `shipping`)
    choose: tuple[re.Pattern[str], ...]  # one pattern per cue
    intents: tuple[str, ...]
    instead: str | None = None  # the option that meets a request for it where a cause lacks it
    firm: re.Pattern[str] | None = None  # words that hold to it as said ("东西不寄回")
    as_listed: tuple[str, ...] = ()  # the options the agent listed that a request for it means
    whole: re.Pattern[str] | None = None  # words that hold to the whole of it ("全额")
    size: re.Pattern[str] | None = None  # the size a request names ("换个L码")
    sized: dict[str, str] | None = None  # its text, short and next with {{ size }}
    needs_goods: bool = False  # presumes the buyer has the goods: not for one who got none
    no_goods: dict[str, str] | None = None  # its words for a buyer who got none
    no_goods_only: bool = False  # only for a buyer who got none (the courier chased)
    until_received: bool = False  # done only once the buyer has the goods: the review waits
    amount: re.Pattern[str] | None = None  # the sum an offer or a choice names ("退您30元")
    with_amount: dict[str, str] | None = None  # its text, short and next with {{ amount }}
    refund: bool = False  # pays money back: not offered once the platform refunded (Context.refunded)
    up_to: float | None = None  # the most in yuan an agent agrees outright when the buyer names a sum
    for_products: re.Pattern[str] | None = None  # products it is granted on whatever the cause
    keeps_in_use: bool = False  # the buyer keeps using the goods: not offered on a safety hazard
    gift: bool = False  # a gift, not a fix: not named beside the review request ({{ gift }})

    def size_in(self, text: str) -> str | None:
        """The size ``text`` names for this remedy, as said back ("l" → "L码"), else None."""
        # a size named outright wins over a relative one said before it ("换大一码吧，要150的"), and
        # the first of those is the one asked for ("换M码，我平时穿S")
        found = list(self.size.finditer(text)) if self.size is not None and self.sized else []
        if not found:
            return None
        m = next((m for m in found if not m.group().startswith(("大一", "小一"))), found[0])
        size = re.sub(r"\s+", "", m.group()).upper()
        return size if size.endswith(("码", "号")) else size + "码"

    def amount_in(self, text: str) -> str | None:
        """The sum ``text`` names for this remedy ("退您30元", "退您三十元" → "30"), else None."""
        m = self.amount.search(arabic_sums(text)) if self.amount is not None and self.with_amount else None
        return next((g for g in m.groups() if g), None) if m is not None else None


SPOKEN = 3  # how many options one message says


def spoken(options: list[Remedy], most: int = SPOKEN) -> str:
    """Options as one spoken sentence part: "A；或者B；或者C" (the first ``most``)."""
    return "；或者".join(r.text for r in options[:most])


class RemedyBook:
    """The shop's remedies and which ones fit which cause."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.remedies = {
            rid: Remedy(
                rid, r["label"], r["text"], r["short"], r.get("next"), r.get("again"), r.get("shipping"),
                tuple(re.compile(c) for c in r.get("choose") or ()),
                tuple(r.get("intents", [])),
                r.get("instead"), re.compile("|".join(r["firm"])) if r.get("firm") else None,
                tuple(r.get("as_listed") or ()), re.compile("|".join(r["whole"])) if r.get("whole") else None,
                re.compile(r["size"]) if r.get("size") else None, r.get("sized"),
                bool(r.get("needs_goods")), {k: v for k, v in (r.get("no_goods") or {}).items() if v} or None,
                bool(r.get("no_goods_only")), bool(r.get("until_received")),
                re.compile(r["amount"]) if r.get("amount") else None, r.get("with_amount"),
                bool(r.get("refund")), float(r["up_to"]) if r.get("up_to") is not None else None,
                re.compile(r["for_products"]) if r.get("for_products") else None,
                bool(r.get("keeps_in_use")),
                bool(r.get("gift")),
            )
            for rid, r in spec["remedies"].items()
        }
        self.by_cause: dict[str, list[str]] = spec["by_cause"]
        self.refused_after = re.compile(spec.get("refused_after") or "(?!)")
        self.no_goods_causes = frozenset(spec.get("no_goods_causes", ["logistics"]))
        # the options left once the money came back already, where a cause has none but refunds
        self.after_refund: list[str] = list(spec.get("after_refund") or [])
        # the options a safety hazard (Context.safety) makes sure of: the goods taken back
        self.hazard: list[str] = list(spec.get("hazard") or [])
        self._options: dict[tuple[str | None, bool, bool, bool], list[RemedyOption]] = {}
        self._for: dict[tuple[str | None, bool, bool, bool], list[Remedy]] = {}
        self._found: dict[str, dict[str, list[tuple[int, int]]]] = {}

    def found(self, text: str) -> dict[str, list[tuple[int, int]]]:
        """The remedies whose cues ``text`` holds, in the book's order: each match's (length,
        start). A buyer's message is read for its options several times (named, chosen, turned
        down, asked about), so the last texts' are kept. Each cue is searched on its own: in one
        alternation "换" would be found first in "换新的", hiding "新的"."""
        hit = self._found.get(text)
        if hit is None:
            hit = {}
            for r in self.remedies.values():
                spans = [(m.end() - m.start(), m.start()) for c in r.choose for m in c.finditer(text)]
                if spans:
                    hit[r.id] = spans
            if len(self._found) >= 64:
                self._found.clear()
            self._found[text] = hit
        return hit

    def cue_length(self, r: Remedy, text: str, turned_down: re.Pattern[str] | None = None) -> int:
        """The length of the longest cue of ``r`` found in ``text`` and not turned down by the
        words just before it, nor refused by those just after it ("新的我也不敢用了") (0: none)."""
        return max((n for n, start in self.found(text).get(r.id, ())
                    if turned_down is None or (turned_down.search(text, 0, start) is None
                                               and self.refused_after.match(text, start + n) is None)),
                   default=0)

    def remedy(self, rid: str, no_goods: bool = False) -> Remedy | None:
        """The remedy ``rid`` as said to this buyer: for one who never got the goods, in its
        ``no_goods`` words ("直接给您全额退款", not "…东西不用寄回")."""
        r = self.remedies.get(rid)
        if r is None or not no_goods or not r.no_goods:
            return r
        words = r.no_goods
        return replace(r, text=words.get("text", r.text), short=words.get("short", r.short),
                       next=words.get("next", r.next), shipping=words.get("shipping", r.shipping))

    def goods_gone(self, cause: str | None, not_received: bool) -> bool:
        """Whether the buyer has no goods to keep or send back: they said nothing arrived
        (Context.not_received) on a cause where that is the problem (remedies.yaml
        ``no_goods_causes``: a quality case's "赠品也没收到" still has the goods)."""
        return not_received and cause in self.no_goods_causes

    def for_cause(self, cause: str | None, no_goods: bool = False, refunded: bool = False,
                  hazard: bool = False) -> list[Remedy]:
        """The options for a cause, most fitting first. Every list of options a case shows or
        reads (the suggestions, 可选补救, the API's remedies, a choice) comes from here: for a
        buyer who never got the goods (Context.not_received, on a ``goods_gone`` cause), without
        those that presume them (remedies.yaml `needs_goods`; all of them kept if none is left)
        and in their ``no_goods`` words. ``refunded``: the buyer said the platform refunded already
        (Context.refunded): no option that pays money back (remedies.yaml `refund`); a cause left
        with none has remedies.yaml `after_refund`. ``hazard``: the buyer reported a danger (smoke,
        fire, a shock: Context.safety): no option that keeps the goods in use (`keeps_in_use`), and
        the ones in remedies.yaml `hazard` (the goods taken back) are offered whatever the cause, but
        for those that pay money back once the buyer was refunded (a refund is never offered twice)."""
        no_goods = self.goods_gone(cause, no_goods)
        key = (cause, no_goods, refunded, hazard)
        found = self._for.get(key)
        if found is None:
            ids = self.by_cause.get(cause or "unknown", self.by_cause["unknown"])
            found = [self.remedies[r] for r in ids]
            if no_goods:
                found = [self.remedy(r.id, True) or r for r in found if not r.needs_goods] or found
            else:  # (chasing a parcel the buyer has is no fix)
                found = [r for r in found if not r.no_goods_only] or found
            if refunded:
                found = [r for r in found if not r.refund] or [
                    self.remedy(r, no_goods) or self.remedies[r] for r in self.after_refund] or found
            if hazard and not no_goods:  # (…not one that pays back again what the platform refunded)
                found = [r for r in found if not r.keeps_in_use]
                found += [self.remedies[r] for r in self.hazard
                          if all(f.id != r for f in found) and not (refunded and self.remedies[r].refund)]
            self._for[key] = found
        return list(found)

    def options(self, cause: str | None, no_goods: bool = False, refunded: bool = False,
                hazard: bool = False) -> list[RemedyOption]:
        """The options of a cause as the API shows them (built once per cause)."""
        key = (cause, no_goods, refunded, hazard)
        if key not in self._options:
            self._options[key] = [RemedyOption(id=r.id, label=r.label, text=r.text)
                                  for r in self.for_cause(cause, no_goods, refunded, hazard)]
        return list(self._options[key])

    def options_text(self, cause: str | None, without: AbstractSet[str] | None = None,
                     no_goods: bool = False, refunded: bool = False, hazard: bool = False) -> str:
        """The cause's options as one spoken sentence part (``spoken``); with ``without``, the
        others than those, at most two: the alternatives to a request."""
        options = self.for_cause(cause, no_goods, refunded, hazard)
        if without is None:
            return spoken(options)
        return spoken([r for r in options if r.id not in without], 2)

    def turned_down(self, text: str, down: re.Pattern[str]) -> list[str]:
        """The options a reply names only to turn them down ("我不要补发了，直接退款吧": the reship)."""
        return [rid for rid in self.found(text) if not self.cue_length(self.remedies[rid], text, down)]

    def offers(self, cause: str | None, rid: str, no_goods: bool = False, refunded: bool = False,
               hazard: bool = False) -> bool:
        """Whether the cause's options (``by_cause``) include the remedy ``rid``."""
        return any(r.id == rid for r in self.for_cause(cause, no_goods, refunded, hazard))

    def granted(self, rid: str, product: str | None) -> bool:
        """Whether ``rid`` is granted on this product whatever the cause (remedies.yaml
        `for_products`: "全额退款，东西不寄回" on cat litter, not worth sending back)."""
        r = self.remedies.get(rid)
        return bool(product and r is not None and r.for_products is not None and r.for_products.search(product))

    def kept_instead(self, rid: str, cause: str | None, no_goods: bool = False) -> tuple[Remedy, Remedy] | None:
        """For a request of ``rid`` held to as said ("全额退款，东西我不寄回") on a cause that lacks
        it: the cause's option that meets it with the goods sent back (its `instead`: 退货退款) and
        the one that keeps them (its first `as_listed` the cause offers: 部分退款); None without both."""
        r = self.remedies.get(rid)
        if r is None or r.instead is None or not self.offers(cause, r.instead, no_goods):
            return None
        keep = next((o for o in r.as_listed if self.offers(cause, o, no_goods)), None)
        if keep is None:
            return None
        return self.remedies[r.instead], self.remedies[keep]

    def sum_taker(self, ctx: Context) -> Remedy | None:
        """The option a sum in yuan the buyer names is for (remedies.yaml `up_to`: the partial
        refund), among the options the agent listed, else the cause's; None when none takes
        one. The turn (is the sum within `up_to`?) and the replies (amount-over's most) both
        read it here, so they cannot disagree on which option that is."""
        ids = ctx.options_listed or [r.id for r in self.for_cause(ctx.cause, ctx.not_received, ctx.refunded,
                                                                  ctx.safety)]
        return next((r for rid in ids if (r := self.remedies.get(rid)) is not None and r.up_to is not None), None)

    def by_intent(self, intent: str, cause: str | None, no_goods: bool = False,
                  refunded: bool = False, hazard: bool = False) -> str | None:
        """The option a request intent asks for: the cause's first option it picks, else any
        remedy it picks (the buyer's request as asked), None when none does."""
        return next((r.id for r in self.for_cause(cause, no_goods, refunded, hazard) + list(self.remedies.values())
                     if intent in r.intents), None)

    def named(self, text: str, turned_down: re.Pattern[str] | None = None,
              first: list[Remedy] | None = None) -> str | None:
        """The option a reply names by one of its cues, the longest cue winning (``first``'s
        options before the others on a tie), unless the words just before the cue turn it
        down ("不用退了，换一个吧" names the exchange); None when it names none."""
        found = self.found(text)
        if not found:
            return None
        order = [r.id for r in first or () if r.id in found]
        best: tuple[int, str] | None = None
        for rid in order + [rid for rid in found if rid not in order]:
            n = self.cue_length(self.remedies[rid], text, turned_down)
            if n and (best is None or n > best[0]):
                best = (n, rid)
        return best[1] if best else None

    def in_order(self, text: str) -> list[str]:
        """The options a message names, in the order it names them ("换一件新的，或者退货退款，
        或者退您30元": exchange, return_refund, partial_refund); at one place the longest cue
        counts, and a cue inside another's words ("退款" in "退货退款") is not another option."""
        # the cues' matches as ``found`` keeps them (an offer is also read for cue_length)
        # (at one place, several options' same cue: one named already is the one meant, "补发一件新的"
        # is the reship, not the exchange too)
        return [rid for rid, _ in self._named_at(text)]

    def _named_at(self, text: str, turned_down: re.Pattern[str] | None = None) -> list[tuple[str, int]]:
        """``in_order``'s options, each with where its first cue starts."""
        hits = sorted((start, -n, rid) for rid, spans in self.found(text).items() for n, start in spans
                      if n and (turned_down is None or turned_down.search(text, 0, start) is None))
        out: list[tuple[str, int]] = []
        end = 0
        for k, (start, neg, rid) in enumerate(hits):
            if start < end:
                continue
            end = start - neg
            same = [r for s, m, r in hits[k:] if (s, m) == (start, neg)]
            if not any(r == o for r in same for o, _ in out):
                out.append((rid, start))
        return out

    def parts(self, text: str, turned_down: re.Pattern[str] | None = None) -> list[tuple[str, str]]:
        """The options a message names, in order, each with the words that name it: from where
        the one before ends (the first: from the start) to the end of the clause its cue is in,
        cut where the next option's cue starts ("给您寄一个新刀头，一按就能换上；或者退货退款，您看
        哪个？": the exchange's "给您寄一个新刀头，一按就能换上", the return's "；或者退货退款").
        With ``turned_down``, a cue turned down there names no option ("旧的不用寄回" is no return)."""
        at = self._named_at(text, turned_down)
        out: list[tuple[str, str]] = []
        begin = 0
        for k, (rid, start) in enumerate(at):
            # to the end of the clause of its last cue before the next option ("给您寄一块新桌面，拧四颗
            # 螺丝就能换上；…": the exchange runs to "换上")
            upto = at[k + 1][1] if k + 1 < len(at) else len(text)
            start = max((s for _, s in self.found(text).get(rid, ()) if start <= s < upto
                         and (turned_down is None or turned_down.search(text, 0, s) is None)), default=start)
            stop = _MARK.search(text, start)
            end = stop.start() if stop else len(text)
            if k + 1 < len(at):
                end = min(end, at[k + 1][1])
            out.append((rid, text[begin:end]))
            begin = end
        return out

    def fit(self, rid: str, cause: str | None, text: str, no_goods: bool = False) -> str:
        """The option that meets a request for ``rid`` on this cause: itself when the cause
        offers it, else its ``instead`` when the cause offers that and the words do not hold
        to ``rid`` as said ("先退款吧" on a quality case: 退货退款; "全额退款，东西不寄回" stays)."""
        r = self.remedies.get(rid)
        if r is None or r.instead is None or self.offers(cause, rid, no_goods) \
                or not self.offers(cause, r.instead, no_goods) \
                or (r.firm is not None and r.firm.search(text)):
            return rid
        return r.instead

    def listed(self, rid: str, listed: list[str], text: str) -> str:
        """The option the agent listed that a request for ``rid`` means when neither ``rid`` nor
        its ``instead`` was listed ("退钱吧 五六个" to "补发，或者按个数退钱": the partial refund),
        unless the words say the whole of it ("全额退款"); else ``rid``."""
        r = self.remedies.get(rid)
        if r is None or not listed or rid in listed or r.instead in listed \
                or (r.whole is not None and r.whole.search(text)):
            return rid
        return next((o for o in r.as_listed if o in listed), rid)

    def match(self, text: str, intent: str, cause: str | None,
              turned_down: re.Pattern[str] | None = None, no_goods: bool = False) -> str:
        """Which option a buyer's reply chooses: the longest cue in the text not turned down
        (the cause's options first, then any remedy: the buyer's choice is named as the buyer
        said it, 退货退款 is not 全额退款), else the intent, else the first."""
        options = self.for_cause(cause, no_goods)
        best = self.named(text, turned_down, options)
        if best is not None:
            return best
        for r in options:
            if intent in r.intents:
                return r.id
        return options[0].id
