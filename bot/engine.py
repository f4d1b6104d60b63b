"""The Python API: start a conversation from case fields, feed messages, get Suggestions.

Pure and synchronous: no I/O after loading, no clock (pass ``at`` to judge times), and no
state kept per conversation. The service and the simulator wrap it.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from itertools import compress
from operator import ne
from pathlib import Path
from typing import Any, TypeVar, get_origin

from bot.compose.remedies import RemedyBook
from bot.compose.replies import Composer, spoken_callback
from bot.compose.templates import TemplateLibrary
from bot.dataload import DataError, DataProblems, load_yaml, parse_yaml, read_yaml
from bot.guard.policy import Policy
from bot.labels import Labels
from bot.labels import problems as label_problems
from bot.labels import words as labels_of
from bot.models import (
    EMOTIONS,
    AgentUnderstanding,
    BuyerUnderstanding,
    Case,
    Cause,
    ChecklistItem,
    Context,
    Conversation,
    Finding,
    IntentScore,
    NoteAction,
    Outcome,
    Progress,
    Role,
    StageRef,
    Suggestion,
    Tone,
)
from bot.models import warm as warm_models
from bot.paths import dialogs_dir, templates_dir
from bot.quiet import QuietHours
from bot.script.buyer_reading import COMPLAINTS, REQUESTS, BuyerReading
from bot.script.choices import CLAUSE, Choices
from bot.script.flow import FLOW_KEYS, Products, callback_time
from bot.script.machine import Script, inherit_roles, review_changeable
from bot.understand.normalize import written_simplified
from bot.understand.pipeline import Understander

_LEXICONS = ("lexicon/buyer.yaml", "lexicon/agent.yaml", "guard.yaml")
# The acts an agent message counts: (act, the Context counter it adds one to).
_COUNTED = (("apologize", "apologies"), ("empathize", "empathies"), ("explain", "explanations"),
            ("offer_remedy", "remedies_offered"), ("request_review", "review_requests"),
            ("thank", "thanks"), ("close", "closings"), ("blame_buyer", "blame"))
# act -> the Context counter it raises when the flow takes it (read by the trainer)
COUNTERS: dict[str, str] = dict(_COUNTED)
# a space between two Chinese characters, which buyers type for a comma ("好 那就补发吧 …"), or
# after a clause's closing particle before a number ("不用换了 20就行"; not "退 20")
_SPACED = re.compile(r"(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])|(?<=[了吧呢啊呀哦])\s+(?=\d)")


class ConversationClosed(ValueError):
    """Kept for callers that still catch it: since issue 16 the engine answers every
    message, also after the end (a goodbye keeps the case closed, a new problem reopens it)."""


class NotSuspected(ValueError):
    """A complaint of a malicious review was reported for a case that is not one."""


class Engine:
    """Understanding, script, composition and guard, loaded once from the data folders."""

    def __init__(self, dialogs: Path, templates: Path, quiet: QuietHours | None = None) -> None:
        self.dialogs = dialogs
        self.templates_root = templates
        self.understand = Understander(dialogs)
        self.understand.load_all()
        warm_models()
        # The flow reads cues in the normalised text the understanding has just made: the
        # last one is kept rather than made twice (normalising is a good part of a turn).
        setattr(self.understand, "normalize", _LastOne(self.understand.normalize))  # noqa: B010
        raw = (dialogs / "script.yaml").read_bytes()
        spec = parse_yaml(dialogs, "script.yaml", raw)  # checked against its model
        if not isinstance(spec, dict):
            raise DataError(f"数据文件格式错误：{dialogs / 'script.yaml'}")
        if dialogs.resolve() != dialogs_dir(None).resolve():  # an older script.yaml: the flow's
            base = read_yaml((dialogs_dir(None) / "script.yaml").read_bytes())  # defaults
            spec = inherit_roles({**{k: v for k, v in base.items() if k in FLOW_KEYS}, **spec}, base)
        self.script = Script(spec, raw + _tree_digest(templates))
        self._roles()
        remedies = load_yaml(dialogs, "remedies.yaml")
        self.remedies = RemedyBook(remedies)
        self.policy = Policy(load_yaml(dialogs, "policy.yaml"), self.script, quiet or QuietHours())
        self.templates = TemplateLibrary(templates)
        # The label sets and their Chinese names, one object for every reader (bot/labels.py);
        # a label the data uses but does not name stops the load here, not at the first message.
        words = labels_of(dialogs)
        self.labels = Labels.of(words, {sid: s.label for sid, s in self.script.stages.items()},
                                {rid: r.label for rid, r in self.remedies.remedies.items()})
        self.understand.labels = self.labels
        found = label_problems(dialogs, {**{n: self.understand.spec(n) for n in _LEXICONS},
                                         "script.yaml": spec, "remedies.yaml": remedies},
                               self.labels, templates)
        if found:
            raise DataProblems(found)
        self.defaults: dict[str, str] = dict(self.labels.defaults)
        bundled = dialogs_dir(None)
        base = load_yaml(bundled, "defaults.yaml") if dialogs.resolve() != bundled.resolve() else {}
        # the words the suggestions build from case fields (defaults.yaml `phrases`)
        self.phrases: dict[str, str] = {**base.get("phrases", {}),
                                        **(load_yaml(dialogs, "defaults.yaml").get("phrases") or {})}
        self.products = Products(load_yaml(
            dialogs if (dialogs / "products.yaml").is_file() else bundled, "products.yaml"))
        self.flow = self.script.flow
        # what a buyer's message means for the flow, and which options it picks
        self.reading = BuyerReading(self.script, self.flow, self.understand, self.remedies)
        self.choices = Choices(self.flow, self.remedies, self.understand)
        # A buyer's message may be asked up to three times whether it chooses an option outright.
        setattr(self.choices, "outright", _LastOne(self.choices.outright))  # noqa: B010
        self.compose = Composer(self.script, self.templates, self.remedies, self.products, self.labels,
                                self.defaults, self.phrases, self.choices, self.understand)
        # the short reason per cause for a "why" at the options (defaults.yaml `cause_why`)
        self.compose.why = {**base.get("cause_why", {}),
                            **(load_yaml(dialogs, "defaults.yaml").get("cause_why") or {})}
        # (the same dicts: tests clear them to measure a cold turn)
        self._guard_cache = self.compose._guard_cache
        self._replies_cache = self.compose._replies_cache
        self._progress_of: dict[str, Progress] = {}
        self._stage_refs: dict[str, StageRef] = {}
        self._items: dict[tuple[str, bool], ChecklistItem] = {}

    def _roles(self) -> None:
        """The stages of each role the turn reads (script.yaml `roles`; never stage ids)."""
        self.roles = self.script.roles
        self._after_remedy = self.roles.asks | self.roles.closes  # where choosing a remedy leads
        # the events a choice drops (script.yaml events.outranks: "不用换了，直接退款吧" chooses)
        self._pick_outranks = frozenset(d for e in self.script.pick_events for d in self.script.outranks.get(e, ()))
        # where a held case without a stage of its own to return to goes back to
        self._hears = self.script.stage_with("hears_problem") or self.script.initial

    @classmethod
    def load(cls, dialogs: str | Path | None = None, templates: str | Path | None = None,
             quiet: QuietHours | None = None) -> Engine:
        """The engine over the shop's data folders, or the bundled ones; ``quiet``: the shop's
        quiet hours and time zone (its settings; default 21:00-08:00 in Asia/Shanghai)."""
        return cls(dialogs_dir(dialogs), templates_dir(templates), quiet)

    # -- conversations -------------------------------------------------------------------

    def start(
        self, case: Case | dict[str, Any] | None = None, *, conversation_id: str = "",
        tone: Tone = "正式",
    ) -> tuple[Conversation, Suggestion]:
        """A new conversation and the Suggestion of what to say first."""
        if case is None:
            case = Case(shop=self.defaults["shop"], buyer_name=self.defaults["buyer_name"])
        elif not isinstance(case, Case):
            case = Case.model_validate(case)
        conv = Conversation(id=conversation_id, case=case, tone=tone,
                            stage=self.script.initial, script_version=self.script.version)
        self.seed_cause(conv, self.review_cause(case.review_text)[1], self.review_cause(case.review_followup)[1])
        return self._answer(conv, None, [], None)

    def review_cause(self, text: str | None) -> tuple[BuyerUnderstanding | None, Cause | None]:
        """A review read as the buyer's first statement: its understanding (None for an empty
        review) and the cause it states surely enough to be the case's (``review_cause`` of
        script.yaml, on the calibrated probability; a cause only the rules read, whose cues
        name one outright, counts as sure)."""
        if not text or not text.strip():
            return None, None
        u, scores = self.understand.buyer_scored(text)
        p = scores["cause"]
        sure = u.cause is not None and (p is None or p >= self.flow.review_cause)
        return u, u.cause if sure else None

    @staticmethod
    def seed_cause(conv: Conversation, cause: Cause | None, later: Cause | None = None) -> None:
        """The review's cause is the case's primary cause, as if the buyer had said it first:
        a different cause stated in the talk is kept as secondary unless the buyer corrects
        it ("不是…是…"). It does not count as the problem stated in the talk: the agent still
        listens and apologises first. ``later``: the cause of the buyer's follow-up review
        (追评), often where the real complaint is: the primary one when the review names
        none, else a secondary one."""
        ctx = conv.context
        if ctx.cause is not None or conv.turn != 0:
            return
        first = cause or later
        if first is not None:
            ctx.cause, ctx.cause_source = first, "review"
        if later is not None and later != first and later not in ctx.causes:
            ctx.causes.append(later)

    def feed(
        self, conv: Conversation, role: Role, text: str, *, at: datetime | None = None,
        owned: bool = False,
    ) -> tuple[Conversation, Suggestion]:
        """Apply one message; returns the new conversation. The input is not changed,
        unless ``owned`` (the caller made it for this call alone and may lose it)."""
        if not owned:
            conv = _copy(conv)
        conv.turn += 1
        _contact_paired(conv)
        if role == "buyer":
            bu = self._apply_buyer(conv, self.understand.buyer(text), text, at)
            return self._answer(conv, bu, [], at)
        norm = self.understand.normalize(text).text
        taken_back = self.flow.cue("retracts", norm) if conv.context.undo else None
        if taken_back is not None:
            self._undo(conv)  # the last message went to the wrong chat: the talk is as before it
        au, alone = self.understand.agent_read(text, conv.context.agent_recent, conv.stage)
        warnings = au.findings + self.policy.agent_turn(
            conv, list(au.acts), au.findings, review_changeable(conv, at), at)
        if taken_back is not None and set(self.understand.agent(
                norm[:taken_back.start()] + norm[taken_back.end():]).acts) <= {"apologize"}:
            # it says nothing else ("不好意思发错窗口了"): the next step is the one before the slip
            conv.context.agent_turns += 1
            return self._answer(conv, au, warnings, at)
        before = _undoable(conv)
        held = conv.stage in self.script.holding
        # "那我明天上午10点再联系您，您先忙" agrees a callback time: not a goodbye to record
        proposes_time = conv.stage in self.roles.callback and \
            self.policy.callback_time.search(self.understand.normalize(text).text) is not None
        evidence = self.flow.act_evidence
        unsure = frozenset(a for a, q in alone.items() if q < evidence.get(a, 0.0))
        self._apply_agent(conv, au, text, at, unsure)
        conv.context.undo = _changed(before, conv)
        if held and "close" in au.acts and conv.stage in self.script.holding and not proposes_time:
            warnings.append(self._note("record_outcome",
                                       stage=self.script.stages[conv.stage].label))
        return self._answer(conv, au, warnings, at)

    def _undo(self, conv: Conversation) -> None:
        """The conversation as before the agent's last message (``Context.undo``); the stage
        goes back unless a buyer message moved it since."""
        ctx = conv.context
        undo = dict(ctx.undo)
        stage = undo.pop("stage", None)
        if stage is not None and conv.stage == stage[1]:
            conv.stage = stage[0]
        conv.context = Context.model_validate({**ctx.model_dump(), **undo, "undo": {}})

    def feed_understood(
        self, conv: Conversation, u: BuyerUnderstanding, *, at: datetime | None = None,
    ) -> tuple[Conversation, Suggestion]:
        """A buyer message already read (``u``, e.g. by a channel's own model, or a stored
        turn replayed): what ``feed`` does once it has read it. The flow's contract on
        confidence (big jumps, weak holds) is tested through it, apart from any model."""
        conv = _copy(conv)
        conv.turn += 1
        _contact_paired(conv)
        u = self._apply_buyer(conv, u, u.text, at)
        return self._answer(conv, u, [], at)

    def resume(self, conv: Conversation, at: datetime | None = None) -> tuple[Conversation, Suggestion]:
        """A person resumes a held case (a callback is a new contact attempt)."""
        conv = _copy(conv)
        was = conv.stage
        attempt = was == self.script.final or was in self.roles.callback
        if attempt and conv.attempts_made() >= self.script.max_attempts:
            raise ValueError(self.policy.notes["too_many_attempts"][1])
        if not self.script.fire(conv, "resume"):
            raise ValueError(f"当前阶段（{self.script.stages[was].label}）不能恢复")
        if attempt and conv.context.attempt_unpaired == "log":
            conv.context.attempt_unpaired = None  # the call the queue logged: the same contact
        elif attempt:
            conv.context.attempts += 1
            conv.context.attempt_unpaired = "resume"
        if was == self.script.final:
            agreed = conv.context.remedy_chosen
            self._new_round(conv)
            # a follow-up on what was agreed, not a first contact: no "还记得吗", no review again
            conv.context.followup, conv.context.followup_remedy = True, agreed
        conv.context.just_resumed = was in self.roles.callback
        conv.context.proxy = None  # a new contact: whoever answers it says who they are
        return self._answer(conv, None, [], at)

    def close(self, conv: Conversation, outcome: Outcome) -> Conversation:
        """A person closes the case with an outcome (any stage, also one the script closed)."""
        conv = _copy(conv)
        self.script.fire(conv, "close_case")
        conv.outcome = outcome
        conv.context.attempt_unpaired = None  # the next contact is a new one
        if outcome == "malicious":
            conv.context.evidence_kept = True  # the turns are stored with the case
        return conv

    def escalate(self, conv: Conversation) -> tuple[Conversation, Suggestion]:
        """A supervisor was notified and joins: the case holds in the escalated stage (not a turn)."""
        conv = _copy(conv)
        before = conv.stage
        if self.script.fire(conv, "escalate") and before not in self.script.holding:
            conv.context.held_from = before
        conv.context.supervisor_notified = True
        return self._answer(conv, None, [], None)

    def complaint_filed(self, conv: Conversation) -> tuple[Conversation, Suggestion]:
        """The agent filed the 恶意评价 complaint with the platform (not a turn): ticks the
        suspected-extortion checklist. Only for a case held as suspected extortion (a stage
        with the role) or closed as malicious (the 30 days run on after the close)."""
        if not (self.script.has_role(conv.stage, "suspects_extortion") or conv.outcome == "malicious"
                or self._held_suspect(conv)):
            raise NotSuspected("只有疑似恶意的案件才需要向平台投诉恶意评价")
        conv = _copy(conv)
        conv.context.complaint_filed = True
        return self._answer(conv, None, [], None)

    def current(self, conv: Conversation, at: datetime | None = None) -> Suggestion:
        """The Suggestion for the conversation as it stands (after a change that is not a
        turn); ``at``: now, for what is said relative to it (an agreed callback time)."""
        return self._answer(_copy(conv), None, [], at)[1]
    def correct(
        self, conv: Conversation, *, intent: str | None = None, cause: str | None = None,
        stage: str | None = None, text: str = "", at: datetime | None = None,
        emotion: str = "calm",
    ) -> tuple[Conversation, Suggestion]:
        """An agent corrects the last buyer message's intent, the case's cause or the stage;
        the conversation continues from the corrected state. Names may be ids or the
        Chinese labels of dialogs/defaults.yaml; an unknown one raises ValueError."""
        conv = _copy(conv)
        ctx = conv.context
        u: BuyerUnderstanding | None = None
        if cause is not None:
            code = self.label_code("cause", cause)
            if code != ctx.cause:
                ctx.cause_source = "correction"
            ctx.cause = code
            ctx.causes = [c for c in ctx.causes if c != code]
            ctx.problem_stated = True
        if intent is not None:
            code = self.label_code("intent", intent)
            if ctx.last_role != "buyer" or ctx.stage_before is None:
                raise ValueError("还没有买家的消息可以更正意图")
            conv.stage = ctx.stage_before
            # a person named the one intent: `intents` lists it, as every output's does
            u = BuyerUnderstanding(text=text, intent=code, cause=ctx.cause,
                                   # the emotion as read before (a correction names no new one)
                                   emotion=emotion if emotion in EMOTIONS else "calm",  # type: ignore[arg-type]
                                   confidence=1.0, intents=[IntentScore(intent=code, confidence=1.0)])
            self._apply_buyer(conv, u, text, at, corrected=True)
        if stage is not None:
            code = self.label_code("stage", stage)
            was = conv.stage
            conv.stage = code
            if code in self.script.holding and was not in self.script.holding:
                ctx.held_from = was if was in self.script.active else self._hears
            if code in self.roles.suspect:
                ctx.firm = ctx.suspected = True  # a person confirmed it
            if code in self.roles.callback:
                ctx.offers_time = ctx.callback_at is not None
            main = self.script.main_path
            if code in main and self._hears in main and main.index(code) > main.index(self._hears):
                ctx.problem_stated = True
            ctx.maybe = None
        return self._answer(conv, u, [], at)

    def label_code(self, kind: str, name: str) -> str:
        """The code of an intent, cause, stage or outcome given as its code or its Chinese name."""
        return self.labels.code(kind, name)

    # -- applying a turn ---------------------------------------------------------------

    def _fire_all(self, conv: Conversation, events: list[str], at: datetime | None,
                  moves: list[str] | None = None) -> list[str]:
        """Fire the events in order; the stages passed through (``moves``: the event of each step)."""
        path = [conv.stage]
        for ev in events:
            if self.script.fire(conv, ev, at):
                path.append(conv.stage)
                if moves is not None:
                    moves.append(ev)
        return path

    def _agree_time(self, ctx: Context, when: datetime) -> None:
        """The callback time agreed, and whether it falls in the shop's quiet hours (bot/quiet.py): the
        buyer's own time may be kept, said so (the `agreed-late` replies and the note)."""
        ctx.callback_at, ctx.offers_time = when.isoformat(timespec="minutes"), True
        ctx.callback_late = self.policy.hours.quiet(when)

    def _note_product(self, conv: Conversation, norm: str, damaged: str | None = None) -> None:
        """A case with no product name takes the first product the talk names, for its measure
        word ("换一箱新的" for the oranges, not "换一件"); the names and the buyer's damaged thing
        are not it."""
        case = conv.case
        if norm and not case.product and conv.context.product_said is None:
            # (not the shop's name, nor its short form: "柚子家女装的售后", "在柚子家买的" name no fruit)
            shop = [case.shop[:n] for n in range(len(case.shop), 1, -1)]
            conv.context.product_said = self.products.said(norm, (*shop, case.buyer_name, damaged))

    def _held_suspect(self, conv: Conversation) -> bool:
        """A suspected extortion that moved on to another held stage (the extortioner turned to
        the platform: escalated) is still one: no money, the chat kept, the complaint filed."""
        return conv.context.suspected and conv.stage in self.script.holding

    def _apply_buyer(
        self, conv: Conversation, u: BuyerUnderstanding, text: str, at: datetime | None,
        corrected: bool = False,
    ) -> BuyerUnderstanding:
        """A buyer's message on the conversation: its reading corrected for the moment
        (bot/script/buyer_reading.py; not one a person corrected), what it tells the context,
        the events it fires, and the option it picks (bot/script/choices.py). Returns the reading
        the flow went by, which is the one shown ("平台已经退款了" is news, not 想退款)."""
        ctx, flow = conv.context, self.flow
        # the flow reads a space typed for a comma as one ("换新的吧 新的会不会还掉毛"): its cues work by clause
        said = self.understand.normalize(_SPACED.sub("，", text)) if text else None
        norm = said.text if said else ""
        clauses = CLAUSE.findall(norm)  # the clauses as typed (a space for a comma is one)
        before = conv.stage
        if norm and not corrected:
            u = self.reading.correct(u, ctx, before, text, norm, clauses)
            if u.text != text:  # (a part read on its own: the message shown is the whole one)
                u = u.model_copy(update={"text": text})
        else:
            ctx.deal = ctx.self_fixed = False
        ctx.remedy_changed = False
        # a face right after a bare photo ("[图片]" then "😭😭") points at it, as "你自己看" does
        pointed = ctx.photo_sent and ctx.last_role == "buyer" and bool(norm) \
            and flow.cue("photo_face", norm) is not None
        ctx.photo_sent = bool(text) and flow.cue("photo_sent", text) is not None
        ctx.why_asked = bool(norm) and flow.cue("asks_why", norm) is not None
        ctx.call_asked = bool(norm) and flow.cue("asks_call", norm) is not None
        ctx.offended = bool(norm) and flow.cue("offended", norm) is not None
        ctx.contacted_again = bool(norm) and flow.cue("contacted_again", norm) is not None
        ctx.early_call = bool(norm) and flow.cue("early_call", norm) is not None
        ctx.manager_asked = bool(norm) and flow.cue("asks_manager", norm) is not None
        ctx.amount = ("more" if flow.cue("haggles", norm) else "ask" if flow.cue("asks_amount", norm)
                      else None) if norm else None
        ctx.stage_before = before
        ctx.maybe = None
        ctx.last_role = "buyer"
        ctx.last_acts = []
        ctx.just_resumed = False  # the buyer spoke first after a resume: answer them, not greet again
        intent = u.intent
        ctx.greeted = bool(norm) and flow.cue("greeting", norm) is not None
        ctx.thanked = bool(norm) and flow.cue("thanks", norm) is not None
        product = (conv.case.product or "").lower()
        ctx.order_named = bool(norm) and (flow.cue("names_order", norm) is not None
                                          or (bool(product) and self.understand.normalize(product).text in norm))
        proxy = flow.cue("proxy", norm) if norm else None
        if proxy is not None:  # "我是他老婆 他在开车": a relative took the call; the buyer is "他"
            them = flow.cue("pronoun", proxy.group())  # ("他": said so; none said: by name, below)
            ctx.proxy = them.group() if them is not None else ctx.proxy or ""
        if norm and flow.cue("hands_over", norm):  # "你等下 他停好车了": the buyer speaks next
            ctx.proxy = None
        if said and said.traditional:  # a buyer who writes 繁體 is answered in it
            ctx.traditional = True
        elif said and ctx.traditional and written_simplified(said.source):  # back to 简体: so are we
            ctx.traditional = False
        # the answer to the agent's question after the person ("人倒是没事 就是吓死了"): relief first,
        # and sympathy for the fright; its "没受伤" is no new danger told
        waited, ctx.care_waiting = ctx.care_waiting, False
        unhurt = bool(norm) and (waited or ctx.care_asked) and flow.cue("unhurt", norm) is not None
        ctx.care_answer = ("scared" if flow.cue("scared", norm) else "fine") if unhurt else None
        if norm and flow.cue("safety", norm) and not unhurt:
            ctx.safety, ctx.care_asked = True, False
        ctx.fright_asked = bool(norm) and ctx.safety and flow.cue("fright_asked", norm) is not None
        ctx.too_early = bool(norm) and flow.cue("too_early", norm) is not None
        thing = flow.damaged(norm) if norm else None
        product = conv.case.product or ctx.product_said or ""
        if thing and product and (thing in product or product in thing):
            thing = None  # the product itself ("充电宝泡坏了"), not another thing of the buyer's
        ctx.damage_told = thing is not None  # answered first: the other loss is made good too
        if thing is not None:  # "" when the message does not name the thing
            ctx.damaged = thing or self.phrases["damaged_thing"]
        ctx.time_asked = False  # the buyer answered (or not): the suggestion is theirs again
        if norm and ctx.remedy_chosen is None and flow.cue("not_received", norm):
            # "快递显示签收了我没收到": nothing to keep or send back (remedies.yaml needs_goods); not
            # the chosen remedy's news ("补发的还没收到")
            ctx.not_received = True
        elif norm and ctx.not_received and flow.cue("goods_found", norm):
            # "找到了，在驿站放着呢": the buyer has the goods after all, keeping them is an option again
            ctx.not_received = False
        if norm and flow.cue("broken", flow.cues["packaging_damaged"].sub("", norm)):
            ctx.broken = True  # arrived broken ("碎了一大半"): the apology is for damage, not a delay
        fine = flow.cue("goods_fine", norm) if norm else None
        if fine is not None and (fine.group(1) is None or (bool(product) and (
                fine.group(1) in product or product[-2:] in fine.group(1)))):
            ctx.broken = False  # "枕头倒是没事": the damage told was the box's, the goods are fine
        if norm and flow.cue("spoiled", norm):
            ctx.spoiled = True  # spoiled on a slow road ("等了8天，一半都烂了"): owned with the delay
        # "味道有点淡", said calmly: a mild apology answers it (per message: the next one may be angrier)
        ctx.asks_what = bool(norm and flow.cue("asks_what", norm))  # "是我 怎么了 差评的事？"
        ctx.mild = bool(norm and u.emotion == "calm" and flow.cue("mild", norm))
        # "在哄娃睡觉 晚点说": a bare "九点半" agreed after it is the evening (kept while a time is agreed)
        ctx.evening = bool(norm and flow.cue("evening", norm)) or (ctx.evening and before in self.roles.callback)
        self._note_product(conv, norm, thing)
        # another problem than the case's: another cause, or said as another one ("还有个事")
        ctx.new_problem = (u.cause is not None and ctx.cause is not None and u.cause != ctx.cause
                           and u.cause not in ctx.causes) or bool(norm and flow.cue("another", norm))
        ctx.told = u.cause
        had_cause = ctx.cause
        self.reading.note_cause(ctx, u.cause, norm)
        # the primary intent and every other one read surely enough
        meant = [intent, *(i.intent for i in u.intents if i.confidence >= flow.weak_primary)]
        asks = [i for i in meant if i in REQUESTS]
        complaint = u.cause is not None or any(i in COMPLAINTS for i in meant)
        vague = self.reading.vague(u, complaint, asks, norm)  # a mood: no problem stated
        # A message with a goodbye in it is a goodbye, whatever else it says
        # ("就这样吧，反正也挺失望的"): it opens no new round (script.yaml `farewell`).
        ctx.farewell = any(i in flow.farewell for i in meant)
        # the review was a slip and no problem is named ("差评？我点错了吧"): confirmed, and asked
        # whether anything was wrong; a later message that still names none says nothing was
        if (complaint and not vague) or ctx.problem_stated:  # (a problem told before: heard as ever)
            ctx.misclick = None
        elif norm and (ctx.misclick or flow.cue("misclick", norm)) and flow.cue("asks_change", norm):
            ctx.misclick = "how"  # asked how to change it: told (no request when asked)
        elif norm and flow.cue("misclick", norm):
            ctx.misclick = "said"
        elif ctx.misclick:
            ctx.misclick = "fine"
        # asked how or whether the review can be changed ("那评价还能改吗 我给了中评"): told when asked
        ctx.change_asked = not ctx.misclick and bool(norm) and flow.cue("asks_change", norm) is not None
        # the buyer asks what the shop will do ("那你們打算怎麼處理？") or for a remedy: the stage
        # still waits for the agent's message, whose suggestion gives the options (remedy_asked)
        ctx.remedy_asked = bool(asks) or (bool(norm) and flow.cue("asks_remedy", norm) is not None)
        wants = asks
        if not wants and ctx.remedy_chosen and before in self._after_remedy and norm and self.choices.outright(norm) \
                and not flow.cue("agrees_if", norm):
            # a change of mind read as a complaint ("等下 算了还是退吧 怕新的也开胶"): the option it
            # names outright is asked for, as a request would ask (the change below then takes it);
            # not the fix in a yes to the review that waits for it ("等卡扣到了换上能用了我再改")
            wants = ["other"]
        # a sum of the buyer's own while the agent named none ("留着 退一半吧" to "退部分差价"): a
        # proposal, which asks for no option yet and chooses none (below). Before any offer ("退20块
        # 钱吧" once the cause is explained) it asks for the option with its sum, said back as a
        # request is ("退您20元没问题"); the agent's offer of it and the buyer's yes choose it
        sum_said = before in self.roles.offers and bool(norm) and self.choices.proposes(ctx, norm)
        early_sum = sum_said and not ctx.remedies_offered
        proposed = sum_said and not early_sum
        ctx.sum_named = u.amount if sum_said else None
        if proposed and u.amount and u.amount.endswith("元"):
            # a sum in yuan ("退我100块") within what the agent may agree outright (remedies.yaml
            # `up_to`) is the buyer's choice of the option that takes it, said back; over it, no
            # choice: the most the agent can do is said (amount-over)
            taker = self.remedies.sum_taker(ctx)
            if taker is not None and taker.up_to is not None:
                if float(u.amount[:-1]) <= taker.up_to:
                    sum_said = proposed = False
                else:
                    ctx.amount = "over"
        requested = None if proposed else self.choices.requested(ctx, wants, norm)
        if requested is not None and not self.choices.offered(ctx, requested, conv.case.product):
            # "先退款吧" on a quality case: its 退货退款 (remedies.yaml `instead`)
            requested = self.remedies.fit(requested, ctx.cause, norm, ctx.not_received)
        ctx.remedy_about = self.choices.asked_about(ctx, norm) if norm and requested is None else None
        if ctx.remedy_about is None and ctx.remedy_chosen and before in self.roles.asks and norm \
                and u.cause is None and flow.cue("question", norm) and (
                    ctx.remedy_chosen in self.remedies.found(norm)
                    or (self.remedies.named(norm) is None and flow.cue("asks_about", norm))):
            # once chosen, a question that names it ("补发的要寄回去吗") or no option ("要几天能到？")
            ctx.remedy_about = ctx.remedy_chosen
        # asking whether the new one will have the same problem: answered by what the shop does
        # so it won't (remedies.yaml `again`), not by how the option goes
        about = self.remedies.remedies.get(ctx.remedy_about or "")
        ctx.remedy_again = bool(about and about.again and flow.cue("asks_again", norm))
        down = self.remedies.turned_down(norm, flow.cues["turned_down"]) if norm else []
        if requested is not None:
            ctx.remedy_requested = requested
            ctx.remedies_refused = [r for r in dict.fromkeys(ctx.remedies_refused + down)
                                    if r != requested]  # not offered again as the alternative
        elif down:  # "退就不用了 都喝了一半了": an option refused is not offered again (replies `options`)
            ctx.remedies_refused = list(dict.fromkeys(ctx.remedies_refused + down))
        # the chosen remedy arrived ("收到了", "钱到了"): it is done, not a new problem ("到了看看没问题就改"
        # is a condition, cues.agrees_if)
        # (a chased parcel's arrival is news of the parcel: "收到了，快递刚送到", read as logistics)
        chosen = self.remedies.remedies.get(ctx.remedy_chosen or "")
        arrived = ctx.remedy_pending and chosen is not None and chosen.until_received \
            and u.cause == ctx.cause and not flow.cue("broken", norm)
        received = bool(norm) and ctx.remedy_chosen is not None and (u.cause is None or arrived) \
            and flow.cue("received", norm) is not None and not flow.cue("agrees_if", norm)
        if received:
            ctx.remedy_underway = ctx.remedy_received = True
        free_now = bool(norm) and flow.cue("free_now", norm) is not None
        intent = self.reading.primary(intent, u, ctx, before, meant, norm, free_now)
        # "以后不要再联系我了": the closing says we will not (key `stop`); so it does after a fix
        # picked in the same breath ("退钱 以后别再给我打电话了", read as the refund alone)
        stop_too = intent in REQUESTS and before in self.script.active
        if norm and (intent == "end" or stop_too) and flow.cue("stop_contact", norm):
            ctx.stop_asked = True
        elif before == self.script.final:
            ctx.stop_asked = False  # once closed, the answer is to this message ("谢谢" after it: 不用谢)
        # the primary intent's events and the other intents' around them (issue 13.3)
        events = list(self.reading.events(u) if intent == u.intent else self.script.buyer_events[intent])
        gate = flow.evidence.get(intent)
        # the other intents read surely: they still move the stage when the primary cannot
        sure = [] if corrected else [i.intent for i in u.intents
                                     if i.intent != u.intent and i.confidence >= flow.weak_primary]
        # the big jumps are the intents with an evidence threshold in script.yaml
        # a big jump whose cue the text lacks is held as well ("那你们等着吧" names no platform)
        # and so is a weak one whose cue it lacks ("你们是不是想让我改差评": extort at 0.64, no benefit)
        uncued = flow.uncued(intent, u.confidence, norm) and not corrected
        if not corrected and gate is not None and (u.confidence < gate or uncued) \
                and self.script.leaves(before, intent):
            ctx.maybe = intent  # too weak to move: the stage holds, a note says how to confirm
            events = self.reading.sure_events(sure, complaint)
        elif sure and u.confidence < flow.weak_primary and any(
                self.script.leaves(before, e) for e in self.reading.sure_events(
                    sure, u.cause is not None or any(i in COMPLAINTS for i in sure))):
            # A weak primary beside a sure reading ("是我。…称呼可别弄错" read complain at 0.33
            # after a sure "是我"): the sure readings move the stage, the weak one only says
            # "可能…" where it would have moved it. When the sure readings lead nowhere from
            # here ("退40吧，除毛球器也要": want_refund 0.41 beside a sure complaint, while the
            # options are on the table), the primary is still the best reading that does.
            complaint = u.cause is not None or any(i in COMPLAINTS for i in sure)
            events = self.reading.sure_events(sure, complaint)
            ctx.maybe = next((e for e in self.script.buyer_events[intent] if e not in events
                              and e in flow.maybe and self.script.leaves(before, e)), None)
        events = self.reading.settle(events, vague)
        if norm:  # cues with events of their own ("我点错了吧": the buyer knows the order), before
            # the intents' and after them ("是的，那个花瓶我收到了": who first, then the order recalled)
            events = [e for cue, evs in self.script.cue_events.items()
                      if flow.cue(cue, norm) or (pointed and cue == "photo") for e in evs] + events
            if not ctx.followup:  # (to a follow-up, "收到了，这次挺好的" is about the fix, not the order)
                # each event once, however many of its cues match ("是的，那个花瓶我收到了" has both)
                events += dict.fromkeys(e for cue, evs in self.script.cue_events_after.items()
                                        if flow.cue(cue, norm) for e in evs)
        # "那还是退15吧" read as a complaint still chooses; read as a question, only beside
        # another clause ("好，那就补发吧，菊花茶要寄回去吗"): "退货要寄到哪" alone asks, though a
        # weak question reading of a plain request by the option's cue ("那你们先帮我催一下吧", ask
        # at 0.21, no question cue) chooses: the cue, not one model reading, decides. The case's
        # own cause said again is no new problem ("寄扣子吧，我楼下就有裁缝" read as quality), nor is
        # a message that ends on its choice ("重做还要等半个月，算了，退三成吧" read as logistics) or
        # opens with it and names no problem after it ("补缺的就行 我都拼一大半了" read as quality).
        if before in self.roles.offers and ctx.remedies_offered and norm \
                and (u.cause in (None, ctx.cause) or self.choices.picks("".join(clauses[-1:]))
                     or self.choices.opens_on_choice(clauses)) \
                and (intent != "ask" or len(clauses) > 1 or (
                    u.confidence < flow.weak_primary and self.choices.outright(norm)
                    and not flow.cue("question", norm))) \
                and not any(self.script.leaves(before, e) for e in events if e not in self._pick_outranks) \
                and (self.choices.picks(norm) or self.choices.worded(ctx, norm) is not None) \
                and not self._refund_again(ctx, norm):
            # ("不用退，线补给我就行" read as no: choosing outranks it)
            events = self.reading.settle(events + self.script.pick_events, False)
        elif before in self.roles.offers and len(ctx.options_listed) == 1 and norm and intent in ("other", "affirm") \
                and flow.cue("takes_offer", norm) and not any(self.script.leaves(before, e) for e in events):
            # "哇那太好了 谢谢亲～" to "给您塞两包新茶小样": the one option offered is taken
            events = self.reading.settle(events + self.script.pick_events, False)
        if proposed and ctx.amount is None:  # the sum is the agent's to set: the buyer's is taken
            ctx.amount = "said"  # to be asked for ("您说的这个金额我去申请"), not "您问的金额"
        if before in self.roles.offers and norm and self.script.tentative_events.intersection(events) \
                and (self.choices.outright(norm) is False or flow.cue("haggles", norm)
                     or flow.cue("asks_amount", norm) or sum_said):
            # asked about, under a condition, a counter-offer ("退20？太少了，起码退50"), the buyer's
            # own sum before the agent named one ("留着 退一半吧", or before any offer: "退20块钱吧") or
            # the sum asked ("留着吧 退多少钱？")
            events = [e for e in events if e not in self.script.tentative_events]
        if before in self.roles.callback:
            # a mood ("明天也一样 就今晚吧", read as a complaint with no cause) agrees the time: the
            # problem carried on with is one the buyer tells; so does a time with no problem in it
            # ("八点吧", once read as a request for compensation at 0.28)
            when = callback_time(norm, at or datetime.now(), ctx.evening) if norm else None
            if free_now or (complaint and not vague and intent not in ("busy", "extort", "threaten")
                            and (when is None or u.cause is not None)):
                self.script.fire(conv, "carry_on", at)
                ctx.callback_at, ctx.offers_time, ctx.callback_late, ctx.evening = None, False, False, False
                if free_now and not complaint and conv.stage not in self.roles.identifies:
                    # "到家了你说吧" resumes the step it was on: it is no "记得" to the order
                    events = []
            else:
                if when is not None:
                    self._agree_time(ctx, when)
                events = [e for e in events if e in ("extort", "threaten")]
        elif before in self.roles.suspect:
            if intent == "extort" and not uncued:
                ctx.firm = ctx.extorted = True  # a second demand: the hold is firm
                events = []
            elif intent in flow.ordinary_intents and (corrected or u.confidence >= flow.ordinary_confidence) \
                    and (not ctx.firm or self._drops_demand(ctx, intent, corrected, norm)):
                ctx.firm = False
                self.script.fire(conv, "carry_on", at)  # the talk carries on normally
                ctx.suspected = conv.stage in self.roles.suspect
            else:
                events = [e for e in events if e == "threaten"]
        elif before == self.script.final:
            if complaint and intent not in ("extort", "threaten") and not ctx.farewell and not received:
                self._new_round(conv)
                self.script.fire(conv, "reopen_problem", at)
                events = []
            elif intent == "ask" and not ctx.greeted:
                self._new_round(conv)
                self.script.fire(conv, "reopen_question", at)
                events = []
            elif intent not in ("extort", "threaten") or ctx.maybe:
                events = []  # a goodbye: the case stays closed, short polite replies
        elif before in self.script.holding:
            events = [e for e in events if e in ("extort", "threaten")]
        problem = self.roles.before_remedy
        # a mood states the problem only once the buyer is telling it (the stages that handle it)
        if complaint and (before in problem or conv.stage in problem) and (
                not vague or before in self.roles.handles):
            ctx.problem_stated = True
        if norm and (before in problem or conv.stage in problem) and (flow.cue("photo", norm) or pointed):
            ctx.problem_stated = True  # "[图片]" then "你自己看": the photo tells it
        # words while the problem is heard that tell none as read ("生锈" read as other): kept, in
        # case the agent's apology shows they told it (_apply_agent)
        unread = not ctx.problem_stated and bool(norm) and intent in ("other", "complain") and not ctx.greeted \
            and not flow.cue("question", norm)
        ctx.unread_told = before in self.roles.hears and (ctx.unread_told or unread)
        # a remedy neither the cause nor the agent offers, asked for outright ("全额退款，东西我不
        # 寄回了" on a quality case), or the yes to such a standing request: nothing is chosen (the
        # reply says what the shop can do instead: remedy_not_offered), the stage holds (`unoffered`)
        names = bool(norm) and self.remedies.named(norm) is not None
        wish = requested if requested is not None else (
            ctx.remedy_requested if intent == "affirm" and not names and len(ctx.options_listed) != 1 else None)
        ctx.unoffered = before in self.roles.offers and wish is not None \
            and not self.choices.offered(ctx, wish, conv.case.product)
        if before in self.roles.asks and ctx.review_requests and ctx.remedy_chosen \
                and requested not in (None, ctx.remedy_chosen) and norm and self.choices.outright(norm) \
                and not {"agree_review", "refuse_review"} & set(meant) \
                and not flow.cue("review_word", norm) and not flow.cue("defers", norm):
            # another remedy once the review was asked about, and no word on the review ("等下 我想了想
            # 还是退了吧" after "换吧" and the request): the change is taken (below), the answer is to come
            events = [e for e in events if e != "answer"]
        if ctx.stop_asked and stop_too:
            events = [*events, "end"]  # the fix is taken, then the talk ends
        moves: list[str] = []
        path = self._fire_all(conv, events, at, moves)
        if unread and before not in self.roles.hears and conv.stage in self.roles.hears:
            # the message that brought the talk to hearing the problem ("哦 是我买的 那猫砂粉尘太大了
            # 一倒满屋子灰", read as a mood) may have told it as well
            ctx.unread_told = True
        if had_cause is None and ctx.cause in self.flow.talk_causes \
                and conv.stage in self.roles.identifies | self.roles.confirms:
            # a reaction to the contact that was not heard as the problem ("…就让我改差评？" while the
            # order is still being checked): the product's problem told later takes its place
            ctx.cause_early = True
        # a plain yes to several options ("好的" to "换新的，或者退货退款") chose none: asked which
        ctx.remedy_which = before in self.roles.offers and conv.stage == before and "affirm" in events \
            and ctx.remedies_offered > 0 and len(ctx.options_listed) > 1 \
            and (ctx.remedy_requested is None or ctx.unoffered)  # (a yes to the options, not to the refused one)
        if before in self.roles.closes and conv.stage in self.roles.before_remedy:
            self._new_round(conv)  # a new problem while closing: heard, explained and remedied anew
        initial = self.script.initial
        if before == initial and conv.stage != initial:
            ctx.buyer_first = ctx.identity_confirmed = True  # the buyer spoke first
            # "是我，…", "我是黄大山…": the greeting that folds into the reply asks no "您是…吧"
            name = conv.case.buyer_name
            ctx.buyer_first_said_who = "affirm" in meant or (
                name != self.defaults["buyer_name"] and bool(name) and name in text)
        if (len(path) > 1 and before in self.roles.identifies) or any(s in self.roles.confirms for s in path[1:]):
            ctx.identity_confirmed = True
        left = next((ev for s, ev in zip(path, moves, strict=False) if s in self.roles.offers), None)
        # every option turned down, then one chosen after all ("诶等下，还是换一个吧"): chosen
        again = before in self.roles.closes and ctx.all_declined and conv.stage in self._after_remedy \
            and not ctx.farewell and bool(set(self.script.pick_events).intersection(events))
        if conv.stage in self._after_remedy and (left is not None or again):
            if left in ("deny", "end"):  # every option turned down ("都不用了", "算了，都不要了")
                ctx.all_declined = True
                if "agree_review" in meant or (norm and flow.cue("will_change", norm)):
                    # "不用了 是我自己的问题 评价我去改回来" (also read as a plain no): no request needed
                    ctx.review_answer = "agree_review"
            else:  # the option named, else the one the request (primary or not) asks for
                ctx.all_declined = False
                asked = next((i.intent for i in u.intents if i.intent in REQUESTS
                              and i.confidence >= flow.weak_primary), intent)
                # the option named outside a question ("换新款 能再补偿点啥不": the exchange, not a gift)
                plain = [c for c in clauses if not flow.cue("question", c)]
                told = "，".join(plain) if plain and self.remedies.named("，".join(plain)) else None
                picked = self.remedies.match(told or norm or u.text or text, asked, ctx.cause,
                                             flow.cues["turned_down"], ctx.not_received)
                picked = self.remedies.listed(picked, ctx.options_listed, norm or u.text or text)
                ctx.remedy_chosen = picked if self.choices.offered(ctx, picked, conv.case.product) \
                    else self.remedies.fit(picked, ctx.cause, norm, ctx.not_received)
                if asked not in REQUESTS and len(ctx.options_listed) == 1 \
                        and self.remedies.named(norm or u.text or text) is None:
                    # a plain yes to the one option the agent offered chooses it, not the cause's first
                    ctx.remedy_chosen = ctx.options_listed[0]
                if requested is None and asked not in REQUESTS and ctx.remedy_requested \
                        and self.choices.offered(ctx, ctx.remedy_requested, conv.case.product) \
                        and self.remedies.named(norm or u.text or text) is None:
                    # a plain yes ("好的") to the agent's answer to a request chooses what was asked
                    ctx.remedy_chosen = ctx.remedy_requested
                placed = self.choices.placed(ctx, norm) or self.choices.worded(ctx, norm) \
                    if norm and self.remedies.named(norm) is None else None
                if placed is not None:  # "第二个", "刀头吧": the option as the agent listed or named it
                    ctx.remedy_chosen = placed
                if len(clauses) > 1 and any(flow.cue("question", c) or flow.cue("asks_about", c)
                                            for c in clauses):
                    # chosen beside a question ("行，补发吧，要几天能到？", "菊花茶要寄回去吗"): asked
                    # about the chosen one, which the reply that arranges it answers
                    ctx.remedy_about = ctx.remedy_chosen
        if requested is not None and ctx.remedy_chosen not in (None, requested) and before in self._after_remedy \
                and conv.stage in self._after_remedy and self.remedies.offers(ctx.cause, requested, ctx.not_received,
                                                                                   hazard=ctx.safety) \
                and self.choices.outright(norm):
            # a change of mind once chosen ("算了还是退货吧"): the new one is chosen, not yet under way
            ctx.remedy_chosen = requested
            ctx.remedy_changed = True
            ctx.remedy_underway = ctx.remedy_received = ctx.remedy_pending = False
        # the one remedy chosen is a gift, no fix (remedies.yaml `gift`): no review request in this
        # case; chosen just now, the request stage gives way to the thanks and the close
        chosen = self.remedies.remedies.get(ctx.remedy_chosen or "")
        ctx.gift_only = chosen is not None and chosen.gift
        if ctx.gift_only and conv.stage in self.roles.asks:
            self.script.fire(conv, "gift_only", at)
        # the size a request or choice of a sized remedy names ("那能换个L码吗"): said back, not asked
        sized = self.remedies.remedies.get(requested or ctx.remedy_chosen or ctx.remedy_requested or "")
        size = sized.size_in(norm) if sized is not None and norm else None
        if size is not None:
            ctx.size_said = size
        amount = sized.amount_in(norm) if sized is not None and norm else None
        if amount is not None:  # "那就退30吧": the sum is said back ("退您30元")
            ctx.amount_said = amount
        # asking who pays the postage ("换的话运费谁出 我没买运费险", "退吧 …是不是直接走运费险就行"):
        # the reply about that option says it (remedies.yaml `shipping`)
        about = self.remedies.remedies.get(ctx.remedy_about or "")
        ctx.shipping_asked = bool(about and about.shipping and norm and flow.cue("shipping", norm))
        if before in self.roles.asks and conv.stage in self.roles.closes:
            ctx.review_answer = intent
            # "收到能用就改": a yes that waits for the remedy (not one the buyer has already)
            ctx.review_later = intent == "agree_review" and not ctx.remedy_received \
                and bool(norm) and flow.cue("agrees_if", norm) is not None
        if intent == "wrong_person" and conv.stage in self.roles.closes:
            ctx.wrong_person = True
        if conv.stage in self.roles.suspect and before not in self.roles.suspect:
            # a clear demand keeps the hold (design.md): read surely, or money asked for outright
            # ("改可以 再转我10块", extort at 0.78: cues.demands), however surely it is read
            ctx.firm = corrected or u.confidence >= flow.firm_extort or bool(norm and flow.cue("demands", norm))
            ctx.refusals = 0
            ctx.suspected = True
            # only a clear demand is an extortion that bars a review request for good; a weak
            # reading returns to the main path as if nothing was asked (design.md)
            ctx.extorted = ctx.extorted or ctx.firm
        if conv.stage in self.script.holding and before not in self.script.holding:
            ctx.held_from = before if before in self.script.active else self._hears
        if conv.stage in self.roles.callback and before not in self.roles.callback and norm:
            # the time named with the busy word ("在开会 明天上午十点再聊", "中午十二点半午休再说吧"):
            # agreed there, not proposed again as 今晚八点
            when = callback_time(norm, at or datetime.now(), ctx.evening)
            if when is not None:  # (the agent's answer still has to agree it: checklist offers_time)
                ctx.callback_at = when.isoformat(timespec="minutes")
                ctx.callback_late = self.policy.hours.quiet(when)
        conv.last_intent = u.intent
        return u

    def _drops_demand(self, ctx: Context, intent: str, corrected: bool, norm: str) -> bool:
        """Whether a buyer held firmly as suspected extortion takes the remedy offered and asks no
        money for the review any more ("切 40就40吧 那你退吧" after "你给我转100 我把差评改成好评"),
        or a person corrected the reading to such a request (/意图 想退款): the hold ends."""
        if corrected:
            return intent in REQUESTS or intent == "affirm"
        # a bare yes takes nothing here ("行，你们等着"): it must name the option it takes
        return ctx.remedies_offered > 0 and bool(norm) and not self.flow.cue("demands", norm) \
            and (intent in REQUESTS or (intent == "affirm" and self.remedies.named(norm) is not None))

    def _refund_again(self, ctx: Context, norm: str) -> bool:
        """Whether the option a reply names is the refund the platform already paid ("不用了 钱退
        回来了就行" after "我已经找平台申请退款了"): news said again, no choice."""
        named = self.remedies.named(norm)
        return ctx.refunded and named is not None \
            and bool({"want_refund", "want_return"} & set(self.remedies.remedies[named].intents))

    def _buyer_events(self, u: BuyerUnderstanding) -> list[str]:
        """The events of a reading (bot/script/buyer_reading.py)."""
        return self.reading.events(u)

    def _new_round(self, conv: Conversation) -> None:
        """A closed case opens again: what the last round settled is asked again."""
        ctx = conv.context
        ctx.rounds += 1
        ctx.explanations = ctx.remedies_offered = 0
        ctx.remedy_chosen, ctx.all_declined, ctx.review_answer = None, False, None
        ctx.remedy_requested, ctx.remedies_refused, ctx.options_listed, ctx.offered_with = None, [], [], []
        ctx.size_said = ctx.amount_said = None
        ctx.followup, ctx.followup_remedy = False, None
        ctx.wrong_person = ctx.remedy_underway = ctx.remedy_received = ctx.remedy_pending = False
        ctx.problem_stated, ctx.misclick, ctx.sorry_heard = True, None, False
        ctx.stop_asked = False  # the buyer came back: this round's closing is an ordinary one
        conv.outcome = None

    def _apply_agent(
        self, conv: Conversation, u: AgentUnderstanding, text: str, at: datetime | None,
        unsure: frozenset[str] = frozenset(),
    ) -> None:
        """``unsure``: acts the learned model alone read, below script.yaml ``act_evidence``:
        such an act does not make a second move in one message (the apology that retells the
        problem moves 倾听致歉 on; its "explanation", read by the model alone at about 0.5,
        does not carry on to 提出补救), and is then not counted either."""
        ctx = conv.context
        norm = self.understand.normalize(text).text
        if "close" in u.acts and "apologize" not in u.acts and self.flow.cue("sorry_disturb", norm):
            # "不好意思打扰您了，您看到消息随时找我就行，祝您生活愉快。" to a buyer who stopped answering:
            # the 不好意思 is an apology (design.md), so the goodbye is the closing message
            u = u.model_copy(update={"acts": [*u.acts, "apologize"]})
        if "request_review" in u.acts and conv.stage in self.roles.identifies | self.roles.confirms \
                and not self.flow.cue("asks_review_change", norm):
            # the review named as why the agent calls ("看到您给帐篷留了差评，想跟您了解下情况"): no
            # request yet, so the choice later still goes on to ask for one
            u = u.model_copy(update={"acts": [a for a in u.acts if a != "request_review"]})
        acts = set(u.acts)
        if "confirm_product" in acts or self.flow.cue("order_line", norm):
            ctx.product_confirmed = True  # (the order line pasted: "订单号：… 商品：…")
        if any(f.code == "conditional_benefit" for f in u.findings):
            ctx.ties += 1
        ctx.repair = any(f.severity == "block" for f in u.findings)
        ctx.agent_recent = [*ctx.agent_recent, text][-self.understand.guard.ties.memory:]
        self._note_product(conv, norm)
        ctx.last_role, ctx.last_acts = "agent", list(u.acts)
        if conv.stage in self.roles.closes and ctx.remedy_chosen and "offer_remedy" in acts \
                and self.flow.cue("goes_ahead", norm) and not self.flow.cue("asks_consent", norm) \
                and set(self.remedies.in_order(norm)) <= {ctx.remedy_chosen}:
            # "评价您说了算，退货照常给您办。谢谢您，再次抱歉。": the chosen remedy said to go ahead is
            # no new offer, so these are the closing words
            ctx.last_acts = [a for a in ctx.last_acts if a != "offer_remedy"]
        if conv.stage in self.roles.closes and self.flow.cue("leaves_review", norm):
            # "抱歉，评价您自己决定就好，…谢谢苗女士，再次抱歉。" (read as a request): it asks nothing
            ctx.last_acts = [a for a in ctx.last_acts if a != "request_review"]
        ctx.agent_turns += 1
        flow = self.flow
        # "您看什么时候方便？": the buyer is asked when; nothing is suggested until they answer. An
        # hour the agent names ("今晚八点左右方便吗？") is a proposal: its next step as ever (confirm it)
        ctx.time_asked = conv.stage in self.roles.callback and flow.cue("asks_time", norm) is not None \
            and flow.cue("proposes_time", norm) is None
        if conv.stage in self.roles.callback and flow.cue("evening", norm):
            ctx.evening = True  # "今晚几点方便？": the buyer's bare "九点半" is the evening
        # the agent answers a time already agreed ("好的，那我五点半联系您"): nothing more to suggest
        ctx.callback_confirmed = conv.stage in self.roles.callback and ctx.callback_at is not None
        if conv.stage in self.roles.callback and self.policy.callback_time.search(norm):
            ctx.offers_time = True
            when = callback_time(norm, at or datetime.now(), ctx.evening)
            if when is not None:
                self._agree_time(ctx, when)
        if ctx.safety and flow.cue("care_asked", norm):
            ctx.care_asked = True
        if conv.stage in self.roles.suspect and not any(
                f.code == "conditional_benefit" for f in u.findings):
            ctx.refusals += 1
        if conv.stage in self.roles.hands_over and flow.cue("handed_over", norm):
            ctx.handed_over = True
        # an offer that still asks the buyer ("…，您看行吗？") is not under way until it says done
        if ctx.remedy_chosen and ("offer_remedy" in acts or flow.cue("underway", norm)) and (
                not flow.cue("asks_consent", norm) or flow.cue("done", norm)):
            chosen = self.remedies.remedies.get(ctx.remedy_chosen)
            if chosen is not None and chosen.until_received and not ctx.remedy_received:
                ctx.remedy_pending = True  # "我这就去催": the parcel still has to come
            else:
                ctx.remedy_underway = True
        if "offer_remedy" in acts:  # the options the offer leaves to choose between (a bare yes)
            down = flow.cues["turned_down"]  # ("不用寄回" is no option)
            named = [r for r in self.remedies.in_order(norm)
                     if self.remedies.cue_length(self.remedies.remedies[r], norm, down)]
            if ctx.refunded:  # "退的钱平台已经给您了，橘子您留着吃；另外给您补寄两斤": the money
                # back is news, the option is the reship
                named = [r for r in named if not self.remedies.remedies[r].refund] or named
            if named:
                ctx.options_listed = named if flow.cue("alternatives", norm) else named[:1]
                # "退20元，再送您一个枕套": the parts offered with the one listed, in the agent's
                # words (said back with it once agreed: both parts are confirmed)
                first = self.remedies.remedies[named[0]]
                ctx.offered_with = [
                    flow.cues["asks_consent"].sub("", c).strip("，。！？,.!?；; ") for c in CLAUSE.findall(norm)
                    if len(ctx.options_listed) == 1 and not self.remedies.cue_length(first, c, down)
                    and any(self.remedies.cue_length(self.remedies.remedies[r], c, down) for r in named[1:])]
            # the sum the offer names for an option ("东西您留着，退您30元"): said back once agreed
            ctx.amount_said = next((a for r in named if (a := self.remedies.remedies[r].amount_in(norm))),
                                   ctx.amount_said)
        before = conv.stage
        if before in self.roles.hears and ctx.unread_told and not ctx.problem_stated \
                and {"apologize", "empathize"} <= acts and "ask_detail" not in acts \
                and not any(flow.cue("question", c) for c in CLAUSE.findall(norm)):
            # the buyer's words the reading missed ("生锈", "刷了还锈"), then an apology that feels
            # for them and asks nothing ("阿姨，真对不起，新锅刷了还生锈…"): the problem was told
            ctx.problem_stated = True
        if "apologize" in acts and before in self.roles.hears and flow.cue("sorry_disturb", norm) \
                and not flow.cue("sorry", flow.cues["sorry_disturb"].sub("", norm)) \
                and not flow.cue("sorry_trouble", norm) and flow.sorry_named(norm) is None:
            # "不好意思打扰了" where the apology for the problem is awaited: sorry for the call, not
            # for the trouble (as sorry_heard reads it while the order is confirmed): not made
            acts.discard("apologize")
        if "apologize" in acts and before in self.roles.before_remedy:
            # an apology for the buyer's trouble: made while hearing it, or naming it ("实在抱歉，给您
            # 发成枸杞了"): the problem is known then, and told after it, it is not apologised for again
            sorry_for = None if ctx.problem_stated else flow.sorry_named(norm)
            if sorry_for is not None:
                ctx.problem_stated = True
                if ctx.cause is None:
                    ctx.cause, ctx.cause_source = sorry_for, "talk"
            ctx.sorry_heard = ctx.sorry_heard or sorry_for is not None or before in self.roles.hears \
                or flow.cue("sorry_trouble", norm) is not None
        self._fire_all(conv, ["message"], at)
        start = conv.stage
        lead_in = flow.cue("lead_in", norm) is not None  # "我们查了一下，": the next message explains
        # "快递的问题不是我们能控制的" disowns the problem: it explains nothing (the trainer's deflects);
        # nor does "裙子因为一个拉链穿不上" (cues.retells), unless the rest of the message explains
        no_reason = lead_in or flow.cue("deflects", norm) is not None or (
            "explain" in acts and flow.cue("retells", norm) is not None and "explain" not in self.understand.agent(
                "".join(c for c in CLAUSE.findall(norm) if not flow.cue("retells", c))).acts)
        # "焦味是从底座那里出来的吗？一般打多久会停？": every clause a question (cues.question); what
        # the model alone half reads in them (an explanation) is no move, even as the message's only one
        asks_only = bool(unsure) and bool(norm) and all(flow.cue("question", c) is not None
                                                        for c in CLAUSE.findall(norm))
        # "真抱歉，您和家里人都没事吧？": nothing is suggested until the buyer answers the question after
        # the person (the apology beside it still counts as made), and the answer is met first
        ctx.care_waiting = ctx.safety and before in self.roles.before_remedy \
            and flow.cue("asks_care", norm) is not None
        for act in [a for a in u.acts if a in acts]:  # (an apology read as none above fires nothing)
            if act == "explain" and no_reason:
                acts.discard(act)  # no explanation yet: not made, not counted
            elif act in unsure and (conv.stage != start or asks_only):
                acts.discard(act)  # a second move on an unsure reading: not made, not counted
            elif len(self._fire_all(conv, self.script.agent_events[act], at)) == 1 and act == "explain" \
                    and (act in unsure or not ctx.problem_stated):
                # an explanation of nothing yet (before the buyer told the problem), or one the
                # model alone half reads that moved nothing ("是那支雾面唇釉，01号色。"): not one
                # the script counts as given (an apology after a real one moves on to the options)
                acts.discard(act)
        for act, counter in _COUNTED:  # only what changes is set (a pydantic setattr each)
            if act in acts:
                setattr(ctx, counter, getattr(ctx, counter) + 1)
        if conv.stage in self.script.holding and before not in self.script.holding:
            ctx.held_from = before
        ctx.just_resumed = False

    # -- composing the answer --------------------------------------------------------------

    def _answer(
        self, conv: Conversation, u: BuyerUnderstanding | AgentUnderstanding | None,
        warnings: list[Finding], at: datetime | None,
    ) -> tuple[Conversation, Suggestion]:
        if conv.stage in self.roles.callback and conv.context.attempt_unpaired == "resume":
            conv.context.attempt_unpaired = None  # held again: the next call is a new contact
        stage = self.script.stages[conv.stage]
        variables = self.compose.variables(conv, at)
        replies = self.compose.replies(conv, variables, at)
        public = self.compose.public_reply(conv, variables, at)
        notes = self.policy.stage_notes(conv.stage, conv.context.callback_at is not None,
                                        self._held_suspect(conv)) \
            + self._flow_notes(conv, at)
        if public and conv.case.shop_reply:  # the one reply a review takes is posted already
            public = None
            if "public_reply_done" in self.policy.notes:  # (a shop's older policy.yaml lacks it)
                notes.append(self.policy.note("public_reply_done"))
        if public:
            notes.append(self.policy.note("public_reply"))
        unit = variables["unit"]
        sug = Suggestion(
            conversation_id=conv.id,
            turn=conv.turn,
            stage=self._stage_ref(stage.id),
            progress=self._progress(stage.id),
            understanding=u,
            suggestions=replies,
            remedies=[r if "{{ unit }}" not in r.text else r.model_copy(
                update={"text": r.text.replace("{{ unit }}", unit)})
                for r in self.remedies.options(conv.context.cause, conv.context.not_received,
                                               conv.context.refunded, conv.context.safety)]
            if conv.stage in self.roles.shows_remedies else [],
            warnings=warnings + notes,
            checklist=[self._item(i, d) for i, d in self.script.checklist(conv)],
            public_reply=public,
            case_cause=conv.context.cause,
        )
        conv.last_templates = [s.template for s in replies]
        return conv, sug

    def _note(self, code: str, **values: Any) -> Finding:
        ctx_values = {"outcomes": "、".join(self.labels.names["outcome"].values()), **values}
        return Finding(code=code, severity="info", span=None,
                       message=self.flow.notes[code].format(**ctx_values))

    def _flow_notes(self, conv: Conversation, at: datetime | None) -> list[Finding]:
        """The flow's notes for this moment: a weak big jump, safety, the agreed time…"""
        ctx, out = conv.context, []
        if ctx.maybe and ctx.maybe in self.flow.maybe:
            m = self.flow.maybe[ctx.maybe]
            stage = self.script.stages[m.stage].label
            command = f"/阶段 {stage}"
            note = self._note("maybe", label=m.label, command=command, stage=stage)
            out.append(note.model_copy(update={
                "code": f"maybe_{ctx.maybe}",
                "action": NoteAction(stage=m.stage, command=command, label=stage)}))
        if ctx.safety and not ctx.care_asked and conv.stage != self.script.final:
            out.append(self._note("safety_first"))
        if ctx.damaged and conv.stage in self.roles.handles:
            out.append(self._note("other_damage", thing=ctx.damaged))
        if conv.stage in self.roles.callback and ctx.callback_at:
            out.append(self._note("callback_late" if ctx.callback_late else "callback_agreed",
                                  when=spoken_callback(ctx, at)))
        if conv.stage in self.roles.hands_over:
            out.append(self._note("takes_over", owner=self.flow.escalation_owner))
        if ctx.extorted and conv.stage not in self.roles.suspect and conv.stage in self._after_remedy \
                and ctx.last_role == "buyer" and "extorted" in self.flow.notes:
            out.append(self._note("extorted"))  # the hold ended: the fix goes ahead, no review asked
        if ctx.gift_only and conv.stage in self._after_remedy and ctx.last_role == "buyer" \
                and "gift_only" in self.flow.notes:
            out.append(self._note("gift_only"))  # the gift goes out, no review asked
        if ctx.deal and ctx.last_role == "buyer" and "deal" in self.flow.notes:
            out.append(self._note("deal"))
        if ctx.rounds > 1 and ctx.last_role == "buyer" and ctx.stage_before == self.script.final \
                and conv.stage != self.script.final:
            out.append(self._note("reopened", rounds=ctx.rounds))
        return out

    def _stage_ref(self, stage: str) -> StageRef:
        ref = self._stage_refs.get(stage)
        if ref is None:
            ref = self._stage_refs[stage] = StageRef(id=stage, label=self.script.stages[stage].label)
        return ref

    def _item(self, item: str, done: bool) -> ChecklistItem:
        # A stage's checklist items, ticked or not: built once each, like the progress.
        key = (item, done)
        found = self._items.get(key)
        if found is None:
            found = self._items[key] = ChecklistItem(item=item, done=done)
        return found

    def _progress(self, stage: str) -> Progress:
        # The same for every turn at a stage: built once per stage.
        if stage not in self._progress_of:
            self._progress_of[stage] = Progress(
                step=self.script.progress_step(stage), of=len(self.script.main_path),
                stages=[StageRef(id=s, label=self.script.stages[s].label)
                        for s in self.script.main_path])
        return self._progress_of[stage]

    def variables(self, conv: Conversation, at: datetime | None = None) -> dict[str, Any]:
        """The template variables of docs/templates.md for this conversation."""
        return dict(self.compose.variables(conv, at))

    def situation_keys(self, conv: Conversation, at: datetime | None) -> tuple[str, list[str]]:
        """The template folder for this turn and its keys, most specific first."""
        return self.compose.situation_keys(conv, at)

    # -- single messages ----------------------------------------------------------------------

    def analyze(self, role: Role, text: str) -> BuyerUnderstanding | AgentUnderstanding:
        """The `csbot analyze` result of one message."""
        return self.understand.buyer(text) if role == "buyer" else self.understand.agent(text)


