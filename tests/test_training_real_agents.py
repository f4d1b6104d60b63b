"""Sessions played the way real agents type (亲亲, emoji, quick-reply templates, long paragraphs)
and the way poor ones behave, through the real trainer and engine: the scorecard a trainee sees
must be one they can trust, and the buyer must answer what was just said."""

from __future__ import annotations

from functools import partial
from itertools import pairwise

from bot.engine import Engine
from bot.training.rubric import load_rubric
from bot.training.session import Session
from bot.training.transcript import computation_lines
from tests.shared import play, violation_codes

# A real agent's session with the aunt who got the wrong tea: emoji, 亲, a numbered quick-reply
# offer, and a request that leaves the choice to her ("改不改完全看您自己").
AUNT = [
    "亲亲在吗～😊 王阿姨您好呀，我是山野茶铺的售后小山哦",
    "亲 您11月7号在我们家拍的红枣枸杞茶两盒装 还有印象嘛？[玫瑰]",
    "哎呀真的太抱歉了阿姨😭😭 是我们仓库发错货了，给您添麻烦了，您喝了没有呀身体没事吧",
    "理解理解，换我也着急的。这次是仓库拣货的时候两款茶放在相邻货位拿错了，我们已经跟仓库反馈重新核对了哈",
    "阿姨这边给您两个方案哈：1、给您补发两盒红枣枸杞茶，菊花茶不用寄回了，明天就发顺丰 "
    "2、直接给您全额退款，您看哪个方便呢🙏",
    "好嘞阿姨，已经给您登记补发啦，明天上午发顺丰，单号出来第一时间发您～ "
    "另外想麻烦您一下下，如果这次处理您还满意的话，方便的时候可以帮忙追评或者修改一下评价嘛？当然改不改完全看您自己哈，不勉强的💕",
    "阿姨您打开手机淘宝，点右下角「我的」，再点「评价管理」，找到这条茶叶的评价点「修改评价」就可以啦",
    "再次跟您说声抱歉，谢谢阿姨理解支持，祝您和叔叔身体健康，有需要随时找小山哦～拜拜👋",
]


_play = partial(play, seed=2)


_codes = violation_codes


def test_teaching_the_aunt_how_to_edit_is_no_benefit_for_the_review(engine: Engine) -> None:
    """The request was asked once and freed (改不改完全看您); the guard's memory skipped that freed
    request and tied the how-to after it to the offer two messages back (补发): 好评返现, fail."""
    s = _play(engine, "wrong_item_first_time", AUNT)
    assert _codes(s) == [], _codes(s)
    guide = s.turns[6]
    assert "guide_review" in guide.acts and "request_review" not in guide.acts, guide.acts
    card = s.scorecard
    assert card is not None and card.passed and card.total >= 90, card.total
    assert card.outcome.review_request == "accepted"


def _tips(s: Session) -> list[str]:
    return [e["tip"] for e in s.events if e.get("type") == "coach"]


def test_the_last_tip_after_the_buyer_gives_up_says_what_went_wrong(engine: Engine) -> None:
    """One-word replies until the buyer left: the last tip said "再道个歉、谢谢买家……礼貌道别"
    (the buyer's "算了" read as the end of the talk), a step nobody could take any more."""
    s = _play(engine, "keeps_review_experienced", ["在吗", "在", "嗯", "您好", "哦哦"], seed=6)
    assert s.ending == "buyer_gave_up"
    last = _tips(s)[-1]
    assert "礼貌道别" not in last and "没耐心" in last, last
    # what was missing is the step the trainee stood at: the buyer never learnt who was there
    assert "叫出买家的名字" in last, last


