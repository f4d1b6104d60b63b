"""User-trial findings on a buyer who reports a danger, each by class, through the real engine:
the family of words for fire, smoke, a burning smell, sparks, a shock or a leaking battery asks
after the person on the first message; the options never keep a dangerous thing in use (no
partial refund "商品留用"), a return is always among them, and the buyer is told to stop using
it; the agent's question whether anyone is hurt waits for the answer, and "nobody hurt but
scared" gets relief and sympathy first; asking what about the fright gets an apology and what
the shop does, never tied to the review; an objection to a review asked too early gets an
apology for asking too early and the remedy finished first."""

from __future__ import annotations

import pytest

from tests.dialog import Flow
from tests.shared import shared_engine

ENGINE = shared_engine()
BLENDER = {"shop": "小熊电器", "buyer_name": "于", "honorific": "女士", "product": "破壁机"}
HELLO = "您好，请问是于女士吗？我是小熊电器的售后客服小潘。"
BURNT = "用了两次就一股烧焦味 差点把我家厨房点了"


def _texts(flow: Flow) -> list[str]:
    return [s.text for s in flow.last.suggestions]


def _told(problem: str = BURNT, heard: bool = True) -> Flow:
    flow = (Flow(ENGINE, BLENDER).agent(HELLO).buyer("是我").agent("您前几天买的破壁机，用着怎么样？")
            .buyer(problem))
    return flow.expect("listen_apologize") if heard else flow


# -- 1. the words of a danger, and the options ---------------------------------------------------------------

@pytest.mark.parametrize("problem", [BURNT, "插上电就冒火花 吓死人", "电机那里冒黑烟了", "摸了一下外壳电了一下",
                                     "充电宝电池鼓包还漏液", "用着用着有股焦味", "差点就烧起来了"])
def test_a_danger_asks_after_the_person_on_the_first_message(problem: str) -> None:
    flow = _told(problem, heard=False).expect_warning("safety_first")  # (whatever the stage reads)
    texts = _texts(flow)
    assert texts and texts[0].startswith(("先别管", "听到这个", "您的安全", "天哪", "先问一下", "这个太让人")), texts
    assert any(w in texts[0] for w in ("没事吧", "受伤", "伤到", "身体")), texts


@pytest.mark.parametrize("problem", ["打出来的米糊有点糊味", "我已经点了确认收货 但是杯子有裂纹"])
def test_words_that_only_look_like_a_danger_do_not(problem: str) -> None:
    _told(problem, heard=False).expect_no_warning("safety_first")


def _offered_at_hazard() -> Flow:
    return (_told().agent("您和家里人都没事吧？").buyer("人倒是没事 就是吓死了")
            .agent("人没事就好，真是吓着您了，真的非常抱歉。").expect("explain")
            .agent("这批电机散热有问题，我们已经反馈给厂家，整批下架检查。").expect("remedy"))


def test_a_danger_never_offers_keeping_the_thing_and_says_to_stop_using_it() -> None:
    """"差点把我家厨房点了" still got "部分退款（商品留用）": keeping and using a dangerous appliance."""
    flow = _offered_at_hazard()
    labels = [r.label for r in flow.last.remedies]
    assert "部分退款（商品留用）" not in labels and "退货退款（运费我们出）" in labels, labels
    texts = _texts(flow)
    assert texts and all("留着" not in t and "退一部分" not in t for t in texts), texts
    assert all("退货退款" in t and "别" in t and "用" in t for t in texts), texts


def test_a_danger_on_a_cause_without_a_return_still_offers_one() -> None:
    flow = (Flow(ENGINE, BLENDER).agent(HELLO).buyer("是我").agent("您前几天买的破壁机，用着怎么样？")
            .buyer("客服态度太差了 我说机器冒烟她还说是我不会用"))
    labels = [r.label for r in flow.agent("真的非常抱歉，让您受委屈了。").last.remedies]
    assert "退货退款（运费我们出）" in labels and "部分退款（商品留用）" not in labels, labels
    assert "直接退款" not in labels, labels  # (the goods kept, not sent back)


def test_without_a_danger_the_options_are_as_ever() -> None:
    flow = (_told("用了两次刀头就松了 转起来哐哐响").agent("真的非常抱歉，给您添麻烦了。")
            .agent("这批刀头的卡扣公差偏大，我们已经反馈给厂家。").expect("remedy"))
    assert "部分退款（商品留用）" in [r.label for r in flow.last.remedies]


# -- 2. the question after the person waits for the answer -------------------------------------------------------

