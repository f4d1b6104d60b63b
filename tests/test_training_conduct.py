"""A scorecard a lead can trust on conduct (politeness, wasted turns, arguing with a refusal):
scripted trainees through the real trainer, the total and its Chinese explanation checked."""

from __future__ import annotations

import shutil
from pathlib import Path

from bot.engine import Engine
from bot.paths import dialogs_dir
from bot.training.grader import Scorecard
from bot.training.session import Session
from bot.training.testing import Dialog
from bot.training.transcript import computation_lines, render_markdown
from tests.shared import dump_yaml, load_yaml_text, play

TRAINEES = Path(__file__).parent / "data" / "trainees"

# The reported session: all seven steps done, but the second reply moved nothing (the buyer had
# to ask "請問有什麼事？" and lost patience) and the buyer is called 你 throughout.
CASUAL = [
    "林先生您好，我是暖暖生活馆的售后客服小周，请问是林志明先生吗？",
    # (the reported line was "是的，就是那个保温杯，你说说怎么回事": naming the cup, it reads as
    # confirming the product or not as 你 or 您 tips the model; these tests are about 你 and 您)
    "好的，你说说怎么回事",
    "你9月20日在我们店买的那个500毫升不锈钢保温杯，还记得吗？",
    "实在抱歉，保温杯不保温，让你失望了。能具体说说大概多久就凉了吗？",
    "每天带去公司却喝不上热茶，换谁都会觉得白买了，很理解你的心情。",
    "我们查了这一批次，杯身抽真空的工序没做到位，已经反馈给工厂整批返工，质检也加了一道保温测试。",
    "给你两个选择：给你换一个新的，发货前先做保温测试，运费我们承担；或者退货退款，运费也是我们出。你看哪个方便？",
    "好的，新杯子明天就给你发出。再次向你道歉，谢谢你的耐心，祝你生活愉快，有问题随时找我们。",
]


def _lines(name: str) -> list[str]:
    return [ln for ln in (TRAINEES / name).read_text(encoding="utf-8").splitlines() if ln.strip()]


_play = play


def _lines_of(s: Session, card: Scorecard) -> list[str]:
    return computation_lines(card.model_dump(mode="json"), s.rubric_file.rubric.labels)


def test_the_reported_session_no_longer_scores_100(engine: Engine) -> None:
    s = _play(engine, "traditional_chinese_buyer", CASUAL)
    card = s.scorecard
    assert card is not None and card.outcome.resolved
    # every step was done: the stages are full; the points come off for conduct, turn by turn
    assert card.computation is not None and card.computation.percent == 100
    assert [(d.turn, d.code, d.points) for d in card.computation.deductions] == [
        (2, "informal_you", 3), (2, "wasted_turn", 5), (3, "informal_you", 3),
        (4, "informal_you", 3), (5, "informal_you", 0), (7, "informal_you", 0),
        (8, "informal_you", 0)]
    assert card.total == 86 and card.passed
    lines = _lines_of(s, card)
    assert "第 2 轮 这一句没有推进，买家只好再问或离开：扣 5 分" in lines
    assert "第 2 轮 称呼买家用了“你”：扣 3 分" in lines
    assert "第 5、7、8 轮 称呼买家用了“你”：不扣分（这类问题最多扣 9 分，已扣满）" in lines
    assert lines[-1] == "总分 86 分"
    wasted = next(v for v in card.violations if v.code == "wasted_turn")
    assert wasted.turn == 2 and "买家只好再问一遍，耐心少了一格" in wasted.message
    you = next(v for v in card.violations if v.code == "informal_you")
    assert "请用“您”或“亲”" in you.message
    assert any("不要用“你”" in tip for tip in card.tips) and any("没有推进" in tip for tip in card.tips)
    # the saved transcript names every turn of the habit on one line
    md = render_markdown(s.events, s.rubric_file.rubric.labels)
    assert "- 第 2、3、4、5、7、8 轮 称呼买家用了“你”：" in md
    assert "- 第 2 轮 这一句没有推进，买家只好再问或离开：" in md


