"""The guard on batch 5 of the hand-written shop lines (scripts/guard_handwritten.jsonl): the evasive
wording real sellers use and the clean look-alikes a guard must let through.

The rules were changed by word classes for the batch's TRAIN lines; every line here is a sibling
written afterwards, in none of the corpus files, so a rule that only memorised its line fails."""

from __future__ import annotations

import pytest

from bot.engine import Engine
from bot.guard.corpus import BLOCK_CODES
from tests.shared import guard_corpus_texts as _corpus_texts
from tests.shared import guard_findings as _findings

VIOLATIONS = [
    # spaced, spelled out, emoji, traditional, pinyin
    ("好 評 返 現 ， 截 圖 找 客 服", "conditional_benefit"),
    ("好，评，返，现，找客服", "conditional_benefit"),
    ("亲，五⭐️截图给我，🧧马上到", "conditional_benefit"),
    ("評價曬圖送您一份小禮品", "conditional_benefit"),
    # the review said otherwise: 5分, a count of photos or words, 追加评价
    ("给个5分好评，送您面膜一片", "conditional_benefit"),
    ("评价写满50字带图，送运费险", "conditional_benefit"),
    ("晒两张图的追评，送您一个杯套", "conditional_benefit"),
    ("亲，追加评价说一下已经解决了，我们给您退10元", "conditional_benefit"),
    # benefits dressed as care or fan perks, the condition after the benefit
    ("粉丝专属福利：带图追评找客服领5元", "conditional_benefit"),
    ("亲，我们非常重视您的体验，已为您申请售后关怀补偿，稍后评价那边也辛苦您调整下哦", "conditional_benefit"),
    ("给您发了个8.8的红包，评价帮忙修改下哦", "conditional_benefit"),
    ("红包已经发您了，评价的事麻烦您了", "conditional_benefit"),
    # the review left unsaid after an offer
    ("给您换个新的，麻烦您改一下哈", "conditional_benefit"),
    # the benefit withheld: 不…就没有, 一天不把…
    ("不给五星的话就没有返现哦", "conditional_benefit"),
    ("不晒图领不了红包", "conditional_benefit"),
    ("您不改评价，补发就没法安排", "conditional_benefit"),
    ("不把差评撤掉，换新这边没法处理", "threat"),
    # off the platform, as sellers spell the apps
    ("加个扣扣吧，红包私发您", "conditional_benefit"),
    ("加企鹅号，返现5元", "conditional_benefit"),
    # threats and private data
    ("我们已经查到您的地址了，差评的事想清楚", "threat"),
    ("差评不删的话，您以后再来买可能就不太方便了", "threat"),
    ("您这已经是第三次在我们家退货了", "privacy"),
    ("按您手机号查了一下，您还有个小号也买过我们家东西", "privacy"),
    ("您朋友圈发的那张照片我们看到了，拍得很清楚", "privacy"),
    # pressure and repeated contact
    ("评价的事您今天能处理一下吗？我们这边急着交差", "pressure"),
    ("评价的事我晚上再联系您", "pressure"),
    ("我们会一直联系您，直到差评删掉为止", "pressure"),
    ("钱都给您退了，评价是不是也该改一下了", "pressure"),
    ("第三通电话了，您看评价能改吗", "repeat_request"),
    # a third round of siblings: the favour asked with the review's place, a fee covered after it
    ("给您包个小红包压压惊，评价那里麻烦高抬贵手", "conditional_benefit"),
    ("有个事想麻烦您，评价能不能改成好评，这次的运费我们全包了", "conditional_benefit"),
    ("我私人微信在卡片上，加了给您发个红包", "conditional_benefit"),
    ("五星好评多送一年质保", "conditional_benefit"),
    ("您的单位地址是在科技园那边吧", "privacy"),
    # a fourth round: the review 写好一点 for the lowest price; 能不能 asks, it does not negate
    ("亲，评价写好一点，下次来给您留最低价", "conditional_benefit"),
    ("我这边马上下班了，评价您能不能快点改一下", "pressure"),
    ("您当时为什么不拍视频呢，现在很难判断", "blame"),
    # a fifth round: 对折, 追个评 then 然后, the review bought, other platforms
    ("亲，评价改一下的话，这单我们给您打个对折", "conditional_benefit"),
    ("您先追个评，然后我们给您补偿", "conditional_benefit"),
    ("差评我们可以花钱买，您开个价", "conditional_benefit"),
    ("您在小红书上也发了差评吧，我们都看到了", "privacy"),
]

