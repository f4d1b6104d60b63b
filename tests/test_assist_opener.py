"""The opener csbot itself suggests names the order and asks how it went ("您好，请问是周敏女士吗？我是
柚子家女装的售后客服小林，想跟您了解一下您买的连衣裙穿得怎么样。"). Seen in `csbot assist`: sent as is, it was
followed by "您11月20日买的连衣裙，还记得吗？" twice — before the buyer answered, and again after a bare
"是我". The product is named: wait for the buyer, then ask what went wrong (real engine, real Chinese)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.shared import shared_engine

ENGINE = shared_engine()
CASE = {"shop": "柚子家女装", "buyer_name": "周敏", "honorific": "女士", "product": "连衣裙",
        "order_date": "2026-11-20", "agent": "小林"}


def _opener() -> str:
    _, sug = ENGINE.start(CASE)
    return sug.suggestions[0].text


def _talk(lines: list[tuple[str, str]]) -> tuple[Any, Any]:
    conv, sug = ENGINE.start(CASE)
    for role, text in lines:
        conv, sug = ENGINE.feed(conv, role, text)  # type: ignore[arg-type]
    return conv, sug


@pytest.mark.parametrize("opener", [
    "您好，请问是周敏女士吗？我是柚子家女装的售后客服小林，想跟您了解一下您买的连衣裙穿得怎么样。",
    "您好，这里是柚子家女装的售后客服小林。请问是周敏女士本人吗？想跟您聊几句您买的连衣裙。",
])
def test_an_opener_that_names_the_order_waits_for_the_buyer(opener: str) -> None:
    conv, sug = _talk([("agent", opener)])
    assert conv.stage == "confirm_identity"
    assert sug.suggestions == [], [s.text for s in sug.suggestions]


def test_csbots_own_opener_is_one_that_names_the_order() -> None:
    _, sug = _talk([("agent", _opener())])
    assert sug.suggestions == [], [s.text for s in sug.suggestions]


@pytest.mark.parametrize("answer", ["是我", "嗯，是我", "对，怎么了"])
def test_after_yes_to_an_opener_that_named_the_order_the_buyer_is_asked_how_it_went(answer: str) -> None:
    _, sug = _talk([("agent", _opener()), ("buyer", answer)])
    texts = [s.text for s in sug.suggestions]
    assert texts, "没有建议"
    for text in texts:
        assert "印象" not in text and "记得" not in text, text  # the order was named already
    assert any("不满意" in t or "问题" in t for t in texts), texts


def test_an_identity_question_alone_still_goes_on_to_name_the_order() -> None:
    """Unchanged: "请问是周敏女士吗？" then "是我" → which order it is."""
    _, sug = _talk([("agent", "您好，请问是周敏女士吗？"), ("buyer", "是我")])
    texts = [s.text for s in sug.suggestions]
    assert texts and any("连衣裙" in t for t in texts), texts
    assert any("印象" in t or "记得" in t for t in texts), texts
