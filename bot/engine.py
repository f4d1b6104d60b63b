"""The Python API: start a conversation from case fields, feed messages, get Suggestions.

Pure and synchronous: no I/O after loading, no clock (pass ``at`` to judge times), and no
state kept per conversation. The service and the simulator wrap it.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path
from typing import Any, cast

import yaml

from bot.compose.remedies import RemedyBook
from bot.compose.templates import TemplateLibrary, Variant
from bot.dataload import DataError, load_yaml
from bot.guard.policy import Policy
from bot.models import (
    AgentUnderstanding,
    BuyerUnderstanding,
    Case,
    ChecklistItem,
    Conversation,
    Finding,
    Outcome,
    Progress,
    Role,
    StageRef,
    SuggestedReply,
    Suggestion,
    Tone,
)
from bot.paths import dialogs_dir, templates_dir
from bot.script.machine import Script, review_changeable
from bot.understand.pipeline import Understander

_NEUTRAL_NAME = {"call": "亲", "name": "亲", "honorific": ""}
_GUARD_KEYS = ("shop", "agent", "product", "order_date", "cause", "options", "remedy")
_COMPLAINTS = frozenset({"complain", "want_return", "want_exchange", "want_refund",
                         "want_compensation"})


class ConversationClosed(ValueError):
    """A message was fed to a conversation that has ended."""


class Engine:
    """Understanding, script, composition and guard, loaded once from the data folders."""

    def __init__(self, dialogs: Path, templates: Path) -> None:
        self.dialogs = dialogs
        self.templates_root = templates
        self.understand = Understander(dialogs)
        self.understand.load_all()
        raw = (dialogs / "script.yaml").read_bytes()
        spec = yaml.safe_load(raw)
        if not isinstance(spec, dict):
            raise DataError(f"数据文件格式错误：{dialogs / 'script.yaml'}")
        self.script = Script(spec, raw + _tree_digest(templates))
        self.remedies = RemedyBook(load_yaml(dialogs, "remedies.yaml"))
        self.policy = Policy(load_yaml(dialogs, "policy.yaml"), self.script.max_attempts)
        self.templates = TemplateLibrary(templates)
        words = load_yaml(dialogs, "defaults.yaml")
        self.defaults: dict[str, str] = words["defaults"]
        self.cause_labels: dict[str, str] = words["cause_labels"]
        self._guard_cache: dict[tuple[str, ...], bool] = {}
        self._progress_of: dict[str, Progress] = {}

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
            case = Case(shop="本店", buyer_name=self.defaults["buyer_name"])
        elif not isinstance(case, Case):
            case = Case.model_validate(case)
        conv = Conversation(id=conversation_id, case=case, tone=tone,
                            stage=self.script.initial, script_version=self.script.version)
        return self._answer(conv, None, [], None)

    def feed(
        self, conv: Conversation, role: Role, text: str, *, at: datetime | None = None,
        owned: bool = False,
    ) -> tuple[Conversation, Suggestion]:
        """Apply one message; returns the new conversation. The input is not changed,
        unless ``owned`` (the caller made it for this call alone and may lose it)."""
        if conv.stage == self.script.final:
            raise ConversationClosed("这个会话已经结束，不能再添加消息")
        if not owned:
            conv = _copy(conv)
        conv.turn += 1
        if role == "buyer":
            bu = self.understand.buyer(text)
            self._apply_buyer(conv, bu, text, at)
            return self._answer(conv, bu, [], at)
        au = self.understand.agent(text)
        warnings = au.findings + self.policy.agent_turn(
            conv, list(au.acts), au.findings, review_changeable(conv, at), at)
        self._apply_agent(conv, au, text, at)
        return self._answer(conv, au, warnings, at)

    def resume(self, conv: Conversation) -> tuple[Conversation, Suggestion]:
        """A person resumes a held case (a callback is a new contact attempt)."""
        conv = _copy(conv)
        was = conv.stage
        if was == "callback" and conv.context.attempts >= self.script.max_attempts:
            raise ValueError(self.policy.notes["too_many_attempts"][1])
        if not self.script.fire(conv, "resume"):
            raise ValueError(f"当前阶段（{self.script.stages[was].label}）不能恢复")
        if was == "callback":
            conv.context.attempts += 1
        conv.context.just_resumed = was == "callback"
        return self._answer(conv, None, [], None)

    def close(self, conv: Conversation, outcome: Outcome) -> Conversation:
        """A person closes the case with an outcome."""
        conv = _copy(conv)
        self.script.fire(conv, "close_case")
        conv.outcome = outcome
        return conv

    def escalate(self, conv: Conversation) -> tuple[Conversation, Suggestion]:
        """A supervisor was notified and joins: the case holds in the escalated stage (not a turn)."""
        conv = _copy(conv)
        before = conv.stage
        if self.script.fire(conv, "escalate") and before not in self.script.holding:
            conv.context.held_from = before
        conv.context.supervisor_notified = True
        return self._answer(conv, None, [], None)

    def current(self, conv: Conversation) -> Suggestion:
        """The Suggestion for the conversation as it stands (after a change that is not a turn)."""
        return self._answer(_copy(conv), None, [], None)[1]

    # -- applying a turn ---------------------------------------------------------------

    def _fire_all(self, conv: Conversation, events: list[str], at: datetime | None) -> list[str]:
        path = [conv.stage]
        for ev in events:
            if self.script.fire(conv, ev, at):
                path.append(conv.stage)
        return path

    def _apply_buyer(
        self, conv: Conversation, u: BuyerUnderstanding, text: str, at: datetime | None
    ) -> None:
        ctx = conv.context
        before = conv.stage
        if u.cause and (ctx.cause is None or before in ("confirm_identity", "confirm_product",
                                                        "listen_apologize")):
            ctx.cause = u.cause
        if (u.intent in _COMPLAINTS or u.cause) and before in (
                "confirm_identity", "confirm_product", "listen_apologize", "explain"):
            ctx.problem_stated = True
        path = self._fire_all(conv, self.script.buyer_events[u.intent], at)
        if "confirm_product" in path[1:] or (before == "confirm_identity" and len(path) > 1):
            ctx.identity_confirmed = True
        if before == "remedy" and conv.stage in ("polite_request", "closing"):
            if u.intent == "deny":
                ctx.all_declined = True
            else:
                ctx.remedy_chosen = self.remedies.match(u.text, u.intent, ctx.cause)
        if before == "polite_request" and conv.stage == "closing":
            ctx.review_answer = u.intent
        if u.intent == "wrong_person" and conv.stage == "closing":
            ctx.wrong_person = True
        if conv.stage in self.script.holding and before not in self.script.holding:
            ctx.held_from = before
        conv.last_intent = u.intent

    def _apply_agent(
        self, conv: Conversation, u: AgentUnderstanding, text: str, at: datetime | None
    ) -> None:
        ctx = conv.context
        acts = set(u.acts)
        ctx.apologies += "apologize" in acts
        ctx.empathies += "empathize" in acts
        ctx.explanations += "explain" in acts
        ctx.remedies_offered += "offer_remedy" in acts
        ctx.review_requests += "request_review" in acts
        ctx.thanks += "thank" in acts
        ctx.closings += "close" in acts
        ctx.blame += "blame_buyer" in acts
        ctx.product_confirmed = ctx.product_confirmed or "confirm_product" in acts
        if conv.stage == "callback" and self.policy.callback_time.search(
            self.understand.normalize(text).text
        ):
            ctx.offers_time = True
        events = ["message"] + [ev for act in u.acts for ev in self.script.agent_events[act]]
        before = conv.stage
        self._fire_all(conv, events, at)
        if conv.stage in self.script.holding and before not in self.script.holding:
            ctx.held_from = before
        ctx.just_resumed = False

    # -- composing the answer --------------------------------------------------------------

    def _answer(
        self, conv: Conversation, u: BuyerUnderstanding | AgentUnderstanding | None,
        warnings: list[Finding], at: datetime | None,
    ) -> tuple[Conversation, Suggestion]:
        stage = self.script.stages[conv.stage]
        variables = self.variables(conv)
        replies = self._replies(conv, variables, at)
        public = self._public_reply(conv, variables, at)
        notes = self.policy.stage_notes(conv.stage)
        if public:
            notes.append(self.policy.note("public_reply"))
        sug = Suggestion(
            conversation_id=conv.id,
            turn=conv.turn,
            stage=StageRef(id=stage.id, label=stage.label),
            progress=self._progress(stage.id),
            understanding=u,
            suggestions=replies,
            remedies=self.remedies.options(conv.context.cause)
            if conv.stage in ("explain", "remedy", "malicious") else [],
            warnings=warnings + notes,
            checklist=[ChecklistItem(item=i, done=d) for i, d in self.script.checklist(conv)],
            public_reply=public,
        )
        conv.last_templates = [s.template for s in replies]
        return conv, sug

    def _progress(self, stage: str) -> Progress:
        # The same for every turn at a stage: built once per stage.
        if stage not in self._progress_of:
            self._progress_of[stage] = Progress(
                step=self.script.progress_step(stage), of=len(self.script.main_path),
                stages=[StageRef(id=s, label=self.script.stages[s].label)
                        for s in self.script.main_path])
        return self._progress_of[stage]

    def variables(self, conv: Conversation) -> dict[str, Any]:
        """The template variables of docs/templates.md for this conversation."""
        case, ctx = conv.case, conv.context
        options = self.remedies.for_cause(ctx.cause)
        chosen = self.remedies.remedies.get(ctx.remedy_chosen or "", options[0])
        d = case.order_date
        return {
            "call": f"{case.buyer_name}{case.honorific}",
            "name": case.buyer_name,
            "honorific": case.honorific,
            "shop": case.shop,
            "agent": case.agent or self.defaults["agent"],
            "product": case.product or self.defaults["product"],
            "order_date": f"{d.month}月{d.day}日" if d else self.defaults["order_date"],
            "cause": self.cause_labels[ctx.cause or "unknown"],
            "options": self.remedies.options_text(ctx.cause),
            "remedy": chosen.short,
            "tone": conv.tone,
        }

    def situation_keys(self, conv: Conversation, at: datetime | None) -> tuple[str, list[str]]:
        """The template folder for this turn and its keys, most specific first."""
        ctx = conv.context
        keys: list[str] = []
        if ctx.just_resumed:
            return "opening", ["resume", "default"]
        if conv.case.buyer_name == self.defaults["buyer_name"]:
            keys.append("noname")
        if conv.stage == "closing":
            if ctx.wrong_person:
                keys.append("wrong_person")
            elif ctx.all_declined:
                keys.append("declined")
            elif ctx.review_answer in ("agree_review", "refuse_review"):
                keys.append(f"intent-{ctx.review_answer}")
            elif ctx.remedy_chosen and ctx.review_requests == 0 and not review_changeable(conv, at):
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
        if conv.stage == self.script.final or (
            conv.stage == "polite_request" and conv.context.review_requests > 0
        ):
            return []  # the case is over, or the one request is made: wait for the buyer
        folder, candidates = self.situation_keys(conv, at)
        key = self.templates.pick_key(folder, candidates)
        if key is None:
            return []
        avoid = set(conv.last_templates)
        other: Tone = "亲切" if conv.tone == "正式" else "正式"
        chosen: list[Variant] = self.templates.choose(folder, key, conv.tone, 2, conv.turn, avoid)
        chosen += self.templates.choose(folder, key, other, 1, conv.turn, avoid)
        out: list[SuggestedReply] = []
        shop_data = tuple(str(variables[k]) for k in _GUARD_KEYS)
        for v in chosen:
            text = self.templates.render(v, {**variables, "tone": v.tone})
            if self._blocked(v, variables, shop_data):
                continue  # never suggest what the guard blocks (tests keep this list empty)
            out.append(SuggestedReply(text=text, template=v.id, tone=cast(Tone, v.tone)))
        return out

    def _blocked(self, variant: Variant, variables: dict[str, Any], shop_data: tuple[str, ...]) -> bool:
        """Whether the guard blocks this variant rendered with these variables.

        The guard reads the text with the buyer's name held neutral (a name cannot tie a
        benefit to a review), so one check serves every buyer of the same shop, product and
        remedy; the answers are kept in a small bounded cache, off the per-turn cost.
        """
        key = (variant.id, *shop_data)
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
        stays = conv.stage == "malicious" or (
            conv.stage in ("closing", self.script.final)
            and (ctx.all_declined or ctx.review_answer == "refuse_review"
                 or (ctx.remedy_chosen is not None and not review_changeable(conv, at)))
        )
        if not stays:
            return None
        key = self.templates.pick_key("public_reply", [f"cause-{ctx.cause}", "default"])
        if key is None:
            return None
        picked = self.templates.choose("public_reply", key, "正式", 1, conv.turn, set())
        return self.templates.render(picked[0], variables) if picked else None

    # -- single messages ----------------------------------------------------------------------

    def analyze(self, role: Role, text: str) -> BuyerUnderstanding | AgentUnderstanding:
        """The `csbot analyze` result of one message."""
        return self.understand.buyer(text) if role == "buyer" else self.understand.agent(text)


def _copy(conv: Conversation) -> Conversation:
    # The engine changes only the context and the lists of a conversation, never its case:
    # copying those is enough and costs a tenth of a deep copy.
    return conv.model_copy(update={"context": conv.context.model_copy(),
                                   "last_templates": list(conv.last_templates)})


def _tree_digest(root: Path) -> bytes:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*.j2")):
        h.update(p.relative_to(root).as_posix().encode())
        h.update(p.read_bytes())
    return h.digest()


__all__ = ["ConversationClosed", "Engine"]
