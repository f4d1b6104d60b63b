"""An offer in the guard's memory still ties a later review request, even after the fix is
reported done (a gift beside the fix cannot be told from it); the slogan's rewrite is offered only
for a slogan."""

from __future__ import annotations

from bot.corpus import is_heldout
from bot.engine import Engine

OFFER = "给您换一件新的，或者退货退款，运费都我们出，您看哪个方便？"
ASK = "能不能麻烦您帮忙给个好评呢？"
DONE = "好的，新的裙子已经给您安排寄出了"


def test_the_offer_not_done_yet_still_ties_and_gets_the_plain_rewrite(engine: Engine) -> None:
    found = engine.understand.findings(ASK, [OFFER], "polite_request")
    assert [f.code for f in found] == ["conditional_benefit"]
    # the slogan's "收到货后…" does not fit a talk about a problem
    assert found[0].rewrite is not None and "收到货后" not in found[0].rewrite
    assert "不附带任何条件" in found[0].rewrite and "评价" not in found[0].rewrite  # (no review beside a benefit)


def test_a_gift_offered_beside_the_fix_done_still_ties(engine: Engine) -> None:
    gift = "另外送您一个小礼物，您看可以吗？"
    assert not is_heldout(gift)
    found = engine.understand.findings(ASK, [DONE, gift], "polite_request")
    assert [f.code for f in found] == ["conditional_benefit"]


def test_a_slogan_still_gets_the_slogan_rewrite(engine: Engine) -> None:
    text = "给个五星好评，下次下单给您优惠"
    found = engine.understand.findings(text)
    assert found and found[0].rewrite == "下次下单给您优惠～收到货后有任何不满意随时找我们。"


def test_a_gift_or_sum_still_ties_after_the_fix_is_reported_done(engine: Engine) -> None:
    """A reviewer's probes: a done word ("已经签收了", "补发的已经寄出了") in between freed the gift."""
    for extra, ask in (("亲，退款之外我们再多补您10元", "您看一下，方便的话给个好评哈"),
                       ("除了换新的，另外再给您补偿15块钱", "那评价的事就麻烦您啦"),
                       ("再送您一个小礼物，您看可以吗", "麻烦您把差评改成好评哈"),
                       ("给您补发一件，另外送您一张无门槛优惠券", "那您方便的时候把差评改一下吧")):
        assert not is_heldout(extra) and not is_heldout(ask)
        found = engine.understand.findings(ask, [extra, "已经给您提交了"], "polite_request")
        assert [f.code for f in found] == ["conditional_benefit"]


def test_a_bare_change_after_a_disclaimer_is_the_review_asked_for(engine: Engine) -> None:
    """A reviewer's probe: the review named only in the disclaimer, then "改一下" asked bare."""
    for text in ("补偿您10元，这跟评价没关系哈，当然您要是愿意改一下我们也很感激",
                 "送您一个小礼物，跟评价无关的，方便的话帮忙改一下哈"):
        assert not is_heldout(text)
        assert [f.code for f in engine.understand.findings(text)] == ["conditional_benefit"]
    for clean in ("补偿您10元，这跟评价没关系哈", "送您一个小礼物，跟评价无关哈，尺码不合适的话可以帮您调整一下"):
        assert not is_heldout(clean)
        assert engine.understand.findings(clean) == []


def test_a_gift_reported_sent_beside_a_review_request_is_tied(engine: Engine) -> None:
    """A reviewer's probe: "送您的…已经寄出了" read as a fix done, so the gift was not seen."""
    for text in ("送您的枕套已经寄出了，顺便麻烦您把差评改一下", "送您的小礼物已经给您寄了，评价方便的话改一下哈"):
        assert not is_heldout(text)
        assert [f.code for f in engine.understand.findings(text)] == ["conditional_benefit"]
    for clean in ("补发的已经寄出了，麻烦您把差评改一下", "送您的枕套已经寄出啦"):
        assert not is_heldout(clean)
        assert "conditional_benefit" not in [f.code for f in engine.understand.findings(clean)]
