"""What playing the trainer as trainees would found (wave 3), through the real trainer and
engine: checking who is on the other end by name answers the identity the buyer waits for."""

from __future__ import annotations

from bot.engine import Engine
from bot.training.session import Session
from tests.shared import play, violation_codes


def _buyer(s: Session) -> list[str]:
    return [e["text"] for e in s.events if e["type"] == "buyer"]


def test_checking_the_buyer_by_name_is_no_wasted_turn(engine: Engine) -> None:
    """A curt "赵建国？" got "是我，你哪位？" - the buyer answered it - yet was charged
    "这一句没有推进任何一步…买家只好再问一遍" and cost a heart, while a bare "在吗？" (no name at
    all) cost nothing: the better opener scored worse. "是赵建国吗？" lost a heart too. Checking
    who is there by name (confirms_identity) answers the identity the buyer waits for; the buyer
    still asks who is calling and waits for it."""
    start = play(engine, "poor_quality_experienced", [], seed=2).buyer.patience
    for opener in ("赵建国？", "是赵建国吗？", "请问是赵建国本人吗？"):
        s = play(engine, "poor_quality_experienced", [opener], seed=2)
        assert violation_codes(s) == [], (opener, violation_codes(s))
        assert s.buyer.patience == start, (opener, s.buyer.patience, _buyer(s))
        assert _buyer(s) == ["是我，你哪位？"], (opener, _buyer(s))
    # saying who calls then answers the question, and the buyer goes on to the kettle
    s = play(engine, "poor_quality_experienced",
             ["赵建国？", "我是暖厨电器天猫旗舰店的客服小周，您11月5号买的电热水壶还记得吗？"], seed=2)
    assert "漏水" in _buyer(s)[-1], _buyer(s)
    assert violation_codes(s) == [], violation_codes(s)


def _tips(s: Session) -> list[str]:
    return [e["tip"] for e in s.events if e["type"] == "coach"]


_SLOW = ["林晓您好，我是悦途数码的售后客服小周，请问是林晓本人吗？", "您11月份在我们店买的白色蓝牙耳机，还记得吗？"]


def test_the_apology_tip_fits_whether_an_apology_was_said(engine: Engine) -> None:
    """A trainee who had blamed the buyer and never apologised ("那您想怎么样嘛？") was told
    "只说“抱歉”两个字不够" - about an apology never said. That line is for the trainee whose
    bare "抱歉" did not reach the buyer; one who has not apologised is told to apologise."""
    s = play(engine, "slow_delivery_first_time",
             [*_SLOW, "快递慢也不能全怪我们吧，是您自己选的包邮快递。", "那您想怎么样嘛？"], seed=3)
    assert "道歉" in _buyer(s)[-1], _buyer(s)
    tip = _tips(s)[-1]
    assert "道歉" in tip and "两个字不够" not in tip, tip
    # a bare "抱歉" to the angry kettle buyer, who waits for an apology that hears him: that tip
    s = play(engine, "poor_quality_experienced",
             ["赵建国先生您好，我是暖厨电器天猫旗舰店的客服小周，请问是赵建国先生本人吗？",
              "您11月5号买的电热水壶还记得吗？", "抱歉。"], seed=2)
    assert "两个字不够" in _tips(s)[-1], (_tips(s), _buyer(s))


