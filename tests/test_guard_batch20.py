"""The guard on batch 20 of the hand-written shop lines (scripts/guard_handwritten.jsonl).

First the photo class: whose photo is the cause decides blame. The listing's pictures are the
shop's, so "颜色偏暗是因为拍照用了滤镜" explains (it was warned as blame); the buyer's photo, phone
or light named as the cause ("是您拍照用了滤镜吧") turns the complaint back on the buyer (it was
missed). Then the classes the batch's TRAIN lines missed: review words dictated (写一句“…”), the
request "顺手" after an offer, a plea about the review beside money, a membership or discount
given before the request, a sum agreed in Chinese numerals in the malicious stage; shops warning
one another (商会, 互相通报); the buyer's purchases summed up, their social profile, their
workplace called, their birthday held; pings counted over the day, a countdown, a run of days,
"再拖下去"; the team's meetings and lost bonus, the boss's scolding, pay named against a fine; why
the buyer did not say so at once, read the manual first, "自己拿剪刀剪的吧", "出库前都检查过";
business moved off Taobao. And the near-misses: a parcel put in the buyer's locker, the review
put off until the goods arrive.

The rules were changed by word classes for the batch's TRAIN lines; every line here is a sibling
written afterwards, in none of the corpus files, so a rule that only memorised its line fails."""

from __future__ import annotations

import pytest

from bot.engine import Engine
from bot.guard.corpus import BLOCK_CODES
from tests.shared import guard_corpus_texts as _corpus_texts
from tests.shared import guard_findings as _findings

# the buyer's photo, camera or light read as the cause
BUYER_PHOTO = [
    "是您拍照用了滤镜吧",
    "应该是您手机开了美颜，所以颜色看着不对",
    "可能是因为您拍的时候灯光偏黄吧",
    "你那照片光线太暗了，所以看着发灰",
]

# the shop's own photos as the cause, or a photo asked for: no finding at all
SHOP_PHOTO = [
    "颜色偏暗是因为拍照用了滤镜",
    "颜色偏暗是因为拍照用了滤镜，实在抱歉，我们给您换一件",
    "照片偏亮是因为拍摄的时候打了补光灯，实物会暗一些",
    "主图修图修过了，所以看着比实物亮",
    "您拍的图很清楚，确实是我们的色差",
    "麻烦您在光线好一点的地方拍张照片，我们对比一下",
]

VIOLATIONS = [
    # review words dictated, the request slipped in after an offer, a plea beside money
    ("评价里写两句“包装很好”，下回来买给您免单", "conditional_benefit"),
    ("给您直接补个新的，顺便把中评改了哈", "conditional_benefit"),
    ("这边可以再多送您一瓶，中评那块能不能手下留情", "conditional_benefit"),
    # shops warning one another
    ("您这种情况我们会和同城的商家互相通报", "threat"),
    ("这附近的店都是我们商会的，差评的事您想好", "threat"),
    ("中评不删的话，换货这边真的不好给您安排", "threat"),
    ("您爱人的电话我们这边有，要不让他劝劝您", "threat"),
    # the buyer's data beyond the order
    ("看您以前在我们这买的都是黑色的，这次怎么选了白色", "privacy"),
    ("您抖音头像是只猫吧", "privacy"),
    ("您在微博上吐槽我们的那条我们都看到了", "privacy"),
    ("后台资料里显示您的出生年月是1990年", "privacy"),
    ("你们单位的人事我们联系过了", "privacy"),
    # pings counted, a countdown, a run of days, dragging on
    ("亲，早上打了您电话，下午也打了，评价您倒是给个话呀", "pressure"),
    ("亲，还剩最后一天能改评价了", "pressure"),
    ("我们会连续五天跟进您评价的情况", "pressure"),
    ("都第三天了，中评还在呢", "pressure"),
    ("评价的事您再这么拖着，我只能一直问了", "pressure"),
    # the team's meetings and bonus, the boss's scolding, pay against a fine
    ("为了您这个差评，我们整个组开了两次会", "guilt_trip"),
    ("因为这个差评，我们这周都没奖金了", "guilt_trip"),
    ("差评一个罚我们300，我一个月才挣四千", "guilt_trip"),
    ("主管为了这个中评骂了我一下午", "guilt_trip"),
    # polite blame
    ("您为啥收到的时候不说呢", "blame"),
    ("麻烦先看看详情页再来问好吗", "blame"),
    ("您这是自己用牙咬开的吧", "blame"),
    ("我们发货前全都质检过的，到您那就坏了我们也不好说", "blame"),
    # business moved off the platform
    ("以后直接找我下单就行，不必走平台", "off_platform"),
]

