"""Misreadings of the retrained model the flow must not follow (wave 2): a threat that names nowhere
("你们等着吧") is no escalation, a bare digit to numbered options picks that option, a relative read
as nothing in particular still answers for the buyer, a yes to something else than the order does not
confirm it, and a problem told in one clause of a message read without a cause is still told. Each goes
through the real Engine and model; the lines are siblings of the dialogs', in no corpus file.
"""

from __future__ import annotations

import pytest

from tests.dialog import Flow
from tests.shared import shared_engine

ENGINE = shared_engine()
CREAM = {"shop": "青禾美妆", "buyer_name": "邓", "honorific": "先生", "product": "面霜"}
TEA = {"shop": "山谷茶庄", "buyer_name": "纪", "honorific": "女士", "product": "白茶饼"}


def _asked(case: dict[str, str]) -> Flow:
    who = f"您好，请问是{case['buyer_name']}{case['honorific']}吗？我是{case['shop']}的售后客服。"
    return (Flow(ENGINE, case).agent(who).buyer("是我").agent(f"您前几天买的{case['product']}，还记得吗？"))


def _suspected() -> Flow:
    return (_asked(CREAM).buyer("记得，假货，味道都不对").agent("抱歉让您担心了，用在脸上的东西确实要放心。")
            .buyer("少废话，给我转五百，差评马上删，不给就天天追评").expect("malicious")
            .agent("真伪我们可以提供进货凭证，也可以退货退款，但补偿不会和评价挂钩。"))


# -- 1. a threat that names nowhere -----------------------------------------------------------------

@pytest.mark.parametrize("text", ["那你们就等着吧", "行，你们等着", "你们给我等着吧"])
def test_a_threat_that_names_nowhere_keeps_the_hold(text: str) -> None:
    flow = _suspected().buyer(text).expect("malicious")
    assert flow.conv.context.maybe in (None, "threaten")


@pytest.mark.parametrize("text", ["那你们等着吧，我去12315投诉", "你们等着收律师函吧", "行，我去平台投诉你们"])
def test_a_threat_that_names_where_it_goes_escalates(text: str) -> None:
    _suspected().buyer(text).expect("escalated")


# -- 2. a digit to numbered options ----------------------------------------------------------------

_NUMBERED = "您可以任选一个：\n1. 补发一饼新茶\n2. 退一半货款\n3. 全额退款\n回复数字就行"


@pytest.mark.parametrize("text", ["1", "2", "选1", "第一个"])
def test_a_digit_to_numbered_options_picks_one(text: str) -> None:
    flow = (_asked(TEA).buyer("记得 到的时候茶饼碎成好几块了").agent("太抱歉了，好好的茶饼碎了真心疼。")
            .agent("是快递路上被挤压了，我们已经换成加厚的盒子。").agent(_NUMBERED).expect("remedy"))
    flow.buyer(text).expect("polite_request")
    assert flow.conv.context.remedy_chosen is not None


# -- 3. a relative who answers for the buyer -------------------------------------------------------

@pytest.mark.parametrize("text", ["您好 我是她儿子 我妈不太会用手机 我帮她回",
                                  "你好 我是他女儿 我爸眼睛不好 手机是我在帮他看"])
def test_a_relative_read_as_nothing_answers_for_the_buyer(text: str) -> None:
    (Flow(ENGINE, TEA).agent("您好，请问是纪女士吗？我是山谷茶庄的售后客服。").buyer(text)
     .expect("confirm_product"))


# -- 4. a yes to something else than the order ------------------------------------------------------

def test_a_yes_to_the_channel_is_no_yes_to_the_order() -> None:
    flow = (Flow(ENGINE, TEA).agent("您好，请问是纪阿姨吗？我是山谷茶庄的售后客服。").buyer("是我 你打电话给我吧")
            .agent("阿姨，不好意思，我们这边只能在旺旺上聊，您回几个字就行。").buyer("哦那好吧")
            .expect("confirm_product"))
    flow.agent("您前几天买的白茶饼，喝着怎么样？").buyer("茶饼碎了好多 泡出来全是渣").expect("listen_apologize")


# -- 5. a problem told in one clause of a message read without a cause ----------------------------

def test_a_problem_told_in_passing_is_heard() -> None:
    flow = (_asked(TEA).buyer("记得 我已经改成好评了 当时到手是压碎的 后来泡着还行")
            .expect("listen_apologize").agent("谢谢亲，碎了还愿意改评价，真不好意思让你收到那样的。")
            .expect("explain"))
    flow.agent("是快递路上被重物压了，盒子不够硬，我们已经换成加厚的了。").expect("remedy")


def test_a_reaction_to_the_contact_is_still_a_mood() -> None:
    (Flow(ENGINE, TEA).agent("您好，请问是纪女士吗？我是山谷茶庄的售后客服。").buyer("是，现在才想起找我？")
     .expect("confirm_product"))
