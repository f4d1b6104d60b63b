"""The guard on real shops' scripts: what the hand-written guard lines (scripts/guard_handwritten.jsonl)
showed the rules missing or blocking wrongly, as lines through the real engine.

Every line here is from the TRAIN half (the test checks it with the frozen split), so the rules
written for them are measured honestly on the held-out half."""

from __future__ import annotations

import pytest

from bot.corpus import is_heldout
from bot.engine import Engine


def _codes(engine: Engine, text: str, context: tuple[str, ...] = (), stage: str | None = None) -> set[str]:
    return {f.code for f in engine.understand.findings(text, context, stage)}


def _blocked(engine: Engine, text: str) -> bool:
    return engine.understand.guard.blocks(engine.understand.findings(text))


VIOLATIONS = [
    # money words shops use: 打款, 转账, "奶茶钱我出"
    ("评价删了以后跟我说一声，我这边给您打款", "conditional_benefit"),
    ("改了吗亲？改了我马上给您转账", "conditional_benefit"),
    ("宝子～帮忙改个好评，奶茶钱我出😘", "conditional_benefit"),
    # the 好评返现 card in the parcel; a remedy parked until the review is handled
    ("亲，您看下包裹里的返现卡，按上面的步骤操作就能领", "conditional_benefit"),
    ("您的售后单我这里先挂着，评价那边处理了再说", "conditional_benefit"),
    ("上门取件我这边可以约，您先把中评改了吧", "conditional_benefit"),
    # threats: an account ban, private data as leverage
    ("您不改评价的话，我们会向平台申请判定为恶意评价，封您账号", "threat"),
    ("我们有您的地址和电话，您想清楚了再说", "threat"),
    ("信不信我们把您的收货信息公开", "threat"),
    # private data beyond the order
    ("您家孩子在上幼儿园吧，买的都是儿童用品", "privacy"),
    ("您这个收货地址是出租屋吧", "privacy"),
    ("后台能看到您的生日是下个月，给您准备个惊喜", "privacy"),
    ("快递员跟我们说您家养了两条狗", "privacy"),
    # contact promised or counted over the review
    ("您考虑得怎么样了？今天能改吗？明天我再来问您", "pressure"),
    ("亲，我给您打了好几个电话了，您一直不接，评价到底改不改", "pressure"),
    ("深夜打扰了，我实在着急，评价的事您今晚看看吧", "pressure"),
    ("今天改不了的话，我明天后天还会继续联系您", "pressure"),
    # asking again, in the ways agents say it
    ("第二次来请求您了，评价麻烦您再想想", "repeat_request"),
    ("我再厚着脸皮问一次，评价能改吗", "repeat_request"),
    ("亲，评价的事我再说最后一次", "repeat_request"),
    ("上周跟您沟通的评价的事，有结果了吗", "repeat_request"),
    # guilt and blame
    ("因为您的差评，我已经被店长约谈了", "guilt_trip"),
    ("我今年刚毕业，第一份工作，您就当帮帮新人吧", "guilt_trip"),
    ("您收货的时候怎么不当面检查呢，现在我们也说不清了", "blame"),
    ("其他买家都说好用，就您说不行，是不是您不会用啊", "blame"),
    ("亲，您买之前不问清楚，怪不了我们", "blame"),
    ("要是您早点联系我们，就不会坏成这样了", "blame"),
    ("我们详情页写了要冷藏，是您放在常温下才坏的", "blame"),
    # a second round, written after the first rules, in more general shapes
    ("您要是继续给差评，以后我们全网的店都不接您的单", "threat"),
    ("差评这事您自己想想后果", "threat"),
    ("您一条差评，我们全组今天都得加班写总结", "guilt_trip"),
    ("我因为这个差评已经哭了一晚上了", "guilt_trip"),
    ("评价的事情希望今天就有结果，领导一直在问", "pressure"),
    ("如果今晚还不改，我明天一早再来找您", "pressure"),
    ("再叨扰您一次，评价能帮忙更新吗", "repeat_request"),
    ("您先生的单位我们也知道，要不要我们联系他", "privacy"),
    ("您要是按说明书来，根本不会出现这种问题", "blame"),
    ("您家孩子玩得太用力了，玩具才会断", "blame"),
    ("收到货不及时拆开检查，现在才说，我们很难处理", "blame"),
]


