"""A gift alone (the apology gift, remedies.yaml `gift`) puts nothing right: no review request
follows it, in the suggestions, the guard's notes or the trainer's score (a request after a gift
reads as the gift's price)."""

from __future__ import annotations

from typing import Any

from bot.engine import Engine
from bot.training.testing import Dialog


def _to_options(f: Any) -> None:
    f.agent("您好，请问是周敏女士吗？我是柚子家的售后客服").buyer("是我")
    f.agent("您前几天买的跑鞋还有印象吗？")
    f.buyer("有啊，你们客服态度太差了，问个问题半天不回").expect("listen_apologize")
    f.agent("真的非常抱歉，让您等了这么久，换成是我也会生气的")
    f.agent("那几天咨询量太大，人手没排开，是我们的问题").expect("remedy")
    f.agent("给您寄一份小礼物表示歉意，不附带任何条件；或者给您退一部分货款作为补偿，您看哪个好？")


def test_a_gift_alone_closes_without_a_review_request(flow: Any) -> None:
    f = flow({"shop": "柚子家", "buyer_name": "周敏", "product": "跑鞋"})
    _to_options(f)
    f.buyer("那就寄个小礼物吧").expect("closing").expect_warning("gift_only")
    assert f.conv.context.remedy_chosen == "apology_gift" and f.conv.context.gift_only
    for s in f.last.suggestions:  # the gift arranged, thanks and the close: no word on the review
        assert "评价" not in s.text and "小礼物" in s.text, s.text
    assert f.last.public_reply  # the review stays: the public explanation is drafted
    f.agent("好的，小礼物我今天就给您寄出，您留意一下物流").expect("closing")
    assert all("评价" not in s.text for s in f.last.suggestions)
    f.agent("另外想问问您，愿不愿意更新一下评价？改不改都由您决定。").expect_warning("request_after_gift")
    assert "拿礼物换评价" in next(w.message for w in f.last.warnings if w.code == "request_after_gift")


def test_a_fix_chosen_still_asks_once(flow: Any) -> None:
    f = flow({"shop": "柚子家", "buyer_name": "周敏", "product": "跑鞋"})
    _to_options(f)
    f.buyer("退一部分钱吧").expect("polite_request").expect_no_warning("gift_only")
    assert not f.conv.context.gift_only


GREET = "林晓您好，我是悦途数码的售后客服小安，请问是林晓本人吗？"
PRODUCT = "您11月2日在我们店买的那副白色蓝牙耳机，还记得吗？"


def _gift_taken(engine: Engine) -> Dialog:
    d = Dialog("slow_delivery_first_time", engine=engine)
    d.say(GREET).say(PRODUCT)
    d.say("实在抱歉，让您等了这么久。能跟我说说当时是什么情况吗？")
    d.say("理解您的心情，送人的礼物晚到了，换谁都会着急。")
    d.say("这次是合作的快递在中转站爆仓了，我们已经反馈给快递公司，以后大促会换更快的线路。")
    d.say("给您再寄一份小礼物表示歉意，不附带任何条件，您看可以吗？") \
        .expect_buyer_contains("小礼物").expect_stage("closing")
    return d


def test_trainee_asking_after_a_gift_alone_loses_points(engine: Engine) -> None:
    d = _gift_taken(engine)
    d.say("冒昧问一下，如果您满意，愿意考虑更新一下评价吗？改不改都由您决定。") \
        .expect_violation("request_after_gift").expect_tip_contains("拿礼物换评价")
    card = d.finish()
    assert card.outcome.remedy == "apology_gift"
    assert card.stages["polite_request"].max == 0  # no request is owed: none is rewarded
    assert any(v.code == "request_after_gift" for v in card.violations)


def test_trainee_who_thanks_and_closes_after_a_gift_alone_owes_no_request(engine: Engine) -> None:
    d = _gift_taken(engine)
    d.say("好的，礼物今天就给您寄出。再次为延误向您道歉，谢谢您，祝您生活愉快，欢迎常来。") \
        .expect_no_violation().expect_over("closed")
    card = d.finish()
    assert card.outcome.review_request == "not_applicable"
    assert card.stages["polite_request"].max == 0
    assert not card.violations