def test_the_extortionist_keeping_his_review_is_no_refusal_to_respect(engine: Engine) -> None:
    """"不给是吧？行，差评我会一直挂着" reads as a refusal to change the review, and the tip said
    "尊重他的决定，谢谢他的反馈": advice for an honest buyer, not for extortion. A polite goodbye
    the bad reviewer answered with "行，你们等着吧" ended the chat: no next step to give."""
    s = _play(engine, "pro_bad_reviewer", [
        "亲亲您好～冯磊先生是吗？这边是蔓生美妆售后小欣哈",
        "亲 您11.3号在我们店拍的50g保湿面霜还有印象不😊",
        "亲亲这边理解您的担心哈，我们家所有商品都是品牌直供正品，支持专柜验货的哦，有任何问题都可以给您办理退货退款的呢～",
        "亲 不好意思哈 这个真的做不到呢 补偿是不能和评价挂钩的哦 您如果觉得有问题可以退货退款 我们运费都承担的",
        "那亲亲您先考虑下 有需要随时联系小欣哦 祝您生活愉快～",
    ])
    tips = _tips(s)
    assert "尊重这个决定" not in tips[3] and "不给钱" in tips[3], tips[3]
    assert s.ending == "buyer_left" and tips[4] == "对话已结束。", tips[4]
    card = s.scorecard
    assert card is not None and card.passed and card.outcome.handled


def test_a_buyer_whose_question_was_not_answered_does_not_say_a_cheerful_bye(engine: Engine) -> None:
    """A curt agent: "快递的问题" explained nothing the buyer could take, the buyer asked again why it
    took nine days, and "谢谢，再见" got "好的，拜拜。": only the remedy item had a farewell line."""
    s = _play(engine, "slow_delivery_first_time", [
        "您好，是林晓吗？", "11月2号买的耳机，对吧", "不好意思", "谢谢，再见"], seed=5)
    last = [e for e in s.events if e["type"] == "buyer"][-1]["text"]
    assert "拜拜" not in last and "还没" in last, last
    assert s.scorecard is not None
    assert [v.code for v in s.scorecard.violations] == ["left_waiting"]


def test_the_traditional_buyer_says_it_in_traditional_characters(engine: Engine) -> None:
    s = _play(engine, "traditional_chinese_buyer", [
        "林先生您好，我是暖暖生活馆的售后客服小周，请问是林志明先生吗？", "好的，谢谢，再见"], seed=1)
    last = [e for e in s.events if e["type"] == "buyer"][-1]["text"]
    assert "還沒" in last and "还" not in last, last


def test_asking_for_a_review_that_cannot_change_after_the_fix_is_answered_as_such(engine: Engine) -> None:
    """The new cup ships tomorrow, then the agent asks for the review (38 days old): the buyer said
    "先把杯子的問題處理好吧" about a problem just handled. Asked too early, he still says that."""
    start = [
        "林先生您好，我是暖暖生活館的售後客服小周，請問是林志明先生嗎？",
        "您9月20日在我們店買的500毫升不鏽鋼保溫杯，還記得嗎？",
        "真的很抱歉，讓您每天喝不到熱茶，換作是我也會很失望。",
        "我們查了這一批，杯身抽真空的工序沒做好，已經讓工廠整批返工，也加了保溫測試。",
    ]
    offer = "給您兩個選擇：換一個新的，出貨前先測試保溫，運費我們出；或者退貨退款。您看哪個方便？"
    s = _play(engine, "traditional_chinese_buyer",
              [*start, offer, "好的，新杯子明天就寄出。另外評價的事，如果您方便的話能不能幫忙改一下？"], seed=4)
    late = [e for e in s.events if e["type"] == "buyer"][-1]["text"]
    assert "處理好" not in late and "評價" in late, late
    assert (6, "request_not_allowed") in _codes(s)
    s = _play(engine, "traditional_chinese_buyer",
              [*start, "如果您方便的話，評價能不能幫忙改一下？"], seed=4)
    early = [e for e in s.events if e["type"] == "buyer"][-1]["text"]
    assert "處理好" in early, early


def test_a_curt_review_request_is_read_as_one(engine: Engine) -> None:
    """"好的，已退。能改下评价吗？" asked for the review, but nothing was read in it: the scorecard
    called it a turn that moved nothing (没有推进任何一步) instead of a request made too early."""
    s = _play(engine, "slow_delivery_first_time", [
        "您好，是林晓吗？", "11月2号买的耳机，对吧", "不好意思", "好的，已退。能改下评价吗？"], seed=5)
    assert "request_review" in s.turns[-1].acts, s.turns[-1].acts
    codes = [c for _, c in _codes(s)]
    assert "early_request" in codes and "wasted_turn" not in codes, codes


