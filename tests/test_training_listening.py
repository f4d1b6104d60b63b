"""A buyer who answers what the trainee just said, and a scorecard that scores what was done:
the real trainer (engine, simulated buyer, grader) driven by scripted trainees, the buyer's
Chinese lines and the scorecard checked."""

from __future__ import annotations

import re
from pathlib import Path

import opencc
import pytest

from bot.engine import Engine
from bot.paths import dialogs_dir
from bot.training.grader import Scorecard
from bot.training.persona import Band, Persona, load_personas
from bot.training.rubric import load_rubric
from bot.training.session import Session, run_scripted
from bot.training.transcript import computation_lines, outcome_line

DIALOGS = dialogs_dir()
PERSONAS = {pf.persona.id: pf for pf in load_personas(DIALOGS)}
RUBRIC = load_rubric(DIALOGS)
TRAINEES = Path(__file__).parent / "data" / "trainees"
ASKS_WHO = re.compile("哪位|你是|哪里")
RECALLS = re.compile("^(当然)?(记得|記得|有印象)")


def _session(engine: Engine, persona: str, seed: int = 1) -> Session:
    return Session(engine, PERSONAS[persona], RUBRIC, seed)


def _buyer_lines(s: Session) -> list[str]:
    return [e["text"] for e in s.events if e["type"] == "buyer"]


def _call(p: Persona) -> str:
    return p.case.buyer_name + p.case.honorific


def _date(p: Persona) -> str:
    d = p.case.order_date
    assert d is not None
    return f"{d.month}月{d.day}日"


def _check(card: Scorecard, check: str) -> bool:
    return next(c.passed for c in card.checks if c.id == check)


@pytest.mark.parametrize("persona", list(PERSONAS))
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_an_agent_who_introduced_themselves_is_not_asked_who_they_are(
        engine: Engine, persona: str, seed: int) -> None:
    # The reported bug: "是我，你是哪位呀？" right after "我是山野茶铺的售后客服小李".
    p = PERSONAS[persona].persona
    s = _session(engine, persona, seed)
    s.say(f"{_call(p)}您好，我是{p.case.shop}的售后客服小李，请问是{_call(p)}吗？")
    said = _buyer_lines(s)[-1]
    assert not ASKS_WHO.search(said), said
    # ... while a greeting that names the buyer but not the caller gets the question
    s = _session(engine, persona, seed)
    s.say(f"{_call(p)}您好，请问是{_call(p)}吗？")
    said = _buyer_lines(s)[-1]
    assert ASKS_WHO.search(said) and re.search("是我|我是", said), said


def test_a_bare_zaima_leaves_the_buyer_waiting_to_be_named(engine: Engine) -> None:
    # "在吗？" names nobody: the buyer asks who is there (no "是的。" to a question not asked),
    # and the greeting that follows is the identity check, answered without losing patience.
    s = _session(engine, "size_not_fit_first_time")
    first = s.say("在吗？")
    assert first.reply.text == "你是哪位？" and first.reply.patience == 4
    second = s.say("您好，我是跃动童鞋的售后客服小乐，请问是陈静吗？")
    assert second.reply.text in ("是我，有什么事吗？", "嗯，是我。"), second.reply.text
    assert second.reply.event == "met" and second.reply.patience == 4
    third = s.say("您11月6日在我们店给孩子买的那双网面运动鞋，32码的，还记得吗？")
    assert third.reply.text.startswith("记得"), third.reply.text
    card = s.finish("quit")
    assert _check(card, "by_name") and _check(card, "product_confirmed")


@pytest.mark.parametrize("persona", [p for p in PERSONAS
                                     if any(i.id == "product" for i in PERSONAS[p].persona.agenda)])
def test_the_buyer_says_they_remember_only_when_asked(engine: Engine, persona: str) -> None:
    p = PERSONAS[persona].persona
    hello = f"{_call(p)}您好，我是{p.case.shop}的售后客服小李，请问是{_call(p)}吗？"
    told = _session(engine, persona)
    run_scripted(told, [hello, f"您{_date(p)}在我们店买的{p.case.product}，收到后有点问题是吧？"])
    said = _buyer_lines(told)[-1]
    assert not RECALLS.search(said), said
    asked = _session(engine, persona)
    run_scripted(asked, [hello, f"您{_date(p)}在我们店买的{p.case.product}，还记得吗？"])
    said = _buyer_lines(asked)[-1]
    assert RECALLS.search(said), said


