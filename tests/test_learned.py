"""The learned understanding: training is deterministic, the shipped model reads the issue's
lines right through the Engine, several intents drive the script, the confidence is
calibrated, and csbot eval shows rules / model / combined side by side."""

from __future__ import annotations

import base64
import gzip
import json
import os
import shutil
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from bot.engine import Engine
from bot.learned.build import learn
from bot.learned.linear import (
    _LAZY_LOOKUPS,
    Bank,
    LinearTask,
    ModelError,
    Rows,
    dump,
    features,
    key_set,
    load,
    ngrams,
    pack,
)
from bot.learned.report import Comparison
from bot.learned.train import _fit, _logits, class_weights, folds, near_duplicate_groups
from bot.learned.understand import MODEL_FILE, Learned
from bot.understand.pipeline import Understander
from tests.dialog import Flow

ROOT = Path(__file__).resolve().parent.parent
DIALOGS = ROOT / "dialogs"
ENV = {**os.environ, "PYTHONIOENCODING": "utf-8", "OMP_NUM_THREADS": "1"}


def _small_corpus(tmp: Path, step: int) -> Path:
    """Every ``step``-th line of the training split: a corpus that trains in seconds."""
    for role in ("buyer", "agent"):
        lines = (DIALOGS / "corpus" / "train" / f"{role}.jsonl").read_text(encoding="utf-8").splitlines()
        out = tmp / "corpus" / "train" / f"{role}.jsonl"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("\n".join(lines[::step]) + "\n", encoding="utf-8")
    return tmp


def test_ngrams_are_distinct_and_marked() -> None:
    assert ngrams("好") == ["好", "\x02好", "好\x03", "\x02好\x03"]
    f = features("哈哈", ["ri:affirm"])
    assert f["\x01ri:affirm"] == 1.0 and abs(sum(v * v for k, v in f.items() if k[0] != "\x01") - 1) < 1e-9


def test_near_duplicates_share_a_fold() -> None:
    texts = ["鞋子太小了", "衣服开线了", "鞋子太小了哈", "快递三天没动", "衣服开线了！！",
             "颜色和图片差太多", "鞋子太小了，换大一码", "退款吧"]
    groups = near_duplicate_groups(texts)
    # a particle or punctuation variant, and a line that mostly repeats another, join its group
    assert groups[0] == groups[2] == groups[6] and groups[1] == groups[4]
    assert len({groups[0], groups[1], groups[3], groups[5], groups[7]}) == 5
    parts = folds(len(texts), 3, groups)
    assert sorted(i for p in parts for i in p) == list(range(len(texts)))
    where = {i: j for j, p in enumerate(parts) for i in p}
    assert where[0] == where[2] == where[6] and where[1] == where[4]
    assert parts == folds(len(texts), 3, groups)  # no randomness
    assert folds(6, 3) == [[0, 3], [1, 4], [2, 5]]  # without groups: interleaved, as before


def test_class_balance_weights_rare_classes_up() -> None:
    assert class_weights([0, 0, 0, 1], 0.0) is None
    assert class_weights([0, 0, 0, 1], 1.0) == {0: 4 / 6, 1: 2.0}
    assert class_weights([0, 0, 0, 1], 0.5) == {0: (4 / 6) ** 0.5, 1: 2.0 ** 0.5}
    # An n-gram shared by a big class and a rare one: weighting moves the line towards the rare one.
    xs = [{"好": 1.0, "a": 1.0}] * 8 + [{"好": 1.0, "b": 1.0}] * 2 + [{"坏": 1.0}] * 2
    ys = [0] * 8 + [1] * 2 + [0] * 2
    margins = []
    for balance in (0.0, 1.0):
        vocab, rows, bias = _fit(xs, ys, "multiclass", ("big", "rare"), 16.0, 1, balance)
        z = _logits([{"好": 1.0}], vocab, rows, bias)[0]
        margins.append(z[1] - z[0])
    assert margins[1] > margins[0] + 0.5


