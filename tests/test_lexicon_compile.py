"""The lexicon regexes are compiled for speed (alternatives merged into a trie, plain groups
made non-capturing); these tests hold that they match exactly what the written regexes do."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.paths import dialogs_dir
from bot.understand.alternation import compile_lexicon, factor, span
from tests.conftest import DATA, read_jsonl
from tests.loop import examples
from tests.shared import load_yaml_text

ATOMS = ["好", "评", "返", "现", "退", "款", "(好|差)", "[好评]", "好?", "(?:评|现)", "退{1,2}", "(?:差|好)",
         "(评|返|现)?", "(退|款)+",
         ".", "(?<!差)", "(?=评)", "\\d", "(好评|返现)", "[^退]", "(?!款)", "好+"]
ALPHABET = "好差评返现退款1 "


def spans(pattern: re.Pattern[str], text: str) -> list[tuple[int, int]]:
    """Every match the rule engine could see: a search from each position."""
    return [span(m) if (m := pattern.search(text, pos)) else (-1, -1) for pos in range(len(text) + 1)]


def matches(pattern: re.Pattern[str], text: str) -> list[tuple[int, int]]:
    """The matches one after another, as the rule engine walks them."""
    out, pos = [], 0
    while (m := pattern.search(text, pos)) is not None:
        out.append(span(m))
        pos = max(out[-1][1], out[-1][0] + 1)
    return out


items = st.lists(st.lists(st.sampled_from(ATOMS), min_size=1, max_size=4).map("".join),
                 min_size=1, max_size=8)


@settings(max_examples=examples(400), deadline=None)
@given(items, st.lists(st.text(alphabet=ALPHABET, max_size=12), min_size=1, max_size=5))
def test_a_factored_alternation_matches_like_the_plain_one(alts: list[str], texts: list[str]) -> None:
    plain = re.compile("(?:" + "|".join(f"(?:{a})" for a in alts) + ")")
    fast = compile_lexicon(factor(alts))
    for text in texts:
        assert spans(fast, text) == spans(plain, text), (alts, text, fast.pattern)


def test_factoring_merges_shared_first_characters() -> None:
    # "(您|你)好" starts with neither 好 nor 差: "好" joins the first 好
    assert factor(["好评", "好的", "差评", "(您|你)好", "好"]) == "(?:好(?:评|的|(?:))|差评|[你您]好)"
    assert factor(["好|差", "a"]) == "(?:(?:好|差)|a)"  # a top-level "|" is not one head


def test_a_bar_inside_a_group_a_class_or_an_escape_is_not_top_level() -> None:
    # An item without a top-level "|" joins the trie (好…), one with it stays whole.
    for inner in ["好(?:a|b)", "好[|]", "好\\|", "好(a(b|c)d)", "好[]|]", "好[(|]a", "好(?<=a|b)"]:
        assert factor([inner, "好x"]).startswith("(?:好(?:"), inner
    for top in ["好(a)|b", "好[(]|b", "好\\(|b", "好(a(b)c)|d", "好|(b|c)"]:
        assert factor([top, "好x"]) == f"(?:(?:{top})|好x)", top


def test_a_leading_group_of_characters_is_one_head() -> None:
    # one alternative where re compared one per phrase; a phrase that starts with one of
    # the group's characters keeps the order (您说 between them)
    assert factor(["(您|你)好", "(?:你|您)的"]) == "(?:[你您](?:好|的))"
    assert factor(["(您|你)好", "您说", "(你|您)的"]) == "(?:[你您]好|您说|[你您]的)"
    # not one character each; repeated
    assert factor(["(您|你们)好", "(您|你)?的"]) == "(?:(?:(您|你们)好)|(?:(您|你)?的))"
    # a numbered reference counts groups: no group is taken out, at any depth
    assert factor(["(a|b)x", "(.)\\1"]) == "(?:(?:(a|b)x)|(?:(.)\\1))"
    assert factor(["好(a|b)x", "好(a|b)y", "(.)\\1"]) == "(?:好(?:(?:(a|b)x)|(?:(a|b)y))|(?:(.)\\1))"
    assert factor(["好(a|b)x", "好(a|b)y"]) == "(?:好(?:[ab](?:x|y)))"


@settings(max_examples=examples(300), deadline=None)
@given(items, st.lists(st.text(alphabet=ALPHABET, max_size=12), min_size=1, max_size=5))
def test_a_pattern_led_by_its_class_matches_like_the_lookahead_one(alts: list[str], texts: list[str]) -> None:
    from bot.understand.scoped import lead

    led = lead(factor(alts))
    fast = compile_lexicon(led)
    for text in texts:
        assert spans(fast, text) == spans(re.compile(led), text), (alts, text, fast.pattern)


def test_the_class_leads_where_the_first_characters_are_known() -> None:
    assert compile_lexicon("(?=[你您])(?:(您|你)好)").pattern == \
        "[你您](?<=(?=(?P<csbot_match>(?:(?:您|你)好)))(?s:.))"
    m = compile_lexicon("(?=[你您])(?:(您|你)好啊)").search("嗯，您好啊")
    assert m is not None and span(m) == (2, 5) and m.span() == (2, 3)
    assert compile_lexicon("(?:好|差)评").pattern == "(?:好|差)评"  # no lookahead: as it was


def test_plain_groups_lose_their_capture_and_nothing_else() -> None:
    assert compile_lexicon(r"(您|你)[(]\((?P<x>.)(?P=x)(?=a)(?:b)").pattern == \
        r"(?:您|你)[(]\((?P<x>.)(?P=x)(?=a)(?:b)"
    assert compile_lexicon(r"[]()](a)").pattern == r"[]()](?:a)"
    assert compile_lexicon(r"(a)\1").pattern == r"(a)\1"  # a numbered reference needs its group


def _uncaptured_by_loop(pattern: str) -> str:
    """The group rewrite as compile_lexicon first wrote it, a character at a time: the
    reference its regex-driven rewrite must equal."""
    out: list[str] = []
    i, klass = 0, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            out.append(pattern[i:i + 2])
            i += 2
            continue
        if klass:
            klass = c != "]"
        elif c == "[":
            klass = True
            skip = 2 if pattern[i + 1:i + 2] == "]" else 3 if pattern[i + 1:i + 3] == "^]" else 1
            out.append(pattern[i:i + skip])
            i += skip
            continue
        elif c == "(" and pattern[i + 1:i + 2] != "?":
            out.append("(?:")
            i += 1
            continue
        out.append(c)
        i += 1
    return "".join(out)


def _rewritten(pattern: str) -> str:
    from bot.understand.alternation import _PLAIN_GROUP, _uncapture

    return _PLAIN_GROUP.sub(_uncapture, pattern)


@settings(max_examples=examples(600), deadline=None)
@given(st.text(alphabet="()[]^?\\:P<>=!|a好", max_size=16))
def test_the_group_rewrite_is_the_character_loop(pattern: str) -> None:
    assert _rewritten(pattern) == _uncaptured_by_loop(pattern)


def test_the_group_rewrite_is_the_character_loop_on_every_shipped_expansion() -> None:
    from bot.understand.pipeline import Understander
    from bot.understand.rules import _PENDING

    u = Understander(dialogs_dir())
    _ = u.buyer_model, u.agent_model, u.guard
    sources = [lazy.source for lazy in _PENDING]
    assert len(sources) > 300
    for source in sources:
        assert _rewritten(source) == _uncaptured_by_loop(source), source


def _naive(pattern: str, cues: dict[str, list[str]]) -> str:
    return re.sub(r"%([a-z_]+)%", lambda m: "(?:" + "|".join(
        f"(?:{_naive(p, cues)})" for p in cues[m.group(1)]) + ")", pattern)


def _lexicon_patterns() -> Iterator[tuple[str, list[str], dict[str, list[str]]]]:
    for name in ("lexicon/buyer.yaml", "lexicon/agent.yaml", "guard.yaml"):
        spec: dict[str, Any] = load_yaml_text((dialogs_dir() / name).read_text(encoding="utf-8"))
        cues = spec.get("cues", {})
        families = [spec[k] for k in ("intents", "causes", "emotions", "acts") if k in spec]
        families += [{code: g["rules"]} for code, g in spec.get("codes", {}).items()]
        for family in families:
            for label, rules in family.items():
                for rule in rules:
                    for key in ("any", "none"):
                        if rule.get(key):
                            yield f"{name}:{label}:{key}", rule[key], cues


def test_the_shipped_lexicons_match_as_written_on_every_data_line() -> None:
    texts = [row["text"] for f in ("buyer_dev.jsonl", "agent_dev.jsonl", "guard_dev.jsonl",
                                   "heldout/buyer.jsonl", "heldout/agent.jsonl")
             for row in read_jsonl(DATA / f)]
    checked = 0
    for where, alts, cues in _lexicon_patterns():
        written = re.compile("|".join(f"(?:{_naive(a, cues)})" for a in alts))
        fast = compile_lexicon(factor([_naive(a, cues) for a in alts]))
        for text in texts:
            assert matches(fast, text) == matches(written, text), (where, text)
        checked += 1
    assert checked > 150


@settings(max_examples=examples(400), deadline=None)
@given(items, st.lists(st.text(alphabet=ALPHABET, max_size=12), min_size=1, max_size=5))
def test_the_first_character_lookahead_loses_no_match(alts: list[str], texts: list[str]) -> None:
    # The lookahead's class comes from regex_syntax's reading of the pattern: a class too
    # narrow would skip real matches.
    from bot.understand.scoped import lead

    plain = factor(alts)
    led, unled = re.compile(lead(plain)), re.compile(plain)
    for text in texts:
        assert spans(led, text) == spans(unled, text), (alts, text, led.pattern)