PUSHY = [
    "沈雅女士您好，我是栖木家居的售后客服，请问是沈雅女士吗？",
    "您11月1日在我们店定做的雾灰色遮光窗帘，还记得吗？",
    "实在抱歉，颜色和图片不一样让您失望了。",
    "是拍照的时候灯光偏暖，颜色看起来更灰，其实实物就是这个色。",
    "给您两个选择：免费重新定做一副，或者退一部分款，您看哪个合适？",
    "好的，已经给您安排重做了，大概七天发出。那评价方面，您看能不能帮忙改一下？",
    "真的不能改吗？我们都给您重做了。",
    "您再考虑一下嘛，就动动手指的事。",
    "那好吧，谢谢您，再见。",
]


def test_pushing_after_the_no_without_naming_the_review_is_still_pushing(engine: Engine) -> None:
    """After "评价我想保留", "真的不能改吗？" and "您再考虑一下嘛" name no review: nothing was read in
    them, the buyer answered "还有别的事吗？" as if nothing was said, the scorecard called them turns
    that moved nothing, and the agent who argued twice with a no passed with 82."""
    s = _play(engine, "keeps_review_experienced", PUSHY)
    codes = _codes(s)
    assert (7, "pushes_after_refusal") in codes and (8, "pushes_after_refusal") in codes, codes
    assert not any(c == "wasted_turn" for _, c in codes), codes
    buyer = [e["text"] for e in s.events if e["type"] == "buyer"]
    assert "还有别的事吗" not in buyer[6] and "还有别的事吗" not in buyer[7], buyer[6:8]
    assert buyer[6] != buyer[7]
    card = s.scorecard
    assert card is not None and not card.passed and card.outcome.review_request == "declined"
    # the same words before any no are no push: "您再考虑一下" about the options is fine
    s = _play(engine, "keeps_review_experienced", [*PUSHY[:5], "您再考虑一下，两个方案都可以。"])
    assert "urges_again" not in s.turns[-1].facts


def test_a_shop_red_packet_is_one_of_the_options(engine: Engine) -> None:
    """"补偿您10元无门槛红包，或者给您退5元运费" is two options; the red packet was no remedy cue, so
    the card said "✗ 给两个以上选项让买家挑" to a trainee who had just offered two."""
    s = _play(engine, "slow_delivery_first_time", [
        "林晓您好，我是悦途数码的售后客服小悦，请问是林晓本人吗？",
        "您11月2日在我们店买的白色蓝牙耳机，还有印象吗？",
        "真的很抱歉，让您等了九天，换谁都会着急。能说说当时物流是卡在哪了吗？",
        "是双十一期间快递爆仓，中转站积压了好几天，我们已经换了一家更稳定的快递合作。",
        "给您两个选择：补偿您10元无门槛红包，或者给您退5元运费，您看哪个合适？"], seed=7)
    offer = s.turns[-1]
    assert "concrete_options" in offer.facts and "apology_gift" in offer.remedies, offer.remedies


def test_the_bad_reviewer_answers_one_word_replies_in_step(engine: Engine) -> None:
    """One-word replies to the bad reviewer: to "有话直说。" (no question) the next press was "能先
    回答我刚才的问题吗？", and when he left before naming any price he said "行，不给是吧"."""
    s = _play(engine, "pro_bad_reviewer", [
        "冯磊先生您好，我是蔓生美妆客服小欣，请问是冯磊先生吗？", "嗯", "哦", "行"], seed=9)
    buyer = [e["text"] for e in s.events if e["type"] == "buyer"]
    for said, then in pairwise(buyer):
        if "回答" in then:
            assert "？" in said, (said, then)  # asked again only after a question
    assert s.ending == "buyer_gave_up"
    assert "不给" not in buyer[-1] and "三百" not in "".join(buyer), buyer


