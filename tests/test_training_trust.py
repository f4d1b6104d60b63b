"""A scorecard and tips a trainee can trust, through the real trainer (engine, simulated buyer,
grader): the tip follows what the buyer said, a bare "在吗" confirms nobody, pushing the blame
onto the courier is no explanation, a wrong form of address is noticed, and the apology typos
real agents make still count."""

from __future__ import annotations

import re
from pathlib import Path

from bot.engine import Engine
from bot.training.session import Session
from tests.shared import play, violation_codes

_ZHAO = "赵建国先生您好，我是暖厨电器的售后客服小周，请问是赵建国先生吗？"
_LIN = "林晓您好，我是悦途数码的售后客服小周，请问是林晓本人吗？"


def _tips(s: Session) -> list[str]:
    return [e["tip"] for e in s.events if e["type"] == "coach"]


def _buyer(s: Session) -> list[str]:
    return [e["text"] for e in s.events if e["type"] == "buyer"]


def _passed(s: Session, check: str) -> bool:
    assert s.scorecard is not None
    return next(c.passed for c in s.scorecard.checks if c.id == check)


def test_the_first_tip_answers_the_buyers_who_are_you(engine: Engine) -> None:
    """After the curt "赵建国吗？暖厨电器的。" the buyer said "是我，你哪位？" and the tip said "说清
    这一单是哪天买的什么" (the script machine moved on on the 是我): the tip follows the buyer."""
    for seed in (1, 2, 3, 4):
        s = play(engine, "poor_quality_experienced", ["赵建国吗？暖厨电器的。"], seed=seed)
        assert "哪位" in _buyer(s)[0], _buyer(s)
        assert "哪天买的什么" not in _tips(s)[0] and "哪家店" in _tips(s)[0], _tips(s)
    # named and introduced, the buyer asks nothing back: the next step is the order
    s = play(engine, "poor_quality_experienced", [_ZHAO], seed=1)
    assert "哪位" not in _buyer(s)[0] and "哪天买的什么" in _tips(s)[0], (_buyer(s), _tips(s))


def test_saying_who_calls_and_the_order_answers_who_are_you(engine: Engine) -> None:
    """To "是我，你哪位？" the trainee said who calls and which order in one line; the buyer pressed
    "有事说事。" (lost patience) as if nothing was said, and the tip still said "买家在问你是谁"."""
    for seed in (1, 2, 3):
        s = play(engine, "poor_quality_experienced",
                 ["赵建国吗？暖厨电器的。",
                  "我是暖厨电器的售后客服小周，您11月5日买的那个电热水壶还记得吗？"], seed=seed)
        assert "漏水" in _buyer(s)[-1], _buyer(s)
        assert "buyer_pressed" not in s.turns[-1].facts
        assert "你是谁" not in _tips(s)[-1], _tips(s)


def test_a_bare_zai_ma_confirms_no_identity(engine: Engine) -> None:
    """"在吗" read as a greeting earned 第一句先确认买家身份 (8 points): nobody was confirmed."""
    for opener in ("在吗", "在吗亲", "您好"):
        s = play(engine, "poor_quality_experienced", [opener, _ZHAO], seed=1)
        assert not _passed(s, "identity_first"), opener
    for opener in (_ZHAO, "赵建国吗？暖厨电器的。", "您好，请问是赵先生本人吗？"):
        s = play(engine, "poor_quality_experienced", [opener], seed=1)
        assert _passed(s, "identity_first"), opener


_SLOW = [_LIN, "您11月2日在我们店买的白色蓝牙耳机，还记得吗？",
         "让您等了九天，真的很抱歉，换谁都会着急。"]


def test_blaming_the_courier_is_no_explanation(engine: Engine) -> None:
    """"快递的问题不是我们能控制的" earned the whole explanation: it disowns the problem. The
    scorecard says why, the tip says what to say, and the buyer still asks why."""
    s = play(engine, "slow_delivery_first_time", [*_SLOW, "快递的问题不是我们能控制的。"], seed=1)
    assert not _passed(s, "explained")
    assert (4, "deflects") in violation_codes(s), violation_codes(s)
    assert s.scorecard is not None
    v = next(v for v in s.scorecard.violations if v.code == "deflects")
    assert "快递" in v.message and "跟进" in v.message, v.message
    assert "跟进" in _tips(s)[-1], _tips(s)
    assert re.search("为什么|怎么会", _buyer(s)[-1]), _buyer(s)
    # the courier named with what the shop does about it is the explanation the domain asks for
    for why in ("这次是快递中转站爆仓耽误了，我们已经跟快递公司反馈，以后会换更快的快递。",
                "是快递的问题，路上在中转站压了好几天，我们已经联系快递催过了，以后发货会盯紧。"):
        s = play(engine, "slow_delivery_first_time", [*_SLOW, why], seed=1)
        assert _passed(s, "explained"), why
        assert "deflects" not in [c for _, c in violation_codes(s)], why