AUNT = [
    "王阿姨您好，我是山野茶铺的售后客服小李，请问是王秀兰阿姨吗？",
    "您11月7日在我们店买的两盒红枣枸杞茶，还记得吗？",
    "真是对不起阿姨，给您发错了，让您白高兴一场。您收到的时候是什么情况呀？",
    "是仓库打包的时候拣错了货，两款茶包装很像，我们已经加了一道核对，每单发货前拍照检查。",
    "给您两个选择：马上给您补发两盒红枣枸杞茶，菊花茶不用寄回；或者直接给您全额退款。您看哪个合适？",
    "好的阿姨，红枣枸杞茶明天就给您发出，三天左右能到。另外想问一下，如果您觉得这次处理还满意，"
    "愿意考虑更新一下评价吗？改不改都由您决定。",
]
BYE = "谢谢阿姨！再次为发错货向您道歉，祝您和叔叔身体健康，欢迎常来。"
GUIDE = "很简单：打开淘宝点“我的”，进“评价管理”找到这单，点进去就能改，30天内可以改一次。"


def test_the_aunt_who_asks_how_to_change_the_review_is_not_left_hanging(engine: Engine) -> None:
    # She agrees and asks "评价怎么改啊？"; the trainee says goodbye: she says she was not
    # shown, and the scorecard says why points were lost (it gave 100 before).
    s = _session(engine, "wrong_item_first_time", 2)
    card = run_scripted(s, [*AUNT, BYE])
    lines = _buyer_lines(s)
    assert "评价怎么改" in lines[-2]
    assert "还没教我" in lines[-1]
    assert [(v.turn, v.code) for v in card.violations] == [(7, "left_waiting")]
    assert "买家还在等你答复" in card.violations[0].message
    assert card.computation is not None and card.computation.percent == 100
    assert card.total == 92 and card.passed
    assert "评价怎么改" in card.tips[0]
    tip = next(e["tip"] for e in s.events if e["type"] == "coach" and e["turn"] == 7)
    assert "买家还有事在等你答复" in tip
    # the tip after her yes already pointed at it
    tip6 = next(e["tip"] for e in s.events if e["type"] == "coach" and e["turn"] == 6)
    assert tip6.startswith("买家答应改评了：把怎么改一步步讲清楚（手机淘宝「我的」→「评价」")


def test_the_next_step_follows_the_buyers_answer_not_only_the_stage(engine: Engine) -> None:
    # After the remedy the stage is 致谢结束 whatever the buyer said; a declined request gets
    # "尊重这个决定", and a buyer whose review cannot change hears nothing about the review.
    good = [ln for ln in (TRAINEES / "keeps_review_experienced.good.txt").read_text(
        encoding="utf-8").splitlines() if ln.strip()]
    s = _session(engine, "keeps_review_experienced", 6)
    run_scripted(s, good[:7])
    tip = next(e["tip"] for e in s.events if e["type"] == "coach" and e["turn"] == 7)
    assert tip.startswith("买家不改评价：尊重这个决定"), tip
    old = [ln for ln in (TRAINEES / "traditional_chinese_buyer.good.txt").read_text(
        encoding="utf-8").splitlines() if ln.strip()]
    s = _session(engine, "traditional_chinese_buyer", 3)
    run_scripted(s, old[:6])
    tip = next(e["tip"] for e in s.events if e["type"] == "coach" and e["turn"] == 6)
    assert tip == "再道个歉、谢谢买家，欢迎下次再来，礼貌道别。", tip


def test_the_aunt_shown_how_says_goodbye_happily(engine: Engine) -> None:
    s = _session(engine, "wrong_item_first_time", 2)
    card = run_scripted(s, [*AUNT, GUIDE, BYE])
    lines = _buyer_lines(s)
    assert re.search("记下了|记住了", lines[-2]), lines
    assert "谢谢你啊" in lines[-1] and "还没教" not in lines[-1]
    assert card.violations == [] and card.total == 100


def test_a_buyer_who_refuses_is_not_waiting_to_be_shown(engine: Engine) -> None:
    # the how-to is waited for only after a yes: the aunt blamed at first stays cool and says
    # no; thanking her and saying goodbye leaves no question open
    s = _session(engine, "wrong_item_first_time", 2)
    card = run_scripted(s, [
        AUNT[0], AUNT[1], "是不是您自己下单的时候点错了？",
        "对不起阿姨，是我们仓库拣错了货，已经加了一道核对。", AUNT[4],
        "好的，明天就给您发出。另外想问一下，您愿意考虑更新一下评价吗？改不改都由您决定。",
        "好的，谢谢阿姨，再见。"])
    lines = _buyer_lines(s)
    assert "不改" in lines[-2] and lines[-1] == "行，再见吧。", lines
    assert card.outcome.review_request == "declined"
    assert [v.code for v in card.violations] == ["blame"]


