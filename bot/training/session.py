"""One training session: the engine, the simulated buyer and the grader, turn by turn.

The session is UI-free: the console and the scripted runner both drive it with
``say()``, and every step is also emitted as a transcript event (a plain dict).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bot import __version__
from bot.engine import Engine
from bot.models import BuyerUnderstanding, Conversation, Suggestion
from bot.script.machine import review_changeable
from bot.training import TRAINING_VERSION
from bot.training.accepted import unaccepted_acts
from bot.training.buyer import BuyerReply, SimulatedBuyer
from bot.training.facts import (
    BUYER_GAVE_UP,
    BUYER_PRESSED,
    BUYER_WAITING,
    EXTRA_BENEFIT,
    NAMES_PROBLEM,
    OFFER_AFTER_REQUEST,
    REVIEW_REFUSED,
    TIED_TO_REMEDY,
    BuyerRef,
    FactBook,
    TurnFacts,
    gender_of,
)
from bot.training.grader import Grader, Scorecard, SessionFacts, ViolationRecord, case_words
from bot.training.persona import PersonaFile, Scenario
from bot.training.rubric import RubricFile
from bot.training.versions import data_digest
from bot.understand.rules import CLAUSE_BREAK

Event = dict[str, Any]
Sink = Callable[[Event], None]
# The policy notes a review request brings (bot/guard/policy.py, agent_turn): not for a message
# whose request is only implied by a tie to an earlier message's request.
_REQUEST_NOTES = frozenset({"request_malicious", "request_not_allowed", "request_after_gift", "early_request",
                            "repeat_request"})


class SessionOver(RuntimeError):
    """A reply was given after the session ended."""


@dataclass(frozen=True, slots=True)
class Exchange:
    """One trainee reply and everything that followed from it."""

    facts: TurnFacts
    reply: BuyerReply
    understood: BuyerUnderstanding | None
    tip: str
    violations: list[ViolationRecord]
    stage: str


class Session:
    """A training session for one persona and seed."""

    def __init__(self, engine: Engine, persona: PersonaFile, rubric: RubricFile, seed: int,
                 sink: Sink | None = None, trainee: str = "") -> None:
        self.trainee = trainee
        self.engine = engine
        self.persona_file = persona
        self.persona = persona.persona
        self.rubric_file = rubric
        self.seed = seed
        self._sinks: list[Sink] = [sink] if sink else []
        self.events: list[Event] = []
        self.facts = FactBook(rubric.rubric.facts, rubric.rubric.remedy_cues)
        self.grader = Grader(rubric.rubric, case_words(persona.persona.case, persona.persona.gender))
        p = self.persona
        self.conv: Conversation
        self.sug: Suggestion
        self.conv, self.sug = engine.start(p.case, conversation_id=f"train-{p.id}-{seed}")
        self.scenario: Scenario = p.goal.scenario
        self.review_changeable = review_changeable(self.conv, p.contact_time)
        self.buyer = SimulatedBuyer(
            p, seed, review_allowed=self.review_changeable and self.scenario == "main",
            read=self._read)
        gender = p.gender or gender_of(p.case.honorific)
        forms = rubric.rubric.address_forms
        self.buyer_ref = BuyerRef(name=p.case.buyer_name, gender=gender, wrong_forms=[
            w for g, ws in forms.items() if gender is not None and g != gender for w in ws])
        self.turns: list[TurnFacts] = []
        self.buyer_intent: str | None = None
        self.reached = self.conv.stage
        self.ending: str | None = None
        self.scorecard: Scorecard | None = None
        self._emit(self._header())

    # -- driving ---------------------------------------------------------------------------

    @property
    def done(self) -> bool:
        """True once the buyer has left or the session was finished."""
        return self.ending is not None

    def add_sink(self, sink: Sink) -> None:
        """Also send every event (the ones so far first) to ``sink``."""
        for e in self.events:
            sink(e)
        self._sinks.append(sink)

    def say(self, text: str) -> Exchange:
        """The trainee sends ``text``; the buyer answers; the grader coaches."""
        if self.done:
            raise SessionOver("这次练习已经结束")
        text = text.strip()
        if not text:
            raise ValueError("回复不能为空")
        n = len(self.turns) + 1
        at = self.persona.contact_time + timedelta(minutes=n)  # the clock comes from the case
        before = self.conv
        conv, sug = self.engine.feed(before, "agent", text, at=at)
        # the buyer has said no to the review: every later request argues with it, not only the
        # one right after the no (the buyer's next line answered the first push); the rubric's
        # facts build on it ("真的不能改吗？" names no review, but after the no it is about it)
        given = [REVIEW_REFUSED] if self.buyer.review_answer == "refuse" else []
        if self._names_problem(text):
            given.append(NAMES_PROBLEM)
        facts = self.facts.read(
            turn=n, text=text, norm_text=self.engine.understand.normalize(text).text,
            before=before, after=conv, sug=sug, buyer_before=self.buyer_intent, buyer=self.buyer_ref,
            given=given, unaccepted=unaccepted_acts(self.engine, text, before, conv))
        if "request_review" in facts.acts and any(
                x in facts.facts for x in self.rubric_file.rubric.not_a_request) and "request_review" in \
                self.engine.understand.agent_read(text, before.context.agent_recent, before.stage)[1]:
            # A refusal of the deal names the review without asking for it ("评价也不会拿来交换");
            # the learned model alone reads a request in it: not taken, nor its policy notes.
            facts.acts = [a for a in facts.acts if a != "request_review"]
            facts.notes = [w for w in facts.notes if w.code not in _REQUEST_NOTES]
        if any(f.code == "conditional_benefit" for f in facts.findings) and "request_review" in facts.acts \
                and "request_review" not in self.engine.understand.agent(text, (), before.stage).acts:
            # The guard ties this offer to a request in an earlier message (its rule across
            # messages): the offer is charged as that tie, and the request read into it (the
            # engine implies one from the finding) is no second request, early or repeated -
            # the message asks nothing. The tip says the offer came right after the request.
            facts.acts = [a for a in facts.acts if a != "request_review"]
            facts.notes = [w for w in facts.notes if w.code not in _REQUEST_NOTES]
            facts.facts.append(OFFER_AFTER_REQUEST)
        if any(f.code == "conditional_benefit" for f in facts.findings) and not any(
                EXTRA_BENEFIT in t.facts for t in [*self.turns[-2:], facts]):
            facts.facts.append(TIED_TO_REMEDY)  # the remedy promised is what reads as the price
        moot = self.rubric_file.rubric.moot_after_choice
        if self.buyer.chosen is not None and moot:
            # The buyer has chosen a remedy: a request now comes after the fix, whatever stage the
            # script machine is in (an order named in words it missed can leave it in 倾听致歉).
            facts.notes = [w for w in facts.notes if w.code not in moot]
        if facts.blocked:
            # A blocked reply could not be sent in real work: it is scored where it was written,
            # and the guard's memory (ties split across messages) does not carry it on, or the
            # next clean offer would be read as tied to its review and scored again.
            conv.context.agent_recent = conv.context.agent_recent[:-1]
        closed = conv.stage == self.engine.script.final
        # A goodbye the script machine takes to 致谢结束 mid-way ("回头再联系您，先这样，再见" over
        # the buyer's problem) ends the chat for the buyer too, as "谢谢，再见" (to 已结束) does:
        # they say what they still wait for and leave, not press on as if nothing was said.
        closes = self.engine.roles.closes
        walks_off = not closed and "close" in facts.acts and facts.stage not in closes \
            and conv.stage in closes
        reply = self.buyer.respond(facts, last_turn=n >= self.persona.max_turns,
                                   closed=closed or walks_off)
        if reply.pressed:
            # What the buyer made of the reply is a fact too: the grader can tell a turn that
            # moved nothing and cost patience (the buyer has already answered, unaffected).
            facts.facts.append(BUYER_PRESSED)
            if reply.leaves:
                facts.facts.append(BUYER_GAVE_UP)
        if reply.waiting is not None:
            facts.facts.append(BUYER_WAITING)
        understood: BuyerUnderstanding | None = None
        if not closed:  # a closed conversation takes no more messages; the goodbye is shown only
            conv, sug = self.engine.feed(conv, "buyer", reply.text, at=at)
            assert isinstance(sug.understanding, BuyerUnderstanding)
            understood = sug.understanding
            self.buyer_intent = understood.intent
        self.conv, self.sug = conv, sug
        # The stage the trainee reached: a buyer who walks off ("算了，就这样吧") is read as
        # ending the talk, which is not a 致谢结束 the trainee got to.
        self.reached = facts.stage_after if reply.leaves and not closed else conv.stage
        self.turns.append(facts)
        ending = None
        if reply.leaves:
            ending = "closed" if conv.stage == self.engine.script.final else reply.ending or "buyer_left"
        tip = self.grader.turn_tip(facts, conv.stage, understood.intent if understood else None,
                                   ending, reply.item if reply.pressed else reply.stays)
        violations = self.grader.violations(facts)
        self._emit({
            "type": "agent", "turn": n, "text": text, "stage_before": facts.stage,
            "stage": facts.stage_after, "acts": facts.acts,
            "findings": [f.model_dump(mode="json") for f in facts.findings],
            "notes": [f.code for f in facts.notes], "facts": facts.facts,
            "remedies": facts.remedies,
        })
        self._emit({"type": "coach", "turn": n, "tip": tip,
                    "violations": [v.model_dump(mode="json") for v in violations]})
        self._emit({
            "type": "buyer", "turn": n, "text": reply.text, "intent": reply.intent,
            "understood": understood.intent if understood else None, "event": reply.event,
            "item": reply.item, "mood": reply.mood, "band": reply.band,
            "patience": reply.patience, "stage": conv.stage,
        })
        if ending is not None:
            self.finish(ending)
        return Exchange(facts, reply, understood, tip, violations, conv.stage)

    def hint(self) -> list[str]:
        """What csbot would suggest the trainee say next (recorded in the transcript)."""
        texts = [s.text for s in self.sug.suggestions]
        self._emit({"type": "hint", "turn": len(self.turns), "suggestions": texts})
        return texts

    def finish(self, ending: str) -> Scorecard:
        """End the session (if not ended yet) and return its scorecard."""
        if self.scorecard is not None:
            return self.scorecard
        self.ending = self.ending or ending
        s = SessionFacts(
            # (a gift alone chosen: no request is to be made, as where the review cannot change)
            scenario=self.scenario, review_changeable=self.review_changeable and not self.conv.context.gift_only,
            final_stage=self.reached, final_context=self.conv.context.model_dump(),
            ending=self.ending, remedy=self.buyer.chosen, review_answer=self.buyer.review_answer)
        self.scorecard = self.grader.score(self.persona.id, self.seed, self.turns, s,
                                           kind=self.persona.kind)
        self._emit({"type": "end", "ending": self.ending, "stage": self.conv.stage})
        self._emit({"type": "scorecard", **self.scorecard.model_dump(mode="json")})
        return self.scorecard

    # -- helpers -----------------------------------------------------------------------------

    def stage_label(self, stage: str | None = None) -> str:
        """The Chinese label of a stage (the current one by default)."""
        return self.engine.script.stages[stage or self.conv.stage].label

    def _names_problem(self, text: str) -> bool:
        """Whether the buyer's reader finds a problem (a cause) in the reply, leaving out the
        clauses that only greet or say who is calling (rubric ``problem_blind_acts``): the buyer
        model reads "我是山野茶铺的售后客服小李" as a complaint about the service."""
        if self._read(text)[1] is None:
            return False
        blind = set(self.rubric_file.rubric.problem_blind_acts)
        clauses = [c for c in CLAUSE_BREAK.split(text) if c.strip()]
        kept = [c for c in clauses
                if not (acts := self.engine.understand.agent(c).acts) or not set(acts) <= blind]
        if len(kept) == len(clauses):
            return True
        return bool(kept) and self._read("，".join(kept))[1] is not None

    def _read(self, text: str) -> tuple[str, str | None]:
        u = self.engine.understand.buyer(text)
        return u.intent, u.cause

    def _emit(self, event: Event) -> None:
        self.events.append(event)
        for sink in self._sinks:
            sink(event)

    def _header(self) -> Event:
        p, r = self.persona, self.rubric_file
        return {
            "type": "header", "format": "csbot-training/1", "trainee": self.trainee,
            "persona": p.id, "title": p.title,
            "kind": p.kind, "persona_sha256": self.persona_file.sha256,
            "rubric_version": r.rubric.version, "rubric_sha256": r.sha256, "seed": self.seed,
            "versions": {"csbot": __version__, "training": TRAINING_VERSION,
                         "script": self.engine.script.version,
                         "data": data_digest(self.engine.dialogs)},
            "case": p.case.model_dump(mode="json", exclude_none=True),
            "contact_time": p.contact_time.isoformat(), "scenario": self.scenario,
            "review_changeable": self.review_changeable, "patience": p.patience,
            "mood": self.buyer.mood, "band": self.buyer.band,
            "stage_labels": dict(self.engine.labels.names["stage"]),
            "remedy_labels": dict(self.engine.labels.names["remedy"]),
        }


def run_scripted(session: Session, replies: list[str]) -> Scorecard:
    """Play a scripted trainee (one reply per item) and return the scorecard."""
    for text in replies:
        if session.done:
            break
        session.say(text)
    return session.finish("out_of_replies")