class _LastOne:
    """A one-entry memo of a pure one-argument function (thread-safe: one tuple swapped)."""

    def __init__(self, fn: Any) -> None:
        self.fn = fn
        self.last: tuple[str, Any] = ("\x00", None)

    def __call__(self, text: str) -> Any:
        last = self.last
        if last[0] == text:
            return last[1]
        value = self.fn(text)
        self.last = (text, value)
        return value

    def __getattr__(self, name: str) -> Any:
        return getattr(self.fn, name)


def _contact_paired(conv: Conversation) -> None:
    """A message of the conversation: the first contact logged before it is this conversation (its
    count was one ahead until now), and a logged call no resume joined is no longer joined by one."""
    ctx = conv.context
    if ctx.attempt_unpaired == "first":
        ctx.attempts = max(ctx.attempts - 1, 1)
        ctx.attempt_unpaired = None
    elif ctx.attempt_unpaired == "log":
        ctx.attempt_unpaired = None


def _copy(conv: Conversation) -> Conversation:
    # The engine changes only the context and the lists of a conversation, never its case:
    # copying those is enough and costs a tenth of a deep copy. What `model_copy(update=…)`
    # does, written out for these two models (no extra fields, no private attributes:
    # tests/test_engine_copy.py holds it to model_copy): its generic path is a sixth of a turn's
    # flow and composing.
    ctx = conv.context
    state = dict(ctx.__dict__)
    state["causes"], state["last_acts"] = list(ctx.causes), list(ctx.last_acts)
    new_ctx = _shallow(ctx, state, ctx.__pydantic_fields_set__ | _CTX_LISTS)
    state = dict(conv.__dict__)
    state["context"], state["last_templates"] = new_ctx, list(conv.last_templates)
    return _shallow(conv, state, conv.__pydantic_fields_set__ | _CONV_COPIED)


