"""What agents still met in `csbot assist` (the sidebar's engine), each through the real Engine and
model with the real Chinese output: a yes that also recalls the order, a refund the platform paid
shown as a wish for one, the buyer's own sum before any offer, a yes to the review under a
condition, a callback agreed with a relative, a deflection taken for the explanation, and
"那现在咋办" taken for a yes."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.paths import dialogs_dir
from tests.dialog import Flow
from tests.shared import shared_engine

ENGINE = shared_engine()
CASE = {"shop": "悠然家居", "buyer_name": "谭", "honorific": "女士", "product": "陶瓷花瓶"}
OPENER = "您好，请问是谭女士吗？我是悠然家居的售后客服小安。"
APOLOGY = "真抱歉，新花瓶一拆开就磕坏了，太扫兴了。"
EXPLANATION = "是快递路上磕到的，瓶口那里泡沫垫得薄，我们已经改成全包的气泡柱了。"


def _texts(flow: Flow) -> list[str]:
    return [s.text for s in flow.last.suggestions]


def _heard() -> Flow:
    return (Flow(ENGINE, CASE).agent(OPENER).buyer("是的").agent("您前几天买的那个陶瓷花瓶，收到了吧？")
            .buyer("收到了 瓶口磕掉了一块").expect("listen_apologize").agent(APOLOGY).expect("explain"))


def _explained() -> Flow:
    return _heard().agent(EXPLANATION).expect("remedy")


# -- 1. a yes that recalls the order too ---------------------------------------------------------------

ORDER_AGAIN = ("还有印象", "还记得", "核对一下")


@pytest.mark.parametrize("answer", ["是的，那个花瓶我收到了", "是我，花瓶收到了", "对 东西收到了",
                                    "嗯是我 买的那个花瓶嘛"])
def test_a_yes_that_recalls_the_order_moves_past_the_order_question(answer: str) -> None:
    """"是的，那个花瓶我收到了" to "请问是谭女士吗？" got "…陶瓷花瓶，还有印象吗？": the buyer said who
    she is and that she has the order, so the talk moves on to what is wrong with it."""
    flow = Flow(ENGINE, CASE).agent(OPENER).buyer(answer).expect("listen_apologize")
    texts = _texts(flow)
    assert texts and not any(w in t for t in texts for w in ORDER_AGAIN), texts
    assert all("不满意" in t or "问题" in t or "情况" in t for t in texts), texts


@pytest.mark.parametrize("answer", ["是的", "是我，什么事", "是我，收到了吗？"])
def test_a_yes_alone_still_gets_the_order_question(answer: str) -> None:
    """Only the yes: the order is still asked about ("收到了吗？" asks; it recalls nothing)."""
    Flow(ENGINE, CASE).agent(OPENER).buyer(answer).expect("confirm_product")


# -- 2. a refund the platform paid is news, not a wish ------------------------------------------------

@pytest.mark.parametrize("news", ["平台已经退款了", "钱平台已经退给我了", "我已经找平台申请退款了 钱前天就到了"])
def test_a_refund_already_paid_is_not_shown_as_a_wish_for_one(news: str) -> None:
    """The case card said 想退款 (or 威胁投诉) for "平台已经退款了": the understanding shown is the one
    the flow goes by, news of a refund, not a request (nor a complaint to the platform)."""
    flow = _heard().buyer(news)
    u = flow.last.understanding
    assert u is not None and getattr(u, "intent", None) not in ("want_refund", "threaten"), u
    assert u.text == news
    assert flow.conv.context.refunded
    assert ENGINE.labels.name("intent", u.intent) != "想退款"  # type: ignore[union-attr]


# -- 3. the buyer's sum before any offer --------------------------------------------------------------

@pytest.mark.parametrize("ask", ["退20块钱吧", "瓶口磕掉了一块 退20块钱吧", "给我退20吧"])
def test_a_sum_named_before_any_offer_is_said_back(ask: str) -> None:
    """"退20块钱吧" after the explanation, before any offer, got "金额我这就帮您申请，核实好了马上跟您
    说具体数目": the sum is the buyer's and no offer stands against it, so it is said back (退您20元),
    as it is once an offer is out; the agent's offer of it and the buyer's yes choose it."""
    flow = _explained().buyer(ask).expect("remedy")
    texts = _texts(flow)
    assert texts and all("20元" in t for t in texts), texts
    assert not any("具体数目" in t or "具体数" in t or "核实好了" in t for t in texts), texts
    flow.agent("好的，给您退20元，东西您留着，您看可以吗？").buyer("好的").expect("polite_request")
    assert flow.conv.context.remedy_chosen == "partial_refund"
    texts = _texts(flow)
    assert texts and all("20元" in t for t in texts), texts


def test_a_sum_named_against_an_offer_without_one_is_still_the_agents_to_set() -> None:
    """Once an offer without a sum is out ("退部分差价"), the buyer's sum is still a proposal."""
    flow = _explained().agent("给您换一个新的，或者东西您留着，给您退部分货款，您看哪种？").buyer("退一半吧")
    flow.expect("remedy")
    assert flow.conv.context.remedy_chosen is None


# -- 4. a yes to the review under a condition ----------------------------------------------------------

def _asked_review() -> Flow:
    return (_explained().agent("给您换一个新的，来回运费我们出；或者退货退款，您看哪种？").buyer("换个新的吧")
            .expect("polite_request").agent("好的，新的今天就给您寄出，单号稍后发您。")
            .agent("另外想跟您商量一下，如果您觉得这次处理得还可以，愿意考虑更新一下评价吗？改不改都由您决定。"))


STEPS = ("「我的」", "修改评价", "路径")