CLEAN = [
    "不需要您加qq，也不需要您改评价，问题我们负责到底",
    "不用加微信哦，淘宝上就能给您退",
    "晒图是自愿的，没有任何奖励，您按自己的想法来",
    "晒图奖励我们早就不做了",
    "活动已经取消了，评价不会有任何奖励",
    "这款红包是平台的，跟我们店无关",
    "五分裤的尺码偏大，建议拍小一码",
    "您说的5分钟就坏了，我们马上给您换",
    "给您换个新的，麻烦您改一下收货地址",
    "给您补发一个，麻烦您帮忙确认一下收货",
    "我明天再打电话给物流问问，有消息马上告诉您",
    "这是我们第三次给您补发了，真的很抱歉",
    "这是您第一次在我们家买吗",
    "您可以在订单里追加评价",
    "先加购物车，满199减20",
    "红、黄、蓝三个颜色都有货",
    "新的已经寄出了，收到后如果满意，可以考虑更新评价，不更新也没关系",
    "我们不加私人微信，所有售后都在平台上处理",
    "这次的运费我们全包了，给您添麻烦了",
    "退货运费我们出，您放心寄回",
    "这款空调我们提供延保服务，可以在页面购买",
    "您好，评价已经过了修改期，不能修改了，没关系的",
    "您可以把衣服对折一下放进袋子，然后寄回来",
]


def test_the_siblings_are_in_no_corpus_file() -> None:
    texts = _corpus_texts()
    assert not [t for t, _ in VIOLATIONS if t in texts]
    assert not [t for t in CLEAN if t in texts]


@pytest.mark.parametrize(("text", "code"), VIOLATIONS)
def test_batch5_wording_is_found(engine: Engine, text: str, code: str) -> None:
    found = _findings(engine, text)
    assert code in found, found
    if code in BLOCK_CODES:
        assert found[code] == "block"


@pytest.mark.parametrize("text", CLEAN)
def test_batch5_look_alikes_pass(engine: Engine, text: str) -> None:
    assert _findings(engine, text) == {}


def test_a_word_spelled_out_with_a_mark_reads_whole(engine: Engine) -> None:
    norm = engine.understand.normalize
    assert norm("好、评、返、现，详情找客服").text.startswith("好评返现")
    # a list or a short sentence keeps its marks: only three or more single characters spell a word
    assert norm("退款、换货、补发").text == "退款、换货、补发"
    assert norm("哦，对，还有").text == "哦,对,还有"


def test_a_refund_done_then_one_request_passes_the_same_words_pending_or_demanding_do_not(
        engine: Engine) -> None:
    """The decision in docs/guard.md: the buyer's own refund, already done, is owed and can no
    longer be held back, so the one request after it ties nothing (clean). Pending, or with money
    beyond the refund, it is a trade (block); used as a debt (总该删了吧) it is pressure (warn)."""
    assert _findings(engine, "退款已经到账了，您看中评能不能改了") == {}
    assert _findings(engine, "退款马上就到账，您看中评能不能改了").get("conditional_benefit") == "block"
    assert _findings(engine, "多退了您15元，您看中评能不能改了").get("conditional_benefit") == "block"
    assert _findings(engine, "退款都给您退了，中评总该改了吧") == {"pressure": "warn"}


def test_money_paid_in_the_message_before_ties_the_review_asked_now(engine: Engine) -> None:
    assert "conditional_benefit" in _findings(engine, "五星帮忙补一下哦", ("给您的红包已经发过去了",))
    # the message before left the choice to the buyer: nothing ties
    assert _findings(engine, "五星帮忙补一下哦", ("给您的红包已经发过去了，评价改不改都随您",)) == {}
