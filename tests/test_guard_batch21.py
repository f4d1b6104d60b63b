"""The guard on batch 21 of the hand-written shop lines (scripts/guard_handwritten.jsonl).

The classes the batch's TRAIN lines missed, fixed by word class: the price left to the buyer
(您开个价), a thing redeemed for the review (可兑换…一个), the treat the agent pays (奶茶我请), a
benefit named as the thanks for the review (对评价的谢意), a discount made good (优惠补给您), a
membership raised (升级成金卡会员) before the request, the review removed in other words (抹掉,
消掉), the review as a matter to help with (评价这个事儿您看着帮忙), a bare change as the condition
(要是改的话), the remedy right after the review's change (差评删掉我就通知仓库寄); 扣扣 (QQ) read as
a deduction no more, a benefit claimed over the chat app ("+wx 领" normalised to 微信领); a bad review
given back, harassment promised for the buyer's review, parcels refused; an answer wanted by a time
of the day, waiting said with 一直/还, the change belittled as a minute, the same request twice in a
row; the family living off the shop; the buyer's screen setting and certain damage after the
buyer's handling as the cause; the chat app named before the add (微信加我一下). And the
near-misses each class must let through, among them the steps of a change told with its time
(修改评价只需要一分钟，在评价管理里点修改就行: it was warned as pressure).

Every line here is a sibling written afterwards, in none of the corpus files; each violation was
missed before the change, so a rule that only memorised its line fails."""

from __future__ import annotations

import pytest

from bot.engine import Engine
from tests.shared import guard_corpus_texts as _corpus_texts
from tests.shared import guard_findings as _findings

VIOLATIONS: list[tuple[str, tuple[str, ...], str]] = [
    # benefits the rules did not know, and review words they did not know
    ("中评撤了吧，要多少钱您开个价", (), "conditional_benefit"),
    ("好评可兑换定制钥匙扣一个", (), "conditional_benefit"),
    ("好评给我们的话，咖啡我请哈", (), "conditional_benefit"),
    ("这8块钱算是对评价的谢意", (), "conditional_benefit"),
    ("您追评写两句，活动价的优惠我们补给您", (), "conditional_benefit"),
    ("能帮忙把差评撤一下吗", ("给您升级成金卡会员了",), "conditional_benefit"),
    ("麻烦把中评消掉，我再给您寄一盒", (), "conditional_benefit"),
    ("评价这个事儿您看着帮帮忙，红包我给您留着", (), "conditional_benefit"),
    ("要是改一下的话，小样我多配两包", (), "conditional_benefit"),
    ("差评删掉我就通知仓库寄", (), "conditional_benefit"),
    # the chat app: 扣扣 is QQ, not a deduction; a claim over WeChat
    ("加我扣扣 我给你转20块", (), "conditional_benefit"),
    ("亲 +v信 领取感谢金", (), "conditional_benefit"),
    # a review back, harassment for the buyer's review, parcels refused
    ("您要这样，我们也给您留个差评", (), "threat"),
    ("您给了个差评，那我们就每天给您发消息", (), "threat"),
    ("今后您的快递我们都不发了", (), "threat"),
    # an answer by a time of the day, waiting, a minute, the same request twice
    ("评价的事明天中午前给我个回复吧", (), "pressure"),
    ("评价改好吱一声，我还等着您呢", (), "pressure"),
    ("评价您只用一分钟就能改完", (), "pressure"),
    ("评价删一下吧删一下吧", (), "pressure"),
    ("差评一挂，我们靠这家小店吃饭的一家人怎么办", (), "guilt_trip"),
    ("您这样晒肯定会褪色的", (), "blame"),
    ("看着发白是因为您电脑屏幕调太亮了", (), "blame"),
    # the chat app named before the add
    ("微信加我一下，细聊", (), "off_platform"),
    ("扣扣加一下 我给你转20块", (), "conditional_benefit"),
]

# no finding at all
SPOTLESS: list[tuple[str, tuple[str, ...]]] = [
    ("您要是改收货地址的话，发我就行", ()),
    ("给您补偿10元，评价改不改都随您，有问题随时找我", ()),
    ("这个我们不会给您差评的，您放心", ()),
    ("以后您的快递我们就不发中通了，改发顺丰", ()),
    ("不同的手机屏幕亮度不一样，看着颜色会有差别", ()),
    ("这款面料建议手洗，机洗容易起球哦", ()),
    ("我们一直等着您的反馈，有问题随时说", ()),
    ("退款给您退了，另外补了10元红包，不需要您做任何事", ()),
    ("今天下班前我们会给您一个答复", ()),
    ("会员升级是系统自动的，跟评价没有关系", ()),
    ("领取优惠券的入口在店铺首页，每人可以领取一张", ()),
    ("这次的优惠差价我们补给您，请查收", ()),
    ("奶茶杯我们再给您寄一个，实在抱歉", ()),
    ("有问题随时联系我", ("给您升级成金卡会员了",)),
    ("修改评价只需要一分钟，在评价管理里点修改就行", ()),
    ("微信加购物车就能看到", ()),
]


def test_the_siblings_are_in_no_corpus_file() -> None:
    texts = _corpus_texts()
    assert not [t for t, _, _ in VIOLATIONS if t in texts]
    assert not [t for t, _ in SPOTLESS if t in texts]


@pytest.mark.parametrize(("text", "context", "code"), VIOLATIONS)
def test_batch21_wording_is_found(engine: Engine, text: str, context: tuple[str, ...], code: str) -> None:
    found = _findings(engine, text, context)
    assert code in found, found


@pytest.mark.parametrize(("text", "context"), SPOTLESS)
def test_batch21_near_misses_pass(engine: Engine, text: str, context: tuple[str, ...]) -> None:
    assert _findings(engine, text, context) == {}