@pytest.mark.parametrize(("text", "code"), VIOLATIONS)
def test_shop_script_violations_are_found(engine: Engine, text: str, code: str) -> None:
    assert not is_heldout(text)
    assert code in _codes(engine, text)


def test_a_benefit_across_messages_and_agreeing_in_malicious(engine: Engine) -> None:
    text, ctx = "评价那块就拜托您了", ("补偿的钱我这边马上给您打过去",)
    assert not is_heldout(text)
    assert "conditional_benefit" in _codes(engine, text, ctx)
    text = "那就这样，钱我们转给您，评价您处理一下"
    assert not is_heldout(text)
    assert "conditional_benefit" in _codes(engine, text, (), "malicious")


CLEAN = [
    # the remedy is done, the request leaves the choice to the buyer
    "退款已经到您账户了，如果您满意我们的处理，可以考虑更新一下评价，完全自愿哈",
    "我们给您退了30元差价，如果您愿意的话，可以追评说说处理情况，不勉强",
    # a staff explanation is not a guilt trip
    "我们翻了一下打包记录，那天您的单子是实习生打包的，漏放了说明书",
    "负责那天发货的同事已经被批评了，我们也加了一道复核",
    "那位客服是新来的，对退换货规则不熟，跟您说错了时间",
    # delivery facts and the order's own number are not private data
    "其实货在前天就到了，快递员放在了小区的快递柜里，短信可能被拦截了",
    "我们看了快递签收照片，是放在了您家门口的鞋柜上",
    "仓库把您这单和另一个地址相近的单子合并发货了，所以多了一件别人的东西",
    "亲，是尾号6612的这个订单对吗？",
    # the shop owning its slip is not blame; a callback is not pressure
    "详情页的尺码表没标清楚，让您选错了码，是我们的问题",
    "是我们的操作失误，把您的订单备注漏看了",
    "您先忙，我这边等您消息",
]


def test_leaving_the_choice_clears_the_threat_reading(engine: Engine) -> None:
    text = ("Hi亲～我是木易家居的客服易易，先跟您说声抱歉。您收到的书架少了一块隔板，是工厂打包的时候"
            "按五层装的，您买的是六层款。隔板今天补发出去。等您装好了，评价方面您看着办，想改的话我们感激，不改也理解～")
    assert not is_heldout(text)
    assert not _blocked(engine, text)


# --- a third round: word classes, not one wording at a time ----------------------------------
# Each line is a train line of round 3 (scripts/guard_handwritten.jsonl) standing for a family of
# guard.yaml (cues handle/caused/own_slip, pay/hurt/small_shop/hardship, the new pressure rule);
# the same rule must also catch a sibling wording written for the test, not in the corpus.

