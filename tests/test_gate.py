"""The gate searches only the rules whose matches can start in a text: these tests hold that
every match starts with one of its rule's prefixes, and that gated rule sets find exactly
the hits that searching every rule finds."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.understand.gate import OTHER_DIGIT, Gate, grams, prefixes, required
from bot.understand.rules import RuleSet
from tests.conftest import DATA, read_jsonl
from tests.loop import examples
from tests.shared import load_yaml_text, shared_engine
from tests.test_lexicon_compile import ALPHABET, ATOMS

ENGINE = shared_engine()


def starts_ok(pattern: str, text: str) -> bool:
    """Every non-empty match of ``pattern`` in ``text`` starts with one of its prefixes."""
    keys = prefixes(pattern)
    compiled = re.compile(pattern)
    for pos in range(len(text) + 1):
        m = compiled.search(text, pos)
        if m is None:
            break
        other_digit = OTHER_DIGIT in keys if keys else False
        if m.end() > m.start() and keys is not None and not any(
                text.startswith(k, m.start()) for k in keys) and not (
                other_digit and text[m.start()].isdecimal() and not text[m.start()].isascii()):
            return False
    return True


def test_prefixes_of_plain_words_classes_options_and_groups() -> None:
    assert prefixes("退款") == {"退款"}
    assert prefixes("(?:退(?:款|货)|钱)") == {"退款", "退货", "钱"}
    assert prefixes("好?评") == {"好评", "评"}
    assert prefixes("[好差]评") == {"好评", "差评"}
    assert prefixes("嗯+") == {"嗯"}  # what follows the first repetition is not followed
    assert prefixes("(?<!不)(?=退)退款") == {"退款"}  # lookarounds match nothing
    assert prefixes("^好的$") == {"好的"}
    assert prefixes("好.{0,3}评") == {"好"}  # a dot ends the prefix early


def test_a_match_that_can_start_anywhere_is_not_gated() -> None:
    for pattern in (".评", "[^退]款", r"\w+元", "(?i)ok", "(?:好)?", "评?"):
        assert prefixes(pattern) is None, pattern


def test_a_rule_that_can_start_anywhere_is_searched_only_where_a_character_it_needs_is() -> None:
    from bot.understand.rules import Negation

    rules = RuleSet.build({"angry": [{"any": [r"(?P<x>\S{1,3})就是(?P=x)"]}],
                           "price": [{"any": [r"\w+元"]}], "other": [{"any": ["[^退]款?"]}]}, {})
    assert [r.keys for r in rules.rules] == [frozenset({"就是"}), frozenset({"元"}), None]
    assert rules.gate.candidates("太差了，差就是差") == [0, 2]
    assert rules.gate.candidates("退我五十元吧") == [1, 2]
    assert rules.gate.candidates("就这样是吧") == [2]  # 就 and 是, not 就是
    hits = rules.hits("太差了，差就是差", Negation([]))
    assert [(h.start, h.end) for h in hits if h.label == "angry"] == [(4, 8)]


def test_a_digit_is_one_of_ten_or_any_other_decimal_digit() -> None:
    digits = set("0123456789")
    assert prefixes(r"\d+元") == digits | {OTHER_DIGIT}
    assert prefixes(r"\d元") == {d + "元" for d in digits} | {OTHER_DIGIT}
    assert prefixes(r"满\d") == {"满"}
    assert OTHER_DIGIT in grams("满٣元") and OTHER_DIGIT not in grams("满3元")
    gate = Gate([prefixes(r"\d+元"), frozenset({"退款"})])
    assert gate.candidates("٣元") == [0]
    assert gate.candidates("五元") == []
    for text in ("满3元", "满٣元", "满𝟑元", "三元"):
        assert starts_ok(r"\d+元", text)


def test_a_text_names_its_one_and_two_character_pieces() -> None:
    assert grams("退款了") == {"退", "款", "了", "退款", "款了"}
    assert grams("") == frozenset()


def test_the_gate_lists_the_rules_a_text_can_match_in_their_order() -> None:
    gate = Gate([frozenset({"退款"}), None, frozenset({"好", "差评"}), frozenset({"返现"})])
    assert gate.candidates("我要退款") == [0, 1]
    assert gate.candidates("差评返现") == [1, 2, 3]
    assert gate.candidates("嗯") == [1]



def _alternatives(least: int = 1, most: int = 6) -> st.SearchStrategy[list[str]]:
    """Alternatives of a lexicon pattern, each a few of the ATOMS in a row."""
    return st.lists(st.lists(st.sampled_from(ATOMS), min_size=1, max_size=4).map("".join),
                    min_size=least, max_size=most)


TEXTS = st.lists(st.text(alphabet=ALPHABET + "٣", max_size=12), min_size=1, max_size=5)
@settings(max_examples=examples(500), deadline=None)
@given(_alternatives(), TEXTS)
def test_every_match_starts_with_a_prefix(alts: list[str], texts: list[str]) -> None:
    pattern = "|".join(alts)
    for text in texts:
        assert starts_ok(pattern, text), (pattern, text, prefixes(pattern))


def _rule_sets() -> list[tuple[str, RuleSet]]:
    u = ENGINE.understand
    return [("intents", u.buyer_model.intents), ("causes", u.buyer_model.causes),
            ("emotions", u.buyer_model.emotions), ("acts", u.agent_model.acts.rules),
            ("sure", u.buyer_model.sure), ("guard", u.guard.rules.rules)]


def _texts() -> list[str]:
    rows = [row["text"] for f in ("buyer_dev.jsonl", "agent_dev.jsonl", "guard_dev.jsonl",
                                  "heldout/buyer.jsonl", "heldout/agent.jsonl")
            for row in read_jsonl(DATA / f)]
    return [ENGINE.understand.normalize(t).text for t in rows]


def test_gated_rule_sets_hit_exactly_what_searching_every_rule_hits() -> None:
    from bot.understand.rules import Negation

    texts = _texts()
    sets = _rule_sets()
    assert len(texts) > 1000
    negation = Negation(["不", "没", "别"])
    for name, rules in sets:
        gated = rules.gate
        kept = [(rule.any, rule.parts) for rule in rules.rules]
        # Every rule searched, with the alternation of its alternatives (in their order).
        whole = [(re.compile("|".join(f"(?:{p.source})" for p in parts)) if parts else any_, None)
                 for any_, parts in kept]
        searched = 0
        try:
            for text in texts:
                rules.gate = gated
                for rule, (any_, parts) in zip(rules.rules, kept, strict=True):
                    rule.any, rule.parts = any_, parts
                fast = rules.hits(text, negation)
                searched += len(gated.candidates(text))
                rules.gate = Gate([None] * len(rules.rules))
                for rule, (any_, parts) in zip(rules.rules, whole, strict=True):
                    rule.any, rule.parts = any_, parts
                assert fast == rules.hits(text, negation), (name, text)
        finally:
            rules.gate = gated
            for rule, (any_, parts) in zip(rules.rules, kept, strict=True):
                rule.any, rule.parts = any_, parts
        # And the gate does spare searches: most rules cannot match most texts.
        assert searched < 0.6 * len(texts) * len(rules.rules), name


def test_the_syntax_reader_follows_escapes_classes_counts_and_groups() -> None:
    assert prefixes(r"\u9000款") == {"退款"}
    assert prefixes(r"\x41b") == {"Ab"}
    assert prefixes("[a-c]x") == {"ax", "bx", "cx"}
    assert prefixes("[]a]b") == {"]b", "ab"}  # a "]" first in a class is a character
    assert prefixes("a{0,2}b") == {"a", "b"}
    assert prefixes("x{}") == {"x{"}  # not a count: the characters themselves
    assert prefixes("(?#一条注释)好评") == {"好评"}
    assert prefixes("(?P<x>好)(?P=x)") == {"好"}
    assert prefixes("(?>好)评") == {"好评"}
    assert prefixes(r"好\b评") == {"好评"}
    for pattern in ("(?s:好)评", r"\w+", r"[\W好]", "[^好]", r"\1", "[一-龥]评", r"(?i)ok", r"[\s好]"):
        assert prefixes(pattern) is None, pattern


def test_what_re_refuses_the_syntax_reader_refuses() -> None:
    import pytest

    from bot.understand import regex_syntax

    for pattern in ("(", "a)", "a**", "[a", "*a", r"\q", "(?<x)", "a{3,1}", "x(?i)"):
        with pytest.raises(re.error):
            re.compile(pattern)
        with pytest.raises(ValueError):
            regex_syntax.parse(pattern)


def test_every_shipped_rule_is_read_by_the_syntax_reader() -> None:
    """The lexicons use only syntax the reader follows: no rule falls back to "always
    searched" because it could not be read."""
    from bot.understand import regex_syntax
    from tests.test_lexicon_compile import _lexicon_patterns, _naive

    for _where, alts, cues in _lexicon_patterns():
        for alt in alts:
            regex_syntax.parse(_naive(alt, cues))  # raises on what it cannot read


