"""A parcel that did not arrive, then was found; a callback time the agent proposes; chasing
the courier for a parcel stuck on the way. Whole dialogs through the real Engine and model."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from tests.dialog import Flow
from tests.shared import shared_engine

ENGINE = shared_engine()
NOON = datetime(2026, 12, 7, 12, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
CASE = {"shop": "柚子家服饰", "buyer_name": "王芳", "honorific": "女士", "product": "连衣裙"}
KEEP = ("留着", "留著", "一部分", "不用寄回")


def _texts(flow: Flow) -> list[str]:
    return [s.text for s in flow.last.suggestions]


def _told(complaint: str) -> Flow:
    return (Flow(ENGINE, CASE).agent("您好，请问是王芳女士吗？我是柚子家服饰的售后客服小林。").buyer("是我")
            .agent("您12月4日在我们店买了一条碎花连衣裙，还有印象吗？").buyer(complaint))


def _parcel(complaint: str) -> Flow:
    return (_told(complaint).agent("真不好意思，让您久等了。").agent("是快递那边出了问题。").expect("remedy"))


def _cue(name: str, text: str) -> bool:
    return ENGINE.flow.cue(name, ENGINE.understand.normalize(text).text) is not None


# -- 1. not_received switches off when the parcel turns up, and counts only for logistics ----------

def test_a_parcel_found_gets_the_keep_it_options_back() -> None:
    """"找到了，在驿站放着呢" after "快递显示签收了我没收到" was still offered no "东西您留着…"."""
    for found in ["找到了，在驿站放着呢，盒子都压扁了", "哦找到了，邻居帮我代收了，就是外盒破了",
                  "在快遞櫃裡，我沒看到取件短信，盒子壓壞了"]:
        flow = _parcel("快递显示签收了我没收到")
        assert flow.conv.context.not_received
        flow.buyer(found)
        assert not flow.conv.context.not_received, found
        ids = [r.id for r in flow.last.remedies]
        assert "partial_refund" in ids, (found, ids)
        texts = _texts(flow)
        assert texts and any(any(w in t for w in KEEP) for t in texts), (found, texts)
        assert not any("不用再等这个包裹" in t or "不用再等這個包裹" in t for t in texts), texts


def test_a_parcel_still_missing_stays_missing() -> None:
    flow = _parcel("快递显示签收了我没收到").buyer("驿站我也去问了，还是没找到")
    assert flow.conv.context.not_received
    assert "partial_refund" not in [r.id for r in flow.last.remedies]


def test_the_found_cue() -> None:
    for text in ["找到了，在驿站", "在快递柜里，没看到短信", "邻居帮我代收了", "刚收到了", "被门卫收了",
                 "原來放在菜鳥驛站了"]:
        assert _cue("goods_found", text), text
    for text in ["还是没找到", "驿站说没有", "在驿站也没找到", "快递显示签收了我没收到", "没收到了",
                 "收到了吗", "到时候再说"]:
        assert not _cue("goods_found", text), text


def test_not_received_counts_only_where_the_parcel_is_the_problem() -> None:
    """"质量太差了…赠品也没收到" (a quality case) was offered only the apology gift: every option
    that needs the goods was hidden, though the buyer has the dress."""
    flow = _told("质量太差了，洗一次就起球，赠品也没收到")
    assert flow.conv.context.cause == "quality"
    flow.agent("真不好意思，让您失望了。").agent("这批面料确实有问题，我们已经反馈给工厂了。").expect("remedy")
    ids = [r.id for r in flow.last.remedies]
    assert ids[:3] == ["exchange", "return_refund", "partial_refund"], ids
    assert any("换一件" in t for t in _texts(flow)), _texts(flow)


# -- 2. a time the agent proposes is not the agent asking for one -----------------------------------

def _busy() -> Flow:
    return (Flow(ENGINE, CASE).agent("您好，请问是王芳女士吗？我是柚子家服饰的售后客服小林。", at=NOON)
            .buyer("我在开会，晚点再说吧", at=NOON).expect("callback"))


def test_a_time_the_agent_proposes_gets_the_next_step() -> None:
    """"今晚八点左右方便吗？" was read as asking the buyer when suits (cues.asks_time): nothing was
    suggested, as if the buyer had to name a time; the agent named it, and is told to confirm it."""
    for proposal, said in [("好的，不打扰您，今晚八点左右方便吗？", "8点"),
                           ("那我明天上午十点再联系您，方便吗？", "10点"), ("您看晚上8:30有空吗？", "8点半")]:
        flow = _busy().agent(proposal, at=NOON).expect("callback")
        assert not flow.conv.context.time_asked, proposal
        texts = _texts(flow)
        assert texts and all(said in t for t in texts), (proposal, texts)


def test_the_agent_asking_for_a_time_still_waits() -> None:
    for question in ["好的，不打扰您，您看什么时候方便？", "好的，今晚几点方便？", "那我明天再联系您，您看几点方便？",
                     "您看今晚还是明天上午方便？"]:
        flow = _busy().agent(question, at=NOON).expect("callback")
        assert flow.conv.context.time_asked, question
        assert _texts(flow) == [], (question, _texts(flow))
        flow.buyer("八点吧", at=NOON)
        assert any("8点" in t for t in _texts(flow)), _texts(flow)


# -- 3. a parcel stuck on the way: chasing the courier is an option ---------------------------------

def test_a_parcel_stuck_on_the_way_can_be_chased() -> None:
    """"物流一直不动" was offered a reship, a partial refund "东西您留着" (of goods not there) and a
    refund: never "我们这边马上联系快递催一下"."""
    for stuck in ["一个星期了物流一直不动，卡在中转站", "都一个星期了还没到，物流一直不动"]:
        flow = _parcel(stuck)
        assert flow.conv.context.not_received, stuck
        ids = [r.id for r in flow.last.remedies]
        assert ids[:3] == ["reship", "chase_courier", "refund"], ids
        texts = _texts(flow)
        assert texts and all("联系快递催一下" in t for t in texts), texts
        assert not any(any(w in t for w in KEEP) for t in texts), texts


def test_a_parcel_that_arrived_is_not_chased() -> None:
    for arrived in ["收到了，但是盒子都压坏了，衣服也脏了", "快递太慢了，等了十天才到"]:
        flow = _parcel(arrived)
        ids = [r.id for r in flow.last.remedies]
        assert "chase_courier" not in ids and "partial_refund" in ids, (arrived, ids)
        assert not any("催" in t for t in _texts(flow)), _texts(flow)


def test_chasing_is_a_choice_and_listed_as_one() -> None:
    flow = _parcel("都一个星期了还没到，物流一直不动")
    flow.agent("我们可以马上给您补发一件新的，或者先联系快递催一下，您看哪种方便？")
    assert flow.conv.context.options_listed == ["reship", "chase_courier"], flow.conv.context.options_listed
    flow.buyer("好的")
    assert any("补发一件新的，还是联系快递催一下" in t for t in _texts(flow)), _texts(flow)
    flow.buyer("那你们先帮我催一下吧").expect("polite_request")
    assert flow.conv.context.remedy_chosen == "chase_courier"
    texts = _texts(flow)
    assert texts and all("催" in t for t in texts) and not any("评价" in t for t in texts), texts


def test_a_chase_is_not_the_fix_the_review_waits_for() -> None:
    """The courier chased is not the parcel arrived: no review request until the buyer has it."""
    flow = (_parcel("都一个星期了还没到，物流一直不动")
            .agent("我们可以马上给您补发一件新的，或者先联系快递催一下，您看哪种方便？")
            .buyer("那你们先帮我催一下吧").expect("polite_request"))
    flow.agent("好的，我这就联系快递催一下，有消息马上告诉您。")
    assert not flow.conv.context.remedy_underway
    texts = _texts(flow)
    assert texts and not any("评价" in t for t in texts), texts
    assert not any("马上给您安排" in t or "这就给您" in t for t in texts), texts  # not arranged again
    flow.buyer("收到了，快递刚送到").expect("polite_request")
    assert flow.conv.context.remedy_underway
    assert any("评价" in t for t in _texts(flow)), _texts(flow)


def test_chasing_in_traditional() -> None:
    flow = _parcel("都一個星期了還沒到，物流一直不動")
    assert flow.conv.context.traditional
    assert any("聯繫快遞催一下" in t for t in _texts(flow)), _texts(flow)


def test_the_chase_passes_the_guard() -> None:
    chase = ENGINE.remedies.remedies["chase_courier"]
    for text in (chase.text, chase.next or "", chase.again or ""):
        assert text and ENGINE.understand.agent(text).findings == [], text


# -- a crushed box is no broken goods; goods said fine drop the damage ----------------------------

PILLOW = {"shop": "柚子家居", "buyer_name": "王芳", "honorific": "女士", "product": "记忆棉枕头"}


def test_a_crushed_box_is_not_broken_goods_and_goods_said_fine_drop_the_damage() -> None:
    """"盒子都压扁了" set the broken flag and "枕头倒是没事" did not clear it: the suggestions
    still said "这次的损坏…" / "路上弄坏的事" for a pillow that arrived whole, only late."""
    flow = (Flow(ENGINE, PILLOW).agent("您好，请问是王芳女士吗？我是柚子家居的售后客服小林。").buyer("是我")
            .agent("您12月4日在我们店买了一个记忆棉枕头，还有印象吗？").buyer("快递显示签收了我没收到")
            .agent("真不好意思，让您久等了。").buyer("找到了，在驿站放着呢，盒子都压扁了"))
    assert not flow.conv.context.broken
    flow.conv.context.broken = True  # as if the damage had been told of the goods before
    flow.buyer("枕头倒是没事 就是等太久了 本来买来给我妈过生日的")
    assert not flow.conv.context.broken
    texts = _texts(flow)
    assert texts and not any("损坏" in t or "弄坏" in t or "坏" in t for t in texts), texts


def test_the_box_and_fine_cues() -> None:
    for text in ["盒子都压扁了", "外盒破了", "箱子压坏了"]:
        assert _cue("broken", text) and not _cue("broken", ENGINE.flow.cues["packaging_damaged"].sub("", text)), text
    for text in ["盒子压扁了，杯子也碎了", "碎了一大半", "罐子压凹了"]:
        assert _cue("broken", ENGINE.flow.cues["packaging_damaged"].sub("", text)), text
    flow = (Flow(ENGINE, PILLOW).agent("您好，请问是王芳女士吗？").buyer("是我")
            .agent("您买的记忆棉枕头收到了吗？").buyer("收到了，碎了一大半"))
    assert flow.conv.context.broken
    flow.buyer("人倒是没事")
    assert flow.conv.context.broken, "the buyer being fine is not the goods"
    flow.buyer("里面的东西是好的")
    assert not flow.conv.context.broken
