"""A buyer who asks the shop to stop contacting them after the case is closed is told plainly
that we will not, as before the close: not "好的，谢谢您，再见"."""

from __future__ import annotations

import pytest

from tests.shared import shared_engine

ENGINE = shared_engine()
CASE = {"shop": "某某旗舰店", "buyer_name": "张", "honorific": "女士", "product": "保温杯"}
TALK = [("agent", "您好，请问是张女士吗？我是某某旗舰店的售后客服"), ("buyer", "是我"),
        ("agent", "您买的保温杯用着怎么样？"), ("buyer", "不保温 倒进去热水两个小时就凉了"),
        ("agent", "实在抱歉，让您失望了。"), ("agent", "这批有个别杯子真空层没封好，是我们质检没把住。"),
        ("agent", "给您换一个新的，或者退货退款，您看哪种？"), ("buyer", "换个新的吧"),
        ("agent", "好的，新的今天就寄出。"), ("buyer", "嗯"),
        ("agent", "谢谢您的理解，祝您生活愉快，再见！")]


@pytest.mark.parametrize("said", ["以后不要再联系我了", "别再给我发消息了", "不想再聊了 别再打扰我"])
@pytest.mark.parametrize("tone", ["正式", "亲切"])
def test_stop_contact_after_the_close_is_answered_we_will_not(said: str, tone: str) -> None:
    conv, _ = ENGINE.start(CASE, tone=tone)  # type: ignore[arg-type]
    for role, text in TALK:
        conv, _ = ENGINE.feed(conv, role, text)  # type: ignore[arg-type]
    assert conv.stage == ENGINE.script.final
    conv, sug = ENGINE.feed(conv, "buyer", said)
    assert conv.stage == ENGINE.script.final  # nothing reopened
    texts = [s.text for s in sug.suggestions]
    assert texts
    for text in texts:
        assert "不会再" in text and ("打扰" in text or "联系" in text or "发消息" in text), texts
        assert "有任何问题随时联系" not in text and "欢迎" not in text, texts
    # the fix agreed is still done, as in the closing before the close
    assert any("换一个新的" in t or "新的" in t for t in texts), texts
    conv, sug = ENGINE.feed(conv, "buyer", "谢谢")  # the next message is answered as itself
    assert all("不会再" not in s.text for s in sug.suggestions), [s.text for s in sug.suggestions]


RUDE = [("agent", "您好，请问是王姐吗？我是小熊家居的售后客服，您12月1日买的记忆棉枕头用得怎么样？"),
        ("buyer", "你们那破枕头睡两天就扁了"), ("agent", "实在对不起，枕头睡两天就扁了确实是我们的问题。"),
        ("agent", "这批记忆棉回弹没达标，已经反馈工厂了。给您换个新的或者直接退货退款都行，运费我们出，您看哪个方便？")]


@pytest.mark.parametrize(("said", "fix"), [("退钱 以后别再给我打电话了", "退货退款"),
                                           ("换个新的吧 别再给我发消息了", "换一个新的")])
def test_a_fix_picked_with_stop_contact_is_done_and_no_more_contact(said: str, fix: str) -> None:
    """"退钱 以后别再给我打电话了" was read as the refund alone: the stage went on to 礼貌请求 and the
    suggestion promised "有进展都会跟您说" (the review request next). The fix is taken, the talk ends
    with "不会再打扰您了", the fix still done, no review."""
    conv, _ = ENGINE.start({**CASE, "buyer_name": "王", "honorific": "姐", "product": "记忆棉枕头"})
    for role, text in RUDE:
        conv, _ = ENGINE.feed(conv, role, text)  # type: ignore[arg-type]
    conv, sug = ENGINE.feed(conv, "buyer", said)
    assert conv.stage == "closing" and conv.context.remedy_chosen is not None, conv.stage
    texts = [s.text for s in sug.suggestions]
    assert texts and all("不会再" in t and fix in t for t in texts), texts
    assert not any("评价" in t or "欢迎" in t for t in texts), texts


def test_a_fix_picked_with_no_more_excuses_is_no_stop_contact() -> None:
    """"不要再找借口了" asks for no end to the contact: the refund is arranged as usual."""
    conv, _ = ENGINE.start({**CASE, "buyer_name": "王", "honorific": "姐", "product": "记忆棉枕头"})
    for role, text in RUDE:
        conv, _ = ENGINE.feed(conv, role, text)  # type: ignore[arg-type]
    conv, sug = ENGINE.feed(conv, "buyer", "退钱 你们不要再找借口了")
    assert conv.stage != "closing" and not conv.context.stop_asked, conv.stage
    assert all("不会再" not in s.text for s in sug.suggestions), [s.text for s in sug.suggestions]