def test_rules_compile_when_first_searched_and_all_at_load() -> None:
    from bot.understand.rules import Negation, compile_pending

    rules = RuleSet.build({"refund": [{"any": ["退款"], "none": ["不退款"]}],
                           "review": [{"any": ["好评"]}]}, {})
    lazies = [p for r in rules.rules for p in (r.any, r.none) if p is not None]
    assert all(p.pattern is None for p in lazies)
    assert [h.label for h in rules.hits("我要退款", Negation([]))] == ["refund"]
    # 好评 was never searched; nor was "none" in a text the rule's "any" did not match.
    assert [p.pattern is not None for p in lazies] == [True, True, False]
    assert rules.hits("好", Negation([])) == []
    compile_pending()
    assert all(p.pattern is not None for p in lazies)
    # An engine compiles everything when it loads: no turn pays for a compile.
    assert all(p.pattern is not None for _, rs in _rule_sets() for r in rs.rules
               for p in (r.any, r.none, *r.all, *(r.parts or ())) if p is not None)


def _both_ways(ex: object, pattern: str) -> None:
    """A pattern's first characters and prefixes from one parse of its marked skeleton equal
    those from parsing each of its two skeletons (scoped._Expander._read)."""
    from bot.understand import scoped

    _, skeleton, marked = ex.pattern(pattern)  # type: ignore[attr-defined]
    assert ex._read(skeleton, marked)[:2] == (scoped._first_of(skeleton), ex._partials(marked)), pattern  # type: ignore[attr-defined]


