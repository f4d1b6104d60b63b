"""Wrong suggestions agents met in `csbot assist`, each through the real Engine and model: refund
options after the platform refunded already, the order asked for again after a photo, "这几种" for
two options, a partial refund named 全额退款, a "why" at 提出补救 answered with the options only,
and the second contact after the buyer kept the review."""

from __future__ import annotations

import pytest

from tests.dialog import Flow
from tests.shared import shared_engine

ENGINE = shared_engine()
CASE = {"shop": "悠然家居", "buyer_name": "谭", "honorific": "女士", "product": "陶瓷花瓶"}


def _texts(flow: Flow) -> list[str]:
    return [s.text for s in flow.last.suggestions]


def _every_variant(flow: Flow) -> list[str]:
    """Every variant of the template key this turn suggests from, both tones (the rotation shows
    them turn by turn)."""
    folder, keys = ENGINE.situation_keys(flow.conv, None)
    lib = ENGINE.templates
    key = lib.pick_key(folder, keys)
    assert key is not None
    variables = ENGINE.variables(flow.conv)
    return [lib.render(v, {**variables, "tone": v.tone}) for tone in ("正式", "亲切")
            for v in lib.choose(folder, key, tone, 99, 0, frozenset())]


def _asked() -> Flow:
    return (Flow(ENGINE, CASE).agent("您好，请问是谭女士吗？我是悠然家居的售后客服小安。").buyer("是的")
            .agent("您前几天买的那个陶瓷花瓶，收到了吧？").expect("confirm_product"))


def _remedy() -> Flow:
    return (_asked().buyer("收到了 瓶口磕掉了一块").expect("listen_apologize")
            .agent("真抱歉，新花瓶一拆开就磕坏了，太扫兴了。").expect("explain")
            .agent("是快递路上磕到的，瓶口那里泡沫垫得薄，我们已经改成全包的气泡柱了。").expect("remedy"))


# -- 3. the count of options said as it is -----------------------------------------------------------

def test_two_options_offered_are_never_called_these_several() -> None:
    """"这几种方式您选一个就好" followed an offer of two options."""
    flow = _remedy().agent("给您补寄一个新的，碎的不用寄回；或者全额退款，您看哪个？")
    assert len(flow.conv.context.options_listed) == 2
    texts = _every_variant(flow)
    assert texts and not any("几种" in t for t in texts), texts


def test_the_options_of_a_cause_with_two_are_said_as_two() -> None:
    """A cause with two options (wrong or missing items: reship or refund) said "这几种都可以"."""
    seen: list[str] = []
    for first in ("收到了，少了一盒", "收到了 少发了一盒"):
        flow = (Flow(ENGINE, {**CASE, "product": "茶叶"}).agent("您好，请问是谭女士吗？我是悠然家居的售后客服小安。")
                .buyer("是的").agent("您前几天买的茶叶收到了吧？").buyer(first)
                .agent("真抱歉，少发了一盒，给您添麻烦了。").agent("是仓库打包时漏放了一盒，我们已经加了复核。"))
        flow.expect("remedy")
        seen += _every_variant(flow)
    assert seen and not any("几种" in t for t in seen), seen


# -- 4. a partial refund stays partial -----------------------------------------------------------------

def test_a_partial_refund_offered_is_not_also_a_full_refund() -> None:
    """"或者部分退款" was read as two options, the partial refund and 全额退款 (its "退款"): the
    buyer's plain yes was then asked "换一瓶新的、退一部分货款，还是全额退款？"."""
    flow = _remedy().agent("给您换一个新的，或者部分退款，您看哪种？")
    assert flow.conv.context.options_listed == ["exchange", "partial_refund"]
    flow.buyer("好的")
    assert not any("全额" in t for t in _texts(flow)), _texts(flow)


def test_a_partial_refund_with_its_sum_is_read_as_partial() -> None:
    """"少的那盒按价格退您30元" named no option; the buyer's "退30吧" was then 全额 or not offered."""
    flow = _remedy().agent("给您换一个新的；或者东西您留着，退您30元作为补偿，您看哪种？")
    assert flow.conv.context.options_listed == ["exchange", "partial_refund"]
    flow.buyer("那就退30吧")
    assert flow.conv.context.remedy_chosen == "partial_refund"
    assert not any("全额" in t for t in _texts(flow)), _texts(flow)


