"""Buyer personas: data in ``dialogs/personas/*.yaml``, validated into these models."""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path
from typing import Literal

import yaml
from pydantic import Field, model_validator

from bot.dataload import DataError, DataProblems, Problem, read_yaml, validated, yaml_problem
from bot.labels import Labels
from bot.models import Case, Cause, Intent
from bot.training.match import Match, Strict

Band = Literal["calm", "upset", "angry"]
Kind = Literal["first_time", "experienced", "malicious"]
Scenario = Literal["main", "callback", "malicious"]

# Which band's phrasings stand in when a band has none, nearest mood first.
_FALLBACK: dict[str, tuple[Band, ...]] = {
    "calm": ("calm", "upset", "angry"),
    "upset": ("upset", "calm", "angry"),
    "angry": ("angry", "upset", "calm"),
}


class Utterance(Strict):
    """One thing the buyer says, with phrasings per mood band and what it means."""

    intent: Intent
    also: list[Intent] = Field(default_factory=list,
                               description="other readings by the engine that are harmless here")
    cause: Cause | None = None
    calm: list[str] = Field(default_factory=list)
    upset: list[str] = Field(default_factory=list)
    angry: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _has_lines(self) -> Utterance:
        if not (self.calm or self.upset or self.angry):
            raise ValueError("一句话至少要有一种说法（calm、upset 或 angry）")
        return self

    def lines(self, band: Band) -> list[str]:
        """The phrasings for a mood band (the nearest band's when it has none)."""
        for b in _FALLBACK[band]:
            got: list[str] = getattr(self, b)
            if got:
                return got
        raise AssertionError("unreachable: validated non-empty")


class Variant(Strict):
    """Another reply to an agenda item, said when the trainee's message matches ``when``."""

    when: Match
    say: Utterance
    stays: bool = Field(
        default=False, description="the buyer answers but still waits for the item (在吗？ -> "
        "你是哪位？: nobody has been named, the identity is not confirmed yet)")


class AgendaItem(Strict):
    """A point the buyer is waiting for; met by the trainee's reply, it pops off the stack."""

    id: str
    kind: Literal["say", "remedy", "review"] = "say"
    needs: Match = Field(default_factory=Match)
    say: Utterance | None = Field(default=None, description="the reply when met (kind say)")
    variants: list[Variant] = Field(
        default_factory=list,
        description="replies that answer what the message said (the first whose `when` holds "
        "replaces `say`): no '你是哪位？' to an agent who has just introduced themselves")
    press: Utterance | None = Field(default=None, description="what the buyer says when not met")
    optional: bool = Field(default=False, description="dropped silently when a later item is met")
    leave: bool = Field(default=False, description="the buyer ends the chat after the reply")
    after_review: Literal["agree", "refuse"] | None = Field(
        default=None, description="waited for only once the buyer has given this answer to the "
        "review request (an aunt who agrees then asks how to change it); optional before that, "
        "dropped after another answer")
    farewell: Utterance | None = Field(
        default=None, description="said when the trainee ends the chat while the buyer still "
        "waits for this item (a question left unanswered)")

    @model_validator(mode="after")
    def _say_for_say(self) -> AgendaItem:
        if self.kind == "say" and self.say is None:
            raise ValueError(f"议程项 {self.id}：kind 为 say 时需要 say")
        if self.variants and self.kind != "say":
            raise ValueError(f"议程项 {self.id}：只有 kind 为 say 的项可以写 variants")
        if self.after_review is not None and (self.optional or self.press is None):
            raise ValueError(f"议程项 {self.id}：写了 after_review 的项不能是 optional，且需要 press")
        if not self.optional and not self.needs.is_empty() and self.press is None:
            raise ValueError(f"议程项 {self.id}：必须完成的项需要 press（没做到时买家说什么）")
        return self


class Reaction(Strict):
    """An interruption: the buyer stops on something the trainee did (blame, a bribe...)."""

    when: list[str] = Field(min_length=1, description="any of these signals")
    stage_in: list[str] = Field(default_factory=list)
    say: Utterance
    patience: int = Field(default=1, ge=0, description="patience lost")
    leave: bool = False
    ending: str | None = Field(default=None, description="how the session ends if the buyer leaves")
    answers: list[str] = Field(
        default_factory=list, description="agenda items this line also answers, when the reply "
        "met them (\"是我。我是林志明先生…\" confirms the identity: no second \"对，是我。\"); "
        "an id the persona's agenda lacks is ignored (the common file names items for all)")


class Aside(Strict):
    """A short answer to something the trainee asked on the way ("方便拍张照片吗？"), said before
    the buyer's point; it moves nothing on the agenda."""

    when: list[str] = Field(min_length=1, description="any of these signals")
    say: Utterance


class Goal(Strict):
    """What the buyer is after: the cause, the remedies they accept and the one they want."""

    cause: Cause
    scenario: Scenario = "main"
    wants: str | None = None
    accepts: dict[str, Utterance] = Field(
        default_factory=dict,
        description="remedy id -> how the buyer chooses it, in preference order")
    reject: Utterance | None = Field(default=None,
                                     description="said when no offered remedy is acceptable")
    review: Literal["agree", "refuse", "none"] = Field(
        default="none", description="answer to a polite request when in a calm mood")
    review_answers: dict[Literal["agree", "refuse"], Utterance] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> Goal:
        if self.wants is not None and self.wants not in self.accepts:
            raise ValueError(f"goal.wants 的 {self.wants!r} 应是 goal.accepts 里的一项")
        if self.review != "none" and "refuse" not in self.review_answers:
            raise ValueError("goal.review_answers 至少要有 refuse")
        if self.review == "agree" and "agree" not in self.review_answers:
            raise ValueError("goal.review 为 agree 时需要 review_answers.agree")
        return self