def test_one_parse_reads_first_characters_and_prefixes_of_every_shipped_pattern() -> None:
    from bot.paths import dialogs_dir
    from bot.understand.scoped import _Expander

    checked = 0
    for name in ("guard.yaml", "lexicon/agent.yaml"):
        spec = load_yaml_text((dialogs_dir() / name).read_text(encoding="utf-8"))
        ex = _Expander(spec.get("cues", {}))
        families = [spec[k] for k in ("acts",) if k in spec]
        families += [{code: g["rules"]} for code, g in spec.get("codes", {}).items()]
        for family in families:
            for rules in family.values():
                for rule in rules:
                    for key in ("any", "all", "none", "context"):
                        for p in rule.get(key) or []:
                            _both_ways(ex, p)
                            checked += 1
    assert checked > 300


CUE_ATOMS = [*ATOMS, "%a%", "%b%", "%a%?", "(%b%|退)", "%b%{1,2}"]


@settings(max_examples=examples(300), deadline=None)
@given(st.lists(st.lists(st.sampled_from([*ATOMS, "", "(?:)"]), min_size=1, max_size=3).map("".join),
                min_size=1, max_size=4),
       st.lists(st.lists(st.sampled_from([*ATOMS, "%a%"]), min_size=1, max_size=3).map("".join),
                min_size=1, max_size=4),
       st.lists(st.sampled_from(CUE_ATOMS), min_size=1, max_size=5).map("".join))
def test_one_parse_reads_what_two_parses_read(a: list[str], b: list[str], pattern: str) -> None:
    from bot.understand.scoped import _Expander

    _both_ways(_Expander({"a": a, "b": b}), pattern)


