"""What a trainee met playing every persona (good, sloppy and hostile cases), through the real
trainer and engine with the Chinese a trainee types: a tip that would cost the review step, one
offer counted as two options, options not counted, a blocked apology undoing clean ones, and a
buyer who forgot the options put to them while they asked why."""

from __future__ import annotations

from pathlib import Path

from bot.engine import Engine
from bot.training.testing import Dialog
from tests.shared import play

TRAINEES = Path(__file__).parent / "data" / "trainees"
SLOW = ["林晓您好，我是悦途数码的售后客服小安，请问是林晓本人吗？",
        "您11月2日在我们店买了一副白色蓝牙耳机，还有印象吗？",
        "实在抱歉，让您等了这么久。能跟我说说当时物流是什么情况吗？",
        "给室友的礼物晚了，换我也会很郁闷。这次是快递中转站爆仓耽误了，我们已经跟快递公司反馈，后面也会换更快的快递。"]


def _checks(s: object) -> dict[str, bool]:
    card = getattr(s, "scorecard", None)
    assert card is not None
    return {c.id: c.passed for c in card.checks}


# -- the tip after "还有别的事吗？" ------------------------------------------------------------------

def test_whats_left_before_the_review_is_the_one_polite_request(engine: Engine) -> None:
    """The refund is done and the buyer asks "还有别的事吗？": the tip said "买家的事都办完了：…礼貌
    道别", and a trainee who followed it lost the whole 礼貌请求 stage (the review never asked)."""
    d = Dialog("slow_delivery_first_time", 2, engine=engine)
    for line in [*SLOW, "给您两个选择：退您10元运费作为补偿，或者全额退款，您看哪个合适？"]:
        d.say(line)
    d.say("好的，10元已经给您退到支付宝了，一会儿就能到账。")
    d.expect_buyer_contains("还有别的事").expect_stage("polite_request")
    d.expect_tip_contains("评价")
    assert d.last is not None and "买家的事都办完了" not in d.last.tip, d.last.tip


def test_on_tmall_whats_left_is_still_the_goodbye(engine: Engine) -> None:
    """A Tmall review cannot be changed: there the same question is answered by the goodbye."""
    d = Dialog("poor_quality_experienced", 1, engine=engine)
    for line in ["赵先生您好，我是暖厨电器天猫旗舰店的售后客服小周，请问是赵建国先生本人吗？",
                 "您11月5日在我们店买了一个1.7升的不锈钢电热水壶，还记得吗？",
                 "真的非常抱歉，插着电漏水确实很吓人，您和家人没受伤吧？能说说是从哪里漏的吗？",
                 "这批水壶底座的密封圈装配有问题，是我们品控没把好关，已经反馈给工厂整改了。",
                 "给您两个方案：给您换一台新的，来回运费我们出；或者直接退货退款。您看哪个方便？",
                 "好的，新壶明天上午就发顺丰，旧的快递员上门取，您不用操心。"]:
        d.say(line)
    d.expect_buyer_contains("还有别的事")
    assert d.last is not None and "评价" not in d.last.tip and "道别" in d.last.tip, d.last.tip


# -- what counts as options ------------------------------------------------------------------------

def test_one_reship_is_one_option(engine: Engine) -> None:
    """"补发" is the cue of two remedies (补发缺的 / 补发新的): one offer counted as two options."""
    d = Dialog("wrong_item_first_time", 2, engine=engine)
    for line in ["王阿姨您好，我是山野茶铺的客服小李，请问是王秀兰阿姨吗？",
                 "您11月7号在我们店买的红枣枸杞茶还记得吗", "不好意思哈", "仓库发错了"]:
        d.say(line)
    d.say("给您补发两盒红枣枸杞茶，菊花茶您留着喝")
    assert d.last is not None
    assert "offer_remedy" in d.last.facts.acts and "concrete_options" not in d.last.facts.facts


def test_half_the_price_back_is_an_option(engine: Engine) -> None:
    d = Dialog("keeps_review_experienced", 5, engine=engine)
    for line in ["沈雅女士您好，我是栖木家居的售后客服小木，请问是沈雅本人吗？",
                 "您11月1日在我们店定做了一套雾灰色遮光窗帘，还有印象吗？",
                 "实在对不起，花时间定做的窗帘颜色不对，换谁都会失望。",
                 "这批布料染色批次出了偏差，我们质检没有拦住。"]:
        d.say(line)
    d.say("按雾灰色给您免费重新定做一套，或者退一半货款，您看哪个合适？")
    assert d.last is not None and "concrete_options" in d.last.facts.facts, d.last.facts


