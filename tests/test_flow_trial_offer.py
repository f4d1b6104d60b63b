"""User-trial findings on offers, each by class, through the real engine: a buyer who once asked
money for the review and then takes the fair offer leaves 疑似恶意 (the remedy arranged, and no
review asked in that case, so it never looks like the deal); the agent's own described offer
("给您塞两包新茶小样") is the option, and a happy thanks takes it; an option the buyer refused is
not offered again; a question the agent just asked is not suggested again."""

from __future__ import annotations

import pytest

from tests.dialog import Flow
from tests.shared import shared_engine

ENGINE = shared_engine()
KNIT = {"shop": "柚子家女装", "buyer_name": "周敏", "honorific": "女士", "product": "毛衣"}
TEA = {"shop": "茗香茶叶", "buyer_name": "于", "honorific": "女士", "product": "红茶"}


def _texts(flow: Flow) -> list[str]:
    return [s.text for s in flow.last.suggestions]


def _knit_offered() -> Flow:
    return (Flow(ENGINE, KNIT).agent("您好，请问是周女士吗？我是柚子家女装的售后客服小潘。").buyer("是的")
            .agent("您前几天买的毛衣，穿着怎么样？").buyer("起球起得厉害 穿了两次就全是球")
            .agent("真抱歉，刚买的毛衣就起球，太闹心了。")
            .agent("这批毛线的捻度不够，容易起球，我们已经反馈给工厂了。").expect("remedy")
            .agent("东西您留着，给您退40元，您看可以吗？").expect("remedy")
            .buyer("你给我转100 我把差评改成好评").expect("malicious"))


# -- 1. the demand dropped, the fair offer taken -----------------------------------------------------------

def test_a_buyer_who_takes_the_offer_after_a_demand_leaves_the_hold_and_is_asked_no_review() -> None:
    """"切 40就40吧 那你退吧" stayed 疑似恶意 with "我们不能用钱来换"."""
    flow = _knit_offered()
    assert flow.conv.context.firm
    flow.buyer("切 40就40吧 那你退吧").expect("closing")  # the fix arranged: no 请求改评 after the demand
    assert flow.conv.context.remedy_chosen == "partial_refund" and flow.conv.context.extorted
    texts = _texts(flow)
    assert texts and all("40元" in t for t in texts), texts
    assert not any("评" in t or "钱来换" in t for t in texts), texts
    assert "extorted" in [w.code for w in flow.last.warnings]


def test_a_person_may_correct_the_reading_to_a_request_and_the_hold_ends() -> None:
    """/意图 想退款 on a line the hold kept ("哼"): the hold ends and the refund is chosen."""
    flow = _knit_offered().buyer("哼").expect("malicious")
    flow.conv, flow.last = ENGINE.correct(flow.conv, intent="想退款")
    assert flow.conv.stage == "closing", flow.conv.stage
    assert flow.conv.context.remedy_chosen is not None
    assert not any("钱来换" in t or "评" in t for t in _texts(flow)), _texts(flow)


def test_a_second_demand_keeps_the_hold() -> None:
    flow = _knit_offered().buyer("40不行 再转我100块我就改").expect("malicious")
    assert flow.conv.context.firm


def test_a_review_request_after_the_demand_gets_the_note() -> None:
    flow = _knit_offered().buyer("切 40就40吧 那你退吧").expect("closing")
    flow.agent("好的，40元已经给您退了，方便的话帮我们把评价改一下吧？")
    assert "request_malicious" in [w.code for w in flow.last.warnings]


# -- 2. the agent's own described offer ----------------------------------------------------------------------

def _tea_explained() -> Flow:
    return (Flow(ENGINE, TEA).agent("您好，请问是于女士吗？我是茗香茶叶的售后客服小潘。").buyer("是的")
            .agent("您前几天买的红茶，喝着怎么样？").buyer("味道不对 有股霉味")
            .agent("真抱歉，让您喝到这样的茶，太扫兴了。")
            .agent("这批茶叶在仓库受了潮，我们已经全部下架了。").expect("remedy"))


@pytest.mark.parametrize("said", ["哇那太好了 谢谢亲～", "好的"])
def test_the_agents_own_offer_is_the_option_and_a_happy_thanks_takes_it(said: str) -> None:
    """"哇那太好了 谢谢亲～" was read as 其他 and the three standard options came again; a yes took 换货."""
    flow = _tea_explained().agent("给您塞两包新茶小样").expect("remedy")
    assert flow.conv.context.options_listed == ["apology_gift"]
    flow.buyer(said).expect("closing")  # a gift alone: no review request, thanks and the close
    assert flow.conv.context.remedy_chosen == "apology_gift"
    texts = _texts(flow)
    assert texts and all("礼物" in t and "评价" not in t for t in texts), texts
    assert not any("换" in t or "退货" in t for t in texts), texts