@pytest.mark.parametrize("answer", ["收到能用就改", "等换的到了没问题就改", "新的没问题我就去改",
                                    "行，到了看看没问题就改好评"])
def test_a_yes_to_the_review_under_a_condition_waits_for_it(answer: str) -> None:
    """"收到能用就改" got the steps to change the review at once: the yes holds only once the new
    one arrives and works, so the reply thanks her, says the new one is followed up, and leaves the
    review to then."""
    flow = _asked_review().buyer(answer).expect("closing")
    texts = _texts(flow)
    assert texts and not any(w in t for t in texts for w in STEPS), texts
    assert all("跟进" in t or "收到" in t or "到了" in t for t in texts), texts
    assert flow.conv.context.review_later
    # the follow-up: the new one is fine, the steps are for then (she said she would change it)
    flow.agent("好的，谢谢您，新的到了有问题随时找我，再次抱歉给您添麻烦了，祝您生活愉快！").expect("closed")
    flow.conv = ENGINE.close(flow.conv, "resolved")
    flow.conv, flow.last = ENGINE.resume(flow.conv)
    flow.agent("谭女士您好，我是悠然家居的售后客服小安，上次给您换的新花瓶收到了吗？")
    flow.buyer("收到了，这次挺好的")
    texts = _texts(flow)
    assert texts and all(any(w in t for w in STEPS) for t in texts), texts


def test_a_plain_yes_to_the_review_still_gets_the_steps() -> None:
    flow = _asked_review().buyer("行，我晚点去改").expect("closing")
    texts = _texts(flow)
    assert texts and all(any(w in t for w in STEPS) for t in texts), texts
    assert not flow.conv.context.review_later


# -- 5. a callback agreed with a relative ---------------------------------------------------------------

MAN = {**CASE, "buyer_name": "李", "honorific": "先生"}


@pytest.mark.parametrize("busy", ["我是他老婆 他在开车 你晚点再打", "我是他妈妈，他上班去了，晚上再联系吧"])
def test_a_callback_agreed_with_a_relative_is_for_the_buyer(busy: str) -> None:
    """The wife who took the call heard "我晚上八点左右联系您可以吗？": the callback is for him."""
    flow = Flow(ENGINE, MAN).agent("您好，请问是李先生吗？我是悠然家居的售后客服小安。").buyer(busy).expect("callback")
    texts = _texts(flow)
    assert texts and not any("联系您" in t or "找您" in t for t in texts), texts
    assert all("他" in t for t in texts), texts
    flow.buyer("八点吧").expect("callback")
    texts = _texts(flow)
    assert texts and not any("联系您" in t or "找您" in t for t in texts), texts
    assert all("他" in t and "8点" in t for t in texts), texts


def test_a_busy_buyer_is_still_called_back_himself() -> None:
    flow = Flow(ENGINE, MAN).agent("您好，请问是李先生吗？我是悠然家居的售后客服小安。").buyer("是我 在开车")
    flow.expect("callback")
    assert any("联系您" in t or "您" in t for t in _texts(flow))
    assert not any("联系他" in t for t in _texts(flow))


# -- 6. a deflection is no explanation ----------------------------------------------------------------

@pytest.mark.parametrize("deflection", ["快递的问题不是我们能控制的", "这是物流的问题，跟我们没关系"])
def test_a_deflection_does_not_give_the_explanation(deflection: str) -> None:
    """"快递的问题不是我们能控制的" moved 解释原因 on to 提出补救 (read as an explanation); the trainer
    scores it as a deflection: it explains nothing, so the explanation is still to come."""
    flow = _heard().agent(deflection).expect("explain")
    assert flow.conv.context.explanations == 0
    flow.agent(EXPLANATION).expect("remedy")


def test_the_flow_and_the_trainer_read_a_deflection_alike() -> None:
    """One wording of a deflection: script.yaml's cue is the trainer rubric's fact."""
    folder = Path(dialogs_dir(None))
    script = yaml.safe_load((folder / "script.yaml").read_text(encoding="utf-8"))
    rubric = yaml.safe_load((folder / "rubric.yaml").read_text(encoding="utf-8"))
    assert script["cues"]["deflects"] == rubric["facts"]["deflects"]["text"]


# -- 7. "那现在咋办" asks for the options ----------------------------------------------------------------

@pytest.mark.parametrize("ask", ["那现在咋办", "那咋办啊"])
def test_what_now_asks_for_the_options_and_chooses_none(ask: str) -> None:
    """"那现在咋办" was read as a yes: after an offer of one option it would take it. It asks what the
    shop will do: nothing chosen, the options shown."""
    flow = _heard().agent(EXPLANATION + "给您换一个新的，来回运费我们出，您看可以吗？").expect("remedy")
    flow.buyer(ask).expect("remedy")
    assert flow.conv.context.remedy_chosen is None
    u = flow.last.understanding
    assert u is not None and getattr(u, "intent", None) == "ask", u
    texts = _texts(flow)
    assert texts and all("换" in t for t in texts), texts


def test_what_now_after_the_explanation_gets_the_options() -> None:
    flow = _explained().buyer("那现在咋办").expect("remedy")
    texts = _texts(flow)
    assert texts and all("或者" in t for t in texts), texts


def test_the_buyer_who_takes_the_phone_from_the_relative_is_called_back_himself() -> None:
    """The relative hands the phone over ("你等下 他停好车了"): the busy one after is the buyer himself."""
    flow = (Flow(ENGINE, MAN).agent("您好，请问是李先生吗？我是悠然家居的售后客服小安。")
            .buyer("我是他老婆 那花瓶是他买的 你等下 他停好车了").buyer("喂 我现在在开会 晚点说吧").expect("callback"))
    texts = _texts(flow)
    assert texts and not any("联系他" in t or "跟他说" in t for t in texts), texts
