"""The part of a message the guard quotes (trainer 【注意】「…」, sidebar, assist) is whole
words and phrases: the trainee was shown 「改成好」 out of "改成好评", 「必须改」 out of
"必须改成好评", 「我们会被罚」 out of "我们会被罚款"."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.engine import Engine
from tests.shared import play, shared_engine

ENGINE = shared_engine()


@pytest.mark.parametrize(("text", "code", "quoted"), [
    ("你必须改成好评", "pressure", "你必须改成好评"),
    ("快点把差评改成好评，不然我们会被罚款", "pressure", "快点把差评改成好评"),
    ("快点把差评改成好评，不然我们会被罚款", "guilt_trip", "不然我们会被罚款"),
    ("亲，今天之内删掉差评吧", "pressure", "今天之内删掉差评"),
    ("赶紧改评价 谢谢", "pressure", "赶紧改评价"),
    ("亲，好💯评返💰现哦", "conditional_benefit", "好💯评返💰现"),
    ("您把差评改成好评，我给您返20元红包", "conditional_benefit", "您把差评改成好评，我给您返20元红包"),
])
def test_the_quoted_part_is_whole_words(text: str, code: str, quoted: str) -> None:
    f = next(f for f in ENGINE.understand.findings(text) if f.code == code)
    assert f.span is not None
    assert text[f.span[0]:f.span[1]] == quoted


def test_the_trainer_quotes_whole_words(engine: Engine) -> None:
    s = play(engine, "slow_delivery_first_time",
             ["林晓您好，我是悦途数码的客服小周，请问是林晓本人吗？", "您必须改成好评，今天之内"], seed=2)
    f = next(f for f in s.turns[-1].findings if f.code == "pressure")
    assert f.span is not None
    assert s.turns[-1].text[f.span[0]:f.span[1]] == "您必须改成好评"


@pytest.mark.parametrize(("text", "quoted"), [
    # QA: lint showed 「…100号对」, the 对 of a tag question 对吧
    ("地址是杭州市西湖区文三路100号对吧", "地址是杭州市西湖区文三路100号"),
    ("您住在杭州市西湖区文三路100号是不是？", "您住在杭州市西湖区文三路100号"),
])
def test_a_tag_question_after_the_address_is_not_quoted(text: str, quoted: str) -> None:
    f = next(f for f in ENGINE.understand.findings(text) if f.code == "privacy")
    assert f.span is not None
    assert text[f.span[0]:f.span[1]] == quoted


def test_lint_quotes_the_address_alone() -> None:
    r = subprocess.run([sys.executable, "-m", "bot", "lint"], input="地址是杭州市西湖区文三路100号对吧\n", text=True,
                       capture_output=True, cwd=Path(__file__).resolve().parent.parent, check=False)
    assert "「地址是杭州市西湖区文三路100号」" in r.stdout, r.stdout