def test_training_twice_gives_the_same_bytes(tmp_path: Path) -> None:
    # Same corpus, same bytes holds for any corpus and any settings: a small slice (about 90
    # lines), one C and two folds keep every step of the training (both variants, every family)
    # in about a second each.
    corpus = _small_corpus(tmp_path, 120)
    quick = {"grid": [16.0], "folds": 2}
    first = dump(learn(DIALOGS, corpus=corpus, settings=quick))
    second = dump(learn(DIALOGS, corpus=corpus, settings=quick))
    assert first == second
    model = json.loads(zlib.decompressobj(wbits=31).decompress(first))  # the header member
    assert model["format"] == "csbot-linear/2" and len(model["version"]) == 16
    assert set(model["tasks"]) == {f"{v}.{f}" for v in ("model", "stack")
                                   for f in ("intent", "cause", "emotion", "acts")}
    assert set(model["info"]["ship"].values()) <= {"model", "stack"}


def test_a_copy_of_the_same_model_is_unpacked_once(tmp_path: Path) -> None:
    # a reload, or a shop's copy of the shipped model, takes the Learned already unpacked
    copy = tmp_path / "dialogs"
    (copy / MODEL_FILE).parent.mkdir(parents=True)
    shutil.copyfile(DIALOGS / MODEL_FILE, copy / MODEL_FILE)
    shipped = Learned.from_folder(DIALOGS)
    assert shipped is not None and Learned.from_folder(copy) is shipped


def test_rows_looked_up_one_by_one_are_the_packed_rows() -> None:
    # A command packs only the rows it looks up; past _LAZY_LOOKUPS the whole table is one
    # dict, and every row, scores included, is what packing the whole table gives.
    from array import array

    model = load(DIALOGS / MODEL_FILE)
    spec = model.tasks["model.intent"]
    flat = array("h")
    flat.frombytes(spec.weight_bytes())
    if sys.byteorder == "big":
        flat.byteswap()
    whole = pack(flat, len(spec.classes), spec.vocabulary_text().split("\n"))
    eager, lazy = LinearTask(spec), LinearTask(spec)
    assert eager.pack_all() == whole
    assert isinstance(lazy.packed, Rows)
    text = "质量太差了，我要退款"
    assert lazy.logits(text) == eager.logits(text)
    names = list(whole)
    got = [lazy.packed.get(g) for g in names[:200]]
    assert got == [whole[g] for g in names[:200]] and lazy.packed.get("不在词表里") is None
    for g in names[:_LAZY_LOOKUPS]:
        lazy.logits(g)
    assert lazy.packed == whole
    bank_spec = model.banks["stack.buyer"]
    tasks = [LinearTask(model.tasks[f"stack.{f}"]) for f in ("intent", "cause", "emotion")]
    bank = Bank(tasks, bank_spec)
    assert isinstance(bank.packed, Rows)
    grams = key_set(text, bank.sizes, bank.shape)
    got = [bank.packed.get(g) for g in grams]
    assert got == [bank.pack_all().get(g) for g in grams] and any(got)


def test_the_extras_are_read_from_the_head_of_the_vocabulary(tmp_path: Path) -> None:
    # csbot-linear/2 unpacks only the head of a vocabulary for the extras' rows, more of it
    # when they run past the first read; csbot-linear/1 reads them from the inline text.
    from array import array

    from bot.learned.linear import ModelFile, TaskSpec, extra

    names = [*sorted(extra(f"rule:{i:05d}") for i in range(2000)), "a", "b", "ab"]
    weights = array("h", range(len(names) * 2))
    if sys.byteorder == "big":
        weights.byteswap()
    spec = TaskSpec(kind="multiclass", classes=["x", "y"], scale=0.5, bias=[0.0, 0.0],
                    vocabulary="\n".join(names),
                    weights=base64.b64encode(zlib.compress(weights.tobytes())).decode("ascii"))
    inline = ModelFile(format="csbot-linear/1", version="v", tasks={"model.intent": spec})
    path = tmp_path / "m.gz"
    path.write_bytes(dump(inline))
    assert len("\n".join(names[:2000]).encode()) > 4 * 4096  # past two reads
    for model in (inline, load(path)):
        index, rows = LinearTask(model.tasks["model.intent"]).extras
        assert list(index) == names[:2000] and list(rows) == list(range(4000))
        # a vocabulary not in sorted order ("b" before "ab") is looked up through an index
        task = LinearTask(model.tasks["model.intent"])
        whole = pack(weights, 2, names) if sys.byteorder == "little" else task.pack_all()
        assert [task.packed.get(g) for g in ("ab", "b", "zz")] == [whole["ab"], whole["b"], None]


