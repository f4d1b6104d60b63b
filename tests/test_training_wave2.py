"""Trainer leftovers of the second wave, through the real trainer and engine with the Chinese a
trainee is shown: no second penalty for a clean reply after a blocked one, every push after the
buyer's no counts, the span quoted is the part that blames, and stalling is not paying."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pytest

from bot.engine import Engine
from bot.training.transcript import render_markdown
from tests.shared import play, violation_codes

TRAINEES = Path(__file__).parent / "data" / "trainees"


def _lines(name: str) -> list[str]:
    return [ln for ln in (TRAINEES / name).read_text(encoding="utf-8").splitlines() if ln.strip()]


_play = partial(play, seed=3)


_codes = violation_codes


def test_a_clean_offer_after_a_blocked_reply_is_not_scored_again(engine: Engine) -> None:
    """The blocked reply could not be sent: it costs where it was written. The clean offer after it
    was read as tied to that reply's review (the guard's memory) and cost conditional_benefit,
    early_request and repeat_request on top."""
    good = _lines("size_not_fit_first_time.good.txt")
    s = _play(engine, "size_not_fit_first_time", [
        *good[:3], "那给您换33码吧，换好了您把评价改一下。",
        "给您两个选择：给您换成33码，来回运费都由我们承担；或者直接退货退款，运费也是我们出。您看哪个方便？"])
    assert _codes(s) == [(4, "conditional_benefit"), (4, "early_request")], _codes(s)
    assert not s.turns[-1].findings and "offer_remedy" in s.turns[-1].acts


def test_every_push_after_the_buyers_no_counts(engine: Engine) -> None:
    """Only the push right after the no counted: the buyer's line in between answered the first
    push, so the second one looked like no argument at all."""
    good = _lines("keeps_review_experienced.good.txt")
    s = _play(engine, "keeps_review_experienced",
              [*good[:7], "真的不能帮忙改一下评价吗？", "那您看评价还能不能再考虑一下呢？"])
    assert s.scorecard is not None and s.scorecard.outcome.review_request == "declined"
    codes = _codes(s)
    assert (8, "pushes_after_refusal") in codes and (9, "pushes_after_refusal") in codes, codes
    # before the no there is nothing to argue with: the request itself costs nothing
    assert not any(turn <= 7 for turn, _ in codes), codes
    pushed = next(v for v in s.scorecard.violations if v.code == "pushes_after_refusal" and v.turn == 9)
    assert "买家已经说了不改评价，还接着劝" in pushed.message


def test_the_quoted_span_is_the_part_that_blames_the_buyer(engine: Engine) -> None:
    good = _lines("size_not_fit_first_time.good.txt")
    s = _play(engine, "size_not_fit_first_time", [*good[:2], "页面上写得很清楚这款偏小，是您自己没看尺码表。"])
    blame = next(f for f in s.turns[-1].findings if f.code == "blame")
    assert blame.span is not None
    quoted = s.turns[-1].text[blame.span[0]:blame.span[1]]
    assert quoted.startswith("是您自己没"), quoted
    assert "「是您自己没" in render_markdown(s.events, s.rubric_file.rubric.labels)


def test_stalling_the_bad_reviewer_is_not_paying(engine: Engine) -> None:
    good = _lines("pro_bad_reviewer.good.txt")
    s = _play(engine, "pro_bad_reviewer", [*good[:3], "三百块这个我做不了主，我得去问问主管。"])
    card = s.scorecard
    assert card is not None
    assert card.outcome.ending != "paid" and not any(v.code in ("pays_extortion", "conditional_benefit")
                                                       for v in card.violations), _codes(s)
    assert "答应了给钱" not in render_markdown(s.events, s.rubric_file.rubric.labels)
    tips = [e["tip"] for e in s.events if e.get("type") == "coach"]
    assert "说“去问问主管”只是把事拖着" in tips[-1], tips[-1]
    # not handled either: stalling is no refusal
    assert not card.outcome.handled
    # promising the money after asking is still paying
    s = _play(engine, "pro_bad_reviewer", [*good[:3], "我问问主管，三百块可以给您转过去。"])
    assert s.scorecard is not None and s.scorecard.outcome.ending == "paid"



@pytest.mark.parametrize("stall", ["三百块这个我做不了主，我问问主管，把聊天记录整理好发给您核对。",
                                   "三百块我做不了主，得问问主管，晚点给您回复。"])
def test_a_stall_that_sends_something_to_read_is_not_paying(engine: Engine, stall: str) -> None:
    """"发给您核对" (a document to check) and "给您回复" (a call back) promise no money: the stall
    with the sum in it stays a stall (pay_promise read any 给您 as paying)."""
    good = _lines("pro_bad_reviewer.good.txt")
    s = _play(engine, "pro_bad_reviewer", [*good[:3], stall])
    assert "pay_promise" not in s.turns[-1].facts and "stalls" in s.turns[-1].facts, s.turns[-1].facts
    card = s.scorecard
    assert card is not None and card.outcome.ending != "paid"
    assert not any(v.code == "pays_extortion" for v in card.violations), _codes(s)