def test_a_wrong_form_of_address_is_noticed(engine: Engine) -> None:
    """"姑娘" to 赵建国先生, "帅哥" to 王阿姨: the persona's gender (its honorific or `gender`)
    says the form is wrong, with or without the name before it."""
    s = play(engine, "poor_quality_experienced",
             [_ZHAO, "姑娘，您11月5日买的电热水壶还记得吗？"], seed=1)
    assert (2, "wrong_honorific") in violation_codes(s), violation_codes(s)
    assert "称呼" in _tips(s)[-1], _tips(s)
    s = play(engine, "wrong_item_first_time", ["帅哥您好，请问是王秀兰本人吗？"], seed=1)
    assert (1, "wrong_honorific") in violation_codes(s), violation_codes(s)
    assert not _passed(s, "by_name")
    # 陈静 is a mother (gender: female in her persona): 先生 is wrong
    s = play(engine, "size_not_fit_first_time", ["先生您好，请问是陈静本人吗？"], seed=1)
    assert (1, "wrong_honorific") in violation_codes(s), violation_codes(s)
    s = play(engine, "size_not_fit_first_time",
             ["陈静您好，我是跃动童鞋的售后客服小乐，请问是陈静本人吗？",
              "好的先生，您11月6日买的运动鞋还记得吗？"], seed=1)
    assert (2, "wrong_honorific") in violation_codes(s), violation_codes(s)
    # the right form, and the buyer's family named ("您先生", "您家姑娘") are not it
    for persona, line in (("poor_quality_experienced", "先生您好，请问是赵建国先生吗？"),
                          ("wrong_item_first_time", "阿姨您好，请问是王秀兰本人吗？"),
                          ("size_not_fit_first_time", "陈静您好，请问是陈静本人吗？您家姑娘穿着挤脚吧？"),
                          ("wrong_item_first_time", "王阿姨您好，请问是王秀兰本人吗？叔叔喝了没事吧？"),
                          ("keeps_review_experienced", "您好，请问是本人吗？您先生用着还好吗？")):
        s = play(engine, persona, [line], seed=1)
        assert "wrong_honorific" not in [c for _, c in violation_codes(s)], line


def test_apology_typos_real_agents_type_still_count(engine: Engine) -> None:
    """"报歉", "不好意识", "抱谦" (pinyin slips, in the agent corpus as apologies) count as the
    apology in the trainer as in the assistant: the scorecard gives both apology checks."""
    good = (Path(__file__).parent / "data" / "trainees" / "size_not_fit_first_time.good.txt")
    lines = [ln for ln in good.read_text(encoding="utf-8").splitlines() if ln.strip()]
    for first, last in (("真报歉", "再次报歉"), ("真不好意识", "再次说声不好意识"), ("真抱谦", "再次抱谦")):
        typed = [ln.replace("真不好意思", first).replace("再次为尺码的事向您道歉", last + "，尺码的事给您添麻烦了")
                 for ln in lines]
        s = play(engine, "size_not_fit_first_time", typed, seed=3)
        assert _passed(s, "apologized") and _passed(s, "apologized_twice"), typed


def _utterance_lines(u: object) -> set[str]:
    return {ln for band in ("calm", "upset", "angry") for ln in (getattr(u, band, None) or [])}


