"""Whole conversations typed into `csbot assist` the way an agent does (wave 2, assist2): what the
suggestions said that a demanding agent would not send. Each goes through the real Engine and model.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.dialog import Flow
from tests.shared import shared_engine

ENGINE = shared_engine()
NOON = datetime(2026, 12, 7, 12, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


def _texts(flow: Flow) -> list[str]:
    return [s.text for s in flow.last.suggestions]


def _dress_to_remedy() -> Flow:
    case = {"shop": "柚子家服饰", "buyer_name": "王芳", "honorific": "女士", "product": "连衣裙"}
    return (Flow(ENGINE, case).agent("您好，请问是王芳女士吗？我是柚子家服饰的售后客服小林。").buyer("是我呀，怎么啦😊")
            .agent("就是您12月4日买的那条碎花连衣裙，收到后穿着合适吗？")
            .buyer("记得的 就是买小了 腰那里有点紧 穿不上呢").expect("listen_apologize")
            .agent("真不好意思，让您收到不合身的裙子，还麻烦您试穿，我特别理解您的心情。").expect("explain")
            .agent("这款版型确实偏小一码，详情页提示写得不够显眼，是我们的问题。").expect("remedy"))


def test_a_size_the_buyer_named_is_not_asked_again() -> None:
    """"那能换个L码吗" was answered "您告诉我要换哪个尺码": the buyer had just said which."""
    flow = _dress_to_remedy().buyer("那能换个L码吗 我还挺喜欢这个花色的").expect("polite_request")
    texts = _texts(flow)
    assert texts and not any("哪个尺码" in t for t in texts), texts
    assert any("L码" in t for t in texts), texts


def test_a_size_not_named_is_still_asked() -> None:
    flow = _dress_to_remedy().buyer("那能换个尺码吗 我还挺喜欢这个花色的").expect("polite_request")
    assert any("哪个尺码" in t for t in _texts(flow)), _texts(flow)
    assert flow.conv.context.size_said is None


def test_a_size_in_a_plain_choice_is_said_back() -> None:
    for said, size in [("换xl吧", "XL码"), ("换38码的", "38码"), ("那换大一码吧", "大一码")]:
        flow = _dress_to_remedy().buyer(said).expect("polite_request")
        assert flow.conv.context.size_said == size
        assert any(size in t for t in _texts(flow)) and not any("合适的尺码" in t for t in _texts(flow)), _texts(flow)


@pytest.mark.parametrize(("said", "size"), [("换大一码吧，要150的", "150码"), ("那就换大一码吧，33码", "33码"),
                                          ("换150的吧", "150码"), ("换M码，我平时穿S", "M码")])
def test_the_size_the_buyer_names_after_a_relative_one_is_said_back(said: str, size: str) -> None:
    """"換大一碼吧，要150的" got "換成大一碼": the size the buyer went on to name (a child's
    height, "150的") is the one to say back; of two named outright, the first is the one asked for."""
    flow = _dress_to_remedy().buyer(said).expect("polite_request")
    assert flow.conv.context.size_said == size
    assert any(size in t for t in _texts(flow)), _texts(flow)


def test_the_agent_who_confirmed_the_callback_time_is_not_told_it_again() -> None:
    """"好的，那我今天下午五点半旺旺联系您" got "好的，那就今天下午5点半联系您，您先忙": the same line."""
    case = {"shop": "柚子家运动", "buyer_name": "周敏", "honorific": "女士", "product": "跑鞋"}
    flow = (Flow(ENGINE, case).agent("您好，请问是周敏女士吗？我是柚子家运动的售后客服小林。", at=NOON)
            .buyer("在开会 晚点说", at=NOON).expect("callback")
            .agent("不好意思打扰了，您先忙，您看什么时候方便我再联系您？", at=NOON)
            .buyer("五点半以后吧 到时候旺旺找我就行", at=NOON).expect("callback"))
    assert flow.conv.context.callback_at
    assert any("5点半" in t for t in _texts(flow))  # the buyer's time: confirmed once
    flow.agent("好的，那我今天下午五点半旺旺联系您，您先忙。", at=NOON).expect("callback")
    assert _texts(flow) == []
    assert any("5点半" in w.message for w in flow.last.warnings)  # the note still says when


def test_a_plain_no_worries_after_the_close_is_not_answered_you_are_welcome() -> None:
    """"没事" to the agent's apology for calling the wrong person got "不用谢": nobody had thanked."""
    case = {"shop": "柚子家服饰", "buyer_name": "李娜", "honorific": "女士", "product": "羽绒服"}
    flow = (Flow(ENGINE, case).agent("您好，请问是李娜女士吗？我是柚子家服饰的售后客服小林。")
            .buyer("？？你找错人了吧 我不叫李娜 也没买过羽绒服").expect("closing")
            .agent("不好意思，是我们这边搞错了，打扰您了，祝您生活愉快~").expect("closed"))
    for said in ["没事", "好的", "嗯", "拜拜"]:
        after = Flow(ENGINE, case)
        after.conv = flow.conv.model_copy(deep=True)
        after.buyer(said).expect("closed")
        assert not any(t.startswith("不用谢") for t in _texts(after)), (said, _texts(after))
    thanked = Flow(ENGINE, case)
    thanked.conv = flow.conv.model_copy(deep=True)
    thanked.buyer("好的谢谢").expect("closed")
    assert _texts(thanked) and all(t.startswith(("不用谢", "不客气")) for t in _texts(thanked)), _texts(thanked)