def titled(title: str, remedy: str | None) -> str:
    """A persona's title with ``{remedy}`` said as the remedy the buyer chose (its label's head:
    退货退款, not 退货退款（运费我们出）), or 处理方案 before one is: the summary follows the choice."""
    said = remedy.split("（")[0] if remedy else "处理方案"
    return title.replace("{remedy}", said)


class Persona(Strict):
    """A buyer persona: the case, goal, temperament and agenda of one training scenario."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    kind: Kind
    title: str = Field(min_length=4, max_length=60)
    case: Case
    contact_time: datetime = Field(description="when the trainee contacts the buyer (the clock)")
    gender: Literal["male", "female"] | None = Field(
        default=None, description="when the case's honorific does not say (先生 / 女士 do)")
    goal: Goal
    patience: int = Field(ge=1, le=10)
    emotion: Band = Field(description="the starting mood")
    mood_cap: int = Field(default=2, ge=1, description="most the mood moves in one turn")
    softeners: dict[str, int] = Field(default_factory=dict)
    hardeners: dict[str, int] = Field(default_factory=dict)
    softener_repeats: int = Field(default=2, ge=1,
                                  description="a softener counts at most this many times")
    max_turns: int = Field(default=14, ge=2, le=40)
    agenda: list[AgendaItem] = Field(min_length=1)
    reactions: list[Reaction] = Field(default_factory=list)
    asides: list[Aside] = Field(default_factory=list)
    on_care: Utterance | None = Field(
        default=None, description="said to an off-agenda kindness (softens, costs no patience)")
    follow_up: Utterance | None = Field(
        default=None, description="the point asked again in other words, instead of a repeat")
    leave: Utterance = Field(description="what the buyer says when giving up")
    farewell: Utterance | None = Field(default=None,
                                       description="said when the trainee ends the chat first")
    unanswered: Utterance | None = Field(
        default=None, description="said when the trainee ends the chat while the buyer still waits "
        "for an agenda item that has no farewell of its own (an apology, a reason)")

    @model_validator(mode="after")
    def _ids_unique(self) -> Persona:
        ids = [i.id for i in self.agenda]
        if len(ids) != len(set(ids)):
            raise ValueError("议程项的 id 不能重复")
        if any(i.kind == "remedy" for i in self.agenda) and not self.goal.accepts:
            raise ValueError("有 remedy 议程项时需要 goal.accepts")
        if any(i.kind == "review" for i in self.agenda) and self.goal.review == "none":
            raise ValueError("有 review 议程项时需要 goal.review")
        if (self.kind == "malicious") != (self.goal.scenario == "malicious"):
            raise ValueError("kind 为 malicious 当且仅当 goal.scenario 为 malicious")
        return self


class PersonaFile(Strict):
    """A loaded persona with the hash of its file (for the transcript header)."""

    persona: Persona
    path: Path
    sha256: str


def persona_dir(dialogs: Path) -> Path:
    """Where a dialogs folder keeps its personas."""
    return dialogs / "personas"


COMMON = "_common.yaml"  # what every persona does unless it says otherwise


def _common(folder: Path) -> dict[str, object]:
    path = folder / COMMON
    if not path.is_file():
        return {}
    try:
        data = read_yaml(path.read_bytes())
    except yaml.YAMLError as exc:
        raise yaml_problem(path, exc) from exc
    if not isinstance(data, dict):
        raise DataProblems([Problem(str(path), "", 1, "人设公共文件应为映射（key: value）")])
    return data


def load_persona_file(path: Path) -> PersonaFile:
    """Load and validate one persona file (over the folder's common part); errors name the file."""
    raw = path.read_bytes()
    common = _common(path.parent)
    try:
        data = read_yaml(raw)
    except yaml.YAMLError as exc:
        raise yaml_problem(path, exc) from exc
    if isinstance(data, dict):
        # The persona's own keys win; its reactions come before the common ones.
        own, shared = data.get("reactions") or [], common.get("reactions") or []
        data = {**{k: v for k, v in common.items() if k != "reactions"}, **data,
                "reactions": [*own, *shared]}  # type: ignore[misc]
    # the intents and causes a persona means are the data's (its dialogs folder's labels)
    persona = validated(path, Persona, data, {"labels": Labels.load(path.parent.parent)})
    if persona.id != path.stem:
        raise DataError(f"人设文件名应与 id 一致：{path}（id 为 {persona.id}）")
    common_path = path.parent / COMMON
    digest = hashlib.sha256(raw + (common_path.read_bytes() if common_path.is_file() else b""))
    return PersonaFile(persona=persona, path=path, sha256=digest.hexdigest())


def load_personas(dialogs: Path) -> list[PersonaFile]:
    """Every persona of a dialogs folder, sorted by id."""
    folder = persona_dir(dialogs)
    if not folder.is_dir():
        raise DataError(f"缺少人设目录：{folder}")
    return [load_persona_file(p) for p in sorted(folder.glob("*.yaml")) if not p.name.startswith("_")]


class UnknownPersona(LookupError):
    """No persona by that id: the caller asked for a wrong one (the data is fine)."""


def find_persona(dialogs: Path, name: str) -> PersonaFile:
    """One persona by id; UnknownPersona listing the known ids if there is none."""
    path = persona_dir(dialogs) / f"{name}.yaml"
    if name.startswith("_") or not name.replace("_", "").isalnum() or not path.is_file():
        known = "、".join(p.persona.id for p in load_personas(dialogs))
        raise UnknownPersona(f"没有这个人设：{name}。可选：{known}")
    return load_persona_file(path)
