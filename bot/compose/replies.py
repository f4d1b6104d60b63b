"""Composing a turn's answer: the template variables of docs/templates.md, the situation keys
that pick a template folder and key, the 1–3 replies rendered from scripts_zh/ (each passed
through the guard: one it blocks is never suggested) and the draft of a public reply."""

from __future__ import annotations

import zlib
from datetime import datetime
from typing import Any, cast

from bot.compose.remedies import SPOKEN, Remedy, RemedyBook, spoken
from bot.compose.templates import TemplateLibrary, Variant
from bot.labels import Labels
from bot.models import Context, Conversation, SuggestedReply, Tone
from bot.script.choices import Choices
from bot.script.flow import Products, spoken_time
from bot.script.machine import Script, review_changeable
from bot.understand.normalize import to_traditional
from bot.understand.pipeline import Understander

_UNSEEN = object()  # a cache miss (None is a cached answer: blocked)
_NEUTRAL_NAME = {"call": "亲", "name": "亲", "honorific": ""}
GUARD_KEYS = ("shop", "agent", "product", "order_date", "cause", "options", "remedy")


def _either(options: list[str]) -> str:
    """Options as one spoken either-or: "A，还是B", "A、B，还是C" ("" for none)."""
    if len(options) < 2:
        return "".join(options)
    return "、".join(options[:-1]) + "，还是" + options[-1]


def _these(count: int, words: dict[str, str]) -> str:
    """Options counted as said: "这两种", "这三种", else "这几种" (defaults.yaml `phrases`)."""
    return words["these_two"] if count == 2 else words["these_three"] if count == 3 else words["these_many"]


def _sized(remedy: Remedy, field: str, size: str | None, amount: str | None = None) -> str:
    """A remedy's words (``text``, ``short`` or ``next``), with the size the buyer named where
    the remedy has words for it (remedies.yaml `sized`: "换成L码", not "换成合适的尺码"), or the
    sum agreed (`with_amount`: "退您30元", not "退一部分货款")."""
    if amount and remedy.with_amount and remedy.with_amount.get(field):
        return remedy.with_amount[field].replace("{{ amount }}", amount)
    if size and remedy.sized and remedy.sized.get(field):
        return remedy.sized[field].replace("{{ size }}", size)
    return cast(str, getattr(remedy, field) or "")


def spoken_callback(ctx: Context, at: datetime | None) -> str:
    """The agreed callback time as said relative to ``at``."""
    when = datetime.fromisoformat(ctx.callback_at or "")
    return spoken_time(when, at)


