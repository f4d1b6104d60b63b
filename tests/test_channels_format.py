"""A real Suggestion rendered for every platform: one message, the platform's format."""

from __future__ import annotations

import json

import pytest
from test_channels_support import ENV

from bot.channels.base import TRUNCATED, truncate
from bot.channels.format import format_suggestion
from bot.channels.registry import ADAPTERS
from bot.engine import Engine
from bot.models import Suggestion


@pytest.fixture(scope="module")
def suggestion(engine: Engine) -> Suggestion:
    conv, _ = engine.start({"shop": "柚子家女装", "buyer_name": "周敏", "product": "连衣裙"})
    _, sug = engine.feed(conv, "buyer", "衣服有线头，质量太差了")
    return sug


@pytest.mark.parametrize("style", ["plain", "markdown", "slack"])
def test_format_has_stage_and_replies(engine: Engine, suggestion: Suggestion, style: str) -> None:
    title, body = format_suggestion(suggestion, engine.labels, style)  # type: ignore[arg-type]
    assert suggestion.stage.label in title
    assert "建议回复" in body and suggestion.suggestions[0].text in body
    assert "买家：抱怨｜原因：质量问题｜情绪：" in body


@pytest.mark.parametrize("name", sorted(ADAPTERS))
def test_every_platform_renders_one_message(engine: Engine, suggestion: Suggestion, name: str) -> None:
    key = "dingtalk-robot" if name == "dingtalk" else name
    adapter = ADAPTERS[name].from_settings(ENV[key])
    assert adapter is not None
    msg = adapter.render_suggestion(suggestion, engine.labels)
    dumped = json.dumps(msg.payload, ensure_ascii=False)
    assert suggestion.suggestions[0].text[:10] in dumped
    if name == "feishu":
        card = json.loads(msg.payload["content"])
        assert card["elements"][0]["tag"] == "markdown"
    if name == "webhook":
        assert Suggestion.model_validate(msg.payload["suggestion"]) == suggestion


def test_truncate_counts_units_and_keeps_characters_whole() -> None:
    text = "差评" * 100
    cut = truncate(text, 50)
    assert len(cut.encode()) <= 50 and cut.endswith(TRUNCATED)
    assert truncate("短", 50) == "短"
    assert len(truncate("a" * 100, 20, unit="chars")) == 20


def test_a_short_reply_shows_the_cases_cause_not_a_dash(engine: Engine) -> None:
    """"嗯", "好的" name no cause; the card (chat and the assist console) shows the case's, told
    before. A buyer's "在吗？" mid-talk asks whether anyone is there: read as 其他 (no intent of its
    own), never as the agent's 问候确认."""
    import io

    from rich.console import Console

    from bot.channels.console import render

    conv, _ = engine.start({"shop": "柚子家女装", "buyer_name": "周敏", "honorific": "女士", "product": "连衣裙"})
    conv, sug = engine.feed(conv, "buyer", "在吗？")
    assert "买家：其他｜原因：—｜" in format_suggestion(sug, engine.labels)[1]  # nothing told yet
    for role, text in (("agent", "您好，请问是周敏女士吗？"), ("buyer", "是我"),
                       ("agent", "您买的连衣裙还记得吗？"), ("buyer", "记得，衣服洗一次就缩水了")):
        conv, sug = engine.feed(conv, role, text)  # type: ignore[arg-type]
    assert conv.context.cause == "quality" and sug.case_cause == "quality"
    for text, intent in (("嗯", "肯定"), ("好的", "肯定"), ("在吗？", "其他")):
        conv, sug = engine.feed(conv, "buyer", text)
        assert sug.understanding is not None and sug.understanding.cause is None  # type: ignore[union-attr]
        body = format_suggestion(sug, engine.labels)[1]
        assert f"买家：{intent}｜原因：质量问题｜" in body and "问候确认" not in body, body
        out = io.StringIO()
        render(Console(file=out, width=100, highlight=False, color_system=None), sug, engine.labels)
        assert f"意图 {intent}  原因 质量问题  " in out.getvalue(), out.getvalue()
