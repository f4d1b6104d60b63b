"""An apology made before the buyer told the problem, through the real Engine and model: the
suggestions move on to the explanation instead of asking what was wrong or apologising again,
and the trainer's tip after it does not say "接着真诚道歉" (docs/understanding.md)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.dataload import DataProblems
from bot.engine import Engine
from bot.paths import dialogs_dir
from bot.training.persona import load_personas
from bot.training.rubric import load_rubric
from bot.training.session import Session
from tests.dialog import Flow
from tests.shared import dump_yaml, load_yaml_text, shared_engine

ENGINE = shared_engine()
TEA = {"shop": "XX旗舰店", "buyer_name": "王芳", "honorific": "女士", "product": "菊花茶"}
ASKS_WHAT = ("不满意", "哪里有问题", "什么情况")
SORRY = ("抱歉", "对不起", "不好意思")


def _asked() -> Flow:
    return (Flow(ENGINE, TEA).agent("您好，请问是王芳女士吗？").buyer("是我")
            .agent("我是XX旗舰店的客服小林，您买的是菊花茶对吧？").expect("confirm_product"))


def _explains(flow: Flow) -> None:
    texts = [s.text for s in flow.last.suggestions]
    assert texts and not any(w in t for t in texts for w in ASKS_WHAT + SORRY), texts
    assert any("配货" in t or "拣货" in t or "仓库" in t for t in texts), texts


def test_an_apology_that_names_the_wrong_item_moves_on_to_why() -> None:
    # 1. "对" to the order, then the agent's own apology names the problem: no "哪里不满意"
    flow = _asked().buyer("对").expect("listen_apologize").agent("实在抱歉，给您发成枸杞了").expect("explain")
    assert flow.conv.context.cause == "wrong_missing"
    _explains(flow)
    # the buyer says it too, then asks why: explained, not apologised for again
    _explains(flow.buyer("对，结果寄来的是枸杞").expect("explain"))
    _explains(flow.buyer("那怎么会发错呢？").expect("explain"))


def test_the_same_apology_while_the_order_is_confirmed() -> None:
    flow = _asked().agent("实在抱歉，给您发成枸杞了").expect("explain")
    _explains(flow)
    _explains(flow.buyer("对，结果寄来的是枸杞").expect("explain"))


def test_a_question_naming_the_problem_after_an_apology_is_answered() -> None:
    # 2. an apology for the trouble that names nothing, then "那怎么会发错呢？"
    flow = _asked().buyer("对").agent("不好意思，给您添麻烦了").expect("listen_apologize")
    _explains(flow.buyer("那怎么会发错呢？").expect("explain"))
    flow = _asked().agent("实在抱歉，给您添麻烦了。").buyer("那怎么会发错呢？").expect("explain")
    _explains(flow)


def test_an_apology_for_the_agents_own_slip_still_leaves_the_apology_to_make() -> None:
    # "不好意思，是我看错了" owns a slip, not the buyer's trouble: the problem told next is apologised for
    flow = (Flow(ENGINE, TEA).agent("您好，请问是王芳女士吗？").buyer("是我")
            .agent("不好意思，是我看错了，是那盒菊花茶，对吗？").buyer("对，结果寄来的是枸杞")
            .expect("listen_apologize"))
    assert any(w in s.text for s in flow.last.suggestions for w in SORRY), flow.last.suggestions


def test_the_trainers_tip_after_an_apology_in_confirm_product_is_the_explanation() -> None:
    # 3. "接着真诚道歉" was the tip right after the trainee had apologised
    dialogs = dialogs_dir()
    persona = next(pf for pf in load_personas(dialogs) if pf.persona.id == "wrong_item_first_time")
    s = Session(ENGINE, persona, load_rubric(dialogs), 1)
    s.say("您好，请问是王阿姨吗？我是山野茶铺的售后客服小李。")
    s.say("您上周买的红枣枸杞茶，实在抱歉，给您添麻烦了。")
    tip = [e["tip"] for e in s.events if e["type"] == "coach"][-1]
    assert "道歉" not in tip and "原因" in tip, tip


def test_a_cause_the_labels_lack_in_sorry_names_stops_the_load(tmp_path: Path) -> None:
    dialogs = tmp_path / "dialogs"
    shutil.copytree(dialogs_dir(), dialogs)
    spec = load_yaml_text((dialogs / "script.yaml").read_text(encoding="utf-8"))
    spec["sorry_names"] = {"wrong_colour": "发错颜色"}
    (dialogs / "script.yaml").write_text(dump_yaml(spec), encoding="utf-8")
    with pytest.raises(DataProblems, match="wrong_colour"):
        Engine.load(dialogs)