def test_a_damaged_thing_with_a_latin_letter_keeps_it() -> None:
    """"把我白t恤都染了" gave "买家的恤也受了损失": the letter had cut the thing in half."""
    for said, thing in [("卫衣洗了一次就掉色 把我白t恤都染了", "白T恤"), ("把我T恤也染了", "T恤"),
                        ("我的t恤也被染色了", "T恤"), ("把我的白衬衫也染了", "白衬衫")]:
        assert ENGINE.flow.damaged(ENGINE.understand.normalize(said).text) == thing, said
    flow = Flow(ENGINE, {"shop": "柚子家服饰", "buyer_name": "亲", "honorific": "", "product": "卫衣"})
    flow.buyer("/:-( 在吗 卫衣洗了一次就掉色 把我白t恤都染了")
    assert any("白T恤" in w.message for w in flow.last.warnings), [w.message for w in flow.last.warnings]


def test_one_option_offered_is_not_asked_which_one() -> None:
    """The agent offered one fix ("给您退货退款…，您看可以吗？") and was told to ask "您看哪一种比较方便？"."""
    flow = Flow(ENGINE, {"shop": "柚子家服饰", "buyer_name": "亲", "honorific": "", "product": "卫衣"})
    flow.buyer("/:-( 在吗 卫衣洗了一次就掉色 把我白t恤都染了")
    flow.agent("亲您好，我是柚子家服饰的售后小林，真的太抱歉了，掉色还把您的T恤染了，太闹心了。")
    flow.agent("这批卫衣固色没做好，第一次洗会掉浮色，是我们品控的问题。给您退货退款，染坏的T恤我们按价赔您，您看可以吗？")
    assert flow.conv.stage == "remedy" and flow.conv.context.options_listed == ["return_refund"]
    texts = _texts(flow)
    assert texts and not any(w in t for t in texts for w in ("哪一种", "哪种", "几种", "选一个")), texts


def test_an_exchange_or_a_return_is_not_promised_done_today() -> None:
    """"换成XL码我这边马上处理，今天之内给您办好": an exchange or a return waits for the parcel back."""
    for said in ["换xl吧", "退了吧 不想要了"]:
        for tone in ("正式", "亲切"):
            flow = _dress_to_remedy()
            flow.conv.tone = tone
            flow.buyer(said).expect("polite_request")
            texts = _texts(flow)
            assert texts and not any("今天之内" in t or "今天就办好" in t for t in texts), (said, texts)


def test_a_buyer_who_asks_first_about_the_order_is_not_asked_whether_they_remember_it() -> None:
    """"请问我买的保温杯什么时候发货？" got "您在台灣小舖买的保温杯，还有印象吗？": the buyer had just named it."""
    case = {"shop": "台灣小舖", "buyer_name": "林", "honorific": "小姐", "product": "保温杯"}
    for said in ["请问我买的保温杯什么时候发货？", "你好 我的保溫杯什麼時候能到啊"]:
        flow = Flow(ENGINE, case).buyer(said)
        texts = _texts(flow)
        assert texts and not any(w in t for t in texts for w in ("印象", "记得", "記得")), (said, texts)
    # the agent's own first question still asks it
    flow = Flow(ENGINE, case).agent("您好，请问是林小姐吗？我是台灣小舖的售后客服。").buyer("是我")
    assert any(w in t for t in _texts(flow) for w in ("印象", "记得")), _texts(flow)