def test_the_buyers_choice_said_with_a_typo_or_plainly_counts(engine: Engine) -> None:
    """"改不改都是你的权力哈" (权力 typed for 权利, as trainees do) and "改不改都行" say the
    review is the buyer's choice; the 礼貌请求 check "说明改不改是买家的权利" gave 0 for them."""
    replies = [
        "林晓您好，我是悦途数码的售后客服小周，请问是林晓本人吗？",
        "您11月在我们店买的白色蓝牙耳机还记得吗？",
        "真的很抱歉，让您等了九天，换我也会着急的。",
        "是双十一快递中转站爆仓压了几天，我们已经联系快递跟进了，以后大促会提前通知发货时间。",
        "可以给您退5块运费，或者送您一个耳机收纳包，您看要哪个？",
    ]
    for ask in ("好的，5块钱今天就给您退回去。另外方便的话能不能考虑更新下评价呀，改不改都是您的权力哈",
                "好的，5块钱今天就给您退回去。另外方便的话能不能考虑更新下评价呀？改不改都行哈"):
        s = play(engine, "slow_delivery_first_time", [*replies, ask], seed=8)
        card = s.scorecard
        assert card is not None
        got = {c.id: c.passed for c in card.checks}
        assert got["their_choice"], (ask, [c for c in card.checks if c.stage == "polite_request"])


def test_the_busy_buyer_asked_when_first_still_says_she_is_busy(engine: Engine) -> None:
    """A trainee who asked "您什么时候方便？" before the buyer said she was busy got "八点以后都行，
    你到时候再联系我。": the buyer named a time but never said why not now (the meeting her
    agenda says whatever the trainee says). Every answer to that question says she is busy now."""
    replies = ["周敏女士您好，我是柚子家女装的售后客服小夏，请问是周敏女士本人吗？",
               "不好意思打扰您了，您什么时候方便？"]
    for seed in range(1, 9):
        s = play(engine, "busy_office_worker", replies, seed=seed)
        last = _buyer(s)[-1]
        assert "开会" in last or "走不开" in last, (seed, last)


_SHOES = ["陈静您好，我是跃动童鞋的售后客服小乐，请问是陈静本人吗？",
          "您11月6日在我们店买的儿童网面运动鞋，32码的，还记得吗？",
          "真不好意思让孩子受罪了。那个中评方便的话能帮忙改一下吗？",
          "实在抱歉，这款版型偏小半码，页面没标清楚是我们的疏忽，尺码表已经加了提醒。",
          "给您两个选择：换成33码，来回运费我们出；或者退货退款，运费也是我们出。您看哪个方便？"]


def test_an_offer_after_an_early_request_is_one_charge_explained(engine: Engine) -> None:
    """The trainee asked for the review too early, then explained and made a clean offer. The
    guard reads the offer with the request two messages before as a benefit tied to the review
    (its rule across messages) - but the scorecard also read a request into the offer that has
    none: "识别到：请求改评", a second 重复请求改评 (10 points), "只礼貌请求一次" lost, and the tip
    "答应的方案还没办完就提评价" about a reply that named no review. The offer is charged once,
    as the tie, and the tip says what happened: the offer came right after the request."""
    s = play(engine, "size_not_fit_first_time", _SHOES, seed=4)
    t = s.turns[-1]
    assert any(f.code == "conditional_benefit" for f in t.findings), t.findings
    assert "request_review" not in t.acts, t.acts
    assert [c for turn, c in violation_codes(s) if turn == 5] == ["conditional_benefit"], violation_codes(s)
    tip = _tips(s)[-1]
    assert "刚" in tip and "提过评价" in tip and "方案还没办完就提评价" not in tip, tip
    # the one request stays one: a clean request after the fix is the second, and only that
    s = play(engine, "size_not_fit_first_time",
             [*_SHOES, "好的，33码明天就给您寄出。再问一下，评价那边方便的话能改一下吗？改不改都由您决定。"], seed=4)
    assert [c for turn, c in violation_codes(s) if turn == 6 and c == "repeat_request"], violation_codes(s)
    assert [c for turn, c in violation_codes(s) if c == "repeat_request"] == ["repeat_request"], violation_codes(s)


