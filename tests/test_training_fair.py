"""A fair trainer (issue 20): a buyer who listens, a score a trainee can read and trust."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from bot.engine import Engine
from bot.training.persona import find_persona
from bot.training.rubric import load_rubric
from bot.training.session import Session, run_scripted
from bot.training.testing import Dialog
from bot.training.transcript import render_markdown

TRAINEES = Path(__file__).parent / "data" / "trainees"


def replies(name: str) -> list[str]:
    return [ln for ln in (TRAINEES / name).read_text(encoding="utf-8").splitlines() if ln.strip()]


def session(engine: Engine, persona: str, seed: int = 1) -> Session:
    return Session(engine, find_persona(engine.dialogs, persona), load_rubric(engine.dialogs), seed)


# -- identity: by name, with the right gender --------------------------------------------------

def test_a_bare_greeting_does_not_confirm_identity(engine: Engine) -> None:
    good = replies("traditional_chinese_buyer.good.txt")
    card = run_scripted(session(engine, "traditional_chinese_buyer"), ["在吗", *good[1:]])
    checks = {c.id: c.passed for c in card.checks}
    # a greeting that asks nobody whether it is them confirms no identity at all (it once earned
    # 第一句先确认买家身份): neither check is met
    assert not checks["identity_first"] and not checks["by_name"]
    full = run_scripted(session(engine, "traditional_chinese_buyer"), good)
    assert full.stages["confirm_identity"].score == full.stages["confirm_identity"].max
    assert card.stages["confirm_identity"].score < full.stages["confirm_identity"].score


@pytest.mark.parametrize("first", [
    "您好，请问是这边定做遮光窗帘的买家吗？我是店里的售后客服，想了解一下窗帘颜色的问题。",
    "您好，请问您是在栖木家居买过遮光窗帘的顾客吗？"])
def test_asking_for_the_buyer_by_what_they_bought_confirms_identity(engine: Engine, first: str) -> None:
    """"请问是这边定做遮光窗帘的买家吗" asks whether it is the buyer (no name): 第一句先确认买家身份
    is met, only 用名字确认 is not (the tip the trainee got was to do what they had done)."""
    good = replies("keeps_review_experienced.good.txt")
    card = run_scripted(session(engine, "keeps_review_experienced"), [first, *good[1:]])
    checks = {c.id: c.passed for c in card.checks}
    assert checks["identity_first"] and not checks["by_name"], checks


def test_the_wrong_gender_costs_points_and_the_buyer_says_so(engine: Engine) -> None:
    d = Dialog("traditional_chinese_buyer", engine=engine)
    d.say("林小姐您好，我是暖暖生活馆的售后客服小周，请问是林志明吗？") \
        .expect_violation("wrong_honorific").expect_buyer_contains("林志明先生").expect_going() \
        .expect_stage("confirm_product")  # the buyer confirms, and sets the name right
    # (A model may read "是我。我是林志明先生，称呼可别弄错。" as a sure yes and a weak complaint,
    # complain primary at 0.33: the weak reading does not move the stage, script.yaml weak_primary.)
    card = d.finish()
    assert any(x.code == "wrong_honorific" and x.points > 0
               for x in card.computation.deductions)  # type: ignore[union-attr]


def test_another_surname_is_a_wrong_name(engine: Engine) -> None:
    Dialog("traditional_chinese_buyer", engine=engine) \
        .say("您好，请问是王先生吗？").expect_violation("wrong_name")


def test_the_buyer_sets_a_wrong_name_right_in_plain_chinese(engine: Engine) -> None:
    # One of the lines was "是我。另外我是林志明先生，别叫错了。": 另外 adds a second topic, not a correction.
    lines = set()
    for seed in range(1, 7):
        d = Dialog("traditional_chinese_buyer", seed, engine=engine).say("您好，请问是王先生吗？")
        d.expect_buyer_contains("林志明先生").expect_stage("confirm_product")
        assert d.last is not None
        lines.add(d.last.reply.text)
    assert len(lines) > 1 and not any("另外" in line for line in lines), lines


# -- block findings earn nothing -----------------------------------------------------------------

def test_a_benefit_tied_to_the_review_earns_nothing_and_fails_every_time(engine: Engine) -> None:
    good = replies("size_not_fit_first_time.good.txt")
    tied = [*good[:5],
            "给您两个选择：换成33码或者退货退款，运费我们出；您改个好评的话再返您10元红包。您看哪个方便？",
            "好的，33码明天就给您发出。如果您满意，麻烦把评价改成好评，改了就把红包发您。",
            good[-1]]
    for seed in (1, 2, 3):
        card = run_scripted(session(engine, "size_not_fit_first_time", seed), tied)
        assert not card.passed, seed
        checks = {c.id: c.passed for c in card.checks}
        assert not checks["offered"] and not checks["options"], checks
        assert not checks.get("asked_once", False), "a tied request is never a clean request"
        assert card.computation is not None and card.computation.cap is not None


# -- the buyer listens -----------------------------------------------------------------------------

def test_the_buyer_never_says_the_same_line_twice_in_a_row(engine: Engine) -> None:
    s = session(engine, "slow_delivery_first_time")
    said = []
    for text in ["林晓您好，请问是林晓本人吗？", "您11月2日买的白色蓝牙耳机还记得吗？",
                 "嗯。", "好的。", "嗯嗯。"]:
        if s.done:
            break
        said.append(s.say(text).reply.text)
    assert all(a != b for a, b in itertools.pairwise(said)), said


def test_a_kind_question_softens_and_costs_no_patience(engine: Engine) -> None:
    s = session(engine, "wrong_item_first_time")
    s.say("王阿姨您好，我是店里的售后客服，请问是王秀兰阿姨吗？")
    before = s.buyer.patience
    x = s.say("叔叔胃不好，他没喝那个茶吧？身体还好吗？")
    assert x.reply.item is None and x.reply.event == "met", x.reply
    assert s.buyer.patience == before
    assert "谢" in x.reply.text


def test_an_action_in_general_is_no_offer_the_buyer_accepts(engine: Engine) -> None:
    good = replies("traditional_chinese_buyer.good.txt")
    s = session(engine, "traditional_chinese_buyer")
    for text in good[:5]:  # up to the explanation
        s.say(text)
    x = s.say("另外这批货已经全部下架返厂检查了。")
    assert s.buyer.chosen is None and x.reply.event != "met", x.reply
    y = s.say(good[5])  # the real offer, with two options
    assert s.buyer.chosen is not None and y.reply.event == "met"


def test_a_trainee_who_explains_in_their_own_words_passes(engine: Engine) -> None:
    good = replies("size_not_fit_first_time.good.txt")
    own = [*good[:4], "这款版型偏小，页面没标清楚，是我们的疏忽。", *good[5:]]
    card = run_scripted(session(engine, "size_not_fit_first_time"), own)
    assert card.passed and {c.id: c.passed for c in card.checks}["explained"], card.model_dump()


# -- the outcome and the score, readable --------------------------------------------------------

def test_the_last_stage_is_the_one_reached_and_nothing_is_solved(engine: Engine) -> None:
    s = session(engine, "slow_delivery_first_time")
    s.say("林晓您好，请问是林晓本人吗？")
    card = s.finish("quit")
    assert card.outcome.stage == "confirm_product" and not card.outcome.resolved


def test_the_scorecard_says_how_the_total_is_made(engine: Engine) -> None:
    s = session(engine, "size_not_fit_first_time")
    events: list[dict[str, object]] = []
    s.add_sink(events.append)
    card = run_scripted(s, ["您好", "给您退10元，您把差评删了吧。"])
    c = card.computation
    assert c is not None and c.total == card.total
    assert c.max > 0 and abs(c.percent - 100 * c.earned / c.max) <= 0.5
    assert c.after_deductions == max(0, c.percent - sum(d.points for d in c.deductions))
    labels = load_rubric(engine.dialogs).rubric.labels
    md = render_markdown(events, labels)
    assert f"各阶段得分合计 {c.earned} / {c.max}" in md and "把好处和评价挂钩" in md
    assert "conditional_benefit" not in md.split("## 评分")[1]  # Chinese names on screen
    public = json.loads(json.dumps(card.public()))
    assert public["computation"]["deductions"][0]["turn"] == 2


def test_no_spoilers_the_kind_is_told_in_the_scorecard(engine: Engine) -> None:
    s = session(engine, "pro_bad_reviewer")
    events: list[dict[str, object]] = []
    s.add_sink(events.append)
    s.say("冯先生您好，我是蔓生美妆的售后客服小欣，请问是冯磊先生吗？")
    labels = load_rubric(engine.dialogs).rubric.labels
    before = render_markdown(events, labels)
    assert "恶意" not in before
    card = s.finish("quit")
    assert card.kind == "malicious"
    assert "这位买家是：恶意买家" in render_markdown(events, labels)


def test_tips_quote_this_case_not_another_persona(engine: Engine) -> None:
    card = run_scripted(session(engine, "traditional_chinese_buyer"), ["在吗"])
    text = "".join(card.tips)
    assert "林晓" not in text and "白色蓝牙耳机" not in text
    assert "林志明先生" in text or "500毫升不锈钢保温杯" in text, card.tips


def test_offering_proof_and_a_return_to_an_extortionist_is_not_paying(engine: Engine) -> None:
    # "可以…退货退款" was read as agreeing to the 300 yuan: a block, and the buyer said "转过来我就删".
    d = Dialog("pro_bad_reviewer", engine=engine)
    for line in ("冯磊先生您好，我是蔓生美妆售后小欣", "您11月3日买的保湿面霜还记得吗",
                 "不好意思让您担心了，能说说哪里觉得不对吗"):
        d.say(line)
    d.expect_stage("malicious")
    d.say("我们是品牌授权店，可以把授权书和进货凭证发您看，不满意也可以退货退款")
    assert d.last is not None and "删" not in d.last.reply.text
    card = d.finish()
    assert card.outcome.ending != "paid"
    assert not any(v.code == "conditional_benefit" for v in card.violations)
