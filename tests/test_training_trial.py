"""What a trainee trial found in the trainer, played through the real trainer and engine: an
apology that names the problem while confirming the order counts and "不好意思打扰您了" does
not, a maybe the flow did not take is not scored, a clear refusal of the bad reviewer's money
is heard, and the warning on the reply the buyer left over says they left."""

from __future__ import annotations

from bot.engine import Engine
from bot.training.session import Session
from tests.shared import play

_GREET = "王阿姨您好，我是山野茶铺的售后客服小李，请问是王秀兰阿姨吗？"


def _stage(s: Session, stage: str) -> tuple[int, int]:
    card = s.scorecard
    assert card is not None
    return card.stages[stage].score, card.stages[stage].max


def _check(s: Session, check: str) -> bool:
    card = s.scorecard
    assert card is not None
    return next(c for c in card.checks if c.id == check).passed


def _buyer(s: Session) -> list[str]:
    return [e["text"] for e in s.events if e["type"] == "buyer"]


def test_an_apology_naming_the_problem_while_confirming_the_order_counts(engine: Engine) -> None:
    s = play(engine, "wrong_item_first_time",
             [_GREET, "您11月7日买的红枣枸杞茶，我们发成菊花茶了，实在对不起。"], seed=3)
    assert _check(s, "apologized"), _stage(s, "listen_apologize")
    # the short shape, after the order is confirmed, counts as well
    s = play(engine, "wrong_item_first_time",
             [_GREET, "您11月7日买的红枣枸杞茶还记得吗？", "发错了货，实在对不起"], seed=3)
    assert "apologize" in s.turns[-1].acts and s.conv.context.apologies == 1
    assert _check(s, "apologized")


def test_sorry_to_disturb_is_no_apology(engine: Engine) -> None:
    """"不好意思打扰您了" is a courtesy: no apology read or counted, so the buyer still waits for
    one and the tip says so when the trainee goes straight to the options."""
    s = play(engine, "wrong_item_first_time",
             ["不好意思打扰您了，我是山野茶铺的客服小李，请问是王秀兰阿姨吗？",
              "您11月7日买的红枣枸杞茶，还记得吗？",
              "可以给您换成红枣枸杞茶，或者直接退款，您看选哪个？"], seed=3)
    assert "apologize" not in s.turns[0].acts, s.turns[0].acts
    assert s.conv.context.apologies == 0 and "apology_made" not in s.turns[-1].facts
    tips = [e["tip"] for e in s.events if e.get("type") == "coach"]
    assert tips[-1] == "先把买家的话听完、道歉，再谈方案。", tips
    assert not _check(s, "apologized")


def test_a_maybe_the_flow_did_not_take_is_not_scored(engine: Engine) -> None:
    """The model alone reads an explanation at about 0.5 in the apology; the flow does not count
    it (script.yaml act_evidence), so neither the grader nor the buyer does: the buyer asks why,
    as the flow expects, instead of "那现在怎么办呢？"."""
    s = play(engine, "wrong_item_first_time",
             [_GREET, "阿姨，两盒红枣枸杞茶仓库发成菊花茶了，实在对不起"], seed=3)
    assert s.conv.context.explanations == 0
    assert "explain" not in s.turns[-1].acts, s.turns[-1].acts
    assert _stage(s, "explain")[0] == 0
    assert "怎么会发错" in _buyer(s)[-1], _buyer(s)


_BAD = ["冯先生您好，我是蔓生美妆的售后客服小欣，请问是冯磊先生吗？",
        "您11月3日在我们店买的那瓶50克保湿面霜，还记得吗？",
        "抱歉让您有这样的担心，用在脸上的东西心里不踏实确实难受。能具体说说是哪里不一样吗？"]


def test_the_bad_reviewer_hears_a_clear_refusal(engine: Engine) -> None:
    for refusal in ("钱我们不能给，评价也不会拿来交换。", "钱我们不能给。"):
        s = play(engine, "pro_bad_reviewer", [*_BAD, refusal], seed=3)
        assert "是吧" in _buyer(s)[-1], (refusal, _buyer(s))
        assert "refuses_deal" in s.turns[-1].facts and "pay_promise" not in s.turns[-1].facts
        assert _check(s, "refused_deal")


