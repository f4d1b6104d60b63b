"""Flow leftovers of the second wave, each as a class through the real Engine and model with
the Chinese the agent is shown: the measure word of a product only the talk names, a refund
asked for on a cause whose options lack a plain refund, and when the review may be asked."""

from __future__ import annotations

import pytest

from tests.dialog import Flow
from tests.shared import shared_engine

ENGINE = shared_engine()
SHOES = {"shop": "跃动童鞋", "buyer_name": "陈静", "product": "儿童运动鞋"}


def _to_options(case: dict[str, str], problem: str) -> Flow:
    return (Flow(ENGINE, case).agent("您好，请问是王芳吗？我是售后客服。").buyer("是我")
            .agent("您前段时间在我们店买的东西，还记得吗？").buyer(problem).expect("listen_apologize")
            .agent("真的很抱歉，给您添麻烦了。").agent("这批货品控没做好，是我们的问题。").expect("remedy"))


# -- 1. the measure word of a product the case does not name -------------------------------

@pytest.mark.parametrize("problem,word", [
    ("记得，买的橙子，收到好几个都烂了", "换一箱新的"),
    ("记得，那个血压计用了两天就坏了", "换一台新的"),
    ("记得，茶叶里面有好多杂质，质量太差了", "换一盒新的"),
    ("记得，纸箱都压扁了，里面的鞋子也开胶了", "补发一双新的"),   # the box is no product
    ("记得，东西用了两天就坏了", "换一个新的"),               # nothing known: neutral
])
def test_a_case_with_no_product_takes_the_measure_word_from_the_talk(problem: str, word: str) -> None:
    flow = _to_options({"shop": "康健优选", "buyer_name": "王芳"}, problem)
    texts = [s.text for s in flow.last.suggestions] + [r.text for r in flow.last.remedies]
    assert texts and any(word in t for t in texts), texts
    assert not any("一件新的" in t for t in texts), texts


def test_the_shops_name_in_the_greeting_is_no_product() -> None:
    """"柚子家女装的售后客服" names the shop, not a box of pomelos."""
    flow = (Flow(ENGINE, {"shop": "柚子家女装", "buyer_name": "王芳"})
            .agent("您好，请问是王芳吗？我是柚子家女装的售后客服。").buyer("是我"))
    assert flow.conv.context.product_said is None
    flow.agent("您前段时间在柚子家下的那一单，还记得吗？").buyer("记得，那条裤子洗了一次就缩水了")
    assert flow.conv.context.product_said == "裤"


def test_a_named_product_no_row_knows_is_neutral_and_the_case_name_wins() -> None:
    flow = _to_options({"shop": "康健优选", "buyer_name": "王芳", "product": "电子血压计"},
                       "记得，用了两天就坏了，橙子都比它耐用")
    assert any("换一台新的" in r.text for r in flow.last.remedies)  # the case's product, not the talk's
    flow = _to_options({"shop": "康健优选", "buyer_name": "王芳", "product": "筋膜枪"}, "记得，用了两天就坏了")
    assert any("换一个新的" in r.text for r in flow.last.remedies), [r.text for r in flow.last.remedies]


# -- 2. a refund asked for on a quality case ------------------------------------------------

def _offered() -> Flow:
    return (Flow(ENGINE, SHOES).agent("陈静您好，我是跃动童鞋的售后客服，请问是陈静本人吗？").buyer("是我")
            .agent("您前段时间在我们店买的运动鞋，还记得吗？").buyer("记得，穿了两天就开胶了，质量太差")
            .agent("真的很抱歉，给您添麻烦了，换谁都会生气。").agent("这批鞋胶水工艺没做好，是我们品控的问题。")
            .agent("给您换一双新的，来回运费我们出；或者退货退款，您看哪种方便？").expect("remedy"))


@pytest.mark.parametrize("said", ["先退款吧", "退款吧", "我要退款", "tk吧"])
def test_a_refund_on_a_defect_is_granted_as_the_causes_refund(said: str) -> None:
    """A quality case has no plain refund with nothing sent back; "先退款吧" chose `refund` and the
    flow moved on while every suggestion said it could not be given. Now it is met by the
    case's 退货退款 (remedies.yaml `instead`): chosen, and the reply grants it."""
    flow = _offered().buyer(said).expect("polite_request")
    assert flow.conv.context.remedy_chosen == "return_refund"
    texts = [s.text for s in flow.last.suggestions]
    assert texts and all("退货退款" in t and "能办的是" not in t and "能做的" not in t for t in texts), texts


def test_a_refund_that_keeps_the_item_is_not_chosen_and_the_stage_holds() -> None:
    """"全额退款，东西我不寄回了" holds to what the cause does not offer: no choice is recorded, the
    stage stays 提出补救 and the reply says what the shop can do (flow and reply agree)."""
    flow = _offered().buyer("全额退款吧，东西我不寄回了").expect("remedy")
    assert flow.conv.context.remedy_chosen is None and flow.conv.context.remedy_requested == "refund"
    texts = [s.text for s in flow.last.suggestions]
    assert texts and all("全额退款" in t and "退货退款" in t for t in texts), texts
    # a plain yes to the options then given chooses none of them, nor the refund: asked which
    flow.agent("这次可以给您换一双新的，或者退货退款，运费都是我们出。")
    flow.buyer("好的").expect("remedy")
    assert flow.conv.context.remedy_chosen is None
    texts = [s.text for s in flow.last.suggestions]
    assert texts and all("换一双新的" in t and "退货退款" in t and "全额退款" not in t for t in texts), texts
    # the cause's option named then is chosen
    flow.buyer("那就退货退款吧").expect("polite_request")
    assert flow.conv.context.remedy_chosen == "return_refund"


def test_a_refund_the_agent_offered_is_chosen_as_offered() -> None:
    flow = _offered().agent("或者也可以直接给您全额退款，鞋子不用寄回。").buyer("退款吧").expect("polite_request")
    assert flow.conv.context.remedy_chosen == "refund"


# -- 3. when the review may be asked --------------------------------------------------------

def test_the_review_is_asked_once_the_remedy_is_under_way() -> None:
    """design.md: the review is asked once, after the fix; the checklist calls the fix done once it
    is under way (已寄出、已退款或已预约): a remedy sent today is under way, so the request may come;
    before that, the suggestion arranges the remedy only."""
    flow = (Flow(ENGINE, SHOES).agent("陈静您好，我是跃动童鞋的售后客服，请问是陈静本人吗？").buyer("是我")
            .agent("您前段时间在我们店买的运动鞋，还记得吗？").buyer("记得，偏小了一码，孩子穿着挤脚")
            .agent("真不好意思，让孩子受罪了。").agent("这款版型偏小，页面没标清楚，是我们的疏忽。")
            .agent("给您换成33码，来回运费我们出；或者退货退款，您看哪个方便？")
            .buyer("那就换33码吧").expect("polite_request"))
    assert not any("评价" in s.text for s in flow.last.suggestions)
    flow.agent("好的，33码新鞋今天就给您寄出，旧的不用寄回。")
    assert flow.conv.context.remedy_underway
    assert all("评价" in s.text for s in flow.last.suggestions)