KIDS_SHOES = [
    "亲亲您好呀～请问是陈静亲吗？这边是跃动童鞋售后小乐哦😊",
    "亲，看到您11.6在我们家拍的儿童网面运动鞋32码，反馈说偏小挤脚是嘛？",
    "亲亲真的非常抱歉呢，让宝贝穿着不舒服了😭 宝贝脚有没有磨到呀？",
    "亲 这款鞋是修身版型，本身就比常规小半码，我们详情页之前标注得不够醒目，已经加上提醒了哈",
    "亲这边可以给您1⃣️免费换大一码33码，来回运费我们出 2⃣️退货退款 运费也是我们出 您看哪个方便呢",
    "好的亲 33码已经给您登记 明天就发出哈～顺丰的 2天左右到 亲亲如果这次处理您还满意的话，"
    "方便时可以帮忙追评一下嘛？改不改都看您哈不勉强的～",
    "感谢亲亲的理解和支持💕 再次抱歉给您添麻烦啦，祝宝贝穿得开心，有问题随时找小乐哦～",
]


def test_a_date_typed_11_6_names_the_order(engine: Engine) -> None:
    """"您11.6在我们家拍的…32码" is how agents type a date: it was read as nothing, the mother asked
    "什么事啊？" about the shoes just named, the script machine never left 倾听致歉, and the request
    after she had chosen 33码 was called too early: a model session scored 63 and failed."""
    s = _play(engine, "size_not_fit_first_time", KIDS_SHOES, seed=8)
    assert "confirm_product" in s.turns[1].acts, s.turns[1].acts
    buyer = [e["text"] for e in s.events if e["type"] == "buyer"]
    assert "什么事" not in buyer[1], buyer[1]
    assert _codes(s) == [], _codes(s)
    card = s.scorecard
    assert card is not None and card.passed and card.total >= 85, card.total


def test_a_request_after_the_buyer_chose_is_not_early(engine: Engine) -> None:
    """The order named in words the engine misses ("看到您在我们家拍的童鞋反馈说偏小挤脚") left the
    script machine in 倾听致歉 to the end; the request after the mother had chosen 33码 was called
    too early, and she answered "鞋子的事还没解决呢" about the exchange she had just chosen."""
    replies = [*KIDS_SHOES]
    replies[1] = "亲，看到您在我们家拍的童鞋反馈说偏小挤脚"
    s = _play(engine, "size_not_fit_first_time", replies, seed=8)
    assert s.buyer.chosen == "exchange_size"
    assert not any(c == "early_request" for _, c in _codes(s)), _codes(s)
    buyer = [e["text"] for e in s.events if e["type"] == "buyer"]
    assert "还没解决" not in buyer[5], buyer[5]


def test_typos_and_an_explanation_before_the_stage_count(engine: Engine) -> None:
    """Typed fast: "非常抱谦" (抱歉) was no apology, and "解释时不指责买家" was lost by a trainee who
    explained without blaming anyone, because the script machine skipped the 解释原因 stage."""
    s = _play(engine, "slow_delivery_first_time", [
        "您好 请问是林晓吗 我是悦途数码的客服",
        "亲 您11月2号在我们店买的白色蓝牙耳机 还记的吗",
        "非常抱谦 让您久等了 物流太慢确实影响心情",
        "这次是因为双十一快递爆仓 中转站积压 我们以后会换更快的快递",
        "亲亲，非常抱歉给您带来不好的购物体验，为表歉意，我们可以为您提供以下方案：①退还部分货款10元 "
        "②赠送店铺无门槛优惠券一张，您看您倾向于哪一种呢？",
    ], seed=11)
    assert "apologize" in s.turns[2].acts, s.turns[2].acts
    card = s.scorecard
    assert card is not None
    no_blame = next(c for c in card.checks if c.id == "no_blame")
    assert no_blame.passed, no_blame


