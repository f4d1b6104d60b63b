"""The guard on batch 26 of the hand-written shop lines (scripts/guard_handwritten.jsonl).

The classes the batch's TRAIN lines missed, fixed by word class: the review's screenshot said
with 后/完/页面/截个图; benefits the rules did not know (淘金币, 免邮, 盲盒, 感谢费/茶水费, a prize
drawn 抽一台…, a warranty stretched, goods set aside 给您预留两盒, the returning customer's price
老客价); a remedy whose approver is said to stall while the review stands, a benefit held until
the agent sees the changed review, a process waiting for the review to be 没问题; in the
malicious stage a sum the shop will pay said the other way round (五百我们掏); only the buyer's
review missing (就差您这一条好评了); a penalty the agent cannot afford, goods unsold, rank lost, a
family to feed, the agent's assessment; escalation hinted, acquaintances, the gloves off, the
buyer's parcels menaced, the buyer shamed before the people around them; a phone number asked
for a private call, the agent's own phone, a bare "v:" account, other apps' accounts; 要不 read
as a proposal, not a negation; dry heating, "这样…肯定会…" after the buyer's handling, an error
while measuring, the buyer's pet or child as the fault. And the near-misses each class must
let through, among them a shop's rate (每消费10元积1分: it was blocked as spending history).

Every line here is a sibling written afterwards, in none of the corpus files; each violation was
missed before the change, so a rule that only memorised its line fails."""

from __future__ import annotations

import pytest

from bot.engine import Engine
from tests.shared import guard_corpus_texts as _corpus_texts
from tests.shared import guard_findings as _findings

MALICIOUS = "malicious"

VIOLATIONS: list[tuple[str, tuple[str, ...], str | None, str]] = [
    # the review's screenshot, benefits the rules did not know
    ("评价完截个图发我，抽一台空气炸锅", (), None, "conditional_benefit"),
    ("满意的话把评价页面截图发我，这单给您免邮费", (), None, "conditional_benefit"),
    ("好评之后往您账户充200淘金币", (), None, "conditional_benefit"),
    ("删评之后，下次买全店免邮", (), None, "conditional_benefit"),
    ("晒单的都有盲盒一个，记得带图哦", (), None, "conditional_benefit"),
    ("追评写好后，我用支付宝给您转点感谢费", (), None, "conditional_benefit"),
    ("改成五星的话，给您包个茶水费", (), None, "conditional_benefit"),
    ("好评里写上“很好吃”，下次上新给您预留两盒", (), None, "conditional_benefit"),
    ("追评写一句“客服态度好”，我帮您留一份限量款", (), None, "conditional_benefit"),
    ("评价那边您看着帮帮忙", ("这边已经把您备注成老顾客了，以后下单都是老客价",), None, "conditional_benefit"),
    # the remedy or benefit held until the review changes
    ("换货的申请要组长签字，组长说差评挂着的话签不了", (), None, "conditional_benefit"),
    ("退款流程要财务审核，财务说评价还是差评的话很难通过", (), None, "conditional_benefit"),
    ("运费我们可以报销，不过要先看到您的好评截图", (), None, "conditional_benefit"),
    ("保修给您延长半年，但要先看到您改好的评价", (), None, "conditional_benefit"),
    ("售后单要等评价没问题了才能给您安排", (), None, "conditional_benefit"),
    ("退款申请要评价没事了再给您批", (), None, "conditional_benefit"),
    # a sum agreed in the malicious stage
    ("五百我们掏，您把评删了", (), MALICIOUS, "conditional_benefit"),
    ("八百我们出，评价您那边处理一下", (), MALICIOUS, "conditional_benefit"),
    # only the buyer's review missing
    ("全组就差您这一条好评了", (), None, "pressure"),
    ("这个月指标就差您这一个五星了", (), None, "pressure"),
    # what the agent or the shop cannot bear
    ("一个中评就卖不出去了，您看评价能不能改一下", (), None, "guilt_trip"),
    ("我们上有老下有小，差评真的伤不起", (), None, "guilt_trip"),
    ("差评一挂店铺就掉权重，评价您看能不能帮忙", (), None, "guilt_trip"),
    ("差评这个月要考核我的，您看看", (), None, "guilt_trip"),
    # menace in other words
    ("您公司我们也找得到，别闹到那一步", (), None, "threat"),
    ("劝您删了评价，我们在这边认识的人不少", (), None, "threat"),
    ("您这样给差评，那我们可就不客气了", (), None, "threat"),
    ("以后您的包裹自己小心着点", (), None, "threat"),
    ("差评的事您就别做得太绝了", (), None, "threat"),
    ("您不怕您同事看到您这条差评吗", (), None, "threat"),
    ("让您家里人知道您这样给差评，不太好吧", (), None, "threat"),
    # contact moved off the platform
    ("留个电话给我，我让店长打给您", (), None, "off_platform"),
    ("v：shop_kefu1 加一下", (), None, "off_platform"),
    ("您的小红书号是多少？我私信您", (), None, "off_platform"),
    ("您要不直接加我微信吧", (), None, "off_platform"),
    ("亲，要不直接打我电话说吧", (), None, "off_platform"),
    # the buyer's handling, measuring or pet as the cause
    ("这个杯子不能干烧，您干烧了肯定会变黑", (), None, "blame"),
    ("您是不是用热水泡了，这样肯定会变形的", (), None, "blame"),
    ("你测的时候肯定算错了", (), None, "blame"),
    ("您对比的时候看错了吧", (), None, "blame"),
    ("别的宝宝都用得好好的，就您家宝宝过敏", (), None, "blame"),
    ("您家狗太挑食了，别的狗都爱吃", (), None, "blame"),
]

# no finding at all
SPOTLESS: list[str] = [
    "每消费10元积1分，积分可以抵现",
    "满消费200元包邮",
    "留个电话，快递员明天联系您",
    "不要加陌生人微信",
    "我们不会让您加微信的",
    "客服考核是公司内部的事，评价您按实际感受写就行",
    "您的快递注意查收哦",
    "我们已经跟快递员打过招呼了，让他送上楼",
    "别的颜色都有货，您可以换一个",
    "您家宝宝还小，这款玩具有小零件，要注意看护哦",
    "延保是每台新机都有的，不需要做任何事",
    "给您预留了一份新品，下单时备注一下就行",
    "好评截图不用发给我们，您自己留着就好",
    "这个锅不能空烧，空烧会变色，使用时注意一下",
    "孩子还小的话，建议选带护栏的那款",
    "我们老板在您那个城市也有门店，您可以就近去看看",
]


def test_the_siblings_are_in_no_corpus_file() -> None:
    texts = _corpus_texts()
    assert not [t for t, _, _, _ in VIOLATIONS if t in texts]
    assert not [t for t in SPOTLESS if t in texts]


@pytest.mark.parametrize(("text", "context", "stage", "code"), VIOLATIONS)
def test_batch26_wording_is_found(engine: Engine, text: str, context: tuple[str, ...],
                                  stage: str | None, code: str) -> None:
    found = _findings(engine, text, context, stage)
    assert code in found, found


def test_the_agents_own_phone_is_no_private_data(engine: Engine) -> None:
    # the number is the agent's, moved off the chat: a warning, not the buyer's data blocked
    assert _findings(engine, "有事直接打我手机 138 1234 5678") == {"off_platform": "warn"}


@pytest.mark.parametrize("text", SPOTLESS)
def test_batch26_near_misses_pass(engine: Engine, text: str) -> None:
    assert _findings(engine, text) == {}
