"""Flow rules that keep the development dialogs right when the model's reading of a line moves
(the batch-24 model read "20太少了吧 再多点 衣服一百多呢" as busy at 0.52, "是我 你们是不是想让我
改差评" as extortion at 0.64 and "改可以 再转我10块" as extortion at 0.78, under the firm mark).
Each reading is pinned, so the flow is tested apart from any model."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.engine import Engine
from bot.paths import dialogs_dir
from tests.dialog import Flow
from tests.shared import dump_yaml, load_yaml_text, model_read, shared_engine

ENGINE = shared_engine()
CASE = {"shop": "柚见女装", "buyer_name": "宋", "honorific": "女士", "product": "连衣裙"}
HELLO = "您好，请问是宋女士吗？这里是柚见女装的售后客服。"


def _told() -> Flow:
    return (Flow(ENGINE, CASE).agent(HELLO).buyer("是的")
            .agent("您买的那条雾霾蓝连衣裙，收到后穿了吗？")
            .buyer("穿了 颜色跟图片差太多 图上是蓝的 实物发灰").expect("listen_apologize")
            .agent("抱歉呀，满心期待的颜色到手不一样，太扫兴了。").expect("explain"))


def _offered() -> Flow:
    return (_told().agent("图是在棚里打光拍的，颜色偏亮了，我们已经重新拍了实物图。").expect("remedy")
            .agent("可以退货退款，或者您要是愿意留着，给您退部分差价，您看呢？")
            .buyer("留着吧 退多少钱？").expect("remedy")
            .agent("给您退20元可以吗？").expect("remedy"))


# -- a weak busy reading with no busy word holds no stage -----------------------------------------

@pytest.mark.parametrize(("text", "confidence", "stage"), [
    ("20太少了吧 再多点 衣服一百多呢", 0.52, "remedy"),
    ("现在就是觉得20有点少", 0.6, "remedy"),
    ("我在开会 晚点说", 0.52, "callback"),   # a busy word and the talk put off
    ("人在外面 不方便打字", 0.52, "callback"),  # a busy word
    ("20太少了吧 再多点 衣服一百多呢", 0.85, "callback"),  # read surely: busy
])
def test_a_weak_busy_reading_where_the_options_are_shown_needs_busy_words(
        text: str, confidence: float, stage: str) -> None:
    """Where the options are shown, as while the problem is told (script.yaml unsure_busy), a busy
    reading below the bar with no busy word, no time and no talk put off is the talk going on:
    the haggle stays at 提出补救 and is answered as one, not put off to 约定回访."""
    pinned = model_read(text, [("busy", confidence)], "busy", confidence)
    conv, sug = ENGINE.feed_understood(_offered().conv, pinned)
    assert conv.stage == stage
    if text.startswith("20太少了吧") and stage == "remedy":
        assert conv.context.amount == "more"
        assert any(w in s.text for s in sug.suggestions for w in ("争取", "申请")), sug.suggestions


def test_a_weak_busy_reading_while_the_cause_is_explained_is_no_callback() -> None:
    pinned = model_read("现在穿出去都不好意思", [("busy", 0.55)], "busy", 0.55)
    conv, _ = ENGINE.feed_understood(_told().conv, pinned)
    assert conv.stage == "explain"


def test_a_weak_busy_reading_before_any_problem_is_told_still_moves() -> None:
    """Before the buyer told a problem there is none to go on with: the evidence gate decides."""
    pinned = model_read("现在不太行", [("busy", 0.55)], "busy", 0.55)
    conv, _ = ENGINE.feed_understood(Flow(ENGINE, CASE).agent(HELLO).conv, pinned)
    assert conv.stage == "callback"


# -- a weak extortion reading needs a benefit for the review -------------------------------------

@pytest.mark.parametrize(("text", "confidence", "stage"), [
    ("是我 你们是不是想让我改差评", 0.64, "confirm_product"),
    ("是我 又是为了差评的事吧", 0.7, "confirm_product"),
    ("是我 给我50我就改", 0.64, "malicious"),      # a sum and the review done for it
    ("是我 差评想删？除非赔我", 0.64, "malicious"),  # a condition
    ("是我 你们是不是想让我改差评", 0.9, "malicious"),  # read surely: a clear demand
])
def test_a_weak_extortion_reading_needs_a_benefit_for_the_review(
        text: str, confidence: float, stage: str) -> None:
    """"是我 你们是不是想让我改差评" (extort at 0.64 beside a sure yes) asks whether the shop is after
    the review and names no money, benefit or condition: no 疑似恶意 (script.yaml
    weak_evidence_cues), the yes confirms who she is and the agent gets the "可能…" note."""
    pinned = model_read(text, [("affirm", 1.0), ("extort", confidence)], "extort", confidence)
    conv, sug = ENGINE.feed_understood(Flow(ENGINE, CASE).agent(HELLO).conv, pinned)
    assert conv.stage == stage
    if stage == "confirm_product":
        assert conv.context.identity_confirmed
        assert "maybe_extort" in [w.code for w in sug.warnings]


def test_a_weak_extortion_reading_without_a_benefit_is_no_second_demand() -> None:
    weak = model_read("改了评价你们给多少钱", [("extort", 0.7)], "extort", 0.7)
    conv, _ = ENGINE.feed_understood(_told().conv, weak)
    assert conv.stage == "malicious" and not conv.context.firm
    conv, _ = ENGINE.feed_understood(conv, model_read("你们就是想让我改差评", [("extort", 0.7)], "extort", 0.7))
    assert conv.stage == "malicious" and not conv.context.firm
    conv, _ = ENGINE.feed(conv, "buyer", "我要换一件")
    assert conv.stage != "malicious"  # the talk carried on normally


# -- money asked for the review keeps the hold ---------------------------------------------------

@pytest.mark.parametrize("confidence", [0.62, 0.78, 0.95])
def test_money_asked_for_the_review_is_a_firm_hold(confidence: float) -> None:
    """"改可以 再转我10块" to the request (extort at 0.78, under firm_extort): money asked for the
    review outright is a clear demand (design.md), so after the agent's refusal "那不改了" leaves
    the case at 疑似恶意 (no money, the chat kept, the complaint to file), not at 致谢结束."""
    asked = (_offered().buyer("行吧 20就20").expect("polite_request")
             .agent("好的，20元已经退回您的支付宝了。冒昧问一句，您觉得处理还行的话，方便改下评价吗？不改也没关系。"))
    pinned = model_read("改可以 再转我10块", [("extort", confidence)], "extort", confidence)
    conv, _ = ENGINE.feed_understood(asked.conv, pinned)
    assert conv.stage == "malicious" and conv.context.firm
    conv, _ = ENGINE.feed(conv, "agent", "抱歉，我们不能用钱换评价。衣服有问题的话，退差价照样给您办。")
    conv, _ = ENGINE.feed_understood(conv, model_read("那不改了", [("refuse_review", 1.0)], "refuse_review", 1.0))
    assert conv.stage == "malicious"


# -- the mark is data (script.yaml weak_evidence_cues) ------------------------------------------

def test_the_weak_extortion_mark_is_read_from_script_yaml(tmp_path: Path) -> None:
    folder = tmp_path / "dialogs"
    shutil.copytree(dialogs_dir(), folder)
    path = folder / "script.yaml"
    data = load_yaml_text(path.read_text(encoding="utf-8"))
    assert data["weak_evidence_cues"] == {"extort": {"cue": "benefit", "below": 0.8}}  # shipped
    data["weak_evidence_cues"] = {"extort": {"cue": "benefit", "below": 0.6}}
    path.write_text(dump_yaml(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    shop = Engine.load(folder)
    pinned = model_read("是我 你们是不是想让我改差评", [("affirm", 1.0), ("extort", 0.64)], "extort", 0.64)
    conv, _ = shop.feed_understood(Flow(shop, CASE).agent(HELLO).conv, pinned)
    assert conv.stage == "malicious"  # over the shop's lower mark: the reading alone jumps
