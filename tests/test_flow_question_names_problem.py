"""A buyer's question that names the problem ("那怎么会发错呢？") tells the problem: asked about the
order, the stage moves on to hearing it, as a complaint would. A question about the talk itself
("你们连问都不问什么情况 就让我改差评？", read with a talk cause such as `service`) names no
problem of the order and holds (tests/data/dialogs_flow5.jsonl dialog 09). Through the real
Engine and model, and through the trainer, where the tip kept asking for the order."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.engine import Engine
from bot.paths import dialogs_dir
from bot.understand.pipeline import Understander
from tests.dialog import Flow
from tests.shared import play, shared_engine

ENGINE = shared_engine()
RULES = Understander(dialogs_dir(), mode="rules")
TEA = {"shop": "山谷茶庄", "buyer_name": "纪", "honorific": "女士", "product": "白茶饼"}
REVIEWED = {**TEA, "review_rating": "差评", "review_text": "茶饼一股霉味，根本没法喝，质量太差了。"}


def _asked(case: dict[str, str], agent: str) -> Flow:
    return (Flow(ENGINE, case).agent("您好，请问是纪女士吗？我是山谷茶庄的售后客服。").buyer("是我")
            .expect("confirm_product").agent(agent).expect("confirm_product"))


@pytest.mark.parametrize("question", ["那怎么会发错呢？", "为啥会少发一件？", "为什么会起球啊？"])
def test_a_question_that_names_the_problem_moves_to_hearing_it(question: str) -> None:
    flow = _asked(TEA, "您前几天在我们店买的白茶饼，还记得吗？")
    flow.buyer(question).expect("listen_apologize")
    assert flow.conv.context.problem_stated


def test_an_apology_that_names_the_problem_moves_on_to_the_explanation() -> None:
    """The order named and the mistake apologised for in one message: the problem is known and
    apologised for, so the explanation comes next (script.yaml sorry_names), and the buyer's
    "那怎么会发错呢？" is answered, not apologised for again."""
    flow = (Flow(ENGINE, TEA).agent("您好，请问是纪女士吗？我是山谷茶庄的售后客服。").buyer("是我")
            .agent("您前几天买的白茶饼，给您发成菊花茶了，实在抱歉。").expect("explain"))
    flow.buyer("那怎么会发错呢？").expect("explain")
    assert flow.conv.context.problem_stated and flow.conv.context.cause == "wrong_missing"
    texts = [s.text for s in flow.last.suggestions]
    assert texts and not any("还有印象" in t or "还记得" in t or "抱歉" in t for t in texts), texts
    flow.agent("是仓库拣货的同事拿错了，两款茶的货架挨着，我们已经分开放了。").expect("remedy")


@pytest.mark.parametrize("case", [TEA, REVIEWED], ids=["no_review", "review_cause"])
def test_a_question_about_the_contact_itself_holds(case: dict[str, str]) -> None:
    """A talk cause names no problem of the order, whatever cause the case already has (the
    review's, here)."""
    flow = _asked(case, "您买的那饼白茶收到了吧？能不能麻烦您把差评改一下呀？")
    flow.buyer("你们连问都不问什么情况 就让我改差评？").expect("confirm_product")


def test_a_plain_question_holds() -> None:
    _asked(REVIEWED, "您前几天在我们店买的白茶饼，还记得吗？").buyer("哪一单啊？").expect("confirm_product")


def test_the_trainer_moves_on_when_the_buyer_asks_why(engine: Engine) -> None:
    """The trainee named the order and apologised in one message; the buyer asked why it happened.
    The stage stayed in 确认商品 and the tip asked again for what was just said."""
    s = play(engine, "wrong_item_first_time", [
        "王阿姨您好，我是山野茶铺的售后客服小李，请问是王秀兰阿姨吗？",
        "您11月7日在我们店买的红枣枸杞茶，我们给您发成菊花茶了，实在对不起。"])
    asked = [e for e in s.events if e.get("type") == "buyer"][-1]
    assert asked["text"] == "那怎么会发错呢？", asked
    assert asked["stage"] == "explain", asked  # apologised already: the why is next
    tips = [e["tip"] for e in s.events if e.get("type") == "coach"]
    assert "说清这一单是哪天买的什么" not in tips[-1] and "道歉" not in tips[-1], tips


def test_the_answer_to_why_after_an_apology_is_not_cold(engine: Engine) -> None:
    """Apologised already, the trainee answers the buyer's "那怎么会发错呢？" with the cause. The
    reply was called cold (no warmth while the buyer tells the problem): the buyer's mood fell and
    the tip said to apologise first."""
    s = play(engine, "wrong_item_first_time", [
        "王阿姨您好，我是山野茶铺的售后客服小李，请问是王秀兰阿姨吗？",
        "您11月7日在我们店买的红枣枸杞茶，我们给您发成菊花茶了，实在对不起。",
        "是仓库打包的时候拿错了，两款茶放在一起，我们已经分开放了。"])
    said = [e for e in s.events if e.get("type") == "agent"][-1]
    assert "cold" not in said["facts"], said
    buyer = [e for e in s.events if e.get("type") == "buyer"]
    assert buyer[-1]["mood"] >= buyer[-2]["mood"], buyer
    tips = [e["tip"] for e in s.events if e.get("type") == "coach"]
    assert "先道歉" not in tips[-1], tips


@pytest.mark.parametrize("text,offers", [
    ("我们给您发成菊花茶了，实在抱歉。", False),   # the mistake told, no offer
    ("仓库给您发成了别的颜色，真对不起", False),
    ("今天就给您发顺丰", True),
    ("给您换成33码的，来回运费我们出", True),
])
def test_sent_as_the_wrong_thing_is_no_offer(text: str, offers: bool) -> None:
    """"给您发成菊花茶了" names what went wrong; the rules read it as an offer (给您发…), which the
    trainer counted as one made before the problem was heard (没有急着谈方案 lost)."""
    assert ("offer_remedy" in RULES.agent(text).acts) is offers


def _haggled(engine: Engine, offer: str) -> list[tuple[int, str]]:
    from tests.shared import violation_codes
    good = [ln for ln in (Path(__file__).parent / "data" / "trainees" / "pro_bad_reviewer.good.txt")
            .read_text(encoding="utf-8").splitlines() if ln.strip()]
    s = play(engine, "pro_bad_reviewer", [*good[:2], "我们是正品，有授权的，您是不是买错了", offer], seed=4)
    return violation_codes(s)


@pytest.mark.parametrize("offer", ["三百太多了，一百行不行", "五十可以吗"])
def test_a_counter_offer_to_the_bad_reviewer_is_paying(engine: Engine, offer: str) -> None:
    """"一百行不行" to a demand of three hundred names no 块/元: it cost nothing and the bad
    reviewer simply asked again."""
    assert (4, "pays_extortion") in _haggled(engine, offer)


@pytest.mark.parametrize("refusal", ["三百我们给不了，也不会拿评价做交换", "一百块也不会给的"])
def test_a_sum_refused_is_no_payment(engine: Engine, refusal: str) -> None:
    assert (4, "pays_extortion") not in _haggled(engine, refusal)


def test_the_tip_does_not_ask_for_the_order_just_named(engine: Engine) -> None:
    """The trainee named the buyer (wrongly) and the order in one message; the buyer answered who
    she is. The tip said "说清买家哪天买了什么" right after the trainee had said it."""
    s = play(engine, "busy_office_worker",
             ["您好，请问是李女士吗？我是XX女装的客服，您买的连衣裙有色差的问题想跟您聊聊"], seed=6)
    buyer = [e for e in s.events if e.get("type") == "buyer"][-1]
    assert buyer["stage"] == "confirm_product", buyer
    tips = [e["tip"] for e in s.events if e.get("type") == "coach"]
    # the wrong name is what the tip speaks to first (a turn tip); the order is not asked for
    assert "说清这一单是哪天买的什么" not in tips[-1] and "名字叫错了" in tips[-1], tips
    s = play(engine, "busy_office_worker",
             ["您好，请问是周女士吗？我是XX女装的客服，您买的连衣裙有色差的问题想跟您聊聊"], seed=6)
    tips = [e["tip"] for e in s.events if e.get("type") == "coach"]
    assert "说清这一单是哪天买的什么" not in tips[-1] and "哪里不满意" in tips[-1], tips