FAMILIES = [
    # blame: the buyer's handling read as the cause
    ("blame", "宝宝，这个需要先预热三分钟的，您直接用当然效果不好", "您用热水泡了一晚上，当然会变形"),
    ("blame", "裝的時候螺絲沒擰緊才會晃的，不是產品問題哦", "插头没插紧才会断电的哦"),
    ("blame", "这边看了下照片，这种折痕是收纳不当压出来的呢", "这种霉点是保存不当造成的"),
    ("blame", "亲亲，正常使用是不会出现这种情况的哦", "正常佩戴不会有这种问题的呀"),
    ("blame", "亲 自己量一下再买就不会有这个问题了呀", "您按说明书装就不会有这种情况"),
    # blame: deflection
    ("blame", "宝，超过七天了才来说，我们也很难办的哦", "过了这么久才来反馈，我们这边也没办法"),
    ("blame", "亲，拆封了就影响二次销售了，这个您下单前应该了解的", "亲，定制款不退不换，您拍之前应该知道的"),
    ("blame", "亲，产品本身是没有问题的，建议您再仔细看看说明书", "东西本身没毛病哦亲"),
    # guilt: pay and assessment, a small shop, the boss
    ("guilt_trip", "亲亲，这个月工资发不发就看您了🙏", "我这个月的奖金就靠您了"),
    ("guilt_trip", "亲，我们做的是小本生意，利润就几毛钱，一个差评真的赔不起", "我们是小作坊，一个差评就撑不下去了"),
    ("guilt_trip", "亲，我跟您说实话，老板说再有差评就把我换掉", "店长说这个差评不消就要扣我提成"),
    ("guilt_trip", "亲，给个好评吧，不然我要被调去仓库搬货了", "改一下评价吧，不然我就要被罚了"),
    # pressure: urging, deadlines, an answer demanded, pinging
    ("pressure", "亲 改评价 越快越好", "评价的事急急急，麻烦您"),
    ("pressure", "宝子，评价这事儿咱今天能给个准信吗", "评价能不能改，您给个准话吧"),
    ("pressure", "亲亲，评价要赶在月底前改掉，不然我们就要被考核了", "评价麻烦周末前改好"),
    ("pressure", "⏰评价修改倒计时：还剩1天！亲记得去改哦", "亲，评价修改即将截止，抓紧哦"),
    ("pressure", "亲 在吗 在吗 评价改了吗", "在吗在吗，评价那边怎么样了"),
    # threat and privacy in new words
    ("threat", "老实说，我们有办法让您的账号被限制，劝您配合一下", "劝您识相点，差评赶紧删了"),
    ("threat", "您再不回复，我们就联系您的紧急联系人了", "不删评我们就告诉您的同事"),
    ("privacy", "宝，您是做美甲的吧？看您买的都是工作用的", "您是开奶茶店的吧？"),
    ("privacy", "您淘宝名和微信名一样，我们在朋友圈看到您了", "我们在小红书上搜到您了"),
    # conditional benefits: a price cut, a process step held for the review
    ("conditional_benefit", "您把那条追评删了，这单我给您按半价算", "差评删了，这单按成本价算给您"),
    ("conditional_benefit", "换货单我这先不提交，您把评价改完我立马提交", "退款单先放着，评价改好我马上审批"),
]


@pytest.mark.parametrize(("code", "line", "sibling"), FAMILIES)
def test_round_three_families(engine: Engine, code: str, line: str, sibling: str) -> None:
    assert not is_heldout(line)
    assert code in _codes(engine, line), line
    assert code in _codes(engine, sibling), sibling


def test_round_three_agreeing_to_name_a_price(engine: Engine) -> None:
    text = "行行行，您开个价吧"
    assert not is_heldout(text)
    assert "conditional_benefit" in _codes(engine, text, (), "malicious")
    assert "conditional_benefit" not in _codes(engine, text)  # only in 疑似恶意


CLEAN_3 = [
    # the shop's own slip, a shop-side cause, a product trait: no blame
    "亲，我们的工作人员操作失误把面单贴错了，包裹寄去了别处，非常抱歉",
    "我们复查了发货视频，出库的时候是完好的，破损应该是路上磕的",
    "充电宝充不满，是电芯老化了，那批库存放得太久",
    "这个包包的肩带是可拆的，放在了内袋里，所以您没看到",
    "不是质量问题，是这款本身设计就是这样，但我们应该提前说清楚",
    "羊毛制品第一次穿会有一点浮毛，不是质量问题哈",
    "亲，您看一下是不是开关没有打开？有时候出厂时是关闭状态的",
    # staff the shop sanctioned, an honest small shop: no guilt trip
    "负责的同事已经写了检讨，也扣了绩效",
    "小店起步不容易，评价能不能麻烦您更新一下，当然您不愿意我们也理解",
    "亲，我们仓库这几天大促加班加点在发货，可能会慢一两天，先跟您说声抱歉",
    # how-tos and the shop's own deadlines are not pressure or a second request
    "亲，您说想删掉评价里的照片，在评价管理里点“修改评价”，把图片删掉再提交就行",
    "亲，您说要改评价，我把步骤发给您：评价管理→中评→修改为好评，有不清楚的再问我",
    "中评改好评：评价管理→中评→修改→选择好评→提交",
    "亲，售后申请请在收货后7天内提交哦，超过时间系统就关闭了",
    # a disowned card
    "亲，您说的返现卡不是我们放的，可能是仓库混进去的，我们查一下",
]