@pytest.mark.parametrize("asked", ["您和家里人都没事吧？", "真的太抱歉了，您和家里人都没事吧？", "人有没有受伤？"])
def test_the_question_whether_anyone_is_hurt_waits_for_the_answer(asked: str) -> None:
    """"您和家里人都没事吧？" got the explanation suggested before the buyer answered (an apology beside
    the question still counts as made: the stage's goal may move on, the suggestion waits)."""
    flow = _told().agent(asked)
    assert _texts(flow) == []
    flow.expect("explain" if "抱歉" in asked else "listen_apologize")


@pytest.mark.parametrize("sorry", ["", "真的太抱歉了，"])
@pytest.mark.parametrize("answer", ["人倒是没事 就是吓死了", "没受伤 就是被吓到了", "人都没事，但真的吓一跳"])
def test_nobody_hurt_but_scared_gets_relief_and_sympathy_first(sorry: str, answer: str) -> None:
    """"人倒是没事 就是吓死了" got a cold "已经登记了"."""
    flow = _told().agent(sorry + "您和家里人都没事吧？").buyer(answer)
    flow.expect_no_warning("safety_first")
    texts = _texts(flow)
    assert texts and all(("人没事" in t or "还好人没事" in t) and ("吓" in t or "受惊" in t) for t in texts), texts
    assert all("抱歉" in t or "对不起" in t or "道歉" in t for t in texts), texts
    assert not any("登记" in t for t in texts), texts


def test_nobody_hurt_gets_relief() -> None:
    flow = _told().agent("您和家里人都没事吧？").buyer("人没事").expect("listen_apologize")
    texts = _texts(flow)
    assert texts and all("没事" in t and "吓" not in t for t in texts), texts


@pytest.mark.parametrize("asked", ["还有我那天吓得半死这个怎么算", "我被吓成那样你们就不表示一下？"])
def test_asking_what_about_the_fright_is_answered_never_tied_to_the_review(asked: str) -> None:
    flow = _offered_at_hazard().buyer(asked).expect("remedy")
    texts = _texts(flow)
    sorry = ("抱歉", "对不起", "道歉")
    assert texts and all(("吓" in t or "惊" in t) and any(w in t for w in sorry) for t in texts), texts
    assert all("礼物" in t and "条件" in t for t in texts), texts  # what the shop does, unconditionally
    assert not any("好评" in t or "改评" in t for t in texts), texts


# -- 3. a review asked too early -------------------------------------------------------------------------------

@pytest.mark.parametrize("objection", ["钱还没退呢就惦记评价？？", "东西还没换就让我改好评？"])
def test_an_objection_to_a_review_asked_too_early_gets_an_apology_and_the_fix(objection: str) -> None:
    """"钱还没退呢就惦记评价？？" got "没问题，怎么评价都是您的自由", no apology for asking too early."""
    case = {"shop": "柚子家女装", "buyer_name": "周", "honorific": "女士", "product": "连衣裙"}
    flow = (Flow(ENGINE, case).agent("您好，请问是周女士吗？我是柚子家女装的售后客服小潘。").buyer("是我")
            .agent("您前几天买的连衣裙，穿着怎么样？").buyer("洗了一次就掉色 太差了")
            .agent("真的很抱歉，让您失望了。").agent("这批布料固色没做好，我们已经反馈给工厂了。")
            .agent("给您办退货退款，运费我们出，您看可以吗？").buyer("行 退吧").expect("polite_request")
            .agent("好的，退货退款给您登记了。另外想麻烦您一下，方便的话评价能不能帮我们改一下？改不改都是您的自由。")
            .buyer(objection))
    texts = _texts(flow)
    assert texts and all(("早" in t) and ("抱歉" in t or "对不起" in t or "道歉" in t) for t in texts), texts
    assert all("退货退款" in t for t in texts), texts  # back to finishing the remedy
    assert not any("自由" in t or "好评" in t for t in texts), texts


def test_a_danger_after_the_platform_refunded_offers_no_refund_again() -> None:
    """Once the platform refunded, a danger put 退货退款 back among the options (remedies.yaml
    `hazard`): the money offered twice. The refunds stay off; the advice to stop using it stays."""
    flow = (_told().buyer("我已经找平台申请退款了 钱前天就到了").agent("您和家里人都没事吧？")
            .buyer("人倒是没事 就是吓死了").agent("人没事就好，真是吓着您了，真的非常抱歉。")
            .agent("这批电机散热有问题，我们已经反馈给厂家，整批下架检查。").expect("remedy"))
    assert flow.conv.context.refunded and flow.conv.context.safety
    remedies = ENGINE.remedies.remedies
    ids = [r.id for r in flow.last.remedies]
    assert ids and not any(remedies[i].refund for i in ids), ids
    texts = _texts(flow)
    assert texts and all("退款" not in t and "退一部分" not in t for t in texts), texts
    assert all("别" in t and "用" in t for t in texts), texts
