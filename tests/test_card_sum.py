"""The case card of a buyer who names a sum of money back: "补发太麻烦了 退30吧" is a partial
refund asked for, with the sum, on every surface, not "想换货" for the 补发 it turns down."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from bot.channels.console import render
from bot.channels.format import format_suggestion
from bot.models import BuyerUnderstanding
from tests.shared import shared_engine

ENGINE = shared_engine()
FRUIT = {"shop": "鲜果园", "buyer_name": "陈", "honorific": "女士", "product": "赣南脐橙"}
OFFER = [("agent", "您好，请问是陈女士吗？我是鲜果园的售后客服"), ("buyer", "是"),
         ("agent", "您前几天买的赣南脐橙收到了吗？吃着怎么样？"), ("buyer", "烂了好几个 一箱里有五六个都是坏的"),
         ("agent", "实在抱歉，收到一箱烂果子太糟心了。"),
         ("agent", "是路上时间太长，有几个闷坏了，我们会跟快递反馈。"),
         ("agent", "可以给您补发一箱，或者东西您留着，退您一部分货款，您看哪种？")]


@pytest.mark.parametrize(("said", "sum_"), [("补发太麻烦了 退30吧", "30元"), ("东西留着吧 退一半", "一半"),
                                            ("补发还要等 算了 退20块吧", "20元")])
def test_a_sum_named_reads_as_a_partial_refund_with_the_sum(said: str, sum_: str) -> None:
    conv, _ = ENGINE.start(FRUIT)
    for role, text in OFFER:
        conv, _ = ENGINE.feed(conv, role, text)  # type: ignore[arg-type]
    conv, sug = ENGINE.feed(conv, "buyer", said)
    u = sug.understanding
    assert isinstance(u, BuyerUnderstanding)
    assert u.intent == "want_refund" and u.amount == sum_, (u.intent, u.amount)
    out = io.StringIO()
    render(Console(file=out, width=110, highlight=False, color_system=None), sug, ENGINE.labels)
    card = out.getvalue().splitlines()[1]
    assert f"意图 想退款（{sum_}）" in card and "想换货" not in card, card
    _, body = format_suggestion(sug, ENGINE.labels)
    assert f"买家：想退款（{sum_}）｜" in body, body


def test_a_plain_refund_names_no_sum() -> None:
    conv, _ = ENGINE.start(FRUIT)
    for role, text in OFFER:
        conv, _ = ENGINE.feed(conv, role, text)  # type: ignore[arg-type]
    conv, sug = ENGINE.feed(conv, "buyer", "补发吧")
    u = sug.understanding
    assert isinstance(u, BuyerUnderstanding) and u.amount is None
    out = io.StringIO()
    render(Console(file=out, width=110, highlight=False, color_system=None), sug, ENGINE.labels)
    assert "元）" not in out.getvalue().splitlines()[1]