@pytest.mark.parametrize("text", CLEAN + CLEAN_3)
def test_clean_near_misses_are_not_flagged(engine: Engine, text: str) -> None:
    assert not is_heldout(text)
    assert _codes(engine, text) == set(), text


def test_round_three_malicious_refusal_is_clean(engine: Engine) -> None:
    text = "亲，补偿只能按平台标准来，不会因为评价多给"
    assert not is_heldout(text)
    assert _codes(engine, text, (), "malicious") == set()


# --- a fourth round: the words of real seller scripts that read as violations ----------------
# Each row: a clean train line of round 4 (scripts/guard_handwritten.jsonl), a clean sibling and a
# violating sibling written for the test with the same words. The review named as where the buyer
# told the shop, couriers/warehouses/systems as the cause, a neighbourhood as a delivery fact,
# 改好了 for an address or an order, money paid through Alipay: clean; the same words turned on
# the buyer or tied to the review are not.

ROUND_4 = [
    ("看到您在评价里提到杯子有裂纹，真的很抱歉，新杯子今天给您补发，顺丰包邮~",
     "您在追评里说的包装破损我们记下了，这单给您补一个收纳袋",
     "您在评价里提到的问题给您补偿10元，麻烦把评价改成好评", "conditional_benefit"),
    ("您在追评里说鞋底开胶，非常抱歉，这是胶水批次的问题，给您退款或换新都可以，您选一个就行。",
     "您在中评里反映的异味，是包装闷的，给您退款或者换新都行",
     "您在中评里反映的异味我们给您退款，追评那边帮忙改成五星哈", "conditional_benefit"),
    ("您的件在站点被错分到了隔壁小区的派送员手里，已经调回来了，今晚送达。",
     "包裹被送到了旁边小区的驿站，快递员已经去拿了",
     "您住的那个小区我们知道，挺高档的", "privacy"),
    ("收货地址我们手动改好了，快递今天上门揽收，一直没发是因为系统拦截，抱歉让您久等。",
     "订单型号已经帮您改好了，之前一直没发就是在等这个",
     "地址改好了，评价也请您尽快改好哈", "pressure"),
    ("补偿的10元已经通过支付宝转给您了，备注写了订单号，请查收。",
     "运费8元已通过支付宝退给您了，请查收",
     "补偿款已经用支付宝转您了，差评那边帮忙删一下哈", "conditional_benefit"),
    ("实木家具有轻微色差是木材天然纹理造成的，不属于质量问题；如果您不喜欢这块的颜色，我们可以给您换一块板。",
     "真皮沙发有细小褶皱是牛皮天然的特点，不属于质量问题哈",
     "不属于质量问题，是您自己洗的方法不对", "blame"),
    ("页面上的发货时间写的不太清楚，是我们的疏忽，您要是等不及，我们马上给您办退款。",
     "预售标识放得不够显眼，您要是等不了，我们给您退款",
     "页面上写得很清楚是预售，您自己没看", "blame"),
    ("是打包的师傅把您的杯子放倒了，所以路上洒了，新的一杯今天补寄，这次立着装。",
     "是派件员把您的包裹放错了楼层，已经取回来了",
     "是您自己把零件装反了，所以用不了", "blame"),
]


@pytest.mark.parametrize(("line", "clean", "violating", "code"), ROUND_4)
def test_round_four_seller_words(engine: Engine, line: str, clean: str, violating: str, code: str) -> None:
    assert not is_heldout(line)
    assert _codes(engine, line) == set(), line
    assert _codes(engine, clean) == set(), clean
    assert code in _codes(engine, violating), violating


def test_round_four_buyer_handling_then_a_comma_is_blame(engine: Engine) -> None:
    line = "快递没问题，是您把包裹放在门口晒了一天，才会化的。"
    assert not is_heldout(line)
    assert "blame" in _codes(engine, line)
    assert "blame" in _codes(engine, "您把面霜放在暖气边上烤了两天，才会变质的")
    # the courier did it: no blame, and no act of blaming
    acts = engine.understand.agent("是快递员把您的件放错了货架，已经拿回来了").acts
    assert "blame_buyer" not in acts


