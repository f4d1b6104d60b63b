"""What playing the trainer as trainees would found (wave 2), through the real trainer and
engine: a plain greeting names no problem, ..."""

from __future__ import annotations

from bot.engine import Engine
from bot.training.facts import NAMES_PROBLEM
from tests.shared import play

_GREET = "王阿姨您好，我是山野茶铺的售后客服小李，请问是王秀兰本人吗？"


def test_a_greeting_names_no_problem(engine: Engine) -> None:
    """"售后客服" in the self-introduction was read by the buyer's reader as a complaint about
    the service: the greeting carried names_problem, and "不好意思打扰您了，我是…的售后客服" could
    pass for an apology about the problem."""
    for greet in (_GREET, "您好，我是山野茶铺的售后客服小李", "王阿姨您好，我是山野茶铺的客服小李"):
        s = play(engine, "wrong_item_first_time", [greet], seed=3)
        assert NAMES_PROBLEM not in s.turns[0].facts, (greet, s.turns[0].facts)
    # the problem named after the introduction still counts, in the same message too
    s = play(engine, "wrong_item_first_time",
             [_GREET, "您11月7日买的红枣枸杞茶，我们发成菊花茶了，实在对不起。"], seed=3)
    assert NAMES_PROBLEM in s.turns[1].facts, s.turns[1].facts
    s = play(engine, "wrong_item_first_time",
             ["王阿姨您好，我是山野茶铺的售后客服小李，您买的红枣枸杞茶我们发成菊花茶了，实在对不起。"], seed=3)
    assert NAMES_PROBLEM in s.turns[0].facts, s.turns[0].facts
    # a complaint about the service itself is a problem named
    s = play(engine, "wrong_item_first_time", [_GREET, "客服之前回复慢了，实在抱歉"], seed=3)
    assert NAMES_PROBLEM in s.turns[1].facts, s.turns[1].facts
