"""Flow rules that keep the development dialogs right when the model's reading of a line moves
(the batch-22/23 model read "对，干啥？" as a yes at 0.47, "现在还痒" as busy and a dust complaint
with no cause). Each reading is pinned, so the flow is tested apart from any model."""

from __future__ import annotations

import pytest

from tests.dialog import Flow
from tests.shared import model_read, shared_engine

ENGINE = shared_engine()
CASE = {"shop": "萌宠之家", "buyer_name": "于", "honorific": "女士", "product": "猫砂"}
HELLO = "您好，请问是于女士吗？我是萌宠之家的售后客服小潘。"


def _asked() -> Flow:
    return (Flow(ENGINE, CASE).agent(HELLO).buyer("是的")
            .agent("您前几天买的那袋猫砂，用着怎么样？").expect("confirm_product"))


@pytest.mark.parametrize("text", ["对，干啥？", "是我，啥事？"])
def test_a_plain_yes_opening_the_message_is_sure(text: str) -> None:
    """The yes word is the reading, however weakly the model reads it beside a question."""
    pinned = model_read(text, [("affirm", 0.47), ("ask", 0.93)], "affirm", 0.47)
    conv, _ = ENGINE.feed_understood(Flow(ENGINE, CASE).agent(HELLO).conv, pinned)
    assert conv.stage == "confirm_product"


def test_a_weak_yes_without_the_word_stays_unsure() -> None:
    pinned = model_read("干啥？", [("affirm", 0.47), ("ask", 0.93)], "affirm", 0.47)
    conv, _ = ENGINE.feed_understood(Flow(ENGINE, CASE).agent(HELLO).conv, pinned)
    assert conv.stage == "confirm_identity"


@pytest.mark.parametrize(("text", "stage"), [("现在还痒", "listen_apologize"), ("现在还是一股味", "listen_apologize"),
                                             ("我现在在开会", "callback"), ("晚上再说吧", "callback")])
def test_busy_while_the_problem_is_told_needs_busy_words(text: str, stage: str) -> None:
    """"现在还痒" read as busy (for 现在) while the problem is told is more of the problem; a busy
    word, a time or a talk put off ("晚上再说") is still busy."""
    told = _asked().buyer("用了两天 猫砂一股怪味 猫都不进去").expect("listen_apologize")
    pinned = model_read(text, [("busy", 0.57)], "busy", 0.57)
    conv, _ = ENGINE.feed_understood(told.conv, pinned)
    assert conv.stage == stage


def test_a_complaint_with_a_sure_clause_of_its_own_states_the_problem() -> None:
    """Read with no cause as a whole, it was taken for a mood ("是我，干嘛"): the apology then
    had no problem to answer and the talk stuck at 倾听致歉."""
    pinned = model_read("哦 是我买的 那猫砂粉尘太大了 一倒满屋子灰", [("complain", 0.64)], "complain", 0.64)
    conv, _ = ENGINE.feed_understood(_asked().conv, pinned)
    assert conv.stage == "listen_apologize" and conv.context.problem_stated
    conv, _ = ENGINE.feed(conv, "agent", "真抱歉，粉尘这么大，人和猫都遭罪。")
    assert conv.stage == "explain"


def test_a_mood_about_the_contact_is_still_no_problem() -> None:
    pinned = model_read("是啊，终于舍得联系我了？", [("affirm", 0.9), ("complain", 0.6)], "complain", 0.6)
    conv, _ = ENGINE.feed_understood(Flow(ENGINE, CASE).agent(HELLO).conv, pinned)
    assert not conv.context.problem_stated
