"""The guard on batch 10 of the hand-written shop lines (scripts/guard_handwritten.jsonl): the
indirect trades real shops use (a benefit behind a 口令 or a screenshot, the remedy said to weigh
the review, the buyer's quoted words to be cut, whole-sentence pinyin), pushes and repeats in one
breath, guilt and soft threats (法务, the order refused later, the estate office), data held up,
off-platform moves (售后群, 私人号码, 搜钉钉, V我), polite blame (签收了就说明是好的), a deal struck
in the malicious stage; and the clean near-misses (a gift that says it is unrelated, 输入口令 in a
plain notice, one request after the fix, data the shop says it does not need).

The rules were changed by word classes for the batch's TRAIN lines; every line here is a sibling
written afterwards, in none of the corpus files, so a rule that only memorised its line fails."""

from __future__ import annotations

import pytest

from bot.engine import Engine
from bot.guard.corpus import BLOCK_CODES
from tests.shared import guard_corpus_texts as _corpus_texts
from tests.shared import guard_findings as _findings

VIOLATIONS = [
    # the benefit behind a code word or a screenshot, the link far from it
    ("追评写好以后，到店铺首页的会员中心输入暗号就能领红包", "conditional_benefit"),
    ("好评之后，回复数字1给客服，即可领取神秘礼品", "conditional_benefit"),
    ("hao ping jie tu fa wo, song ni yi ge xiao li wu", "conditional_benefit"),
    # the review written longer or with a photo, the buyer's own words to be cut
    ("评价麻烦写详细点带张图，回头给您寄两包替换装", "conditional_benefit"),
    ("您把“做工粗糙”这句话删掉，我这边再送您一个挂钩", "conditional_benefit"),
    # the remedy said to weigh the review, refused while the review stands
    ("换货这边主要看评价的，您改一下能快不少", "conditional_benefit"),
    ("您的中评还挂着的话，补发这边我们办不了哦", "conditional_benefit"),
    ("东西您留着，这单全退给您，差评那边您帮忙处理下", "conditional_benefit"),
    # asked again in one breath, the same day
    ("评价删了没～删了没～删了没～", "pressure"),
    ("上午问了您一次，下午又问，评价改了吗亲", "pressure"),
    ("亲我又来了，评价那个您看看", "repeat_request"),
    # guilt and soft threats
    ("这个差评快把我们这个小店压垮了，求您高抬贵手", "guilt_trip"),
    ("评价不删，法务会找您谈", "threat"),
    ("中评不撤的话，今后您的单子我们一律不接", "threat"),
    ("差评的事不解决，我们只好去问问您的物业了", "threat"),
    ("我们知道您的电话号码，评价不改就打到您改为止", "threat"),
    # data held up, family read off the order
    ("收件人填的是您女儿吧，她也在用我们的东西？", "privacy"),
    ("您的出生日期后台里显示着呢，下个月给您送个小蛋糕", "privacy"),
    # off the platform
    ("您扫下卡片上的码，进我们的福利群，那边有人专门对接", "off_platform"),
    ("给我留个私人手机号，我私下打给您细说", "off_platform"),
    ("qq上搜一下我们的店名，加一下", "off_platform"),
    # polite blame
    ("您签字收货了，就证明东西是完好的哦", "blame"),
    ("宝宝啃坏的这个，我们是不在售后范围的哦", "blame"),
]

MALICIOUS_AGREE = ["行行行，钱这就转过去，一言为定", "好的好的，说到做到，您那边也别再发了"]

CLEAN = [
    "亲，领取会员券需要在店铺首页输入口令“店庆”，所有顾客都能领，跟评价没关系",
    "追评的入口在已评价订单里，想补充的话点进去就行",
    "换货这边主要看库存，有货马上给您发",
    "您的生日不用告诉我们，会员礼是平台统一发的",
    "手机号、地址这些我们用不着，订单号给我就可以了",
    "这次的补发不影响您的会员等级和积分，放心",
    "钱已经原路退回去了，您看中评能不能改一下呢",
    "亲，您的电话我们有，快递到了驿站会给您打电话的",
    "亲，签收的时候如果看到外箱破了，可以直接拒收，我们来处理",
    "猫咪抓坏的情况很常见，我们这款有加厚版，需要的话给您链接",
    "亲，平台上有个淘宝群，店铺活动都在群里发，不用加微信",
    "问题解决了就好，评价的事您自己决定，改不改都没关系",
]

# warn-level findings on clean lines count too: none of these gets any
SPOTLESS = [
    "积分是每笔订单确认收货后系统发的，评价写什么都不影响",
    "身份证、手机号这些我们都用不到的，您放心",
]


def test_the_siblings_are_in_no_corpus_file() -> None:
    texts = _corpus_texts()
    assert not [t for t, _ in VIOLATIONS if t in texts]
    assert not [t for t in CLEAN + SPOTLESS + MALICIOUS_AGREE if t in texts]


@pytest.mark.parametrize(("text", "code"), VIOLATIONS)
def test_batch10_wording_is_found(engine: Engine, text: str, code: str) -> None:
    found = _findings(engine, text)
    assert code in found, found
    if code in BLOCK_CODES:
        assert found[code] == "block"


@pytest.mark.parametrize("text", CLEAN)
def test_batch10_look_alikes_pass(engine: Engine, text: str) -> None:
    assert "block" not in _findings(engine, text).values(), _findings(engine, text)


@pytest.mark.parametrize("text", SPOTLESS)
def test_batch10_spotless_lines_get_nothing(engine: Engine, text: str) -> None:
    assert _findings(engine, text) == {}


@pytest.mark.parametrize("text", MALICIOUS_AGREE)
def test_a_deal_struck_in_the_malicious_stage_is_blocked(engine: Engine, text: str) -> None:
    assert _findings(engine, text, stage="malicious").get("conditional_benefit") == "block"
    # outside that stage the same words trade nothing
    assert "conditional_benefit" not in _findings(engine, text)


def test_a_quoted_phrase_cut_only_ties_with_a_benefit(engine: Engine) -> None:
    assert _findings(engine, "您把“做工粗糙”这句话删掉吧，求您了").get("conditional_benefit") is None
