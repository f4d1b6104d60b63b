"""The grader: a scorecard from the per-turn facts of a session and the rubric.

Checks of a stage that does not apply (no review request on Tmall, after 30 days, with a
bad-reviewer; the main path when the buyer is busy) are left out of the maximum; asking
there anyway shows up as a violation (the engine's policy notes). Any block-severity
finding fails the session whatever else happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field

from bot.training.facts import TurnFacts, gender_of
from bot.training.persona import Scenario
from bot.training.rubric import Applies, Check, Rubric, SessionMatch


@dataclass(frozen=True, slots=True)
class SessionFacts:
    """What the grader knows about a session besides its turns."""

    scenario: Scenario
    review_changeable: bool
    final_stage: str
    final_context: dict[str, Any]
    ending: str
    remedy: str | None
    review_answer: str | None


class StageScore(BaseModel):
    score: int
    max: int


class ViolationRecord(BaseModel):
    turn: int
    code: str
    severity: str
    span: tuple[int, int] | None
    message: str
    rewrite: str | None = None  # the guard's compliant rewrite of the reply


class CheckResult(BaseModel):
    stage: str
    id: str
    label: str
    weight: int
    passed: bool
    # False: a `never` check lost only because no scored reply got to its step (a blocked bribe
    # is no reply that reached 疑似恶意) and no reply broke it: no points, and no fault either
    reached: bool = True


class Outcome(BaseModel):
    ending: str
    stage: str
    resolved: bool  # the buyer took a remedy: the problem is being fixed
    handled: bool  # the scenario's goal was met (a remedy chosen, a callback time agreed,
    # an extortion refused); what a lead asks of the trainee
    remedy: str | None
    review_request: str
    # the trainee asked for the review (also where it should not be asked: not_applicable)
    review_asked: bool = False


class Deduction(BaseModel):
    """Points taken off the total for one finding, with the turn it was in."""

    turn: int
    code: str
    points: int
    fails: bool
    # the rule's max_points was reached: this one is listed but takes off less (or nothing)
    capped: int | None = None
    # other violations of the same reply this one includes (the rubric's `covers`): not taken off
    # on their own; the line costs the heaviest of them
    also: list[str] = Field(default_factory=list)
    # a second time of something: which earlier turn did it first ("第 3 轮已经提过评价")
    note: str | None = None


class Computation(BaseModel):
    """How the total is made, step by step (shown in the console, Markdown and JSON)."""

    earned: int
    max: int
    percent: int
    deductions: list[Deduction]
    after_deductions: int
    cap: int | None  # the total shown is at most this (a failing finding)
    total: int
    # the scenario's goal was not met where the rubric requires it (must_handle): not passed
    not_handled: str | None = None


class Scorecard(BaseModel):
    """The scorecard of design.md (plus the per-check detail and the pass mark)."""

    persona: str
    seed: int
    total: int
    passed: bool
    pass_mark: int
    stages: dict[str, StageScore]
    violations: list[ViolationRecord]
    outcome: Outcome
    turns: int
    tips: list[str]
    checks: list[CheckResult]
    kind: str = ""
    computation: Computation | None = None

    def public(self) -> dict[str, Any]:
        """The scorecard JSON of design.md (``csbot train --replies``), exactly its keys."""
        d = self.model_dump(mode="json")
        return {
            "persona": d["persona"], "seed": d["seed"], "total": d["total"],
            "passed": d["passed"], "stages": d["stages"],
            "violations": [{k: v[k] for k in ("turn", "code", "span", "message", "rewrite")
                            if k != "rewrite" or v[k]} for v in d["violations"]],
            "outcome": d["outcome"], "turns": d["turns"], "tips": d["tips"],
            "kind": d["kind"], "computation": d["computation"],
        }


class _Words(dict[str, str]):
    """Placeholders of a tip; one the case lacks stays as a neutral word."""

    def __missing__(self, key: str) -> str:
        return {"call": "亲", "product": "这件商品", "order_date": "前段时间", "ta": "买家"}.get(key, "")


# {ta} in a tip: the buyer as 她 or 他 when the case tells (王阿姨 is no 他), else 买家
_TA = {"female": "她", "male": "他"}


def case_words(case: Any, gender: str | None = None) -> dict[str, str]:
    """The tip placeholders of one case: how to address the buyer, the product, the date, and
    the pronoun ``{ta}`` (``gender`` from the persona when the honorific does not say it)."""
    words = {"call": f"{case.buyer_name}{case.honorific}",
             "ta": _TA.get(gender or gender_of(case.honorific) or "", "买家")}
    if case.product:
        words["product"] = case.product
    if case.order_date:
        words["order_date"] = f"{case.order_date.month}月{case.order_date.day}日"
    return words


def _round(x: float) -> int:
    return int(x + 0.5)  # half up, the same on every platform


class Grader:
    """Scores sessions and coaches single replies with one rubric."""

    def __init__(self, rubric: Rubric, words: dict[str, str] | None = None) -> None:
        self.rubric = rubric
        # This case's words for the tips' examples ({call}, {product}, {order_date}), so a
        # tip quotes the trainee's own buyer and product, not another persona's.
        self.words = words or {}

    def _fill(self, tip: str) -> str:
        return tip.format_map(_Words(self.words)) if "{" in tip else tip

    # -- after each reply ------------------------------------------------------------------

    def turn_tip(self, t: TurnFacts, stage_now: str, buyer_intent: str | None = None,
                 ending: str | None = None, pressed: str | None = None) -> str:
        """A short coaching tip for one reply.

        ``stage_now`` is the stage after the buyer's answer: the goal the trainee works on next;
        ``buyer_intent`` what the engine read in that answer (some answers say the next step);
        ``ending`` how the session ended, if this reply ended it (there is no next step then);
        ``pressed`` the agenda item the buyer asked again for (what they wait for comes first).
        """
        for rule in self.rubric.turn_tips:
            if t.holds(rule.when):
                return self._fill(rule.tip)
        r = self.rubric
        if ending is not None and ending in r.left_tips:
            # the buyer has gone: say why, with the step the trainee stood at (not the step the
            # buyer's "算了" reads as, 礼貌道别, which nobody can take any more)
            # (what the buyer asked for last, when they gave up asking: the stage can be past it)
            was = self._pressed_tip(t, pressed) or r.next_step.get(t.stage_after, "")
            return self._fill(r.left_tips[ending].replace("{step}", was))
        if stage_now in r.own_step_stages:
            return self._fill(r.next_step.get(stage_now, ""))
        step = (r.pressed_in_stage.get(stage_now, {}).get(pressed or "")
                or self._pressed_tip(t, pressed) or r.buyer_next_step.get(buyer_intent or ""))
        done = r.done_steps.get(stage_now)
        if not step and done is not None and all(t.context.get(c) for c in done.context):
            step = done.tip  # the step is taken: the buyer's answer to it is what comes next
        return self._fill(step or r.next_step.get(stage_now, ""))

    def _pressed_tip(self, t: TurnFacts, pressed: str | None) -> str:
        """What the buyer asked again for: told as tried-but-not-enough when the trainee has
        tried it (a bare "抱歉"), else as the step still to take."""
        tried = self.rubric.pressed_tried.get(pressed or "")
        if tried is not None and all(t.context.get(c) for c in tried.context):
            return tried.tip
        return self.rubric.pressed_steps.get(pressed or "", "")

    def violations(self, t: TurnFacts) -> list[ViolationRecord]:
        """The violations in one reply: listed findings and notes, blocks, derived ones."""
        out: list[ViolationRecord] = []
        seen: list[str] = []
        for f in [*t.findings, *t.notes]:
            if f.code in seen or (f.code not in self.rubric.violations and f.severity != "block"):
                continue
            seen.append(f.code)
            out.append(ViolationRecord(turn=t.turn, code=f.code, severity=f.severity, span=f.span,
                                       message=f.message, rewrite=f.rewrite))
        for d in self.rubric.derived_violations:
            if d.code not in seen and t.holds(d.when):
                seen.append(d.code)
                out.append(ViolationRecord(turn=t.turn, code=d.code, severity=d.severity, span=None,
                                           message=d.message))
        return out

    # -- at the end ----------------------------------------------------------------------------

    def score(self, persona: str, seed: int, turns: list[TurnFacts], s: SessionFacts,
              kind: str = "") -> Scorecard:
        """The scorecard of a whole session."""
        r = self.rubric
        stages: dict[str, StageScore] = {}
        results: list[CheckResult] = []
        losses: list[tuple[float, int, str]] = []
        earned = maximum = 0
        for stage in r.stages:
            if not self._applies(stage.applies, s):
                if stage.show_when_na:
                    stages[stage.id] = StageScore(score=0, max=0)
                continue
            got = top = 0
            for c in stage.checks:
                if not self._applies(c.applies, s):
                    continue
                ok = bool(turns) and self._holds(c, turns, s)
                top += c.weight
                got += c.weight if ok else 0
                # a blocked threat still breaks "全程保持礼貌", a blocked bribe "没有答应付钱", said
                # in whatever stage: only a step nobody broke goes unmarked
                unreached = not ok and self._unreached(c, turns) and not (c.never is not None and any(
                    t.holds(c.never.model_copy(update={"stage_in": None})) for t in turns))
                results.append(CheckResult(stage=stage.id, id=c.id, label=c.label, weight=c.weight,
                                           passed=ok, reached=not unreached))
                if not ok and not unreached:
                    # A "never" check lost only because the talk never got that far gives no
                    # tip: "不要把问题推给买家" is no advice to a trainee who never blamed anyone.
                    losses.append((float(c.weight), len(losses), c.tip))
            stages[stage.id] = StageScore(score=got, max=top)
            earned += got
            maximum += top
        violations = [v for t in turns for v in self.violations(t)]
        failed = False
        deductions: list[Deduction] = []
        taken: dict[str, int] = {}  # points off so far per code, for max_points
        # One act costs once: a violation another of the same reply covers is named in that one.
        cover: dict[tuple[int, str], str] = {}
        for v in violations:
            for o in violations:
                rule_o = r.violations.get(o.code)
                if o.turn == v.turn and rule_o and v.code in rule_o.covers \
                        and (v.turn, v.code) not in cover:
                    cover[(v.turn, v.code)] = o.code
        for v in violations:
            rule = r.violations.get(v.code)
            fails = (r.fail_on_block and v.severity == "block") or bool(rule and rule.fail)
            failed = failed or fails
            if (v.turn, v.code) in cover:
                if rule:
                    losses.append((rule.penalty * maximum / 100 + (1000 if fails else 0),
                                   len(losses), rule.tip))
                continue
            if rule or fails:
                also = [c for (t, c), by in cover.items() if t == v.turn and by == v.code]
                # the merged line costs what its heaviest part costs, once ("差评我要被扣工资" on
                # Tmall is the plea and the request that may not be made: 10, not 8 + 10)
                merged = [r.violations[c] for c in also if c in r.violations]
                points = max([rule.penalty if rule else 0, *(m.penalty for m in merged)])
                fails = fails or any(m.fail for m in merged) or (r.fail_on_block and any(
                    o.severity == "block" for o in violations if o.turn == v.turn and o.code in also))
                capped = None
                if rule and rule.max_points is not None:
                    room = max(0, rule.max_points - taken.get(v.code, 0))
                    if points > room:
                        points, capped = room, rule.max_points
                taken[v.code] = taken.get(v.code, 0) + points
                deductions.append(Deduction(turn=v.turn, code=v.code, points=points, fails=fails,
                                            capped=capped, also=also,
                                            note=self._repeats(rule, v.turn, turns)))
            if rule:
                # Failing violations come first among the tips; then by points lost.
                weight = rule.penalty * maximum / 100 + (1000 if fails else 0)
                losses.append((weight, len(losses), rule.tip))
        percent = _round(100 * earned / maximum) if maximum else 0
        after = max(0, min(100, percent - sum(d.points for d in deductions)))
        total = min(after, r.failed_total_cap) if failed else after
        outcome = self._outcome(turns, s)
        # A busy buyer with no callback time, or a bad-reviewer not refused, is not a session
        # passed on the greeting's points (75 points and 通过 for a buyer who left waiting).
        not_handled = r.must_handle.get(s.scenario) if not outcome.handled else None
        computation = Computation(
            earned=earned, max=maximum, percent=percent, deductions=deductions,
            after_deductions=after, cap=r.failed_total_cap if failed else None, total=total,
            not_handled=not_handled)
        tips: list[str] = []
        for _, _, tip in sorted(losses, key=lambda x: (-x[0], x[1])):
            if self._fill(tip) not in tips:
                tips.append(self._fill(tip))
        return Scorecard(
            persona=persona, seed=seed, total=total,
            passed=not failed and not_handled is None and total >= r.pass_mark,
            pass_mark=r.pass_mark, stages=stages, violations=violations,
            outcome=outcome, turns=len(turns), tips=tips[:3] or [r.praise],
            checks=results, kind=kind, computation=computation,
        )

    @staticmethod
    def _repeats(rule: Any, turn: int, turns: list[TurnFacts]) -> str | None:
        """For a violation that is a second time of something (重复请求改评): which earlier reply
        did it first, so the trainee sees why it is a repeat. A blocked reply was never sent and
        is not the first time of anything."""
        rep = rule.repeats if rule is not None else None
        if rep is None:
            return None
        first = next((t.turn for t in turns if t.turn < turn and not t.blocked and t.holds(rep.when)),
                     None)
        return rep.note.replace("{turn}", str(first)) if first is not None else None

    def _outcome(self, turns: list[TurnFacts], s: SessionFacts) -> Outcome:
        asked = any("request_review" in t.acts for t in turns)
        if s.review_answer is not None:
            review = {"agree": "accepted", "refuse": "declined"}[s.review_answer]
        elif s.scenario != "main" or not s.review_changeable:
            review = "not_applicable"
        elif any("request_review" in t.acts for t in turns if not t.blocked):
            review = "unanswered"
        elif asked:
            review = "blocked"  # only a request that could not be sent: none reached the buyer
        else:
            review = "not_asked"
        # Resolved means the buyer took a remedy (their real answer), whatever the scenario:
        # an agreed callback or a refused extortion is handled well, but nothing is solved yet.
        handled = self._session(self.rubric.resolved[s.scenario], turns, s)
        return Outcome(ending=s.ending, stage=s.final_stage, resolved=handled and s.remedy is not None,
                       handled=handled, remedy=s.remedy, review_request=review, review_asked=asked)

    # -- the check language ------------------------------------------------------------------

    @staticmethod
    def _applies(a: Applies, s: SessionFacts) -> bool:
        if a.scenario and s.scenario not in a.scenario:
            return False
        return a.review_changeable is None or a.review_changeable == s.review_changeable

    @staticmethod
    def _unreached(c: Check, turns: list[TurnFacts]) -> bool:
        """A `never` check whose `where` no reply met: the step it guards was not reached (a
        blocked reply reaches nothing: a bribe is no offer that got the talk to 解释原因). An
        `every`, `some` or `count` check whose `where` only blocked replies met: those were never
        sent (a review request tied to a gift is no request whose timing, count or wording can be
        scored), and their fault is the rule they broke, not this one. Nothing met at all is no
        such case: a trainee who never asked has not asked once."""
        if c.where is None or any(t.holds(c.where) for t in turns if not t.blocked):
            return False
        return c.never is not None or any(t.holds(c.where) for t in turns)

    def _holds(self, c: Check, turns: list[TurnFacts], s: SessionFacts) -> bool:
        # A reply with a block finding earns nothing in the checks it would meet: a
        # conditional benefit is no remedy offer, and a request tied to one is no clean request.
        clean = [t for t in turns if not t.blocked]
        if c.first is not None:
            return not turns[0].blocked and turns[0].holds(c.first)
        if c.some is not None:
            return any(t.holds(c.some) for t in clean)
        if c.never is not None:
            # With `where`, the check also needs the trainee to have got that far: never
            # blaming in a call that ended at the greeting earns nothing, nor in one whose only
            # "offer" was a bribe for the review (a blocked reply earns nothing, reaching included).
            reached = c.where is None or any(t.holds(c.where) for t in clean)
            return reached and not any(t.holds(c.never) for t in turns)
        if c.count is not None:
            # A blocked reply earns nothing towards the minimum (a tied request is no polite
            # one) but was still said: it counts towards the maximum (tied, then clean, is two
            # requests). It does not undo the clean ones: two sent apologies are two.
            n_clean = sum(t.holds(c.count) for t in clean)
            n_all = sum(t.holds(c.count) for t in turns)
            return (c.min is None or n_clean >= c.min) and (c.max is None or n_all <= c.max)
        if c.every is not None:
            # only the replies sent: a blocked one costs once, in the rule it broke ("改好评送您一张
            # 20元优惠券" after the fix is a bribe, not a request out of turn)
            assert c.where is not None
            relevant = [t for t in clean if t.holds(c.where)]
            return all(t.holds(c.every) for t in relevant) if relevant else c.vacuous
        assert c.session is not None
        return self._session(c.session, turns, s)

    @staticmethod
    def _session(m: SessionMatch, turns: list[TurnFacts], s: SessionFacts) -> bool:
        if m.remedy_chosen is not None and (s.remedy is not None) != m.remedy_chosen:
            return False
        if any(not s.final_context.get(name) for name in m.context):
            return False
        if m.stage_in and s.final_stage not in m.stage_in:
            return False
        if m.ending_in and s.ending not in m.ending_in:
            return False
        if m.review_in and s.review_answer not in m.review_in:
            return False
        if m.some_turn is not None and not any(t.holds(m.some_turn) for t in turns):
            return False
        return not (m.no_turn is not None and any(t.holds(m.no_turn) for t in turns))
