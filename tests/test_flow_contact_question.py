"""Flow rules that keep the development dialogs right when the batch-24 model's reading of a
line moved. Each reading is pinned, so the flow is tested apart from any model."""

from __future__ import annotations

import pytest

from tests.dialog import Flow
from tests.shared import model_read, shared_engine

ENGINE = shared_engine()
CASE = {"shop": "小豆丁童装", "buyer_name": "石", "honorific": "先生", "product": "羽绒服"}
HELLO = "您好，请问是石先生吗？我是小豆丁童装的售后。"


@pytest.mark.parametrize("text", ["什么事啊？有话直说", "啥事？有话快说", "什么事"])
def test_asking_curtly_what_it_is_about_tells_no_problem(text: str) -> None:
    """Read as a service complaint (the model's 0.73), a curt "what is it" answers the identity
    question (the stage goes on to the product) and states no problem."""
    pinned = model_read(text, [("complain", 0.73)], "complain", 0.73, cause="service")
    conv, _ = ENGINE.feed_understood(Flow(ENGINE, CASE).agent(HELLO).conv, pinned)
    assert conv.stage == "confirm_product"
    assert not conv.context.problem_stated


def test_a_service_complaint_with_the_same_words_is_a_problem() -> None:
    """"什么事都" is no question about the contact: the service problem is told."""
    text = "你们客服什么事都推来推去的"
    pinned = model_read(text, [("complain", 0.9)], "complain", 0.9, cause="service")
    conv, _ = ENGINE.feed_understood(Flow(ENGINE, CASE).agent(HELLO).conv, pinned)
    assert conv.stage == "listen_apologize"
    assert conv.context.problem_stated