class Composer:
    """What to suggest for a conversation as it stands, with bounded caches of what repeats."""

    def __init__(self, script: Script, templates: TemplateLibrary, remedies: RemedyBook,
                 products: Products, labels: Labels, defaults: dict[str, str], phrases: dict[str, str],
                 choices: Choices, understand: Understander) -> None:
        self.script = script
        self.flow = script.flow
        self.templates = templates
        self.remedies = remedies
        self.products = products
        self.labels = labels
        self.defaults = defaults
        self.phrases = phrases
        self.choices = choices
        self.understand = understand
        self.roles = script.roles
        self.why: dict[str, str] = {}  # a short reason per cause (defaults.yaml `cause_why`)
        self._guard_cache: dict[tuple[str, ...], bool] = {}
        self._replies_cache: dict[tuple[str, ...], SuggestedReply | None] = {}
        self._traditional_cache: dict[tuple[str, ...], SuggestedReply] = {}
        self._variables_of: dict[tuple[Any, ...], dict[str, Any]] = {}
        self._chosen: dict[tuple[Any, ...], tuple[Variant, ...]] = {}

    def variables(self, conv: Conversation, at: datetime | None) -> dict[str, Any]:
        # The same for every turn of a conversation until the cause, the remedy or the case
        # changes: kept per those facts (bounded; shared, so never changed in place). Not
        # with a callback time, spoken relative to now.
        case, ctx = conv.case, conv.context
        if ctx.callback_at:
            return self._make_variables(conv, at)
        key = (case.buyer_name, case.honorific, case.shop, case.agent, case.product, ctx.product_said,
               case.order_date, ctx.cause, ctx.remedy_chosen, ctx.remedy_requested, ctx.remedy_about,
               ctx.shipping_asked, ctx.size_said, ctx.amount_said, ctx.sum_named, ctx.not_received, ctx.refunded,
               ctx.followup_remedy, ctx.safety,
               tuple(ctx.remedies_refused), tuple(ctx.options_listed), tuple(ctx.offered_with), ctx.damaged,
               ctx.proxy, conv.tone)
        found = self._variables_of.get(key)
        if found is None:
            if len(self._variables_of) >= 1024:
                self._variables_of.clear()
            found = self._variables_of[key] = self._make_variables(conv, at)
        return found

    def _make_variables(self, conv: Conversation, at: datetime | None) -> dict[str, Any]:
        case, ctx = conv.case, conv.context
        book = self.remedies  # every list of options: for_cause's
        no_goods = book.goods_gone(ctx.cause, ctx.not_received)
        options = book.for_cause(ctx.cause, no_goods, ctx.refunded, ctx.safety)
        chosen = book.remedy(ctx.remedy_chosen or "", no_goods) or options[0]
        unit, use = self.products.words(case.product or ctx.product_said)
        d = case.order_date
        ours = [book.remedies[r] for r in ctx.options_listed if r in book.remedies
                and r not in ctx.remedies_refused and all(o.id != r for o in options)]
        if ours:
            # the agent offered an option the cause's list lacks ("给您换一个新的" on a parcel broken
            # on the way): it stands, and "那现在咋办" gets it first, then the cause's own
            options = [*ours, *options]
        left = [r for r in options if r.id not in ctx.remedies_refused]
        if ctx.remedy_requested is None and left and len(left) < len(options):
            # an option the buyer refused is not offered again ("退就不用了"; beside a request,
            # `others` and the request's own reply say what is left)
            options = left
        options_text = spoken(options).replace("{{ unit }}", unit)
        shown = min(len(options), SPOKEN)  # the options options_text says
        # what the buyer asked for (else the first option) and the cause's other options
        wanted = book.remedy(ctx.remedy_about or ctx.remedy_requested or "", no_goods) or options[0]
        others = book.options_text(ctx.cause, without={wanted.id, *ctx.remedies_refused}, no_goods=no_goods,
                                   refunded=ctx.refunded, hazard=ctx.safety).replace("{{ unit }}", unit)
        remedy = _sized(chosen, "short", ctx.size_said, ctx.amount_said).replace("{{ unit }}", unit)
        followed = book.remedy(ctx.followup_remedy or "", no_goods)
        # the option a sum the buyer names is for, and the most the agent agrees outright (amount-over)
        taker = book.sum_taker(ctx)
        most = f"{taker.up_to:g}元" if taker is not None and taker.up_to is not None else ""
        kept = book.kept_instead(ctx.remedy_requested or "", ctx.cause, no_goods)
        words = self.phrases
        if ctx.offered_with and ctx.remedy_chosen in ctx.options_listed:  # "退您20元，再送您一个枕套"
            remedy = "，".join([remedy, *ctx.offered_with])
        if ctx.damaged:  # damage to the buyer's other things joins the remedy
            options_text += words["damage_options"].format(thing=ctx.damaged)
            remedy += words["damage_remedy"].format(thing=ctx.damaged)
        agent = case.agent or ""
        return {
            "call": f"{case.buyer_name}{case.honorific}",
            "name": case.buyer_name,
            "honorific": case.honorific,
            "shop": case.shop,
            "agent": agent,
            "me": words["me"].format(agent=agent),
            "product": case.product or self.defaults["product"],
            "order_date": words["order_date"].format(month=d.month, day=d.day) if d
            else self.defaults["order_date"],
            "cause": self.labels.spoken_cause(ctx.cause),
            "options": options_text,
            "remedy": remedy,
            # the chosen option is a gift (the apology gift): a message asking for the review does not
            # name it, as a gift beside a review request is tied whatever disclaimer follows
            "gift": chosen.gift,
            "requested": _sized(wanted, "short", ctx.size_said, ctx.amount_said).replace("{{ unit }}", unit),
            "requested_text": _sized(wanted, "text", ctx.size_said, ctx.amount_said).replace("{{ unit }}", unit),
            "others": others,
            # the options the agent's latest offer left open, as a question ("换一件新的，还是退货退款")
            "listed": _either([self.remedies.remedies[r].short.replace("{{ unit }}", unit)
                               for r in ctx.options_listed if r in self.remedies.remedies]),
            "listed_several": sum(r in self.remedies.remedies for r in ctx.options_listed) > 1,
            # the options counted ("这两种"): those in {{ options }}, those the agent listed (else the same)
            "these": _these(shown, words),
            "these_listed": _these(sum(r in self.remedies.remedies for r in ctx.options_listed) or shown, words),
            "what_next": (_sized(wanted, "next", ctx.size_said, ctx.amount_said)
                          or words["remedy_next"]).replace("{{ unit }}", unit),
            "again": (wanted.again or "").replace("{{ unit }}", unit),
            "shipping": (wanted.shipping or "").replace("{{ unit }}", unit) if ctx.shipping_asked else "",
            "unit": unit,
            # a full refund held to with the goods kept, on a cause that lacks it (remedy_kept): the
            # full money back with the goods sent back, and some money back with them kept
            "kept_back": kept[0].text.replace("{{ unit }}", unit) if kept else "",
            "kept_keep": kept[1].text.replace("{{ unit }}", unit) if kept else "",
            "sum_named": ctx.sum_named or "",  # the buyer's own sum ("100元", "一半")
            "most": most,
            "others_than_sum": book.options_text(ctx.cause, without={taker.id} if taker else set(), no_goods=no_goods,
                                                 refunded=ctx.refunded, hazard=ctx.safety).replace("{{ unit }}", unit),
            "use": use,
            "callback_time": spoken_callback(ctx, at) if ctx.callback_at else words["callback_time"],
            "damaged": ctx.damaged or "",  # the buyer's other thing the product damaged ("桌子")
            # the buyer spoken of to a relative who took the call: as the relative said ("他"/"她"),
            # else by name ("李先生"; no gender guessed), else defaults.yaml phrases `them`
            "them": ctx.proxy or (f"{case.buyer_name}{case.honorific}"
                                  if case.buyer_name != self.defaults["buyer_name"] else words["them"]),
            # the remedy agreed in the round before a follow-up contact ("补发一个新的"; "" for none)
            "followed": _sized(followed, "short", None).replace("{{ unit }}", unit) if followed else "",
            "review_path": words["review_path"],  # where a review is changed (defaults.yaml phrases)
            "why": self.why.get(ctx.cause or "unknown") or self.why.get("unknown", ""),
            "tone": conv.tone,
        }

    def situation_keys(self, conv: Conversation, at: datetime | None) -> tuple[str, list[str]]:
        """The template folder for this turn and its keys, most specific first."""
        ctx = conv.context
        keys: list[str] = []
        if ctx.just_resumed:
            # "按约定的时间" only when a time was agreed
            return self.script.initial, ["resume-agreed"] * bool(ctx.callback_at) + ["resume", "default"]
        if ctx.followup and conv.stage == self.script.initial:
            return self.script.initial, ["followup", "default"]  # after a finished talk: how the fix went
        if conv.stage == self.script.final and ctx.stop_asked and ctx.last_role == "buyer":
            # "以后不要再联系我了" once closed: the same plain answer as before the close, not a goodbye
            stop = next((s for s in sorted(self.roles.closes) if self.templates.pick_key(s, ["stop"])), None)
            if stop is not None:
                return stop, ["stop-chosen"] * bool(ctx.remedy_chosen) + ["stop", "default"]
        if conv.stage == self.script.final:  # a bare "在吗" gets "在的", a goodbye a goodbye
            return self.script.final, (["greeting"] * ctx.greeted + ["thanks"] * ctx.thanked
                                       + [f"intent-{conv.last_intent}", "default"])
        if ctx.followup and ctx.last_role == "buyer" and (
                conv.stage in self.roles.identifies or conv.stage in self.roles.confirms):
            # the buyer's answer to the follow-up: glad it is done (a yes), else what is still wrong;
            # never "还记得吗", never the review again
            # a yes to the review that waited for the fix ("收到能用就改"): the fix is fine, so the
            # steps the buyer will want come now (told, not asked: changing it is still the buyer's choice)
            fine = conv.last_intent == "affirm"
            keys.extend(["followup-review"] * (fine and ctx.review_later and review_changeable(conv, at))
                        + ["followup" if fine else "followup-other"])
        if conv.stage in self.roles.confirms and ctx.buyer_first and ctx.agent_turns == 0 \
                and ctx.last_role == "buyer" and ctx.order_named:
            keys.append("named")  # the buyer wrote first about their order: no "还有印象吗"
        if ctx.repair:
            keys.append("after_block")  # correct a blocked message before anything else
        elif ctx.deal and ctx.last_role == "buyer" and self.remedies.offers(
                ctx.cause, ctx.remedy_chosen or ctx.remedy_requested or "", ctx.not_received, ctx.refunded,
                ctx.safety):
            # the review offered for the fix: the fix as ever, no deal (a fix the cause's options
            # lack is not promised: remedy_not_offered, with the note)
            keys.append("deal")
        elif ctx.remedy_which and ctx.last_role == "buyer" and conv.stage in self.roles.offers:
            keys.append("which")  # a plain yes to several options: which one, named as offered
        elif ctx.last_role == "agent":  # what the agent just sent is done: suggest the next step
            step = self.flow.next_step.get(conv.stage)
            if step is not None and step.act in ctx.last_acts:
                # the agent answered the buyer's request, or offered one option ("给您退货退款，您看
                # 可以吗？"): asked to confirm it, not to pick one
                asked = bool((ctx.remedy_requested or len(ctx.options_listed) == 1)
                             and not ctx.remedy_chosen and conv.stage in self.roles.offers)
                # the offer asked already ("您看哪个合适？", "您看可以吗？"): a short word that waits for
                # the buyer, not the same question again
                waits = conv.stage in self.roles.offers and bool(ctx.agent_recent) \
                    and self.flow.cue("question", ctx.agent_recent[-1]) is not None
                return step.folder, [f"{step.key}-asked"] * waits + [f"{step.key}-requested"] * asked \
                    + [step.key, "default"]
        if conv.stage in self.roles.confirms and ctx.proxy is not None and ctx.last_role == "buyer":
            # "我是他女儿 我爸不会打字 我帮他回": the order is the buyer's ("他买的…"), not "您下的这一单"
            keys.append("proxy")
        if conv.stage in self.roles.callback and ctx.proxy:
            # a relative took the call ("我是他老婆 他在开车"): the callback is for the buyer ("再联系他")
            keys.extend((["proxy-agreed-late"] * ctx.callback_late + ["proxy-agreed"]) if ctx.callback_at
                        else ["proxy"])
        if conv.stage in self.roles.callback and ctx.callback_at:
            # the buyer's own time in the quiet hours: kept, and said to be late
            keys.extend(["agreed-late"] * ctx.callback_late + ["agreed"])
        if conv.stage in self.roles.hands_over and ctx.handed_over:
            keys.append("handed_over")  # the agent said who takes over: not said again
        if conv.stage in self.roles.asks and ctx.last_role == "buyer" and ctx.remedy_changed:
            keys.append("changed")  # "算了还是退吧": the new choice is arranged, not heard as a problem
        if conv.stage in self.roles.asks and ctx.last_role == "buyer" and conv.last_intent == "complain" \
                and ctx.stage_before == conv.stage and not ctx.manager_asked:
            # a problem raised late is heard before anything else (not the choice itself: "寄泵頭就行"
            # read as a complaint; nor "叫你们店长来": the manager key)
            keys.append("intent-complain")
        if ctx.misclick:  # (also after the agent's reply: no "哪里不满意" while no problem is told)
            # a slip: no "哪里不满意"; nothing wrong: left to the buyer (no request before a fix)
            if ctx.misclick == "how":  # how to change it, or honestly that it no longer can
                keys.append("misclick-how" if review_changeable(conv, at) else "misclick-fixed")
            keys.append("misclick" if ctx.misclick == "said" else "misclick-fine")
        if ctx.last_role == "buyer":  # (where the folder has them)
            if ctx.care_answer:  # "人倒是没事 就是吓死了": relief (and sympathy for the fright) first
                keys.append(f"care-{ctx.care_answer}")
            if ctx.fright_asked:  # "我那天吓得半死这个怎么算": owned, and what we do, never for the review
                keys.append("fright")
            if ctx.too_early and ctx.remedy_chosen:
                # "钱还没退呢就惦记评价？？": sorry for asking too early, the chosen fix finished first
                # (the template names it: before a choice there is none to finish)
                keys.append("too_early")
            if ctx.contacted_again:  # "你们到底几个客服啊": sorry for the repeat contact, then the step
                keys.extend(["contacted-told"] * ctx.problem_stated + ["contacted"])
            if ctx.early_call:  # "大早上的打什么电话": sorry for the hour of the call, then for the problem
                keys.extend(["early_call-told"] * ctx.problem_stated + ["early_call"])
            if ctx.manager_asked and conv.stage not in self.roles.suspect:
                # "叫你们店长来": the case owned, the supervisor offered (a suspected extortion is
                # answered as any demand there: nothing that sounds like a deal)
                keys.append("manager")
            if ctx.offended and not ctx.remedy_asked:  # ("…你就说怎么解决": the options, remedy_asked)
                keys.append("offended")  # the agent's words hurt: owned first, then the talk goes on
            if ctx.self_fixed:
                keys.append("self_fixed")  # fixed it themselves: thanked for the trouble, nothing pushed
            if ctx.own_fault:
                keys.append("own_fault")  # owns the misuse: thanked, no blame, our part, options left open
            if ctx.call_asked and conv.stage not in self.roles.identifies:
                # asked to be called: the talk stays here, said kindly (before the buyer is known,
                # "你们打电话干嘛" asks who calls: intent-ask)
                keys.append("call")
            if ctx.damage_told and conv.stage in self.roles.handles:
                keys.append("other_damage")  # "桌子泡坏了怎么算": that loss owned and made good first
            if ctx.amount and not ctx.remedy_chosen and conv.stage in self.roles.offers:
                # once the options are out, how much or more: the sum is the agent's to set (before
                # them, "赔多少" gets the options: remedy_asked)
                keys.extend([f"amount-{ctx.amount}"] + ["amount-ask"] * (ctx.amount == "said"))
        if ctx.photo_sent and ctx.last_role == "buyer" and not ctx.problem_stated \
                and (conv.stage in self.roles.confirms or conv.stage in self.roles.hears):
            keys.append("photo")  # "[图片]": looked at, what it shows asked; not "还记得吗" again
        if ctx.why_asked and ctx.last_role == "buyer" and conv.stage in self.roles.offers \
                and not ctx.remedy_chosen and not ctx.remedy_about and not ctx.remedy_requested:
            keys.append("why")  # "为什么会这样？" where the options are out: the reason first, then them
        if ctx.remedy_again and ctx.last_role == "buyer":
            keys.append("remedy_again")  # will the new one have the same problem: what we do so it won't
        if ctx.remedy_about and ctx.last_role == "buyer":
            keys.append("remedy_about")  # a question about an option: how it goes, then the choice
        if ctx.remedy_requested and ((ctx.remedy_asked and ctx.last_role == "buyer") or (
                conv.stage in self.roles.offers and not ctx.remedy_chosen)):
            # (where the options are shown, the request still stands after the agent's explanation)
            # the buyer asked for one: lead with it; one the cause's options lack (remedies.yaml
            # by_cause) is not promised: the options the shop has instead
            offered = self.choices.offered(ctx, ctx.remedy_requested, conv.case.product)
            no_goods = self.remedies.goods_gone(ctx.cause, ctx.not_received)
            if not offered and self.remedies.kept_instead(ctx.remedy_requested, ctx.cause, no_goods):
                # "全额退款，东西我不寄回" where the cause lacks it: the request answered (all the money
                # back with the goods sent back at our cost, or some of it with the goods kept),
                # not the options said over again
                keys.append("remedy_kept")
            keys.append("remedy_requested" if offered else "remedy_not_offered")
        if ctx.remedy_asked and ctx.last_role == "buyer":
            keys.append("remedy_asked")  # where the folder has it: the options, with a short reason
        if conv.stage in self.roles.asks and ctx.remedy_received and ctx.last_role == "buyer":
            keys.append("received")  # the buyer has it: glad it arrived, not "已经在办了"
        if conv.stage in self.roles.asks and ctx.remedy_about and ctx.remedy_about == ctx.remedy_chosen \
                and ctx.last_role == "buyer":  # asked how the chosen one goes: answered before any request
            keys.append("arranged-asked" if ctx.remedy_underway else "arrange-asked")
        if conv.stage in self.roles.asks and ctx.remedy_pending and not ctx.remedy_underway:
            keys.append("pending")  # the courier is being chased: no request until the parcel comes
        if conv.stage in self.roles.asks and not ctx.remedy_underway:
            keys.append("arrange")  # no review request before the remedy is under way
        if conv.case.buyer_name == self.defaults["buyer_name"]:
            keys.append("noname")
        if conv.stage in self.roles.closes and ctx.stop_asked:
            # "以后不要再联系我了": we will not, sorry for the disturbance, an agreed fix still done;
            # no review, no "欢迎常来"
            keys.extend(["stop-chosen"] * bool(ctx.remedy_chosen) + ["stop"])
        if conv.stage in self.roles.closes and ctx.change_asked and ctx.last_role == "buyer":
            # how to change it, or honestly that it no longer can (Tmall, too late, changed once)
            keys.append("change-how" if review_changeable(conv, at) else "change-fixed")
        if conv.stage in self.roles.closes:
            if ctx.wrong_person:
                keys.append("wrong_person")
            elif ctx.all_declined:
                keys.append("declined")
            elif ctx.review_answer in ("agree_review", "refuse_review"):
                # a yes that waits for the remedy ("等换的到了没问题就改"): no steps yet, the fix followed up
                keys.extend([f"intent-{ctx.review_answer}-later"] * ctx.review_later
                            + [f"intent-{ctx.review_answer}"])
            elif ctx.remedy_chosen and ctx.review_answer is None and (
                    ctx.review_requests > 0 or ctx.extorted or ctx.gift_only or not review_changeable(conv, at)):
                # chosen and no request to make (Tmall, too late, asked once already: a new round, or
                # asked too early; a gift alone): the remedy is arranged and the talk closes
                keys.append("no_request")
        if ctx.safety:  # a danger reported: the options say to stop using it (where the folder has it)
            keys.append("hazard")
        if ctx.asks_what and ctx.last_role == "buyer" and not ctx.problem_stated \
                and (conv.stage in self.roles.confirms or conv.stage in self.roles.hears):
            # "是我 怎么了 差评的事？": answered (the review of the product, we want to help), then asked;
            # once the buyer is known (before it, "你们打电话干嘛" names no order: intent-ask)
            keys.append("asked_what")
        if conv.last_intent:
            keys.append(f"intent-{conv.last_intent}")
        if ctx.cause:
            if ctx.broken:  # arrived broken: its apology is for the damage ("碎了"), not a delay
                keys.append(f"cause-{ctx.cause}-broken")
            if ctx.spoiled:  # spoiled on the way ("一半都烂了"): the delay and the spoiling, no packaging
                keys.append(f"cause-{ctx.cause}-spoiled")
            if ctx.mild and ctx.last_role == "buyer":  # "味道有点淡": a mild apology, not "特别理解"
                keys.append(f"cause-{ctx.cause}-mild")
            keys.append(f"cause-{ctx.cause}")
            # a cause with no template of its own here (one a shop added): said by name, the
            # buyer is not asked again what is wrong (where the folder has such a template)
            keys.append("named_cause")
        if conv.stage in self.roles.confirms and ctx.last_role == "buyer" and ctx.product_confirmed:
            # the agent named the order already (an opener that did): the buyer's yes is to it, so
            # the stage's next step, how it went, not "还有印象吗" again (after any key above)
            step = self.flow.next_step.get(conv.stage)
            if step is not None:
                keys.append(step.key)
        keys.append("default")
        return conv.stage, keys

    def replies(
        self, conv: Conversation, variables: dict[str, Any], at: datetime | None
    ) -> list[SuggestedReply]:
        ctx = conv.context
        if conv.stage in self.roles.asks and ctx.review_requests > 0 and not ctx.repair \
                and not (ctx.remedy_changed and ctx.last_role == "buyer"):
            return []  # the one request is made: wait for the buyer (a changed remedy is arranged)
        if conv.stage == self.script.final and ctx.last_role == "agent":
            return []  # the agent said goodbye: nothing to add until the buyer writes again
        step = self.flow.next_step.get(conv.stage)
        if step is not None and step.waits and ctx.last_role == "agent" and not ctx.repair \
                and step.waits in ctx.last_acts:
            # the agent's message took the next step too ("…想问问是哪里喝着不太满意呀？", with or
            # without naming the order): wait for the buyer, no "还记得吗？" after it
            return []
        if ctx.care_waiting and ctx.last_role == "agent" and not ctx.repair:
            return []  # the agent asked whether anyone is hurt: wait for the answer
        if ctx.followup and ctx.last_role == "agent" and not ctx.repair and (
                conv.stage in self.roles.identifies or conv.stage in self.roles.confirms):
            return []  # the agent asked how the agreed fix went: wait for the buyer, no "还记得吗"
        if conv.stage in self.roles.callback and ctx.time_asked and ctx.last_role == "agent" and not ctx.repair:
            return []  # the agent asked when suits (cues.asks_time): wait for the buyer's time
        if conv.stage in self.roles.callback and ctx.callback_at and ctx.callback_confirmed \
                and ctx.last_role == "agent" and not ctx.repair:
            return []  # the time was agreed and the agent has answered it: wait (the note says when)
        folder, candidates = self.situation_keys(conv, at)
        key = self.templates.pick_key(folder, candidates)
        if key is None:
            return []
        avoid = frozenset(conv.last_templates)
        other: Tone = "亲切" if conv.tone == "正式" else "正式"
        missing = self._missing(conv)
        chosen = (*self._choose(folder, key, conv.tone, 2, conv.turn, avoid, missing),
                  *self._choose(folder, key, other, 1, conv.turn, avoid, missing))
        out: list[SuggestedReply] = []
        for v in chosen:
            reply = self._reply(v, variables)
            if reply is not None:  # never suggest what the guard blocks (tests keep this empty)
                out.append(reply)
        opening = self.script.initial  # the greeting folded into a reply to a buyer who wrote first
        if ctx.buyer_first and ctx.agent_turns == 0 and conv.stage != opening:
            noname = conv.case.buyer_name == self.defaults["buyer_name"]
            key = self.templates.pick_key(opening, ["buyer_first-said_who"] * ctx.buyer_first_said_who
                                          + ["buyer_first-noname"] * noname + ["buyer_first"])
            greet = self._choose(opening, key, conv.tone, 1, conv.turn, frozenset(), missing) if key else ()
            if greet:
                hello = self.templates.render(greet[0], variables)
                out = [r.model_copy(update={"text": hello + r.text}) for r in out]
        if ctx.safety and not ctx.care_asked and conv.stage != self.script.final:  # safety first
            care = self._choose("care", "default", conv.tone, 1, conv.turn, avoid, missing)
            reply = self._reply(care[0], variables) if care else None
            if reply is not None:
                out.insert(0, reply)
        if ctx.traditional:
            case = conv.case  # names stay as given: 台灣小舖 is not 臺灣小舖, the agent 小云 not 小雲
            names = (case.shop, case.buyer_name, case.agent or "")
            out = [self._in_traditional(r, names) for r in out]
        return out

    def _in_traditional(self, r: SuggestedReply, names: tuple[str, ...]) -> SuggestedReply:
        """The reply in traditional characters. Kept in a bounded cache like the replies
        themselves: converting three replies again every turn cost more than deciding it."""
        key = (r.text, r.template, r.tone, *names)
        hit = self._traditional_cache.get(key)
        if hit is None:
            hit = r.model_copy(update={"text": to_traditional(r.text, names)})
            if len(self._traditional_cache) >= 4096:
                self._traditional_cache.clear()
            self._traditional_cache[key] = hit
        return hit

    def _missing(self, conv: Conversation) -> frozenset[str]:
        """Facts the case lacks: a variant that needs one is used only when no other is left."""
        case = conv.case
        return frozenset(name for name, value in (("product", case.product),
                                                  ("order_date", case.order_date)) if not value)

    def _choose(self, folder: str, key: str, tone: str, count: int, seed: int,
                avoid: frozenset[str], missing: frozenset[str]) -> tuple[Variant, ...]:
        # A function of the pool's rotation, not of the turn itself: kept (bounded), as the
        # same few choices come back turn after turn.
        size = self.templates.size(folder, key, tone)
        if not size:
            return ()
        memo = (folder, key, tone, count, seed % size, avoid, missing)
        found = self._chosen.get(memo)
        if found is None:
            if not missing:
                found = tuple(self.templates.choose(folder, key, tone, count, seed, avoid))
            else:
                pool = self.templates.choose(folder, key, tone, 99, seed, avoid)
                # the variants that need the fewest facts the case lacks first (stable:
                # rotation kept)
                pool.sort(key=lambda v: len(missing & v.names))
                found = tuple(pool[:count])
            if len(self._chosen) >= 4096:
                self._chosen.clear()
            self._chosen[memo] = found
        return found

    def _reply(self, v: Variant, variables: dict[str, Any]) -> SuggestedReply | None:
        """The variant rendered as a suggested reply, None when the guard blocks it.

        Both are a function of the variant and the values of its own placeholders (the
        guard reads the text alone: no context, no stage), so the answers of a variant
        are kept in a bounded cache: a conversation's case fields change rarely,
        and every turn otherwise renders, checks and validates the same replies again.
        The reply objects are shared, like the stage and checklist items (never changed
        in place: a greeting or the masking copies them).
        """
        tone = v.tone
        if any(n not in variables for n in v.slots):
            return self._render_reply(v, variables)  # Jinja, or an error to raise
        key = (v.id, *[tone if n == "tone" else variables[n] for n in v.slots])
        hit = self._replies_cache.get(key, _UNSEEN)
        if hit is _UNSEEN:
            hit = self._render_reply(v, variables)
            if len(self._replies_cache) >= 4096:
                self._replies_cache.clear()
            self._replies_cache[key] = hit
        return cast("SuggestedReply | None", hit)

    def _render_reply(self, v: Variant, variables: dict[str, Any]) -> SuggestedReply | None:
        text = self.templates.render(
            v, variables if v.tone == variables["tone"] else {**variables, "tone": v.tone})
        if self._blocked(v, variables):
            return None
        return SuggestedReply(text=text, template=v.id, tone=cast(Tone, v.tone))

    def _blocked(self, variant: Variant, variables: dict[str, Any]) -> bool:
        """Whether the guard blocks this variant rendered with these variables.

        The guard reads the text with the buyer's name held neutral (a name cannot tie a
        benefit to a review), so one check serves every buyer of the same shop, product and
        remedy; the answers are kept in a small bounded cache, off the per-turn cost.
        """
        key = (variant.id, *[str(variables[k]) for k in GUARD_KEYS])
        hit = self._guard_cache.get(key)
        if hit is None:
            text = self.templates.render(variant, {**variables, **_NEUTRAL_NAME, "tone": variant.tone})
            hit = self.understand.guard.blocks(self.understand.findings(text))
            if len(self._guard_cache) >= 4096:
                self._guard_cache.clear()
            self._guard_cache[key] = hit
        return hit

    def public_reply(
        self, conv: Conversation, variables: dict[str, Any], at: datetime | None
    ) -> str | None:
        ctx = conv.context
        suspect = conv.stage in self.roles.suspect or (conv.context.suspected and conv.stage in self.script.holding)
        # a review the buyer changed already, or says she will change, does not stay
        gone = ctx.review_said_changed or conv.case.review_changed or ctx.review_answer == "agree_review"
        stays = suspect or (not gone
            and (conv.stage in self.roles.closes or conv.stage == self.script.final)
            and (ctx.all_declined or ctx.review_answer == "refuse_review"
                 or (ctx.remedy_chosen is not None and (ctx.gift_only or not review_changeable(conv, at))))
        )
        if not stays:
            return None
        # Suspected extortion: no admission of a fault the review only claimed (the
        # `suspected` key) before the cause's wording.
        keys = ["suspected"] if suspect else []
        key = self.templates.pick_key("public_reply", [*keys, f"cause-{ctx.cause}", "default"])
        if key is None:
            return None
        # One draft per conversation: the text the agent reads does not change turn by turn.
        picked = self.templates.choose("public_reply", key, "正式", 1, zlib.crc32(conv.id.encode()), set())
        return self.templates.render(picked[0], variables) if picked else None
