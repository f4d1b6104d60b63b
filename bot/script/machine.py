"""Builds the one shared state machine from ``dialogs/script.yaml`` and fires events on it.

The machine is a table: for each event and source stage, the transitions in script order,
each with the predicates that must hold and those that must not. Firing an event tries
them in order and moves the conversation to the first whose predicates agree (what
``transitions`` does, without its event objects and callbacks: they were a twentieth of a
turn). Conversations are plain data: nothing per conversation is kept here.
"""

from __future__ import annotations

import functools
import hashlib
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.dataload import DataError
from bot.datamodels import ROLES, role_problems
from bot.models import Conversation
from bot.script.flow import Flow

Predicate = Callable[[Conversation, datetime | None], bool]


@dataclass(frozen=True, slots=True)
class StageRoles:
    """The stages of each role the turn reads, as sets (script.yaml `roles`; never stage ids)."""

    before_remedy: frozenset[str]
    identifies: frozenset[str]
    confirms: frozenset[str]
    hears: frozenset[str]
    handles: frozenset[str]
    shows_remedies: frozenset[str]
    offers: frozenset[str]
    asks: frozenset[str]
    closes: frozenset[str]
    contacts: frozenset[str]
    callback: frozenset[str]
    suspect: frozenset[str]
    hands_over: frozenset[str]


@dataclass(frozen=True, slots=True)
class Transition:
    dest: str
    conditions: tuple[Predicate, ...]  # all must hold
    unless: tuple[Predicate, ...]  # none may hold


def review_changeable(conv: Conversation, now: datetime | None) -> bool:
    """Whether the buyer can still change the review (Taobao, once, within 30 days; not when
    the case says it changed, nor when the buyer said so in the talk)."""
    case = conv.case
    if case.platform == "tmall" or case.review_changed or conv.context.review_said_changed:
        return False
    if case.review_time is not None and now is not None:
        review_time = case.review_time
        if (review_time.tzinfo is None) != (now.tzinfo is None):
            now = now.replace(tzinfo=review_time.tzinfo)
        return now - review_time <= timedelta(days=30)
    return True


# Acts that make an agent's message more than closing words.
_OTHER_BUSINESS = frozenset({"offer_remedy", "explain", "ask_detail", "request_review", "guide_review",
                             "confirm_product", "blame_buyer"})

# The conditions script.yaml may name. The data says *when*; these say what each fact is.
PREDICATES: dict[str, Predicate] = {
    "problem_stated": lambda c, _: c.context.problem_stated,
    # the agent has already given an explanation (before apologising, say)
    "explained": lambda c, _: c.context.explanations > 0,
    # the agent has already apologised (before the buyer told the problem, say)
    "apologised": lambda c, _: c.context.apologies > 0,
    # the agent apologised for the buyer's trouble (while hearing it, or naming it), not for a
    # late reply or a slip of its own while confirming who or which order
    "sorry_heard": lambda c, _: c.context.sorry_heard,
    # the agent has asked about the order (a yes at 确认商品 answers that, not something else)
    "product_asked": lambda c, _: c.context.product_confirmed,
    # (…and may be asked: not after money was asked for it, which would look like the deal, nor
    # after a gift alone, which would look like its price)
    "review_changeable": lambda c, now: review_changeable(c, now) and not c.context.extorted
    and not c.context.gift_only,
    "remedies_offered": lambda c, _: c.context.remedies_offered > 0,
    # the agent's latest offer left several options to choose between, and the buyer asked for
    # none of them (a plain yes then chooses none: which one is asked)
    "options_open": lambda c, _: len(c.context.options_listed) > 1 and c.context.remedy_requested is None,
    "review_requested": lambda c, _: c.context.review_requests > 0,
    # the buyer asked for a remedy neither the cause's options nor the agent offered: no choice
    "unoffered": lambda c, _: c.context.unoffered,
    "firm_hold": lambda c, _: c.context.firm,
    "closing_words": lambda c, _: bool({"thank", "apologize"} & set(c.context.last_acts)),
    # the agent's message apologises and thanks and does nothing else (no option, question,
    # explanation or review): the closing words, with or without a "欢迎再来"
    "closing_message": lambda c, _: {"thank", "apologize"} <= set(c.context.last_acts)
    and not _OTHER_BUSINESS & set(c.context.last_acts),
    # the buyer's message has not moved the stage yet (a mood answers one stage, not two)
    "first_move": lambda c, _: c.stage == c.context.stage_before,
    # the buyer's message says goodbye (script.yaml `farewell`), whatever else it says
    "farewell": lambda c, _: c.context.farewell,
    # the buyer's message raises a problem other than the case's (another cause, or as another)
    "new_problem": lambda c, _: c.context.new_problem,
    # the buyer turned every option down (a choice after that is a change of mind)
    "declined": lambda c, _: c.context.all_declined,
}