def test_learn_command_writes_a_model_the_engine_loads(tmp_path: Path) -> None:
    corpus = _small_corpus(tmp_path / "c", 12)
    dialogs = tmp_path / "dialogs"
    shutil.copytree(DIALOGS, dialogs, ignore=shutil.ignore_patterns("corpus", "model"))
    r = subprocess.run([sys.executable, "-m", "bot", "learn", "-q", "--dialogs", str(dialogs),
                        "--corpus", str(corpus)], capture_output=True, text=True, env=ENV, cwd=ROOT,
                       timeout=600, encoding="utf-8")
    assert r.returncode == 0, r.stderr
    assert "已写出" in r.stdout and "采用" in r.stdout
    assert (dialogs / MODEL_FILE).is_file()
    u = Understander(dialogs)
    assert u.learned is not None and u.learned.version == load(dialogs / MODEL_FILE).version
    assert u.buyer("质量太差了，我要退款").cause == "quality"


def test_learn_and_eval_help_is_chinese() -> None:
    for cmd, words in (("learn", "训练集"), ("eval", "留出集")):
        r = subprocess.run([sys.executable, "-m", "bot", cmd, "--help"], capture_output=True, text=True, env=ENV,
                           cwd=ROOT, timeout=60, encoding="utf-8")
        assert r.returncode == 0 and words in r.stdout, r.stdout


def test_a_damaged_model_is_a_chinese_error(tmp_path: Path) -> None:
    bad = tmp_path / "understand.json.gz"
    bad.write_bytes(gzip.compress(b'{"format": "csbot-linear/1"}'))
    with pytest.raises(ModelError, match="模型文件已损坏"):
        load(bad)
    bad.write_bytes(b"not gzip")
    with pytest.raises(ModelError, match="模型文件已损坏"):
        load(bad)


def test_a_damaged_weight_table_is_a_chinese_error_when_first_read(tmp_path: Path) -> None:
    data = (DIALOGS / MODEL_FILE).read_bytes()
    bad = tmp_path / "understand.json.gz"
    bad.write_bytes(data[:-200] + bytes(200))  # the last member (a task's weights) broken
    model = load(bad)  # the header is whole: the tables are read when a task needs them
    last = max((*model.tasks.values(), *model.banks.values()),
               key=lambda spec: spec.weights[0] if isinstance(spec.weights, tuple) else -1)
    with pytest.raises(ModelError, match="模型文件已损坏"):
        last.weight_bytes()


def test_a_model_file_of_the_first_format_reads_the_same(tmp_path: Path) -> None:
    """csbot-linear/1 (the whole file one gzip of JSON, the tables inline) still loads, and
    a shop's old file understands as the same model written as csbot-linear/2 does."""
    shipped = load(DIALOGS / MODEL_FILE)
    inline = shipped.model_dump(mode="json")
    inline["format"] = "csbot-linear/1"
    for group, specs in (("tasks", shipped.tasks), ("banks", shipped.banks)):
        for name, spec in specs.items():
            inline[group][name]["vocabulary"] = spec.vocabulary_text()
            inline[group][name]["weights"] = base64.b64encode(zlib.compress(spec.weight_bytes(), 1)).decode()
    dialogs = tmp_path / "dialogs"
    shutil.copytree(DIALOGS, dialogs, ignore=shutil.ignore_patterns("corpus"))
    (dialogs / MODEL_FILE).write_bytes(gzip.compress(json.dumps(inline).encode(), compresslevel=1, mtime=0))
    old = load(dialogs / MODEL_FILE)
    assert old.format == "csbot-linear/1"
    # The same tables as the shipped /2 file, so dumping it writes the shipped bytes (the dump
    # itself is byte-stable: test_training_twice_gives_the_same_bytes).
    tables = {"__all__": {"vocabulary", "weights"}}
    rest = {"format": True, "tasks": tables, "banks": tables}
    assert old.model_dump(exclude=rest) == shipped.model_dump(exclude=rest)  # type: ignore[arg-type]
    for group in ("tasks", "banks"):
        for name, spec in getattr(shipped, group).items():
            mine = getattr(old, group)[name]
            assert (mine.vocabulary_text(), mine.weight_bytes()) == (spec.vocabulary_text(), spec.weight_bytes())
    lines = ["是我，颜色跟图片差太多了", "嗯，那箱根本没收到", "拉链坏了，赶紧给我换一件"]
    new_u, old_u = Understander(DIALOGS), Understander(dialogs)
    assert [new_u.buyer(t) for t in lines] == [old_u.buyer(t) for t in lines]
    assert [new_u.agent(t).acts for t in lines] == [old_u.agent(t).acts for t in lines]


