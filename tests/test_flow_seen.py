"""Issue 13, seen but not yet fixed: each class as buyers type it, through the real Engine and
model with the Chinese the agent is shown (pinyin particles, an acknowledgement with thanks, a
plain yes to several options, the review offered for the fix)."""

from __future__ import annotations

import pytest

from bot.models import BuyerUnderstanding, IntentScore
from tests.dialog import Flow
from tests.shared import shared_engine

ENGINE = shared_engine()
CASE = {"shop": "柚子家女装", "buyer_name": "周敏", "honorific": "女士", "product": "连衣裙"}
TWO = "给您换一件新的，来回运费我们出；或者退货退款也可以，您看哪种方便？"


def _told() -> Flow:
    return (Flow(ENGINE, CASE).agent("您好，请问是周敏女士吗？我是柚子家女装的售后客服。").expect("confirm_identity")
            .buyer("是我").expect("confirm_product")
            .agent("您上周在我们店买的那条连衣裙，还记得吗？")
            .buyer("记得，洗了一次就掉色了").expect("listen_apologize"))


def _explained() -> Flow:
    return (_told().agent("真的很抱歉，给您添麻烦了，换谁都会生气。").expect("explain")
            .agent("这批面料的固色没做好，是我们品控没把好关，已经反馈给工厂了。").expect("remedy"))


def _offered(offer: str = TWO) -> Flow:
    return _explained().agent(offer).expect("remedy")


def _buyer(text: str) -> BuyerUnderstanding:
    u = ENGINE.understand.buyer(text)
    assert isinstance(u, BuyerUnderstanding)
    return u


# -- 1. pinyin particles -------------------------------------------------------------------

@pytest.mark.parametrize("text,intent", [
    ("tk ba", "want_refund"), ("tuikuan ba", "want_refund"), ("TK吧", "want_refund"),
    ("hao de ya", "affirm"), ("hao ba", "affirm"), ("ok le", "affirm"), ("kk", "affirm"),
    ("ke yi de", "affirm"),
])
def test_short_pinyin_with_a_particle_reads_as_the_chinese(text: str, intent: str) -> None:
    assert _buyer(text).intent == intent, text


@pytest.mark.parametrize("text,chosen", [("tk ba", "refund"), ("tk ba 谢谢", "refund"), ("huan ba", "exchange"),
                                         ("wo xi huan", None)])
def test_a_pinyin_choice_with_a_particle_chooses(text: str, chosen: str | None) -> None:
    """"tk ba" read as other left the options on the table (dialogs_flow3, flow3-14); "huan" is
    no alias, so "huan ba" stays as typed, and the exchange's pinyin cue (remedies.yaml, dialogs_flow12)
    chooses it; "xi huan" (喜欢) names nothing."""
    flow = _offered("给您换一件新的，或者直接退款，您看哪种方便？").buyer(text)
    assert flow.conv.context.remedy_chosen == chosen, text


# -- 3. an acknowledgement with thanks, 亲, particles, emoji ----------------------------------

ACKS = ["好的好的 谢谢亲 辛苦啦🙏", "好的谢谢亲🙏", "嗯嗯 麻烦亲了", "收到 谢谢亲", "ok 谢谢亲",
        "行 辛苦了", "好滴 谢谢亲亲", "明白了 谢谢亲", "好的，辛苦亲了[微笑]", "可以的 谢谢亲 辛苦"]


@pytest.mark.parametrize("text", ACKS)
def test_an_acknowledgement_with_thanks_is_a_yes(text: str) -> None:
    u = _buyer(text)
    assert u.intent == "affirm" and [i.intent for i in u.intents] == ["affirm"], (text, u)


@pytest.mark.parametrize("text,intent", [
    ("好的 谢谢 拜拜", "end"), ("谢谢亲 拜拜", "end"), ("好的 谢谢 没事了", "end"),  # goodbyes
    ("谢谢亲🙏", "other"), ("辛苦啦🙏", "other"),  # thanks alone: chat
])
def test_a_goodbye_or_thanks_alone_is_not_made_a_yes(text: str, intent: str) -> None:
    assert _buyer(text).intent == intent, text
    # more than thanks: whatever it is, not a bare yes
    assert _buyer("好的谢谢，但是颜色还是不对").intent != "affirm"


def test_an_acknowledgement_with_thanks_means_what_its_stage_asks() -> None:
    text = "好的好的 谢谢亲 辛苦啦🙏"
    # asked who they are: a yes
    (Flow(ENGINE, CASE).agent("您好，请问是周敏女士吗？").buyer(text).expect("confirm_product"))
    # while the problem is explained: heard, no jump to 致谢结束
    _told().agent("真的很抱歉，给您添麻烦了。").buyer(text).expect("explain")
    # the one option offered: chosen, not every option turned down
    flow = _offered("给您换一件新的，来回运费我们出，您看可以吗？").buyer(text).expect("polite_request")
    assert flow.conv.context.remedy_chosen == "exchange" and not flow.conv.context.all_declined
    # asked about the review: answered; then the agent's closing words close the case
    flow.agent("新的已经给您寄出了，单号发您了。").agent("如果这次处理您还满意，方便的话可以考虑更新一下评价，改不改都尊重您的决定。")
    flow.buyer(text).expect("closing")
    flow.agent("再次抱歉给您添了麻烦，谢谢您的理解，欢迎再来！").expect("closed")
    flow.buyer(text).expect("closed")