def test_the_tip_follows_what_the_buyer_asks_again_for(engine: Engine) -> None:
    """A bare "抱歉" to the angry kettle buyer moves the script machine on to 解释原因, but he still
    waits for an apology that hears him ("你们到底明不明白这有多危险？"); the tip said "用一两句话
    说明原因", and a trainee who followed it was pressed again."""
    s = _play(engine, "poor_quality_experienced", [
        "赵先生您好，暖厨电器客服，是赵建国先生吗", "您11月5号买的电热水壶", "抱歉"], seed=13)
    last = s.events[-3:]
    buyer = next(e for e in last if e["type"] == "buyer")
    assert buyer["event"] == "press" and buyer["item"] == "apology", buyer
    tip = _tips(s)[-1]
    assert "道歉" in tip and "说明原因" not in tip, tip


def test_a_curt_opener_with_name_and_shop_confirms_the_identity(engine: Engine) -> None:
    """"周敏女士吗？柚子家女装客服" names the buyer and says who is calling: it was read as nothing,
    the busy buyer asked "你是？" and, two patience in all, the session was over in two turns."""
    s = _play(engine, "busy_office_worker", ["周敏女士吗？柚子家女装客服"], seed=21)
    assert {"greet_identify", "introduce"} <= set(s.turns[0].acts), s.turns[0].acts
    buyer = [e["text"] for e in s.events if e["type"] == "buyer"]
    assert "你是" not in buyer[0], buyer[0]
    assert not _codes(s), _codes(s)


def test_the_buyer_answers_a_request_for_a_photo(engine: Engine) -> None:
    """"方便拍张底座漏水的照片给我看看吗？" went unanswered: the buyer went on about the leak as if
    nobody had asked. An aside answers it, in the buyer's own script, before the point."""
    start = ["赵先生您好，我是暖厨电器天猫旗舰店的售后客服小林，请问是赵建国先生本人吗？",
             "您11月5日在我们店买的那台1.7升不锈钢电热水壶，还记得吗？"]
    s = _play(engine, "poor_quality_experienced",
              [*start, "实在对不起，插着电漏水太危险了，换谁都会生气。方便拍张底座漏水的照片给我看看吗？"], seed=3)
    buyer = [e["text"] for e in s.events if e["type"] == "buyer"]
    assert "照片" in buyer[-1] and "漏水" in buyer[-1], buyer[-1]
    assert s.conv.stage == "explain", s.conv.stage  # the flow is where it was without the aside
    s = _play(engine, "traditional_chinese_buyer", [
        "林先生您好，我是暖暖生活馆的售后客服小周，请问是林志明先生吗？",
        "您9月20日在我们店买的那个500毫升不锈钢保温杯，还记得吗？",
        "真的很抱歉，让您失望了。方便拍个照片给我看看吗？"], seed=1)
    line = [e["text"] for e in s.events if e["type"] == "buyer"][-1]
    assert "照片" in line and "这" not in line and "会儿" not in line, line


def test_small_talk_is_coached_with_what_the_buyer_asks(engine: Engine) -> None:
    """"您的耳机用着怎么样？" then "哈哈那就好": the buyer still asked what the call was about, but the
    tip said "买家在说问题，先道歉" (the script machine had moved on to 倾听致歉)."""
    s = _play(engine, "slow_delivery_first_time", [
        "林晓您好，我是悦途数码的售后客服小悦，请问是林晓本人吗？", "您的耳机用着怎么样？音质还满意吗？",
        "哈哈那就好"], seed=18)
    tip = _tips(s)[-1]
    assert "你为什么事来的" in tip and "在说问题" not in tip, tip


