"""What playing the trainer as trainees would found (wave 2), through the real trainer and
engine: a plain greeting names no problem; when the buyer asks who is calling, the tip says so
and saying it answers them; the quoted span of a sum ends after its unit."""

from __future__ import annotations

from bot.engine import Engine
from bot.training.facts import NAMES_PROBLEM
from bot.training.session import Session
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


def _tips(s: Session) -> list[str]:
    return [e["tip"] for e in s.events if e["type"] == "coach"]


def _buyer(s: Session) -> list[str]:
    return [e["text"] for e in s.events if e["type"] == "buyer"]


def test_the_tip_says_what_the_buyer_asked_who_is_calling(engine: Engine) -> None:
    """A curt "赵建国吗？暖厨电器的。" got "是我，你哪位？": the script machine went on to 确认商品
    on the buyer's 是我 while the buyer waited to hear who was calling, and the tip said "说清买家
    哪天买了什么" - to a trainee who then said the order and was left by the buyer with "当时该做的
    是：说清买家哪天买了什么". The tip says what the buyer asked for."""
    s = play(engine, "poor_quality_experienced", ["赵建国吗？暖厨电器的。", "你那个水壶漏水是吧"], seed=4)
    pressed = [e["item"] for e in s.events if e["type"] == "buyer" and e["event"] == "press"]
    assert pressed[-1:] == ["identity"], (pressed, _buyer(s))
    assert "哪家店" in _tips(s)[-1] and "哪天买的什么" not in _tips(s)[-1], _tips(s)
    # the buyer gives up still waiting to hear who calls: the step the tip names is that one.
    # Now that the curt opener reads as greet_identify, "是我，你哪位？" answers it (no patience lost)
    # and stays open: the buyer leaves one evasive reply later than when the opener read as nothing.
    s = play(engine, "poor_quality_experienced", ["赵建国吗？暖厨电器的。", "你那个水壶漏水是吧", "嗯嗯", "嗯"], seed=4)
    assert s.ending == "buyer_gave_up", _buyer(s)
    assert "离开了对话" in _tips(s)[-1] and "哪家店" in _tips(s)[-1], _tips(s)


def test_saying_who_calls_answers_who_are_you(engine: Engine) -> None:
    """The buyer said "是我，你哪位？"; "我是暖厨电器的客服小周，…" answered it, but the buyer still
    waited for an identity check (the curt first line had none the engine read) and left: "算了，
    跟你们说不通". Told who calls, the buyer goes on to the kettle."""
    s = play(engine, "poor_quality_experienced",
             ["赵建国吗？暖厨电器的。", "你那个水壶漏水是吧",
              "我是暖厨电器的客服小周。您11月5号买的那个电热水壶，还记得吗？"], seed=4)
    assert s.ending == "out_of_replies", _buyer(s)  # the buyer stayed
    assert "漏水" in _buyer(s)[-1] and "哪位" not in _buyer(s)[-1], _buyer(s)
    assert "buyer_pressed" not in s.turns[-1].facts


def test_the_quoted_span_of_a_sum_ends_after_its_unit(engine: Engine) -> None:
    """The trainee was shown 「改好了给您返5」 for "改好了给您返5元红包": the span stopped between the
    digits and 元 (it already ran on through 一盒, 两双)."""
    s = play(engine, "slow_delivery_first_time",
             ["林晓您好，我是悦途数码的客服小周，请问是林晓本人吗？",
              "看到您给了个中评，能不能帮忙改成好评呀？改好了给您返5元红包。"], seed=2)
    f = next(f for f in s.turns[-1].findings if f.code == "conditional_benefit")
    assert f.span is not None
    quoted = s.turns[-1].text[f.span[0]:f.span[1]]
    assert quoted.endswith("返5元红包"), quoted  # the whole clause (tests/test_guard_whole_words.py)


_OFFERED = [_GREET, "您11月7日在我们店买的两盒红枣枸杞茶，还记得吗？", "实在对不起阿姨，发错了让您着急了。",
            "这次是仓库打包时两款茶放得太近拿错了，是我们的疏忽。",
            "给您两个办法：明天给您补发两盒红枣枸杞茶，菊花茶不用寄回；或者给您全额退款。您看哪个方便？"]


def test_a_request_tied_to_the_remedy_says_so(engine: Engine) -> None:
    """"好的阿姨，补发的两盒明天上午就给您寄出。另外方便的话，能帮忙把评价改一下吗？" is blocked (the
    remedy promised and not done, next to the review: guard ties), and the tip said only "这句话把
    好处和评价挂钩了" to a trainee who offered nothing beyond the remedy. The tip says what reads as
    the price; a gift or money in the reply (or just before it) keeps the plain tip."""
    for request in ("好的阿姨，补发的两盒明天上午就给您寄出。另外方便的话，能帮忙把评价改一下吗？",
                    "另外方便的话，能帮忙把评价改一下吗？"):
        s = play(engine, "wrong_item_first_time", [*_OFFERED, request], seed=5)
        assert any(f.code == "conditional_benefit" for f in s.turns[-1].findings), s.turns[-1].findings
        assert "方案还没办完" in _tips(s)[-1] and "改不改" in _tips(s)[-1], (request, _tips(s))
    plain = "这句话把好处和评价挂钩了，真实工作中绝对不能发：补偿必须与评价无关。"
    s = play(engine, "wrong_item_first_time",
             [_GREET, "您11月7日买的红枣枸杞茶，还记得吗？", "阿姨，您给个五星好评，我们再送您一盒菊花茶。"], seed=3)
    assert _tips(s)[-1] == plain, _tips(s)
    s = play(engine, "wrong_item_first_time",
             [_GREET, "您11月7日买的红枣枸杞茶，还记得吗？", "阿姨，再送您一张10元优惠券。", "改一下评价哈"], seed=3)
    assert any(f.code == "conditional_benefit" for f in s.turns[-1].findings), s.turns[-1].findings
    assert _tips(s)[-1] == plain, _tips(s)
    # where the review cannot change (over 30 days), the tip does not say how to ask for it
    s = play(engine, "traditional_chinese_buyer",
             ["林先生您好，我是暖暖生活馆的售后客服小安，请问是林志明先生本人吗？",
              "您9月20日在我们店买的500毫升不锈钢保温杯，还有印象吗？",
              "真的很抱歉，花钱买的保温杯不保温，换谁都会失望。",
              "这批杯子有一部分真空层封口没做好，是我们质检没把好关，已经反馈给工厂整批复查了。",
              "给您两个选择：给您换一个新的保温杯，来回运费我们出；或者直接退货退款。您看哪个方便？",
              "好的，新杯子我们出货前先灌热水测一遍，明天发出。另外方便的话，能帮忙把评价改一下吗？"], seed=6)
    assert any(f.code == "conditional_benefit" for f in s.turns[-1].findings), s.turns[-1].findings
    assert "request_not_allowed" in s.turns[-1].signals
    assert "改不改" not in _tips(s)[-1], _tips(s)
