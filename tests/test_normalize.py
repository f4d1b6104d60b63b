"""Normalisation: traditional → simplified, full-width → half-width, obfuscations undone."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.engine import Engine
from tests.loop import examples


@pytest.fixture(scope="module")
def norm(engine: Engine):  # type: ignore[no-untyped-def]
    return engine.understand.normalize


@pytest.mark.parametrize("raw,expected", [
    ("想申請退貨，耳機一直有電流聲", "想申请退货,耳机一直有电流声"),
    ("買完第二天就降價了", "买完第二天就降价了"),
    ("退我３００元ＯＫ？", "退我300元ok?"),
    ("好.评.返.现", "好评返现"),
    ("好 评 返 现", "好评返现"),
    ("好*评*返*现", "好评返现"),
    ("hp返现", "好评返现"),
    ("HP返現", "好评返现"),
    ("haoping fan xian", "好评返现"),
    ("给个wuxing有hb", "给个五星有红包"),
    ("以经发货了", "已经发货了"),
    ("3.5元", "3.5元"),
])
def test_normalised_text(norm, raw: str, expected: str) -> None:  # type: ignore[no-untyped-def]
    assert norm(raw).text == expected


@pytest.mark.parametrize("raw,expected", [
    # pinyin particles after an abbreviation or a pinyin word, the way buyers type a short reply
    ("tk ba", "退款吧"),
    ("TK吧", "退款吧"),
    ("hao de ya", "好的呀"),
    ("haode", "好的"),
    ("hao di", "好滴"),
    ("xie xie la", "谢谢啦"),
    ("xiexie亲", "谢谢亲"),
    ("ok le", "ok了"),
    ("OK la~", "ok啦~"),
    ("mei shi ba", "没事吧"),
    ("mei shi le", "没事了"),
    ("ke yi ma", "可以吗"),
    ("dui de", "对的"),
    ("hp a", "好评啊"),
    ("kk", "好的"),
    ("kk 好的", "好的好的"),
    # a particle alone, as the last word of a clause after a Chinese character
    ("好的ya", "好的呀"),
    ("退款ba，谢谢", "退款吧,谢谢"),
])
def test_pinyin_particles_read_as_chinese(norm, raw: str, expected: str) -> None:  # type: ignore[no-untyped-def]
    assert norm(raw).text == expected


@pytest.mark.parametrize("raw", [
    # no alias before the particles, a particle inside a clause, an English word, an order number
    "made in china", "mama说的", "mala", "lane", "拿a货当正品卖", "这个ma是什么意思",
    "订单20230611xxxx那个", "我kk", "kk图片", "ok", "sb快递", "hhh", "yyds", "Pro 版",
    "de了", "order TB2023ab88",
])
def test_english_and_codes_are_not_read_as_pinyin(norm, raw: str) -> None:  # type: ignore[no-untyped-def]
    out = norm(raw).text
    for ch in "吧呀啦了呢吗的滴哈咯啊谢好":
        assert out.count(ch) == raw.count(ch), (raw, out)


def test_particle_spans_cover_what_was_typed(norm) -> None:  # type: ignore[no-untyped-def]
    raw = "行 tk ba"
    n = norm(raw)
    assert n.text == "行退款吧"
    start = n.text.index("吧")
    assert raw[slice(*n.span(start, start + 1))] in ("ba", "b", "a")


def test_spans_point_at_the_raw_text(norm) -> None:  # type: ignore[no-untyped-def]
    raw = "亲，好.评.返.现哦"
    n = norm(raw)
    start = n.text.index("好评返现")
    s, e = n.span(start, start + 4)
    assert raw[s:e] == "好.评.返.现"


def test_alias_spans_cover_the_abbreviation(norm) -> None:  # type: ignore[no-untyped-def]
    raw = "亲，给个hp送红包"
    n = norm(raw)
    start = n.text.index("好评")
    s, e = n.span(start, start + 2)
    assert raw[s:e] == "hp"


def test_whitespace_is_collapsed_and_emoji_kept(norm) -> None:  # type: ignore[no-untyped-def]
    assert norm("  太差了   😡  ").text == "太差了 😡"


def test_the_fast_nfkc_is_unicodedata_nfkc() -> None:
    """The full-width characters it maps first, next to every combining mark and to the
    kinds of text a chat holds, normalise as unicodedata does."""
    import unicodedata

    from bot.understand.normalize import nfkc

    wide = [chr(c) for c in range(0xFF01, 0xFF5F)] + ["\u3000"]
    marks = [chr(c) for c in range(0x300, 0x370)] + ["\u3099", "\u309a", "\uff9e"]
    for w in wide:
        for m in marks:
            for text in (w + m, "a" + w + m + "好"):
                assert nfkc(text) == unicodedata.normalize("NFKC", text), repr(text)
    for text in ("好评返现！！", "１２３ａｂｃ，。", "　亲　", "①号", "ｶﾞ", "ᄀ가", "Å", "㎏", "™"):
        assert nfkc(text) == unicodedata.normalize("NFKC", text)


@settings(max_examples=examples(300), deadline=None)
@given(st.text(alphabet=st.sampled_from(
    "，。！？：；（）　好评返现亲您１２ａＢab1 \u0301\u3099ｶﾞ①㎏Å각Å™﹐︰")))
def test_the_fast_nfkc_agrees_on_any_mix(text: str) -> None:
    import unicodedata

    from bot.understand.normalize import nfkc

    assert nfkc(text) == unicodedata.normalize("NFKC", text)


def test_serve_builds_the_converters_before_any_turn(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """`csbot serve` builds both OpenCC converters before it serves (the traditional one
    takes ~75 ms of CPU): the first buyer writing traditional characters builds nothing."""
    from click.testing import CliRunner

    from bot import cli
    from bot.server import run
    from bot.understand import normalize

    normalize._t2s.cache_clear()
    normalize._s2tw.cache_clear()
    monkeypatch.setattr(run, "serve_forever", lambda app, **k: app.close())  # stop before serving
    result = CliRunner().invoke(cli.main, ["serve", "--db", f"sqlite:///{tmp_path / 'csbot.db'}"])
    assert result.exit_code == 0, result.output
    assert normalize._t2s.cache_info().currsize == 1 and normalize._s2tw.cache_info().currsize == 1
    built = normalize._s2tw.cache_info().misses
    assert normalize.to_traditional("您的包裹已经发货") == "您的包裹已經發貨"
    assert normalize.written_traditional("您的包裹已經發貨")
    assert normalize._s2tw.cache_info().misses == built


def test_traditional_suggestions_keep_the_names_as_given() -> None:
    """An integration trial: the shop 台灣小舖 came out as 臺灣小舖 to a buyer writing
    traditional, and an agent called 小云 would sign as 小雲."""
    engine = Engine.load()
    conv, _ = engine.start({"shop": "台灣小舖", "buyer_name": "周云", "honorific": "小姐",
                            "product": "羊毛大衣", "order_date": "2026-11-20", "agent": "小云"})
    texts: list[str] = []
    for role, text in (("agent", "您好，請問是周云小姐嗎？"), ("buyer", "是我，大衣穿了兩次就一直掉毛，很失望"),
                       ("agent", "很抱歉讓您遇到這種情況，是我們的問題。"),
                       ("agent", "給您換一件新的已經安排好了。"), ("buyer", "好，謝謝"),
                       ("agent", "不客氣"), ("buyer", "好的，再見")):
        conv, sug = engine.feed(conv, role, text)
        texts += [r.text for r in sug.suggestions]
    joined = "".join(texts)
    assert "台灣小舖" in joined and "臺灣小舖" not in joined
    assert "雲" not in joined and "謝謝" in joined  # still traditional around the names


def test_replies_follow_the_buyers_latest_script() -> None:
    """A trial: a buyer who wrote one message in 繁體 and then went back to 简体 kept getting
    traditional suggestions to the end. A message the same in both scripts (好的, 嗯, 1)
    changes nothing; one written in simplified characters switches back."""
    from bot.understand.normalize import written_traditional
    from tests.shared import shared_engine

    engine = shared_engine()
    conv, _ = engine.start({"shop": "柚子家女装", "buyer_name": "周敏", "honorific": "小姐",
                            "product": "连衣裙", "order_date": "2026-11-20", "agent": "小林"})

    def replies(role: str, text: str) -> str:
        nonlocal conv
        conv, sug = engine.feed(conv, role, text)
        return "".join(r.text for r in sug.suggestions)

    replies("agent", "您好，请问是周敏小姐吗？")
    assert written_traditional(replies("buyer", "是我，裙子洗了一次就縮水了，很失望"))
    assert conv.context.traditional
    replies("buyer", "嗯")  # the same in both scripts: still answered in 繁體
    assert conv.context.traditional
    said = replies("buyer", "刚才手机输入法换了，说回简体吧，裙子缩得很厉害")
    assert not conv.context.traditional and said and not written_traditional(said), said
    replies("buyer", "你們怎麼處理")  # and back again
    assert conv.context.traditional


@pytest.mark.parametrize(("simplified", "traditional"), [
    # OpenCC s2tw writes 尺码表 as 尺碼錶 (錶 is a watch) and 表里 as 錶里: seen in `csbot assist`,
    # the size explanation to a buyer who had just written 尺碼表 herself
    ("这是我们的尺码表写得不够清楚", "這是我們的尺碼表寫得不夠清楚"),
    ("尺码表里加了偏大偏小的提示", "尺碼表裡加了偏大偏小的提示"),
    ("我们在改尺码表了", "我們在改尺碼表了"),
    ("手表坏了", "手錶壞了"),  # a watch stays one
])
def test_traditional_suggestions_write_the_size_chart_as_taiwan_does(simplified: str, traditional: str) -> None:
    from bot.understand import normalize

    assert normalize.to_traditional(simplified) == traditional
    assert normalize.to_traditional(simplified, keep=["小云"]) == traditional