def test_ending_the_chat_before_the_buyer_has_an_answer_costs_points(engine: Engine) -> None:
    # The aunt still waits for an apology ("连句对不起都不说吗？") when the trainee says goodbye.
    # (The trainee says who they are: an opener without it leaves her asking "你是哪位呀？" until
    # answered - test_training_play2 - and this test is about the apology.)
    s = _session(engine, "wrong_item_first_time", 2)
    card = run_scripted(s, [
        AUNT[0], AUNT[1], "是仓库发错了，给您补发两盒红枣枸杞茶吧。",
        "那您愿意改一下评价吗？改不改都由您决定。", "好的，谢谢阿姨，再见。"])
    lines = _buyer_lines(s)
    # she says she was not done (the common `unanswered` line), not a plain "嗯，再见。"
    assert "连句对不起都不说吗" in lines[2] and "还没解决" in lines[-1], lines
    assert [(v.turn, v.code) for v in card.violations] == [(4, "early_request"), (5, "left_waiting")]
    tip = next(e["tip"] for e in s.events if e["type"] == "coach" and e["turn"] == 5)
    assert tip.startswith("买家还有事在等你答复")
    assert card.outcome.ending == "closed" and not card.outcome.resolved


def test_an_apology_that_blames_the_buyer_earns_no_credit_for_warmth(engine: Engine) -> None:
    start = ["陈静您好，我是跃动童鞋的售后客服小乐，请问是陈静本人吗？",
             "您11月6日在我们店给孩子买的那双网面运动鞋，32码的，还记得吗？"]
    s = _session(engine, "size_not_fit_first_time", 3)
    blamed = run_scripted(s, [*start, "抱歉哈，页面上写得很清楚偏小，是您自己没看尺码表。"])
    assert _buyer_lines(s)[-1] in ("怎么还怪到我头上了？", "你这是怪我不会看尺码表咯？我又不是天天网购。")
    assert not _check(blamed, "apologized")
    assert any("听完问题先真诚道歉" in t for t in blamed.tips), blamed.tips
    s = _session(engine, "size_not_fit_first_time", 3)
    sorry = run_scripted(s, [*start, "真不好意思，让孩子穿着受罪了。"])
    assert _check(sorry, "apologized")
    assert blamed.stages["listen_apologize"].score < sorry.stages["listen_apologize"].score


def test_pushing_a_busy_buyer_is_not_a_courteous_close(engine: Engine) -> None:
    # "真的很快的…不然我这个月要被扣钱了" reads as understanding; with the pressure and the
    # guilt in it, it earned "礼貌地结束这次联系" (2 of the 11 callback points) before.
    s = _session(engine, "busy_office_worker", 3)
    card = run_scripted(s, [
        "周女士您好，我是柚子家女装的售后客服小敏，请问是周敏女士吗？",
        "您11月8日在我们店买的那条湖蓝色碎花连衣裙，还记得吗？",
        "真的很快的，您现在就把评价改一下吧，不然我这个月要被扣钱了。"])
    assert {"pressure", "guilt_trip"} <= {v.code for v in card.violations}
    assert not _check(card, "courteous")
    assert card.stages["callback"].score == 0


def test_a_step_never_reached_gives_no_tip_about_a_fault_never_made(engine: Engine) -> None:
    # Quitting after the product: "不要把问题推给买家" was a top tip, to someone who blamed nobody.
    s = _session(engine, "size_not_fit_first_time", 3)
    card = run_scripted(s, ["陈静您好，我是跃动童鞋的售后客服小乐，请问是陈静本人吗？",
                            "您11月6日在我们店给孩子买的那双网面运动鞋，32码的，还记得吗？"])
    assert not _check(card, "no_blame")  # not earned: the talk never got to the explanation
    assert not any("推给买家" in t for t in card.tips), card.tips
    assert any("道歉" in t for t in card.tips), card.tips


def test_saying_zaima_again_to_who_are_you_is_pressed_and_keeps_the_flow(engine: Engine) -> None:
    # "在吗？" -> "你是哪位呀？" costs nothing; "在吗在吗？看到回一下" answers nothing: the buyer asks
    # again and loses patience, and the script machine stays at the identity check (the follow-up
    # line read as a complaint moved it on to 倾听致歉, and the tip said "让买家把问题说完").
    s = _session(engine, "slow_delivery_first_time", 5)
    first = s.say("在吗？")
    assert first.reply.text == "你是哪位呀？" and first.reply.patience == 4
    again = s.say("在吗在吗？看到回一下")
    assert again.reply.event == "press" and again.reply.patience == 3
    assert ASKS_WHO.search(again.reply.text), again.reply.text
    assert s.conv.stage == "confirm_identity"
    # the buyer asked who is calling: the tip says so (rubric pressed_steps.identity)
    assert again.tip == ("买家在问你是谁：说清你是哪家店的售后客服、怎么称呼；"
                         "如果还没叫出买家的名字，也问一句是不是本人（“请问是林晓吗？”）。")


