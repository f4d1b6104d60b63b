"""The rules read "got X, but I bought Y" as a wrong item (buyer.yaml `wrong_missing`): the model
alone read "收到的是菊花茶欸 我買的是紅棗枸杞茶" as a quality problem after batch 20, and the
options of the wrong cause were offered. What was received and what was bought, said in either
order, names the wrong item; either half alone does not."""

from __future__ import annotations

import pytest

from bot.paths import dialogs_dir
from bot.understand.pipeline import Understander

RULES = Understander(dialogs_dir(), mode="rules")


@pytest.mark.parametrize("text", [
    "收到的是菊花茶欸 我買的是紅棗枸杞茶",
    "到手是黑色的，我拍的明明是白色",
    "我订的是大号，寄来的是小号",
    "发来的是42码 我要的是41",
    "拿到的是普通版，我下单的是加厚版啊",
])
def test_got_one_thing_bought_another_is_a_wrong_item(text: str) -> None:
    assert RULES.buyer(text).cause == "wrong_missing"


@pytest.mark.parametrize("text", ["我买的是个拼图", "收到的是完好的，谢谢", "我买的是白色，挺好看的"])
def test_either_half_alone_is_no_wrong_item(text: str) -> None:
    assert RULES.buyer(text).cause != "wrong_missing"
