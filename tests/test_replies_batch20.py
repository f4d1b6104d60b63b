"""Replies batch 20: the wording of suggestions in situations the flow recognises (real engine,
real Chinese).

- The buyer asks the shop to stop contacting them ("我说了不想聊 别再给我发消息了", cues.stop_contact):
  the closing says plainly and briefly that the shop will not contact them again and apologises for
  the disturbance; a remedy agreed is still done. No review, no "欢迎常来" (domain.md: repeated
  contact is harassment; the Civil Code protects a person's private peace).
- The buyer complains of being contacted again ("你们到底几个客服啊 昨天刚有人问过", "怎么又来了",
  cues.contacted_again): the suggestion first apologises for the repeat contact (重复打扰), then goes
  on with the step; the complaint is no service problem of the order's.
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.models import Conversation
from tests.shared import clean_texts, shared_engine, talk

ENGINE = shared_engine()
TEA = {"shop": "茶香小铺", "buyer_name": "赵", "honorific": "先生", "product": "菊花茶"}
POT = {"shop": "家乐厨具", "buyer_name": "葛", "honorific": "先生", "product": "炒锅"}
HELLO = [("agent", "您好，请问是赵先生吗？"), ("buyer", "是我"), ("agent", "您在茶香小铺买的菊花茶收到了吗？")]
CHOSEN = [*HELLO, ("buyer", "茶里有虫子"), ("agent", "非常抱歉，给您添麻烦了，我特别理解您的心情"),
          ("agent", "这批货是我们品控没把好关"), ("agent", "给您退款，或者补发一盒新的，您看选哪种？"),
          ("buyer", "退款吧"), ("agent", "好的，退款我马上给您办")]
POT_HELLO = [("agent", "您好，请问是葛先生吗？我是家乐厨具的售后客服小贺。")]


def _talk(case: dict[str, str], lines: list[tuple[str, str]], tone: Any = "正式") -> tuple[Conversation, Any]:
    return talk(ENGINE, case, lines, tone)


def _texts(sug: Any, key: str) -> list[str]:
    return clean_texts(ENGINE, sug, key)


# -- asked not to be contacted again ----------------------------------------------------------------

def _stops_plainly(text: str) -> None:
    assert "不会再" in text and any(w in text for w in ("联系", "打扰", "发消息")), text  # said plainly
    assert any(w in text for w in ("抱歉", "对不起", "不好意思")) and "打扰" in text, text  # sorry for it
    for word in ("欢迎", "常来", "光临", "评价", "谢谢您愿意", "下次"):  # no marketing, no review
        assert word not in text, (word, text)
    assert len(text) <= 60, text  # brief


@pytest.mark.parametrize(("stop", "tone"), [("我说了不想聊 别再给我发消息了", "正式"),
                                            ("以后不要再联系我了", "亲切")])
def test_a_buyer_who_asks_to_be_left_alone_is_told_plainly_no_marketing(stop: str, tone: Any) -> None:
    conv, sug = _talk(TEA, [*HELLO, ("buyer", stop)], tone)
    assert conv.stage == "closing"
    for text in _texts(sug, "closing/stop"):
        _stops_plainly(text)
        assert "退款" not in text and "补发" not in text, text  # nothing was agreed: nothing promised


@pytest.mark.parametrize("stop", ["以后不要再联系我了", "别再给我发消息了 烦死了"])
def test_an_agreed_remedy_is_still_done_when_the_buyer_asks_to_be_left_alone(stop: str) -> None:
    conv, sug = _talk(TEA, [*CHOSEN, ("buyer", stop)])
    assert conv.stage == "closing" and conv.context.remedy_chosen == "refund"
    for text in _texts(sug, "closing/stop-chosen"):
        _stops_plainly(text.replace("退款", ""))
        assert "退款" in text and any(w in text for w in ("照常", "照样", "还是会", "一样会")), text


def test_the_suggested_goodbye_to_a_buyer_who_asked_to_be_left_alone_ends_the_talk() -> None:
    conv, sug = _talk(TEA, [*CHOSEN, ("buyer", "以后不要再联系我了")])
    conv, after = ENGINE.feed(conv, "agent", sug.suggestions[0].text)
    assert conv.stage == "closed" and after.suggestions == []


# -- complained of being contacted again ------------------------------------------------------------

def _sorry_again(text: str) -> None:
    assert "重复打扰" in text, text
    assert text.index("重复打扰") < 12, text  # first
    assert "怠慢" not in text and "受委屈" not in text and "受了委屈" not in text, text  # no service fault


@pytest.mark.parametrize("text", ["你们到底几个客服啊 昨天刚有人问过", "怎么又来了 前天刚问过一遍"])
def test_a_complaint_at_the_opener_apologises_for_the_repeat_then_asks_about_the_order(text: str) -> None:
    conv, sug = _talk(POT, [*POT_HELLO, ("buyer", text)])
    assert conv.stage == "confirm_product"
    for reply in _texts(sug, "confirm_product/contacted"):
        _sorry_again(reply)
        assert "炒锅" in reply and "印象" not in reply and "记得" not in reply, reply  # they remember


def test_a_complaint_after_the_order_was_named_apologises_then_asks_what_went_wrong() -> None:
    lines = [*POT_HELLO, ("buyer", "是我"), ("agent", "您买的那口炒锅用着怎么样？"),
             ("buyer", "你们到底几个客服啊 昨天一个小姑娘刚问过")]
    conv, sug = _talk(POT, lines, "亲切")
    assert conv.stage == "listen_apologize" and not conv.context.problem_stated
    for reply in _texts(sug, "listen_apologize/contacted"):
        _sorry_again(reply)
        assert "?" in ENGINE.understand.normalize(reply).text, reply  # the problem asked for


def test_the_repeat_contact_is_no_service_cause_the_problem_told_after_it_is() -> None:
    lines = [*POT_HELLO, ("buyer", "是我"), ("agent", "您买的那口炒锅用着怎么样？"),
             ("buyer", "你们到底几个客服啊 昨天一个小姑娘刚问过"), ("agent", "不好意思，重复打扰您了。"),
             ("buyer", "手柄松了 拧紧了过两天又松了")]
    conv, sug = _talk(POT, lines)
    assert conv.context.cause == "quality", conv.context.cause
    conv, sug = ENGINE.feed(conv, "agent", "真抱歉，炒菜的时候手柄松，太危险了。")
    for reply in _texts(sug, "explain/cause-quality"):
        assert "客服" not in reply, reply


def test_a_complaint_mid_talk_apologises_for_the_repeat_then_explains() -> None:
    lines = [*HELLO, ("buyer", "茶里有虫子"), ("agent", "非常抱歉，给您添麻烦了，我特别理解您的心情"),
             ("buyer", "怎么又来了")]
    conv, sug = _talk(TEA, lines)
    assert conv.stage == "explain"
    for reply in _texts(sug, "explain/contacted"):
        _sorry_again(reply)
        assert "品控" in reply or "检查" in reply or "质检" in reply, reply  # the quality explanation


# -- tried in csbot assist: what read unnatural -------------------------------------------------------

SHOES = {"shop": "柚子家运动", "buyer_name": "刘", "honorific": "女士", "product": "跑鞋"}
SHOES_HELLO = [("agent", "您好，请问是刘女士吗？"), ("buyer", "是我"), ("agent", "您5月3日买的跑鞋，穿着怎么样？"),
               ("buyer", "鞋底开胶了"), ("agent", "真抱歉，刚穿就开胶太闹心了，我特别理解。")]


@pytest.mark.parametrize(("lines", "key"), [
    ([*SHOES_HELLO, ("buyer", "给我换一双新的吧")], "explain/remedy_requested"),
    ([*SHOES_HELLO, ("agent", "这批鞋的胶水工艺没把好关，已经反馈工厂了"), ("buyer", "换一双新的要多久")],
     "remedy/remedy_about"),
    ([*SHOES_HELLO, ("buyer", "给我换一双新的吧"), ("agent", "这批鞋的胶水工艺没把好关，已经反馈工厂了")],
     "remedy/remedy_requested"),
])
@pytest.mark.parametrize("tone", ["正式", "亲切"])
def test_the_remedy_asked_for_is_named_once_not_twice(lines: list[tuple[str, str]], key: str, tone: Any) -> None:
    """"明白，您说的换一双新的，我这就给您安排：给您换一双新的，…" said the remedy twice in a row."""
    conv, sug = _talk(SHOES, lines, tone)
    _texts(sug, key)  # the situation is the one meant
    folder, name = key.split("/")
    variables = ENGINE.variables(conv)
    library = ENGINE.compose.templates
    for variant in library.choose(folder, name, "正式" if tone == "正式" else "亲切", 99, 0, set()):
        text = library.render(variant, variables)
        for short in ("换一双新的", "退货退款"):  # every variant, not only the ones this turn shows
            assert text.count(short) <= 1, (variant.id, text)


FRUIT = {"shop": "鲜果园", "buyer_name": "陈", "honorific": "女士", "product": "赣南脐橙"}
FRUIT_OFFER = [("agent", "您好，请问是陈女士吗？我是鲜果园的售后客服"), ("buyer", "是"),
               ("agent", "您前几天买的赣南脐橙收到了吗？吃着怎么样？"), ("buyer", "烂了好几个 一箱里有五六个都是坏的"),
               ("agent", "实在抱歉，收到一箱烂果子太糟心了。"),
               ("agent", "是路上时间太长，有几个闷坏了，我们会跟快递反馈。"),
               ("agent", "可以给您补发一箱，或者东西您留着，退您一部分货款，您看哪种？")]


@pytest.mark.parametrize("sum_", ["东西留着吧 退一半", "东西留着吧 退三成"])
@pytest.mark.parametrize("tone", ["正式", "亲切"])
def test_a_sum_the_buyer_names_is_taken_to_be_asked_for_not_heard_as_a_question(sum_: str, tone: Any) -> None:
    """"补发太麻烦了 退30吧" got "您问的金额，我先按您的情况帮您申请": the buyer asked nothing, she named a sum.
    A share of the price ("退一半") is no sum the agent can check against what the shop allows: it is
    asked for, said back (not "这个数"); a sum in yuan within it is the buyer's choice
    (test_flow_trial_suggest.py)."""
    conv, sug = _talk(FRUIT, [*FRUIT_OFFER, ("buyer", sum_)], tone)
    assert conv.stage == "remedy" and conv.context.remedy_chosen is None  # no sum agreed yet
    share = sum_.split("退")[-1]
    for text in _texts(sug, "remedy/amount-said"):
        assert "您问" not in text and "申请" in text and ("您说" in text or "您提" in text), text
        assert f"退{share}" in text and "这个数" not in text, text
    conv, sug = ENGINE.feed(conv, "agent", "好的，退您30元，马上给您处理。")
    conv, sug = ENGINE.feed(conv, "buyer", "行")
    assert conv.context.remedy_chosen == "partial_refund", conv.context.remedy_chosen


@pytest.mark.parametrize(("said", "them"), [("我是他女儿 我爸不会打字 我帮他回", "他"),
                                            ("我是她儿子，我妈不会打字，这个号我帮她回", "她")])
@pytest.mark.parametrize("tone", ["正式", "亲切"])
def test_a_relative_who_answers_is_asked_about_the_buyers_order_not_their_own(said: str, them: str,
                                                                             tone: Any) -> None:
    """"我是他女儿 …我帮他回" got "想跟您核对一下您在康宁家电下的这一单，请问还有印象吗？": the
    daughter bought nothing; the order is her father's."""
    case = {"shop": "康宁家电", "buyer_name": "孙", "honorific": "先生", "product": "电子血压计"}
    conv, sug = _talk(case, [("agent", "您好，请问是孙先生吗？我是康宁家电的售后客服小王"), ("buyer", said)], tone)
    assert conv.stage == "confirm_product"
    for text in _texts(sug, "confirm_product/proxy"):
        assert f"{them}买的电子血压计" in text or f"{them}在康宁家电买的" in text, text
        assert "您买的" not in text and "您在" not in text and "印象" not in text, text
