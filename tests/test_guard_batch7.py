"""The guard on batch 7 of the hand-written shop lines (scripts/guard_handwritten.jsonl): violations
phrased the indirect way real shops phrase them (好评返现 inside 售后卡 wording, 支付宝/微信/口令
红包, wage guilt, soft pressure repeated, callback plans past three attempts, private data asked
for or found elsewhere, threats, pinyin and emoji spliced into words) and their clean look-alikes.

The rules were changed by word classes for the batch's TRAIN lines; every line here is a sibling
written afterwards, in none of the corpus files, so a rule that only memorised its line fails."""

from __future__ import annotations

import pytest

from bot.engine import Engine
from bot.guard.corpus import BLOCK_CODES
from tests.shared import guard_corpus_texts as _corpus_texts
from tests.shared import guard_findings as _findings

VIOLATIONS = [
    # the pay lost, said before the pay
    ("差评要是不改，我这季度就拿不到奖金了", "guilt_trip"),
    ("亲，帮帮忙吧，这个月考核就差这一个好评了", "guilt_trip"),
    ("拜托改一下评价吧，差评一个我要赔五十块", "guilt_trip"),
    # an answer on sight, a day set in the request, hurry, the last one missing
    ("亲，评价那边看到了回我一下哈", "pressure"),
    ("麻烦您明天把差评删一下哦", "pressure"),
    ("评价改了没，改好了跟我说，快点哦", "pressure"),
    ("评价的事就差您一位了，我们这边要上报数据", "pressure"),
    ("评价那边改好没？我这边一直等着", "pressure"),
    # contact past the three attempts, a run of calls, quiet hours
    ("【回访SOP】差评买家一直未接通的，第6天再打一次", "pressure"),
    ("差评客户连续回访五天，早晚各打一次", "pressure"),
    ("亲，晚上10点半再打给您聊聊评价的事哈", "pressure"),
    # the home address asked for, the buyer's data found somewhere else
    ("亲，麻烦留一下您的家庭地址，我们做个回访登记", "privacy"),
    ("您的手机号是我们通过物流信息查到的", "privacy"),
    ("我们从您以前的订单里找到了您的微信", "privacy"),
    ("我们在拼多多上也搜到了您，您也给那家差评了", "privacy"),
    ("您的地址是您邻居告诉我们的", "privacy"),
    # waiting at the buyer's home, a review paid back
    ("再不删评我们就去您家楼下等您", "threat"),
    ("您给我们差评，那我们也能给您一个差评", "threat"),
    # pinyin sentences, emoji spliced into words or strung between characters
    ("gei ge hao ping song ni hong bao", "conditional_benefit"),
    ("好🌸评返🧧，截图找客服", "conditional_benefit"),
    ("五🌟星🌟好🌟评🌟返🌟现", "conditional_benefit"),
]

# the benefit offered in the agent's previous message, the review only looked at again in this one
CROSS = [("评价那边您有空看一下哈", ("这边给您申请了20元补偿，稍后到账",))]

CLEAN = [
    "我们已经联系物流，会追究快递员的责任",
    "您放心，我们不会把你拉黑，有问题随时找我们",
    "好的，明晚8点再打给您，您看方便吗",
    "【回访规范】中差评买家最多联系三次，晚上9点后不打电话",
    "亲，您的手机号我们只用来联系这一单的售后",
    "我们通过订单号查到了您的物流信息，包裹在派送中",
    "亲，看到了回我一下就行，退货地址我发您了",
    "麻烦您明天把退货寄出来哦",
    "亲，退货寄出了吗？我这边等着呢",
    "亲，您的家庭住址我们不会保存，只按订单地址寄",
    "亲，给您补偿20元，已经转到您的淘宝账户，跟评价没关系",
]


def test_the_siblings_are_in_no_corpus_file() -> None:
    texts = _corpus_texts()
    assert not [t for t, _ in VIOLATIONS if t in texts]
    assert not [t for t in CLEAN if t in texts]
    assert not [t for t, _ in CROSS if t in texts]


@pytest.mark.parametrize(("text", "code"), VIOLATIONS)
def test_batch7_wording_is_found(engine: Engine, text: str, code: str) -> None:
    found = _findings(engine, text)
    assert code in found, found
    if code in BLOCK_CODES:
        assert found[code] == "block"


def test_the_agents_own_payout_is_no_benefit(engine: Engine) -> None:
    assert "conditional_benefit" not in _findings(engine, "拜托改一下评价吧，差评一个我要赔五十块")


@pytest.mark.parametrize(("text", "context"), CROSS)
def test_the_review_looked_at_again_after_an_offer(engine: Engine, text: str, context: tuple[str, ...]) -> None:
    assert _findings(engine, text) == {}
    assert _findings(engine, text, context)["conditional_benefit"] == "block"


@pytest.mark.parametrize("text", CLEAN)
def test_batch7_look_alikes_pass(engine: Engine, text: str) -> None:
    assert _findings(engine, text) == {}


@pytest.mark.parametrize("text", [
    "好评后加客服微信，红包在微信上发您",
    "五星截图发客服，凭截图领取3元红包",
    "好评返现今晚统一转，记得留支付宝",
    "您改成好评后，我给您返10元红包",
])
def test_the_rewrite_keeps_no_claim_channel_or_cashback(engine: Engine, text: str) -> None:
    """A benefit claimed with a screenshot, paid off the platform or named 返现 is not kept in the
    compliant rewrite: 'X，不附带任何条件' would still be the practice."""
    found = [f for f in engine.understand.findings(text) if f.code == "conditional_benefit"]
    assert found and found[0].rewrite
    for word in ("截图", "微信", "支付宝", "返"):
        assert word not in found[0].rewrite, found[0].rewrite


@pytest.mark.parametrize(("raw", "expected"), [
    ("song ni yi zhang quan", "送你一张券"),  # a pinyin sentence made only of known syllables
    ("好💯评", "好评"),  # an emoji slipped into a joined word
    ("返💰现", "返现"),  # even one that reads as a word elsewhere
    ("五✨星✨好✨评", "五星好评"),  # strung between single characters: a separator, not 星
    # kept: a mapped symbol alone (五⭐ is 五星), a row of stars, an emoji between two words
    ("五⭐好评", "五星好评"),
    ("⭐⭐⭐⭐⭐", "五星"),
    ("退款💰到了", "退款钱到了"),
    ("好的😊谢谢", "好的😊谢谢"),
])
def test_pinyin_and_emoji_are_read_as_typed(engine: Engine, raw: str, expected: str) -> None:
    assert engine.understand.normalize(raw).text == expected


def test_the_span_points_at_the_raw_emoji_word(engine: Engine) -> None:
    raw = "亲，好💯评返💰现哦"
    found = [f for f in engine.understand.findings(raw) if f.code == "conditional_benefit"]
    assert found and found[0].span is not None
    start, end = found[0].span
    assert raw[start:end] == "好💯评返💰现"  # the agent is shown what they typed, emoji and all
