"""The pydantic models at csbot's boundaries: case fields, conversation state, Suggestion."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal, get_args

from pydantic import AfterValidator, ConfigDict, Field, model_validator

# Re-exported: what a guard finding needs lives on its own (bot/findings.py).
from bot.findings import Base
from bot.findings import Finding as Finding
from bot.findings import NoteAction as NoteAction
from bot.findings import Severity as Severity
from bot.labels import known

Role = Literal["buyer", "agent"]
# Intents, causes, acts, outcomes and guard codes are the data's (dialogs/defaults.yaml,
# bot/labels.py): plain strings, checked against the loaded labels when a model is validated
# with them as context (``context={"labels": engine.labels}``: the HTTP API, corpus lines,
# personas). The engine's own models carry labels its data produced, checked at load.
Intent = Annotated[str, AfterValidator(known("intent"))]
Cause = Annotated[str, AfterValidator(known("cause"))]
# The emotions stay closed: the rules' heat scale (bot/understand/buyer.py) is built on them.
Emotion = Literal["calm", "upset", "angry"]
Act = Annotated[str, AfterValidator(known("act"))]
Code = Annotated[str, AfterValidator(known("code"))]
Tone = Literal["正式", "亲切"]
Outcome = Annotated[str, AfterValidator(known("outcome"))]
EMOTIONS: tuple[str, ...] = get_args(Emotion)


class Strict(Base):
    model_config = ConfigDict(extra="forbid")


# Titles a lead may type as part of the buyer's name ("王女士", "李先生")
_NAME_TITLES = ("女士", "先生", "小姐", "同学", "老师")


class Case(Strict):
    """The case fields of design.md: who, what, where, and the review."""

    shop: str = Field(min_length=1, max_length=100)
    buyer_name: str = Field(min_length=1, max_length=50)
    honorific: str = Field(default="", max_length=10, description="先生 / 女士 / 同学…")
    buyer_id: str | None = Field(default=None, max_length=100)
    order_id: str | None = Field(default=None, max_length=100)
    product: str | None = Field(default=None, max_length=200)
    order_date: date | None = None
    platform: Literal["taobao", "tmall"] = "taobao"
    review_rating: Literal["中评", "差评"] | None = None
    review_text: str | None = Field(default=None, max_length=2000)
    review_time: datetime | None = None
    review_followup: str | None = Field(default=None, max_length=2000,
                                        description="买家的追评（常常是真正的问题所在）")
    shop_reply: str | None = Field(default=None, max_length=2000,
                                   description="评价下已经发布的商家回复（解释）：每条评价只能解释一次")
    review_changed: bool = Field(default=False, description="the buyer already used their one change")
    channel: str | None = Field(default=None, max_length=50)
    agent: str | None = Field(default=None, max_length=50)

    @model_validator(mode="after")
    def _honorific_once(self) -> Case:
        # A lead who types the name as "李女士" and also picks 女士 would otherwise be greeted
        # with "李女士女士": the templates always write name + honorific.
        name, title = self.buyer_name, self.honorific
        if title and name.endswith(title) and len(name) > len(title):
            self.buyer_name = name[: -len(title)].rstrip()
        elif title.startswith(name):
            # and one who types the whole call "王女士" as the honorific too (with the name 王
            # or 王女士) would get "王王女士" or "王女士王女士": the honorific keeps what follows
            self.honorific = title[len(name):].lstrip()
        else:
            # a name typed with its title ("王女士") and another honorific ("王姐", "姐") would be
            # greeted "王女士王姐" or "王女士姐": the honorific the lead picked wins ("王姐")
            surname = next((name[: -len(t)] for t in _NAME_TITLES if name.endswith(t)), "")
            if surname and title and title != surname:
                self.buyer_name = surname
                self.honorific = title[len(surname):] if title.startswith(surname) else title
        return self


class IntentScore(Base):
    """One of a buyer message's intents, with the model's confidence in it."""

    intent: Intent
    confidence: float


class BuyerUnderstanding(Base):
    text: str
    intent: Intent
    cause: Cause | None
    emotion: Emotion
    confidence: float
    # Every intent of the message in text order (the primary one included); a message that
    # affirms and complains ("嗯，那箱根本没收到") lists both.
    intents: list[IntentScore] = Field(default_factory=list)
    # The money back the buyer names with a request for it ("补发太麻烦了 退30吧": "30元", "退一半":
    # "一半"), shown on the case card beside the intent; None when no sum is named.
    amount: str | None = None


class AgentUnderstanding(Base):
    text: str
    acts: list[Act]
    findings: list[Finding]


class Context(Base):
    """The counters and facts the script's conditions read."""

    apologies: int = 0
    empathies: int = 0
    explanations: int = 0
    remedies_offered: int = 0
    review_requests: int = 0
    closings: int = 0
    thanks: int = 0
    offers_time: bool = False
    wrong_person: bool = False
    # The case's one count of contact attempts (at most three, script.yaml max_attempts): the
    # number of the attempt under way, this conversation being the first; each callback resumed
    # and each attempt recorded in the queue (contact_attempts, a log of who and when) adds one.
    # attempts_made() is what has happened; the queue and the script both read it.
    attempts: int = 1
    # One contact counted once when both the script and the queue hear of it (`/恢复` and `csbot
    # contact` for the same call): "resume" is an attempt a resume opened that the queue has not
    # logged; "log" one the queue logged (reached the buyer) that no resume has joined yet; "first"
    # the first contact logged before the conversation's first message (which is that contact).
    attempt_unpaired: Literal["resume", "log", "first"] | None = None
    problem_stated: bool = False
    # the buyer said something while the problem was being heard that the reading took as no problem
    # ("生锈", "刷了还锈" from one who types a word at a time): an apology for it shows it was told
    unread_told: bool = False
    # the agent apologised for the buyer's trouble: while hearing the problem, or naming it
    # (script.yaml `sorry_names`), not for a late reply or a slip of its own in the greeting
    sorry_heard: bool = False
    identity_confirmed: bool = False
    product_confirmed: bool = False
    remedy_chosen: str | None = None
    all_declined: bool = False
    review_answer: str | None = None
    # the buyer's yes to the review holds only once the remedy arrives ("收到能用就改"): the steps wait
    # for the follow-up (kept into it: a new round does not clear it)
    review_later: bool = False
    # a relative took the call for the buyer ("我是他老婆 他在开车 你晚点再打"): the buyer as they
    # speak of them ("他"/"她"), so a callback is agreed for the buyer, not "联系您"
    proxy: str | None = None
    cause: Cause | None = None
    # where the primary cause came from: the review the case was opened with, the talk (the
    # first problem the buyer stated), or a correction (the buyer's "不是…是…", an agent's)
    cause_source: Literal["review", "talk", "correction"] | None = None
    # the cause was a reaction to the contact, read before the problem was heard (script.yaml
    # talk_causes): the product's problem told later takes its place
    cause_early: bool = False
    held_from: str | None = None
    # held as suspected extortion: kept when such a case escalates (no money, the chat kept as
    # evidence, the 恶意评价 complaint within 30 days), cleared when a weak hold ends
    suspected: bool = False
    just_resumed: bool = False
    blame: int = 0
    # The guard's memory: the agent's last messages (raw text), read for benefits and review
    # requests split across messages; how many benefits were tied to the review (a checklist
    # item "不附条件" is never ticked once broken); whether the last agent message was
    # blocked (the next suggestions repair it: after_block templates).
    agent_recent: list[str] = Field(default_factory=list)
    ties: int = 0
    repair: bool = False
    supervisor_notified: bool = False  # set only after the escalation channel took the message
    # the flow of issue 16 and the case's causes of issue 13
    causes: list[Cause] = Field(default_factory=list, description="secondary causes, after the primary `cause`")
    callback_at: str | None = Field(default=None, description="the agreed callback time, ISO date-time")
    callback_late: bool = False  # … and it falls in the quiet hours (the buyer's own time: said so)
    evening: bool = False  # the buyer is busy with an evening thing ("在哄娃睡觉"): a bare "九点半" is 21:30
    # the agent's last message came after the callback time was agreed (it answered it): the
    # suggestions wait for the callback instead of saying the time once more
    callback_confirmed: bool = False
    firm: bool = False  # a malicious hold the talk carrying on does not end
    # the buyer once asked money for the review (held as 疑似恶意), kept when the hold ends: no
    # review request in this case, which would look like the deal (script.yaml condition `extorted`)
    extorted: bool = False
    # the one remedy the buyer chose is a gift, no fix (remedies.yaml `gift`): no review request
    # either, which would read as the gift's price (script.yaml event `gift_only`)
    gift_only: bool = False
    refusals: int = 0  # agent replies in the malicious hold that promised nothing
    evidence_kept: bool = False
    complaint_filed: bool = False
    handed_over: bool = False
    safety: bool = False  # the buyer mentioned an injury, a health risk or a danger
    care_asked: bool = False
    # the agent's own question after the person ("您和家里人都没事吧？", cues.asks_care): the stage waits
    # for the answer (no move on that message's apology), nothing is suggested until it comes
    care_waiting: bool = False
    # the buyer's answer to it: "scared" (nobody hurt, but frightened: "人倒是没事 就是吓死了"), "fine"
    # (nobody hurt), else None: relief (and sympathy for the fright) before anything else
    care_answer: str | None = None
    # the buyer asks what about the fright ("我那天吓得半死这个怎么算", cues.fright_asked): owned,
    # apologised for, and what the shop does about it (never tied to the review)
    fright_asked: bool = False
    # the buyer objects to the review request before the remedy is done ("钱还没退呢就惦记评价？？",
    # cues.too_early): sorry for asking too early, back to finishing the remedy
    too_early: bool = False
    damaged: str | None = None  # the buyer's other thing the product damaged
    damage_told: bool = False  # the buyer's last message named that loss ("桌子泡坏了怎么算")
    broken: bool = False  # the goods arrived broken ("碎了一大半"): damage, not a delay
    spoiled: bool = False  # the goods spoiled on the way ("一半都烂了"): the delay and the spoiling
    asks_what: bool = False  # the buyer's last message asked what the contact is about ("怎么了 差评的事？")
    mild: bool = False  # the buyer's last message complained mildly and calmly ("味道有点淡")
    # the buyer never got the goods ("快递显示签收了我没收到"): no option that presumes they have them
    # (remedies.yaml needs_goods)
    not_received: bool = False
    # in a callback stage, the agent asked the buyer when suits ("您看什么时候方便？"): wait for the answer
    time_asked: bool = False
    # the product the talk names ("买的橙子都烂了" → 橙) when the case names none: its measure word
    product_said: str | None = None
    remedy_underway: bool = False
    remedy_received: bool = False  # the buyer said the remedy arrived ("收到了", "钱到了")
    # the agent set off a remedy that fixes nothing until the buyer has the goods (remedies.yaml
    # until_received: the courier chased): not under way, no review request until the buyer has them
    remedy_pending: bool = False
    remedy_asked: bool = False  # the buyer's last message asked what the shop will do, or for a remedy
    # the remedy the buyer last asked for ("我要退货退款"): the suggestions lead with it, and a
    # plain yes to the agent's answer chooses it (remedies.yaml id; cleared with a new round)
    remedy_requested: str | None = None
    remedies_refused: list[str] = Field(default_factory=list)  # options the request turned down
    # the size the buyer's request or choice named ("能换个L码吗" → "L码"; remedies.yaml `size`):
    # said back, not asked again
    size_said: str | None = None
    amount_said: str | None = None  # the sum of a partial refund offered or chosen ("退您30元": "30")
    # the buyer's last message asked outright for a remedy nobody offered (or said yes to such a
    # standing request): nothing chosen, the stage holds (script.yaml condition `unoffered`)
    unoffered: bool = False
    # the options the agent's latest offer gave the buyer to choose between ("换一件新的，或者退货
    # 退款"), in its order; one when it offered one (or several together: "退款…另外补偿您10元")
    options_listed: list[str] = Field(default_factory=list)
    # … and the parts a single offer gave with its option ("退20元，再送您一个枕套": "再送您一个枕套"),
    # in the agent's words: the choice is confirmed with them
    offered_with: list[str] = Field(default_factory=list)
    # the buyer's last message offered the review for the fix the case needs ("你先退款我就改"): read
    # as the request for it, given unconditionally; the suggestion says no deal is made
    deal: bool = False
    self_fixed: bool = False  # the buyer's last message says they fixed it themselves ("自己换了一个")
    own_fault: bool = False  # … owns the misuse ("是我自己扔洗碗机里洗了", "怪我自己 没看说明书")
    # a new contact after a finished talk (resumed from 已结束, e.g. after 未改评): the round follows up
    # on what was agreed (`followup_remedy`, the remedy chosen in the round before), not a first contact
    followup: bool = False
    followup_remedy: str | None = None
    why_asked: bool = False  # … asks why it happened ("为什么会这样？", script.yaml cue asks_why)
    photo_sent: bool = False  # the buyer's last message is only a photo ("[图片]", script.yaml cue photo_sent)
    # the buyer said the platform refunded them already ("我已经找平台申请退款了"): a refund is no
    # longer theirs to ask for ("不用了 钱退了就行" is the news again, not a request)
    refunded: bool = False
    call_asked: bool = False  # … asks the agent to call instead ("你直接打电话吧")
    offended: bool = False  # … takes offence at the agent's words ("你什么意思？我不会洗衣服？")
    # … complains of being contacted again ("你们到底几个客服啊 昨天刚有人问过", cues.contacted_again):
    # the reply first apologises for the repeat contact
    contacted_again: bool = False
    # … is angry at the hour of the call ("大早上的打什么电话", cues.early_call): sorry for it first
    early_call: bool = False
    # … asks for someone higher up ("叫你们店长来", cues.asks_manager): the agent owns the case and
    # offers the supervisor, then the step (template key `manager`)
    manager_asked: bool = False
    # the buyer asked the shop to stop contacting them this round ("以后不要再联系我了", cues.stop_contact):
    # the closing says it will not, no review and no "欢迎常来"; an agreed remedy is still done
    stop_asked: bool = False
    # … asks how much ("退多少钱？": "ask"), wants more ("再多点": "more") or names a sum before the
    # agent did ("留着 退一半吧": "said"), or a sum in yuan over what the agent may agree outright
    # (remedies.yaml `up_to`: "退我200": "over")
    amount: Literal["ask", "more", "said", "over"] | None = None
    sum_named: str | None = None  # the buyer's own sum, as said back ("100元", "一半")
    remedy_changed: bool = False  # the buyer's last message changed the chosen remedy ("算了还是退吧")
    remedy_which: bool = False  # the buyer's plain yes answered several options: asked which one
    remedy_about: str | None = None  # the option the buyer's last message asks about ("退款要几天")
    change_asked: bool = False  # … asking how or whether the review can be changed ("那评价还能改吗")
    shipping_asked: bool = False  # … asking who pays the postage ("运费谁出", "我没买运费险")
    remedy_again: bool = False  # … asking whether it will have the same problem ("换新的会不会还跑绒")
    # the buyer said the review was a slip and has named no problem since ("差评？我点错了吧"):
    # "said" on that message, "fine" on a later one that still names none (cues.misclick), "how"
    # when the buyer asks how to change it (cues.asks_change)
    misclick: Literal["said", "fine", "how"] | None = None
    # the buyer said the review is changed already ("我已经改成好评了"): the one change is used
    review_said_changed: bool = False
    buyer_first: bool = False
    buyer_first_said_who: bool = False  # … and said who they are ("是我，…"): not asked again
    traditional: bool = False  # the buyer writes traditional characters: so do the suggestions
    agent_turns: int = 0
    # what the agent's last message changed (field: its value before; "stage": [before, after]):
    # a message sent to the wrong chat and taken back (cues.retracts) is undone with it
    undo: dict[str, Any] = Field(default_factory=dict)
    last_role: str | None = None
    last_acts: list[str] = Field(default_factory=list)
    rounds: int = 1  # a closed case reopened by the buyer starts a new round
    stage_before: str | None = None  # the stage before the last buyer message (corrections)
    maybe: str | None = None  # a big jump the last buyer message may mean (too weak to move)
    greeted: bool = False  # the last buyer message was a bare greeting ("在吗")
    order_named: bool = False  # the last buyer message named their order ("我买的保温杯什么时候到")
    thanked: bool = False  # the last buyer message thanked ("好的谢谢"): "不用谢" fits it, not "没事"
    farewell: bool = False  # the last buyer message said goodbye (script.yaml `farewell`)
    new_problem: bool = False  # the last buyer message raised another problem than the case's
    # the cause the last buyer message named (None when it named none): a question that names the
    # problem ("那怎么会发错呢？") tells it, one about the talk (script.yaml talk_causes) does not
    told: Cause | None = None


