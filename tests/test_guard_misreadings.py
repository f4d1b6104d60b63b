"""Guard misreadings users found (false alarms that failed trainees, and misses), each with
sibling lines in the agents' own wording: the same kind of message said otherwise, so a fix
that only learnt the reported line fails here. The reported lines are here too."""

from __future__ import annotations

import pytest

from bot.engine import Engine


def _findings(engine: Engine, text: str, context: tuple[str, ...] = (), stage: str | None = None) -> dict[str, str]:
    return {f.code: f.severity for f in engine.understand.findings(text, context, stage)}


# A remedy already done, then one request for the review (and "改好了跟我说一声"): nothing is
# offered for it. A deadline (今天之内, 今晚之前) is still pressure (warn, domain.md "What is forbidden").
AFTER_DONE = [
    (("退款已经给您原路退回了，您注意查收一下",), "那麻烦您今天之内把评价改一下哈，改好了跟我说一声",
     {"pressure": "warn"}),
    (("亲 钱已经原路退回到您支付宝了哈",), "评价方便的话帮忙改下哦，改好了跟我说一声～", {}),
    (("已为您办理退款，请注意查收哦",), "麻烦亲有空把评价改一下哈~改好了回我一句就行", {}),
    (("给您补发的那件今天已经发出去了，单号稍后同步您",), "那差评能不能帮忙改一下呀，弄好了告诉我一声哈", {}),
    (("退款申请已经通过了哈亲",), "亲今晚之前把评价改一下哈，改好了说一声", {"pressure": "warn"}),
]


@pytest.mark.parametrize(("context", "text", "expected"), AFTER_DONE)
def test_a_request_after_a_done_remedy_ties_nothing(
        engine: Engine, context: tuple[str, ...], text: str, expected: dict[str, str]) -> None:
    assert _findings(engine, text, context) == expected


def test_a_request_after_a_promised_remedy_still_ties_it(engine: Engine) -> None:
    found = _findings(engine, "麻烦亲把评价改一下哈，改好了跟我说声", ("好的，给您补发一件新的，明天就安排",))
    assert found.get("conditional_benefit") == "block"


# The warehouse checking its camera, and 查到了给您回复: 您 is who is told, not who is looked up.
WAREHOUSE = [
    "仓库看一下监控",
    "仓库看一下监控，查到了给您回复",
    "好的亲，我让仓库看一下监控，查到了跟您说哈",
    "仓库调一下监控哈，查过了第一时间告诉您",
    "已经让仓库看一下监控了，查到了通知您～",
    "仓库调了监控，查了下您这单，确实少装了一个，马上给您补寄",
]


@pytest.mark.parametrize("text", WAREHOUSE)
def test_the_warehouse_camera_is_no_private_data(engine: Engine, text: str) -> None:
    assert "privacy" not in _findings(engine, text)


def test_looking_the_buyer_up_is_still_private(engine: Engine) -> None:
    assert _findings(engine, "查了下您，您上个月在我们家退了三次货").get("privacy") == "block"


# 追评 as what the buyer wrote (您的追评, 追评的问题, 看到您的追评) beside the refund: no review act.
FOLLOWUP_SEEN = [
    "看到您的追评了，这一单给您全额退款，东西不用寄回了",
    "亲，这一单给您全额退款，您追评的问题我们已经反馈给工厂了",
    "您的追评我们看到了，非常抱歉，这一单给您全额退款",
    "收到您的追评，这一单给您全额退款，您看这样可以吗",
    "这一单给您全额退款，追评您想怎么写都可以",
    # done, then one request
    "这一单已经给您全额退款了，您方便的时候可以追评一下处理结果",
]


@pytest.mark.parametrize("text", FOLLOWUP_SEEN)
def test_a_full_refund_beside_the_buyers_followup_review_passes(engine: Engine, text: str) -> None:
    assert "conditional_benefit" not in _findings(engine, text)


@pytest.mark.parametrize("text", [
    "这一单给您全额退款，您方便的话追评一下哈",  # promised, and the review asked in one breath
    "追评晒个图的话，这一单给您全额退款",
    "这一单给您全额退款，追评写好一点哈",
])
def test_a_refund_promised_beside_a_followup_request_still_ties(engine: Engine, text: str) -> None:
    assert _findings(engine, text).get("conditional_benefit") == "block"


