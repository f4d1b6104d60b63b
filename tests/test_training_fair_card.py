"""A trainee whose only reply was a blocked bribe was shown "✗ 疑似恶意：全程保持礼貌，不威胁不
争吵": nothing rude was said. A step no reply could be scored in is said so, not marked as a
fault; a rude reply is still one. The card reads as plain Chinese (no "：…：" in one line)."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from bot.engine import Engine
from bot.training.console import TrainingConsole
from bot.training.transcript import computation_lines
from tests.shared import play

BRIBE = "您好，给您转50元，您把差评删了吧"


def _card_screen(engine: Engine, replies: list[str]) -> str:
    s = play(engine, "pro_bad_reviewer", replies, seed=1)
    assert s.scorecard is not None
    out = io.StringIO()
    tc = TrainingConsole(Console(file=out, width=100, highlight=False, color_system=None),
                         lambda: s, Path("/tmp/unused"),
                         labels=s.rubric_file.rubric.labels)
    tc._scorecard(s, s.scorecard)
    return out.getvalue()


def test_a_blocked_bribe_is_no_failure_of_politeness(engine: Engine) -> None:
    s = play(engine, "pro_bad_reviewer", [BRIBE], seed=1)
    card = s.scorecard
    assert card is not None
    polite = next(c for c in card.checks if c.id == "stayed_polite")
    assert not polite.passed and not polite.reached  # no points, and no fault either
    screen = _card_screen(engine, [BRIBE])
    assert "✗ 疑似恶意：全程保持礼貌" not in screen, screen
    assert "全程保持礼貌，不威胁不争吵（3 分）：没有可以算分的回复，不得分，但不算做错" in screen, screen
    assert "✗ 疑似恶意：没有答应付钱或补偿" in screen  # the bribe itself is still a fault
    for line in computation_lines(card.model_dump(mode="json"), s.rubric_file.rubric.labels):
        assert line.count("：") <= 1, line


def test_a_threat_is_still_a_failure_of_politeness(engine: Engine) -> None:
    s = play(engine, "pro_bad_reviewer", ["您好，请问是冯磊先生吗？",
                                          "你再敲诈我们就报警，把你的聊天记录曝光到网上"], seed=1)
    card = s.scorecard
    assert card is not None
    polite = next(c for c in card.checks if c.id == "stayed_polite")
    assert polite.reached and not polite.passed  # blocked or not, a threat is rude