def test_a_thanks_that_thinks_it_over_takes_nothing() -> None:
    flow = _tea_explained().agent("给您塞两包新茶小样").buyer("谢谢 我考虑一下吧").expect("remedy")
    assert flow.conv.context.remedy_chosen is None


@pytest.mark.parametrize("said", ["都喝了一半了", "算了 都喝了一半了 就这样吧", "一半都发霉了"])
def test_half_of_the_goods_is_no_half_of_the_money(said: str) -> None:
    """"都喝了一半了" chose 部分退款 by its 一半 and moved on to the review request: half of the tea
    drunk is no sum asked for. Half the money still chooses it."""
    flow = _tea_explained().agent("给您换一盒新的，或者退货退款，您看哪个合适？").buyer(said)
    assert flow.conv.context.remedy_chosen != "partial_refund" and flow.conv.stage != "polite_request"


@pytest.mark.parametrize("said", ["一半的钱退给我吧", "一半就行"])
def test_half_the_money_chooses_the_partial_refund(said: str) -> None:
    flow = _tea_explained().agent("茶您留着，给您退一半的货款，或者换一盒新的，您看哪个合适？")
    flow.buyer(said).expect("polite_request")
    assert flow.conv.context.remedy_chosen == "partial_refund"


def test_money_named_as_a_top_up_is_the_partial_refund_not_the_gift() -> None:
    """"补10块吧" to "一张20元无门槛券，或者直接补偿您10元" chose the gift by its 补 and a number: the money
    is money back (a fix); the coupon is the gift."""
    flow = _tea_explained().agent("给您一张20元无门槛券，或者直接补偿您10元，您看要哪个？")
    flow.buyer("补10块吧").expect("polite_request")
    assert flow.conv.context.remedy_chosen == "partial_refund"


# -- 3. an option refused is not offered again ---------------------------------------------------------------

def test_an_option_the_buyer_refused_is_not_offered_again() -> None:
    """"退就不用了 都喝了一半了" got the same three options, the return among them."""
    flow = _tea_explained().buyer("退就不用了 都喝了一半了").expect("remedy")
    assert flow.conv.context.remedies_refused == ["return_refund"]
    texts = _texts(flow)
    assert texts and not any("退货" in t for t in texts), texts
    assert all("换一盒新的" in t and "退一部分货款" in t for t in texts), texts


# -- 4. a question the agent just asked is not suggested again ---------------------------------------------

def test_an_offer_that_asked_which_waits_for_the_buyer() -> None:
    """After "您看哪个合适？" csbot suggested "您看哪一种比较方便？"."""
    flow = _tea_explained().agent("给您换一盒新的，或者退一部分货款，您看哪个合适？").expect("remedy")
    texts = _texts(flow)  # a short word that waits, no question again
    assert texts and not any("？" in t or "哪" in t for t in texts), texts
    flow.agent("给您换一盒新的，或者退一部分货款")  # (an offer that asked nothing is asked which)
    assert any("哪" in t for t in _texts(flow)), _texts(flow)


def test_asked_how_it_went_the_suggestion_waits_not_still_remember() -> None:
    """After "…想问问是哪里喝着不太满意呀？" csbot still suggested "还记得吗？"."""
    flow = (Flow(ENGINE, TEA).agent("您好，请问是于女士吗？我是茗香茶叶的售后客服小潘。").buyer("是的")
            .agent("想问问是哪里喝着不太满意呀？").expect("confirm_product"))
    assert _texts(flow) == []
    flow.buyer("有股霉味 喝着不对").expect("listen_apologize")
    assert _texts(flow) and not any("记得" in t or "印象" in t for t in _texts(flow)), _texts(flow)


PILLOW = {"shop": "柚子家居", "buyer_name": "王芳", "honorific": "女士", "product": "记忆棉枕头"}


def _pillow_explained() -> Flow:
    return (Flow(ENGINE, PILLOW).agent("您好，请问是王芳女士吗？我是柚子家居的售后客服小林。").buyer("是我")
            .agent("您12月4日在我们店买了一个记忆棉枕头，还有印象吗？").buyer("记得，枕头用了一周就塌了")
            .agent("真不好意思，让您失望了。").agent("这批填充棉确实有问题。"))


def test_a_two_part_offer_taken_is_confirmed_with_both_parts() -> None:
    """"退20元，再送您一个枕套" then "行": the suggestions said only "退您20元", the pillowcase
    promised with it was dropped."""
    flow = _pillow_explained().agent("退20元，再送您一个枕套，您看行吗？").buyer("行")
    assert flow.conv.context.remedy_chosen == "partial_refund"
    texts = _texts(flow)
    assert texts and all("退您20元" in t and "再送您一个枕套" in t for t in texts), texts
    assert not any("行吗" in t for t in texts), texts


def test_options_to_choose_between_are_not_parts_of_one() -> None:
    flow = _pillow_explained().agent("退您20元，或者再送您一个枕套，您看选哪个？").buyer("退钱吧")
    texts = _texts(flow)
    assert texts and not any("枕套" in t for t in texts), texts
