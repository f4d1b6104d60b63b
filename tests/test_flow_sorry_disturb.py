"""An apology for disturbing is not the apology for the problem; a buyer angry at an early call
is apologised to for it. Whole dialogs through the real Engine and model."""

from __future__ import annotations

import pytest

from tests.dialog import Flow
from tests.shared import shared_engine

ENGINE = shared_engine()
CASE = {"shop": "柚子家居", "buyer_name": "王芳", "honorific": "女士", "product": "记忆棉枕头"}


def _told() -> Flow:
    return (Flow(ENGINE, CASE).agent("您好，请问是王芳女士吗？我是柚子家居的售后客服小林。").buyer("是我")
            .agent("您12月4日在我们店买了一个记忆棉枕头，还有印象吗？").buyer("记得，枕头用了一周就塌了")
            .expect("listen_apologize"))


@pytest.mark.parametrize("sorry", ["不好意思打扰了", "这么早打扰您了", "抱歉打扰您了"])
def test_sorry_for_disturbing_is_no_apology_for_the_problem(sorry: str) -> None:
    """In 倾听致歉 "不好意思打扰了" counted as the apology and moved on to 解释原因."""
    flow = _told().agent(sorry).expect("listen_apologize")
    assert flow.conv.context.apologies == 0
    texts = [s.text for s in flow.last.suggestions]
    assert texts and all("抱歉" in t or "对不起" in t or "不好意思" in t for t in texts), texts


@pytest.mark.parametrize("sorry", ["不好意思打扰了，枕头塌了这事真的很抱歉", "抱歉打扰了，给您添麻烦了"])
def test_sorry_for_disturbing_with_one_for_the_problem_moves_on(sorry: str) -> None:
    _told().agent(sorry).expect("explain")


def test_a_buyer_angry_at_an_early_call_is_apologised_to_for_it() -> None:
    flow = Flow(ENGINE, CASE).agent("您好，请问是王芳女士吗？我是柚子家居的售后客服小林。") \
        .buyer("烦不烦啊 大早上的打什么电话 垃圾枕头 用了一周就塌了")
    assert flow.conv.context.early_call
    texts = [s.text for s in flow.last.suggestions]
    assert texts and all("早" in t and any(w in t for w in ("打扰", "吵")) for t in texts), texts
    assert all("质量" in t for t in texts), texts


def test_the_early_call_cue() -> None:
    def cue(text: str) -> bool:
        return ENGINE.flow.cue("early_call", ENGINE.understand.normalize(text).text) is not None
    for text in ["大早上的打什么电话", "一大早打电话干嘛", "这么早打扰人", "电话打这么早"]:
        assert cue(text), text
    for text in ["枕头用了一周就塌了", "早就坏了", "打电话给我吧"]:
        assert not cue(text), text