def test_a_folder_without_a_model_uses_the_rules(tmp_path: Path) -> None:
    dialogs = tmp_path / "dialogs"
    shutil.copytree(DIALOGS, dialogs, ignore=shutil.ignore_patterns("corpus", "model"))
    u = Understander(dialogs)
    assert u.learned is None
    b = u.buyer("嗯是我")
    assert b.intent == "affirm" and [i.intent for i in b.intents] == ["affirm"]


def test_the_shipped_model_is_the_corpus_version() -> None:
    model = load(DIALOGS / MODEL_FILE)
    # It ships in the wheel: growing with the corpus is expected, growing without bound is not.
    assert (DIALOGS / MODEL_FILE).stat().st_size < 6_000_000
    assert model.info["lines"]["buyer"] >= 1000 and model.info["lines"]["agent"] >= 1000


# The issue's misreadings (buyer): each line through the Engine.
@pytest.mark.parametrize("text,intent,cause", [
    ("你们客服在忙也不至于半天才回复一句话吧", "complain", "service"),
    ("现在有空了，你说吧", "affirm", None),
    ("那我要是改了评价，你们给我多少钱？", "ask", None),
    ("耳机左边没声音，重新连了好多次也不行，我也懒得弄了，就这样", "complain", "quality"),
    ("你這什麼態度？", "complain", "service"),
])
def test_issue_buyer_lines(engine: Engine, text: str, intent: str, cause: str | None) -> None:
    u = engine.understand.buyer(text)
    assert (u.intent, u.cause) == (intent, cause), u
    assert 0 < u.confidence <= 1


@pytest.mark.parametrize("text,act", [
    ("这款版型偏小，页面没标清楚，是我们的疏忽。", "explain"),
    ("是仓库两款茶的货架挨着，拣货的同事拿错了，我们已经分开放，还加了复核。", "explain"),
    ("我们查了一下，这批杯盖的密封圈尺寸有偏差", "explain"),
])
def test_issue_agent_explanations(engine: Engine, text: str, act: str) -> None:
    assert act in engine.understand.agent(text).acts


def test_a_caring_question_is_no_greeting(engine: Engine) -> None:
    acts = engine.understand.agent("叔叔胃不好，他没喝那个菊花茶吧？身体还好吗？").acts
    assert "greet_identify" not in acts and "empathize" in acts


@pytest.mark.parametrize("text,intents,primary", [
    ("嗯，那箱根本没收到", ["affirm", "complain"], "complain"),
    ("拉链坏了，赶紧给我换一件", ["complain", "want_exchange"], "want_exchange"),
])
def test_several_intents_in_text_order(engine: Engine, text: str, intents: list[str], primary: str) -> None:
    u = engine.understand.buyer(text)
    assert u.intent == primary
    assert [i.intent for i in u.intents] == intents
    assert all(0 < i.confidence <= 1 for i in u.intents)


def test_one_intent_is_listed_alone(engine: Engine) -> None:
    u = engine.understand.buyer("嗯是我")
    assert [i.intent for i in u.intents] == ["affirm"] and u.intents[0].confidence == u.confidence


def test_several_intents_drive_the_script(engine: Engine) -> None:
    # The yes confirms who they are and the complaint states the problem: one message, two steps.
    f = Flow(engine).agent("周女士您好，我是柚子家女装的售后客服，请问是您本人吗？").expect("confirm_identity")
    f.buyer("嗯，那箱根本没收到").expect("listen_apologize")
    assert f.conv.context.identity_confirmed and f.conv.context.problem_stated
    assert f.conv.context.cause == "logistics"
    # A secondary yes never chooses a remedy: only the main path's early moves use it.
    f = Flow(engine).agent("周女士您好，我是柚子家女装的售后客服，请问是您本人吗？")
    f.buyer("拉链坏了，赶紧给我换一件").expect("listen_apologize")
    assert f.conv.context.problem_stated and f.conv.context.cause == "quality"