# no finding at all
SPOTLESS = [
    "快递已经投进您楼下的丰巢柜了，取件码在短信里",
    "会员积分是系统按订单自动发的",
    "以后有问题直接找我就行，在旺旺上就能处理",
    "这批货出库前都质检过的，可能是路上颠坏了，给您补发",
    "您的会员已经升级好了，以后都是95折",
    "您为什么不满意呢，能具体说说吗",
]


def test_the_siblings_are_in_no_corpus_file() -> None:
    texts = _corpus_texts()
    assert not [t for t in BUYER_PHOTO + SHOP_PHOTO + SPOTLESS if t in texts]
    assert not [t for t, _ in VIOLATIONS if t in texts]


@pytest.mark.parametrize("text", BUYER_PHOTO)
def test_the_buyers_photo_as_the_cause_is_blame(engine: Engine, text: str) -> None:
    assert _findings(engine, text).get("blame") == "warn", _findings(engine, text)


@pytest.mark.parametrize("text", SHOP_PHOTO)
def test_the_shops_own_photo_as_the_cause_explains(engine: Engine, text: str) -> None:
    assert _findings(engine, text) == {}


def test_the_photo_explanation_reads_as_an_explanation_not_blame(engine: Engine) -> None:
    """The agent's acts follow the guard: blame turns an explanation into blame_buyer."""
    shop = engine.understand.agent("颜色偏暗是因为拍照用了滤镜，给您添麻烦了")
    assert "blame_buyer" not in shop.acts, shop.acts
    buyer = engine.understand.agent("颜色偏暗是您拍照用了滤镜吧")
    assert "blame_buyer" in buyer.acts and "explain" not in buyer.acts, buyer.acts


@pytest.mark.parametrize(("text", "code"), VIOLATIONS)
def test_batch20_wording_is_found(engine: Engine, text: str, code: str) -> None:
    found = _findings(engine, text)
    assert code in found, found
    if code in BLOCK_CODES:
        assert found[code] == "block"


@pytest.mark.parametrize("text", SPOTLESS)
def test_batch20_spotless_lines_get_nothing(engine: Engine, text: str) -> None:
    assert _findings(engine, text) == {}


def test_a_membership_given_before_the_request_ties(engine: Engine) -> None:
    context = ("给您的vip会员已经开通了，以后都打9折",)
    assert _findings(engine, "还有那个差评，您方便改一下哈", context).get("conditional_benefit") == "block"
    # a refund done before it is the fix, and the one request after it stays allowed
    done = ("退款已经原路退回了",)
    assert "conditional_benefit" not in _findings(engine, "还有那个差评，您方便改一下哈", done)


def test_a_sum_in_chinese_numerals_agreed_in_the_malicious_stage_is_blocked(engine: Engine) -> None:
    assert _findings(engine, "那就三百吧，钱转您微信", stage="malicious").get("conditional_benefit") == "block"
    assert "conditional_benefit" not in _findings(engine, "那就三百吧，钱转您微信")


def test_the_review_put_off_until_the_goods_arrive_is_no_second_request(engine: Engine) -> None:
    context = ("问题处理好了，评价方便的话可以改一下吗",)
    assert "repeat_request" not in _findings(engine, "等您用几天觉得没问题了，评价您再决定就好", context)
    assert "repeat_request" in _findings(engine, "评价您再考虑一下呗", context)
