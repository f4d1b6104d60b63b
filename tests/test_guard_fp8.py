"""The guard's eighth round of false blocks and misses, each fixed as a class (docs/guard.md):

- a second request for the review after a remedy and a first request is a repeat (repeat_request),
  not a benefit tied to it; a remedy promised and then the review asked for still ties;
- how reviews work (天猫的评价改不了，可以追评), told after a remedy, ties nothing;
- the order's own refund named with its sum and reported done (45元已经原路退回了), then one polite
  request, is the fix done, not money paid beside the review (差价、补偿、红包 still are);
- the buyer's address said to be confirmed or correct reveals nothing beyond the order;
- 职业差评师 as the category a threat names is no blame; said of the buyer it is;
- blame the real way: the buyer's eyes or memory (看偏了, 搞错了), the buyer's device (手机屏幕有色差,
  系统版本太低), a step skipped (跳过第二步当然不出水), harsh care said as certain damage (机洗肯定会变形),
  and impatience (您到底想怎么样);
- the rewrite does not say an emoji's word twice, nor keep a clause pointing at what it drops.

Every line is a sibling written for this file, in none of the corpus files; each runs through the
real engine (Engine.understand.agent_read with the agent's earlier messages, or Engine.feed)."""

from __future__ import annotations

import pytest

from bot.engine import Engine
from tests.shared import guard_corpus_texts as _corpus_texts


def _read(engine: Engine, text: str, context: tuple[str, ...] = (), stage: str | None = None
          ) -> tuple[dict[str, str], list[str]]:
    au, _ = engine.understand.agent_read(text, context, stage)
    return {f.code: f.severity for f in au.findings}, list(au.acts)


REMEDY_THEN_ASK = ("给您补寄一个新的，明天就发出", "新的收到以后要是满意，评价方便帮忙改一下吗？")

# (earlier agent messages, the line): a second request, warned, never blocked
REPEATS = [
    (REMEDY_THEN_ASK, "那您看看评价还能不能再帮忙改一下呢，真的麻烦您了。"),
    (REMEDY_THEN_ASK, "亲，评价那边能不能再帮忙看看呀，拜托了"),
    (("这边给您退20元作为补偿，今天就到", "麻烦您考虑下评价哈"), "评价的事再麻烦您考虑一下哦"),
    (("给您重新发一个，运费我们出。收到后觉得还可以的话，评价方便改一下吗",), "宝，评价还能再帮忙改改吗"),
]


@pytest.mark.parametrize(("context", "text"), REPEATS)
def test_a_second_request_after_a_remedy_and_a_first_request_is_a_repeat(
        engine: Engine, context: tuple[str, ...], text: str) -> None:
    codes, acts = _read(engine, text, context)
    assert "conditional_benefit" not in codes, codes
    assert codes.get("repeat_request") == "warn", codes
    assert "request_review" in acts


# real ties stay: a remedy (or money) promised and the review asked for, in one message or the next
TIES = [
    ((), "给您补寄一个，到时候麻烦您帮忙改一下哦"),
    ((), "送您一张20元的券，评价帮忙改一下哈"),
    (("给您补寄一个新的，明天就发出",), "那您看看评价还能不能再帮忙改一下呢"),
    (("给您准备了一张20元无门槛券",), "评价改一下哈"),
    (("退差价15元已经安排了",), "顺手帮我们改个好评呗"),
    ((), "差价12元已退回您的账户，您看中评能不能帮忙改一下呢？"),
    ((), "补偿的30元已经转您了，评价麻烦改成好评哦"),
    ((), "给您补偿20元，评价改不了的话就追评一个好评吧"),
]


@pytest.mark.parametrize(("context", "text"), TIES)
def test_a_benefit_promised_then_the_review_asked_for_still_ties(
        engine: Engine, context: tuple[str, ...], text: str) -> None:
    assert _read(engine, text, context)[0].get("conditional_benefit") == "block"


# how reviews work, after a refund or a remedy in the chat: clean
MECHANICS = [
    (("给您全额退款，您看可以吗",), "天猫的评价是改不了的，不过您可以追评补充一下使用感受"),
    (("这边给您退款30元，稍后到账",), "亲，淘宝的评价发出去以后就不能修改了哦，只能追评补充"),
    (("给您补发一个新的，明天发出",), "中评删不了的呢，您要是愿意的话可以追加评价说明一下"),
]


@pytest.mark.parametrize(("context", "text"), MECHANICS)
def test_how_reviews_work_told_after_a_remedy_is_clean(
        engine: Engine, context: tuple[str, ...], text: str) -> None:
    codes, _ = _read(engine, text, context)
    assert not any(sev == "block" for sev in codes.values()), codes


# the order's refund, its sum named, reported done, and the review asked for once: clean
REFUND_DONE = [
    "好的，45元已经原路退回了。冒昧问一句，如果您觉得处理还可以，愿意考虑更新下评价吗？",
    "亲，退款68元已经原路退回您的支付宝账户了，方便的话评价可以帮忙更新一下吗",
    "您的退款129元已经到账了，如果满意这次的处理，能麻烦您看看评价吗？",
]


@pytest.mark.parametrize("text", REFUND_DONE)
def test_the_order_refund_done_then_one_request_is_clean(engine: Engine, text: str) -> None:
    codes, acts = _read(engine, text)
    assert "conditional_benefit" not in codes, codes
    assert "request_review" in acts


