"""The call script: every transition row of script.yaml, and whole dialogs through real text."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import pytest

from bot.models import Case, Context, Conversation
from tests.conftest import DATA, PUBLIC, read_jsonl
from tests.shared import shared_engine

ENGINE = shared_engine()

# How to make each named condition true / false on a conversation.
MAKE_TRUE: dict[str, dict[str, Any]] = {
    "problem_stated": {"problem_stated": True},
    "review_changeable": {},
    "remedies_offered": {"remedies_offered": 1},
    "review_requested": {"review_requests": 1},
    "attempts_left": {"attempts": 1},
    "firm_hold": {"firm": True},
    "closing_words": {"last_acts": ["thank"]},
    "closing_message": {"last_acts": ["apologize", "thank"]},
    "first_move": {},  # the message started on the row's source stage: set in _ctx_for
    "farewell": {"farewell": True},
    "new_problem": {"new_problem": True},
    "declined": {"all_declined": True},
    "explained": {"explanations": 1},
    "apologised": {"apologies": 1},
    "sorry_heard": {"sorry_heard": True},
    "product_asked": {"product_confirmed": True},
    "options_open": {"options_listed": ["exchange", "return_refund"]},
    "unoffered": {"unoffered": True},
    "told_problem": {"told": "wrong_missing"},
}
MAKE_FALSE: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "problem_stated": ({"problem_stated": False}, {}),
    "review_changeable": ({}, {"platform": "tmall"}),
    "remedies_offered": ({"remedies_offered": 0}, {}),
    "review_requested": ({"review_requests": 0}, {}),
    "attempts_left": ({"attempts": 3}, {}),
    "firm_hold": ({"firm": False}, {}),
    "closing_words": ({"last_acts": []}, {}),
    "closing_message": ({"last_acts": ["apologize", "thank", "offer_remedy"]}, {}),
    "first_move": ({"stage_before": None}, {}),  # the message has moved the stage already
    "farewell": ({"farewell": False}, {}),
    "new_problem": ({"new_problem": False}, {}),
    "declined": ({"all_declined": False}, {}),
    "explained": ({"explanations": 0}, {}),
    "apologised": ({"apologies": 0}, {}),
    "sorry_heard": ({"sorry_heard": False}, {}),
    "product_asked": ({"product_confirmed": False}, {}),
    "options_open": ({"options_listed": ["exchange"]}, {}),
    "unoffered": ({"unoffered": False}, {}),
    "told_problem": ({"told": "service"}, {}),  # a talk cause (script.yaml talk_causes)
}


def _conv(stage: str, ctx: dict[str, Any], case: dict[str, Any] | None = None) -> Conversation:
    return Conversation(case=Case(shop="店", buyer_name="王", **(case or {})), stage=stage,
                        context=Context(**ctx))


def _ctx_for(row: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    ctx: dict[str, Any] = {}
    case: dict[str, Any] = {}
    for name in row["conditions"]:
        ctx.update(MAKE_TRUE[name])
    if "first_move" in row["conditions"]:
        ctx["stage_before"] = row["source"]
    for name in row["unless"]:
        c, k = MAKE_FALSE[name]
        ctx.update(c)
        case.update(k)
    if row["previous"]:
        ctx["held_from"] = row["dest"]
    return ctx, case


ROWS = ENGINE.script.rows


@pytest.mark.parametrize("row", ROWS, ids=[f"{r['trigger']}:{r['source']}->{r['dest']}" for r in ROWS])
def test_every_transition_row_fires(row: dict[str, Any]) -> None:
    ctx, case = _ctx_for(row)
    conv = _conv(row["source"], ctx, case)
    assert ENGINE.script.fire(conv, row["trigger"]) or row["source"] == row["dest"]
    assert conv.stage == row["dest"]


GUARDED = [(r, c) for r in ROWS for c in r["conditions"]]


@pytest.mark.parametrize("row,cond", GUARDED,
                         ids=[f"{r['trigger']}:{r['source']}->{r['dest']}-no-{c}" for r, c in GUARDED])
def test_a_false_condition_blocks_its_row(row: dict[str, Any], cond: str) -> None:
    ctx, case = _ctx_for(row)
    c, k = MAKE_FALSE[cond]
    ctx.update(c)
    case.update(k)
    conv = _conv(row["source"], ctx, case)
    ENGINE.script.fire(conv, row["trigger"])
    assert conv.stage != row["dest"]


def test_holding_stages_ignore_everything_but_resume_and_close() -> None:
    for stage in ("callback", "malicious", "escalated"):
        for event in ("message", "affirm", "problem", "apology", "choose", "end", "farewell"):
            conv = _conv(stage, {})
            ENGINE.script.fire(conv, event)
            assert conv.stage == stage


def test_the_machine_is_shared_and_holds_no_conversation() -> None:
    table = repr(ENGINE.script.table)
    conv, _ = ENGINE.start({"shop": "店", "buyer_name": "王"})
    ENGINE.feed(conv, "agent", "您好，请问是王先生吗？")
    assert repr(ENGINE.script.table) == table


def test_an_event_takes_the_first_transition_whose_conditions_agree() -> None:
    import copy

    script = copy.copy(ENGINE.script)
    script.table, script.rows = {}, []
    a, b, c = list(script.stages)[:3]
    for row in ({"trigger": "go", "source": a, "dest": b, "conditions": ["problem_stated"]},
                {"trigger": "go", "source": a, "dest": c, "unless": ["firm_hold"]},
                {"trigger": "stay", "source": a, "dest": a}):
        script._add(row)
    conv = _conv(a, {"firm": True})
    assert not script.fire(conv, "go") and conv.stage == a  # neither agrees
    assert not script.fire(conv, "stay") and not script.fire(conv, "unknown") and conv.stage == a
    conv.context.problem_stated = True
    assert script.fire(conv, "go") and conv.stage == b  # the first one that agrees
    conv = _conv(a, {})
    assert script.fire(conv, "go") and conv.stage == c
    assert script.leaves(a, "go") and not script.leaves(b, "go")


def test_main_path_with_counted_apologies(flow: Any) -> None:
    f = flow()
    f.expect("opening")
    f.agent("您好，请问是周女士吗？我是柚子家女装的售后小林。").expect("confirm_identity")
    f.buyer("嗯是我").expect("confirm_product")
    f.agent("您3月2号在我们店买的那条连衣裙还记得吗？").expect("confirm_product")
    f.buyer("记得，颜色跟图片差太多了，发灰").expect("listen_apologize")
    f.agent("真的很抱歉，让您失望了，换成我也会不开心。").expect("explain")
    assert f.conv.context.apologies == 1
    f.agent("主图调色调得太鲜了，是我们的问题，这周就换成实拍图。").expect("remedy")
    f.agent("给您换一件，来回运费我们出；或者退货退款，您看哪个方便？").expect("remedy")
    f.buyer("那就换一件吧").expect("polite_request")
    assert f.conv.context.remedy_chosen == "exchange"
    f.agent("好的，已经安排了。想问问您，如果觉得处理得还行，愿意考虑更新一下评价吗？改不改由您决定。")
    f.expect("polite_request").expect_no_warning("early_request")
    assert f.last.suggestions == []  # asked once: wait for the answer
    f.buyer("行，我一会儿去改").expect("closing")
    f.expect_reply_contains("评价")
    checklist = {c.item: c.done for c in f.last.checklist}
    assert checklist["已道歉 ≥ 2 次"] is False
    f.agent("再次为色差的事说声抱歉，谢谢您的理解，欢迎常来，祝您生活愉快！").expect("closed")
    assert f.conv.context.apologies == 2
    f.buyer("好的").expect("closed")  # answered after the end too (issue 16): a goodbye stays closed
    assert f.last.suggestions and f.conv.context.rounds == 1


def test_declining_every_remedy_skips_the_request_and_drafts_a_public_reply(flow: Any) -> None:
    f = flow()
    f.agent("您好，请问是周女士吗？").buyer("是的").agent("您上周买的连衣裙还记得吗？")
    f.buyer("记得，线头特别多，做工太差").expect("listen_apologize")
    f.agent("非常抱歉，给您添麻烦了。").expect("explain")
    f.agent("这批是工厂缝制的问题，我们已经反馈给工厂返工。").expect("remedy")
    f.agent("给您换一件新的，或者退货退款，您看哪个合适？")
    f.buyer("都不用了").expect("closing")
    assert f.conv.context.all_declined
    assert f.last.public_reply and "评价" not in f.last.suggestions[0].text
    assert "public_reply" in [w.code for w in f.last.warnings]


def test_tmall_skips_the_request(flow: Any) -> None:
    f = flow({"shop": "旗舰店", "buyer_name": "郭", "honorific": "先生", "platform": "tmall"})
    f.agent("您好，请问是郭先生吗？").buyer("是我").agent("您月初买的扫地机还记得吗？")
    f.buyer("记得，快递等了十天才到").agent("非常抱歉，让您等了这么久。").expect("explain")
    f.agent("那几天仓库遇到暴雨停发，是我们没有及时通知。").expect("remedy")
    f.agent("给您退50元，或者送一套滤网，您挑一个。")
    f.buyer("退50吧").expect("closing")
    f.expect_reply_contains()  # no_request suggestions exist
    f.agent("另外麻烦您考虑更新一下评价。").expect_warning("request_not_allowed")


def test_review_older_than_30_days_skips_the_request(flow: Any) -> None:
    f = flow({"shop": "店", "buyer_name": "白", "review_time": "2026-09-01T10:00:00"})
    at = datetime(2026, 11, 20, 19, 0)
    f.agent("您好，请问是白女士吗？", at=at).buyer("是", at=at)
    f.agent("您买的开衫还记得吗？", at=at).buyer("记得，起球太厉害了", at=at)
    f.agent("抱歉，这么快起球确实糟心。", at=at).agent("这批纱线短纤维偏多，已经换了供应商。", at=at)
    f.agent("给您退40元，或者退货退款。", at=at).buyer("退40吧", at=at).expect("closing")


def test_busy_callback_and_three_attempts(flow: Any) -> None:
    f = flow()
    f.agent("您好，请问是周女士吗？").buyer("在开会，晚点再说").expect("callback")
    f.agent("好的，那我晚上八点再联系您可以吗？").expect("callback")
    assert f.conv.context.offers_time
    conv = f.conv
    for attempt in (2, 3):
        conv, sug = ENGINE.resume(conv)
        assert conv.context.attempts == attempt and conv.stage == "confirm_identity"
        assert sug.suggestions and sug.suggestions[0].template.startswith("opening/resume")
        conv, _ = ENGINE.feed(conv, "buyer", "现在没空，晚点吧")
        assert conv.stage == "callback"
    with pytest.raises(ValueError, match="3 次"):
        ENGINE.resume(conv)


def test_extortion_goes_to_malicious_and_never_offers_money(flow: Any) -> None:
    f = flow()
    f.agent("您好，请问是孙先生吗？").buyer("是").agent("您买的茶叶还记得吗？")
    f.buyer("转我300块，差评马上删，不然一直挂着").expect("malicious")
    f.expect_warning("malicious_evidence")
    for s in f.last.suggestions:
        assert not any(w in s.text for w in ("转您", "给您钱", "红包", "补偿您"))
    assert f.last.public_reply
    f.agent("麻烦您考虑改一下评价").expect_warning("request_malicious").expect("malicious")


def test_threat_escalates_and_wrong_person_closes(flow: Any) -> None:
    f = flow()
    f.agent("您好，请问是周女士吗？").buyer("是").agent("您买的袜子还记得吗？")
    f.buyer("有股怪味，我已经打12315投诉你们了").expect("escalated")
    f.expect_warning("escalated_supervisor")
    g = flow()
    g.agent("您好，请问是赵女士吗？").buyer("你们打错了，我刚换的这个号").expect("closing")
    g.expect_reply_contains("打扰")
    g.agent("抱歉打扰到您了，祝您生活愉快。").expect("closed")


def test_request_before_the_remedy_is_warned(flow: Any) -> None:
    f = flow()
    f.agent("您好，请问是周女士吗？").buyer("是我")
    f.agent("您能把差评改一下吗？").expect_warning("early_request")
    f.agent("您再考虑一下改评价吧").expect_warning("repeat_request")


def _stage_agreement(path: Any) -> tuple[float, float]:
    from bot.replay import eval_dialogs

    r = eval_dialogs(ENGINE, read_jsonl(path))
    return r["stage_accuracy"], r["final_stage_accuracy"]


def test_own_dialogs_stage_agreement() -> None:
    turns, final = _stage_agreement(DATA / "dialogs_dev.jsonl")
    print(f"own dialogs: stage agreement {turns:.3f}, final stage {final:.3f}")
    assert turns >= 0.90


def test_public_dialogs_stage_agreement() -> None:
    turns, final = _stage_agreement(PUBLIC / "dialogs_dev.jsonl")
    print(f"public dialogs: stage agreement {turns:.3f}, final stage {final:.3f}")
    assert turns >= 0.90


def test_flow_dialogs_stage_agreement() -> None:
    """Twelve dialogs written apart from the dev sets on the remedy stage and its neighbours
    (choosing or declining in passing, apologies that retell the problem, curt yeses, a new
    problem while closing): 0.840 before the flow read them, 0.931 after."""
    turns, final = _stage_agreement(DATA / "dialogs_flow.jsonl")
    print(f"flow dialogs: stage agreement {turns:.3f}, final stage {final:.3f}")
    assert turns >= 0.90 and final == 1.0


def test_feed_leaves_its_input_alone_unless_the_caller_owns_it() -> None:
    conv, _ = ENGINE.start({"shop": "柚子家女装", "buyer_name": "周女士"})
    before = conv.model_dump_json()
    copied, sug = ENGINE.feed(conv, "agent", "您好，请问是周女士吗？我是柚子家女装的售后客服小林。")
    assert conv.model_dump_json() == before and copied.turn == 1
    same = Conversation.model_validate_json(before)
    mine, mine_sug = ENGINE.feed(same, "agent", "您好，请问是周女士吗？我是柚子家女装的售后客服小林。",
                                 owned=True)
    assert mine is same and mine.model_dump_json() == copied.model_dump_json()
    assert mine_sug.model_dump_json() == sug.model_dump_json()


@pytest.mark.parametrize("choice", ["换新的吧", "換新的吧", "那就换件新的"])
def test_the_buyers_choice_is_the_option_offered_not_a_longer_cue_elsewhere(flow: Any, choice: str) -> None:
    # For a quality problem the options are exchange, return, partial refund: "换新的" is the
    # exchange (its cue "换" is found first, but "新的" of 补发 elsewhere is longer), also
    # typed in traditional characters; the suggestion names it as the buyer chose it.
    f = flow({"shop": "暖冬羽绒馆", "buyer_name": "刘芳", "product": "羽绒服"})
    f.agent("您好，请问是刘芳吗？我是暖冬羽绒馆的售后小林。").buyer("是我")
    f.agent("您11月20日买的羽绒服还记得吗？").buyer("记得，穿了两天拉链就坏了").expect("listen_apologize")
    f.agent("真的很抱歉，让您失望了，换成我也会生气。").expect("explain")
    f.agent("这批拉链是我们质检没把好关，已经反馈给工厂了。").expect("remedy")
    f.agent("给您换一件新的，来回运费我们出；或者退货退款，您看哪个方便？")
    f.buyer(choice).expect("polite_request")
    assert f.conv.context.remedy_chosen == "exchange"
    said = [f.turns.engine.understand.normalize(s.text).text for s in f.last.suggestions]  # 換 → 换
    assert said and all("换一件新的" in t and "补发" not in t for t in said), said


def test_a_problem_raised_after_the_choice_is_heard_before_anything_else(flow: Any) -> None:
    # The buyer chose the remedy, then remembers another problem: the next suggestions
    # apologise and take it up (the chosen remedy still stands); no review request, and not
    # "we'll arrange the refund" as if nothing had been said.
    f = flow({"shop": "鲜果速递", "buyer_name": "阿强", "product": "赣南脐橙10斤装"})
    f.agent("您好，请问是阿强吗？我是鲜果速递的售后阿珍。").buyer("是我，橙子到底什么时候到，物流三天没动了")
    f.agent("真对不起，让您等了这么久，换谁都着急。").expect("explain")
    f.agent("包裹在中转站滞留了，我们已经联系快递加急，也会跟他们追责。").expect("remedy")
    f.agent("我们可以马上给您补发一箱，或者直接全额退款，您看哪个方便？")
    f.buyer("那就退款吧").expect("polite_request")
    f.buyer("对了，上次买的那箱也有好几个是烂的，当时懒得说").expect("polite_request")
    texts = [s.text for s in f.last.suggestions]
    assert texts and all(re.search("抱歉|不好意思", t) and re.search("记下|跟进", t) for t in texts), texts
    assert not any("评价" in t for t in texts)


def test_once_the_agent_has_handed_over_the_suggestions_do_not_hand_over_again() -> None:
    """An integration trial: the agent told the extortioner who turned to 12315 that the
    supervisor takes over, and every next suggestion said “我已经把情况报给主管……” again."""
    engine = shared_engine()
    conv, _ = engine.start({"shop": "柚子家运动", "buyer_name": "张伟", "honorific": "先生",
                            "product": "跑鞋", "order_date": "2026-11-25", "agent": "小云"})
    for role, text in (("agent", "您好，请问是张伟先生吗？我是柚子家运动的售后客服小云"),
                       ("buyer", "是我，鞋子开胶了"),
                       ("buyer", "少废话，给我转200块我就把差评删了，不然我天天给你们刷差评"),
                       ("agent", "商品问题我们按平台正常流程处理，补偿不能和评价挂钩，还请您理解。"),
                       ("buyer", "不给钱是吧？行，我现在就去12315投诉你们卖假货")):
        conv, sug = engine.feed(conv, role, text)
    assert sug.stage.id == "escalated" and any("主管" in r.text for r in sug.suggestions)
    for role, text in (("agent", "情况我已经报给主管了，稍后由主管直接跟您联系。"), ("buyer", "随便你们")):
        conv, sug = engine.feed(conv, role, text)
        assert sug.suggestions
        for r in sug.suggestions:
            assert not re.search("报给主管|请主管|主管来负责|主管会亲自", r.text), r.text
            assert "诉求" not in r.text and "交代" not in r.text, r.text


def test_a_resume_says_an_agreed_time_only_when_there_was_one_and_answers_a_buyer_who_speaks_first(
        flow: Any) -> None:
    f = flow()
    f.agent("您好，请问是周女士吗？").buyer("在开会，晚点再说").expect("callback")
    assert f.conv.context.callback_at is None
    conv, sug = ENGINE.resume(f.conv)
    texts = [s.text for s in sug.suggestions]
    assert texts and not any("约" in t for t in texts), texts  # no time was agreed: none is claimed
    # the buyer writes before the agent greets again: answered, not greeted ("请问是…吗")
    conv, sug = ENGINE.feed(conv, "buyer", "好了 你说吧")
    assert not any(s.template.startswith("opening/resume") for s in sug.suggestions), sug.suggestions
    assert not any("请问是" in s.text for s in sug.suggestions), sug.suggestions
    f = flow()
    f.agent("您好，请问是周女士吗？").buyer("在开会，晚点再说").agent("好的，那我晚上八点再联系您，您先忙")
    assert f.conv.context.callback_at is not None
    _, sug = ENGINE.resume(f.conv)
    assert sug.suggestions and all(s.template.startswith("opening/resume-agreed") for s in sug.suggestions)


@pytest.mark.parametrize("answer", ["看你们新的质量吧，到时候再说", "等收到新的再说吧", "改评的事看你们新的质量吧"])
def test_a_review_answer_put_off_till_the_remedy_arrives_is_an_answer_not_a_busy_buyer(flow: Any,
                                                                                       answer: str) -> None:
    f = flow()
    f.agent("您好，请问是何女士吗？").buyer("是我").agent("您买的四件套还记得吗？")
    f.buyer("记得，洗一次就起球了").agent("真抱歉，刚用就起球太糟心了。").agent("这批面料处理没到位，已经反馈给工厂。")
    f.agent("给您换一套新的，或者退货退款，运费我们出。").buyer("换新的吧").expect("polite_request")
    f.agent("好的，新的今天就寄出。另外想问问您，方便的话愿不愿意考虑更新一下评价？改不改都是您的权利。")
    f.buyer(answer).expect("closing")
    assert f.conv.context.callback_at is None
