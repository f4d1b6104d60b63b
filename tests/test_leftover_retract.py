"""A message sent to the wrong chat and taken back ("不好意思发错窗口了") is undone: the options
and the question being discussed come back, not the wrong message's (nor only the cause's)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.corpus import is_heldout
from bot.engine import Engine
from tests.dialog import Flow

OFFER = "给您补发一条新的，或者补偿您20元，您看哪个合适呢？"
WRONG = "亲，这款杯子给您退款30元已经处理了"
BACK = "不好意思发错窗口了"


def _talk(f: Any) -> Any:
    return (f.agent("您好，请问是周敏女士吗？").buyer("是我")
            .agent("您10月买的连衣裙还记得吗？").buyer("记得，裙子线头特别多，还开线了")
            .agent("真的很抱歉，让您收到这样的裙子，换我也会不开心。")
            .agent("这批做工是我们品控没把好关，已经反馈给工厂了。")
            .agent(OFFER).buyer("补发的话要多久能到？").expect("remedy"))


def test_taking_back_a_wrong_message_restores_the_options_discussed(flow: Callable[..., Any]) -> None:
    for text in (OFFER, WRONG, BACK, "抱歉，刚才那条不是发给您的", "好的亲，谢谢您的支持，祝您生活愉快，再见！",
                 "不好意思发错窗口了，给您补发一条新的，运费我们出，您看可以吗？"):
        assert not is_heldout(text)
    f = _talk(flow())
    before = [s.text for s in f.last.suggestions]
    assert "补发" in before[0]
    f.agent(WRONG)
    assert f.conv.context.options_listed == ["refund"]  # the wrong message did offer a refund
    f.agent(BACK).expect("remedy")  # through the store: the record of what to undo is kept
    assert f.conv.context.options_listed == ["reship", "partial_refund"]
    assert f.conv.context.amount_said == "20"
    # the buyer's question about the reship is answered again, no full refund in sight
    f.expect_reply_contains("补发")
    assert not any("全额退款" in s.text for s in f.last.suggestions)
    f.buyer("那到底怎么弄")
    assert f.last.suggestions[0].text.count("补发") >= 1
    assert not any("全额退款" in s.text for s in f.last.suggestions)


def test_a_wrong_message_that_moved_the_stage_is_taken_back(engine: Engine) -> None:
    f = _talk(Flow(engine)).buyer("那就补发吧").expect("polite_request")
    stage, chosen = f.conv.stage, f.conv.context.remedy_chosen
    f.agent("好的亲，谢谢您的支持，祝您生活愉快，再见！").expect("closed")
    f.agent("抱歉，刚才那条不是发给您的").expect(stage)
    assert f.conv.context.remedy_chosen == chosen
    # the buyer saw it: the guard still remembers it
    assert "谢谢您的支持" in " ".join(f.conv.context.agent_recent)


def test_taking_a_message_back_lets_no_gift_or_second_request_past_the_guard(engine: Engine) -> None:
    """A reviewer's probes: "发错窗口了" wiped the guard's memory and the request count."""
    f = _talk(Flow(engine)).agent("另外送您一个小礼物").agent("不好意思发错窗口了")
    found = engine.understand.findings("麻烦您把差评改成好评哈", f.conv.context.agent_recent, f.conv.stage)
    assert "conditional_benefit" in [x.code for x in found]
    f = _talk(Flow(engine)).buyer("那就补发吧").expect("polite_request")
    f.agent("您方便的话把评价改一下吧").agent("发错窗口了")
    assert f.conv.context.review_requests == 1


def test_a_correction_that_says_more_is_read_too(engine: Engine) -> None:
    f = _talk(Flow(engine)).agent(WRONG)
    f.agent("不好意思发错窗口了，给您补发一条新的，运费我们出，您看可以吗？").expect("remedy")
    assert f.conv.context.options_listed == ["reship"]
    assert "offer_remedy" in f.conv.context.last_acts


def test_a_parcel_sent_wrong_takes_nothing_back(engine: Engine) -> None:
    for text in ("这条裙子发错了，是我们的问题", "快递员把包裹送错地方了，发错了小区"):
        assert not is_heldout(text)
        f = _talk(Flow(engine)).agent(WRONG).agent(text)
        assert f.conv.context.options_listed == ["refund"]