def test_asking_again_in_other_words_is_a_question_to_the_engine(engine: Engine) -> None:
    # The common follow-up lines are said instead of a repeat; each mood has one the engine reads
    # as a question, so the buyer asking again never reads as the buyer telling the problem.
    bands: tuple[Band, ...] = ("calm", "upset", "angry")
    for persona in PERSONAS.values():
        utt = persona.persona.follow_up
        assert utt is not None and utt.intent == "ask", persona.persona.id
        for band in bands:
            read = [engine.understand.buyer(ln).intent for ln in utt.lines(band)]
            assert "ask" in read, (persona.persona.id, band, utt.lines(band), read)


def _traditional(line: str) -> bool:
    """No simplified character with a traditional form left (s2t changes nothing)."""
    return bool(opencc.OpenCC("s2t").convert(line) == line)


def test_the_taiwanese_buyer_keeps_writing_traditional_characters(engine: Engine) -> None:
    # Corrected, pressed and asked after his health, he answered in simplified characters (the
    # common lines of _common.yaml): "对，是我。不过我是林志明先生哦。", "你还没回答我的问题。".
    s = _session(engine, "traditional_chinese_buyer")
    run_scripted(s, [
        "林小姐您好，我是暖暖生活馆的售后客服小周，请问是林志明小姐吗？",
        "嗯", "嗯嗯",
        "您9月20日在我们店买的那个500毫升不锈钢保温杯，还记得吗？",
        "您身体还好吧？没烫着吧？", "好的"])
    lines = _buyer_lines(s)
    assert "林志明先生" in lines[0] and ("稱呼" in lines[0] or "別叫錯" in lines[0]), lines  # either correction
    assert lines[2] in ("能先回答我的問題嗎？", "能先回答我剛才的問題嗎？"), lines
    assert all(_traditional(ln) for ln in lines), lines


def test_a_correction_that_confirms_the_identity_is_not_confirmed_twice(engine: Engine) -> None:
    # "是我。我是林志明先生，稱呼可別弄錯。" already says it is him: a bare "嗯" next is no
    # greeting answered with a second "對，是我。"; it moved nothing and is told so.
    s = _session(engine, "traditional_chinese_buyer")
    s.say("林小姐您好，我是暖暖生活馆的售后客服小周，请问是林志明小姐吗？")
    ex = s.say("嗯")
    assert ex.reply.event == "press" and ex.reply.item == "product", ex.reply
    assert ex.reply.text == "請問有什麼事？"
    assert [v.code for v in ex.violations] == ["wasted_turn"]


def test_the_same_fault_twice_gets_a_sharper_answer_not_a_question(engine: Engine) -> None:
    # Asked twice more after she said no: the second objection was "能先回答我的问题吗？" (the
    # follow-up for a buyer waiting for an answer), though she had asked nothing.
    good = [ln for ln in (TRAINEES / "keeps_review_experienced.good.txt").read_text(
        encoding="utf-8").splitlines() if ln.strip()]
    s = _session(engine, "keeps_review_experienced", 6)
    card = run_scripted(s, [*good[:7], "您再考虑考虑嘛，这条差评挂着我们小店真的很难做。",
                            "那您看能不能至少改成中评？", "好吧，谢谢您，再见。"])
    lines = _buyer_lines(s)
    assert lines[-3] == "我刚才已经说得很清楚了，你还要再问吗？"
    assert lines[-2] == "同样的话你还要问几遍？"
    # the second push argues with the same no: it counts too (her line between answered the first)
    assert [(v.turn, v.code) for v in card.violations] == [
        (8, "repeat_request"), (8, "pushes_after_refusal"), (9, "repeat_request"), (9, "pushes_after_refusal")]