def test_the_same_session_with_nin_only_loses_the_wasted_turn(engine: Engine) -> None:
    polite = [ln.replace("你", "您") for ln in CASUAL]
    card = _play(engine, "traditional_chinese_buyer", polite).scorecard
    assert card is not None
    assert [(d.turn, d.code) for d in card.computation.deductions] == [(2, "wasted_turn")]  # type: ignore[union-attr]
    assert card.total == 95
    good = _play(engine, "traditional_chinese_buyer", _lines("traditional_chinese_buyer.good.txt"))
    assert good.scorecard is not None and good.scorecard.total == 100


def test_nimen_and_mini_are_not_calling_the_buyer_ni(engine: Engine) -> None:
    d = Dialog("size_not_fit_first_time", 3, engine=engine)
    d.say("陈静您好，我是跃动童鞋的售后客服小乐，请问是陈静本人吗？").expect_no_violation()
    d.say("您11月6日在我们店给孩子买的那双网面运动鞋，32码的，还记得吗？你们家宝宝穿着还合脚吗？") \
        .expect_no_violation()
    d = Dialog("traditional_chinese_buyer", engine=engine)
    d.say("亲，你好，我是暖暖生活馆的售后客服小周，请问是林志明先生吗？").expect_violation("informal_you")


def test_a_reply_that_does_something_is_no_wasted_turn_even_if_the_buyer_asks_again(
        engine: Engine) -> None:
    good = _lines("size_not_fit_first_time.good.txt")
    # "好的，33码明天就给您发出。" tells the buyer when the exchange ships: the buyer still waits for
    # the goodbye and asks "还有别的事吗？", but the reply did its work
    d = Dialog("size_not_fit_first_time", 3, engine=engine)
    for line in good[:6]:
        d.say(line)
    d.say("好的，33码明天就给您发出。").expect_buyer(event="press").expect_no_violation()
    # a bare "嗯" while the buyer waits for the apology moves nothing
    d = Dialog("keeps_review_experienced", engine=engine)
    d.say(_lines("keeps_review_experienced.good.txt")[0]).say(
        _lines("keeps_review_experienced.good.txt")[1])
    d.say("嗯").expect_buyer(event="press").expect_violation("wasted_turn")


def test_arguing_with_a_refusal_costs_more_than_asking_twice(engine: Engine) -> None:
    good = _lines("keeps_review_experienced.good.txt")
    argue = [*good[:7], "那您看看评价还能不能再考虑一下呢，真的麻烦您了。", good[7]]
    s = _play(engine, "keeps_review_experienced", argue)
    card = s.scorecard
    assert card is not None and card.outcome.review_request == "declined"
    assert [(d.turn, d.code, d.points) for d in card.computation.deductions] == [  # type: ignore[union-attr]
        (8, "repeat_request", 10), (8, "pushes_after_refusal", 10)]
    assert card.total == 76  # 73/76 of the stages (asked twice) = 96, less 20
    assert "第 8 轮 买家拒绝改评后还在劝：扣 10 分" in _lines_of(s, card)
    pushed = next(v for v in card.violations if v.code == "pushes_after_refusal")
    assert "买家已经说了不改评价，还接着劝：这就是施压" in pushed.message
    # the guard reads the same arguing as pressure (再考虑考虑 and the review's weight for the shop):
    # one fault, it costs once
    argue[7] = "那您再考虑考虑吧，评价对我们小店真的很重要。"
    card = _play(engine, "keeps_review_experienced", argue).scorecard
    assert card is not None
    assert [(d.turn, d.code, d.points) for d in card.computation.deductions] == [  # type: ignore[union-attr]
        (8, "pressure", 10), (8, "repeat_request", 10)]
    assert card.total == 76


def test_a_second_request_after_the_fix_is_not_an_early_one(engine: Engine) -> None:
    good = _lines("size_not_fit_first_time.good.txt")
    twice = [*good[:7], "评价的事您再考虑考虑，改一下对我们小店真的很重要。", good[7]]
    card = _play(engine, "size_not_fit_first_time", twice, seed=3).scorecard
    assert card is not None
    checks = {c.id: c.passed for c in card.checks}
    # asking twice costs the "once" item and the repeat; it was after the fix all the same
    assert not checks["asked_once"] and checks["after_remedy"] and checks["their_choice"]
    assert [d.code for d in card.computation.deductions] == ["repeat_request"]  # type: ignore[union-attr]
    assert card.total == 86


