"""The parts of ``dialogs/script.yaml`` that decide *how* the script moves beyond its rows:
how much evidence a big jump needs, the text cues of a moment (safety, damage, free now),
the product table of ``dialogs/products.yaml`` and the callback time a buyer agrees to.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.dataload import DataError
from bot.datamodels import ProductTable
from bot.numerals import arabic_sums, cn_number


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Maybe(_Strict):
    label: str
    stage: str


class NextStep(_Strict):
    act: str
    folder: str
    key: str
    # an act that, with ``act`` in the agent's message, already took the next step ("…收到后穿着合适吗？"
    # asks how it went): nothing is suggested until the buyer answers
    waits: str | None = None


class Cues(_Strict):
    free_now: str
    safety: str
    care_asked: str
    other_damage: str
    underway: str
    handed_over: str
    sorry: str = "(?!)"  # any apology word ("抱歉", "对不起"): one left beside the sorry for disturbing
    sorry_disturb: str = "(?!)"  # a goodbye sorry for the disturbance ("不好意思打扰您了")
    retracts: str = "(?!)"  # the agent takes back its last message ("不好意思发错窗口了")
    cause_correction: str
    greeting: str = "$^"  # a bare "在吗": after the end it is answered, not a new round
    names_order: str = "(?!)"  # the buyer names their order ("我买的保温杯"): they remember it
    has_order: str = "(?!)"  # … or says they have it ("那个花瓶我收到了"): recalled (events.cues_after)
    thanks: str = "(?!)"  # the buyer thanks ("好的谢谢"): after the end, answered "不用谢"
    takes_offer: str = "(?!)"  # a happy thanks to the one option offered ("哇那太好了 谢谢亲～"): taken
    # (a shop's older copy without them: "(?!)" never matches, not even an empty text)
    picks: str = "(?!)"  # an option picked by its place ("我选第二个") where the options are shown
    turned_down: str = "(?!)"  # the words before an option's cue that turn it down ("不用退")
    question: str = "(?!)"  # a question about an option is no choice ("退款要多久？")
    another: str = "(?!)"  # another problem, not the old one again ("还有个事", "另外")
    asks_about: str = "(?!)"  # a clause asking about an option, not for it ("换新的会不会还跑绒")
    asks_again: str = "(?!)"  # … whether the new one will have the same problem ("会不会还跑绒")
    conditional: str = "(?!)"  # a choice under a condition, to its sentence's end ("再不到就退钱")
    asks_consent: str = "(?!)"  # the agent's offer still asks the buyer ("…，可以吗？")
    done: str = "(?!)"  # the agent says the remedy is done ("已经给您退了")
    asks_remedy: str = "(?!)"  # the buyer asks what the shop will do ("那你们打算怎么处理？")
    received: str = "(?!)"  # the buyer has the remedy ("收到了", "钱到了"; not "到了再说")
    asks_who: str = "(?!)"  # the message only asks who is writing ("你是？", "你哪位")
    yes: str = "(?!)"  # a plain yes opening a message ("嗯 快点", "我是，请问哪位", "dui")
    shipping: str = "(?!)"  # who pays the postage ("运费谁出", "我没买运费险")
    no: str = "(?!)"  # a plain no to the options opening a message ("都不用了 …")
    leaves_review: str = "(?!)"  # the review left to the buyer ("评价您自己决定就好"): no request
    demands: str = "(?!)"  # money asked for ("再转我10块"): beside a yes to the review, extortion
    # a benefit, a price or a condition put on the review ("给我50就改", "除非赔我", "出个价"): a weak
    # extortion reading needs one to jump ("你们是不是想让我改差评" asks, and names none)
    benefit: str = "(?!)"
    refuses_clause: str = "(?!)"  # a clause that only refuses the one before it ("也不必了")
    picks_by_word: str = "(?!)"  # a short reply that is one word the agent named an option with ("刀头吧")
    waves_off: str = "(?!)"  # words that wave an option off ("不必了"), not "不想再等"
    proxy: str = "(?!)"  # a relative answering for the buyer ("我是她儿子，我帮她回")
    relays: str = "(?!)"  # such a one offers to hear it or pass it on ("你跟我说吧", "我帮你转达")
    pronoun: str = "(?!)"  # … and how they speak of the buyer ("他", "她"): the callback is for them
    talk_said: str = "(?!)"  # words about the contact itself ("客服", "不回", "态度"): a clause worth reading for it
    will_change: str = "(?!)"  # the buyer will change the review unasked ("评价我去改回来")
    hands_over: str = "(?!)"  # one who hands the phone to the buyer ("你等下 他停好车了")
    contacted: str = "(?!)"  # sarcasm at being contacted at last ("你们还知道找我？"): a mood
    settles: str = "(?!)"  # "那就这样吧" after a yes, where the options are shown: agreement
    broken: str = "(?!)"  # the goods arrived broken ("碎了一大半", "罐子压凹了"), not late
    packaging_damaged: str = "(?!)"  # only the box is damaged ("盒子都压扁了"): not the goods
    goods_fine: str = "(?!)"  # the buyer says the goods are fine ("枕头倒是没事"): no damage after all
    spoiled: str = "(?!)"  # the goods spoiled on the way ("一半都烂了", "发霉了"): late, and the loss with it
    asks_what: str = "(?!)"  # the buyer asks what the contact is about ("是我 怎么了 差评的事？")
    mild: str = "(?!)"  # a mild complaint ("味道有点淡"): a milder apology where the buyer reads calm
    not_received: str = "(?!)"  # the goods never reached the buyer ("签收了但我没收到")
    goods_found: str = "(?!)"  # … and then turned up ("找到了，在驿站", "邻居帮我代收了")
    asks_time: str = "(?!)"  # in a callback, the agent asks when suits ("您看什么时候方便？")
    proposes_time: str = "(?!)"  # … not when it names the hour ("今晚八点左右方便吗？": a proposal)
    evening: str = "(?!)"  # busy with an evening thing ("在哄娃睡觉", "下班路上"): a bare hour is p.m.
    haggles: str = "(?!)"  # a counter-offer on the amount ("太少了，起码退50"): no choice yet
    asks_amount: str = "(?!)"  # how much ("留着吧 退多少钱？"): no choice yet
    # the sums a buyer names ("退一半吧", "40 不行我就退货"): one the agent has not named is a
    # counter-offer, no choice yet
    sums: str = "(?!)"
    offered_sums: str = "(?!)"  # … and the agent's sums said otherwise ("订单金额的三成", "50元")
    # the agent's message only leads in to the explanation ("我们查了一下，"): the next one gives it
    lead_in: str = "(?!)"
    # the agent disowns the problem ("快递的问题不是我们能控制的"): no explanation given
    deflects: str = "(?!)"
    # a 因为 that retells what the trouble cost the buyer ("裙子因为一个拉链穿不上"): no explanation
    retells: str = "(?!)"
    self_fixed: str = "(?!)"  # the buyer fixed it themselves ("盆我已经自己换了一个")
    own_fault: str = "(?!)"  # the buyer owns the misuse ("是我自己扔洗碗机里洗了", "怪我自己")
    asks_call: str = "(?!)"  # the buyer asks to be called ("你直接打电话吧")
    offended: str = "(?!)"  # the buyer takes offence at the agent's words ("你什么意思？")
    asks_care: str = "(?!)"  # the agent asks whether anyone is hurt ("您和家里人都没事吧？"): wait for it
    unhurt: str = "(?!)"  # the buyer says nobody was hurt ("人倒是没事")
    scared: str = "(?!)"  # … and frightened ("就是吓死了")
    fright_asked: str = "(?!)"  # the buyer asks what about the fright ("吓得半死这个怎么算")
    too_early: str = "(?!)"  # the review asked before the fix is done ("钱还没退呢就惦记评价？？")
    # the buyer complains of being contacted again ("你们到底几个客服啊 昨天刚有人问过", "怎么又来了"):
    # the reply apologises for the repeat contact first; no problem of the order's
    contacted_again: str = "(?!)"
    early_call: str = "(?!)"  # the buyer is angry at the hour of the call ("大早上的打什么电话")
    # the buyer asks for a manager ("叫你们店长来"): about the talk, no problem of the order's
    asks_manager: str = "(?!)"
    other_product: str = "(?!)"  # the agent named the wrong thing ("我没买积木啊 我买的是拼图")
    misclick: str = "(?!)"  # the review was a slip ("我点错了吧")
    review_changed: str = "(?!)"  # the buyer changed the review already ("我已经改成好评了")
    never_mind: str = "(?!)"  # "不用惦记那个" said with that news: about the review, no option declined
    asks_change: str = "(?!)"  # how the buyer changes the review ("那我怎么改回来")
    agrees_if: str = "(?!)"  # a yes to the review once the remedy arrives ("收到能用就改"): steps later
    asks_review_change: str = "(?!)"  # the agent asks the review changed ("方便改下评价吗"), not just names it
    review_word: str = "(?!)"  # words about the review ("评价…", "我去改"): an answer to the request
    defers: str = "(?!)"  # asked about the review, a decision put off ("到了再说"): no busy buyer
    # the agent's offer leaves a choice between the options it names ("…；或者退货退款"); without
    # it (an older copy) several options come together and a plain yes takes the first
    alternatives: str = "(?!)"
    # an extortion read in a message whose demand is the fix itself (a refund, a return, an
    # exchange: "你先退款我就改") and no money beyond it (`extra`: 赔, 转, 红包, amounts)
    owed: str = "(?!)"
    extra: str = "(?!)"
    # a threat that names where it goes (the platform, 12315, a lawyer, the press): "你们等着吧"
    # names nowhere, so it is no escalation by itself (script.yaml `evidence_cues`)
    threat_names: str = "(?!)"
    # an agent's apology that owns the buyer's trouble ("实在抱歉，给您添麻烦了"), not a slip of its
    # own ("不好意思，是我看错了", "不好意思打扰了")
    sorry_trouble: str = "(?!)"
    # the buyer points at a photo ("[图片]" then "你自己看", "看图"): the problem is in it, told
    photo: str = "(?!)"
    # the buyer's message is only a photo, as the chat tool pastes it ("[图片]"; read on the raw text:
    # normalising leaves nothing of it): looked at, the order is not asked about again
    photo_sent: str = "(?!)"
    # a message that is only a sad or angry face ("😭😭", "[流泪]"), right after a bare photo: it
    # points at the photo as "你自己看" does
    photo_face: str = "(?!)"
    # a clause after the first that says the order came or is remembered ("是的，那个花瓶我收到了")
    recalls: str = "(?!)"
    # the buyer asks the shop to stop contacting them ("别再给我发消息了", "不要再联系我了"): the
    # talk ends, whatever cause the message is read with
    stop_contact: str = "(?!)"
    # the buyer says what the bad review was for ("差评是给快递的", "中评主要是因为客服…"): that clause
    # is the problem told, however the praise around it reads
    review_for: str = "(?!)"
    # the buyer puts the talk off ("等下说", "晚点再打", "回头聊"): busy, whatever else is told
    later: str = "(?!)"
    # a photo or video promised for later ("照片我等会儿拍给你"): puts nothing off but the photo
    sends_later: str = "(?!)"
    # a caution for next time beside a yes to the offer ("别又碎了", "可别再放我鸽子"): no new problem
    caution: str = "(?!)"
    asks_why: str = "(?!)"  # the buyer asks why it happened ("为什么会这样？", "怎么会磕坏呢")
    # the agent pastes the order line ("订单号：… 商品：…"): the order is named, as "您买的…还记得吗"
    order_line: str = "(?!)"
    # news of a refund the platform already paid ("我已经找平台申请退款了"): no threat, no request
    refunded: str = "(?!)"
    # busy words: a yes to the options that names a time ("行吧 那就明天晚上送") is no busy buyer
    # unless it says one of these ("好的 我在开会 晚点说")
    busy_now: str = "(?!)"
    # the talk put off ("晚上再说", "回头聊"): while the problem is told, a busy reading needs it (or
    # busy_now, a time); "现在还痒" is more of the problem
    puts_off: str = "(?!)"
    # a clause that is only busy right now ("是 在开车"): busy, whatever the yes before it reads as
    busy_clause: str = "(?!)"
    # the closing words say the chosen remedy goes ahead ("退货照常给您办"): no new offer
    goes_ahead: str = "(?!)"


class WeakCue(_Strict):
    """A big jump read less surely than ``below`` that must name its ground (``cue``) in the text."""

    cue: str
    below: float


class Ordinary(_Strict):
    intents: list[str]
    confidence: float


class FlowSpec(_Strict):
    """The flow section of script.yaml (checked when the engine loads)."""

    evidence: dict[str, float] = Field(default_factory=dict)
    # a big jump that also needs a cue in the text (intent -> cue name): without it the reading,
    # however sure, only gives the "可能…" note
    evidence_cues: dict[str, str] = Field(default_factory=dict)
    # …and one that needs it only when read less surely than its mark ("是我 你们是不是想让我改差评",
    # extort at 0.64, names no benefit for the review): held, with the "可能…" note
    weak_evidence_cues: dict[str, WeakCue] = Field(default_factory=dict)
    act_evidence: dict[str, float] = Field(default_factory=dict)
    farewell: list[str] = Field(default_factory=list)
    firm_extort: float = 0.85
    # causes about the talk itself (the agent's wording, slow replies): said before the problem is
    # heard, they hold the case's place only until the buyer tells the product's problem
    talk_causes: list[str] = Field(default_factory=list)
    # what the agent's apology names as the buyer's trouble, by cause ("实在抱歉，给您发成枸杞了":
    # wrong_missing): the problem is known, as if the buyer had told it
    sorry_names: dict[str, str] = Field(default_factory=dict)
    # a cue that tells the problem beside a yes, and the cause it tells (cue name -> cause): "是的 还没收到呢"
    # (a yes, and "没收到" read as a no) tells that the goods never came, whatever the reading
    told_by: dict[str, str] = Field(default_factory=dict)
    weak_primary: float = 0.5
    # a busy reading below this once the problem is told (at any stage), with no busy word, no time
    # and no talk put off, is more of the problem ("现在还痒" read as busy at 0.57, for 现在)
    unsure_busy: float = 0.8
    # a clause read as a complaint at least this surely, in a message read with no cause, states
    # the problem by itself ("…那猫砂粉尘太大了 一倒满屋子灰"): no mood
    sure_complaint_clause: float = 0.8
    review_cause: float = 1.01  # above 1: a shop's older copy without it seeds nothing
    ordinary: Ordinary = Ordinary(intents=["affirm", "complain", "ask"], confidence=0.6)
    maybe: dict[str, Maybe] = Field(default_factory=dict)
    escalation_owner: str = "主管"
    cues: Cues
    next_step: dict[str, NextStep] = Field(default_factory=dict)
    notes: dict[str, str] = Field(default_factory=dict)
    event_labels: dict[str, str] = Field(default_factory=dict)


FLOW_KEYS = frozenset(FlowSpec.model_fields)


class Flow:
    """The compiled flow section: thresholds and cue patterns."""

    def __init__(self, spec: dict[str, Any], stages: set[str]) -> None:
        try:
            f = FlowSpec.model_validate({k: v for k, v in spec.items() if k in FLOW_KEYS})
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(map(str, first["loc"]))
            raise DataError(f"script.yaml：{where} 缺少或格式不对（{first['type']}）") from exc
        self.evidence = f.evidence
        self.evidence_cues = f.evidence_cues
        self.weak_evidence_cues = f.weak_evidence_cues
        self.act_evidence = f.act_evidence
        self.farewell = frozenset(f.farewell)
        self.firm_extort = f.firm_extort
        self.talk_causes = frozenset(f.talk_causes)
        self.weak_primary = f.weak_primary
        self.unsure_busy = f.unsure_busy
        self.sure_complaint_clause = f.sure_complaint_clause
        self.told_by = f.told_by
        self.review_cause = f.review_cause
        self.ordinary_intents = frozenset(f.ordinary.intents)
        self.ordinary_confidence = f.ordinary.confidence
        self.maybe = f.maybe
        self.escalation_owner = f.escalation_owner
        self.next_step = f.next_step
        self.notes = f.notes
        self.event_labels = f.event_labels
        for event, m in f.maybe.items():
            if m.stage not in stages:
                raise DataError(f"script.yaml：maybe.{event} 的阶段 {m.stage!r} 不存在")
        self.cues: dict[str, re.Pattern[str]] = {}
        for name, pattern in f.cues.model_dump().items():
            try:
                self.cues[name] = re.compile(pattern)
            except re.error as exc:
                raise DataError(f"script.yaml：cues.{name} 不是合法的正则表达式（{exc}）") from exc
        self.sorry_names: dict[str, re.Pattern[str]] = {}
        for cause, pattern in f.sorry_names.items():
            try:
                self.sorry_names[cause] = re.compile(pattern)
            except re.error as exc:
                raise DataError(f"script.yaml：sorry_names.{cause} 不是合法的正则表达式（{exc}）") from exc
        for intent, cue in f.evidence_cues.items():
            if cue not in self.cues:
                raise DataError(f"script.yaml：evidence_cues.{intent} 的 {cue!r} 不在 cues 里")
        for intent, weak in f.weak_evidence_cues.items():
            if weak.cue not in self.cues:
                raise DataError(f"script.yaml：weak_evidence_cues.{intent} 的 {weak.cue!r} 不在 cues 里")
        for cue in f.told_by:
            if cue not in self.cues:
                raise DataError(f"script.yaml：told_by 的 {cue!r} 不在 cues 里")

    def sorry_named(self, text: str) -> str | None:
        """The cause an agent's apology names as the buyer's trouble (script.yaml `sorry_names`)."""
        return next((cause for cause, p in self.sorry_names.items() if p.search(text)), None)

    def cue(self, name: str, text: str) -> re.Match[str] | None:
        return self.cues[name].search(text)

    def sums(self, text: str, cue: str = "sums") -> re.Match[str] | None:
        """A sum named in ``text`` (cues.sums, or ``cue``: offered_sums), in Arabic or Chinese
        numerals alike (两百, 三十块, 伍拾元 read as 200, 30块, 50元): the match is on the digits."""
        return self.cues[cue].search(arabic_sums(text))

    def uncued(self, intent: str, confidence: float, norm: str) -> bool:
        """Whether a big jump lacks the ground its cue must find in the text (script.yaml
        `evidence_cues`, and `weak_evidence_cues` below their mark): it only gives the "可能…" note."""
        cue = self.evidence_cues.get(intent)
        if cue is not None and not (norm and self.cue(cue, norm)):
            return True
        weak = self.weak_evidence_cues.get(intent)
        return weak is not None and confidence < weak.below and not (norm and self.cue(weak.cue, norm))

    def damaged(self, text: str) -> str | None:
        """The buyer's other thing that the product damaged ("睡衣也被染了" → 睡衣): None
        when nothing else was damaged, "" when the message does not name the thing."""
        m = self.cues["other_damage"].search(text)
        if m is None:
            return None
        thing = next((g for g in m.groups() if g), "")
        # "把我睡衣也染了": the object, without the 把 and the owner before it
        # (letters back in capitals: the text was lower-cased, "白t恤" is 白T恤)
        return re.sub(r"^(把|给|连)?(我|我们|我家|家里)?的?", "", thing).upper()


class Products:
    """Measure word and verb of a product, from dialogs/products.yaml (checked against its
    model, bot/datamodels.py, when it loads)."""

    def __init__(self, spec: Any) -> None:
        table = ProductTable.model_validate(spec)
        try:
            self.rows = [(re.compile(r.match), r.unit, r.use) for r in table.products]
        except re.error as exc:
            raise DataError(f"products.yaml：match 不是合法的正则表达式（{exc}）") from exc
        self.default = (table.default.unit, table.default.use)
        try:
            self.not_product = re.compile(table.not_product) if table.not_product else None
        except re.error as exc:
            raise DataError(f"products.yaml：not_product 不是合法的正则表达式（{exc}）") from exc
        self._cache: dict[str, tuple[str, str]] = {}

    def said(self, text: str, besides: tuple[str | None, ...] = ()) -> str | None:
        """The product a message names ("买的橙子都烂了" → 橙), for a case that names none: the
        first row's match, once the words that name no product (the box, the courier) and
        ``besides`` (the shop's and the buyer's names, the buyer's other thing it damaged) are
        out; None when it names none."""
        for word in besides:
            if word:
                text = text.replace(word, "，")
        if self.not_product is not None:
            text = self.not_product.sub("，", text)
        for p, _unit, _use in self.rows:
            m = p.search(text)
            if m and m.group():
                return m.group()
        return None

    def words(self, product: str | None) -> tuple[str, str]:
        """(unit, use) for the product name."""
        if not product:
            return self.default
        hit = self._cache.get(product)
        if hit is None:
            hit = next(((u, v) for p, u, v in self.rows if p.search(product)), self.default)
            if len(self._cache) < 4096:
                self._cache[product] = hit
        return hit


# -- the callback time ---------------------------------------------------------------------

_DAY = re.compile(r"(今天|今晚|今儿|明天|明晚|明早|明儿|后天|大后天)")
_PERIOD = re.compile(r"(早上|早晨|上午|中午|下午|傍晚|晚上|今晚|明晚|夜里|明早)")
_HOUR = re.compile(r"(\d{1,2}|[零一二两三四五六七八九十]{1,3})\s*(?:点|:|：|时)\s*(半|(\d{1,2})\s*分?|"
                   r"([零一二三四五六七八九十]{1,3})\s*分)?")
_DAYS = {"今天": 0, "今晚": 0, "今儿": 0, "明天": 1, "明晚": 1, "明早": 1, "明儿": 1, "后天": 2,
         "大后天": 3}
_WEEKDAY = re.compile(r"(?:周|星期|礼拜)([一二三四五六日天])")
_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_PM = ("下午", "傍晚", "晚上", "今晚", "明晚", "夜里")


def callback_time(text: str, now: datetime, evening: bool = False) -> datetime | None:
    """The time named in a message ("今晚八点", "明天下午三点", "八点后", "周六上午十点"),
    relative to the message's time; None when the message names no hour or day. A bare hour
    up to 8 is the evening (八点 is 20:00); 9-11 is the next morning once passed ("九点半" at
    15:00 is tomorrow 9:30: 21:30 would be inside quiet hours), and the evening when the talk
    says so (``evening``: "在哄娃睡觉 晚点说" then "九点半" is 21:30)."""
    day = _DAY.search(text)
    week = _WEEKDAY.search(text)
    period = _PERIOD.search(text)
    hour_m = _HOUR.search(text)
    if hour_m is None and day is None and period is None and week is None:
        return None
    offset = _DAYS[day.group(1)] if day else 0
    if week is not None and day is None:
        offset = (_WEEKDAYS[week.group(1)] - now.weekday()) % 7 or 7
    if hour_m is not None:
        hour = cn_number(hour_m.group(1))
        if hour is None or hour > 24:
            return None
        minute = 30 if hour_m.group(2) == "半" else (
            int(hour_m.group(3)) if hour_m.group(3) else (cn_number(hour_m.group(4)) or 0) if hour_m.group(4)
            else 0)
        p = period.group(1) if period else (day.group(1) if day else "")
        if (p in _PM and hour < 12) or (not p and (hour <= 8 or evening) and hour < 12):
            hour += 12  # 晚上八点, and a bare 八点 in after-sales talk means the evening
    else:
        p = period.group(1) if period else ""
        hour, minute = (20 if p in _PM or (day and day.group(1) in ("今晚", "明晚")) else
                        12 if p == "中午" else 10 if p else 20), 0
    if hour >= 24 or minute >= 60:
        return None
    base = now.replace(hour=hour, minute=minute, second=0, microsecond=0) + timedelta(days=offset)
    if day is None and week is None and base < now:
        base += timedelta(days=1)  # a time already past today means the next one
    return base


def spoken_time(at: datetime, now: datetime | None) -> str:
    """A callback time as the agent says it: 今晚8点, 明天下午3点半, 12月8日上午10点; the early
    morning is 早上 (今天早上8点, not 今天上午8点: 上午 is said from 9 on)."""
    h = at.hour
    part = ("凌晨" if h < 6 else "早上" if h < 9 else "上午" if h < 12 else "中午" if h < 13
            else "下午" if h < 18 else "晚上")
    h12 = h if h <= 12 else h - 12
    clock = f"{h12}点" + ("半" if at.minute == 30 else f"{at.minute}分" if at.minute else "")
    if now is not None:
        days = (at.date() - now.date()).days
        if days == 0:
            return ("今晚" if part == "晚上" else "今天" + part) + clock
        if days in (1, 2):
            return ("明天" if days == 1 else "后天") + part + clock
    return f"{at.month}月{at.day}日{part}{clock}"


__all__ = ["FLOW_KEYS", "Flow", "Products", "callback_time", "spoken_time"]