@dataclass(frozen=True, slots=True)
class Stage:
    id: str
    label: str
    main: bool
    checklist: tuple[tuple[str, str], ...]
    roles: frozenset[str] = frozenset()


def inherit_roles(spec: dict[str, Any], bundled: dict[str, Any]) -> dict[str, Any]:
    """A shop's script.yaml written before stages carried roles: each stage takes the roles
    of the bundled stage with its id. A copy that renamed a stage must name its roles."""
    stages = spec.get("stages") or []
    if any(isinstance(s, dict) and s.get("roles") for s in stages):
        return spec
    known = {s["id"]: s.get("roles", []) for s in bundled.get("stages", [])}
    renamed = [s.get("id") for s in stages if isinstance(s, dict) and s.get("id") not in known]
    if renamed:
        raise DataError(f"script.yaml：阶段没有写 roles（角色），而 {'、'.join(map(str, renamed))} "
                        "不是内置的阶段名：请给每个阶段写上 roles（见 docs/customising.md）")
    return {**spec, "stages": [{**s, "roles": known[s["id"]]} for s in stages]}


class Script:
    """The call script: stages, the event map and the shared machine."""

    def __init__(self, spec: dict[str, Any], source: bytes = b"") -> None:
        self.version = f"{spec['version']}+{hashlib.sha256(source).hexdigest()[:8]}"
        self.stages: dict[str, Stage] = {
            s["id"]: Stage(
                s["id"], s["label"], bool(s.get("main")),
                tuple((c["item"], str(c["check"])) for c in s.get("checklist", [])),
                frozenset(s.get("roles") or ()),
            )
            for s in spec["stages"]
        }
        self._check_roles()
        self.by_role: dict[str, tuple[str, ...]] = {
            role: tuple(sid for sid, st in self.stages.items() if role in st.roles) for role in ROLES}
        ids = {role: frozenset(found) for role, found in self.by_role.items()}
        self.roles = StageRoles(
            before_remedy=ids["before_remedy"], identifies=ids["identifies_buyer"],
            confirms=ids["confirms_product"], hears=ids["hears_problem"], handles=ids["handles_problem"],
            shows_remedies=ids["shows_remedies"], offers=ids["offers_remedy"], asks=ids["asks_review"],
            closes=ids["closes"], contacts=ids["contacts_buyer"], callback=ids["schedules_callback"],
            suspect=ids["suspects_extortion"], hands_over=ids["hands_over"])
        # Stages renamed in an edit of the script: open conversations follow the new name.
        self.renamed: dict[str, str] = dict(spec.get("renamed") or {})
        self.initial: str = spec["initial"]
        self.final: str = spec["final"]
        self.holding: frozenset[str] = frozenset(spec.get("holding", []))
        self.max_attempts = int(spec.get("max_attempts", 3))
        self.predicates: dict[str, Predicate] = {
            **PREDICATES,
            "attempts_left": lambda c, _: c.context.attempts < self.max_attempts,
        }
        self.active: list[str] = list(spec["active"])
        self.buyer_events: dict[str, list[str]] = spec["events"]["buyer"]
        self.agent_events: dict[str, list[str]] = spec["events"]["agent"]
        # The events of a buyer message's other intents (beside its primary one), in text order.
        self.secondary_events: dict[str, list[str]] = spec["events"].get("secondary") or {}
        self.outranks: dict[str, list[str]] = spec["events"].get("outranks") or {}
        self.vague_events: dict[str, str] = spec["events"].get("vague") or {}
        self.pick_events: list[str] = spec["events"].get("picks") or []
        # the events a choice not said outright (asked about, under a condition) does not fire
        self.tentative_events: frozenset[str] = frozenset(spec["events"].get("tentative") or [])
        self.cue_events: dict[str, list[str]] = spec["events"].get("cues") or {}
        # …and those fired after the intents' ("是的，那个花瓶我收到了": who it is, then the order)
        self.cue_events_after: dict[str, list[str]] = spec["events"].get("cues_after") or {}
        self.main_path = [s.id for s in self.stages.values() if s.main and s.id != self.initial]
        self.flow = Flow(spec, set(self.stages))
        talk = self.flow.talk_causes
        # the buyer's last message names a problem of the order ("那怎么会发错呢？"), not one of
        # the talk itself ("你们连问都不问 就让我改差评？": script.yaml talk_causes)
        self.predicates["told_problem"] = lambda c, _: c.context.told is not None and c.context.told not in talk
        for key, cues in (("cues", self.cue_events), ("cues_after", self.cue_events_after)):
            for cue in cues:
                if cue not in self.flow.cues:
                    raise DataError(f"script.yaml：events.{key} 里的 {cue!r} 不是 cues 里的提示")
        self.rows: list[dict[str, Any]] = []
        # event → source stage → its transitions, in the order script.yaml lists them
        self.table: dict[str, dict[str, list[Transition]]] = {}
        for row in spec["transitions"]:
            self._add(row)

    def _check_roles(self) -> None:
        stages = [(st.id, sorted(st.roles)) for st in self.stages.values()]
        problems = [msg for _, msg in role_problems(stages)]
        if problems:
            raise DataError("script.yaml：" + "；".join(problems))

    # -- roles: what the code does at a stage (bot/datamodels.py ROLES) ----------------

    def has_role(self, stage: str, role: str) -> bool:
        """Whether the stage carries the role."""
        st = self.stages.get(stage)
        return st is not None and role in st.roles

    def stages_with(self, role: str) -> tuple[str, ...]:
        """The stages that carry the role, in script order."""
        return self.by_role[role]

    def stage_with(self, role: str) -> str | None:
        """The one stage that carries a unique role (None when the script has none)."""
        found = self.by_role[role]
        return found[0] if found else None

    def _sources(self, source: str | list[str]) -> list[str]:
        names = source if isinstance(source, list) else [source]
        out: list[str] = []
        for name in names:
            if name == "@active":
                out.extend(self.active)
            elif name == "@open":
                out.extend(s for s in self.stages if s != self.final)
            elif name in self.stages:
                out.append(name)
            else:
                raise DataError(f"script.yaml：未知阶段 {name!r}")
        return out

    def _add(self, row: dict[str, Any]) -> None:
        conditions = [self._condition(n) for n in row.get("conditions", [])]
        unless = [self._condition(n) for n in row.get("unless", [])]
        for src in self._sources(row["source"]):
            dests = [row["dest"]] if row["dest"] != "@previous" else self.active
            for dest in dests:
                if dest not in self.stages:
                    raise DataError(f"script.yaml：未知阶段 {dest!r}")
                extra = [] if row["dest"] != "@previous" else [_came_from(dest)]
                self.table.setdefault(row["trigger"], {}).setdefault(src, []).append(
                    Transition(dest, tuple(conditions + extra), tuple(unless)))
                self.rows.append({"trigger": row["trigger"], "source": src, "dest": dest,
                                  "conditions": row.get("conditions", []),
                                  "unless": row.get("unless", []),
                                  "previous": row["dest"] == "@previous"})

    def _condition(self, name: str) -> Predicate:
        if name not in self.predicates:
            raise DataError(f"script.yaml：未知条件 {name!r}")
        return self.predicates[name]

    def fire(self, conv: Conversation, event: str, now: datetime | None = None) -> bool:
        """Fire one event on the conversation; True if the stage changed."""
        before = conv.stage
        for t in self.table.get(event, {}).get(before, ()):
            if all(c(conv, now) for c in t.conditions) and not any(u(conv, now) for u in t.unless):
                conv.stage = t.dest
                return t.dest != before
        return False

    def leaves(self, stage: str, event: str) -> bool:
        """Whether the event has a transition out of the stage (before its conditions)."""
        return stage in self.table.get(event, {})

    def checklist(self, conv: Conversation) -> list[tuple[str, bool]]:
        """The current stage's checklist items and whether each is met."""
        return [(item, _check(expr, conv)) for item, expr in self.stages[conv.stage].checklist]

    def progress_step(self, stage: str) -> int:
        """1-based position on the main path (0 before it starts, held stages keep 0)."""
        return self.main_path.index(stage) + 1 if stage in self.main_path else (
            len(self.main_path) if stage == self.final else 0)