def test_secondary_events_follow_text_order(engine: Engine) -> None:
    from bot.models import BuyerUnderstanding, IntentScore

    u = BuyerUnderstanding(text="是我，怎么了", intent="ask", cause=None, emotion="calm", confidence=0.9,
                           intents=[IntentScore(intent="affirm", confidence=0.9),
                                    IntentScore(intent="ask", confidence=0.9)])
    assert engine._buyer_events(u) == ["recall", "answer"]


def test_the_suggestion_carries_the_intents(engine: Engine) -> None:
    conv, _ = engine.start()
    conv, _ = engine.feed(conv, "agent", "您好，我是店铺售后客服，请问是您本人吗？")
    _, sug = engine.feed(conv, "buyer", "拉链坏了，赶紧给我换一件")
    understanding = sug.model_dump(mode="json")["understanding"]
    assert understanding["intent"] == "want_exchange"
    assert [i["intent"] for i in understanding["intents"]] == ["complain", "want_exchange"]


def test_analyze_prints_the_intents() -> None:
    r = subprocess.run([sys.executable, "-m", "bot", "analyze", "--role", "buyer"], input="嗯，那箱根本没收到\n",
                       capture_output=True, text=True, env=ENV, cwd=ROOT, timeout=60, encoding="utf-8")
    row = json.loads(r.stdout)
    assert row["intent"] == "complain" and [i["intent"] for i in row["intents"]] == ["affirm", "complain"]


@pytest.fixture(scope="module")
def heldout_buyer() -> dict:  # type: ignore[type-arg]
    rows = [json.loads(x) for x in (DIALOGS / "corpus" / "heldout" / "buyer.jsonl").read_text(
        encoding="utf-8").splitlines() if x.strip()]
    return Comparison(DIALOGS)(rows)


def test_calibration_table_on_heldout(heldout_buyer: dict) -> None:  # type: ignore[type-arg]
    combined = heldout_buyer["combined"]
    table = combined["reliability"]
    assert sum(row["n"] for row in table) == heldout_buyer["lines"]
    assert all(0 <= row["accuracy"] <= 1 and row["from"] <= row["confidence"] <= row["to"] for row in table)
    # The rules' confidence is a score, not a probability; the model's is calibrated.
    assert combined["intent_ece"] < heldout_buyer["rules"]["intent_ece"]
    assert combined["intent_ece"] <= 0.08


def test_eval_prints_three_columns() -> None:
    r = subprocess.run([sys.executable, "-m", "bot", "eval", "--role", "agent"], capture_output=True, text=True,
                       env=ENV, cwd=ROOT, timeout=300, encoding="utf-8")
    assert r.returncode == 0, r.stderr
    assert "corpus/heldout/agent.jsonl" in r.stdout
    header = next(line for line in r.stdout.splitlines() if "规则" in line)
    assert header.split() == ["规则", "模型", "组合"]
    row = next(line for line in r.stdout.splitlines() if "动作 micro-F1" in line)
    assert len(row.split()) == 5  # the label (two words) and three figures


def test_eval_json_has_the_comparison() -> None:
    r = subprocess.run([sys.executable, "-m", "bot", "eval", "--json", "tests/data/public/buyer_dev.jsonl"],
                       capture_output=True, text=True, env=ENV, cwd=ROOT, timeout=300, encoding="utf-8")
    res = json.loads(r.stdout)[0]["compare"]
    assert set(res) >= {"rules", "model", "combined", "model_version", "ship"}
    assert 0 <= res["combined"]["intent_ece"] <= 1 and res["combined"]["reliability"]


def test_each_act_gets_its_own_threshold() -> None:
    from bot.learned.train import fit_thresholds

    # label 0 is clear-cut; label 1 is over-read at 0.45 on lines that do not carry it
    proba = [[0.9, 0.9]] * 10 + [[0.1, 0.45]] * 30 + [[0.9, 0.1]] * 10
    ys = [{0, 1}] * 10 + [set()] * 30 + [{0}] * 10
    th = fit_thresholds(proba, ys, 0.3)
    assert th[1] > 0.45 and th[0] <= 0.9
    predicted = [{j for j, q in enumerate(p) if q >= th[j]} for p in proba]
    assert predicted == ys
