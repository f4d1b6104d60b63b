"""Agent acts in the genres real shops send (corpus batch 12): the agent lexicon on its own.

The learned model is retrained by the lead, so these check the rules (dialogs/lexicon/agent.yaml),
which the model also reads as features. None of these lines is in the corpus."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pytest

from bot.understand.pipeline import Understander

DIALOGS = Path(__file__).resolve().parent.parent / "dialogs"


@lru_cache(maxsize=1)
def _rules() -> Understander:
    return Understander(DIALOGS, mode="rules")


def _acts(text: str) -> set[str]:
    u = _rules()
    return set(u.agent_model(u.normalize(text)))


# 您买的X，… names the order as a statement (docs/corpus.md); 您收到的… is about what arrived
@pytest.mark.parametrize("text", [
    "您好，我是晴川家居的客服小川，您买的那张折叠桌，看到您说桌腿晃，实在抱歉。",
    "您于本月9日在本店购买的电动牙刷，我们已经为您安排换新。",
    "亲，您给女儿订的那条公主裙，裙摆的亮片掉了好几片，真不好意思。",
    "您上周装的那台热水器，这几天用着还好吗？",
])
def test_the_order_named_in_a_statement_confirms_the_product(text: str) -> None:
    assert "confirm_product" in _acts(text)


@pytest.mark.parametrize("text", [
    "您收到的那件是仓库里的展示样衣，被同事当新品发出去了",
    "您是给家里谁买的呀？我帮您看看尺码",
])
def test_what_arrived_or_a_question_about_the_buyer_is_no_order_reference(text: str) -> None:
    assert "confirm_product" not in _acts(text)


def test_an_sms_signs_with_the_shop_name_and_a_bare_salutation_is_no_greeting() -> None:
    sms = _acts("【禾田米铺】尊敬的顾客，您的补发大米已寄出，单号YD3318620045，如有问题请联系在线客服。退订回T")
    assert {"introduce", "offer_remedy", "close"} <= sms
    assert "greet_identify" not in sms
    # a quick-reply section header is not a signature
    assert "introduce" not in _acts("【温馨提示】新砧板第一次用前先用盐水泡一晚，木头会更耐用。")
    # with 您好 (or a name) it is a greeting again
    assert "greet_identify" in _acts("尊敬的顾客您好，您反馈的问题我们已经收到。")


@pytest.mark.parametrize("text", [
    "方便拍一下外箱和破损的地方吗？",
    "麻烦您提供一下订单号和问题部位的照片",
    "新换的充电器插上以后还发烫吗？",
    "您家的灶是燃气灶还是电磁炉呀",
    "补发的话还是寄到原来那个地址吗？",
])
def test_follow_ups_and_requests_for_a_detail_ask_for_it(text: str) -> None:
    assert "ask_detail" in _acts(text)


def test_a_choice_between_remedies_is_an_offer_not_a_question() -> None:
    acts = _acts("您看是给您换一个新的，还是直接退款呢？")
    assert "offer_remedy" in acts and "ask_detail" not in acts


@pytest.mark.parametrize("text", [
    "搬家当天书柜没到，太耽误事了，真的抱歉",
    "让您大老远跑去驿站，结果还是坏的，实在对不起",
    "换了谁收到这样的蛋糕都会不开心的",
    "我明白这事让您很不痛快",
])
def test_what_the_trouble_cost_the_buyer_is_empathy(text: str) -> None:
    assert "empathize" in _acts(text)


def test_a_plain_apology_for_a_disappointment_is_no_empathy() -> None:
    # as in tests/data/agent_dev.jsonl: 让您失望了 with an apology and nothing more
    assert "empathize" not in _acts("真的很抱歉，这次让您失望了。")


@pytest.mark.parametrize("text", [
    "这批收纳盒的卡扣模具磨损了，所以扣不紧",
    "厂家今年换了新logo，所以外观跟以前不一样",
    "这款鞋是按欧码做的，比国内码大半码",
    "那几天仓库系统升级，物流信息没同步过去",
])
def test_causes_without_marker_words_are_explanations(text: str) -> None:
    assert "explain" in _acts(text)


@pytest.mark.parametrize("text", [
    "亲，是您没按说明书装，所以才会晃",
    "您的路由器信号不好，所以才连不上",
])
def test_blaming_the_buyer_is_no_explanation(text: str) -> None:
    assert "explain" not in _acts(text)


def test_the_review_left_to_the_buyer_is_still_the_ask_but_a_free_benefit_is_not() -> None:
    assert "request_review" in _acts("东西您先用着，要是满意了，评价那边您看着办就好")
    assert "request_review" not in _acts("退款和评价是两回事，退款已经给您提交了，评价您随意。")
