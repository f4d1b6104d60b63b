"""The agent corpus (dialogs/corpus/*/agent.jsonl) and the acts the issue found misread.

The corpus is the labelled agent lines the learned classifier trains on and the rules are
measured on: its format, its frozen split, enough examples of every act, and the
misreadings of issue 13 as lines through the real engine."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from functools import lru_cache
from pathlib import Path

import opencc
import pytest

from bot.corpus import AgentLine, is_heldout, read_jsonl
from bot.engine import Engine
from bot.evaluate import eval_agent
from bot.labels import bundled

ACTS = bundled().acts

CORPUS = Path(__file__).resolve().parent.parent / "dialogs" / "corpus"
TRAIN = CORPUS / "train" / "agent.jsonl"
HELDOUT = CORPUS / "heldout" / "agent.jsonl"


@lru_cache(maxsize=1)
def _halves() -> tuple[list[AgentLine], list[AgentLine]]:
    return read_jsonl(TRAIN, AgentLine), read_jsonl(HELDOUT, AgentLine)


def _acts(engine: Engine, text: str) -> set[str]:
    return set(engine.understand.agent(text).acts)


# --- format, split and label counts ---------------------------------------------------

def test_every_line_validates_and_sits_in_its_half() -> None:
    train, heldout = _halves()
    assert len(train) + len(heldout) >= 2000
    assert all(not is_heldout(r.text) for r in train)
    assert all(is_heldout(r.text) for r in heldout)
    texts = [r.text for r in train + heldout]
    assert len(texts) == len(set(texts))
    share = len(heldout) / len(texts)
    assert 0.2 <= share <= 0.3, share


def test_every_act_has_enough_examples_in_both_halves() -> None:
    train, heldout = _halves()
    total = Counter(a for r in train + heldout for a in r.acts)
    held = Counter(a for r in heldout for a in r.acts)
    for act in ACTS:
        assert total[act] >= 80, (act, total[act])
        assert held[act] >= 15, (act, held[act])
    # some lines have no act at all, and violations stay a minority (the guard has its own set)
    lines = train + heldout
    assert sum(not r.acts for r in lines) >= 50
    assert sum(bool(r.findings) for r in lines) / len(lines) < 0.15


def test_blame_act_and_finding_agree_in_the_labels() -> None:
    train, heldout = _halves()
    for r in train + heldout:
        assert ("blame_buyer" in r.acts) == ("blame" in r.findings), r.text
        if "conditional_benefit" in r.findings:
            assert "request_review" in r.acts, r.text


def _bigrams(text: str, t2s: opencc.OpenCC) -> set[str]:
    t = re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", t2s.convert(text)))
    return {t[i:i + 2] for i in range(len(t) - 1)} or {t}


def test_no_near_duplicates_across_the_split() -> None:
    """A held-out line that is a train line with a particle or a script change measures
    memory, not generalisation (character-bigram Jaccard, traditional folded to simplified)."""
    train, heldout = _halves()
    t2s = opencc.OpenCC("t2s")
    grams = [_bigrams(r.text, t2s) for r in train]
    index: dict[str, list[int]] = {}
    for i, g in enumerate(grams):
        for b in g:
            index.setdefault(b, []).append(i)
    sizes = [len(g) for g in grams]
    close = []
    for r in heldout:
        g = _bigrams(r.text, t2s)
        shared = Counter(i for b in g for i in index.get(b, ()))
        for i, n in shared.items():  # n bigrams in common: the union is both sizes less n
            if n / (len(g) + sizes[i] - n) >= 0.6:
                close.append((r.text, train[i].text))
    assert not close, close[:5]


def test_the_corpus_is_written_the_way_agents_type() -> None:
    train, heldout = _halves()
    texts = [r.text for r in train + heldout]
    t2s = opencc.OpenCC("t2s")
    assert sum(t2s.convert(t) != t for t in texts) >= 60  # traditional Chinese
    assert sum(bool(re.search(r"/:|\[[\u4e00-\u9fff]{1,3}\]", t)) for t in texts) >= 20  # 旺旺 codes
    assert sum(bool(re.search(r"[\U0001F300-\U0001FAFF]", t)) for t in texts) >= 40  # emoji
    assert sum(len(t) >= 60 for t in texts) >= 50  # long multi-act messages
    assert sum(len(t) <= 8 for t in texts) >= 30  # short ones
    assert sum(len(r.acts) >= 3 for r in train + heldout) >= 100


# --- rules-only figures (measured, the held-out half never used to write rules) --------

def test_rules_score_on_both_halves(engine: Engine) -> None:
    train, heldout = _halves()
    rt = eval_agent(engine.understand, [r.model_dump() for r in train])
    rh = eval_agent(engine.understand, [r.model_dump() for r in heldout])
    print(f"agent acts micro-F1, rules only: train {rt['acts_micro_f1']:.3f} "
          f"held-out {rh['acts_micro_f1']:.3f}")
    assert rt["acts_micro_f1"] >= 0.95
    assert rh["acts_micro_f1"] >= 0.85


# --- the misreadings of issue 13 ------------------------------------------------------

EXPLANATIONS = [
    # the issue's own lines
    "这款版型偏小，页面没标清楚，是我们的疏忽。",
    "是仓库两款茶的货架挨着，拣货的同事拿错了，我们已经分开放，还加了复核。",
    "我们查了一下，这批杯盖的密封圈尺寸有偏差",
    # the same kind, worded otherwise (not in the corpus)
    "那批毛巾的染料没固好色，洗第一次会掉一点",
    "我们看了发货视频，是打包的时候少放了一个垫片",
    "那几天厂里赶工，这批的线头没剪干净",
    "咱家详情页的尺码是按亚洲码写的，这款其实是欧码，页面没写清楚",
    "快递在转运中心压了两天，所以水果捂坏了",
    "這批杯子的杯口沒打磨好，是窯廠那邊趕工",
]


@pytest.mark.parametrize("text", EXPLANATIONS)
def test_explanations_in_the_agents_own_words(engine: Engine, text: str) -> None:
    assert "explain" in _acts(engine, text)


ACTIONS_TAKEN = [
    "已经把这批货全部下架返厂检查了",
    "仓库已经把这两款分开放了，拣货单也改成带图的",
    "那个批次我们已经全部召回了",
    "负责打包的同事已经重新培训过了",
]


@pytest.mark.parametrize("text", ACTIONS_TAKEN)
def test_actions_taken_are_explanations_not_offers(engine: Engine, text: str) -> None:
    acts = _acts(engine, text)
    assert "explain" in acts and "offer_remedy" not in acts


def test_an_offer_to_the_buyer_is_still_an_offer(engine: Engine) -> None:
    acts = _acts(engine, "这批杯盖密封圈做小了，给您补寄一个新的，今天就发")
    assert {"explain", "offer_remedy"} <= acts


CARING = [
    "叔叔胃不好，他没喝那个菊花茶吧？身体还好吗？",
    "阿姨吃了那个以后胃还疼吗？要不要去医院看看？",
    "宝宝脸上的红点现在消了吗？",
    "您没被那个玻璃划到吧？",
]


@pytest.mark.parametrize("text", CARING)
def test_caring_questions_are_empathy_and_questions_not_greetings(engine: Engine, text: str) -> None:
    acts = _acts(engine, text)
    assert {"empathize", "ask_detail"} <= acts
    assert "greet_identify" not in acts


ORDER_REFERENCES = [
    "您之前在咱家拍的那件宝贝，还有印象吗？",
    "您前阵子在我们店买的那个东西，收到了吧？",
    "您在咱家下过一单，还记得吗？",
    "跟您确认下，您上周拍的那双鞋是黑色的对吧？",
]


@pytest.mark.parametrize("text", ORDER_REFERENCES)
def test_general_order_references_confirm_the_product(engine: Engine, text: str) -> None:
    assert "confirm_product" in _acts(engine, text)


def test_what_is_not_an_act_stays_out(engine: Engine) -> None:
    # a bare "sorry to disturb" is no apology; owning a fault alone is no explanation
    assert "apologize" not in _acts(engine, "打扰您了")
    assert "explain" not in _acts(engine, "非常抱歉，橙子坏了好几个，这是我们的责任。")
    # purchase history beyond this order is not an order reference (the guard's privacy)
    assert "confirm_product" not in _acts(engine, "您在我们店买过七八次了，每次都是给您爸妈买的吧")
    # talking about the review's consequences is not an explanation
    assert "explain" not in _acts(engine, "第三次联系您了，今天必须把评价改掉。")
