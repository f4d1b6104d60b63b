"""The guard on batch 6 of the hand-written shop lines (scripts/guard_handwritten.jsonl): real
seller genres (售后卡, quick-reply libraries, SMS templates, SOP paragraphs, group notices) and
their clean look-alikes.

The rules were changed by word classes for the batch's TRAIN lines; every line here is a sibling
written afterwards, in none of the corpus files, so a rule that only memorised its line fails."""

from __future__ import annotations

import pytest

from bot.engine import Engine
from bot.guard.corpus import BLOCK_CODES
from tests.shared import guard_corpus_texts as _corpus_texts
from tests.shared import guard_findings as _findings

VIOLATIONS = [
    # English as sellers mix it in (normalised glued: goodreview, 5star, hongbao, cashback, add…wechat)
    ("Give us a good review and we send you a hongbao～", "conditional_benefit"),
    ("亲，5 stars+晒图，cashback 3元，找客服哈", "conditional_benefit"),
    ("pls add my wechat after 5-star review, 红包 there", "conditional_benefit"),
    # kind words asked for in the review, with a benefit
    ("给您补了一张10元券，追评里帮我们美言几句呗", "conditional_benefit"),
    ("送您一个小礼品，评价里帮我们夸两句哈", "conditional_benefit"),
    # 好评差评都欢迎 leaves the choice, but not when the message ties them again
    ("换货给您安排了，好评差评都欢迎，不过您要是改成好评，再送您一张券", "conditional_benefit"),
    # paid 的 is a fact; the channel said as a condition, or with the review asked, is not
    ("已经通过支付宝转的10元，您看差评能不能删了", "conditional_benefit"),
    ("用支付宝转的话，您先把差评删了", "conditional_benefit"),
    # the agent's own loss is no benefit; a real one beside it still is
    ("罚了我50元也认了，给您返20元，麻烦改个好评", "conditional_benefit"),
    ("这个差评要扣我200块，您能不能帮忙把评价改一下", "guilt_trip"),
    # an answer demanded, a campaign's deadline
    ("评价的事今天能给个答复吗", "pressure"),
    ("评价改了没，给个准信呢", "pressure"),
    ("好评晒图活动明天截止，大家抓紧好评哦", "pressure"),
    ("五星晒图活动今晚12点截止哦，还没评的亲抓紧五星晒图", "pressure"),
    # the buyer's data got through a third party; the address question without a resend
    ("我们可以通过快递查到您的电话，评价的事您考虑下", "privacy"),
    ("我们找快递把您的电话要来了，评价的事跟您聊聊", "privacy"),
    ("您住幸福小区3栋对吧？我们想上门跟您聊聊评价", "privacy"),
]

CLEAN = [
    "We will refund you within 24h, thanks for your patience",
    "亲，您在评价里说的那几句我们都看了，已经给您换新",
    "您在追评里夸了几句，谢谢亲，已经给您退款了",
    "退款已经给您办理了，您的评价我们会拿来改进产品",
    "换货给您安排了，好评差评我们都接受",
    "退款、换货马上给您办，好评差评都欢迎～",
    "退款、换货都可以给您办，您的评价就是我们改进的方向",
    "补偿的15元是通过支付宝转的，请查收",
    "差价12元是用支付宝退给您的，您查一下",
    "您收货地址是幸福小区3栋对吧？我们就按这个地址给您重发。",
    "我们让快递把包裹给您送回来",
]


def test_the_siblings_are_in_no_corpus_file() -> None:
    texts = _corpus_texts()
    assert not [t for t, _ in VIOLATIONS if t in texts]
    assert not [t for t in CLEAN if t in texts]


@pytest.mark.parametrize(("text", "code"), VIOLATIONS)
def test_batch6_wording_is_found(engine: Engine, text: str, code: str) -> None:
    found = _findings(engine, text)
    assert code in found, found
    if code in BLOCK_CODES:
        assert found[code] == "block"


def test_the_agents_own_loss_is_no_benefit(engine: Engine) -> None:
    assert "conditional_benefit" not in _findings(engine, "这个差评要扣我200块，您能不能帮忙把评价改一下")


@pytest.mark.parametrize("text", CLEAN)
def test_batch6_look_alikes_pass(engine: Engine, text: str) -> None:
    assert _findings(engine, text) == {}
