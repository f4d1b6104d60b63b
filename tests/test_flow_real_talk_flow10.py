"""The flow on real conversations (tests/data/dialogs_flow10.jsonl, written before these rules): a
yes after a trailing "……" ("……行吧 电脑还能开机") read as a complaint, a buyer back from the shower
("我就是 刚洗完澡 室友说你们找我？") not resuming the callback, and options waved off with "不必了"
after a sneer ("换一副一样烂的？不必了") read as a choice. Each class goes through the real Engine
and model, with sentences that are not the dialog set's.
"""

from __future__ import annotations

import pytest

from bot.replay import eval_dialogs
from tests.conftest import DATA, read_jsonl
from tests.dialog import Flow
from tests.shared import model_read, shared_engine

ENGINE = shared_engine()
CASE = {"shop": "安居家居", "buyer_name": "柏", "honorific": "女士", "product": "折叠桌"}
HELLO = "您好，请问是柏女士吗？我是安居家居的售后客服小程。"


def _asked() -> Flow:
    return (Flow(ENGINE, CASE).agent(HELLO).buyer("是的")
            .agent("您上周买的那张折叠桌，还记得吗？").expect("confirm_product"))


def _explained() -> Flow:
    return (_asked().buyer("记得 桌面有一条裂缝 放东西都晃").expect("listen_apologize")
            .agent("真抱歉，新桌子就裂了，用着也不放心。").expect("explain")
            .agent("这批桌面的板材没干透就出厂了，干了以后就裂，我们已经停发返检了。").expect("remedy"))


def test_the_real_talk_set_replays_as_labelled() -> None:
    """Sixteen conversations written before these rules: 0.903 per turn before."""
    r = eval_dialogs(ENGINE, read_jsonl(DATA / "dialogs_flow10.jsonl"))
    assert r["stage_accuracy"] == 1.0 and r["final_stage_accuracy"] == 1.0, r["errors"]


# -- a yes after dots, then more said ------------------------------------------------------------

@pytest.mark.parametrize("text", ["……行吧 桌子我先凑合用着 你态度还可以", "。。。好吧 算你们还有点诚意",
                                  "...行 就这么办吧"])
def test_a_yes_after_dots_takes_the_one_offer(text: str) -> None:
    """"……行吧 电脑还能开机 就是角磕了" took the one offer: the dots before a yes are a
    sigh, like "哎", and the yes still opens the message."""
    (_explained().agent("给您换一张新桌面，旧的不用寄回，另外补偿您20元，您看这样行吗？").expect("remedy")
     .buyer(text).expect("polite_request"))


# -- back from what kept them ---------------------------------------------------------------------

@pytest.mark.parametrize("text", ["我就是 刚洗完澡 室友说你们找我？", "刚吃完饭 你说吧是什么事",
                                  "我回来了 什么事"])
def test_back_from_what_kept_them_resumes_the_callback(text: str) -> None:
    flow = (Flow(ENGINE, CASE).agent(HELLO).buyer("她在洗澡 手机在我这 你等会儿再发吧").expect("callback")
            .agent("好的，那我过半小时再联系柏女士，打扰了。").expect("callback"))
    flow.buyer(text)
    assert flow.conv.stage != "callback"


# -- every option waved off with "不必" ------------------------------------------------------------

@pytest.mark.parametrize("text", ["换一张一样的？不必了。退货还得我拆了打包，也不必了",
                                  "换就不必了 退货也不必了 懒得弄", "不必了 都不必了"])
def test_options_waved_off_with_no_need_decline(text: str) -> None:
    (_explained().agent("给您换一张新桌子，或者退货退款，来回运费我们出，您看哪个？").expect("remedy")
     .buyer(text).expect("closing"))


# -- money asked for the review, once it is asked for ----------------------------------------------

