"""Replies that answer what the buyer just said, beyond the problem itself (real engine, real Chinese).

- The bad review was a slip ("差评？我点错了吧"): confirmed kindly and asked whether anything
  was wrong, never "哪里不满意" as if a problem had been told, and no word of the review: the
  request belongs after a fix (design.md). Nothing wrong: thanked, left to the buyer. Asked how
  to change it: told how (explaining when asked is no request), or honestly that it cannot.
- A choice said beside a question ("行，补发吧，要几天能到？"): the reply that arranges it also
  answers how the chosen remedy goes (remedies.yaml `text`, `next`).
- After a blocked draft that asked about the review, the correction asks nothing again.
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.models import Conversation
from tests.shared import clean_texts, shared_engine, talk

ENGINE = shared_engine()
TEA = {"shop": "茶香小铺", "buyer_name": "赵", "honorific": "先生", "product": "菊花茶"}
CHAIR = {"shop": "木木家居", "buyer_name": "王", "honorific": "女士", "product": "实木椅子"}
HELLO = [("agent", "您好，请问是赵先生吗？"), ("buyer", "是我"), ("agent", "您在茶香小铺买的菊花茶收到了吗？")]


def _talk(case: dict[str, str], lines: list[tuple[str, str]], tone: Any = "正式") -> tuple[Conversation, Any]:
    return talk(ENGINE, case, lines, tone)


def _texts(sug: Any, key: str) -> list[str]:
    return clean_texts(ENGINE, sug, key)


@pytest.mark.parametrize(("lines", "tone"), [
    ([*HELLO, ("buyer", "差评？我点错了吧")], "正式"),
    ([*HELLO, ("buyer", "啊那个是手滑点错了")], "亲切"),
    ([*HELLO, ("buyer", "差評是我不小心點錯了啦 茶挺好喝的")], "正式"),
    ([HELLO[0], ("buyer", "是我，差评那个是我按错了哈哈")], "亲切"),
])
def test_a_review_given_by_mistake_is_confirmed_not_asked_what_went_wrong(
        lines: list[tuple[str, str]], tone: Any) -> None:
    _, sug = _talk(TEA, lines, tone)
    for text in _texts(sug, "listen_apologize/misclick"):
        assert "抱歉" not in text and "添麻烦" not in text, text  # nothing to apologise for yet
        assert "评价" not in text and "評價" not in text, text  # no request before a fix
        plain = ENGINE.understand.normalize(text).text
        assert any(w in plain for w in ("问题", "不满意", "不对")) and "?" in plain, text  # asked if any


def test_after_the_agents_own_reply_to_a_slip_no_problem_is_asked_for() -> None:
    _, sug = _talk(TEA, [*HELLO, ("buyer", "啊？差评？我点错了吧，茶挺好喝的"), ("agent", "原来是这样，那就放心了")])
    for text in _texts(sug, "listen_apologize/misclick"):
        assert "评价" not in text and "抱歉" not in text, text


@pytest.mark.parametrize("fine", ["没有没有，都挺好的", "挺好喝的，没啥问题", "嗯嗯 都好"])
def test_nothing_wrong_after_a_slip_leaves_the_review_to_the_buyer(fine: str) -> None:
    _, sug = _talk(TEA, [*HELLO, ("buyer", "差评？我点错了吧"),
                            ("agent", "明白了，没关系。那菊花茶收到以后都还好吧？"), ("buyer", fine)])
    for text in _texts(sug, "listen_apologize/misclick-fine"):
        assert "评价" not in text and "改" not in text, text  # not asked, not nudged


def test_a_buyer_who_asks_how_to_change_it_is_told_and_it_is_no_request() -> None:
    lines = [*HELLO, ("buyer", "差评？我点错了吧"), ("agent", "明白了，没关系。那菊花茶收到以后都还好吧？"),
             ("buyer", "都好的 那我怎么改回来啊")]
    conv, sug = _talk(TEA, lines)
    texts = _texts(sug, "listen_apologize/misclick-how")
    assert all("修改评价" in t and "30天" in t for t in texts), texts
    conv, _ = ENGINE.feed(conv, "agent", texts[0])
    assert conv.context.review_requests == 0  # telling how, when asked, is not the one request
    # on Tmall a review cannot change: said honestly, nothing to do
    _, sug = _talk({**TEA, "platform": "tmall"}, lines)
    assert all("改不了" in t or "不能修改" in t for t in _texts(sug, "listen_apologize/misclick-fixed"))


def test_a_slip_with_a_problem_after_all_is_heard_as_the_problem() -> None:
    conv, sug = _talk(TEA, [*HELLO, ("buyer", "手滑点错了，不过茶确实有股霉味")])
    assert conv.context.misclick is None and conv.context.cause == "quality"
    assert all(s.template.startswith("listen_apologize/cause-quality") for s in sug.suggestions)
    conv, sug = _talk(TEA, [*HELLO, ("buyer", "差评？我点错了吧"), ("agent", "没关系，那茶喝着还好吗？"),
                            ("buyer", "其实包装破了，茶叶撒了一半")])
    assert conv.context.misclick is None
    assert not any("misclick" in s.template for s in sug.suggestions)
    # the problem told first, the slip after: the problem is not forgotten
    conv, sug = _talk(TEA, [*HELLO, ("buyer", "茶叶里有虫子"), ("buyer", "差评是我手滑点错了，本来想给中评")])
    assert conv.context.misclick is None
    assert not any("misclick" in s.template for s in sug.suggestions)


WRONG = [*HELLO, ("buyer", "收到了，但是发错了，我买的是菊花茶寄来的是红茶"),
         ("agent", "真的非常抱歉，给您添麻烦了"), ("agent", "是仓库拣货出了错，我们会加强核对"),
         ("agent", "给您补发一盒菊花茶，或者全额退款，您看哪种方便？")]
BROKEN = [("agent", "您好，请问是王女士吗？"), ("buyer", "是我"), ("agent", "您买的那把椅子收到了吧？"),
          ("buyer", "收到了，椅腳裂開了"), ("agent", "非常抱歉给您添麻烦了"),
          ("agent", "是出厂检查没做好，我们会反馈给工厂"),
          ("agent", "给您换一把新的，来回运费我们出；或者退货退款，您看哪种合适？")]


@pytest.mark.parametrize(("case", "talk", "said", "chosen", "answer"), [
    (TEA, WRONG, "好 那就補發吧 菊花茶要寄回去嗎", "reship_missing", "不用寄回"),
    (TEA, WRONG, "行，补发吧，要几天能到？", "reship_missing", "今天就给您发出"),
    (TEA, WRONG, "那就退款吧，错的那盒要寄回去吗", "refund", "不用寄回"),
    (CHAIR, BROKEN, "行，那就换一把新的吧，运费谁出啊？", "exchange", "来回运费都由我们承担"),
    (CHAIR, BROKEN, "退货退款吧，东西我要怎么寄回去？", "return_refund", "申请退货退款"),
])
def test_a_choice_said_with_a_question_is_arranged_and_answered(
        case: dict[str, str], talk: list[tuple[str, str]], said: str, chosen: str, answer: str) -> None:
    conv, sug = _talk(case, [*talk, ("buyer", said)])
    assert conv.stage == "polite_request" and conv.context.remedy_chosen == chosen
    for text in _texts(sug, "polite_request/arrange-asked"):
        assert ENGINE.understand.normalize(text).text.count(answer) == 1, text


def test_a_question_about_the_chosen_remedy_while_it_is_arranged_is_answered() -> None:
    conv, sug = _talk(TEA, [*WRONG, ("buyer", "补发吧")])
    assert all(s.template.startswith("polite_request/arrange.") for s in sug.suggestions)  # nothing asked
    conv, sug = ENGINE.feed(conv, "buyer", "对了 大概几天能到啊")  # the chosen one, not named
    texts = _texts(sug, "polite_request/arrange-asked")
    assert all("今天就给您发出" in t for t in texts)
    # asked again once it is under way: answered, and the review request waits for the next turn
    conv, _ = ENGINE.feed(conv, "agent", texts[0])
    assert conv.context.remedy_underway
    conv, sug = ENGINE.feed(conv, "buyer", "好的 那补发的要寄回去吗？")
    assert all("不用寄回" in t for t in _texts(sug, "polite_request/arranged-asked"))
    conv, sug = ENGINE.feed(conv, "agent", sug.suggestions[0].text)
    assert conv.context.review_requests == 0 and all(
        s.template.startswith("polite_request/default") for s in sug.suggestions)  # now the one request


@pytest.mark.parametrize("blocked", [
    "好的，补发我马上安排。您把差评改成好评，我再给您返5元红包",
    "补发已经安排了，您能把差评删了吗？删了给您发个优惠券",
])
def test_the_correction_of_a_blocked_request_asks_nothing_again(blocked: str) -> None:
    conv, _ = _talk(TEA, [*WRONG, ("buyer", "补发吧"), ("agent", blocked)])
    assert conv.context.repair and conv.context.review_requests == 1
    folder = conv.stage
    variants = [v for tone in ("正式", "亲切") for v in ENGINE.templates.pool(folder, "after_block", tone)]
    assert len(variants) >= 6
    for v in variants:  # every variant, sent as the correction: no second request read, no warning
        text = ENGINE.templates.render(v, ENGINE.variables(conv))
        after, sent = ENGINE.feed(conv, "agent", text)
        assert after.context.review_requests == 1, text
        assert not [w.code for w in sent.warnings if w.code in ("repeat_request", "pressure")], text
