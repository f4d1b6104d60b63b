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
    from aiohttp import web
    from click.testing import CliRunner

    from bot import cli
    from bot.understand import normalize

    normalize._t2s.cache_clear()
    normalize._s2tw.cache_clear()
    monkeypatch.setattr(web, "run_app", lambda app, **k: app.close())  # stop before serving
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