def test_the_agent_who_asked_how_it_went_is_not_told_to_ask_it_again() -> None:
    """"就是您12月4日买的那条碎花连衣裙，收到后穿着合适吗？" got "您收到以后穿着有哪里不满意吗？"."""
    case = {"shop": "柚子家服饰", "buyer_name": "王芳", "honorific": "女士", "product": "连衣裙"}
    flow = (Flow(ENGINE, case).agent("您好，请问是王芳女士吗？我是柚子家服饰的售后客服小林。").buyer("是我呀，怎么啦😊")
            .agent("就是您12月4日买的那条碎花连衣裙，收到后穿着合适吗？").expect("confirm_product"))
    assert _texts(flow) == []
    # naming the order alone still gets the question about it
    flow = (Flow(ENGINE, case).agent("您好，请问是王芳女士吗？我是柚子家服饰的售后客服小林。").buyer("是我呀")
            .agent("您12月4日在我们店买了一条碎花连衣裙。").expect("confirm_product"))
    assert any("不满意" in t or "问题" in t for t in _texts(flow)), _texts(flow)


def _parcel(complaint: str) -> Flow:
    case = {"shop": "柚子家服饰", "buyer_name": "王芳", "honorific": "女士", "product": "连衣裙"}
    return (Flow(ENGINE, case).agent("您好，请问是王芳女士吗？我是柚子家服饰的售后客服小林。").buyer("是我")
            .agent("您12月4日在我们店买了一条碎花连衣裙，还有印象吗？").buyer(complaint)
            .agent("真不好意思，让您久等了。").agent("是快递那边出了问题。").expect("remedy"))


def test_a_parcel_never_received_is_not_offered_to_keep_it() -> None:
    """"东西到現在都還沒收到好嗎…" was offered "東西您留著…退一部分貨款" and "東西不用寄回"."""
    for complaint in ["东西到現在都還沒收到好嗎…", "快递显示签收了我没收到"]:
        flow = _parcel(complaint)
        assert flow.conv.context.not_received, complaint
        texts = _texts(flow)
        assert texts, complaint
        for t in texts:
            assert not any(w in t for w in ("留着", "留著", "一部分", "不用寄回", "寄回")), t
            assert "补发" in t or "補發" in t, t
        assert any("全额退款" in t or "全額退款" in t for t in texts), texts
        ids = [r.id for r in flow.last.remedies]
        assert "partial_refund" not in ids and ids[0] == "reship" and "refund" in ids, ids
        assert not any("寄回" in r.text for r in flow.last.remedies), flow.last.remedies


def test_a_parcel_that_arrived_broken_is_still_offered_to_keep_it() -> None:
    flow = _parcel("收到了，但是盒子都压坏了，衣服也脏了")
    assert not flow.conv.context.not_received
    assert "partial_refund" in [r.id for r in flow.last.remedies]


def test_the_agent_who_asked_when_is_not_told_to_ask_again() -> None:
    """"您看什么时候方便？" got "您看今晚八点左右方便吗？": the buyer had just been asked."""
    case = {"shop": "柚子家服饰", "buyer_name": "王芳", "honorific": "女士", "product": "连衣裙"}
    flow = (Flow(ENGINE, case).agent("您好，请问是王芳女士吗？我是柚子家服饰的售后客服小林。")
            .buyer("我在开会，晚点再说吧").expect("callback")
            .agent("好的，不打扰您，您看什么时候方便？"))
    assert _texts(flow) == []
    # the buyer's answer gets its suggestion again
    flow = flow.buyer("明天上午十点吧")
    assert _texts(flow), flow.last
    # without the question, a time is still proposed
    flow = (Flow(ENGINE, case).agent("您好，请问是王芳女士吗？我是柚子家服饰的售后客服小林。")
            .buyer("我在开会，晚点再说吧").agent("好的，不好意思打扰您了。"))
    assert _texts(flow), flow.last


def test_the_not_received_cue() -> None:
    cue = ENGINE.flow.cue
    for text in ["东西到現在都還沒收到好嗎…", "快递显示签收了我没收到", "还没到货呢", "快递丢件了", "包裹丢了"]:
        assert cue("not_received", ENGINE.understand.normalize(text).text), text
    for text in ["收到了", "收到了，但是盒子压坏了", "退款还没收到", "还没到时间"]:
        assert not cue("not_received", ENGINE.understand.normalize(text).text), text
