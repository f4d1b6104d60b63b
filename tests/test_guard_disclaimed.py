"""A gift and a review request in one message, with a "your choice" disclaimer (user trial).

给您发个10元红包，差评能不能改一下，不改也没关系 passed `csbot lint`: the disclaimer (`decouple`)
untied the red packet from the request. A disclaimer does not untie a gift from a request said in
the same message; what it may leave clean is the product's own remedy, unconditional (退款已经给您
退了，评价改不改都看您; 给您换一件新的，评价方便的话改一下，不改也没关系), and a disclaimer with no
request at all (送您一张券，跟评价没有关系，评价怎么写都由您决定). The guard's own rewrite keeps the gift
alone, without a word on the review (a gift beside the review reads as tied, whatever the disclaimer).

The trial's lines go through `csbot lint` (exit code, the Chinese finding); the class is tested on
siblings written afterwards, in none of the corpus files."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.engine import Engine
from tests.shared import guard_corpus_texts as _corpus_texts
from tests.shared import guard_findings as _findings

TRIAL = [
    "给您发个10元红包，差评能不能改一下，不改也没关系",
    "给您发个10元红包，差评能不能改一下，改不改都看您",
    "给您发个10元红包，差评能不能改一下，您自己决定",
    "送您一张20元无门槛券，方便的话中评帮忙改一下呀？改不改都看您",
    "另外送您一张5元优惠券，方便的话差评帮忙改一下，改不改都由您",
]

# written after the rule change: gifts of every kind, every kind of disclaimer
SIBLINGS = [
    "亲，这边送您一张8元无门槛券，中评方便的话帮忙改改，改不改都随您",
    "宝，给你发个5.2元红包，评价改成五星好不好？不想改也没事哦",
    "亲亲，送您一盒试吃装，追评麻烦写好一点，写不写您自己定",
    "给您返3元现金，差评能帮忙删掉吗？删不删您说了算",
    "亲，积分300已经给您充了，评价方便的话改一下，改不改都尊重您",
    "亲，作为补偿送您一张满100减20的券，好评帮忙补一下，不补也完全理解",
]

# unconditional remedies with a separate request and a disclaimer, and disclaimers alone
NEAR_MISSES = [
    "退款已经原路退回您的支付宝了，评价改不改都看您",
    "亲，新的那件已经给您寄出了，评价您方便时可以更新一下，不改也没关系",
    "亲，给您换一双新的，来回运费我们出，评价方便的话改一下，改不改都看您",
    "亲，有划痕的那部分给您退15元，评价的事您自己决定就好",
    "亲，这张券是给您赔礼的，跟评价没有关系，评价怎么写都由您决定",
    "亲，评价改不改都可以的，有其他问题随时找我",
]


def _lint(text: str) -> tuple[int, str]:
    r = CliRunner(env={"CSBOT_CONFIG": None, "CSBOT_DIALOGS": None}).invoke(main, ["lint", "-"], input=text + "\n")
    return r.exit_code, r.output


@pytest.mark.parametrize("text", TRIAL)
def test_a_trial_line_is_blocked_by_lint(text: str) -> None:
    code, out = _lint(text)
    assert code == 1, out
    assert "【禁止】好评返现等条件利益" in out
    assert "把好处和评价挂钩" in out
    # the rewrite keeps the gift, unconditional, and says nothing of the review
    rewrite = out.split("建议改为：")[1].splitlines()[0]
    assert "不附带任何条件。" in rewrite and "评价" not in rewrite and "评" not in rewrite, rewrite


def test_the_done_refund_with_a_disclaimer_passes_lint() -> None:
    code, out = _lint("退款已经给您退了，评价改不改都看您")
    assert code == 0, out
    assert "共检查 1 条：0 条有禁止级问题，0 条需要注意。" in out


def test_the_plea_is_labelled_as_one() -> None:
    """您不改的话我们也没办法 holds nothing back: pressure and guilt, not a conditional benefit (its
    rewrite spoke of compensation no one offered)."""
    code, out = _lint("您不改的话我们也没办法，差评会影响我这个月的工资，求求您了")
    assert code == 0, out
    assert "【注意】施压催促「您不改的话我们也没办法」" in out
    assert "【注意】道德绑架「求求您了」" in out
    assert "条件利益" not in out and "补偿" not in out


def test_the_siblings_are_in_no_corpus_file() -> None:
    texts = _corpus_texts()
    assert not [t for t in SIBLINGS + NEAR_MISSES if t in texts]


@pytest.mark.parametrize("text", SIBLINGS)
def test_a_disclaimed_gift_is_blocked(engine: Engine, text: str) -> None:
    assert _findings(engine, text).get("conditional_benefit") == "block"


@pytest.mark.parametrize("text", NEAR_MISSES)
def test_a_remedy_or_a_bare_disclaimer_passes(engine: Engine, text: str) -> None:
    assert _findings(engine, text) == {}


# -- a review named, not asked for; the practice disavowed; a gift every order gets ----------------

@pytest.mark.parametrize("text", ["亲，您的评价我们看到了，谢谢您，小样是下单都送的",
                                  "您说的好评有礼吗？没有的哦，我们从来不搞这种"])
def test_a_review_named_beside_a_gift_is_no_request(engine: Engine, text: str) -> None:
    assert "conditional_benefit" not in _findings(engine, text)


@pytest.mark.parametrize("text", ["好评送5元红包，改不改都看您", "给您发个红包，评价帮忙改一下，不改也没关系"])
def test_a_gift_beside_a_request_still_ties(engine: Engine, text: str) -> None:
    assert _findings(engine, text).get("conditional_benefit") == "block"


def test_a_refund_said_over_two_clauses_is_a_remedy(engine: Engine) -> None:
    """20元已经提交，会原路退回: the refund the buyer chose, its 退 in the next clause."""
    text = "好的，20元已经提交，会原路退回。另外想问一下，愿意考虑更新一下评价吗？改不改都由您决定。"
    assert _findings(engine, text) == {}


@pytest.mark.parametrize("text", [
    # a gift every order gets, then a gift of its own beside the request (a reviewer's probe)
    "活动赠品下单就有，另外给您10元红包，差评能改一下吗，改不改都看您",
    "小样是下单都送的，再给您转8块，评价帮忙改改，不改也没关系",
    # a gift and a review quoted apart name no practice: they are still offered and asked
    '给您发个"10元红包"，能把"差评"改一下吗，不改也没关系',
    "送您一张「20元券」，「中评」方便的话改一下，改不改都随您",
])
def test_a_free_gift_or_quotes_do_not_untie_another_gift(engine: Engine, text: str) -> None:
    assert _findings(engine, text).get("conditional_benefit") == "block"


def test_a_practice_named_in_quotes_is_no_offer(engine: Engine) -> None:
    assert "conditional_benefit" not in _findings(engine, "以“好评返现”为由要求退款的，平台不支持")
