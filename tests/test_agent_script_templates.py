"""Shop-script templates (话术库, 快捷短语, SMS templates): placeholders, scene notes, FAQ pairs.

Placeholders (【买家昵称】, {nick}, [店铺名], XX) are read as the thing they stand for by the
normaliser (dialogs/normalize.yaml `placeholders`), scene notes for the agent are dropped
(`notes`), and the agent lexicon reads what is left. None of these lines is in the corpus."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pytest

from bot.understand.pipeline import Understander

DIALOGS = Path(__file__).resolve().parent.parent / "dialogs"


@lru_cache(maxsize=1)
def _rules() -> Understander:
    return Understander(DIALOGS, mode="rules")


def _norm(text: str) -> str:
    return _rules().normalize(text).text


def _acts(text: str) -> set[str]:
    u = _rules()
    return set(u.agent_model(u.normalize(text)))


@pytest.mark.parametrize(("text", "reads"), [
    ("【买家昵称】您好", "某某您好"),
    ("{买家名}，您好", "某某,您好"),
    ("${nick}亲", "某某亲"),
    ("{{ buyer_name }}你好", "某某你好"),
    ("#客户姓名#女士", "某某女士"),
    ("【買家暱稱】您好", "某某您好"),
    ("我是<客服名>", "我是小某"),
    ("这里是[店铺名]售后", "这里是某某店售后"),
    ("您购买的{商品名称}", "您购买的宝贝"),
    ("订单【订单号】退款{金额}元", "订单0000退款0000元"),
    ("您于【下单日期】购买的", "您于1月1日购买的"),
    ("请问是XX先生吗", "请问是某先生吗"),
    ("这边是***旗舰店", "这边是某旗舰店"),
])
def test_placeholders_read_as_what_they_stand_for(text: str, reads: str) -> None:
    assert _norm(text) == reads


@pytest.mark.parametrize(("text", "reads"), [
    ("【致歉】亲，真的抱歉", "【致歉】亲,真的抱歉"),    # a quick-phrase header is not a placeholder
    ("【暖阳家纺】亲", "【暖阳家纺】亲"),              # an SMS signature
    ("好的[微笑]", "好的😊"),                          # an emoticon code stays one
    ("不需要了，xx亲", "不需要了,xx亲"),               # a buyer's xx is 谢谢
    ("电话是139****5678", "电话是139****5678"),         # a masked number stays masked
    ("要XXL码", "要xxl码"),                            # a size
])
def test_what_only_looks_like_a_placeholder_stays(text: str, reads: str) -> None:
    assert _norm(text) == reads


def test_a_placeholder_keeps_its_span_in_the_typed_text() -> None:
    text = "尊敬的{买家昵称}，您好"
    norm = _rules().normalize(text)
    start = norm.text.index("某某")
    assert text[slice(*norm.span(start, start + 2))] == "{买家昵称}"


@pytest.mark.parametrize(("template", "filled"), [
    ("尊敬的【买家昵称】，您购买的【商品名】因仓库缺货晚发了三天，深表歉意。",
     "尊敬的周女士，您购买的羊毛围巾因仓库缺货晚发了三天，深表歉意。"),
    ("{买家名}您好，我是{店铺名}的售后{客服名}，退款{金额}元已经原路退回。",
     "陈先生您好，我是云朵家纺的售后小朵，退款36元已经原路退回。"),
    ("喂，您好，请问是XX女士吗？我是XX店的售后，来电是想回访一下您上周收到的电饭煲。",
     "喂，您好，请问是孙女士吗？我是厨乐店的售后，来电是想回访一下您上周收到的电饭煲。"),
])
def test_a_template_reads_like_the_script_filled_in(template: str, filled: str) -> None:
    assert _acts(template) == _acts(filled)


@pytest.mark.parametrize("text", [
    "尊敬的{客户昵称}，新的一年感谢有您",
    "亲爱的【买家昵称】，打扰啦",
    "{买家名}，补发的快递今天到",
    "${nick}亲，在的哈",
])
def test_a_name_placeholder_addresses_the_buyer(text: str) -> None:
    assert "greet_identify" in _acts(text)


@pytest.mark.parametrize("text", ["尊敬的会员，本周店庆满减", "亲爱的顾客，仓库今天盘点"])
def test_a_generic_address_is_still_no_greeting(text: str) -> None:
    assert "greet_identify" not in _acts(text)


@pytest.mark.parametrize("text", [
    "【店铺名】您的包裹今天出库了。退订回T",
    "【XX】亲，售后单已经审核通过。拒收请回复R",
    "我是{客服名}，后面由我跟进",
    "您好，这里是XX小铺，打扰您一下",
    "本次服务由工号5120为您提供",
    "再次感谢，悦木家居全体员工敬上",
])
def test_shop_signatures_and_openings_introduce(text: str) -> None:
    assert "introduce" in _acts(text)


@pytest.mark.parametrize(("text", "acts"), [
    ("（注：语气一定要软）", set()),
    ("（买家骂人时不要回嘴）亲，您先消消气", {"empathize"}),
    ("【场景：少发配件】", set()),
    ("【话术二】", set()),
])
def test_scene_notes_are_not_said_to_the_buyer(text: str, acts: set[str]) -> None:
    assert _acts(text) == acts


@pytest.mark.parametrize(("question", "answer"), [
    ("Q：顾客嫌发货慢怎么回？", "A：亲，这两天仓库爆单了，所以晚了"),
    ("问：买家说鞋子磨脚怎么办？", "答：亲，新鞋前几天会有点硬，穿几天就软了"),
])
def test_an_faq_pair_reads_as_its_answer(question: str, answer: str) -> None:
    assert "ask_detail" in _acts(question[2:])  # the question alone would ask
    assert _acts(question + answer) == _acts(answer[2:])


@pytest.mark.parametrize("text", [
    "有疑问可随时咨询在线客服",
    "用着有任何问题随时滴滴我哈",
    "如您对结果仍有疑问，可拨打400热线联系我们",
    "欢迎随时跟我们反馈～",
    "后面还有什么需要尽管说",
])
def test_shop_closing_lines_close(text: str) -> None:
    assert "close" in _acts(text)


def test_a_bare_welcome_is_an_opening_not_a_close() -> None:
    assert "close" not in _acts("您好，欢迎光临，请问想看哪款？")


@pytest.mark.parametrize("text", [
    "亲，您的退款已完成，注意查收",
    "修好的吹风机已经寄回了，单号稍后发您",
    "宝，直接申请仅退款，我秒同意",
])
def test_a_remedy_reported_done_offers_the_remedy(text: str) -> None:
    assert "offer_remedy" in _acts(text)


def test_a_case_closed_without_a_remedy_is_no_remedy() -> None:
    assert "offer_remedy" not in _acts("亲，您的售后已处理完毕，有问题随时联系我们")


@pytest.mark.parametrize("text", [
    "打扰一下，是我们哪里做得不好吗？",
    "请问是尺码还是做工让您不满意呀？",
    "上次说的问题都解决了吗",
    "您拍照给我们看一下哪里开胶了",
])
def test_return_visit_questions_ask_for_detail(text: str) -> None:
    assert "ask_detail" in _acts(text)
