"""Which of the options a buyer's reply picks, asks for or asks about: read by clause with
the cues of script.yaml (``picks``, ``turned_down``, ``question``, ``conditional``, ``asks_about``)
and the option cues of remedies.yaml. The turn (bot/engine.py) decides what the answer does."""

from __future__ import annotations

import re
from itertools import zip_longest

from bot.compose.remedies import RemedyBook
from bot.models import Context
from bot.script.flow import Flow
from bot.understand.pipeline import Understander

PLACE = {"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4}
CLAUSE = re.compile(r"[^，。！？,.!?；;]+[，。！？,.!?；;]*")  # a clause with the marks after it


class Choices:
    """The options a message names, over the flow's cues and the remedy book."""

    def __init__(self, flow: Flow, remedies: RemedyBook, understand: Understander) -> None:
        self.flow = flow
        self.remedies = remedies
        self.understand = understand

    def picks(self, norm: str) -> bool:
        """Whether a reply picks one of the options shown: by its place ("我选第二个") or by an
        option's cue not turned down ("那还是退15吧", not "不用退了"), in a clause that asks no
        question and sets no condition ("好，那就补发吧，菊花茶要寄回去吗" picks; "退款的话多久能
        到账？" does not). ``norm`` is the flow's normalised text, where a space typed for a comma
        is one already (_SPACED), so its clauses are the ones the buyer typed."""
        flow, down = self.flow, self.flow.cues["turned_down"]
        return any(not flow.cue("question", c) and (
            flow.cue("picks", c) is not None or self.remedies.named(c, down) is not None)
            for c in (flow.cues["conditional"].sub("。", c) for c in self._with_refusal(norm)))

    def _with_refusal(self, norm: str) -> list[str]:
        """The clauses, each with the next one when that only refuses it ("退货还得我拆了打包，也
        不必了": the return is waved off; script.yaml cues.refuses_clause)."""
        clauses = CLAUSE.findall(norm)
        return [c + n if n and self.flow.cue("refuses_clause", n) else c
                for c, n in zip_longest(clauses, clauses[1:], fillvalue="")]

    def proposes(self, ctx: Context, norm: str) -> bool:
        """Whether a reply names a sum while no recent message of the agent's names any ("留着
        退一半吧" to "给你退部分差价"): the buyer's own proposal, no choice until a sum is agreed.
        A sum against the agent's ("那退50吧" to "给您退20元") takes the option, as ever."""
        if self.flow.sums(norm) is None:
            return False
        return not any(self.flow.sums(said) or self.flow.sums(said, "offered_sums")
                       for said in (self.understand.normalize(t).text for t in ctx.agent_recent))

    def opens_on_choice(self, clauses: list[str]) -> bool:
        """Whether a reply opens on its choice and says no problem after it ("补缺的就行 我都拼
        一大半了", read as quality as a whole); "換新吧，盖子也裂了" tells a new one. A question
        about an option ("退钱 退了钱还要我寄回去吗") or a caution for next time ("换 这次别再等九天了")
        after the choice tells none either (cues.asks_about, cues.caution)."""
        if len(clauses) < 2 or not self.picks(clauses[0]):
            return False
        flow = self.flow
        told = [c for c in clauses[1:] if not flow.cue("caution", c)
                and not (flow.cue("asks_about", c) and self.remedies.named(c) is not None)]
        return not told or self.understand.buyer("".join(told)).cause is None

    def placed(self, ctx: Context, norm: str) -> str | None:
        """The option a reply picks by its place ("第二个", "后面那个", a bare "2"), counted in the
        order the agent's latest message with several options named them; None when it picks
        none by place or no such message is remembered."""
        # by clause: "1吧 盒子本身挺好的" picks the first and says why after it
        m = next((m for c in CLAUSE.findall(norm) if (m := self.flow.cue("picks", c)) is not None), None)
        if m is None:
            return None
        listed = next((ids for said in reversed(ctx.agent_recent)
                       if len(ids := self.remedies.in_order(self.understand.normalize(said).text)) > 1), [])
        if not listed:
            return None
        n = next((PLACE[c] for c in m.group() if c in PLACE), None)
        if n is None:  # 前面/上面 the first, 后面/下面/最后 the last
            n = 1 if any(c in m.group() for c in "前上") else len(listed)
        return listed[n - 1] if n <= len(listed) else None

    def worded(self, ctx: Context, norm: str) -> str | None:
        """The option a short reply picks by a word the agent used in naming it ("刀头吧" to "给您
        寄一个新刀头，一按就能换上；或者退货退款"): the longest part of the word (two characters or
        more) found in some option's part of the agent's latest message with several options, when
        it is in that one option's part only (cues.picks_by_word); None otherwise, and when the
        reply names an option by its cue (the others read it)."""
        m = self.flow.cue("picks_by_word", norm.strip())
        if m is None or self.flow.cue("question", norm) or self.remedies.named(norm) is not None:
            return None
        parts = next((p for said in reversed(ctx.agent_recent)
                      if len(p := self.remedies.parts(self.understand.normalize(said).text,
                                                      self.flow.cues["turned_down"])) > 1), [])
        word = m.group("word")
        for size in range(len(word), 1, -1):  # the longest part of the word that the message holds
            hits = {rid for i in range(len(word) - size + 1) for rid, part in parts if word[i:i + size] in part}
            if hits:
                return hits.pop() if len(hits) == 1 else None
        return None

    def requested(self, ctx: Context, wants: list[str], norm: str) -> str | None:
        """The remedy a buyer's message asks for, None when it asks for none: only a message
        read as a request (want_return…, primary or sure) asks; the option it names outright
        (remedies.yaml `choose`, not turned down, asked about or under a condition: "退款要几天",
        "明天再不到就退钱" ask for nothing yet), else the one its request intent picks."""
        flow = self.flow
        if not wants:
            return None
        options = self.remedies.for_cause(ctx.cause, ctx.not_received, ctx.refunded, ctx.safety)
        outright = self.outright(norm) if norm else None
        if outright is False:
            return None
        if outright:  # the clauses that ask for an option outright, the cause's options first
            down, rest = flow.cues["turned_down"], flow.cues["conditional"].sub("。", norm)
            said = "".join(c for c in CLAUSE.findall(rest) if not flow.cue("asks_about", c))
            book = self.remedies
            ours = max(options, key=lambda r: book.cue_length(r, said, down))
            if book.cue_length(ours, said, down):  # "换一件吧，要大一码的" on a quality case: its exchange
                return ours.id
            named = self.remedies.named(said, down)
            if named is not None:
                return named
        if norm and flow.cue("asks_amount", norm):
            return None  # "你们打算赔多少" (read as want_compensation) asks how much, for no option yet
        return self.remedies.by_intent(wants[0], ctx.cause, ctx.not_received, ctx.refunded, ctx.safety)

    def asked_about(self, ctx: Context, norm: str) -> str | None:
        """The option a message asks about rather than for ("退货退款要几天啊", "换的话运费谁出"):
        named, not turned down, in a clause that asks about it (cues.asks_about). On a tie the
        options the agent listed come first ("退钱还要我寄回吗" to "退款，或者补寄": the refund, not
        the return its "寄回" also names)."""
        flow, down = self.flow, self.flow.cues["turned_down"]
        rest = flow.cues["conditional"].sub("。", norm)
        cause = self.remedies.for_cause(ctx.cause, ctx.not_received, ctx.refunded, ctx.safety)
        listed = [self.remedies.remedies[r] for r in ctx.options_listed if r in self.remedies.remedies]
        options = [*listed, *(r for r in cause if r.id not in ctx.options_listed)]
        return next((named for clause in CLAUSE.findall(rest) if flow.cue("asks_about", clause)
                     for named in [self.remedies.named(clause, down, options)]
                     if named is not None), None)

    def offered(self, ctx: Context, rid: str, product: str | None = None) -> bool:
        """Whether the remedy is on the table: among the cause's options (remedies.yaml
        `by_cause`), granted on the product whatever the cause (`for_products`: a full refund with
        nothing sent back on goods not worth sending back) or offered by the agent in their own
        words ("盖子给您补寄新的")."""
        return self.remedies.offers(ctx.cause, rid, ctx.not_received, ctx.refunded, ctx.safety) \
            or rid in ctx.options_listed \
            or (not ctx.refunded and self.remedies.granted(rid, product or ctx.product_said)) or any(
            rid in self.remedies.in_order(self.understand.normalize(said).text) for said in ctx.agent_recent)

    def outright(self, norm: str) -> bool | None:
        """Whether a reply that names an option chooses one outright: some clause names an
        option not turned down, does not ask about it ("换新的会不会还跑绒啊？"; a plain question
        that asks for it, "能换一件新的吗", still chooses) and is not under a condition ("明天再不到
        就退钱"). None when the reply names no option (the intents decide)."""
        flow, down = self.flow, self.flow.cues["turned_down"]
        if self.remedies.named(norm) is None:  # ("再不到就退钱": 不 two before 退 turns nothing down)
            return None
        rest = flow.cues["conditional"].sub("。", norm)
        if self.remedies.named(rest) is not None and self.remedies.named(rest, down) is None:
            return None  # only turned down ("不用换了，给我退了吧"): the intents decide
        return any(self.remedies.named(clause, down) is not None and not flow.cue("asks_about", clause)
                   for clause in CLAUSE.findall(rest))