def test_a_new_one_made_to_order_again_is_an_option(engine: Engine) -> None:
    """"给您重新按雾灰色定做一副，或者退货退款" offers two options: the scorecard said
    "✗ 给两个以上选项让买家挑" (the words between 重新 and 定做 hid the first)."""
    d = Dialog("keeps_review_experienced", 2, engine=engine)
    for line in ["您好，请问是沈女士吗？我是栖木家居的售后客服，您11月1日定做的雾灰色遮光窗帘，想跟您了解一下情况。",
                 "真的很抱歉，定做的窗帘挂上去颜色跟图片差这么多，换谁都会失望，这是我们的问题。"]:
        d.say(line)
    d.say("是我们拍照的时候灯光偏暖，图片颜色没还原准。给您重新按雾灰色定做一副，或者退货退款，来回运费我们出，您看哪个合适？")
    assert d.last is not None and "concrete_options" in d.last.facts.facts, d.last.facts
    assert {"exchange", "return_refund"} <= set(d.last.facts.remedies), d.last.facts.remedies


def test_a_small_gift_sent_is_an_option(engine: Engine) -> None:
    d = Dialog("slow_delivery_first_time", 2, engine=engine)
    for line in SLOW:
        d.say(line)
    d.say("给您两个选择：退您10元运费作为补偿，或者送您一个耳机收纳包，您看哪个合适？")
    assert d.last is not None and "concrete_options" in d.last.facts.facts, d.last.facts


# -- a blocked reply and the counts ----------------------------------------------------------------

TC = ["林先生您好，我是暖暖生活館的客服小暖，請問是林志明先生嗎？", "您9月20號買的保溫杯還記得嗎",
      "不好意思哈，給你換個新的，你把差評刪了吧",
      "抱歉，刚才是我说错了，换新跟评价没有任何关系。给您换一个新的，来回运费我们出；或者直接退款，您看哪个方便？",
      "這批杯子真空層焊接有瑕疵，是我們品控沒把好關，已經反饋給廠家了。"]


def test_a_blocked_apology_does_not_undo_two_clean_ones(engine: Engine) -> None:
    """The blocked reply held a "不好意思哈": the 道歉两次以上 check failed although the trainee
    apologised twice in replies that could be sent (the block already costs 40 and fails)."""
    s = play(engine, "traditional_chinese_buyer", [
        *TC, "給您換一個新的，來回運費我們出；或者直接退款。您看哪個方便？",
        "好的，新杯子明天就發出。再次跟您說聲抱歉，謝謝您，歡迎下次再來。"], seed=4)
    assert _checks(s)["apologized_twice"]


def test_a_tied_request_and_a_clean_one_are_still_two_requests(engine: Engine) -> None:
    good = [ln for ln in (TRAINEES / "size_not_fit_first_time.good.txt").read_text(encoding="utf-8")
            .splitlines() if ln.strip()]
    s = play(engine, "size_not_fit_first_time", [
        *good[:6], "33码明天就给您发出，您改个好评的话再返您10元红包。",
        "另外想诚恳地问一下，愿意考虑更新一下评价吗？改不改都由您决定。", good[-1]], seed=3)
    assert not _checks(s)["asked_once"]


# -- the buyer remembers the options -------------------------------------------------------------

def test_options_given_while_the_buyer_asked_why_are_remembered(engine: Engine) -> None:
    """The clean offer came while the buyer still asked why; after the explanation the buyer asked
    "那現在要怎麼處理？" as if no option had been put to them."""
    d = Dialog("traditional_chinese_buyer", 4, engine=engine)
    for line in TC[:-1]:
        d.say(line)
    d.expect_buyer_contains("為什麼")
    d.say(TC[-1])
    d.expect_buyer(intent="want_exchange")
    assert d.last is not None and "怎麼處理" not in d.last.reply.text, d.last.reply.text


# -- tips quote the case -----------------------------------------------------------------------------

def test_the_apology_tip_does_not_quote_a_delay_for_a_fake_product(engine: Engine) -> None:
    s = play(engine, "pro_bad_reviewer", ["冯先生您好，我是蔓生美妆客服，请问是冯磊先生吗？",
                                          "您11月3号买的保湿面霜还记得吧", "我们是正品，您是不是用法不对？"],
             seed=2)
    assert s.scorecard is not None
    checks = {c.id: c for c in s.scorecard.checks}
    assert not checks["apologized"].passed
    tips = s.scorecard.tips
    assert any(t.startswith("听完问题先") for t in tips) and not any("等了这么久" in t for t in tips), tips


# -- the buyer does not repeat itself ----------------------------------------------------------------

