"""The grading rubric: data in ``dialogs/rubric.yaml``, validated into these models.

A lead changes weights, the pass mark, tips and even the checks there, without touching
Python. See docs/training.md for the check language.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, model_validator

from bot.dataload import DataError, read_yaml, validated, yaml_problem
from bot.labels import Labels as DataLabels
from bot.training.facts import FactRule
from bot.training.match import Match, Strict
from bot.training.persona import Scenario


class Applies(Strict):
    """When a stage or check counts; otherwise it is left out of the maximum."""

    scenario: list[Scenario] = Field(default_factory=list)
    review_changeable: bool | None = None


class SessionMatch(Strict):
    """A condition on the whole session (used by checks and by `resolved`)."""

    remedy_chosen: bool | None = None
    context: list[str] = Field(default_factory=list, description="true at the end")
    stage_in: list[str] = Field(default_factory=list, description="the final stage")
    ending_in: list[str] = Field(default_factory=list)
    review_in: list[str] = Field(default_factory=list, description="accepted, declined…")
    some_turn: Match | None = None
    no_turn: Match | None = None


class Check(Strict):
    """One scored item; exactly one of first/some/never/count/every/session is given."""

    id: str
    label: str
    weight: int = Field(ge=0)
    tip: str
    applies: Applies = Field(default_factory=Applies)
    first: Match | None = Field(default=None, description="the first reply satisfies it")
    some: Match | None = Field(default=None, description="at least one reply satisfies it")
    never: Match | None = Field(default=None, description="no reply satisfies it")
    count: Match | None = Field(default=None, description="replies satisfying it, min..max")
    min: int | None = None
    max: int | None = None
    every: Match | None = Field(default=None, description="every reply matching `where`")
    where: Match | None = Field(default=None, description="for `every`: the replies it is about; "
                                "for `never`: some reply must match it (the stage was reached); "
                                "for `some` and `count`: the replies it is about, which when all were "
                                "blocked leave it unscored (○), not wrong")
    vacuous: bool = Field(default=False, description="`every` holds when nothing matches `where`")
    session: SessionMatch | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Check:
        kinds = [k for k in ("first", "some", "never", "count", "every", "session")
                 if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError(f"检查项 {self.id}：first、some、never、count、every、session 恰好写一个"
                             f"（现在是 {kinds}）")
        if self.every is not None and self.where is None:
            raise ValueError(f"检查项 {self.id}：every 需要 where")
        if self.where is not None and (self.first is not None or self.session is not None):
            raise ValueError(f"检查项 {self.id}：where 只能和 every、never、some 或 count 一起用")
        return self


class StageRubric(Strict):
    """The checks of one scorecard stage."""

    id: str
    applies: Applies = Field(default_factory=Applies)
    show_when_na: bool = Field(
        default=True, description="listed (with max 0) on scorecards where it does not apply")
    checks: list[Check]


class Repeats(Strict):
    """What an earlier reply did for a violation to be its second time, and how to say so."""

    when: Match
    note: str = Field(description="shown after the violation's name; {turn} is the earlier turn")


class Violation(Strict):
    """A finding or note that counts against the trainee."""

    penalty: int = Field(ge=0)
    max_points: int | None = Field(
        default=None, ge=0, description="at most this many points off per session for this code "
        "(a habit such as saying 你 costs once per reply, not without end)")
    fail: bool = False
    covers: list[str] = Field(
        default_factory=list, description="codes this one already includes when found in the same "
        "reply: one act costs once (好评返现 to an extortioner is also a payment and a request); "
        "the merged line costs the heaviest of them and fails if any of them fails")
    repeats: Repeats | None = Field(
        default=None, description="the violation is a second time of something: the line names "
        "the turn that did it first (重复请求改评: the turn that first asked for the review)")
    tip: str


class DerivedViolation(Strict):
    """A violation the rubric itself detects (e.g. paying a bad-reviewer)."""

    code: str
    severity: Literal["block", "warn"]
    message: str
    when: Match


class TurnTip(Strict):
    """A coaching tip shown after a reply that matches ``when``."""

    when: Match
    tip: str


class Labels(Strict):
    """Chinese names shown to the trainee. The acts' names are the data's (defaults.yaml
    ``act_labels``, bot/labels.py), filled in when the rubric loads: an ``acts`` mapping here
    (rubric files before issue 15) is accepted and replaced by them."""

    acts: dict[str, str] = Field(default_factory=dict)
    kinds: dict[str, str]
    platforms: dict[str, str]
    bands: dict[str, str]
    endings: dict[str, str]
    review: dict[str, str]
    violations: dict[str, str] = Field(default_factory=dict,
                                       description="Chinese names of violation codes")
    listing: str = Field(
        default="{product} · {platform}{rating}：「{review}」",
        description="how a persona is shown in the list and on the first screen, from its case "
        "alone: the title tells the kind of buyer (职业差评师), which the scorecard reveals")

    def violation(self, code: str) -> str:
        """The Chinese name of a violation code (the code itself only if the data lacks one)."""
        return self.violations.get(code, code)

    def describe(self, case: Any) -> str:
        """A persona's neutral one-line description (``listing``): the product and the review."""
        return self.listing.format(product=case.product or "—",
                                   platform=self.platforms.get(case.platform, case.platform),
                                   rating=case.review_rating or "", review=case.review_text or "")


