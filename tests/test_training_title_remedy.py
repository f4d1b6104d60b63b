"""QA: the end-of-session summary said the buyer was 对换新很满意 when she had chosen 退货:
the persona's title names the remedy actually chosen."""

from __future__ import annotations

from pathlib import Path

from bot.engine import Engine
from bot.training.rubric import load_rubric
from bot.training.transcript import render_markdown
from tests.shared import play

LINES = Path("tests/data/trainees/keeps_review_experienced.good.txt").read_text(encoding="utf-8").splitlines()


def _summary(engine: Engine, lines: list[str]) -> tuple[str, str | None]:
    s = play(engine, "keeps_review_experienced", [ln for ln in lines if ln.strip()], seed=1)
    assert s.scorecard is not None
    md = render_markdown(s.events, load_rubric(engine.dialogs).rubric.labels)
    line = next(ln for ln in md.splitlines() if ln.startswith("这位买家是："))
    return line, s.scorecard.outcome.remedy


def test_the_summary_names_the_refund_the_buyer_chose(engine: Engine) -> None:
    lines = [*LINES[:5], "给您办理退货退款，运费我们承担，您看可以吗？",
             "好的，退货退款已经给您申请了。冒昧问一句，您愿意考虑更新一下评价吗？这完全是您的权利，您怎么决定我们都尊重。",
             LINES[7]]
    line, remedy = _summary(engine, lines)
    assert remedy is not None and "换" not in engine.remedies.remedies[remedy].label, remedy
    assert "对退货退款很满意" in line and "换新" not in line and "{remedy}" not in line, line


def test_the_summary_names_the_exchange_when_she_took_it(engine: Engine) -> None:
    line, remedy = _summary(engine, LINES)
    assert remedy is not None
    said = engine.remedies.remedies[remedy].label.split("（")[0]
    assert f"对{said}很满意" in line and "{remedy}" not in line, line