def test_a_demand_pressed_a_third_time_is_not_the_first_line_again(engine: Engine) -> None:
    """Still no apology at the third press: the buyer said turn 3's line word for word at turn 5
    (only the line just before was kept from coming back)."""
    d = Dialog("slow_delivery_first_time", 3, engine=engine)
    said = []
    for line in ["林晓您好，我是悦途数码客服，请问是林晓吗", "您11月2号买的耳机还记得吗",
                 "快递的问题，不是我们能控制的", "抱欠抱欠", "给您退5块钱"]:
        d.say(line)
        assert d.last is not None
        said.append(d.last.reply.text)
    assert said[2] != said[4] and said[3] != said[4], said


# -- blame the rubric itself names ---------------------------------------------------------------

def test_asking_whether_the_buyer_misclicked_the_order_is_blame(engine: Engine) -> None:
    """"您是不是下单的时候点错了？" (the blame tip's own example) was read as a question for details:
    no violation, and the buyer's mood even went up for being listened to."""
    d = Dialog("wrong_item_first_time", 5, engine=engine)
    d.say("王阿姨您好，我是山野茶铺的售后客服小李，请问是王秀兰阿姨吗？")
    d.say("您是不是下单的时候点错了？").expect_violation("blame")
    assert d.last is not None and d.last.reply.event == "reaction", d.last.reply
    # the order named as the shop's slip, and a review the buyer says was a slip, stay clean
    d2 = Dialog("wrong_item_first_time", 5, engine=engine)
    d2.say("王阿姨您好，我是山野茶铺的售后客服小李，请问是王秀兰阿姨吗？")
    d2.say("您下单时没有点错，是我们仓库发错了，实在对不起。").expect_no_violation()


# -- a callback time is the trainee's to agree -----------------------------------------------------

BUSY = ["周敏您好，我是柚子家女装的客服，请问是周敏吗？", "您11月8号买的湖蓝色碎花连衣裙还记得吗？"]


def test_when_convenient_is_no_time_agreed(engine: Engine) -> None:
    """"您方便的时候回我一下就行" names no time; it counted as one (方便的时候 was a time word), and the
    buyer's answer "晚上八点以后吧" as the last line passed the practice with no time agreed."""
    s = play(engine, "busy_office_worker", [*BUSY, "那您方便的时候回我一下就行"], seed=2)
    assert s.turns[-1].context.get("offers_time") is False
    assert s.scorecard is not None and s.scorecard.outcome.handled is False
    assert not _checks(s)["time_agreed"] and not s.scorecard.passed


def test_the_buyers_time_taken_up_is_a_time_agreed(engine: Engine) -> None:
    s = play(engine, "busy_office_worker",
             [*BUSY, "不好意思打扰您了，您什么时候方便？", "好的，那今晚八点我再联系您，您先忙，不打扰了。"], seed=1)
    assert s.scorecard is not None and s.scorecard.outcome.handled and _checks(s)["time_agreed"]


WRONG = ["王阿姨您好，我是山野茶铺的售后客服小李，请问是王秀兰阿姨吗？", "您是不是下单的时候点错了？",
         "实在对不起阿姨，是我说错话了。您11月7日买的红枣枸杞茶，我们仓库发成了菊花茶，是我们的错。",
         "仓库打包的同事拿错了货架，我们已经让他们发货前再核对一遍订单。",
         "给您两个选择：马上给您补发两盒红枣枸杞茶，菊花茶您留着喝；或者直接给您全额退款。您看哪个方便？",
         "好的，两盒红枣枸杞茶今天就给您发出，明后天就到。",
         "另外想问问阿姨，如果这次处理您还满意，愿意考虑更新一下评价吗？改不改都是您的权利。"]


def test_showing_how_to_change_the_review_after_a_no_is_a_push(engine: Engine) -> None:
    """The buyer said "我不改了" and the trainee answered with the steps to change it: no
    violation at all, where asking again costs pushes_after_refusal."""
    d = Dialog("wrong_item_first_time", 5, engine=engine)
    for line in WRONG:
        d.say(line)
    d.expect_buyer(intent="refuse_review")
    d.say("谢谢阿姨！手机淘宝点「我的」→「评价管理」，找到这一条选「修改评价」就可以了。再次跟您说声抱歉，欢迎下次再来。")
    d.expect_violation("pushes_after_refusal")
    # taking the no is no push
    d2 = Dialog("wrong_item_first_time", 5, engine=engine)
    for line in WRONG:
        d2.say(line)
    d2.say("好的阿姨，尊重您的决定，谢谢您的反馈。再次跟您说声抱歉，欢迎下次再来。").expect_no_violation()
