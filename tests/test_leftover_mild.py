"""A small problem said calmly gets the mild apology for its own cause, not only for quality:
a slightly slow parcel or a dress a little big is not answered "换作是我也会失望的"."""

from __future__ import annotations

import pytest

from bot.corpus import is_heldout
from bot.engine import Engine
from tests.dialog import Flow

MILD = [
    ("记得，就是快递有点慢，晚了两天才到", "logistics"),
    ("记得，裙子稍微有点大", "size_fit"),
    ("记得，颜色跟图片有点不一样", "not_as_described"),
    ("记得，感觉有点不值这个价", "price_value"),
    ("记得，就是客服回复有点慢", "service"),
]


def _told(engine: Engine, text: str) -> Flow:
    assert not is_heldout(text)
    return (Flow(engine).agent("您好，请问是周敏女士吗？").buyer("是我")
            .agent("您10月买的连衣裙还记得吗？").buyer(text).expect("listen_apologize"))


@pytest.mark.parametrize(("text", "cause"), MILD)
def test_a_small_problem_said_calmly_gets_its_cause_s_mild_apology(engine: Engine, text: str, cause: str) -> None:
    f = _told(engine, text)
    assert f.conv.context.cause == cause and f.conv.context.mild
    first = f.last.suggestions[0]
    assert first.template.startswith(f"listen_apologize/cause-{cause}-mild."), first.template
    assert "抱歉" in first.text or "不好意思" in first.text
    # none of the heavy apology's words
    for heavy in ("换作是我", "换谁都会", "完全理解", "真的很抱歉", "非常抱歉"):
        assert all(heavy not in s.text for s in f.last.suggestions), (heavy, f.last.suggestions)


def test_an_angry_buyer_still_gets_the_full_apology(engine: Engine) -> None:
    f = _told(engine, "记得，快递慢得要死，晚了整整一个星期，气死人了")
    assert f.conv.context.cause == "logistics" and not f.conv.context.mild
    assert f.last.suggestions[0].template.startswith("listen_apologize/cause-logistics.")


def test_a_wrong_item_is_owned_in_full_even_said_calmly(engine: Engine) -> None:
    f = _told(engine, "记得，少发了一条腰带，有点不方便")
    assert f.conv.context.cause == "wrong_missing"
    assert f.last.suggestions[0].template.startswith("listen_apologize/cause-wrong_missing.")