def attempts_made(turn: int, attempts: int) -> int:
    """The contact attempts a case has had, from its one count (``Context.attempts``): all of
    them once the conversation has begun; before its first message, the attempt under way has
    not happened yet (an imported case nobody has called: 0)."""
    return attempts if turn > 0 else max(attempts - 1, 0)


class Conversation(Base):
    """A conversation as plain data: everything the engine needs between turns."""

    id: str = ""
    case: Case
    stage: str  # a stage id of the script (its initial one when new): no default names one
    context: Context = Field(default_factory=Context)
    turn: int = 0
    tone: Tone = "正式"
    outcome: Outcome | None = None
    script_version: str = ""
    last_templates: list[str] = Field(default_factory=list)
    last_intent: Intent | None = None

    def attempts_made(self) -> int:
        """The contact attempts this case has had (see ``attempts_made``)."""
        return attempts_made(self.turn, self.context.attempts)


class StageRef(Base):
    id: str
    label: str


class Progress(Base):
    step: int
    of: int
    stages: list[StageRef]


class SuggestedReply(Base):
    text: str
    template: str
    tone: Tone


class RemedyOption(Base):
    id: str
    label: str
    text: str


class ChecklistItem(Base):
    item: str
    done: bool


class Suggestion(Base):
    """What csbot answers after each turn (design.md)."""

    conversation_id: str
    turn: int
    stage: StageRef
    progress: Progress
    understanding: BuyerUnderstanding | AgentUnderstanding | None
    suggestions: list[SuggestedReply]
    remedies: list[RemedyOption]
    warnings: list[Finding]
    checklist: list[ChecklistItem]
    public_reply: str | None = None
    # the case's cause so far (the buyer's first problem, or the review's): a card shows it
    # beside a message that names none ("嗯", "好的")
    case_cause: Cause | None = None


def warm() -> None:
    """Build every model's validator and serializer now (they are built on first use):
    the engine's load does, so no turn of a service pays for it."""
    pending = [Base]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        cls.model_rebuild()