ADDRESS_FACTS = [
    "您的地址是快递员确认过的，包裹已经放在门口了",
    "亲，您的收货地址是对的，快递显示昨天下午已经签收",
    "您的地址显示是正确的，快递员说已经送到了哦",
    "您的地址是我们核对过的，没有问题，是快递派错了",
]


@pytest.mark.parametrize("text", ADDRESS_FACTS)
def test_the_address_said_to_be_correct_reveals_nothing(engine: Engine, text: str) -> None:
    assert "privacy" not in _read(engine, text)[0]


def test_the_address_itself_is_still_private(engine: Engine) -> None:
    assert _read(engine, "您的地址是幸福里小区8栋，快递员确认过了")[0].get("privacy") == "block"
    assert _read(engine, "您的地址是在公司吧，我们记下了")[0].get("privacy") == "block"


def test_a_fraud_label_in_a_threat_is_no_blame(engine: Engine) -> None:
    codes, _ = _read(engine, "再这样下去，我们只能把您当职业差评师处理了")
    assert codes == {"threat": "block"}, codes
    codes, _ = _read(engine, "售后话术：遇到职业差评师，直接说不删的话我们就报警")
    assert codes == {"threat": "block"}, codes
    # said of the buyer, it is blame
    assert _read(engine, "您就是职业差评师吧，我们见得多了")[0].get("blame") == "warn"
    # refused, no threat
    assert "threat" not in _read(engine, "我们不会把您当职业差评师处理的，您放心")[0]


BLAME = [
    "您可能是看手机屏幕看偏了",
    "亲，您应该是把尺码表看错了",
    "您是不是搞错了",
    "您是不是记混了，我们没有卖过这款",
    "颜色有出入是因为您那边手机屏幕有色差哦",
    "那是您的显示器偏色了，实物就是这个颜色",
    "您手机系统版本太低了",
    "您的路由器太旧了，连不上很正常",
    "您跳过第二步当然不出水了",
    "您漏掉了排气那一步，所以才一直响",
    "机洗肯定会变形的呢",
    "用烘干机烘过当然会缩水的",
    "您到底想怎么样？",
    "那您究竟想干嘛呀",
    "有完没完啊亲",
]


@pytest.mark.parametrize("text", BLAME)
def test_blame_the_real_way(engine: Engine, text: str) -> None:
    codes, acts = _read(engine, text)
    assert codes.get("blame") == "warn", codes
    assert "blame_buyer" in acts
    assert "explain" not in acts


NOT_BLAME = [
    "您没看错，确实是我们发错了",
    "怕您看错了，我再把尺码表发您一遍",
    "不同手机屏幕显示会有一定色差，请以实物为准哦",
    "不建议机洗，机洗的话容易变形",
    "这款建议手洗，机洗的话肯定会变形的",
    "您想怎么处理呢？退货退款或者换新都可以",
    "您看还想怎么处理，我们都尽量配合",
]


@pytest.mark.parametrize("text", NOT_BLAME)
def test_look_alikes_are_no_blame(engine: Engine, text: str) -> None:
    assert "blame" not in _read(engine, text)[0]


def test_the_rewrite_says_an_emoji_word_once_and_drops_a_clause_pointing_back(engine: Engine) -> None:
    found = engine.understand.findings("评价改一下，送你一份🎁🎁")
    cb = next(f for f in found if f.code == "conditional_benefit")
    assert cb.rewrite is not None and cb.rewrite.startswith("送您一份礼物，"), cb.rewrite
    assert "礼物礼物" not in cb.rewrite
    found = engine.understand.findings("好评后联系客服，领取对应金额的红包")
    cb = next(f for f in found if f.code == "conditional_benefit")
    assert cb.rewrite is not None and "对应" not in cb.rewrite and "评价" in cb.rewrite
    # each rewrite passes the guard itself
    assert not engine.understand.findings(cb.rewrite)


def test_a_second_request_in_a_dialog_is_warned_not_blocked(engine: Engine) -> None:
    """Through Engine.feed: a remedy, one request, then a second; the second is a repeat only."""
    conv, _ = engine.start()
    turns = [
        ("agent", "您好，请问是王女士吗？我是店里的售后客服小林。"),
        ("buyer", "是我，什么事"),
        ("agent", "您前几天在我们店买的保温杯，收到是坏的对吧？"),
        ("buyer", "对，盖子是裂的"),
        ("agent", "真的非常抱歉，给您添麻烦了。"),
        ("buyer", "嗯"),
        ("agent", "给您补寄一个新的，明天就发出，运费我们出。"),
        ("buyer", "好的"),
        ("agent", "新的收到以后要是满意，评价方便帮忙改一下吗？"),
        ("buyer", "再说吧"),
    ]
    for role, text in turns:
        conv, _ = engine.feed(conv, role, text)  # type: ignore[arg-type]
    assert len(conv.context.agent_recent) >= 2  # the remedy and the first request are remembered
    conv, sug = engine.feed(conv, "agent", "那您看看评价还能不能再帮忙改一下呢，真的麻烦您了。")
    codes = {f.code: f.severity for f in sug.warnings}
    assert "conditional_benefit" not in codes, codes
    assert codes.get("repeat_request") == "warn", codes


def test_siblings_are_new() -> None:
    lines = [t for _, t in REPEATS] + [t for _, t in TIES] + [t for _, t in MECHANICS] + REFUND_DONE
    lines += ADDRESS_FACTS + BLAME + NOT_BLAME
    assert not set(lines) & _corpus_texts()