@settings(max_examples=examples(400), deadline=None)
@given(st.text(alphabet="好差评返现退款1٣ \x02\x03\x04?!，a", max_size=12))
def test_the_gate_and_the_model_read_the_same_n_grams(text: str) -> None:
    # The 2-grams are built once for both (ngrams.pairs): the model's features are exactly
    # its n-grams as `keys` lists them, the gate's pieces exactly the text's (and OTHER_DIGIT
    # for ٣).
    from bot.learned.linear import key_set, keys

    for with_shape in (False, True):
        got = key_set(text, with_shape=with_shape)
        want = keys(text, with_shape=with_shape)
        assert len(got) == len(want) and set(got) == set(want)
    pieces = set(text) | {text[i:i + 2] for i in range(len(text) - 1)}
    assert grams(text) == (pieces | {OTHER_DIGIT} if "٣" in text else pieces)


def test_required_characters_of_a_match() -> None:
    assert required(r"[\u4e00-\u9fff]{1,6}(路|街|道)\d+号") == {"号"}  # the fewest found
    assert required("^.{0,6}在(吗|不在|嘛)") == {"在"}
    assert required("(?=好).(评|现)") == {"评", "现"}  # a lookaround holds no character of the match
    assert required("(好评|返)+") == {"好评", "返"}
    for pattern in (".*", "好?", "[^退]", r"\s", "(?i)a", "(好|.)"):
        assert required(pattern) is None, pattern


@settings(max_examples=examples(400), deadline=None)
@given(_alternatives(), TEXTS)
def test_every_match_holds_a_required_character(alts: list[str], texts: list[str]) -> None:
    pattern = "|".join(alts)
    need = required(pattern)
    if need is None:
        return
    compiled = re.compile(pattern)
    for text in texts:
        for pos in range(len(text) + 1):
            m = compiled.search(text, pos)
            assert m is None or not need.isdisjoint(grams(m.group())), (pattern, text, need)


@settings(max_examples=examples(400), deadline=None)
@given(_alternatives(2, 8), TEXTS)
def test_alternatives_searched_one_by_one_match_as_their_alternation(alts: list[str], texts: list[str]) -> None:
    from bot.understand.alternation import compile_lexicon, span
    from bot.understand.rules import Lazy, _either, _free_matches
    from bot.understand.scoped import _Expander

    led = _Expander({}).led(alts)
    whole = compile_lexicon(led.pattern)
    parts = tuple(Lazy(p) for p in led.parts)
    for entries in (-1, 0b101, 0b10):  # every alternative, or some of them (those the gate left)
        either = _either(parts, entries)
        alone = whole if entries == -1 else re.compile(
            "|".join(f"(?:{a})" for i, a in enumerate(alts) if entries >> i & 1))
        for text in texts:
            assert _free_matches(either, text, None) == _free_matches(alone, text, None), (alts, text, entries)
            for pos in range(len(text) + 1):
                m, n = either.search(text, pos), alone.search(text, pos)
                assert (m and span(m)) == (n and span(n)), (alts, text, pos, entries)


def test_a_rule_of_several_alternatives_compiles_only_those_a_text_can_match() -> None:
    from bot.understand.rules import Negation
    from bot.understand.scoped import ScopedRules

    rules = ScopedRules({"x": [{"any": ["差评%give%现", "好评(送|返)红包", "%give%款"]}]},
                        {"give": ["返", "退"]}, Negation([]), shared_exceptions=True)
    rule = rules.rules.rules[0]
    assert rule.parts is not None and rule.any is None
    assert [(h.start, h.end) for h in rules.hits("亲，好评送红包哦")] == [(2, 7)]
    assert [p.pattern is not None for p in rule.parts] == [False, True, False]
    assert [(h.start, h.end) for h in rules.hits("差评返现，退款")] == [(0, 4), (5, 7)]
    assert all(p.pattern is not None for p in rule.parts)
    # The guard's long rules are split so.
    guard = shared_engine().understand.guard.rules.rules
    assert max(len(r.parts or ()) for r in guard.rules if r.label == "blame") > 50