# -- 4. a plain yes to several options -------------------------------------------------------

@pytest.mark.parametrize("text", ["好的", "可以", "行", "嗯嗯", "ok", "hao de", "好的好的 谢谢亲 辛苦啦🙏",
                                  "好的，那就这样吧"])
def test_a_plain_yes_to_several_options_asks_which_one(text: str) -> None:
    flow = _offered().buyer(text).expect("remedy")
    assert flow.conv.context.remedy_chosen is None and flow.conv.context.remedy_which
    flow.expect_reply_contains("换一件新的，还是退货退款")


@pytest.mark.parametrize("text,chosen", [("换吧", "exchange"), ("第二个", "return_refund"),
                                         ("那就退货吧", "return_refund"), ("好，换新的", "exchange")])
def test_a_clear_pick_among_several_options_still_chooses(text: str, chosen: str) -> None:
    flow = _offered().buyer(text).expect("polite_request")
    assert flow.conv.context.remedy_chosen == chosen


def test_the_buyer_who_was_asked_which_one_then_chooses() -> None:
    flow = _offered().buyer("好的").expect("remedy").buyer("退货退款吧").expect("polite_request")
    assert flow.conv.context.remedy_chosen == "return_refund"


@pytest.mark.parametrize("offer,chosen", [
    ("这件给您全额退款，不用寄回。", "refund"),  # one option ("不用寄回" names none)
    ("退款马上给您处理，另外再补偿您一份小礼物。", "refund"),  # several together, no choice
    ("给您换一件新的，来回运费我们出，您看可以吗？", "exchange"),
])
def test_a_plain_yes_to_one_offer_chooses_that_offer(offer: str, chosen: str) -> None:
    """Not the cause's first option (exchange, for quality): what the agent offered."""
    flow = _offered(offer).buyer("好的").expect("polite_request")
    assert flow.conv.context.remedy_chosen == chosen


def test_a_yes_to_the_remedy_the_buyer_asked_for_chooses_it_among_others() -> None:
    flow = (_explained().buyer("给我退货退款吧")
            .agent("好的，给您办退货退款，运费我们出；或者您想换一件新的也可以。").buyer("行").expect("polite_request"))
    assert flow.conv.context.remedy_chosen == "return_refund"


# -- 2. the review offered for the fix --------------------------------------------------------

DEALS = ["评价我可以改 但是你们先把钱退了", "你先退款我就改", "退款到账了我就改好评", "改评可以啊，先退钱",
         "你们先给我换个新的，换了我就删差评", "先退货退款，然后我再改评价", "评价可以改，前提是先退款"]


@pytest.mark.parametrize("text", DEALS)
def test_the_review_offered_for_the_fix_is_no_extortion(text: str) -> None:
    """The buyer agrees to change the review once the fix is done (the corpus labels "好吧，退了就改评"
    so): agree_review; the fix is owed whatever the review."""
    assert _buyer(text).intent == "agree_review", text


@pytest.mark.parametrize("text", ["赔我50我就删差评", "先把钱打过来，钱到了我再删评", "退款再加一百我就删差评",
                                  "给我转200，差评马上删"])
def test_money_beyond_the_fix_for_the_review_is_extortion(text: str) -> None:
    assert _buyer(text).intent == "extort", text


@pytest.mark.parametrize("text,intent", [("先退款吧", "want_refund"), ("退了钱再说评价的事", "want_refund"),
                                         ("先退款，评价的事以后再说", "want_refund")])
def test_a_refund_first_and_the_review_later_is_a_request(text: str, intent: str) -> None:
    assert _buyer(text).intent == intent, text


@pytest.mark.parametrize("text", DEALS)
def test_the_fix_offered_for_the_review_is_given_unconditionally_and_no_deal_is_made(text: str) -> None:
    flow = _offered().buyer(text)
    ctx = flow.conv.context
    assert flow.conv.stage == "polite_request" and ctx.remedy_chosen is not None and ctx.deal, text
    assert "deal" in [w.code for w in flow.last.warnings]
    if ENGINE.remedies.offers(ctx.cause, ctx.remedy_chosen):
        flow.expect_reply_contains("跟评价")  # the fix as ever; the review stays the buyer's own
    for s in flow.last.suggestions:  # and no suggestion takes the deal or asks for the review
        findings = ENGINE.understand.agent(s.text).findings
        assert not [f for f in findings if f.code == "conditional_benefit"], s.text
        assert "request_review" not in ENGINE.understand.agent(s.text).acts, s.text


def test_the_review_offered_for_the_fix_before_the_options_asks_for_that_fix() -> None:
    flow = _told().agent("真的很抱歉，给您添麻烦了。").expect("explain").buyer("你们先给我换个新的，换了我就删差评")
    assert flow.conv.stage == "explain" and flow.conv.context.remedy_requested == "exchange"
    flow.expect_reply_contains("跟评价")


def test_money_for_the_review_is_still_suspected_extortion() -> None:
    _offered().buyer("赔我50我就删差评").expect("malicious")
    # and a fix read as extortion apart from the model: the fix, no 疑似恶意
    flow = _offered()
    u = BuyerUnderstanding(text="你先退款我就改", intent="extort", cause=None, emotion="calm", confidence=0.9,
                           intents=[IntentScore(intent="extort", confidence=0.9)])
    conv, _ = ENGINE.feed_understood(flow.conv, u)
    assert conv.stage == "polite_request" and conv.context.deal