def _came_from(stage: str) -> Predicate:
    return lambda c, _: c.context.held_from == stage


_EXPR = re.compile(r"^\s*([a-z_]+)\s*(?:(>=|<=|==|>|<)\s*(\d+))?\s*$")
_OPS: dict[str, Callable[[Any, int], bool]] = {
    ">=": operator.ge, "<=": operator.le, "==": operator.eq, ">": operator.gt, "<": operator.lt}


def _check(expr: str, conv: Conversation) -> bool:
    return _test(expr)(conv)


@functools.lru_cache(maxsize=1024)
def _test(expr: str) -> Callable[[Conversation], bool]:
    """A checklist expression ("apologies >= 1 and thanks") read once into a test: every
    turn checks its stage's list."""
    if " and " in expr:
        parts = [_test(part) for part in expr.split(" and ")]
        return lambda conv: all(p(conv) for p in parts)
    if expr == "true":
        return lambda conv: True
    m = _EXPR.match(expr)
    if not m:
        raise DataError(f"script.yaml：无法理解的检查项 {expr!r}")
    name, op, num = m.groups()
    if name == "turn":
        def value(conv: Conversation) -> Any:
            return conv.turn
    else:
        def value(conv: Conversation) -> Any:
            return getattr(conv.context, name)
    if op is None:
        return lambda conv: bool(value(conv))
    compare, n = _OPS[op], int(num)
    return lambda conv: compare(value(conv), n)