# -- 1. a refund the platform paid takes the refunds off the table -----------------------------------

REFUNDS = ("return_refund", "refund", "partial_refund", "price_difference")


@pytest.mark.parametrize("news", ["平台已经退款了", "我已经找平台申请退款了 钱前天就到了"])
def test_a_refund_paid_by_the_platform_removes_the_refund_options(news: str) -> None:
    """After "平台已经退款了" the options still listed 退货退款 and 部分退款: money she has back
    already. What is left is what still makes sense: a new one if she still wants it, an apology."""
    flow = _asked().buyer("收到了 瓶口磕掉了一块").buyer(news)
    flow.agent("真抱歉，新花瓶一拆开就磕坏了，太扫兴了。").expect("explain")
    ids = [r.id for r in flow.last.remedies]
    assert ids and not set(ids) & set(REFUNDS), ids
    flow.agent("是快递路上磕到的，瓶口那里泡沫垫得薄，我们已经改成全包的气泡柱了。").expect("remedy")
    texts = _texts(flow)
    assert texts and not any("退款" in t or "退一部分" in t for t in texts), texts
    assert any("新的" in t for t in texts), texts


def test_a_cause_with_only_refunds_offers_the_apology_after_the_platform_refunded() -> None:
    """A price complaint (退差价 or 退货退款, both money back): with the refund paid, no refund is
    offered again; remedies.yaml `after_refund` (an apology gift) is left."""
    flow = (_asked().buyer("收到了，买贵了，第二天就降价了").buyer("平台已经退款了")
            .agent("真抱歉，刚买就降价，换谁都会不舒服。"))
    ids = [r.id for r in flow.last.remedies]
    assert ids == ["apology_gift"], ids


# -- 2. a photo is no reason to ask for the order again -----------------------------------------------

ORDER_AGAIN = ("还记得", "有印象", "核对一下")


@pytest.mark.parametrize("start", [
    # the buyer recalled the order in the yes to who she is
    lambda: (Flow(ENGINE, CASE).agent("您好，请问是谭女士吗？我是悠然家居的售后客服小安。")
             .buyer("是的，那个花瓶我收到了")),
    # the agent named the order, the buyer answered with the photo
    lambda: _asked(),
    # the buyer wrote first, with the photo
    lambda: Flow(ENGINE, CASE),
])
def test_a_photo_is_looked_at_not_answered_with_the_order_question(start: object) -> None:
    """"[图片]" got "您在悠然家居买的陶瓷花瓶，还有印象吗？" though the buyer had the order in hand:
    the photo is thanked for and the buyer asked what it shows."""
    flow = start()  # type: ignore[operator]
    flow.buyer("[图片]")
    texts = _texts(flow)
    assert texts and not any(w in t for t in texts for w in ORDER_AGAIN), texts
    assert all("图" in t or "照片" in t for t in texts), texts
    flow.buyer("你自己看").expect("listen_apologize")


# -- 5. a "why" at 提出补救 is answered before the options ----------------------------------------------

WHY = ENGINE.compose.why


@pytest.mark.parametrize("offer", [None, "给您补寄一个新的，碎的不用寄回；或者全额退款，您看哪个？"])
@pytest.mark.parametrize("question", ["为什么会这样？", "怎么会磕坏呢", "咋回事啊 包装这么差"])
def test_a_why_question_at_the_remedy_gets_the_reason_then_the_options(offer: str | None, question: str) -> None:
    """"为什么会这样？" at 提出补救 got only the options again: the short reason for the cause comes
    first (defaults.yaml `cause_why`), then the options, and the stage stays."""
    flow = _remedy()
    if offer:
        flow.agent(offer)
    flow.buyer(question).expect("remedy")
    reason = WHY[flow.conv.context.cause or "unknown"]
    texts = _texts(flow)
    assert texts and all(t.startswith(reason) for t in texts), (reason, texts)
    assert all("或者" in t or "还是" in t for t in texts), texts


