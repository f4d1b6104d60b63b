"""A single polite review request after the fix is done is no deal, in the live talk as in the
draft check; the slogan's rewrite is offered only for a slogan."""

from __future__ import annotations

from bot.corpus import is_heldout
from bot.engine import Engine
from tests.dialog import Flow

OFFER = "给您换一件新的，或者退货退款，运费都我们出，您看哪个方便？"
ASK = "能不能麻烦您帮忙给个好评呢？"
DONE = "好的，新的裙子已经给您安排寄出了"


def _to_request(engine: Engine) -> Flow:
    return (Flow(engine)
            .agent("您好，请问是周敏女士吗？").buyer("是我")
            .agent("您10月买的连衣裙还记得吗？").buyer("记得，裙子线头特别多，还开线了")
            .agent("真的很抱歉，让您收到这样的裙子，换我也会不开心。")
            .agent("这批做工是我们品控没把好关，已经反馈给工厂了。")
            .agent(OFFER).buyer("换一件吧").expect("polite_request").agent(DONE))


def test_one_request_after_the_fix_is_done_is_not_flagged(engine: Engine) -> None:
    for text in (ASK, DONE, "如果您觉得满意，能不能帮忙给个好评呀？"):
        assert not is_heldout(text)
        if text == DONE:
            continue
        flow = _to_request(engine)
        assert flow.conv.context.agent_recent[0] == OFFER  # the offer is still in the guard's memory
        ctx, stage = flow.conv.context.agent_recent, flow.conv.stage
        # the draft checked in the talk's context (POST /api/v1/lint with conversation_id)
        assert engine.understand.findings(text, ctx, stage) == []
        flow.agent(text).expect_no_warning("conditional_benefit")


def test_the_offer_not_done_yet_still_ties_and_gets_the_plain_rewrite(engine: Engine) -> None:
    found = engine.understand.findings(ASK, [OFFER], "polite_request")
    assert [f.code for f in found] == ["conditional_benefit"]
    # the slogan's "收到货后…" does not fit a talk about a problem
    assert found[0].rewrite is not None and "收到货后" not in found[0].rewrite
    assert "不附带任何条件" in found[0].rewrite and "评价" not in found[0].rewrite  # (no review beside a benefit)


def test_a_gift_offered_beside_the_fix_done_still_ties(engine: Engine) -> None:
    gift = "另外送您一个小礼物，您看可以吗？"
    assert not is_heldout(gift)
    found = engine.understand.findings(ASK, [DONE, gift], "polite_request")
    assert [f.code for f in found] == ["conditional_benefit"]


def test_a_slogan_still_gets_the_slogan_rewrite(engine: Engine) -> None:
    text = "给个五星好评，下次下单给您优惠"
    found = engine.understand.findings(text)
    assert found and found[0].rewrite == "下次下单给您优惠～收到货后有任何不满意随时找我们。"


def test_a_sum_on_top_of_the_fix_still_ties_after_the_fix_is_done(engine: Engine) -> None:
    for extra, ask in (("亲，退款之外我们再多补您10元", "您看一下，方便的话给个好评哈"),
                       ("除了换新的，另外再给您补偿15块钱", "那评价的事就麻烦您啦")):
        assert not is_heldout(extra) and not is_heldout(ask)
        found = engine.understand.findings(ask, [extra, "已经给您提交了"], "polite_request")
        assert [f.code for f in found] == ["conditional_benefit"]
