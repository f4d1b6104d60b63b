"""Seen while working cases in `csbot assist` (real engine, real Chinese)."""

from __future__ import annotations

import pytest

from tests.shared import shared_engine

ENGINE = shared_engine()
CARDIGAN = {"shop": "柚子家女装", "buyer_name": "刘", "honorific": "女士", "product": "针织开衫", "agent": "小林"}
BLAMED = [("agent", "您好，请问是刘女士吗？我是柚子家女装的售后客服小林，想跟您了解一下您买的针织开衫穿得怎么样。"),
          ("buyer", "衣服还行，主要是你们客服态度太差了，问个尺码半天不回，回了还很不耐烦"),
          ("agent", "您这么说就不对了，我们客服每天要回几百条消息，您也要体谅一下")]


@pytest.mark.parametrize("answer", ["你看看，你现在就是这个态度！", "你现在还是这种态度？", "您这态度真行"])
def test_a_buyer_hurt_by_the_agents_words_just_now_is_answered_by_owning_them(answer: str) -> None:
    """After the agent blamed the buyer, "你现在就是这个态度！" got one more apology for the shop's
    slow replies before: the words just said are owned first (as "你这什么态度" already was)."""
    conv, sug = ENGINE.start(CARDIGAN)
    for role, text in [*BLAMED, ("buyer", answer)]:
        conv, sug = ENGINE.feed(conv, role, text)  # type: ignore[arg-type]
    assert conv.context.offended
    assert sug.suggestions and all("offended" in s.template for s in sug.suggestions), \
        [s.template for s in sug.suggestions]


@pytest.mark.parametrize("text", ["你们客服就是这个态度，问个尺码半天不回", "你们店就这种服务态度？"])
def test_the_shops_attitude_before_is_a_service_complaint_not_offence_at_these_words(text: str) -> None:
    norm = ENGINE.understand.normalize(text).text
    assert ENGINE.flow.cue("offended", norm) is None


ORANGES = {"shop": "果园鲜生", "buyer_name": "陈", "honorific": "先生", "product": "赣南脐橙", "agent": "阿杰"}


@pytest.mark.parametrize(("said", "tone"), [
    ("记得啊，等了8天才到，一半都烂了，你们物流是龟爬的吗", "正式"),
    ("路上走了一个星期，到手好几个都发霉了", "亲切"),
])
def test_fruit_that_spoiled_on_a_slow_road_is_apologised_for_the_spoiling_too(said: str, tone: str) -> None:
    """"等了8天才到，一半都烂了" got only "很抱歉，物流耽误了这么久，让您等得着急了": the rotten half,
    the bigger loss, went unsaid."""
    conv, sug = ENGINE.start(ORANGES, tone=tone)  # type: ignore[arg-type]
    for role, text in [("agent", "您好，请问是陈先生吗？我是果园鲜生的售后客服阿杰。"), ("buyer", "是，干嘛"),
                       ("agent", "您11月28日在我们店买的赣南脐橙，还记得吗？"), ("buyer", said)]:
        conv, sug = ENGINE.feed(conv, role, text)  # type: ignore[arg-type]
    assert conv.stage == "listen_apologize" and conv.context.cause == "logistics"
    texts = [s.text for s in sug.suggestions]
    assert texts and all(s.template.startswith("listen_apologize/cause-logistics-spoiled") for s in sug.suggestions), \
        [s.template for s in sug.suggestions]
    for text in texts:
        assert any(w in text for w in ("坏", "烂", "不新鲜")), text  # the spoiling is owned
        assert ENGINE.understand.agent(text).findings == [], text
        assert "包装" not in text, text  # the road was slow: no packaging blamed


def test_goods_that_arrived_broken_keep_their_own_apology() -> None:
    conv, sug = ENGINE.start(ORANGES)
    for role, text in [("agent", "您好，请问是陈先生吗？我是果园鲜生的售后客服阿杰。"), ("buyer", "是"),
                       ("agent", "您11月28日在我们店买的赣南脐橙，还记得吗？"),
                       ("buyer", "记得，箱子压扁了，橙子都压烂了")]:
        conv, sug = ENGINE.feed(conv, role, text)  # type: ignore[arg-type]
    assert all(s.template.startswith("listen_apologize/cause-logistics-broken") for s in sug.suggestions), \
        [s.template for s in sug.suggestions]


@pytest.mark.parametrize(("text", "spoiled"), [
    ("一半都烂了", True), ("好几个都发霉了", True), ("橙子都压烂了", False), ("你们物流太烂了", False),
    ("质量真烂了", False), ("没烂，就是慢", False),
])
def test_what_counts_as_spoiled_on_the_way(text: str, spoiled: bool) -> None:
    norm = ENGINE.understand.normalize(text).text
    assert (ENGINE.flow.cue("spoiled", norm) is not None) is spoiled