def test_the_limit_on_a_habit_is_data(engine: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "dialogs"
    shutil.copytree(dialogs_dir(), folder)
    path = folder / "rubric.yaml"
    data = load_yaml_text(path.read_text(encoding="utf-8"))
    data["violations"]["informal_you"]["max_points"] = None  # every reply with 你 costs 3
    path.write_text(dump_yaml(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    card = _play(engine, "traditional_chinese_buyer", CASUAL, dialogs=folder).scorecard
    assert card is not None and card.total == 100 - 6 * 3 - 5


def test_turning_on_the_buyer_costs_points_where_no_wording_rule_caught_it(engine: Engine) -> None:
    good = _lines("size_not_fit_first_time.good.txt")
    d = Dialog("size_not_fit_first_time", 3, engine=engine)
    for line in good[:3]:
        d.say(line)
    # read as blame_buyer by the engine, though no guard rule names it: same cost as blame
    d.say("您烦不烦啊，不就一双鞋").expect_acts("blame_buyer").expect_violation("blame")
    card = d.finish()
    blame = next(v for v in card.violations if v.code == "blame")
    assert blame.turn == 4 and "冲着买家去了" in blame.message
    assert [(x.turn, x.code, x.points) for x in card.computation.deductions] == [(4, "blame", 8)]  # type: ignore[union-attr]


def test_an_explanation_in_the_same_message_as_the_apology_earns_the_explanation(engine: Engine) -> None:
    """Apologising and giving the reason in one message ("抱歉，…是仓库拣货拿错了") moves the talk
    past 解释原因 at once; the explanation was given, in the right order, and counts."""
    s = _play(engine, "wrong_item_first_time", [
        "王秀兰阿姨您好，我是山野茶铺的售后客服小林，请问是王秀兰阿姨吗？",
        "您11月7日在我们店买的红枣枸杞茶，收到了吧？",
        "真的非常抱歉，给您发错成菊花茶了，是我们仓库拣货的同事拿错了，已经加了一道复核。",
    ])
    card = s.scorecard
    assert card is not None
    explained = next(c for c in card.checks if c.id == "explained")
    assert explained.passed, explained


GIFT = "好的，33码明天就给您发出。您要是把评价改成好评，我们再送您一张20元优惠券。"


def test_a_request_tied_to_a_gift_costs_once_in_the_rule_it_broke(engine: Engine) -> None:
    """Blocked, the line was never sent: it is the bribe (40 points, fails), not also a request
    out of turn. Alone it leaves "在问题解决之后才提评价" unearned but no fault; a clean request
    after it, once the fix is chosen, earns it."""
    good = _lines("size_not_fit_first_time.good.txt")
    s = _play(engine, "size_not_fit_first_time", [*good[:6], GIFT, good[7]], seed=3)
    card = s.scorecard
    assert card is not None and not card.passed
    assert [(d.turn, d.code, d.points) for d in card.computation.deductions] == [  # type: ignore[union-attr]
        (7, "conditional_benefit", 40)]
    timing = next(c for c in card.checks if c.id == "after_remedy")
    assert not timing.passed and not timing.reached
    md = render_markdown(s.events, s.rubric_file.rubric.labels)
    assert "- ○ 礼貌请求：在问题解决之后才提评价（3 分）：没有可以算分的回复，不得分，但不算做错" in md
    assert "✗ 礼貌请求：在问题解决之后才提评价" not in md
    assert not any("评价要等买家选好方案" in tip for tip in card.tips)  # the request was not early
    card = _play(engine, "size_not_fit_first_time", [*good[:6], GIFT, good[6], good[7]], seed=3).scorecard
    assert card is not None
    checks = {c.id: c.passed for c in card.checks}
    assert checks["after_remedy"] and checks["their_choice"] and not checks["asked_once"]
    assert [d.code for d in card.computation.deductions] == ["conditional_benefit", "repeat_request"]  # type: ignore[union-attr]


def test_the_cap_on_a_failed_session_is_said_only_where_it_takes_points_off(engine: Engine) -> None:
    good = _lines("size_not_fit_first_time.good.txt")
    s = _play(engine, "size_not_fit_first_time", [*good[:6], GIFT, good[7]], seed=3)
    assert s.scorecard is not None
    lines = _lines_of(s, s.scorecard)
    assert lines[-3:] == ["扣分后 48 分（最低 0 分）", "有判不通过的问题，总分最多记 30 分", "总分 30 分"]
    # bribed while the buyer still tells the problem, and blamed: nothing is left to cap
    s = _play(engine, "size_not_fit_first_time", [
        *good[:2], "您自己不看尺码表，怪谁呢？", "那给您换33码吧，换好了您把评价改一下。"], seed=3)
    card = s.scorecard
    assert card is not None and card.total == 0 and not card.passed
    lines = _lines_of(s, card)
    assert lines[-2:] == ["扣分后 0 分（最低 0 分）", "总分 0 分"], lines
    assert not any("总分最多记" in line for line in lines)
    assert "总分最多记" not in render_markdown(s.events, s.rubric_file.rubric.labels)


def test_a_scorecard_whose_only_request_was_blocked_scores_none_of_the_request_items(engine: Engine) -> None:
    """The only review request was tied to a coupon and blocked: nothing was sent to ask once or
    to say it is the buyer's choice. The three items of 礼貌请求 read ○ (no points, no fault), the
    tips say only the bribe, and 评价请求 says no request reached the buyer; a trainee who asked
    properly once earns all three; one who never asked is still ✗ on 只礼貌请求一次."""
    good = _lines("size_not_fit_first_time.good.txt")
    s = _play(engine, "size_not_fit_first_time", [*good[:6], GIFT, good[7]], seed=3)
    card = s.scorecard
    assert card is not None
    request = [c for c in card.checks if c.stage == "polite_request"]
    assert [(c.id, c.passed, c.reached) for c in request] == [
        ("asked_once", False, False), ("after_remedy", False, False), ("their_choice", False, False)]
    assert card.stages["polite_request"].score == 0 and card.stages["polite_request"].max == 9
    assert card.tips == ["绝对不能把好处和评价挂钩（“改好评就返现”“删评后发券”）：违反平台规则和《电子商务法》"
                         "第十七条，补偿必须与评价无关。"]
    assert card.outcome.review_request == "blocked" and card.outcome.review_asked
    md = render_markdown(s.events, s.rubric_file.rubric.labels)
    for label in ("只礼貌请求一次", "在问题解决之后才提评价", "说明改不改是买家的权利"):
        assert f"- ○ 礼貌请求：{label}（3 分）：没有可以算分的回复，不得分，但不算做错" in md, label
        assert f"✗ 礼貌请求：{label}" not in md
    assert "- 评价请求：请求被拦下了（发不出去），等于没有请求" in md
    assert "请求了，但买家没有答复" not in md
    assert card.total == 30 and not card.passed  # the bribe fails the session, once

    s = _play(engine, "size_not_fit_first_time", good, seed=3)
    card = s.scorecard
    assert card is not None and card.total == 100 and card.passed
    md = render_markdown(s.events, s.rubric_file.rubric.labels)
    for label in ("只礼貌请求一次", "在问题解决之后才提评价", "说明改不改是买家的权利"):
        assert f"- ✓ 礼貌请求：{label}（3 分）" in md, label
    assert "- 评价请求：买家同意更新评价" in md

    card = _play(engine, "size_not_fit_first_time", [*good[:6], good[7]], seed=3).scorecard
    assert card is not None and card.outcome.review_request == "not_asked"
    asked = next(c for c in card.checks if c.id == "asked_once")
    assert not asked.passed and asked.reached  # never asked: ✗, with its tip
    assert "问题解决、买家情绪好转后，礼貌地问一次是否愿意更新评价；只问一次。" in card.tips