def test_asked_what_he_wants_the_bad_reviewer_does_not_answer_a_refusal(engine: Engine) -> None:
    # "那您想怎么处理呢？" got "不给是吧？…" as if the trainee had refused; only a refusal does now
    start = ["冯先生您好，我是蔓生美妆的售后客服小欣，请问是冯磊先生吗？",
             "您11月3日在我们店买的保湿面霜，还记得吗？",
             "不好意思，让您担心了。我们家的面霜都是品牌授权的正品。"]
    asked = _session(engine, "pro_bad_reviewer", 2)
    run_scripted(asked, [*start, "那您想怎么处理呢？"])
    said = _buyer_lines(asked)[-1]
    assert "三百" in said and "不给是吧" not in said, said
    refused = _session(engine, "pro_bad_reviewer", 1)
    run_scripted(refused, [*start, "抱歉，任何补偿都不会和评价挂钩，这个我们不能答应。"])
    assert _buyer_lines(refused)[-1] in (
        "不给是吧？行，差评我会一直挂着，你们看着办。", "不肯给是吧？那差评就一直挂着，我说到做到。")


BUSY = ["周女士您好，我是柚子家女装的售后客服小敏，请问是周敏女士吗？",
        "您11月8日在我们店买的那条湖蓝色碎花连衣裙，还记得吗？"]


def test_a_busy_buyer_asked_when_suits_her_names_a_time(engine: Engine) -> None:
    # "您什么时候方便呢？" is a fair question: she answers it (it was pressed as a wasted turn)
    s = _session(engine, "busy_office_worker", 2)
    card = run_scripted(s, [*BUSY, "好的，那您什么时候方便呢？", "好的，那今晚八点后联系您，可以吗？"])
    lines = _buyer_lines(s)
    assert lines[2] in ("晚上八点以后吧，现在真走不开。", "我这会儿在开会，八点以后都行，你到时候再联系我。")
    assert lines[3] == "行，八点以后我都在，先这样。"
    assert card.violations == [] and card.outcome.handled and card.passed


def test_a_busy_buyer_left_without_a_time_is_not_a_pass(engine: Engine) -> None:
    # Greeting and product alone made 75 points and 通过 for a buyer who gave up waiting.
    s = _session(engine, "busy_office_worker", 2)
    card = run_scripted(s, [*BUSY, "好的好的。", "那我晚点再联系您吧。"])
    assert card.outcome.ending == "buyer_gave_up" and not card.outcome.handled
    assert card.total >= card.pass_mark and not card.passed
    labels = RUBRIC.rubric.labels
    assert computation_lines(card.model_dump(mode="json"), labels)[-1] == \
        "不算通过：没有约好具体的回访时间。买家在忙的练习，约上时间才算通过"
    assert outcome_line(card.outcome.model_dump(), "callback", {}) == "问题解决：否（没有约好回访时间）"


def test_saying_goodbye_over_what_now_makes_the_buyer_say_so(engine: Engine) -> None:
    # "那现在怎么办？" answered with a goodbye: she said "好的，拜拜。" and the session passed (72).
    s = _session(engine, "size_not_fit_first_time", 3)
    card = run_scripted(s, [
        "陈静您好，我是跃动童鞋的售后客服小乐，请问是陈静本人吗？",
        "您11月6日在我们店给孩子买的那双网面运动鞋，32码的，还记得吗？",
        "真不好意思，让孩子穿着受罪了。能跟我说说这次哪里挤脚吗？",
        "孩子脚磨红了，当妈妈的肯定心疼，换谁都会着急。",
        "这款是按修身版型做的，比常规尺码小半码，之前页面上没标清楚，是我们的疏忽，尺码表已经加了提醒。",
        "您的意见我们记下了，以后一定改进。再次向您道歉，谢谢您的反馈，欢迎下次再来。"])
    lines = _buyer_lines(s)
    assert lines[-2].endswith("那现在怎么办？")
    assert lines[-1] == "啊？那鞋子的事到底怎么处理啊……算了，再见。"
    assert [v.code for v in card.violations] == ["left_waiting"]
    assert card.total == 64 and not card.passed


def test_an_offer_to_refund_a_little_is_an_offer_the_buyer_takes(engine: Engine) -> None:
    # "那给您退点钱吧，行吗？" names a partial refund; the buyer answered "那你们打算怎么处理？"
    # as if nothing had been offered (no remedy cue matched it).
    s = _session(engine, "slow_delivery_first_time", 1)
    card = run_scripted(s, [
        "林晓您好，我是悦途数码的售后客服小安，请问是林晓本人吗？",
        "您11月2日在我们店买的那副白色蓝牙耳机，还记得吗？",
        "实在抱歉，让您等了这么久，本来是送人的礼物，换谁都会着急。",
        "这次是合作的快递在中转站爆仓了，我们已经反馈给快递公司。",
        "那给您退点钱吧，行吗？"])
    said = _buyer_lines(s)[-1]
    assert re.search("退(一部分|一点|点)钱", said) and "留着用" in said, said
    assert card.outcome.remedy == "partial_refund"
