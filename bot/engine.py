"""The Python API: start a conversation from case fields, feed messages, get Suggestions.

Pure and synchronous: no I/O after loading, no clock (pass ``at`` to judge times), and no
state kept per conversation. The service and the simulator wrap it.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar, cast

from bot.compose.remedies import RemedyBook
from bot.compose.templates import TemplateLibrary, Variant
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
    SuggestedReply,
    Suggestion,
    Tone,
)
from bot.models import warm as warm_models
from bot.paths import dialogs_dir, templates_dir
from bot.script.flow import FLOW_KEYS, Products, callback_time, spoken_time
from bot.script.machine import Script, inherit_roles, review_changeable
from bot.understand.normalize import to_traditional, written_simplified
from bot.understand.pipeline import Understander

_UNSEEN = object()  # a cache miss (None is a cached answer: blocked)
_NEUTRAL_NAME = {"call": "亲", "name": "亲", "honorific": ""}
_GUARD_KEYS = ("shop", "agent", "product", "order_date", "cause", "options", "remedy")
_LEXICONS = ("lexicon/buyer.yaml", "lexicon/agent.yaml", "guard.yaml")
# The acts an agent message counts: (act, the Context counter it adds one to).
_COUNTED = (("apologize", "apologies"), ("empathize", "empathies"), ("explain", "explanations"),
            ("offer_remedy", "remedies_offered"), ("request_review", "review_requests"),
            ("thank", "thanks"), ("close", "closings"), ("blame_buyer", "blame"))
_COMPLAINTS = frozenset({"complain", "want_return", "want_exchange", "want_refund",
                         "want_compensation"})
_REQUESTS = _COMPLAINTS - {"complain"}  # a complaint that asks for something states the problem
_PLACE = {"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4}
_CLAUSE = re.compile(r"[^，。！？,.!?；;]+[，。！？,.!?；;]*")  # a clause with the marks after it
# a space between two Chinese characters, which buyers type for a comma ("好 那就补发吧 …")
_SPACED = re.compile(r"(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])")


def _either(options: list[str]) -> str:
    """Options as one spoken either-or: "A，还是B", "A、B，还是C" ("" for none)."""
    if len(options) < 2:
        return "".join(options)
    return "、".join(options[:-1]) + "，还是" + options[-1]


class ConversationClosed(ValueError):
    """Kept for callers that still catch it: since issue 16 the engine answers every
    message, also after the end (a goodbye keeps the case closed, a new problem reopens it)."""


class NotSuspected(ValueError):
    """A complaint of a malicious review was reported for a case that is not one."""


class Engine:
    """Understanding, script, composition and guard, loaded once from the data folders."""

    def __init__(self, dialogs: Path, templates: Path) -> None:
        self.dialogs = dialogs
        self.templates_root = templates
        self.understand = Understander(dialogs)
        self.understand.load_all()
        warm_models()
        # The flow reads cues in the normalised text the understanding has just made: the
        # last one is kept rather than made twice (normalising is a good part of a turn).
        setattr(self.understand, "normalize", _LastOne(self.understand.normalize))  # noqa: B010
        # A buyer's message may be asked up to three times whether it chooses an option outright.
        setattr(self, "_outright", _LastOne(self._outright))  # noqa: B010
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
        self.policy = Policy(load_yaml(dialogs, "policy.yaml"), self.script)
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
        self._guard_cache: dict[tuple[str, ...], bool] = {}
        self._replies_cache: dict[tuple[str, ...], SuggestedReply | None] = {}
        self._traditional_cache: dict[tuple[str, ...], SuggestedReply] = {}
        self._variables_of: dict[tuple[Any, ...], dict[str, Any]] = {}
        self._chosen: dict[tuple[Any, ...], tuple[Variant, ...]] = {}
        self._progress_of: dict[str, Progress] = {}
        self._stage_refs: dict[str, StageRef] = {}
        self._items: dict[tuple[str, bool], ChecklistItem] = {}

    def _roles(self) -> None:
        """The stages of each role the turn reads (script.yaml `roles`; never stage ids)."""
        with_role = self.script.stages_with
        self._before_remedy = frozenset(with_role("before_remedy"))
        self._identifies = frozenset(with_role("identifies_buyer"))
        self._confirms = frozenset(with_role("confirms_product"))
        self._offers = frozenset(with_role("offers_remedy"))
        self._asks = frozenset(with_role("asks_review"))
        self._closes = frozenset(with_role("closes"))
        self._after_remedy = self._asks | self._closes  # where choosing a remedy leads
        # the events a choice drops (script.yaml events.outranks: "不用换了，直接退款吧" chooses)
        self._pick_outranks = frozenset(d for e in self.script.pick_events for d in self.script.outranks.get(e, ()))
        self._handles = frozenset(with_role("handles_problem"))
        self._shows_remedies = frozenset(with_role("shows_remedies"))
        self._callback = frozenset(with_role("schedules_callback"))
        self._suspect = frozenset(with_role("suspects_extortion"))
        self._hands_over = frozenset(with_role("hands_over"))
        # where a held case without a stage of its own to return to goes back to
        self._hears = self.script.stage_with("hears_problem") or self.script.initial

    @classmethod
    def load(cls, dialogs: str | Path | None = None, templates: str | Path | None = None) -> Engine:
        """The engine over the shop's data folders, or the bundled ones."""
        return cls(dialogs_dir(dialogs), templates_dir(templates))

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
        self.seed_cause(conv, self.review_cause(case.review_text)[1])
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
    def seed_cause(conv: Conversation, cause: Cause | None) -> None:
        """The review's cause is the case's primary cause, as if the buyer had said it first:
        a different cause stated in the talk is kept as secondary unless the buyer corrects
        it ("不是…是…"). It does not count as the problem stated in the talk: the agent still
        listens and apologises first."""
        ctx = conv.context
        if cause is not None and ctx.cause is None and conv.turn == 0:
            ctx.cause, ctx.cause_source = cause, "review"

    def feed(
        self, conv: Conversation, role: Role, text: str, *, at: datetime | None = None,
        owned: bool = False,
    ) -> tuple[Conversation, Suggestion]:
        """Apply one message; returns the new conversation. The input is not changed,
        unless ``owned`` (the caller made it for this call alone and may lose it)."""
        if not owned:
            conv = _copy(conv)
        conv.turn += 1
        if role == "buyer":
            bu = self.understand.buyer(text)
            self._apply_buyer(conv, bu, text, at)
            return self._answer(conv, bu, [], at)
        au, alone = self.understand.agent_read(text, conv.context.agent_recent, conv.stage)
        warnings = au.findings + self.policy.agent_turn(
            conv, list(au.acts), au.findings, review_changeable(conv, at), at)
        held = conv.stage in self.script.holding
        # "那我明天上午10点再联系您，您先忙" agrees a callback time: not a goodbye to record
        proposes_time = conv.stage in self._callback and \
            self.policy.callback_time.search(self.understand.normalize(text).text) is not None
        evidence = self.flow.act_evidence
        unsure = frozenset(a for a, q in alone.items() if q < evidence.get(a, 0.0))
        self._apply_agent(conv, au, text, at, unsure)
        if held and "close" in au.acts and conv.stage in self.script.holding and not proposes_time:
            warnings.append(self._note("record_outcome",
                                       stage=self.script.stages[conv.stage].label))
        return self._answer(conv, au, warnings, at)

    def feed_understood(
        self, conv: Conversation, u: BuyerUnderstanding, *, at: datetime | None = None,
    ) -> tuple[Conversation, Suggestion]:
        """A buyer message already read (``u``, e.g. by a channel's own model, or a stored
        turn replayed): what ``feed`` does once it has read it. The flow's contract on
        confidence (big jumps, weak holds) is tested through it, apart from any model."""
        conv = _copy(conv)
        conv.turn += 1
        self._apply_buyer(conv, u, u.text, at)
        return self._answer(conv, u, [], at)

    def resume(self, conv: Conversation, at: datetime | None = None) -> tuple[Conversation, Suggestion]:
        """A person resumes a held case (a callback is a new contact attempt)."""
        conv = _copy(conv)
        was = conv.stage
        attempt = was == self.script.final or was in self._callback
        if attempt and conv.context.attempts >= self.script.max_attempts:
            raise ValueError(self.policy.notes["too_many_attempts"][1])
        if not self.script.fire(conv, "resume"):
            raise ValueError(f"当前阶段（{self.script.stages[was].label}）不能恢复")
        if attempt:
            conv.context.attempts += 1
        if was == self.script.final:
            self._new_round(conv)
        conv.context.just_resumed = was in self._callback
        return self._answer(conv, None, [], at)

    def close(self, conv: Conversation, outcome: Outcome) -> Conversation:
        """A person closes the case with an outcome (any stage, also one the script closed)."""
        conv = _copy(conv)
        self.script.fire(conv, "close_case")
        conv.outcome = outcome
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
            if code in self._suspect:
                ctx.firm = ctx.suspected = True  # a person confirmed it
            if code in self._callback:
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

    def _picks(self, norm: str) -> bool:
        """Whether a reply picks one of the options shown: by its place ("我选第二个") or by an
        option's cue not turned down ("那还是退15吧", not "不用退了"), in a clause that asks no
        question and sets no condition ("好，那就补发吧，菊花茶要寄回去吗" picks; "退款的话多久能
        到账？" does not). ``norm`` is the flow's normalised text, where a space typed for a comma
        is one already (_SPACED), so its clauses are the ones the buyer typed."""
        flow, down = self.flow, self.flow.cues["turned_down"]
        return any(not flow.cue("question", c) and (
            flow.cue("picks", c) is not None or self.remedies.named(c, down) is not None)
            for c in (flow.cues["conditional"].sub("。", c) for c in _CLAUSE.findall(norm)))

    def _opens_on_choice(self, clauses: list[str]) -> bool:
        """Whether a reply opens on its choice and says no problem after it ("补缺的就行 我都拼
        一大半了", read as quality as a whole); "換新吧，盖子也裂了" tells a new one."""
        return len(clauses) > 1 and self._picks(clauses[0]) \
            and self.understand.buyer("".join(clauses[1:])).cause is None

    def _placed(self, ctx: Context, norm: str) -> str | None:
        """The option a reply picks by its place ("第二个", "后面那个", a bare "2"), counted in the
        order the agent's latest message with several options named them; None when it picks
        none by place or no such message is remembered."""
        m = self.flow.cue("picks", norm)
        if m is None:
            return None
        listed = next((ids for said in reversed(ctx.agent_recent)
                       if len(ids := self.remedies.in_order(self.understand.normalize(said).text)) > 1), [])
        if not listed:
            return None
        n = next((_PLACE[c] for c in m.group() if c in _PLACE), None)
        if n is None:  # 前面/上面 the first, 后面/下面/最后 the last
            n = 1 if any(c in m.group() for c in "前上") else len(listed)
        return listed[n - 1] if n <= len(listed) else None

    def _requested(self, ctx: Context, wants: list[str], norm: str) -> str | None:
        """The remedy a buyer's message asks for, None when it asks for none: only a message
        read as a request (want_return…, primary or sure) asks; the option it names outright
        (remedies.yaml `choose`, not turned down, asked about or under a condition: "退款要几天",
        "明天再不到就退钱" ask for nothing yet), else the one its request intent picks."""
        flow = self.flow
        if not wants:
            return None
        options = self.remedies.for_cause(ctx.cause)
        outright = self._outright(norm) if norm else None
        if outright is False:
            return None
        if outright:  # the clauses that ask for an option outright, the cause's options first
            down, rest = flow.cues["turned_down"], flow.cues["conditional"].sub("。", norm)
            said = "".join(c for c in _CLAUSE.findall(rest) if not flow.cue("asks_about", c))
            book = self.remedies
            ours = max(options, key=lambda r: book.cue_length(r, said, down))
            if book.cue_length(ours, said, down):  # "换一件吧，要大一码的" on a quality case: its exchange
                return ours.id
            named = self.remedies.named(said, down)
            if named is not None:
                return named
        return self.remedies.by_intent(wants[0], ctx.cause)

    def _asked_about(self, ctx: Context, norm: str) -> str | None:
        """The option a message asks about rather than for ("退货退款要几天啊", "换的话运费谁出"):
        named, not turned down, in a clause that asks about it (cues.asks_about)."""
        flow, down = self.flow, self.flow.cues["turned_down"]
        rest = flow.cues["conditional"].sub("。", norm)
        return next((named for clause in _CLAUSE.findall(rest) if flow.cue("asks_about", clause)
                     for named in [self.remedies.named(clause, down, self.remedies.for_cause(ctx.cause))]
                     if named is not None), None)

    def _offered(self, ctx: Context, rid: str) -> bool:
        """Whether the remedy is on the table: among the cause's options (remedies.yaml
        `by_cause`) or offered by the agent in their own words ("盖子给您补寄新的")."""
        return self.remedies.offers(ctx.cause, rid) or rid in ctx.options_listed or any(
            rid in self.remedies.in_order(self.understand.normalize(said).text) for said in ctx.agent_recent)

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

    def _outright(self, norm: str) -> bool | None:
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
                   for clause in _CLAUSE.findall(rest))

    def _settle(self, events: list[str], vague: bool) -> list[str]:
        """A message's events as script.yaml's ``events`` settle them: an event drops those it
        outranks (choosing beats turning an option down), and a complaint that states no problem
        fires its mood's events instead of the problem's."""
        fired = set(events)
        dropped = {d for e in fired for d in self.script.outranks.get(e, ())}
        out = [e for e in events if e not in dropped]
        if vague:
            out = [self.script.vague_events.get(e, e) for e in out]
        return out

    def _apply_buyer(
        self, conv: Conversation, u: BuyerUnderstanding, text: str, at: datetime | None,
        corrected: bool = False,
    ) -> None:
        ctx, flow = conv.context, self.flow
        # the flow reads a space typed for a comma as one ("换新的吧 新的会不会还掉毛"): its cues work by clause
        said = self.understand.normalize(_SPACED.sub("，", text)) if text else None
        norm = said.text if said else ""
        clauses = _CLAUSE.findall(norm)  # the clauses as typed (a space for a comma is one)
        before = conv.stage
        if norm and not corrected and flow.cue("review_changed", norm):
            # "记得 我已经改成好评了 当时收到是压扁的": the change is used, and the news is no answer
            # to anything (read as agreeing to a request nobody made): the rest is read on its own
            conv.context.review_said_changed = True
            rest = "".join(c for c in clauses if not flow.cue("review_changed", c))
            if u.intent == "agree_review" and rest.strip("，。！？,.!?；; "):
                u = self.understand.buyer(rest)
        if norm and not corrected and u.cause is None and len(clauses) > 1 and (u.intent in _COMPLAINTS or any(
                i.intent in _COMPLAINTS and i.confidence >= flow.weak_primary for i in u.intents)):
            # a complaint read with no cause as a whole may name it in one clause ("记得 那个啊 当时
            # 收到是压扁的 后来猫挺喜欢的": over and done, yet told): the problem is stated, no mood;
            # a clause about the contact itself ("是，你们还知道找我？") stays a mood (talk_causes)
            told = next((c for c in (self.understand.buyer(c).cause for c in clauses)
                         if c is not None and c not in flow.talk_causes), None)
            if told is not None:
                u = u.model_copy(update={"cause": told})
        if norm and not corrected:
            if flow.cue("asks_who", norm):  # "你是？" read as a complaint about service, "你哪位" as a yes
                u = u.model_copy(update={"intent": "ask", "cause": None, "intents": [
                    IntentScore(intent="ask", confidence=u.confidence)]})
            if before in self._confirms and flow.cue("other_product", norm):
                # "积木？我没买积木啊 我买的是个拼图": the agent named the wrong thing; neither a
                # problem nor the order recalled (read as a wrong item): the order is checked again
                u = u.model_copy(update={"intent": "ask", "cause": None, "intents": [
                    IntentScore(intent="ask", confidence=u.confidence)]})
            if flow.cue("proxy", norm):  # "我是她儿子，我妈不会打字，我帮她回": the buyer's own side
                u = self._for_buyer(u)
            u = self._opened_by(u, text, norm, "yes", "affirm")
            if before in self._offers:  # "都不用了 …投诉了就行" read as a threat: the options are declined
                u = self._opened_by(u, text, norm, "no", "deny")
        ctx.deal = ctx.remedy_changed = False
        ctx.self_fixed = bool(norm) and not corrected and flow.cue("self_fixed", norm) is not None
        if ctx.self_fixed:  # "盆我已经自己换了一个" (read as an exchange): nothing asked for
            kept = [i for i in u.intents if i.intent not in _REQUESTS] or [
                IntentScore(intent="other", confidence=u.confidence)]
            primary = u.intent if u.intent not in _REQUESTS else kept[0].intent
            u = u.model_copy(update={"intent": primary, "intents": kept})
        ctx.call_asked = bool(norm) and flow.cue("asks_call", norm) is not None
        ctx.offended = bool(norm) and flow.cue("offended", norm) is not None
        ctx.amount = ("more" if flow.cue("haggles", norm) else "ask" if flow.cue("asks_amount", norm)
                      else None) if norm else None
        if norm and not corrected and u.intent in ("agree_review", "extort") \
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
        ctx.stage_before = before
        ctx.maybe = None
        ctx.last_role = "buyer"
        ctx.last_acts = []
        ctx.just_resumed = False  # the buyer spoke first after a resume: answer them, not greet again
        intent = u.intent
        ctx.greeted = bool(norm) and flow.cue("greeting", norm) is not None
        if said and said.traditional:  # a buyer who writes 繁體 is answered in it
            ctx.traditional = True
        elif said and ctx.traditional and written_simplified(said.source):  # back to 简体: so are we
            ctx.traditional = False
        if norm and flow.cue("safety", norm):
            ctx.safety, ctx.care_asked = True, False
        thing = flow.damaged(norm) if norm else None
        if thing is not None:  # "" when the message does not name the thing
            ctx.damaged = thing or self.phrases["damaged_thing"]
        self._note_product(conv, norm, thing)
        # another problem than the case's: another cause, or said as another one ("还有个事")
        ctx.new_problem = (u.cause is not None and ctx.cause is not None and u.cause != ctx.cause
                           and u.cause not in ctx.causes) or bool(norm and flow.cue("another", norm))
        ctx.told = u.cause
        had_cause = ctx.cause
        self._note_cause(ctx, u.cause, norm)
        # the primary intent and every other one read surely enough
        meant = [intent, *(i.intent for i in u.intents if i.confidence >= flow.weak_primary)]
        asks = [i for i in meant if i in _REQUESTS]
        complaint = u.cause is not None or any(i in _COMPLAINTS for i in meant)
        # A complaint that names no cause and asks for nothing states no problem: a mood
        # ("是我，干嘛"). A message with a goodbye in it is a goodbye, whatever else it says
        # ("就这样吧，反正也挺失望的"): it opens no new round (script.yaml `farewell`).
        # Sarcasm at being contacted ("你们还知道找我？") read with a late-contact cause is no problem either.
        vague = complaint and not asks and (u.cause is None or (
            u.cause in flow.talk_causes and bool(norm) and flow.cue("contacted", norm) is not None))
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
        if not wants and ctx.remedy_chosen and before in self._after_remedy and norm and self._outright(norm):
            # a change of mind read as a complaint ("等下 算了还是退吧 怕新的也开胶"): the option it
            # names outright is asked for, as a request would ask (the change below then takes it)
            wants = ["other"]
        requested = self._requested(ctx, wants, norm)
        if requested is not None and not self._offered(ctx, requested):
            # "先退款吧" on a quality case: its 退货退款 (remedies.yaml `instead`)
            requested = self.remedies.fit(requested, ctx.cause, norm)
        ctx.remedy_about = self._asked_about(ctx, norm) if norm and requested is None else None
        if ctx.remedy_about is None and ctx.remedy_chosen and before in self._asks and norm \
                and u.cause is None and flow.cue("question", norm) and (
                    ctx.remedy_chosen in self.remedies.found(norm)
                    or (self.remedies.named(norm) is None and flow.cue("asks_about", norm))):
            # once chosen, a question that names it ("补发的要寄回去吗") or no option ("要几天能到？")
            ctx.remedy_about = ctx.remedy_chosen
        # asking whether the new one will have the same problem: answered by what the shop does
        # so it won't (remedies.yaml `again`), not by how the option goes
        about = self.remedies.remedies.get(ctx.remedy_about or "")
        ctx.remedy_again = bool(about and about.again and flow.cue("asks_again", norm))
        if requested is not None:
            ctx.remedy_requested = requested
            ctx.remedies_refused = [r for r in self.remedies.turned_down(norm, flow.cues["turned_down"])
                                    if r != requested]  # not offered again as the alternative
        # the chosen remedy arrived ("收到了", "钱到了"): it is done, not a new problem
        received = bool(norm) and ctx.remedy_chosen is not None and u.cause is None \
            and flow.cue("received", norm) is not None
        if received:
            ctx.remedy_underway = ctx.remedy_received = True
        free_now = bool(norm) and flow.cue("free_now", norm) is not None
        if intent == "busy" and free_now:
            intent = "affirm"  # "现在有空了，你说吧" is the opposite of busy
        if intent == "busy" and before in self._asks and ctx.review_requests and norm \
                and flow.cue("defers", norm):
            intent = "other"  # "等鞋到了再说吧" to the review request answers it: it is put off
        if intent == "end" and u.cause is not None:
            intent = "complain"  # a complaint that ends in a resigned phrase (…就这样吧) goes on
        if intent == "end" and before in self._offers and ctx.remedies_offered and norm \
                and "affirm" in meant and flow.cue("settles", norm):
            intent = "affirm"  # "好的，那就这样吧" to the options agrees to them
        # the primary intent's events and the other intents' around them (issue 13.3)
        events = list(self._buyer_events(u) if intent == u.intent else self.script.buyer_events[intent])
        gate = flow.evidence.get(intent)
        # the other intents read surely: they still move the stage when the primary cannot
        sure = [] if corrected else [i.intent for i in u.intents
                                     if i.intent != u.intent and i.confidence >= flow.weak_primary]
        # the big jumps are the intents with an evidence threshold in script.yaml
        # a big jump whose cue the text lacks is held as well ("那你们等着吧" names no platform)
        uncued = intent in flow.evidence_cues and not (norm and flow.cue(flow.evidence_cues[intent], norm))
        if not corrected and gate is not None and (u.confidence < gate or uncued) \
                and self.script.leaves(before, intent):
            ctx.maybe = intent  # too weak to move: the stage holds, a note says how to confirm
            events = self._sure_events(sure, complaint)
        elif sure and u.confidence < flow.weak_primary and any(
                self.script.leaves(before, e) for e in self._sure_events(
                    sure, u.cause is not None or any(i in _COMPLAINTS for i in sure))):
            # A weak primary beside a sure reading ("是我。…称呼可别弄错" read complain at 0.33
            # after a sure "是我"): the sure readings move the stage, the weak one only says
            # "可能…" where it would have moved it. When the sure readings lead nowhere from
            # here ("退40吧，除毛球器也要": want_refund 0.41 beside a sure complaint, while the
            # options are on the table), the primary is still the best reading that does.
            complaint = u.cause is not None or any(i in _COMPLAINTS for i in sure)
            events = self._sure_events(sure, complaint)
            ctx.maybe = next((e for e in self.script.buyer_events[intent] if e not in events
                              and e in flow.maybe and self.script.leaves(before, e)), None)
        events = self._settle(events, vague)
        if norm:  # cues with events of their own ("我点错了吧": the buyer knows the order)
            events = [e for cue, evs in self.script.cue_events.items() if flow.cue(cue, norm)
                      for e in evs] + events
        # "那还是退15吧" read as a complaint still chooses; read as a question, only beside
        # another clause ("好，那就补发吧，菊花茶要寄回去吗"): "退货要寄到哪" alone asks. The case's
        # own cause said again is no new problem ("寄扣子吧，我楼下就有裁缝" read as quality), nor is
        # a message that ends on its choice ("重做还要等半个月，算了，退三成吧" read as logistics) or
        # opens with it and names no problem after it ("补缺的就行 我都拼一大半了" read as quality).
        if before in self._offers and ctx.remedies_offered and norm \
                and (u.cause in (None, ctx.cause) or self._picks("".join(clauses[-1:]))
                     or self._opens_on_choice(clauses)) \
                and (intent != "ask" or len(clauses) > 1) \
                and not any(self.script.leaves(before, e) for e in events if e not in self._pick_outranks) \
                and self._picks(norm):  # ("不用退，线补给我就行" read as no: choosing outranks it)
            events = self._settle(events + self.script.pick_events, False)
        if before in self._offers and norm and self.script.tentative_events.intersection(events) \
                and (self._outright(norm) is False or flow.cue("haggles", norm) or flow.cue("asks_amount", norm)):
            # asked about, under a condition, a counter-offer ("退20？太少了，起码退50") or the sum
            # asked ("留着吧 退多少钱？")
            events = [e for e in events if e not in self.script.tentative_events]
        if before in self._callback:
            if free_now or (complaint and intent not in ("busy", "extort", "threaten")):
                self.script.fire(conv, "carry_on", at)
                ctx.callback_at, ctx.offers_time = None, False
                if free_now and not complaint and conv.stage not in self._identifies:
                    # "到家了你说吧" resumes the step it was on: it is no "记得" to the order
                    events = []
            else:
                when = callback_time(norm, at or datetime.now()) if norm else None
                if when is not None:
                    ctx.callback_at, ctx.offers_time = when.isoformat(timespec="minutes"), True
                events = [e for e in events if e in ("extort", "threaten")]
        elif before in self._suspect:
            if intent == "extort":
                ctx.firm = True  # a second demand: the hold is firm
                events = []
            elif not ctx.firm and intent in flow.ordinary_intents and (
                    corrected or u.confidence >= flow.ordinary_confidence):
                self.script.fire(conv, "carry_on", at)  # the talk carries on normally
                ctx.suspected = conv.stage in self._suspect
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
        problem = self._before_remedy
        # a mood states the problem only once the buyer is telling it (the stages that handle it)
        if complaint and (before in problem or conv.stage in problem) and (
                not vague or before in self._handles):
            ctx.problem_stated = True
        # a remedy neither the cause nor the agent offers, asked for outright ("全额退款，东西我不
        # 寄回了" on a quality case), or the yes to such a standing request: nothing is chosen (the
        # reply says what the shop can do instead: remedy_not_offered), the stage holds (`unoffered`)
        names = bool(norm) and self.remedies.named(norm) is not None
        wish = requested if requested is not None else (
            ctx.remedy_requested if intent == "affirm" and not names and len(ctx.options_listed) != 1 else None)
        ctx.unoffered = before in self._offers and wish is not None and not self._offered(ctx, wish)
        moves: list[str] = []
        path = self._fire_all(conv, events, at, moves)
        if had_cause is None and ctx.cause in self.flow.talk_causes \
                and conv.stage in self._identifies | self._confirms:
            # a reaction to the contact that was not heard as the problem ("…就让我改差评？" while the
            # order is still being checked): the product's problem told later takes its place
            ctx.cause_early = True
        # a plain yes to several options ("好的" to "换新的，或者退货退款") chose none: asked which
        ctx.remedy_which = before in self._offers and conv.stage == before and "affirm" in events \
            and ctx.remedies_offered > 0 and len(ctx.options_listed) > 1 \
            and (ctx.remedy_requested is None or ctx.unoffered)  # (a yes to the options, not to the refused one)
        if before in self._closes and conv.stage in self._before_remedy:
            self._new_round(conv)  # a new problem while closing: heard, explained and remedied anew
        initial = self.script.initial
        if before == initial and conv.stage != initial:
            ctx.buyer_first = ctx.identity_confirmed = True  # the buyer spoke first
            # "是我，…", "我是黄大山…": the greeting that folds into the reply asks no "您是…吧"
            name = conv.case.buyer_name
            ctx.buyer_first_said_who = "affirm" in meant or (
                name != self.defaults["buyer_name"] and bool(name) and name in text)
        if (len(path) > 1 and before in self._identifies) or any(s in self._confirms for s in path[1:]):
            ctx.identity_confirmed = True
        left = next((ev for s, ev in zip(path, moves, strict=False) if s in self._offers), None)
        # every option turned down, then one chosen after all ("诶等下，还是换一个吧"): chosen
        again = before in self._closes and ctx.all_declined and conv.stage in self._after_remedy \
            and not ctx.farewell and bool(set(self.script.pick_events).intersection(events))
        if conv.stage in self._after_remedy and (left is not None or again):
            if left in ("deny", "end"):  # every option turned down ("都不用了", "算了，都不要了")
                ctx.all_declined = True
            else:  # the option named, else the one the request (primary or not) asks for
                ctx.all_declined = False
                asked = next((i.intent for i in u.intents if i.intent in _REQUESTS
                              and i.confidence >= flow.weak_primary), intent)
                # the option named outside a question ("换新款 能再补偿点啥不": the exchange, not a gift)
                plain = [c for c in clauses if not flow.cue("question", c)]
                told = "，".join(plain) if plain and self.remedies.named("，".join(plain)) else None
                picked = self.remedies.match(told or norm or u.text or text, asked, ctx.cause,
                                             flow.cues["turned_down"])
                picked = self.remedies.listed(picked, ctx.options_listed, norm or u.text or text)
                ctx.remedy_chosen = picked if self._offered(ctx, picked) else self.remedies.fit(
                    picked, ctx.cause, norm)
                if asked not in _REQUESTS and len(ctx.options_listed) == 1 \
                        and self.remedies.named(norm or u.text or text) is None:
                    # a plain yes to the one option the agent offered chooses it, not the cause's first
                    ctx.remedy_chosen = ctx.options_listed[0]
                if requested is None and asked not in _REQUESTS and ctx.remedy_requested \
                        and self._offered(ctx, ctx.remedy_requested) \
                        and self.remedies.named(norm or u.text or text) is None:
                    # a plain yes ("好的") to the agent's answer to a request chooses what was asked
                    ctx.remedy_chosen = ctx.remedy_requested
                placed = self._placed(ctx, norm) if norm and self.remedies.named(norm) is None else None
                if placed is not None:  # "第二个": the second option as the agent listed them
                    ctx.remedy_chosen = placed
                if len(clauses) > 1 and any(flow.cue("question", c) or flow.cue("asks_about", c)
                                            for c in clauses):
                    # chosen beside a question ("行，补发吧，要几天能到？", "菊花茶要寄回去吗"): asked
                    # about the chosen one, which the reply that arranges it answers
                    ctx.remedy_about = ctx.remedy_chosen
        if requested is not None and ctx.remedy_chosen not in (None, requested) and before in self._after_remedy \
                and conv.stage in self._after_remedy and self.remedies.offers(ctx.cause, requested) \
                and self._outright(norm):
            # a change of mind once chosen ("算了还是退货吧"): the new one is chosen, not yet under way
            ctx.remedy_chosen = requested
            ctx.remedy_changed = True
            ctx.remedy_underway = ctx.remedy_received = False
        # asking who pays the postage ("换的话运费谁出 我没买运费险", "退吧 …是不是直接走运费险就行"):
        # the reply about that option says it (remedies.yaml `shipping`)
        about = self.remedies.remedies.get(ctx.remedy_about or "")
        ctx.shipping_asked = bool(about and about.shipping and norm and flow.cue("shipping", norm))
        if before in self._asks and conv.stage in self._closes:
            ctx.review_answer = intent
        if intent == "wrong_person" and conv.stage in self._closes:
            ctx.wrong_person = True
        if conv.stage in self._suspect and before not in self._suspect:
            ctx.firm = corrected or u.confidence >= flow.firm_extort
            ctx.refusals = 0
            ctx.suspected = True
        if conv.stage in self.script.holding and before not in self.script.holding:
            ctx.held_from = before if before in self.script.active else self._hears
        conv.last_intent = u.intent

    def _opened_by(self, u: BuyerUnderstanding, text: str, norm: str, cue: str,
                   intent: str) -> BuyerUnderstanding:
        """A message opened by a plain yes (script.yaml cues.yes: "嗯 快点", "我是，請問哪位",
        "dui") affirms, whatever else it is read as; one opened by a plain no to the options
        (cues.no: "都不用了 …") declines them: read as other, the word is the reading; beside
        another reading, it comes first. The word may be one of its own before a space."""
        if u.intent == intent or any(i.intent == intent for i in u.intents):
            return u
        first = text.split(maxsplit=1)[0] if text.strip() else ""
        if not self.flow.cue(cue, norm) and not (
                first != text.strip() and self.flow.cue(cue, self.understand.normalize(first).text)):
            return u
        if u.intent == "other":
            return u.model_copy(update={"intent": intent, "intents": [
                IntentScore(intent=intent, confidence=u.confidence)]})
        rest = u.intents or [IntentScore(intent=u.intent, confidence=u.confidence)]
        return u.model_copy(update={"intents": [IntentScore(intent=intent, confidence=1.0), *rest]})

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

    def _note_cause(self, ctx: Context, cause: Cause | None, norm: str) -> None:
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

    def _new_round(self, conv: Conversation) -> None:
        """A closed case opens again: what the last round settled is asked again."""
        ctx = conv.context
        ctx.rounds += 1
        ctx.explanations = ctx.remedies_offered = 0
        ctx.remedy_chosen, ctx.all_declined, ctx.review_answer = None, False, None
        ctx.remedy_requested, ctx.remedies_refused, ctx.options_listed = None, [], []
        ctx.wrong_person = ctx.remedy_underway = ctx.remedy_received = False
        ctx.problem_stated, ctx.misclick = True, None
        conv.outcome = None

    def _sure_events(self, sure: list[str], complaint: bool) -> list[str]:
        """The events of a message whose primary reading may not move the stage: the main-path
        moves of the intents read surely, in text order, then the problem (when one was
        stated) and the answer."""
        events = [e for i in sure for e in self.script.secondary_events.get(i, [])]
        return [*events, *(["problem"] if complaint else []), "answer"]

    def _buyer_events(self, u: BuyerUnderstanding) -> list[str]:
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

    def _apply_agent(
        self, conv: Conversation, u: AgentUnderstanding, text: str, at: datetime | None,
        unsure: frozenset[str] = frozenset(),
    ) -> None:
        """``unsure``: acts the learned model alone read, below script.yaml ``act_evidence``:
        such an act does not make a second move in one message (the apology that retells the
        problem moves 倾听致歉 on; its "explanation", read by the model alone at about 0.5,
        does not carry on to 提出补救), and is then not counted either."""
        ctx = conv.context
        acts = set(u.acts)
        if "confirm_product" in acts:
            ctx.product_confirmed = True
        if any(f.code == "conditional_benefit" for f in u.findings):
            ctx.ties += 1
        ctx.repair = any(f.severity == "block" for f in u.findings)
        ctx.agent_recent = [*ctx.agent_recent, text][-self.understand.guard.ties.memory:]
        norm = self.understand.normalize(text).text
        self._note_product(conv, norm)
        ctx.last_role, ctx.last_acts = "agent", list(u.acts)
        ctx.agent_turns += 1
        flow = self.flow
        if conv.stage in self._callback and self.policy.callback_time.search(norm):
            ctx.offers_time = True
            when = callback_time(norm, at or datetime.now())
            if when is not None:
                ctx.callback_at = when.isoformat(timespec="minutes")
        if ctx.safety and flow.cue("care_asked", norm):
            ctx.care_asked = True
        if conv.stage in self._suspect and not any(
                f.code == "conditional_benefit" for f in u.findings):
            ctx.refusals += 1
        if conv.stage in self._hands_over and flow.cue("handed_over", norm):
            ctx.handed_over = True
        # an offer that still asks the buyer ("…，您看行吗？") is not under way until it says done
        if ctx.remedy_chosen and ("offer_remedy" in acts or flow.cue("underway", norm)) and (
                not flow.cue("asks_consent", norm) or flow.cue("done", norm)):
            ctx.remedy_underway = True
        if "offer_remedy" in acts:  # the options the offer leaves to choose between (a bare yes)
            down = flow.cues["turned_down"]  # ("不用寄回" is no option)
            named = [r for r in self.remedies.in_order(norm)
                     if self.remedies.cue_length(self.remedies.remedies[r], norm, down)]
            if named:
                ctx.options_listed = named if flow.cue("alternatives", norm) else named[:1]
        before = conv.stage
        self._fire_all(conv, ["message"], at)
        start = conv.stage
        for act in u.acts:
            if act in unsure and conv.stage != start:
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
        stage = self.script.stages[conv.stage]
        variables = self._variables(conv, at)
        replies = self._replies(conv, variables, at)
        public = self._public_reply(conv, variables, at)
        notes = self.policy.stage_notes(conv.stage, conv.context.callback_at is not None,
                                        self._held_suspect(conv)) \
            + self._flow_notes(conv, at)
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
                for r in self.remedies.options(conv.context.cause)]
            if conv.stage in self._shows_remedies else [],
            warnings=warnings + notes,
            checklist=[self._item(i, d) for i, d in self.script.checklist(conv)],
            public_reply=public,
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
        if ctx.damaged and conv.stage in self._handles:
            out.append(self._note("other_damage", thing=ctx.damaged))
        if conv.stage in self._callback and ctx.callback_at:
            out.append(self._note("callback_agreed", when=self._spoken_callback(ctx, at)))
        if conv.stage in self._hands_over:
            out.append(self._note("takes_over", owner=self.flow.escalation_owner))
        if ctx.deal and ctx.last_role == "buyer" and "deal" in self.flow.notes:
            out.append(self._note("deal"))
        if ctx.rounds > 1 and ctx.last_role == "buyer" and ctx.stage_before == self.script.final \
                and conv.stage != self.script.final:
            out.append(self._note("reopened", rounds=ctx.rounds))
        return out

    @staticmethod
    def _spoken_callback(ctx: Context, at: datetime | None) -> str:
        when = datetime.fromisoformat(ctx.callback_at or "")
        return spoken_time(when, at)

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
        return dict(self._variables(conv, at))

    def _variables(self, conv: Conversation, at: datetime | None) -> dict[str, Any]:
        # The same for every turn of a conversation until the cause, the remedy or the case
        # changes: kept per those facts (bounded; shared, so never changed in place). Not
        # with a callback time, spoken relative to now.
        case, ctx = conv.case, conv.context
        if ctx.callback_at:
            return self._make_variables(conv, at)
        key = (case.buyer_name, case.honorific, case.shop, case.agent, case.product, ctx.product_said,
               case.order_date, ctx.cause, ctx.remedy_chosen, ctx.remedy_requested, ctx.remedy_about,
               ctx.shipping_asked,
               tuple(ctx.remedies_refused), tuple(ctx.options_listed), ctx.damaged, conv.tone)
        found = self._variables_of.get(key)
        if found is None:
            if len(self._variables_of) >= 1024:
                self._variables_of.clear()
            found = self._variables_of[key] = self._make_variables(conv, at)
        return found

    def _make_variables(self, conv: Conversation, at: datetime | None) -> dict[str, Any]:
        case, ctx = conv.case, conv.context
        options = self.remedies.for_cause(ctx.cause)
        chosen = self.remedies.remedies.get(ctx.remedy_chosen or "", options[0])
        unit, use = self.products.words(case.product or ctx.product_said)
        d = case.order_date
        options_text = self.remedies.options_text(ctx.cause).replace("{{ unit }}", unit)
        # what the buyer asked for (else the first option) and the cause's other options
        wanted = self.remedies.remedies.get(ctx.remedy_about or ctx.remedy_requested or "", options[0])
        others = self.remedies.options_text(ctx.cause, without={wanted.id, *ctx.remedies_refused}
                                            ).replace("{{ unit }}", unit)
        remedy = chosen.short.replace("{{ unit }}", unit)
        words = self.phrases
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
            "requested": wanted.short.replace("{{ unit }}", unit),
            "requested_text": wanted.text.replace("{{ unit }}", unit),
            "others": others,
            # the options the agent's latest offer left open, as a question ("换一件新的，还是退货退款")
            "listed": _either([self.remedies.remedies[r].short.replace("{{ unit }}", unit)
                               for r in ctx.options_listed if r in self.remedies.remedies]),
            "what_next": (wanted.next or words["remedy_next"]).replace("{{ unit }}", unit),
            "again": (wanted.again or "").replace("{{ unit }}", unit),
            "shipping": (wanted.shipping or "").replace("{{ unit }}", unit) if ctx.shipping_asked else "",
            "unit": unit,
            "use": use,
            "callback_time": self._spoken_callback(ctx, at) if ctx.callback_at else words["callback_time"],
            "tone": conv.tone,
        }

    def situation_keys(self, conv: Conversation, at: datetime | None) -> tuple[str, list[str]]:
        """The template folder for this turn and its keys, most specific first."""
        ctx = conv.context
        keys: list[str] = []
        if ctx.just_resumed:
            # "按约定的时间" only when a time was agreed
            return self.script.initial, ["resume-agreed"] * bool(ctx.callback_at) + ["resume", "default"]
        if conv.stage == self.script.final:  # a bare "在吗" gets "在的", a goodbye a goodbye
            return self.script.final, ["greeting"] * ctx.greeted + [f"intent-{conv.last_intent}", "default"]
        if ctx.repair:
            keys.append("after_block")  # correct a blocked message before anything else
        elif ctx.deal and ctx.last_role == "buyer" and self.remedies.offers(
                ctx.cause, ctx.remedy_chosen or ctx.remedy_requested or ""):
            # the review offered for the fix: the fix as ever, no deal (a fix the cause's options
            # lack is not promised: remedy_not_offered, with the note)
            keys.append("deal")
        elif ctx.remedy_which and ctx.last_role == "buyer" and conv.stage in self._offers:
            keys.append("which")  # a plain yes to several options: which one, named as offered
        elif ctx.last_role == "agent":  # what the agent just sent is done: suggest the next step
            step = self.flow.next_step.get(conv.stage)
            if step is not None and step.act in ctx.last_acts:
                # the agent answered the buyer's request: asked to confirm it, not to pick one
                asked = bool(ctx.remedy_requested and not ctx.remedy_chosen and conv.stage in self._offers)
                return step.folder, [f"{step.key}-requested"] * asked + [step.key, "default"]
        if conv.stage in self._callback and ctx.callback_at:
            keys.append("agreed")
        if conv.stage in self._hands_over and ctx.handed_over:
            keys.append("handed_over")  # the agent said who takes over: not said again
        if conv.stage in self._asks and ctx.last_role == "buyer" and ctx.remedy_changed:
            keys.append("changed")  # "算了还是退吧": the new choice is arranged, not heard as a problem
        if conv.stage in self._asks and ctx.last_role == "buyer" and conv.last_intent == "complain" \
                and ctx.stage_before == conv.stage:  # (not the choice itself: "寄泵頭就行" read as a complaint)
            keys.append("intent-complain")  # a problem raised late is heard before anything else
        if ctx.misclick:  # (also after the agent's reply: no "哪里不满意" while no problem is told)
            # a slip: no "哪里不满意"; nothing wrong: left to the buyer (no request before a fix)
            if ctx.misclick == "how":  # how to change it, or honestly that it no longer can
                keys.append("misclick-how" if review_changeable(conv, at) else "misclick-fixed")
            keys.append("misclick" if ctx.misclick == "said" else "misclick-fine")
        if ctx.last_role == "buyer":  # (where the folder has them)
            if ctx.offended and not ctx.remedy_asked:  # ("…你就说怎么解决": the options, remedy_asked)
                keys.append("offended")  # the agent's words hurt: owned first, then the talk goes on
            if ctx.self_fixed:
                keys.append("self_fixed")  # fixed it themselves: thanked for the trouble, nothing pushed
            if ctx.call_asked:
                keys.append("call")  # asked to be called: the talk stays here, said kindly
            if ctx.amount and not ctx.remedy_chosen and conv.stage in self._offers:
                # once the options are out, how much or more: the sum is the agent's to set (before
                # them, "赔多少" gets the options: remedy_asked)
                keys.append(f"amount-{ctx.amount}")
        if ctx.remedy_again and ctx.last_role == "buyer":
            keys.append("remedy_again")  # will the new one have the same problem: what we do so it won't
        if ctx.remedy_about and ctx.last_role == "buyer":
            keys.append("remedy_about")  # a question about an option: how it goes, then the choice
        if ctx.remedy_requested and ((ctx.remedy_asked and ctx.last_role == "buyer") or (
                conv.stage in self._offers and not ctx.remedy_chosen)):
            # (where the options are shown, the request still stands after the agent's explanation)
            # the buyer asked for one: lead with it; one the cause's options lack (remedies.yaml
            # by_cause) is not promised: the options the shop has instead
            offered = self._offered(ctx, ctx.remedy_requested)
            keys.append("remedy_requested" if offered else "remedy_not_offered")
        if ctx.remedy_asked and ctx.last_role == "buyer":
            keys.append("remedy_asked")  # where the folder has it: the options, with a short reason
        if conv.stage in self._asks and ctx.remedy_received and ctx.last_role == "buyer":
            keys.append("received")  # the buyer has it: glad it arrived, not "已经在办了"
        if conv.stage in self._asks and ctx.remedy_about and ctx.remedy_about == ctx.remedy_chosen \
                and ctx.last_role == "buyer":  # asked how the chosen one goes: answered before any request
            keys.append("arranged-asked" if ctx.remedy_underway else "arrange-asked")
        if conv.stage in self._asks and not ctx.remedy_underway:
            keys.append("arrange")  # no review request before the remedy is under way
        if conv.case.buyer_name == self.defaults["buyer_name"]:
            keys.append("noname")
        if conv.stage in self._closes and ctx.change_asked and ctx.last_role == "buyer":
            # how to change it, or honestly that it no longer can (Tmall, too late, changed once)
            keys.append("change-how" if review_changeable(conv, at) else "change-fixed")
        if conv.stage in self._closes:
            if ctx.wrong_person:
                keys.append("wrong_person")
            elif ctx.all_declined:
                keys.append("declined")
            elif ctx.review_answer in ("agree_review", "refuse_review"):
                keys.append(f"intent-{ctx.review_answer}")
            elif ctx.remedy_chosen and ctx.review_answer is None and (
                    ctx.review_requests > 0 or not review_changeable(conv, at)):
                # chosen and no request to make (Tmall, too late, or asked once already: a new round,
                # or asked too early): the remedy is arranged and the talk closes
                keys.append("no_request")
        if conv.last_intent:
            keys.append(f"intent-{conv.last_intent}")
        if ctx.cause:
            keys.append(f"cause-{ctx.cause}")
        keys.append("default")
        return conv.stage, keys

    def _replies(
        self, conv: Conversation, variables: dict[str, Any], at: datetime | None
    ) -> list[SuggestedReply]:
        ctx = conv.context
        if conv.stage in self._asks and ctx.review_requests > 0 and not ctx.repair:
            return []  # the one request is made: wait for the buyer
        if conv.stage == self.script.final and ctx.last_role == "agent":
            return []  # the agent said goodbye: nothing to add until the buyer writes again
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
        key = (variant.id, *[str(variables[k]) for k in _GUARD_KEYS])
        hit = self._guard_cache.get(key)
        if hit is None:
            text = self.templates.render(variant, {**variables, **_NEUTRAL_NAME, "tone": variant.tone})
            hit = self.understand.guard.blocks(self.understand.findings(text))
            if len(self._guard_cache) >= 4096:
                self._guard_cache.clear()
            self._guard_cache[key] = hit
        return hit

    def _public_reply(
        self, conv: Conversation, variables: dict[str, Any], at: datetime | None
    ) -> str | None:
        ctx = conv.context
        suspect = conv.stage in self._suspect or self._held_suspect(conv)
        stays = suspect or (
            (conv.stage in self._closes or conv.stage == self.script.final)
            and (ctx.all_declined or ctx.review_answer == "refuse_review"
                 or (ctx.remedy_chosen is not None and not review_changeable(conv, at)))
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


__all__ = ["ConversationClosed", "Engine"]
