"""The guard: disguised conditional benefits caught, unconditional gifts left alone, targets met."""

from __future__ import annotations

import pytest

from bot.engine import Engine
from bot.evaluate import eval_agent
from tests.conftest import DATA, PUBLIC, read_jsonl


@pytest.mark.parametrize("text", [
    "您改成好评后我这边给您发个小红包",
    "删评后优惠券马上到账",
    "好评返现5元",
    "hp返现哦亲",
    "好.评.返.现",
    "亲，给个五星好评，返您10块钱",
    "只要您把差评删了，这单运费就给您免了",
    "追评晒图就送小礼品",
])
def test_conditional_benefits_are_blocked(engine: Engine, text: str) -> None:
    findings = engine.understand.agent(text).findings
    assert any(f.code == "conditional_benefit" and f.severity == "block" for f in findings), findings


def test_a_suggestion_the_guard_blocks_is_never_offered(engine: Engine) -> None:
    # The shop's own data is rendered into the templates: a product named like a benefit
    # tied to the review makes every suggestion that names it one the guard blocks.
    def offered(product: str) -> list[str]:
        conv, sug = engine.start({"shop": "柚子家女装", "buyer_name": "周", "honorific": "女士",
                                  "product": product})
        texts = [s.text for s in sug.suggestions]
        conv, sug = engine.feed(conv, "buyer", "是我，您说")
        return texts + [s.text for s in sug.suggestions]

    fine = offered("湖蓝色碎花连衣裙")
    assert len(fine) == 6 and all("湖蓝色碎花连衣裙" in t for t in fine)
    assert offered("好评返现5元的连衣裙") == []


@pytest.mark.parametrize("text", [
    "不管评价改不改，这个小礼物都送您",
    "无论您是否修改评价，补偿都照常发给您",
    "平台不允许好评返现，所以补偿和评价没关系",
    "退款已经给您办好了，跟评价没有关系",
    "再次向您道歉，给您添麻烦了",
    "修改方法：手机淘宝「我的」→「评价」→找到这条评价→修改评价",
    "您刚才发的地址我核对过了，换货明天寄出",
    "这不是您的问题，是我们的问题",
])
def test_clean_look_alikes_pass(engine: Engine, text: str) -> None:
    assert engine.understand.agent(text).findings == []


@pytest.mark.parametrize("text,code", [
    ("您不改的话我们会一直打电话给您", "pressure"),
    ("这个差评让我被扣了工资，您就帮帮我吧", "guilt_trip"),
    ("是您自己没看尺码表", "blame"),
    # "不是我们的问题" holds "是我们的问题", the shop owning the slip, which must not excuse it
    ("快递慢又不是我们的问题，你自己选的快递", "blame"),
    ("我知道你住哪个小区", "privacy"),
    ("你等着，我们会找人处理你", "threat"),
    ("上次跟您说的评价，您再考虑一下改改吧", "repeat_request"),
])
def test_other_codes(engine: Engine, text: str, code: str) -> None:
    codes = {f.code for f in engine.understand.agent(text).findings}
    assert code in codes


def test_findings_carry_span_and_chinese_message(engine: Engine) -> None:
    text = "亲，好.评.返.现哦"
    f = engine.understand.agent(text).findings[0]
    assert f.span is not None and "好" in text[f.span[0]:f.span[1]]
    assert "评价" in f.message


@pytest.mark.parametrize("path", [DATA / "agent_dev.jsonl", DATA / "guard_dev.jsonl"],
                         ids=["agent", "guard"])
def test_guard_targets_on_own_sets(engine: Engine, path) -> None:  # type: ignore[no-untyped-def]
    r = eval_agent(engine.understand, read_jsonl(path))
    print(f"{path.name}: block recall {r['block_recall']:.3f}, "
          f"false alarms {r['false_alarm_rate']:.3f}, findings F1 {r['findings_micro_f1']:.3f}")
    assert r["block_recall"] >= 0.95
    assert r["false_alarm_rate"] <= 0.03


@pytest.mark.parametrize("path", [PUBLIC / "agent_dev.jsonl", PUBLIC / "guard_dev.jsonl"],
                         ids=["agent", "guard"])
def test_guard_on_public_sets(engine: Engine, path) -> None:  # type: ignore[no-untyped-def]
    r = eval_agent(engine.understand, read_jsonl(path))
    print(f"public {path.name}: block recall {r['block_recall']:.3f}, "
          f"false alarms {r['false_alarm_rate']:.3f}")
    assert r["block_recall"] >= 0.95
    assert r["false_alarm_rate"] <= 0.03


@pytest.mark.parametrize("text,code", [
    ("我看到您家地址是杭州市西湖区文三路，离我们仓库挺近", "privacy"),
    ("麻烦您把中评删了吧，我们老板天天骂我", "guilt_trip"),
])
def test_found_by_spot_checks(engine: Engine, text: str, code: str) -> None:
    assert code in {f.code for f in engine.understand.agent(text).findings}


@pytest.mark.parametrize("text", [
    "退货地址是浙江省杭州市余杭区文一西路，麻烦您寄到这里",  # the shop's address, not the buyer's
    "主管批评我们发货太慢，已经整改了",  # an explanation, not a plea
])
def test_spot_check_look_alikes(engine: Engine, text: str) -> None:
    assert engine.understand.agent(text).findings == []


def test_a_span_does_not_stop_inside_a_number(engine: Engine) -> None:
    # The cue "返\d" matched "返2" of "返20元": the sidebar quoted "…我给您返2" to the agent.
    text = "您把差评改成好评，我给您返20元红包"
    f = next(f for f in engine.understand.agent(text).findings if f.code == "conditional_benefit")
    # (the whole clauses it touches: tests/test_guard_whole_words.py)
    assert f.span is not None and text[f.span[0]:f.span[1]] == "您把差评改成好评，我给您返20元红包"


# --- `csbot eval` on guard lines reads each line's conversation like bot.guard.corpus ---------

# The tie is across messages (the coupon was offered before) or in 疑似恶意 (agreeing to pay):
# on its own, neither line is anything to block.
SITUATED = [
    {"text": "改一下评价哈", "findings": ["conditional_benefit"], "family": "cross_message",
     "context": ["亲，给您准备了一张20元的券"]},
    {"text": "好吧，150就150", "findings": ["conditional_benefit"], "family": "malicious_agree",
     "stage": "malicious"},
    {"text": "不客气，应该的", "findings": [], "family": "clean_courtesy"},
]


def test_eval_reads_a_guard_lines_context_and_stage(engine: Engine) -> None:
    bare = [{k: v for k, v in r.items() if k not in ("context", "stage")} for r in SITUATED]
    assert eval_agent(engine.understand, bare)["block_recall"] == 0.0  # the situation decides
    r = eval_agent(engine.understand, SITUATED)
    assert r["block_recall"] == 1.0 and r["clean_blocked"] == 0.0, r["errors"]
    assert r["findings_exact"] == 1.0, r["errors"]


def test_eval_and_the_guard_corpus_measure_agree_on_the_train_split(engine: Engine) -> None:
    from pathlib import Path

    from bot.guard.corpus import measure, read
    from bot.guard.second import judges

    path = Path(engine.dialogs) / "corpus" / "train" / "guard.jsonl"
    ours = eval_agent(engine.understand, read_jsonl(path))
    judge = "rules" if engine.understand.guard.model is None else "combined"  # what csbot runs
    theirs = measure(read([path]), judges(engine.dialogs)[judge])
    assert (ours["block_recall"], ours["clean_blocked"]) == (theirs["block_recall"], theirs["clean_blocked"])
    assert ours["block_recall"] >= 0.99