def test_a_why_question_is_not_taken_for_one_before_the_remedy() -> None:
    """Only where the options are offered: "为什么" while the problem is heard keeps its templates."""
    flow = _asked().buyer("收到了 瓶口磕掉了一块").buyer("为什么会这样？").expect("listen_apologize")
    assert not any(t.template.startswith("remedy/why") for t in flow.last.suggestions)


# -- 6. the next contact after the buyer kept the review ---------------------------------------------

def _kept() -> Flow:
    flow = (_remedy().agent("给您补寄一个新的，碎的不用寄回；或者全额退款，您看哪个？").buyer("补寄吧")
            .agent("好的，新的今天就给您寄出。")
            .agent("另外想跟您商量一下，如果您觉得这次处理得还可以，愿意考虑更新一下评价吗？改不改都由您决定。")
            .buyer("评价就算了，不想改").agent("好的，尊重您的决定，再次抱歉，谢谢您，欢迎常来！"))
    flow.expect("closed")
    flow.conv = ENGINE.close(flow.conv, "review_kept")
    return flow


def _resume(flow: Flow) -> Flow:
    flow.conv, flow.last = ENGINE.resume(flow.conv)
    flow.history.append(flow.last)
    return flow


def test_the_second_contact_after_a_kept_review_follows_up_on_the_fix() -> None:
    """The next contact after 未改评 opened like a first one ("想跟您了解一下您买的陶瓷花瓶用得怎么样")
    and asked "还有印象吗": it follows up on what was agreed, and never brings up the review."""
    flow = _resume(_kept())
    texts = _texts(flow)
    assert texts and all("补发" in t for t in texts), texts  # the reship agreed ("补寄吧")
    assert not any("评价" in t or "用得怎么样" in t for t in texts), texts
    flow.agent("谭女士您好，我是悠然家居的售后客服小安，上次给您补寄的花瓶收到了吗？")
    texts = _texts(flow)
    assert not any(w in t for t in texts for w in ("还有印象", "还记得", "评价")), texts
    flow.buyer("收到了，这次挺好的")
    for sug in flow.history[-3:]:
        for t in (s.text for s in sug.suggestions):
            assert "评价" not in t, t


def test_a_follow_up_answered_with_no_is_not_told_that_is_good() -> None:
    """"还没收到呢" to the follow-up is not met with "那就好": what is still wrong is asked."""
    flow = _resume(_kept()).agent("谭女士您好，我是悠然家居的售后客服小安，上次给您补寄的花瓶收到了吗？")
    flow.buyer("还没有呢")
    texts = _texts(flow)
    assert texts and not any("那就好" in t or "还记得" in t or "评价" in t for t in texts), texts


def test_the_contacts_stop_at_the_limit() -> None:
    """At most three attempts per case (domain.md): the fourth resume is refused in Chinese."""
    flow = _kept()
    assert flow.conv.context.attempts == 1
    for _ in range(2):
        _resume(flow).agent("谭女士您好，上次给您补寄的花瓶收到了吗？").buyer("收到了，挺好的")
        flow.agent("那就好，再次抱歉，谢谢您，祝您生活愉快！")
        flow.conv = ENGINE.close(flow.conv, "review_kept")
    assert flow.conv.context.attempts == 3
    with pytest.raises(ValueError, match="3"):
        ENGINE.resume(flow.conv)


@pytest.mark.parametrize(("offer", "answer"), [
    ("给您换一个新的；或者东西您留着，退您30元，您看哪种？", "那就退30吧"),
    ("东西您留着，给您部分退款30元，您看可以吗？", "好的"),
])
def test_the_agreed_sum_of_a_partial_refund_is_said_back(offer: str, answer: str) -> None:
    """"好的，退一部分货款我这就给您登记": the sum agreed (30元) is what the arrangement says."""
    flow = _remedy().agent(offer).buyer(answer)
    assert flow.conv.context.remedy_chosen == "partial_refund"
    texts = _texts(flow)
    assert texts and all("30元" in t for t in texts), texts
    assert not any("全额" in t for t in texts), texts
