""""叫你们店长来" in any stage gets the case owned and the supervisor offered (scripts_zh/shared/manager;
confirm_product and listen_apologize ask for the problem in their own), never heard as a new problem."""

from __future__ import annotations

import pytest

from tests.shared import shared_engine, talk

ENGINE = shared_engine()
CASE = {"shop": "柚子家女装", "buyer_name": "周", "honorific": "女士", "product": "连衣裙"}
TOLD = [("agent", "您好，请问是周女士吗？我是柚子家女装的售后客服小林。"), ("buyer", "是我"),
        ("agent", "您前几天买的连衣裙还有印象吗？"), ("buyer", "有 洗了一次就掉色 太差了"),
        ("agent", "真抱歉，新裙子洗一次就掉色，太影响心情了。")]
EXPLAINED = [*TOLD, ("agent", "这批布料固色没做好，是我们的责任，已经反馈给工厂了。")]
OFFERED = [*EXPLAINED, ("agent", "给您换一件新的，来回运费我们出；或者给您办退货退款，您看哪种合适？")]
CHOSEN = [*OFFERED, ("buyer", "退吧"), ("agent", "好的，退货退款给您登记了，运费我们出。")]


@pytest.mark.parametrize("lines,stage", [(TOLD, "explain"), (EXPLAINED, "remedy"), (OFFERED, "remedy"),
                                         (CHOSEN, "polite_request")])
@pytest.mark.parametrize("asked", ["叫你们店长来", "你一个小客服做得了主吗"])
@pytest.mark.parametrize("tone", ["正式", "亲切"])
def test_asking_for_the_manager_is_answered_in_every_stage(lines, stage: str, asked: str, tone) -> None:  # type: ignore[no-untyped-def]
    conv, sug = talk(ENGINE, CASE, [*lines, ("buyer", asked)], tone)
    assert conv.stage == stage
    assert sug.suggestions and all(s.template.startswith("shared/manager.") for s in sug.suggestions), \
        [(s.template, s.text) for s in sug.suggestions]
    for s in sug.suggestions:
        read = ENGINE.understand.agent(s.text)
        assert "主管" in s.text and read.findings == [], s.text
        assert not {"request_review", "close", "offer_remedy"} & set(read.acts), (s.text, read.acts)


def test_a_suspected_extortion_asking_for_the_manager_gets_no_promise() -> None:
    lines = [*EXPLAINED, ("buyer", "给我200块我就删差评"), ("buyer", "叫你们店长来")]
    conv, sug = talk(ENGINE, CASE, lines)
    assert conv.stage == "malicious"
    assert not any(s.template.startswith("shared/manager.") for s in sug.suggestions)