def test_the_item_a_press_names_is_the_one_the_buyer_asked_for(engine: Engine) -> None:
    """The tip follows the agenda item the buyer pressed for; when the buyer's press was the next
    item's line (the item itself already done), the event still named the first one, and the tip
    said "买家在问你是谁" under "漏水可是安全问题，你们就这个态度？"."""
    from bot.training.persona import find_persona
    trainees = Path(__file__).parent / "data" / "trainees"
    scripts = [("poor_quality_experienced", ["赵建国吗？暖厨电器的。",
                                             "我是暖厨电器的售后客服小周。姑娘，您11月5日买的电热水壶还记得吗？",
                                             "实在抱欠，水壶漏水太危险了", "嗯"]),
               ("poor_quality_experienced", ["您好", "赵建国先生，您买的水壶漏水，实在对不起", "嗯", "嗯"]),
               ("size_not_fit_first_time", ["在吗", "您买的运动鞋偏小了，实在对不起", "嗯嗯", "好的"])]
    for f in sorted(trainees.glob("*.poor.txt")):
        scripts.append((f.name.split(".")[0], [ln for ln in f.read_text(encoding="utf-8").splitlines() if ln.strip()]))
    for persona, lines in scripts:
        p = find_persona(engine.dialogs, persona).persona
        items = {i.id: i for i in p.agenda}
        common = _utterance_lines(p.follow_up) | _utterance_lines(p.goal.reject)
        for seed in (1, 2, 3):
            s = play(engine, persona, lines, seed=seed)
            for e in s.events:
                if e["type"] != "buyer" or e["event"] != "press":
                    continue
                item = items[e["item"]]
                own = _utterance_lines(item.press) | _utterance_lines(item.say) | {
                    ln for v in item.variants for ln in _utterance_lines(v.say)}
                assert e["text"] in own | common, (persona, seed, e["item"], e["text"], _buyer(s))


def test_a_bribe_reaches_no_step_to_score(engine: Engine) -> None:
    """"在吗", an early request, then "改好评的话给您返10元红包": the bribe read as an offer made the
    talk count as having reached 解释原因, and "解释时不指责买家" gave 5 points to a trainee who
    explained nothing. The blocked reply earns nothing, and no tip about blaming is given."""
    s = play(engine, "size_not_fit_first_time",
             ["在吗", "我是跃动童鞋的客服，您给的中评能不能改成好评？", "改好评的话给您返10元红包"], seed=5)
    assert s.scorecard is not None
    assert not _passed(s, "no_blame")
    assert s.scorecard.stages["explain"].score == 0
    assert not any("推给买家" in t for t in s.scorecard.tips), s.scorecard.tips



def test_another_buyers_full_name_is_the_wrong_name(engine: Engine) -> None:
    """"沈雅女士您好" to 周敏 (the name of another case) passed as a plain greeting, the buyer
    answering "在，什么事？"; and "您好女士" was read as the surname 好 (wrong_name)."""
    s = play(engine, "busy_office_worker", ["沈雅女士您好，我是这边店铺的售后客服小陈，请问是沈雅本人吗？"], seed=4)
    assert (1, "wrong_name") in violation_codes(s), violation_codes(s)
    for line in ("您好女士，请问是周敏本人吗？", "周敏女士您好，请问是周敏本人吗？"):
        s = play(engine, "busy_office_worker", [line], seed=4)
        assert violation_codes(s) == [], (line, violation_codes(s))
    s = play(engine, "busy_office_worker", ["请问是沈雅女士吗？"], seed=4)
    assert "名字叫错了" in _tips(s)[0] and "周敏女士" in _tips(s)[0], _tips(s)


def test_arguing_with_a_busy_buyer_is_pushing_on(engine: Engine) -> None:
    """"就两分钟，您先听我说完，这条裙子颜色偏暗是因为拍照用了滤镜" after "我在开会" earned
    "买家说忙之后不再硬聊"."""
    s = play(engine, "busy_office_worker",
             ["周敏女士您好，我是这边店铺的售后客服小陈，请问是周敏本人吗？",
              "您11月买的那条湖蓝色碎花连衣裙还记得吗？",
              "就两分钟，您先听我说完，这条裙子颜色偏暗是因为拍照用了滤镜"], seed=4)
    assert s.turns[-1].stage == "callback", s.turns[-1].stage
    assert not _passed(s, "no_push")


def test_a_deflection_the_guard_calls_blame_costs_once(engine: Engine) -> None:
    """"这是工厂染色的问题，跟我们店没关系": the guard's deflection rule calls it blame, and the
    trainer's deflects was charged on top (8 + 8 for one sentence)."""
    s = play(engine, "keeps_review_experienced",
             ["沈雅女士您好，我是这边店铺的售后客服小林，请问是沈雅本人吗？",
              "您11月在我们店定做的雾灰色遮光窗帘，还记得吗？",
              "实在抱歉，挂上去颜色不对，换谁都会失望", "这是工厂染色的问题，跟我们店没关系"], seed=1)
    assert [c for t, c in violation_codes(s) if t == 4] == ["blame"], violation_codes(s)
    assert not _passed(s, "explained")