def test_round_four_off_platform_payment(engine: Engine) -> None:
    # paid through Alipay with no review named is a fact; asking for WeChat to pay stays tied
    assert _codes(engine, "您的补偿款8元已通过支付宝转账，麻烦查收") == set()
    assert "conditional_benefit" in _codes(engine, "加一下我微信，补偿款在微信上转给您")
    assert "conditional_benefit" in _codes(engine, "我支付宝私下转您20元，您看评价能不能删了")


def test_round_four_an_address_fixed_asks_for_no_review(engine: Engine) -> None:
    text = "我们已经在后台把地址改好了，之前一直没发出，今天下午发"
    assert _codes(engine, text) == set()
    assert "request_review" not in engine.understand.agent(text).acts
    # the review named in the same breath: 改好了 is the review again
    assert "pressure" in _codes(engine, "订单改好了，评价也麻烦您今天之内改好")


def test_money_just_paid_beside_a_review_action_is_tied_a_done_remedy_beside_a_request_is_not(
        engine: Engine) -> None:
    # the sum named as paid, then the review asked for in the same breath: the price of it
    for text in ("已经给您转了15元，您看差评能不能删了", "刚刚给您退了20块，中评麻烦改一下",
                 "红包已经发您了，评价帮忙改成好评哈"):
        assert "conditional_benefit" in _codes(engine, text), text
    # the choice left to the buyer, or the product's own remedy done (no money named): clean
    for text in ("已经给您转了15元，评价改不改都由您决定", "新的那件已经寄出了，您看方便的话评价能不能更新一下"):
        assert "conditional_benefit" not in _codes(engine, text), text


def test_asking_whether_the_review_changed_is_pressure_not_a_benefit(engine: Engine) -> None:
    # "处理" after a question about the review offers nothing: a nudge, not a deal
    for text in ("评价改完了吗，麻烦抓紧处理一下", "差评删好了吗，麻烦您尽快处理下"):
        codes = _codes(engine, text)
        assert "conditional_benefit" not in codes and "pressure" in codes, text
    # a real link after the review act still ties ("改好了给您退运费")
    assert "conditional_benefit" in _codes(engine, "评价改好了给您退运费")


def test_a_negator_covers_the_things_joined_by_or(engine: Engine) -> None:
    for text in ("我们不会要求您加钉钉或者私下收款", "补偿走平台，不用加qq或是微信转账"):
        assert not _blocked(engine, text), text
    # without the negator the same words are still off the platform
    assert _blocked(engine, "您加一下钉钉或者私下转您20元，差评帮忙删一下")


def test_saying_compensation_cannot_be_tied_to_the_review_is_a_refusal_in_malicious(
        engine: Engine) -> None:
    """An integration trial: the agent sent csbot's own 疑似恶意 suggestion (补偿不能和评价挂钩)
    and was blocked as agreeing to a deal, then told to apologise to the extortioner."""
    for text in ("您反映的商品问题，我们会按平台正常流程处理，退货、退款或者换货都可以。"
                 "不过补偿不能和评价挂钩，这一点还请您理解。",
                 "补偿没法和评价绑在一起，商品问题我们照常处理",
                 "和评价挂钩的补偿我们没办法提供，希望您理解。"):
        assert _codes(engine, text, (), "malicious") == set(), text
    # agreeing to pay stays a tie there
    assert "conditional_benefit" in _codes(engine, "行，给您转200，您把差评删了", (), "malicious")


def test_the_malicious_suggestions_sent_as_they_are_pass_the_guard(engine: Engine) -> None:
    conv, _ = engine.start({"shop": "柚子家运动", "buyer_name": "张伟", "honorific": "先生",
                            "product": "跑鞋", "order_date": "2026-11-25", "agent": "小云"})
    for role, text in (("agent", "您好，请问是张伟先生吗？我是柚子家运动的售后客服小云"),
                       ("buyer", "是我，鞋子开胶了"),
                       ("buyer", "少废话，给我转200块我就把差评删了，不然我天天给你们刷差评")):
        conv, sug = engine.feed(conv, role, text)
    assert sug.stage.id == "malicious" and sug.suggestions
    for reply in sug.suggestions:
        _, after = engine.feed(conv, "agent", reply.text)
        assert not [f for f in after.understanding.findings if f.severity == "block"], reply.text