# Money for the review, the sum said in Chinese numerals without 元/块.
@pytest.mark.parametrize("text", [
    "您把差评删了，我马上给您转三十",
    "差评删掉我这边给您返五十",
    "评价改成好评，我给您转一百哈",
    "删了评价马上转您三十",
    "中评改一下，给您补二十吧",
])
def test_money_for_the_review_in_chinese_numerals_is_blocked(engine: Engine, text: str) -> None:
    assert _findings(engine, text).get("conditional_benefit") == "block"


def test_transferring_the_buyer_to_a_colleague_is_no_money(engine: Engine) -> None:
    assert _findings(engine, "我给您转一下售后专员哈，评价的事您自己决定就好") == {}


WARNED = [
    # the review's harm to the shop, and a plea (guilt trip)
    ("差评影响我们很大，您能不能帮帮忙", "guilt_trip"),
    ("亲，这个差评对我们小店影响真的挺大的，能帮帮忙吗🙏", "guilt_trip"),
    ("中评对店铺影响特别大，拜托您了", "guilt_trip"),
    ("这条差评对我们伤害太大了，求您帮个忙", "guilt_trip"),
    ("差评对我们的影响真的很大很大，麻烦亲帮帮忙", "guilt_trip"),
    # the buyer's problem belittled, the review rebuked (blame)
    ("这点小事至于给差评吗", "blame"),
    ("就这么点小问题，至于打个差评吗", "blame"),
    ("一点小毛病而已，犯得着给中评吗", "blame"),
    ("这么点事儿用得着差评么", "blame"),
    ("多大点事啊，还给差评", "blame"),
    # brushing the buyer off (blame: hostile to the buyer, design.md has no other code)
    ("爱改不改，随便您", "blame"),
    ("行了行了知道了", "blame"),
    ("爱删不删吧，随你", "blame"),
    ("好了好了，知道了知道了", "blame"),
    ("您爱怎么评就怎么评吧", "blame"),
    ("行了行了，别说了", "blame"),
    # the change belittled as no effort (pressure)
    ("改一下吧，就动动手指的事", "pressure"),
    ("评价改一下呗，就是动动手指头的事儿", "pressure"),
    ("亲 帮忙删下差评嘛，举手之劳～", "pressure"),
    ("改个评价很快的，几秒钟的事", "pressure"),
    ("就点一下的事，您帮忙改改吧", "pressure"),
    # asked to reconsider, the review's weight for the shop (pressure)
    ("那您再考虑考虑吧，评价对我们很重要", "pressure"),
    ("亲 您再想想吧，这个评价对我们真的很重要", "pressure"),
    ("要不您再考虑一下？好评对我们店很关键的", "pressure"),
    ("您再斟酌斟酌，评价对我们小店挺重要的", "pressure"),
]


@pytest.mark.parametrize(("text", "code"), WARNED)
def test_guilt_blame_rudeness_and_pressure_are_warned(engine: Engine, text: str, code: str) -> None:
    found = _findings(engine, text)
    assert found.get(code) == "warn", found
    assert "block" not in found.values(), found


@pytest.mark.parametrize("text", [
    "评价改不改都随您，我们尊重您的决定",
    "好的好的，知道了，我马上帮您处理",
    "行，知道了，我这就给您登记",
    "差评对我们影响很大，所以您反馈的问题我们特别重视",
    "修改评价的入口在订单里，点一下就能看到",
    "您的评价对我们很重要，我们会认真改进",
    "您能不能帮忙看一下快递单号",
])
def test_the_polite_look_alikes_pass(engine: Engine, text: str) -> None:
    assert _findings(engine, text) == {}


# The order's own address confirmed to send its replacement is handling this order, not private data.
@pytest.mark.parametrize("text", [
    "您收货地址是公司对吧，我们按这个地址补寄",
    "您留的收货地址是公司对吧，我们按这个地址补寄",
    "亲，收货地址在学校对吧，照原来的地址给您重发一件",
])
def test_the_orders_address_confirmed_for_a_reshipment_passes(engine: Engine, text: str) -> None:
    assert "privacy" not in _findings(engine, text)


@pytest.mark.parametrize("text", [
    "您是在医院上班吧，看您收货地址是医院",
    "根据您的收货地址，您应该住得挺远",
    "您收货地址是公司对吧，下次有活动我们寄到您公司",
])
def test_the_address_beyond_the_reshipment_is_still_private(engine: Engine, text: str) -> None:
    assert _findings(engine, text).get("privacy") == "block"
