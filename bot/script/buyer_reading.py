"""What a buyer's message means for the flow: the understanding corrected where script.yaml's
cues say it reads the moment wrong (a proxy, a review already changed, fixed it themselves, the
review offered for the fix, a plain yes or no that opens the message, the cause told in one
clause or after a correction), and the events the corrected reading fires. The turn
(bot/engine.py) runs understand → correct the reading (here) → fire the events → compose."""

from __future__ import annotations

import re

from bot.compose.remedies import RemedyBook
from bot.models import BuyerUnderstanding, Cause, Context, IntentScore
from bot.script.choices import CLAUSE
from bot.script.flow import Flow
from bot.script.machine import Script
from bot.understand.pipeline import Understander

COMPLAINTS = frozenset({"complain", "want_return", "want_exchange", "want_refund",
                        "want_compensation"})
REQUESTS = COMPLAINTS - {"complain"}  # a complaint that asks for something states the problem
MARKS = "，。！？,.!?；;~ "  # the marks after a clause (bot/script/choices.py CLAUSE)


class BuyerReading:
    """The corrections of a buyer's reading and its events, over the flow's cues."""

    def __init__(self, script: Script, flow: Flow, understand: Understander, remedies: RemedyBook) -> None:
        self.script = script
        self.flow = flow
        self.understand = understand
        self.remedies = remedies
        self.roles = script.roles

    def correct(self, u: BuyerUnderstanding, ctx: Context, before: str, text: str, norm: str,
                clauses: list[str]) -> BuyerUnderstanding:
        """The reading of a message (not one a person corrected, not empty) as the flow takes
        it; notes on ``ctx`` what the cues tell besides (review_said_changed, self_fixed, deal)."""
        flow = self.flow
        if flow.cue("review_changed", norm):
            # "记得 我已经改成好评了 当时收到是压扁的": the change is used, and the news is no answer
            # to anything (read as agreeing to a request nobody made): the rest is read on its own
            ctx.review_said_changed = True
            # "你们不用惦记那个" after it is about the review, no option declined
            rest = "".join(c for c in clauses if not flow.cue("review_changed", c) and not flow.cue("never_mind", c))
            if u.intent == "agree_review" and rest.strip("，。！？,.!?；; "):
                u = self.understand.buyer(rest)
        if norm and flow.cue("review_for", norm) and u.intent not in REQUESTS:
            # "狗粮没问题 狗吃得挺好 差评是给快递的" (read as chat for the praise): what the review was
            # for is the problem told, before any clause of praise ("衣服本身还行 差评是因为客服…");
            # "差评是我手滑点错了" names none and stays as read
            told = next((c for c in (self.understand.buyer(c.rstrip(MARKS) or c).cause for c in clauses
                                     if flow.cue("review_for", c)) if c is not None), None)
            if told is not None:
                u = u.model_copy(update={"intent": "complain", "cause": told, "intents": [
                    IntentScore(intent="complain", confidence=u.confidence)]})
        if ctx.refunded and u.intent == "want_refund":
            # the refund the platform paid, said again ("不用了 钱退了就行"): nothing asked for
            u = u.model_copy(update={"intent": "other", "intents": [
                i if i.intent != "want_refund" else IntentScore(intent="other", confidence=i.confidence)
                for i in u.intents]})
        if flow.cue("refunded", norm):
            ctx.refunded = True
        if flow.cue("refunded", norm) and (u.intent in REQUESTS or u.intent == "threaten"):
            # "我已经找平台申请退款了 钱前天就到了" (read as a threat or a refund request): news of a
            # refund paid already takes nothing to the platform and asks for nothing; the rest is
            # read on its own ("记得 一通电就跳闸" tells the problem), before the cause told in one
            # clause is looked for (the rest may read with none as a whole: "记得 充一晚上都充不满
            # 钱昨天到了 你们还找我干嘛")
            rest = "".join(c for c in clauses if not flow.cue("refunded", c))
            u = self.understand.buyer(rest) if rest.strip("，。！？,.!?；; ") else u.model_copy(update={
                "intent": "other", "intents": [IntentScore(intent="other", confidence=u.confidence)]})
        if u.cause is None and ctx.remedy_chosen is None and (u.intent in COMPLAINTS or (
                u.intent == "affirm" and not any(i.intent in COMPLAINTS for i in u.intents))):
            told = next((cause for cue, cause in flow.told_by.items() if flow.cue(cue, norm)), None)
            if told is not None and u.intent in COMPLAINTS:
                # "是的 还没收到呢" read as a complaint that names no cause: the cue tells it
                u = u.model_copy(update={"cause": told})
            elif told is not None:  # "是的 还没收到呢" read as a plain yes: the yes, and the problem told
                heard = u.intents or [IntentScore(intent=u.intent, confidence=u.confidence)]
                u = u.model_copy(update={"cause": told, "intents": [*heard, IntentScore(intent="complain",
                                                                                       confidence=1.0)]})
        if u.cause is None and len(clauses) > 1 and (u.intent in COMPLAINTS or any(
                i.intent in COMPLAINTS and i.confidence >= flow.weak_primary for i in u.intents)):
            # a complaint read with no cause as a whole may name it in one clause ("记得 那个啊 当时
            # 收到是压扁的 后来猫挺喜欢的": over and done, yet told): the problem is stated, no mood;
            # a clause about the contact itself ("是，你们还知道找我？") stays a mood (talk_causes).
            # A clause is read as typed, without the mark after it (a space the buyer typed for a
            # comma is one here: "充一晚上都充不满," read no cause with it, quality without)
            # (a clause that is itself a request tells no problem: "还是换一件吧" reads quality only as
            # the model's guess for an exchange)
            told = next((r.cause for r in (self.understand.buyer(c.rstrip(MARKS) or c) for c in clauses)
                         if r.cause is not None and r.cause not in flow.talk_causes and r.intent not in REQUESTS),
                        None)
            if told is not None:
                u = u.model_copy(update={"cause": told})
        if u.cause is not None and u.cause not in flow.talk_causes and len(clauses) > 1 and norm \
                and flow.cue("talk_said", norm):
            # "裤子短了一截 找客服也不理人" read as size_fit as a whole: the complaint about the
            # contact in a later clause is kept beside the case's cause (issue 13.5)
            said = next((c for c in (self.understand.buyer(c).cause for c in clauses[1:]
                                     if flow.cue("talk_said", c)) if c in flow.talk_causes), None)
            if said is not None:
                _keep_secondary(ctx, said)
        if u.cause in flow.talk_causes and len(clauses) > 1 and not flow.cue("review_for", norm):
            # "鞋子偏小一码，联系客服没人回" (read as service as a whole): the product's problem told,
            # before or after a word on the contact ("问题还没解决就让我改？腰太大了"), is the case's
            # cause; the complaint about the contact is kept beside it (issue 13.5); not when the
            # buyer says the review was for the service (cues.review_for, above)
            first = next((c for c in (self.understand.buyer(c).cause for c in clauses)
                          if c is not None and c not in flow.talk_causes), None)
            if first is not None:
                _keep_secondary(ctx, u.cause)
                u = u.model_copy(update={"cause": first})
        if flow.cue("stop_contact", norm) and u.intent not in REQUESTS:
            # "我说了不想聊 别再给我发消息了": the buyer asks the shop to stop, whatever it reads as
            # and however surely ("别再给我发消息了 烦死了", end at 0.59, is no "maybe": a cue's
            # reading is sure, as a plain yes or no opening a message is)
            u = u.model_copy(update={"intent": "end", "confidence": 1.0, "intents": [
                IntentScore(intent="end", confidence=1.0)]})
        u = self._sum_named(u, norm)
        if flow.cue("asks_who", norm):  # "你是？" read as a complaint about service, "你哪位" as a yes
            u = u.model_copy(update={"intent": "ask", "cause": None, "intents": [
                IntentScore(intent="ask", confidence=u.confidence)]})
        if before in self.roles.confirms and flow.cue("other_product", norm):
            # "积木？我没买积木啊 我买的是个拼图": the agent named the wrong thing; neither a
            # problem nor the order recalled (read as a wrong item): the order is checked again
            u = u.model_copy(update={"intent": "ask", "cause": None, "intents": [
                IntentScore(intent="ask", confidence=u.confidence)]})
        if flow.cue("proxy", norm):  # "我是她儿子，我妈不会打字，我帮她回": the buyer's own side
            u = self._for_buyer(u)
            if flow.cue("relays", norm) and (u.intent == "busy" or (u.intent == "complain" and u.cause is None)):
                # "他在上班，有啥事我帮你转告": the buyer is away, but the one who answers takes the talk
                u = u.model_copy(update={"intent": "affirm", "intents": [
                    IntentScore(intent="affirm", confidence=u.confidence),
                    *(i for i in u.intents if i.intent not in ("busy", "affirm"))]})
        if u.intent in ("wrong_person", "busy") and flow.cue("hands_over", norm):
            # "那锅是他买的 我也不太清楚 你等下 他停好车了": the buyer is coming; nothing is said yet
            # (neither the wrong person nor a callback: "等一下啊 她马上过来" read as busy)
            u = u.model_copy(update={"intent": "other", "intents": [
                IntentScore(intent="other", confidence=u.confidence)]})
        if u.intent == "affirm" and flow.cue("asks_remedy", norm) and not flow.cue("yes", norm):
            # "那现在咋办" (read as a yes) asks what the shop will do: a question, no yes to an offer
            u = u.model_copy(update={"intent": "ask", "intents": [
                IntentScore(intent="ask", confidence=u.confidence)]})
        if u.intent == "busy" and u.cause is not None and u.cause not in flow.talk_causes and len(clauses) > 1 \
                and not (flow.cue("later", norm) and not flow.cue("sends_later", norm)) \
                and not any(flow.cue("busy_clause", c.strip(MARKS)) for c in clauses):
            # "是我 我上班用的 杯子漏水" (read as busy for 上班): a problem told, no clause that says the
            # buyer cannot talk now, nothing put off till later but a photo ("照片我等会儿拍给你"): the
            # buyer is telling the problem
            u = u.model_copy(update={"intent": "complain", "intents": [
                IntentScore(intent="complain", confidence=u.confidence)]})
        u = self._opened_by(u, text, norm, "yes", "affirm")
        if before in self.roles.offers and ctx.remedies_offered and u.intent == "complain" \
                and u.cause is not None and (u.cause == ctx.cause or flow.cue("caution", norm)) \
                and len(u.intents) > 1 and u.intents[0].intent == "affirm" and u.intents[0].confidence >= 1.0:
            # "行吧 那就后天晚上八点以后送过来 别又碎了" to the offer: a plain yes, and the problem already
            # told said again ("就是角磕了") or a caution for next time (cues.caution): the yes takes
            # the offer, nothing new to hear
            u = u.model_copy(update={"intent": "affirm", "confidence": 1.0})
        if u.intent != "busy" and len(clauses) > 1 and not flow.cue("free_now", norm) \
                and any(flow.cue("busy_clause", c.strip("，。！？,.!?；;~ ")) for c in clauses[1:]):
            # "是 在开车" (read as a plain yes): the clause says the buyer cannot talk now; the yes
            # before it only says who it is, as in "是 在上班 没空" (read as busy)
            # (a cue's reading is sure, as a plain yes or no opening a message is)
            u = u.model_copy(update={"intent": "busy", "confidence": 1.0, "intents": [
                IntentScore(intent="busy", confidence=1.0)]})
        if before in self.roles.offers:  # "都不用了 …投诉了就行" read as a threat: the options are declined
            u = self._opened_by(u, text, norm, "no", "deny")
            down = flow.cues["turned_down"]
            if norm and u.intent != "deny" and self.remedies.named(norm) is not None \
                    and self.remedies.named(norm, down) is None \
                    and flow.cue("waves_off", norm) and not flow.cue("picks", norm) \
                    and not flow.sums(norm):
                # every option named only to wave it off ("换一副一样烂的？不必了。退货…也不必了", read
                # as an exchange): the options are declined
                u = u.model_copy(update={"intent": "deny", "confidence": 1.0, "intents": [
                    IntentScore(intent="deny", confidence=1.0)]})
        if norm and ctx.problem_stated and (u.intent == "busy" or any(i.intent == "busy" for i in u.intents)) \
                and flow.cue("goods_found", norm) \
                and not any(flow.cue(c, norm) for c in ("busy_now", "later", "puts_off", "proposes_time")):
            # "找到了，在驿站放着呢，盒子都压扁了" (busy at 0.84 beside a complaint, for 放着呢): news
            # of the parcel found, however surely read as busy, with no busy word or time in it
            kept = [i for i in u.intents if i.intent != "busy"] or [
                IntentScore(intent="complain" if u.cause else "other", confidence=u.confidence)]
            u = u.model_copy(update={"intent": u.intent if u.intent != "busy" else kept[0].intent,
                                     "intents": kept})
        ctx.deal = False
        ctx.own_fault = bool(norm) and flow.cue("own_fault", norm) is not None
        # ("是我自己扔洗碗机里洗了" owns the misuse; it fixed nothing)
        ctx.self_fixed = flow.cue("self_fixed", norm) is not None and not ctx.own_fault
        if ctx.self_fixed:  # "盆我已经自己换了一个" (read as an exchange): nothing asked for
            kept = [i for i in u.intents if i.intent not in REQUESTS] or [
                IntentScore(intent="other", confidence=u.confidence)]
            primary = u.intent if u.intent not in REQUESTS else kept[0].intent
            u = u.model_copy(update={"intent": primary, "intents": kept})
        if u.intent == "agree_review" and ctx.review_requests and norm and flow.cue("demands", norm):
            # "改可以 再转我10块" to the request (read as agreeing): the money is the review's price
            u = u.model_copy(update={"intent": "extort", "confidence": max(u.confidence, flow.firm_extort),
                                     "intents": [IntentScore(intent="extort", confidence=max(
                                         u.confidence, flow.firm_extort))]})
        if u.intent in ("agree_review", "extort") \
                and (ctx.problem_stated or ctx.cause or u.cause) \
                and not (ctx.review_requests and ctx.remedy_chosen) \
                and flow.cue("owed", norm) and not flow.cue("extra", norm):
            # the review offered for the fix itself ("你先退款我就改", read as an agreement or an
            # extortion): the fix is owed whatever the review, so no 疑似恶意; not chosen yet, the
            # message asks for it; either way the deal is not taken (key `deal`, note `deal`). Asked
            # by the agent once the fix was chosen, "行 退了我去改" is the answer, no deal offered.
            ctx.deal = True
            named = self.remedies.named(norm, flow.cues["turned_down"])
            wanted = (next(iter(self.remedies.remedies[named].intents), "want_refund") if named
                      else "want_refund") if ctx.remedy_chosen is None else "agree_review"
            u = u.model_copy(update={"intent": wanted, "intents": [
                IntentScore(intent=wanted, confidence=u.confidence)]})
        return u

    def primary(self, intent: str, u: BuyerUnderstanding, ctx: Context, before: str, meant: list[str],
                norm: str, free_now: bool) -> str:
        """The primary intent as the moment reads it, where its words say otherwise."""
        flow = self.flow
        if intent == "busy" and free_now:
            intent = "affirm"  # "现在有空了，你说吧" is the opposite of busy
        if intent == "busy" and before in self.roles.asks and ctx.review_requests and norm \
                and flow.cue("defers", norm):
            intent = "other"  # "等鞋到了再说吧" to the review request answers it: it is put off
        if intent == "busy" and before in self.roles.offers and ctx.remedies_offered and norm \
                and not flow.cue("busy_now", norm) and (("affirm" in meant and flow.cue("yes", norm))
                                                        or self.remedies.named(norm) is not None):
            # "行吧 那就明天晚上七点以后送" to the offer: a yes that names the delivery time; "150就150吧
            # 周六上午让他准时点" (read as busy): an option taken, with the time for it
            intent = "affirm"
        if intent == "busy" and u.confidence < flow.unsure_busy and ctx.problem_stated and norm \
                and not any(flow.cue(c, norm) for c in ("busy_now", "later", "puts_off", "proposes_time")):
            # "现在还痒" (read as busy at 0.57, for 现在) once the problem is told: more of the problem,
            # at whatever stage the talk is ("20太少了吧 再多点 衣服一百多呢", busy at 0.52, where the
            # options are shown): no busy word, no time, no talk put off, no callback
            intent = "complain"
        if intent == "end" and u.cause is not None and not (norm and flow.cue("stop_contact", norm)):
            # a complaint that ends in a resigned phrase (…就这样吧) goes on; one that asks the shop
            # to stop contacting ("…别再给我发消息了", read with the service cause) ends the talk
            intent = "complain"
        if intent == "end" and before in self.roles.offers and ctx.remedies_offered and norm \
                and "affirm" in meant and flow.cue("settles", norm):
            intent = "affirm"  # "好的，那就这样吧" to the options agrees to them
        return intent

    def vague(self, u: BuyerUnderstanding, complaint: bool, asks: list[str], norm: str) -> bool:
        """A complaint that names no cause and asks for nothing states no problem: a mood
        ("是我，干嘛"). Sarcasm at being contacted ("你们还知道找我？") read with a late-contact
        cause is no problem either."""
        flow = self.flow
        if not complaint or asks:
            return False
        if u.cause is None:
            # several clauses, one a sure complaint of its own that is not about the contact ("哦 是我
            # 买的 那猫砂粉尘太大了 一倒满屋子灰", read with no cause): a problem told, not a mood
            clauses = [c.strip(MARKS) for c in CLAUSE.findall(norm)]
            return len(clauses) < 2 or not any(
                len(c) >= 4 and not flow.cue("contacted", c) and (r := self.understand.buyer(c)).intent == "complain"
                and r.confidence >= flow.sure_complaint_clause and r.cause not in flow.talk_causes for c in clauses)
        if u.cause in flow.talk_causes and norm and flow.cue("asks_manager", norm):
            # "是 你一个小客服能做主吗 叫你们店长来" (read as service): who handles it, no problem;
            # a clause besides it that tells one ("客服态度太差 叫你们主管来") still does
            rest = [c.strip(MARKS) for c in CLAUSE.findall(norm) if not flow.cue("asks_manager", c)]
            return not any(c and self.understand.buyer(c).cause is not None for c in rest)
        return u.cause in flow.talk_causes and bool(norm) and flow.cue("contacted", norm) is not None

    def _opened_by(self, u: BuyerUnderstanding, text: str, norm: str, cue: str,
                   intent: str) -> BuyerUnderstanding:
        """A message opened by a plain yes (script.yaml cues.yes: "嗯 快点", "我是，請問哪位",
        "dui") affirms, whatever else it is read as; one opened by a plain no to the options
        (cues.no: "都不用了 …") declines them: read as other, the word is the reading; beside
        another reading, it comes first. The word may be one of its own before a space."""
        if u.intent != intent and any(i.intent == intent for i in u.intents):
            return u
        first = text.split(maxsplit=1)[0] if text.strip() else ""
        if not self.flow.cue(cue, norm) and not (
                first != text.strip() and self.flow.cue(cue, self.understand.normalize(first).text)):
            return u
        if u.intent == intent:  # "对，干啥？" read as a yes at 0.47: the word makes it sure
            return u.model_copy(update={"confidence": 1.0, "intents": [
                IntentScore(intent=i.intent, confidence=1.0) if i.intent == intent else i for i in u.intents]})
        if u.intent == "other":
            return u.model_copy(update={"intent": intent, "intents": [
                IntentScore(intent=intent, confidence=u.confidence)]})
        if u.intent == "complain" and u.cause is None and len(u.intents) <= 1:
            # a mood after the word ("……行吧 电脑还能开机 就是角磕了 你态度还算可以"): the word is the
            # reading, the mood beside it
            return u.model_copy(update={"intent": intent, "confidence": 1.0, "intents": [
                IntentScore(intent=intent, confidence=1.0), *u.intents]})
        rest = u.intents or [IntentScore(intent=u.intent, confidence=u.confidence)]
        return u.model_copy(update={"intents": [IntentScore(intent=intent, confidence=1.0), *rest]})

    def _sum_named(self, u: BuyerUnderstanding, norm: str) -> BuyerUnderstanding:
        """A request that names a sum of money back ("补发太麻烦了 退30吧", read as an exchange for
        the 补发 it turns down) asks for that money: a refund, with the sum for the card."""
        m = self.flow.sums(norm) if norm else None
        said = (m.group(1) or (m.group(2) if re.search("[块元]", m.group(0)) else None)) if m else None
        if said is None or u.intent not in REQUESTS:
            return u
        if u.intent not in ("want_refund", "want_compensation"):
            u = u.model_copy(update={"intent": "want_refund", "intents": [
                i if i.intent != u.intent else IntentScore(intent="want_refund", confidence=i.confidence)
                for i in u.intents]})
        return u.model_copy(update={"amount": f"{said}元" if said[-1].isdigit() else said})  # ("再赔我两百": 200元)

    @staticmethod
    def _for_buyer(u: BuyerUnderstanding) -> BuyerUnderstanding:
        """A relative who answers for the buyer (script.yaml cues.proxy: "我是他女儿，我爸眼睛不好，
        手机是我在帮他看") is the buyer's side, not the wrong person: the reading is a yes, and so
        is a reading of nothing in particular (other)."""
        if u.intent == "other" and len(u.intents) <= 1:
            return u.model_copy(update={"intent": "affirm", "intents": [
                IntentScore(intent="affirm", confidence=u.confidence)]})
        if u.intent != "wrong_person" and all(i.intent != "wrong_person" for i in u.intents):
            return u
        rest = [i for i in u.intents if i.intent != "wrong_person"]
        if all(i.intent != "affirm" for i in rest):
            rest = [IntentScore(intent="affirm", confidence=u.confidence), *rest]
        primary = "affirm" if u.intent == "wrong_person" else u.intent
        return u.model_copy(update={"intent": primary, "intents": rest})

    def note_cause(self, ctx: Context, cause: Cause | None, norm: str) -> None:
        """The first problem the buyer states is the case's cause until the buyer corrects
        it; later ones (tone, slow replies) are kept as secondary causes. A correction names
        the cause after its cue ("不是缩水的问题，其实是尺码小了"): the whole message may
        read as the cause it denies, so the words after the cue are read on their own."""
        fix = self.flow.cue("cause_correction", norm) if norm and ctx.cause is not None else None
        if fix is not None and norm[fix.end():].strip():
            cause = self.understand.buyer(norm[fix.end():]).cause or cause
        if cause is None or cause == ctx.cause:
            return
        talk = self.flow.talk_causes
        if cause in talk and ctx.contacted_again:
            return  # "你们到底几个客服啊 昨天刚有人问过": the contact itself, no problem of the order's
        if ctx.cause_early and ctx.cause in talk and cause not in talk:
            # the reaction to the contact ("…就让我改差评？") gives way to the problem itself
            ctx.causes = [ctx.cause, *(c for c in ctx.causes if c not in (cause, ctx.cause))]
            ctx.cause, ctx.cause_early = cause, False
            return
        if ctx.cause is None or fix is not None:
            if ctx.cause is not None:
                ctx.causes = [c for c in ctx.causes if c != cause]
            ctx.cause_source = "talk" if ctx.cause is None else "correction"
            ctx.cause = cause
        elif cause not in ctx.causes:
            ctx.causes = [*ctx.causes, cause]


    def settle(self, events: list[str], vague: bool) -> list[str]:
        """A message's events as script.yaml's ``events`` settle them: an event drops those it
        outranks (choosing beats turning an option down), and a complaint that states no problem
        fires its mood's events instead of the problem's."""
        fired = set(events)
        dropped = {d for e in fired for d in self.script.outranks.get(e, ())}
        out = [e for e in events if e not in dropped]
        if vague:
            out = [self.script.vague_events.get(e, e) for e in out]
        return out

    def sure_events(self, sure: list[str], complaint: bool) -> list[str]:
        """The events of a message whose primary reading may not move the stage: the main-path
        moves of the intents read surely, in text order, then the problem (when one was
        stated) and the answer. The first sure reading stands in for the primary one, so it
        moves as a primary would ("好，今天一定要到" read as a weak complaint beside a sure yes
        accepts the offer)."""
        first = [e for e in self.script.buyer_events[sure[0]] if e not in ("problem", "answer")] if sure else []
        events = [*first, *(e for i in sure[1:] for e in self.script.secondary_events.get(i, []))]
        return [*dict.fromkeys([*events, *(["problem"] if complaint else []), "answer"])]

    def events(self, u: BuyerUnderstanding) -> list[str]:
        """The primary intent's events and, in text order around them, the other intents'."""
        if len(u.intents) < 2:
            return self.script.buyer_events[u.intent]
        events: list[str] = []
        for i in u.intents:
            if i.intent == u.intent:
                events += self.script.buyer_events[u.intent]
            elif i.confidence >= self.flow.weak_primary:  # a weak secondary reading moves nothing
                events += self.script.secondary_events.get(i.intent, [])
        return events


def _keep_secondary(ctx: Context, cause: Cause) -> None:
    """A complaint about the contact beside the case's cause: kept, never swapped in (issue 13.5)."""
    if cause not in ctx.causes and cause != ctx.cause:
        ctx.causes = [*ctx.causes, cause]
