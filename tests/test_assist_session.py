"""Seen while working cases in `csbot assist` (real engine, real Chinese)."""

from __future__ import annotations

import pytest

from tests.shared import shared_engine

ENGINE = shared_engine()
CARDIGAN = {"shop": "柚子家女装", "buyer_name": "刘", "honorific": "女士", "product": "针织开衫", "agent": "小林"}
BLAMED = [("agent", "您好，请问是刘女士吗？我是柚子家女装的售后客服小林，想跟您了解一下您买的针织开衫穿得怎么样。"),
          ("buyer", "衣服还行，主要是你们客服态度太差了，问个尺码半天不回，回了还很不耐烦"),
          ("agent", "您这么说就不对了，我们客服每天要回几百条消息，您也要体谅一下")]


@pytest.mark.parametrize("answer", ["你看看，你现在就是这个态度！", "你现在还是这种态度？", "您这态度真行"])
def test_a_buyer_hurt_by_the_agents_words_just_now_is_answered_by_owning_them(answer: str) -> None:
    """After the agent blamed the buyer, "你现在就是这个态度！" got one more apology for the shop's
    slow replies before: the words just said are owned first (as "你这什么态度" already was)."""
    conv, sug = ENGINE.start(CARDIGAN)
    for role, text in [*BLAMED, ("buyer", answer)]:
        conv, sug = ENGINE.feed(conv, role, text)  # type: ignore[arg-type]
    assert conv.context.offended
    assert sug.suggestions and all("offended" in s.template for s in sug.suggestions), \
        [s.template for s in sug.suggestions]


@pytest.mark.parametrize("text", ["你们客服就是这个态度，问个尺码半天不回", "你们店就这种服务态度？"])
def test_the_shops_attitude_before_is_a_service_complaint_not_offence_at_these_words(text: str) -> None:
    norm = ENGINE.understand.normalize(text).text
    assert ENGINE.flow.cue("offended", norm) is None