def test_an_offer_right_after_blaming_the_buyer_is_answered_not_the_old_complaint(engine: Engine) -> None:
    """"您是不是自己拍错了？" was answered ("你这意思是我弄错了？"), then an offer got "嗯，发错货了…" or
    "我是特意买给老伴喝的…": lines the blame had made known, said as if the offer was not there.
    The buyer still waits for the apology the blame withheld, and says so."""
    for seed in (2, 5):
        s = _play(engine, "wrong_item_first_time", [
            "王阿姨您好，我是山野茶铺的售后客服小山，请问是王阿姨本人吗？", "您是不是自己拍错了？",
            "给您两个选择：补发两盒红枣枸杞茶，或者全额退款，您看哪个方便？"], seed=seed)
        buyer = [e for e in s.events if e["type"] == "buyer"]
        last = buyer[-1]
        assert "发错货了" not in last["text"] and "老伴" not in last["text"], last["text"]
        assert last["item"] == "apology" and "对不起" in last["text"], last
        # an apology next is answered as ever, and what the blame made known is not asked again
        s = _play(engine, "wrong_item_first_time", [
            "王阿姨您好，我是山野茶铺的售后客服小山，请问是王阿姨本人吗？", "您是不是自己拍错了？",
            "实在对不起，是我说错话了，给您添麻烦了。"], seed=seed)
        last = [e for e in s.events if e["type"] == "buyer"][-1]
        assert last["item"] == "apology" and last["event"] == "met", last


def test_asking_after_the_buyer_and_family_is_care(engine: Engine) -> None:
    """"您最近还好吗" and the like asked after the buyer and was read as nothing: the buyer answered
    it like any reply that misses the point and lost patience. Asking after the goods is no care."""
    start = ["王阿姨您好，我是山野茶铺的售后客服小山，请问是王阿姨本人吗？",
             "您11月7日在我们店买的红枣枸杞茶，还记得吗？"]
    caring = ["您最近还好吗？", "阿姨您身体还好吧？", "没影响到您吧？", "叔叔喝了没事吧？",
              "孩子没事吧？", "宝宝还好吗？", "没吓着您吧？", "叔叔胃还舒服吗？", "您家里人都还好吧？",
              "没耽误您什么事吧？", "老人家身体要不要紧？", "有没有哪里不舒服？"]
    for line in caring:
        s = _play(engine, "wrong_item_first_time", [*start, line])
        assert "cares" in s.turns[-1].facts, (line, s.turns[-1].facts)
    for line in ["茶叶收到后还好吗？", "包装还好吧？", "还好您提醒了我们。", "物流怎么样？",
                 "这款茶喝着怎么样？", "您看怎么处理好吗？", "您不要紧张，我们会处理好。"]:
        s = _play(engine, "wrong_item_first_time", [*start, line])
        assert "cares" not in s.turns[-1].facts, (line, s.turns[-1].facts)


def test_one_cashback_line_to_the_extortioner_costs_once(engine: Engine) -> None:
    """"您把差评改成好评，我们给您返现50元。" to the bad reviewer who asked for money was three
    deductions (挂钩 40, 答应给钱 40, 向恶意买家提评价 30) for one act; it is one, with the others
    named in it, and the total is what it was."""
    s = _play(engine, "pro_bad_reviewer", [
        "冯磊先生您好，我是蔓生美妆客服小欣，请问是冯磊先生吗？", "您11月3日在我们店买的50g保湿面霜，还记得吗？",
        "实在抱歉让您不放心了，我们都是正品。", "您把差评改成好评，我们给您返现50元。"])
    card = s.scorecard
    assert card is not None and not card.passed and card.total == card.computation.percent - 40
    assert {"conditional_benefit", "pays_extortion", "request_malicious"} <= {c for _, c in _codes(s)}
    cut = [d for d in card.computation.deductions if d.turn == 4]
    assert [(d.code, d.points) for d in cut] == [("conditional_benefit", 40)], cut
    assert set(cut[0].also) == {"pays_extortion", "request_malicious"}, cut[0]
    lines = computation_lines(card.model_dump(mode="json"), load_rubric(engine.dialogs).rubric.labels)
    line = next(ln for ln in lines if ln.startswith("第 4 轮"))
    assert line.count("扣") == 1 and "答应给敲诈者钱" in line and "向恶意买家提评价" in line, line


