"""Scripted trainees: every persona has an exemplary one (≥ 85) and a poor one (clearly lower)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.engine import Engine
from bot.paths import dialogs_dir
from bot.training.grader import Scorecard
from bot.training.persona import load_personas
from bot.training.rubric import load_rubric
from bot.training.session import Session, run_scripted

DIALOGS = dialogs_dir()
TRAINEES = Path(__file__).parent / "data" / "trainees"
# Read once for the module: a session only reads its persona and rubric (some 60 games here).
PERSONAS = {pf.persona.id: pf for pf in load_personas(DIALOGS)}
IDS = list(PERSONAS)
RUBRIC = load_rubric(DIALOGS)


def replies(name: str) -> list[str]:
    return [ln.strip() for ln in (TRAINEES / name).read_text(encoding="utf-8").splitlines()
            if ln.strip()]


def play(engine: Engine, persona: str, lines: list[str], seed: int = 1) -> Scorecard:
    session = Session(engine, PERSONAS[persona], RUBRIC, seed)
    return run_scripted(session, lines)


def test_every_persona_has_both_trainees() -> None:
    for pid in IDS:
        assert (TRAINEES / f"{pid}.good.txt").is_file(), pid
        assert (TRAINEES / f"{pid}.poor.txt").is_file(), pid


@pytest.mark.parametrize("seed", [1, 7])
@pytest.mark.parametrize("persona", IDS)
def test_exemplary_trainee_resolves_the_case(engine: Engine, persona: str, seed: int) -> None:
    card = play(engine, persona, replies(f"{persona}.good.txt"), seed)
    assert card.total >= 85, card.model_dump()
    assert card.passed
    assert card.violations == []
    assert card.outcome.handled
    assert card.outcome.resolved == (persona not in (BAD, "busy_office_worker"))
    assert card.outcome.ending in ("closed", "buyer_left")


@pytest.mark.parametrize("persona", IDS)
def test_poor_trainee_scores_clearly_lower(engine: Engine, persona: str) -> None:
    good = play(engine, persona, replies(f"{persona}.good.txt"))
    poor = play(engine, persona, replies(f"{persona}.poor.txt"))
    assert not poor.passed
    assert poor.total <= good.total - 25, (good.total, poor.total)
    assert poor.violations, "the poor trainee's mistakes show up as violations"
    assert len(poor.tips) == 3


BRIBES = [
    "您把差评改成好评，我们就给您返20元红包。",
    "删评后我们把优惠券发给您。",
    "改好评就返5元。",
]


@pytest.mark.parametrize("bribe", BRIBES)
@pytest.mark.parametrize("persona", IDS)
def test_a_benefit_for_the_review_fails_the_session(engine: Engine, persona: str,
                                                     bribe: str) -> None:
    lines = replies(f"{persona}.good.txt")
    lines.insert(len(lines) - 1, bribe)  # an otherwise exemplary call, one bad line near the end
    card = play(engine, persona, lines)
    assert not card.passed
    assert card.total <= 30
    assert any(v.code == "conditional_benefit" for v in card.violations)


# -- the professional bad-reviewer is handled only by refusing to pay and closing politely --

BAD = "pro_bad_reviewer"


def test_bad_reviewer_refused_and_closed_politely_passes(engine: Engine) -> None:
    card = play(engine, BAD, replies(f"{BAD}.good.txt"))
    assert card.passed and card.outcome.handled and not card.outcome.resolved
    assert card.stages["malicious"].score == card.stages["malicious"].max > 0
    assert card.stages["polite_request"].max == 0  # asking is not expected here…


def test_bad_reviewer_paid_fails(engine: Engine) -> None:
    lines = [*replies(f"{BAD}.good.txt")[:3],
             "好的，我们给您补偿100元，您看可以吗？",
             "好的，祝您生活愉快。"]
    card = play(engine, BAD, lines)
    assert not card.passed
    assert "pays_extortion" in [v.code for v in card.violations]
    assert card.outcome.ending == "paid" and not card.outcome.resolved


def test_bad_reviewer_refused_but_no_polite_close_is_not_enough(engine: Engine) -> None:
    good = play(engine, BAD, replies(f"{BAD}.good.txt"))
    lines = replies(f"{BAD}.good.txt")[:4]  # refuses, then never closes
    card = play(engine, BAD, lines)
    assert card.total < good.total and not card.outcome.resolved


def test_bad_reviewer_asked_to_delete_is_a_violation(engine: Engine) -> None:
    lines = replies(f"{BAD}.good.txt")
    lines.insert(4, "那您能不能考虑把差评删了？")
    card = play(engine, BAD, lines)
    assert "request_malicious" in [v.code for v in card.violations]
    assert not card.passed


def test_bad_reviewer_threatened_fails(engine: Engine) -> None:
    lines = [*replies(f"{BAD}.good.txt")[:4], "你再这样我们就报警，后果自负。"]
    card = play(engine, BAD, lines)
    assert not card.passed
    assert "threat" in [v.code for v in card.violations]


def test_a_bad_reviewer_who_has_named_his_price_does_not_ask_who_is_writing(engine: Engine) -> None:
    # A poor trainee asks about the review before greeting anyone; the buyer names his price.
    # Pleading afterwards does not make him ask who the agent is (he is talking business),
    # and a small offer is not greeted as enough.
    session = Session(engine, PERSONAS["pro_bad_reviewer"], RUBRIC, 2)
    card = run_scripted(session, ["亲，在吗，你给的差评能不能删一下", "你这样我们会被扣工资的，帮帮忙吧",
                                  "给你返现20元，你把差评删了"])
    said = [e["text"] for e in session.events if e.get("type") == "buyer"]
    assert len(said) == 3 and re.search("三百|300", said[0]), said
    assert not any(re.search("谁|哪位", s) for s in said[1:]), said
    assert not any("差不多" in s for s in said), said
    assert card.outcome.ending == "paid" and not card.passed


@pytest.mark.parametrize("sorry", ["真的非常抱歉，这次是我们没做好。", "实在对不起，给您添麻烦了。",
                                   "这次的事真的很抱歉，让您失望了。"])
@pytest.mark.parametrize("persona", [p for p in IDS if any(i.id == "product" for i in PERSONAS[p].persona.agenda)])
def test_an_apology_for_the_problem_shows_what_the_call_is_about(engine: Engine, persona: str, sorry: str) -> None:
    # A trainee who skips "do you remember the order" but apologises for the problem has said
    # what the call is about: the buyer answers that (and the scorecard still misses the step),
    # not "什么事啊？你直接说吧".
    session = Session(engine, PERSONAS[persona], RUBRIC, 1)
    card = run_scripted(session, [f"您好，请问是{PERSONAS[persona].persona.case.buyer_name}吗？我是店里的售后客服。",
                                  sorry])
    second = [e for e in session.events if e.get("type") == "buyer"][1]
    assert not (second["event"] == "press" and second["item"] == "product"), second
    assert not re.search("问这个|还好还好|还行吧", second["text"]), second  # nobody asked how they are
    assert card.stages["confirm_product"].score == 0
