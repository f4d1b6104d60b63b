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