def test_the_review_line_does_not_contradict_a_request_made(engine: Engine) -> None:
    """The 38-day-old Tmall review: the trainee asked anyway, the violation line said so, and the
    card still said "评价请求：这次不该请求改评" as if nothing was asked. Each line must be true."""
    from bot.training.transcript import review_line
    labels = load_rubric(engine.dialogs).rubric.labels
    start = ["林先生您好，我是暖暖生活馆的售后客服小周，请问是林志明先生吗？",
             "您9月20日在我们店买的500毫升不锈钢保温杯，还记得吗？"]
    s = _play(engine, "traditional_chinese_buyer", [*start, "如果您方便的话，评价能不能帮忙改一下？"], seed=4)
    card = s.scorecard
    assert card is not None and (3, "request_not_allowed") in _codes(s)
    assert card.outcome.review_request == "not_applicable" and card.outcome.review_asked
    assert review_line(card.model_dump(mode="json")["outcome"], labels) is None
    s = _play(engine, "traditional_chinese_buyer", [*start, "真的很抱歉，让您失望了。"], seed=4)
    assert s.scorecard is not None and not s.scorecard.outcome.review_asked
    line = review_line(s.scorecard.model_dump(mode="json")["outcome"], labels)
    assert line is not None and "没有提" in line, line


def test_the_order_named_after_small_talk_is_confirmed(engine: Engine) -> None:
    """Two off-topic lines (the weather, a 双十二 ad) moved the script machine on to 倾听致歉 while
    the buyer still asked "什么事啊？"; the order named next was answered ("记得啊，快递走了整整九天")
    but the card said "✗ 说清是哪一单、买了什么": the small talk already cost its wasted turns."""
    s = _play(engine, "slow_delivery_first_time", [
        "林晓您好，我是悦途数码的售后客服小悦，请问是林晓本人吗？", "最近天气好冷啊，您那边下雪了吗？",
        "对了我们店双十二有活动，耳机第二件半价哦", "您11月2日在我们店买的白色蓝牙耳机，还有印象吗？"], seed=12)
    card = s.scorecard
    assert card is not None
    confirmed = next(c for c in card.checks if c.id == "product_confirmed")
    assert confirmed.passed, confirmed
    assert [c for _, c in _codes(s)] == ["wasted_turn", "wasted_turn"], _codes(s)


def test_a_habit_past_its_limit_is_one_line(engine: Engine) -> None:
    """Saying 你 six times: after the 9-point limit the card said "第 4 轮 …不扣分（…已扣满）" three
    times over. Once the limit is reached the rest are one line naming their turns."""
    s = _play(engine, "size_not_fit_first_time", [
        "你好，陈静吗？我是跃动童鞋客服", "你买的鞋子偏小是吧", "真不好意思，让你孩子受罪了",
        "你放心，我们会处理好", "你看换码还是退货？", "你选哪个都行"], seed=6)
    card = s.scorecard
    assert card is not None
    lines = computation_lines(card.model_dump(mode="json"), load_rubric(engine.dialogs).rubric.labels)
    full = [ln for ln in lines if "已扣满" in ln]
    assert len(full) == 1 and full[0].startswith("第 4、5、6 轮"), lines


def test_carrying_out_the_chosen_fix_costs_no_patience(engine: Engine) -> None:
    """"好的，新壶明天上午就发顺丰，旧的那台快递员会上门取" after the buyer chose the new kettle: he
    asked "还有别的事吗？" and lost a heart of patience, as if the trainee had said nothing."""
    s = _play(engine, "poor_quality_experienced", [
        "赵先生您好，我是暖厨电器天猫旗舰店的售后客服小林，请问是赵建国先生本人吗？",
        "您11月5日在我们店买的1.7升不锈钢电热水壶，还记得吗？",
        "实在对不起，插着电漏水太危险了，换谁都会生气，您和家里人没受伤吧？",
        "这批壶底座的密封圈装配时压得不到位，受热后会渗水，是我们质检没把住关，这批已经全部下架返厂检查了。",
        "给您两个方案：马上给您换一台新的，顺丰发出，旧的快递上门取；或者直接全额退款，运费都由我们承担。您看哪个合适？",
        "好的，新壶明天上午就发顺丰，旧的那台快递员会上门取，不用您跑。"], seed=4)
    assert s.buyer.chosen is not None
    buyer = [e for e in s.events if e["type"] == "buyer"]
    assert buyer[-1]["patience"] == buyer[-2]["patience"], (buyer[-2], buyer[-1])
    # a reply that does nothing there still costs a heart
    s = _play(engine, "poor_quality_experienced", [*[e["text"] for e in s.events if e["type"] == "agent"][:5], "嗯嗯"],
              seed=4)
    buyer = [e for e in s.events if e["type"] == "buyer"]
    assert buyer[-1]["patience"] == buyer[-2]["patience"] - 1, (buyer[-2], buyer[-1])