class DoneStep(Strict):
    """The tip for a stage whose step the trainee took already ("您11月7日买的…" said, the buyer
    answered only who they are): wait for the buyer's answer, not take the step again."""

    context: list[str] = Field(description="conversation facts true once the step is taken")
    tip: str


class Rubric(Strict):
    """The whole rubric file."""

    version: str
    pass_mark: int = Field(ge=0, le=100)
    fail_on_block: bool = True
    failed_total_cap: int = Field(ge=0, le=100)
    must_handle: dict[Scenario, str] = Field(
        default_factory=dict, description="scenarios whose goal must be met to pass (a callback "
        "time agreed, an extortion refused), with the Chinese reason shown when it was not")
    remedy_cues: dict[str, str]
    address_forms: dict[Literal["male", "female"], list[str]] = Field(
        default_factory=dict, description="forms of address by gender (姑娘, 帅哥…): one of the other "
        "gender than the persona's (its `gender`, or its honorific) said to the buyer is wrong_honorific")
    facts: dict[str, FactRule]
    resolved: dict[Scenario, SessionMatch]
    stages: list[StageRubric]
    violations: dict[str, Violation]
    derived_violations: list[DerivedViolation] = Field(default_factory=list)
    turn_tips: list[TurnTip]
    next_step: dict[str, str]
    buyer_next_step: dict[str, str] = Field(
        default_factory=dict, description="the buyer's answer (intent) -> the next step, before "
        "next_step: a buyer who agreed to change the review is shown how, one who declined is thanked")
    problem_blind_acts: list[str] = Field(
        default_factory=list, description="acts of a clause that says who is calling, not what went "
        "wrong: a clause whose acts are all among these is left out when the buyer's reader looks for "
        "the problem in a reply (names_problem; '我是山野茶铺的售后客服小李' names 客服, no complaint)")
    moot_after_choice: list[str] = Field(
        default_factory=list, description="policy notes that do not apply once the simulated buyer "
        "has chosen a remedy (early_request: the fix is agreed, whatever the script machine's stage)")
    pressed_steps: dict[str, str] = Field(
        default_factory=dict, description="the tip when the buyer asked again for an agenda item "
        "(by its id): what the buyer waits for, which the script machine's stage can miss")
    pressed_in_stage: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="stage -> agenda item id -> the tip, before pressed_steps: "
        "the buyer's '还有别的事吗？' (the goodbye) in 礼貌请求 is the moment for the one request, "
        "not for the goodbye the pressed item names")
    not_a_request: list[str] = Field(
        default_factory=list, description="facts of a reply under which a review request read by "
        "the learned model alone is not taken: '钱我们不能给，评价也不会拿来交换' names the review "
        "and asks for nothing")
    pressed_tried: dict[str, DoneStep] = Field(
        default_factory=dict, description="agenda item id -> the tip when the buyer asks again for an "
        "item the trainee has tried (its context facts true: a bare '抱歉' said), before pressed_steps: "
        "'只说抱歉两个字不够' is no advice to a trainee who never apologised")
    own_step_stages: list[str] = Field(
        default_factory=list, description="stages whose own next_step comes before buyer_next_step: "
        "the extortionist's '差评我会一直挂着' is no refusal to respect and thank him for")
    done_steps: dict[str, DoneStep] = Field(
        default_factory=dict, description="stage -> the tip when the trainee has already done the "
        "stage's step (its context facts true) and the buyer has not answered it yet: not next_step again")
    left_tips: dict[str, str] = Field(
        default_factory=dict, description="the tip when the buyer has left (by ending, as in "
        "labels.endings): no next step to take any more; {step} is the next_step the trainee stood at")
    praise: str
    labels: Labels

    @model_validator(mode="after")
    def _known_codes(self) -> Rubric:
        for d in self.derived_violations:
            if d.code not in self.violations:
                raise ValueError(f"派生问题 {d.code} 需要在 violations 里有一项")
        for code, v in self.violations.items():
            for other in v.covers:
                if code in self.violations.get(other, Violation(penalty=0, tip="")).covers:
                    raise ValueError(f"问题 {code} 和 {other} 不能互相包含")
        ids = [c.id for s in self.stages for c in s.checks]
        if len(ids) != len(set(ids)):
            raise ValueError("检查项的 id 不能重复")
        return self


class RubricFile(Strict):
    """A loaded rubric with the hash of its file."""

    rubric: Rubric
    path: Path
    sha256: str


def load_rubric(dialogs: Path) -> RubricFile:
    """Load and validate ``rubric.yaml`` of a dialogs folder."""
    path = dialogs / "rubric.yaml"
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise DataError(f"缺少评分标准文件：{path}") from exc
    try:
        data = read_yaml(raw)
    except yaml.YAMLError as exc:
        raise yaml_problem(path, exc) from exc
    rubric = validated(path, Rubric, data)
    acts = dict(DataLabels.load(dialogs).names["act"])  # one source for the acts' names
    rubric = rubric.model_copy(update={"labels": rubric.labels.model_copy(update={"acts": acts})})
    return RubricFile(rubric=rubric, path=path, sha256=hashlib.sha256(raw).hexdigest())