_CTX_LISTS = frozenset({"causes", "last_acts"})
_CONV_COPIED = frozenset({"context", "last_templates"})
_M = TypeVar("_M", Conversation, Context)


def _shallow(model: _M, state: dict[str, Any], fields_set: set[str]) -> _M:
    cls = type(model)
    new = cls.__new__(cls)
    object.__setattr__(new, "__dict__", state)
    object.__setattr__(new, "__pydantic_fields_set__", fields_set)
    object.__setattr__(new, "__pydantic_extra__", None)
    object.__setattr__(new, "__pydantic_private__", None)
    return new


def _tree_digest(root: Path) -> bytes:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*.j2")):
        h.update(p.relative_to(root).as_posix().encode())
        h.update(p.read_bytes())
    return h.digest()


# What an agent message sent to the wrong chat does not take back: the buyer saw it, so the guard's
# memory keeps it and a review request in it still counts (a gift or a second request is not let
# through by "发错窗口了"); "undo" is the record itself.
_NOT_UNDONE = frozenset({"agent_turns", "agent_recent", "review_requests", "undo"})
_LISTS = tuple(k for k, f in Context.model_fields.items() if get_origin(f.annotation) is list)


def _undoable(conv: Conversation) -> tuple[dict[str, Any], str]:
    """The context and stage before an agent message (lists copied: some are changed in place)."""
    state = dict(conv.context.__dict__)
    for k in _LISTS:
        state[k] = list(state[k])
    return state, conv.stage


def _changed(before: tuple[dict[str, Any], str], conv: Conversation) -> dict[str, Any]:
    """``Context.undo`` of the message just applied: the fields it changed, with their old values
    (compared in C: a loop over the hundred fields was a tenth of an agent turn)."""
    ctx, stage = before
    keys = list(ctx)
    moved = compress(keys, map(ne, map(ctx.__getitem__, keys), map(conv.context.__dict__.__getitem__, keys)))
    out = {k: ctx[k] for k in moved if k not in _NOT_UNDONE}
    if conv.stage != stage:
        out["stage"] = [stage, conv.stage]
    return out


__all__ = ["ConversationClosed", "Engine"]