def _requested() -> Flow:
    return (_explained().agent("给您换一张新桌子，或者退货退款，来回运费我们出，您看哪个？").expect("remedy")
            .buyer("换").expect("polite_request")
            .agent("好的，今天发出。冒昧问下，您觉得处理还行的话，方便改下评价吗？不改也没关系。")
            .expect("polite_request"))


@pytest.mark.parametrize("text", ["改可以 再转我10块", "行啊 给我发个5块钱红包我就改", "可以改 另外补我20"])
def test_a_yes_to_the_request_with_money_asked_is_extortion(text: str) -> None:
    """"改可以 再转我10块" was read as agreeing (0.65): the money is asked for the review."""
    flow = _requested().buyer(text).expect("malicious")
    flow.agent("抱歉，我们不能用钱换评价。桌子有问题的话，换新照样给您办。").expect("malicious")


@pytest.mark.parametrize("text", ["可以 那20块什么时候到账", "行 改就改吧"])
def test_a_yes_to_the_request_without_a_demand_is_no_extortion(text: str) -> None:
    _requested().buyer(text).expect("closing")


# -- the review left to the buyer in the closing words ----------------------------------------------

@pytest.mark.parametrize("text", ["抱歉，评价您自己决定就好，退货的事我帮您盯着。谢谢柏女士，再次抱歉。",
                                  "评价随您，换新照常给您发。谢谢您，再次抱歉。"])
def test_the_review_left_to_the_buyer_closes(text: str) -> None:
    """"评价您自己决定就好" was read as asking for the review: it leaves it to the buyer, so
    thanks and an apology with it are the closing words."""
    (_requested().buyer("说来说去还是惦记评价").expect("closing").agent(text).expect("closed"))


# -- the sum offered, taken with "就行" ----------------------------------------------------------------

@pytest.mark.parametrize("text", ["不用换了 20就行 凑合也能用", "20块就行", "不换了，20元就可以"])
def test_the_sum_offered_taken_with_that_will_do(text: str) -> None:
    """"不用换了 20就行 戴个手套也能用" (read as a plain no, 0.82) turned down the exchange and
    took the 20 yuan offered beside it."""
    (_explained().agent("给您换一张新桌子，或者补偿您20元留着用，您看哪个？").expect("remedy")
     .buyer(text).expect("polite_request"))


# -- an option picked by a word the agent named it with ---------------------------------------------

def _two_named() -> Flow:
    return _explained().agent("给您寄一块新桌面，拧四颗螺丝就能换上；或者退货退款，您看哪个？").expect("remedy")


@pytest.mark.parametrize("text", ["桌面吧", "那就桌面吧", "螺丝就行"])
def test_a_word_from_the_agents_naming_picks_that_option(text: str) -> None:
    """"刀头吧" to "给您寄一个新刀头，一按就能换上；或者退货退款" picked the new part: the word is in
    that option's part of the message only."""
    flow = _two_named().buyer(text).expect("polite_request")
    assert flow.conv.context.remedy_chosen == "exchange"


@pytest.mark.parametrize("text", ["桌面吗", "都行", "可以吧", "腿也歪了"])
def test_a_word_asked_about_or_no_word_picks_nothing(text: str) -> None:
    """A question about it, a yes to all, a new problem: no option taken by a word."""
    flow = _two_named().buyer(text).expect("remedy")
    assert flow.conv.context.remedy_chosen is None


def test_a_word_in_two_options_parts_picks_neither() -> None:
    """"桌面" named in the new part's words and the return's alike tells no option apart (read as
    the model before batch 22 read it, busy at 0.43: the shipped one reads a weak yes, which takes the
    one option the remedy book recognises there, the return)."""
    flow = (_explained().agent("给您寄一块新桌面，拧上就能用；或者把桌面寄回来，给您退货退款，您看哪个？")
            .expect("remedy"))
    conv, _ = ENGINE.feed_understood(flow.conv, model_read("桌面吧", [("busy", 0.43)], "busy", 0.43))
    assert conv.stage == "remedy" and conv.context.remedy_chosen is None