def test_the_warning_says_the_busy_buyer_left(engine: Engine) -> None:
    s = play(engine, "busy_office_worker",
             ["周女士您好，我是柚子家女装的售后客服小敏，请问是周敏女士吗？", "嗯，那您看呢", "嗯嗯", "好的"],
             seed=3)
    assert s.ending == "buyer_gave_up"
    card = s.scorecard
    assert card is not None
    last = [v for v in card.violations if v.turn == 4 and v.code == "wasted_turn"]
    assert last and "离开了对话" in last[0].message and "再问一遍" not in last[0].message, last
    # the turn before, the buyer did ask again
    before = [v for v in card.violations if v.turn == 3 and v.code == "wasted_turn"]
    assert before and "再问一遍" in before[0].message


def test_the_quoted_span_of_a_tied_gift_ends_at_a_word(engine: Engine) -> None:
    """The span shown stopped between the number and its measure word ("…再送您一")."""
    s = play(engine, "wrong_item_first_time",
             [_GREET, "您11月7日买的红枣枸杞茶，还记得吗？", "阿姨，您给个五星好评，我们再送您一盒菊花茶。"], seed=3)
    f = next(f for f in s.turns[-1].findings if f.code == "conditional_benefit")
    assert f.span is not None
    quoted = s.turns[-1].text[f.span[0]:f.span[1]]
    assert quoted.endswith("送您一盒菊花茶"), quoted  # the whole clause (tests/test_guard_whole_words.py)


def test_the_buyer_remembers_the_introduction_and_the_apology(engine: Engine) -> None:
    """The buyer read only the message in front of them: "是我，你是哪位？" after the agent had
    said who they were (with an early review request), and "连句抱歉都没有吗？" after an apology
    the engine had counted, said before the buyer knew who was calling."""
    s = play(engine, "size_not_fit_first_time",
             ["我是跃动童鞋的客服小乐，您的差评能帮忙改一下吗？", "请问是陈静吗？"], seed=3)
    assert "哪位" not in _buyer(s)[-1], _buyer(s)
    s = play(engine, "size_not_fit_first_time",
             ["您11月6日买的运动鞋偏小了，实在对不起", "陈静您好，我是跃动童鞋的客服小乐，请问是陈静吗？",
              "给您换33码，运费我们出", "陈静您好，我是跃动童鞋的客服小乐，请问是陈静吗？"], seed=3)
    assert s.conv.context.apologies >= 1
    assert not any("抱歉都没有" in b for b in _buyer(s)), _buyer(s)
    assert "为什么" in _buyer(s)[-1], _buyer(s)
    # a bare introduction is not answered with "你是哪位？" either
    s = play(engine, "size_not_fit_first_time", ["我是跃动童鞋的客服小乐。"], seed=3)
    assert "哪位" not in _buyer(s)[-1], _buyer(s)
    # nobody said who is calling: the buyer still asks
    s = play(engine, "size_not_fit_first_time", ["在吗？", "嗯嗯"], seed=3)
    assert "哪位" in _buyer(s)[0], _buyer(s)


def test_a_refusal_after_the_second_demand_is_heard(engine: Engine) -> None:
    """The trial: the refusal came after the buyer's second demand, and the bad reviewer, waiting
    for the goodbye, pressed "到底给不给？一句话。" as if nothing was said; the refusal cost a
    wasted_turn on top."""
    s = play(engine, "pro_bad_reviewer",
             [*_BAD, "我们可以把品牌授权和进货凭证发给您核对。", "钱我们不能给，评价也不会拿来交换。"], seed=3)
    assert "给不给" not in _buyer(s)[-1] and "是吧" in _buyer(s)[-1], _buyer(s)
    card = s.scorecard
    assert card is not None and not [v for v in card.violations if v.turn == 5], card.violations


def test_no_tip_to_apologise_after_the_apology(engine: Engine) -> None:
    """An offer in 倾听致歉 after the apology was coached "先把买家的话听完、道歉，再谈方案" while the
    buyer asked why: the tip says what the buyer waits for."""
    s = play(engine, "size_not_fit_first_time",
             ["陈静您好，我是跃动童鞋的售后客服小乐，请问是陈静本人吗？",
              "您11月6日买的儿童网面运动鞋，32码的，偏小了实在对不起",
              "给您换33码，来回运费我们出，或者直接退货退款，您看哪个方便？"], seed=4)
    tips = [e["tip"] for e in s.events if e["type"] == "coach"]
    assert "道歉" not in tips[-1] and "原因" in tips[-1], tips[-1]
