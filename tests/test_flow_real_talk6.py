"""What other engineers saw in realistic conversations (issue 13, wave 2) and left: an apology made
before the buyer told the problem, the agent thanking a buyer who offered to change the review, the
order's own refund "35元已经退回" beside one request, "退钱吧 五六个" to a refund by the piece, a parcel
"还在路上" as the shop's only answer, and the agent saying the buyer's question about review rewards
back before disavowing them. Each goes through the real Engine, model and guard; the sibling lines
here are in no corpus file, so a rule that only memorised its line fails.
"""

from __future__ import annotations

import pytest

from tests.dialog import Flow
from tests.shared import guard_corpus_texts, guard_findings, shared_engine

ENGINE = shared_engine()
SHOES = {"shop": "步履鞋业", "buyer_name": "蒋", "honorific": "先生", "product": "板鞋"}
EGGS = {"shop": "鲜蛋农庄", "buyer_name": "王", "honorific": "女士", "product": "土鸡蛋"}


def _recalled(case: dict[str, str] = SHOES) -> Flow:
    who = f"您好，请问是{case['buyer_name']}{case['honorific']}吗？我是{case['shop']}的售后客服。"
    return (Flow(ENGINE, case).agent(who).buyer("是")
            .agent(f"您前几天买的{case['product']}，还记得吗？").buyer("记得").expect("listen_apologize"))


# -- 1. an apology before the problem ---------------------------------------------------------------

def test_an_apology_before_the_problem_lets_the_explanation_move_on() -> None:
    """The apology came first ("给您添麻烦了"): once the problem is told, the explanation is the next
    step, so the stage goes on to the options (it stuck in 倾听致歉)."""
    flow = (_recalled().agent("给您带来不便真的很抱歉。").expect("listen_apologize")
            .buyer("穿了一周鞋头就开胶了").expect("listen_apologize")
            .agent("这批鞋头用的胶水批次有问题，天气冷粘合不牢，已经反馈给工厂了。").expect("remedy"))
    flow.agent("可以给您换一双新的，或者退货退款，您想要哪种？").expect("remedy")


def test_an_apology_before_the_problem_lets_the_offer_move_on() -> None:
    (_recalled().agent("不好意思打扰您了，先跟您说声抱歉。").buyer("鞋底走路咯吱咯吱响")
     .agent("可以给您换一双新的，来回运费我们出，或者退货退款，您看选哪个？").expect("remedy")
     .buyer("换新的吧").expect("polite_request"))


def test_an_explanation_before_the_problem_is_told_still_holds() -> None:
    """No problem told yet: the explanation explains nothing, the stage waits for the buyer."""
    _recalled().agent("真抱歉。").agent("这批鞋胶水有问题。").expect("listen_apologize")


# -- 2. thanks for a change the buyer offered -------------------------------------------------------

_OFFER = "给您补发一根新柱子，或者退您30元，您看选哪个？"


@pytest.mark.parametrize("text", ["谢谢亲，压扁了还愿意改评价", "感谢您，东西有问题还主动帮我们改评价"])
def test_thanks_for_the_offered_change_is_no_request_and_ties_nothing(text: str) -> None:
    assert text not in guard_corpus_texts()
    u = ENGINE.understand.agent(text)
    assert "request_review" not in u.acts and "thank" in u.acts
    assert "conditional_benefit" not in guard_findings(ENGINE, text, (_OFFER,))


@pytest.mark.parametrize("text", ["谢谢亲，愿意的话改一下评价", "谢谢亲，愿意改一下评价吗",
                                  "谢谢您愿意改评价，再送您一张5元券"])
def test_a_request_said_with_thanks_still_ties(text: str) -> None:
    assert guard_findings(ENGINE, text, (_OFFER,)).get("conditional_benefit") == "block"


def test_after_the_thanks_the_suggestion_corrects_nothing() -> None:
    flow = (Flow(ENGINE, {"shop": "喵星宠物", "buyer_name": "林", "honorific": "女士", "product": "猫爬架"})
            .agent("您好，请问是林女士吗？我是喵星宠物的售后客服。").buyer("是我")
            .agent("您上周买的猫爬架，还记得吗？").buyer("记得 收到的时候箱子压扁了 有根柱子弯了")
            .agent("真对不起，让您收到压坏的东西。").agent("是快递运输途中挤压的，包装没有加固好。")
            .agent(_OFFER).buyer("补发吧 猫挺喜欢的 我回头把评价改了")
            .agent("谢谢亲，压扁了还愿意改评价"))
    flow.expect_no_warning("conditional_benefit")
    assert not any("after_block" in s.template for s in flow.last.suggestions)