def test_needs_lists_a_set_of_characters_for_each_part_every_match_holds() -> None:
    from bot.understand.gate import needs

    assert needs("(您|你)[^,，。!?]{0,6}?(没量准|没看清)") == [{"您", "你"}, {"没量", "没看"}]
    assert needs("好?评+") == [{"评"}]  # an optional part needs nothing
    assert needs("(?:退款|钱)") == [{"退款", "钱"}]  # one string of either alternative
    # characters one after the other: each pair of them (a lookaround between them matches nothing)
    assert needs("好评(?!价)返现") == [{"好评"}, {"评返"}, {"返现"}]
    assert needs("好评?返") == [{"好"}, {"返"}]  # an optional character stands between
    assert needs(".{2}") == [] and needs("(?i)ok") == []
    assert needs("\ue000了", {"\ue000": [frozenset("坏破")]}) == [{"坏", "破"}, {"了"}]  # a cue's mark


def test_a_rule_split_into_alternatives_is_searched_only_where_one_of_them_can_match() -> None:
    keys = [frozenset({"您", "你", "是"}), frozenset({"退"})]
    alternatives = [[(frozenset({"您", "你"}), frozenset({"没"})), (frozenset({"是"}), frozenset({"错"}))], None]
    gate = Gate(keys, alternatives)
    assert gate.candidates("您好，请问有什么可以帮您") == []  # 您 without 没; 是 absent
    assert gate.candidates("是您没看清，我要退款") == [0, 1]
    assert gate.candidates("是我们的错") == [0]  # the second alternative
    assert Gate(keys).candidates("您好") == [0]  # by prefixes alone


def test_the_agent_and_guard_rules_are_gated_by_their_alternatives() -> None:
    u = ENGINE.understand
    for rules in (u.agent_model.acts.rules, u.guard.rules.rules):
        by_prefix = Gate([r.keys for r in rules.rules])
        texts = [t for t in _texts() if t]
        assert sum(map(len, map(rules.gate.candidates, texts))) < 0.6 * sum(map(len, map(by_prefix.candidates, texts)))


@settings(max_examples=examples(500), deadline=None)
@given(_alternatives(1, 4), TEXTS)
def test_a_text_without_what_a_pattern_needs_one_after_the_other_has_no_match_of_it(
        alts: list[str], texts: list[str]) -> None:
    from bot.understand.gate import in_order, needs

    for pattern in ("".join(alts), "|".join(alts), f"(?:{alts[0]})+{''.join(alts[1:])}"):
        for text in texts:
            if re.search(pattern, text):
                assert in_order(text, needs(pattern)), (pattern, text, needs(pattern))


@settings(max_examples=examples(300), deadline=None)
@given(_alternatives(2, 5), TEXTS)
def test_an_alternative_is_not_compiled_for_a_text_it_cannot_match(alts: list[str], texts: list[str]) -> None:
    from bot.understand.alternation import compile_lexicon
    from bot.understand.rules import Lazy
    from bot.understand.scoped import _Expander

    # With a cue in each alternative, as the guard writes them (the cue's needs stand for it).
    led = _Expander({"c": alts}).led([a + "%c%" for a in alts] + alts)
    for source, needed in zip(led.parts, led.needs, strict=True):
        compiled = compile_lexicon(source)
        for text in texts:
            part = Lazy(source, needed)
            m, n = part.search(text), compiled.search(text)
            assert (m and m.span()) == (n and n.span()), (source, text)
            if part.pattern is None:  # not compiled: it could not match
                assert n is None


def test_the_rules_alternatives_need_in_order_only_what_each_match_holds() -> None:
    from bot.understand.gate import in_order

    texts = [ENGINE.understand.normalize(row["text"]).text
             for f in ("agent_dev.jsonl", "guard_dev.jsonl") for row in read_jsonl(DATA / f)]
    spared = 0
    for rules in (ENGINE.understand.agent_model.acts.rules, ENGINE.understand.guard.rules.rules):
        for text in texts:
            alive = rules.gate.alive(text)
            for idx in rules.gate.owners(alive):
                parts = rules.rules[idx].parts or ()
                entries = rules.gate.entries(idx, alive)
                for i, part in enumerate(parts):
                    if entries >> i & 1 and part.needs and not in_order(text, part.needs):
                        spared += 1
                        assert part.compile().search(text) is None, (part.source, text)
    assert spared > 100  # the gate left these alternatives; none of them was compiled for the text