def test_the_refusal_the_docs_recommend_is_no_review_request(engine: Engine) -> None:
    """To the bad reviewer's "给我转三百，差评今天就删", the refusal docs/training.md gives as the
    model answer, "钱我们不能给，评价也不会拿来交换。", followed by the ordinary way out ("如果您
    觉得产品有问题，可以走正常的退货退款。") was read by the learned model as a review request
    (0.45, rules: none): 向恶意买家提评价, 30 points, a failed session, and the buyer answered
    a request nobody made ("想让我删评？可以啊，先把三百块转过来。")."""
    s = play(engine, "pro_bad_reviewer",
             ["冯磊您好，我是蔓生美妆的售后客服小叶，请问是冯磊本人吗？",
              "您在我们店买的50克保湿面霜，还记得吗？",
              "不好意思让您有这样的感受。我们的面霜都是品牌授权正品，可以提供授权书和检测报告给您核对。",
              "钱我们不能给，评价也不会拿来交换。如果您觉得产品有问题，可以走正常的退货退款。",
              "我们的聊天记录会保留。退货退款的方案一直有效，有需要随时联系我，祝您生活愉快。"], seed=5)
    assert "request_review" not in s.turns[3].acts, s.turns[3].acts
    assert violation_codes(s) == [], violation_codes(s)
    assert "删评" not in _buyer(s)[3], _buyer(s)
    card = s.scorecard
    assert card is not None and card.passed, card


def test_a_trainee_who_says_goodbye_midway_leaves_the_buyer_waiting(engine: Engine) -> None:
    """A trainee who gave up after the buyer told the problem - "这个我得先去仓库查一下，回头再
    联系您，先这样，再见。" - had the buyer press on as if nothing was said ("连句对不起都不说吗？"),
    and the scorecard said nothing of walking away (回复用完，对话没有结束). "谢谢，再见" at the same
    point (the script machine goes to 已结束) got the buyer's "问题还没解决呢……算了，再见。" and a
    left_waiting. A goodbye the script machine takes to 致谢结束 mid-way is the same walk-off."""
    s = play(engine, "wrong_item_first_time",
             ["王阿姨您好，我是山野茶铺的售后客服小李，请问是王秀兰阿姨本人吗？",
              "您11月7号在我们店买的红枣枸杞茶，还记得吗？",
              "这个我得先去仓库查一下，回头再联系您，先这样，再见。"], seed=2)
    assert s.done and s.buyer.left, _buyer(s)
    assert "还没" in _buyer(s)[-1] and "再见" in _buyer(s)[-1], _buyer(s)
    assert violation_codes(s) == [(3, "left_waiting")], violation_codes(s)
    # an ordinary farewell at the end of a finished talk still closes as ever (the goodbye awaited)
    s = play(engine, "size_not_fit_first_time",
             ["陈静您好，我是跃动童鞋的售后客服小乐，请问是陈静本人吗？",
              "您11月6日在我们店买的儿童网面运动鞋，32码的，还记得吗？",
              "真不好意思，让孩子穿着受罪了，能跟我说说具体哪里挤脚吗？",
              "实在抱歉，这款版型偏小半码，页面上没标清楚是我们的疏忽，尺码表已经加了提醒。",
              "给您两个选择：换成33码，来回运费我们出；或者退货退款，运费也是我们出。您看哪个方便？",
              "好的，33码明天就给您寄出。另外想诚恳地问一下，愿意考虑更新一下评价吗？改不改都由您决定。",
              "谢谢您！再次为尺码的事跟您道歉，欢迎下次再来。"], seed=3)
    assert s.ending == "closed" and violation_codes(s) == [], (s.ending, violation_codes(s), _buyer(s))


def test_the_busy_buyer_left_before_she_knows_what_for_asks_what_for(engine: Engine) -> None:
    """Said "好的，您先忙。" before the buyer knew who was calling, the busy buyer said the common
    "啊？我的事还没说完呢……" - she, who has no story to tell and is in a meeting. She asks what
    the call was about and leaves."""
    s = play(engine, "busy_office_worker",
             ["周女士您好，请问是周敏女士吗？", "您11月8日买的那条连衣裙还记得吗？", "好的，您先忙。"])
    assert s.buyer.left, _buyer(s)
    assert "什么事" in _buyer(s)[-1] and "我的事还没说完" not in _buyer(s)[-1], _buyer(s)