def test_one_guilt_trip_line_costs_the_guilt_trip_once(engine: Engine) -> None:
    """"差评我要被扣工资" said before the fix cost 26 points in deductions: 道德绑架 8, 过早提评价 8
    on the same line, and 重复请求改评 10 on the trainee's later, textbook request, with nothing
    saying why that one was a repeat. The plea is one act, the review asked by guilt: it costs the
    guilt trip once (the early request named in it); the later request is a real second ask, and
    its line says which turn asked first."""
    labels = load_rubric(engine.dialogs).rubric.labels
    good = [
        "王阿姨您好，我是山野茶铺的售后客服小李，请问是王秀兰阿姨吗？",
        "您11月7日在我们店买的两盒红枣枸杞茶，还记得吗？",
        "差评我要被扣工资",
        "实在对不起，发错了货，给您添麻烦了。能跟我说说具体是什么情况吗？",
        "您是特意给叔叔买的，收到却不能喝，肯定着急，换谁都会着急。",
        "是仓库打包的时候拣错了货，我们已经在打包环节加了一道核对，每单都拍照检查。",
        "给您两个选择：马上给您补发两盒红枣枸杞茶，发错的菊花茶不用寄回；或者直接给您全额退款。您看哪个合适？",
        "好的，红枣枸杞茶今天就给您补发。另外想诚恳地问一下，如果这次处理您还满意，愿意考虑更新一下评价吗？改不改都由您决定。",
        "谢谢您阿姨！再次为发错货向您道歉，祝您和叔叔身体健康，欢迎常来。",
    ]
    s = play(engine, "wrong_item_first_time", good, seed=3)
    card = s.scorecard
    assert card is not None and card.computation is not None
    assert {(3, "guilt_trip"), (3, "early_request")} <= set(_codes(s))  # both still listed
    cut = [(d.code, d.points, d.also) for d in card.computation.deductions if d.turn == 3]
    assert cut == [("guilt_trip", 8, ["early_request"])], cut
    lines = computation_lines(card.model_dump(mode="json"), labels)
    line = next(ln for ln in lines if ln.startswith("第 3 轮"))
    assert line == "第 3 轮 道德绑架（同一句也是过早提评价，合并计算）：扣 8 分", line
    again = next(ln for ln in lines if ln.startswith("第 8 轮"))
    assert again == "第 8 轮 重复请求改评（第 3 轮已经提过评价）：扣 10 分", again
    # on Tmall the review cannot change: the plea there is one act too, at the heavier price
    s = _play(engine, "poor_quality_experienced", [
        *(ln for ln in open_replies("poor_quality_experienced")[:2]), "差评我要被扣工资"])
    card = s.scorecard
    assert card is not None and card.computation is not None
    cut = [(d.code, d.points, d.also) for d in card.computation.deductions if d.turn == 3]
    assert cut == [("guilt_trip", 10, ["request_not_allowed"])], cut
    line = next(ln for ln in computation_lines(card.model_dump(mode="json"), labels)
                if ln.startswith("第 3 轮"))
    assert line == "第 3 轮 道德绑架（同一句也是不该提评价时提了，合并计算）：扣 10 分", line


def open_replies(persona: str) -> list[str]:
    """The model answer of a persona (tests/data/trainees), one reply a line."""
    from pathlib import Path
    path = Path(__file__).parent / "data" / "trainees" / f"{persona}.good.txt"
    return [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