# -- 3. the order's own refund, with its sum, and one request ---------------------------------------

@pytest.mark.parametrize("text", ["35元已经退回了，您看评价方便改一下吗？",
                                  "亲 28块已经退回您账户了 评价能帮忙改一下吗",
                                  "已经给您退还59元了，评价方便的话改一下哈"])
def test_the_orders_refund_returned_with_its_sum_is_clean(text: str) -> None:
    assert text not in guard_corpus_texts()
    assert "conditional_benefit" not in guard_findings(ENGINE, text)


@pytest.mark.parametrize("text", ["差价12元已经退回了，您看评价方便改一下吗？",
                                  "35元已经退回了，另外补偿您10元，评价能改一下吗",
                                  "多退回您15元了，您看差评能不能删了"])
def test_money_beyond_the_order_beside_a_request_still_ties(text: str) -> None:
    assert guard_findings(ENGINE, text).get("conditional_benefit") == "block"


# -- 4. a refund by the piece ----------------------------------------------------------------------

def _per_piece() -> Flow:
    return (_recalled(EGGS).buyer("打开碎了好几个").agent("真是对不起，让您收到碎蛋。")
            .agent("是快递路上颠簸压碎的，我们包装没做好。")
            .agent("碎了几个呢？可以给您补发，或者按个数退钱，您看哪种方便？").expect("remedy"))


def test_a_bare_refund_to_a_refund_by_the_piece_takes_the_partial_refund() -> None:
    flow = _per_piece()
    assert "partial_refund" in flow.conv.context.options_listed
    flow.buyer("退钱吧 五六个").expect("polite_request")
    assert flow.conv.context.remedy_chosen == "partial_refund"


def test_the_whole_sum_asked_for_is_still_a_full_refund() -> None:
    """"全额" holds to the whole sum: the full refund as the cause gives it (here its 退货退款)."""
    flow = _per_piece().buyer("全额退款吧 碎成这样了")
    assert flow.conv.context.remedy_chosen in ("refund", "return_refund")


# -- 5. the parcel "still on the way" --------------------------------------------------------------

@pytest.mark.parametrize("text", ["等了半个月 问客服就说在路上", "都二十天了 客服只会说在路上",
                                  "找了客服三次 每次都说还在路上"])
def test_on_the_way_as_the_only_answer_is_logistics(text: str) -> None:
    """docs/corpus.md: a parcel that did not arrive is logistics; the brush-off is secondary."""
    assert ENGINE.understand.buyer(text).cause == "logistics"


def test_a_slow_reply_alone_stays_service() -> None:
    assert ENGINE.understand.buyer("问客服问了三天都没人回").cause == "service"


# -- 6. the buyer's question said back, then disavowed ----------------------------------------------

@pytest.mark.parametrize("text", ["您是问有没有晒图有礼活动吗？没有的哦，我们不做这类活动",
                                  "好评返红包吗？亲，没有的，这种我们从来不做"])
def test_a_question_said_back_and_answered_no_is_clean(text: str) -> None:
    assert text not in guard_corpus_texts()
    assert "conditional_benefit" not in guard_findings(ENGINE, text)


@pytest.mark.parametrize("text", ["好评返现吗？有的哦，晒图送5元", "好评有礼哦。有问题吗？没有的话我们不做别的了"])
def test_a_question_answered_yes_or_a_slogan_still_ties(text: str) -> None:
    assert guard_findings(ENGINE, text).get("conditional_benefit") == "block"


def test_a_deadline_for_an_answer_with_no_review_named_is_no_pressure() -> None:
    """docs/guard.md: pressure urges a review act; a deadline that names none is not it."""
    assert "pressure" not in guard_findings(ENGINE, "今天之内一定要给个答复")
    assert guard_findings(ENGINE, "评价的事今天之内一定要给个答复").get("pressure") == "warn"
