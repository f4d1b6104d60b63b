"""Issue 14: the guard catches what agents really write, remembers the conversation, and
offers a compliant rewrite for every block."""

from __future__ import annotations

import functools
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.engine import Engine
from bot.guard.corpus import BLOCK_CODES, measure, read
from bot.models import Case, Context, Conversation
from bot.server.app import STORE, build_app
from tests.shared import dump_yaml, load_yaml_text

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "dialogs" / "corpus"


def codes(engine: Engine, text: str, context: tuple[str, ...] = (), stage: str | None = None) -> set[str]:
    return {f.code for f in engine.understand.findings(text, context, stage)}


# Every line the issue quotes, with the finding it must get.
@pytest.mark.parametrize(("text", "code"), [
    ("补偿您30元，您看能不能把差评删掉", "conditional_benefit"),
    ("我私下转您100块，您把差评删了", "conditional_benefit"),
    ("微信转您50，差评删一下", "conditional_benefit"),
    ("好吧，150就150，您加我微信xiaolu888，删了截图给我我就转。", "conditional_benefit"),
    ("亲，我们给您返现20元，您改成好评", "conditional_benefit"),
    ("您把差评删了，我给您转100块", "conditional_benefit"),
    ("您先把评价改了，退款我这边马上就批", "conditional_benefit"),
    ("改完评价跟我说一声，运费险的钱我马上给您退", "conditional_benefit"),
    ("加我微信，给您发个红包", "conditional_benefit"),
    ("您不删差评的话我们只能走平台投诉了", "threat"),
    ("我这么晚还在加班，现在找工作不容易，真的希望您能帮助支持一下", "guilt_trip"),
    ("真丝本来就不能机洗的，详情页写了要手洗，是您自己洗的方法不对才缩水的。", "blame"),
    ("您可以把评价删了吗？我们给您补偿50元", "conditional_benefit"),
    ("券要等您评价更新后系统才能发", "conditional_benefit"),
    ("领红包的时候顺手把评价改一下", "conditional_benefit"),
])
def test_issue_lines_get_their_finding(engine: Engine, text: str, code: str) -> None:
    found = engine.understand.findings(text)
    assert code in {f.code for f in found}, found
    for f in found:
        if f.severity == "block":
            assert f.rewrite and f.span is not None


def test_a_first_request_is_not_a_repeat(engine: Engine) -> None:
    assert "repeat_request" not in codes(engine, "您可以把评价删了吗？我们给您补偿50元")


@pytest.mark.parametrize("text", [
    "不客气", "不客气，应该的", "不客气哈，有事随时找我", "不客氣，應該的",
    "您前段时间在我们店买了一条连衣裙，还记得吗？",
    "您好，您买的是我们家的湖蓝色碎花连衣裙对吧？",
    "跟评价没有关系，改不改都可以，这张券现在就发给您",
    "换货我们按订单上的地址寄出，您看需要改地址吗？",
    "退款已经到账了吧？如果您觉得处理得还行，方便的时候可以考虑更新一下评价，改不改都是您的权利",
])
def test_issue_clean_lines_stay_clean(engine: Engine, text: str) -> None:
    assert engine.understand.findings(text) == []


def test_decoupling_does_not_clear_another_tie_in_the_message(engine: Engine) -> None:
    text = "补偿跟评价没有关系，改不改都可以。不过您要是改成好评，我再多送您一张20元的券"
    assert "conditional_benefit" in codes(engine, text)


# One test per family: the block, written as agents type it, and its clean look-alike.
@pytest.mark.parametrize(("bad", "good", "code"), [
    ("宝，给个hp返您5块😘", "宝，给您返5块钱赔个不是😘", "conditional_benefit"),
    ("親，把差評刪了，給您發個🧧", "親，給您發個🧧，跟評價沒關係", "conditional_benefit"),
    ("好 评 返 现 哦亲", "我们不做好评返现的，您放心", "conditional_benefit"),
    ("先改5星再给您补发", "补发今天就给您安排，顺丰", "conditional_benefit"),
    ("退款我先帮您压着，等您把差评撤了", "退款我已经同意了，很快到账", "conditional_benefit"),
    ("加个V吧，私下给您补30块，差评麻烦处理下", "平台上直接申请售后就可以，不用加微信", "conditional_benefit"),
    ("再不删差评，我们就起诉您", "您要是不满意，也可以找平台客服介入", "threat"),
    ("信不信我们去您公司找您", "我们会跟快递公司核实情况", "threat"),
    ("您家住6楼没电梯，快递不好送上去", "换货寄到您下单的地址可以吗", "privacy"),
    ("您上个月还在我们店买了三次", "您3月5日买的蓝色连衣裙收到了吧", "privacy"),
    ("一个差评我这个月全勤奖就没了", "给您添麻烦了，实在抱歉", "guilt_trip"),
    ("您自己没看尺码表", "尺码表我们会重新核对，抱歉", "blame"),
])
def test_each_family(engine: Engine, bad: str, good: str, code: str) -> None:
    assert code in codes(engine, bad)
    assert codes(engine, good) == set(), engine.understand.findings(good)


# ---------------------------------------------------------------- memory

def test_a_benefit_and_a_review_request_across_two_messages(engine: Engine) -> None:
    coupon = "亲，给您准备了一张20元的券"
    assert codes(engine, coupon) == set()
    assert codes(engine, "改一下评价哈") == set()
    assert "conditional_benefit" in codes(engine, "改一下评价哈", (coupon,))
    # the other way round
    assert "conditional_benefit" in codes(engine, "给您发个10元红包表示感谢", ("亲，能不能改一下评价？",))
    # a remedy already given, then a free request: clean
    assert codes(engine, "问题解决了，评价您看着办，改不改都尊重您",
                 ("补偿的20元已经打到您账户了",)) == set()


def test_agreeing_to_pay_in_the_malicious_stage_is_a_block(engine: Engine) -> None:
    assert "conditional_benefit" in codes(engine, "好吧，150就150", stage="malicious")
    assert "conditional_benefit" in codes(engine, "行，给您转过去，截图发我", stage="malicious")
    assert codes(engine, "抱歉，用钱换评价我们没法答应", stage="malicious") == set()
    assert codes(engine, "好吧，150就150") == set()  # a price, with nothing to tie it to


@pytest.mark.parametrize("text", [
    "商品有问题的话，可以给您办退货退款，但钱和评价不能挂钩",
    "我们是品牌授权店，可以把授权书和进货凭证发您看，不满意也可以退货退款",
    "可以给您换一个新的，来回运费我们出",
    "好的，可以给您补发一个",
])
def test_the_ordinary_remedy_is_no_deal_in_the_malicious_stage(engine: Engine, text: str) -> None:
    # "可以…退货退款" read as agreeing to the extortion: a block, and the trainee "paid".
    assert "conditional_benefit" not in codes(engine, text, stage="malicious")


@pytest.mark.parametrize("text", ["可以，退您300，您把差评删了", "可以退您50", "行吧，给你转300"])
def test_paying_beside_the_remedy_words_is_still_a_deal(engine: Engine, text: str) -> None:
    assert "conditional_benefit" in codes(engine, text, stage="malicious")


def _checklist(sug: Any) -> dict[str, bool]:
    return {c.item: c.done for c in sug.checklist}


def test_the_engine_remembers_and_never_ticks_what_the_turn_broke(engine: Engine) -> None:
    conv, _ = engine.start({"shop": "柚子家女装", "buyer_name": "周", "honorific": "女士"})
    conv, sug = engine.feed(conv, "buyer", "给我200块我就删差评，不然我天天给你们差评")
    assert conv.stage == "malicious"
    item = "已回复且没答应给钱或任何交换"
    assert _checklist(sug)[item] is False  # nothing done yet: nothing ticked (issue 16)
    conv, sug = engine.feed(conv, "agent", "好吧，150就150")
    assert [f.code for f in sug.warnings if f.severity == "block"] == ["conditional_benefit"]
    assert sug.warnings[0].rewrite and "不能" in sug.warnings[0].rewrite
    assert _checklist(sug)[item] is False
    # the next suggestions correct the agreement
    assert sug.suggestions and all(s.template.startswith("malicious/after_block") for s in sug.suggestions)
    conv, sug = engine.feed(conv, "agent", "抱歉，补偿不会和评价挂钩，这个我们不能答应。")
    assert _checklist(sug)[item] is False, "once broken, never ticked"


def test_after_a_block_the_suggestions_repair_it(engine: Engine) -> None:
    case = Case(shop="柚子家女装", buyer_name="周", honorific="女士", platform="taobao")
    conv = Conversation(case=case, stage="polite_request", turn=8, script_version=engine.script.version,
                        context=Context(remedy_chosen="exchange", apologies=2, identity_confirmed=True,
                                        product_confirmed=True, problem_stated=True, remedies_offered=1))
    conv, sug = engine.feed(conv, "agent", "券要等您评价更新后系统才能发")
    assert any(f.code == "conditional_benefit" for f in sug.warnings)
    assert _checklist(sug)["只请求一次、不附条件"] is False
    texts = [s.text for s in sug.suggestions]
    assert texts and all("跟评价没" in t or "不附带任何条件" in t for t in texts), texts
    assert not any("同意" in t and "评价" in t for t in texts)
    for t in texts:
        assert not engine.understand.guard.blocks(engine.understand.findings(t))
    # the buyer answers: still repairing until the agent sends a clean message
    conv, sug = engine.feed(conv, "buyer", "？？")
    conv, sug = engine.feed(conv, "agent", "更正一下：这张券跟评价没有关系，现在就发给您")
    assert not any(f.severity == "block" for f in sug.warnings)
    assert conv.context.repair is False and conv.context.agent_recent[-1].startswith("更正")


def test_every_rewrite_passes_the_guard(engine: Engine) -> None:
    """…with no block, and a rewrite that keeps a benefit says no word on the review: "给您发个10元红包，
    不附带任何条件，跟评价没有关系，评价怎么写都由您决定" still put the gift beside the review."""
    guard = engine.understand.guard
    assert guard.ties.benefit is not None and guard.ties.review is not None
    rows = read([CORPUS / "train" / "guard.jsonl"])
    seen = kept = 0
    for row in rows:
        for f in engine.understand.findings(row.text, row.context or (), row.stage):
            if f.severity == "block":
                assert f.rewrite, row.text
                assert not guard.blocks(engine.understand.findings(f.rewrite)), f.rewrite
                if guard.ties.benefit.search(f.rewrite):
                    assert "评价" not in f.rewrite and not guard.ties.review.search(f.rewrite), (row.text, f.rewrite)
                    kept += 1
                seen += 1
    assert seen > 500 and kept > 100, (seen, kept)


# ---------------------------------------------------------------- corpus and figures

def test_corpus_shape_and_frozen_split() -> None:
    from bot.corpus import is_heldout

    train = read([CORPUS / "train" / "guard.jsonl"])
    held = read([CORPUS / "heldout" / "guard.jsonl"])
    rows = train + held
    assert len(rows) >= 1500
    assert all(not is_heldout(r.text) for r in train) and all(is_heldout(r.text) for r in held)
    bad = [r for r in rows if r.findings]
    clean = [r for r in rows if not r.findings]
    assert len(bad) >= 700 and len(clean) >= 700
    assert any(r.context for r in bad) and any(r.stage for r in bad)
    for fam in {r.family for r in bad}:
        assert len({r.text for r in bad if r.family == fam}) >= 30, fam


@pytest.mark.parametrize("half", ["train", "heldout"])
def test_targets_on_the_corpus(engine: Engine, half: str) -> None:
    rows = read([CORPUS / half / "guard.jsonl"])
    res = measure(rows, lambda r: engine.understand.findings(r.text, r.context or (), r.stage))
    # The held-out half holds hand-written shop scripts (scripts/guard_handwritten.jsonl) in
    # wording no rule was written for: its figures are a measurement, not a tuning target, and each
    # batch of new wording lowers them a little, so the floors there are lower (last measured on the
    # shipped rules: 1,260 lines, recall 0.950 of 478 to block, 12 of 565 clean lines blocked).
    # Misses are listed for the train half only.
    floor, clean = (0.98, 0.01) if half == "train" else (0.945, 0.025)
    shown = res["misses"][:10] if half == "train" else len(res["misses"])
    assert res["block_recall"] >= floor, shown
    assert res["clean_blocked"] <= clean, shown
    assert set(res["code_recall"]) >= BLOCK_CODES


# ---------------------------------------------------------------- lint and the API

def _lint(*args: str, stdin: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", "lint", *args], input=stdin, text=True,
                          capture_output=True, cwd=ROOT, check=False)


def test_lint_names_findings_in_chinese_and_codes_only_in_json() -> None:
    lines = "补偿您30元，您看能不能把差评删掉\n不客气\n"
    human = _lint(stdin=lines)
    assert human.returncode == 1
    assert "conditional_benefit" not in human.stdout and "好评返现等条件利益" in human.stdout
    assert "建议改为：补偿您30元，不附带任何条件。" in human.stdout
    js = _lint("--json", stdin=lines)
    rows = [json.loads(x) for x in js.stdout.splitlines()]
    assert rows[0]["findings"][0]["code"] == "conditional_benefit" and rows[0]["findings"][0]["rewrite"]
    assert rows[1]["findings"] == []


@pytest.fixture
async def client(aiohttp_client: Any, tmp_path: Path, engine: Engine) -> AsyncIterator[tuple[Any, str]]:
    app = await build_app(f"sqlite:///{tmp_path / 'csbot.db'}", engine, max_body=16 * 1024)
    token = await app[STORE].add_token("小林", "agent", "柚子家女装")
    yield await aiohttp_client(app), token


async def test_api_lint_reads_the_conversation(client: tuple[Any, str]) -> None:
    http, token = client
    h = {"Authorization": f"Bearer {token}"}
    r = await http.post("/api/v1/conversations", json={"shop": "柚子家女装", "buyer_name": "周"},
                        headers=h)
    assert r.status == 201, await r.text()
    conv_id = (await r.json())["conversation"]["id"]
    r = await http.post(f"/api/v1/conversations/{conv_id}/messages",
                        json={"role": "agent", "text": "亲，给您准备了一张20元的券"}, headers=h)
    assert r.status == 200
    draft = "改一下评价哈"
    alone = await (await http.post("/api/v1/lint", json={"text": draft}, headers=h)).json()
    assert alone == {"findings": []}
    r = await http.post("/api/v1/lint", json={"text": draft, "conversation_id": conv_id}, headers=h)
    (f,) = (await r.json())["findings"]
    assert f["code"] == "conditional_benefit" and f["severity"] == "block" and f["rewrite"]
    r = await http.post("/api/v1/lint", json={"text": draft, "conversation_id": "nope"}, headers=h)
    assert r.status == 404 and "message" in (await r.json())["error"]


def test_the_trainer_shows_the_rewrite(engine: Engine) -> None:
    from bot.paths import dialogs_dir
    from bot.training.persona import find_persona, load_personas
    from bot.training.rubric import load_rubric
    from bot.training.session import Session, run_scripted

    dialogs = dialogs_dir()
    persona = load_personas(dialogs)[0].persona.id
    lines = (ROOT / "tests" / "data" / "trainees" / f"{persona}.good.txt").read_text(encoding="utf-8")
    replies = [x for x in lines.splitlines() if x.strip()]
    replies.insert(len(replies) - 1, "您先把评价改了，退款我这边马上就批")
    card = run_scripted(Session(engine, find_persona(dialogs, persona), load_rubric(dialogs), 1), replies)
    (v,) = [v for v in card.public()["violations"] if v["code"] == "conditional_benefit"]
    assert "不附带任何条件" in v["rewrite"] and "评价" not in v["rewrite"]


def test_the_model_is_trained_deterministically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.dataload import DataError
    from bot.guard.learned import Model, train
    from bot.learned import train as fit
    from bot.learned.linear import dump

    # Same lines, same bytes: a 1-in-12 slice keeps every code among the positives (5 or
    # more each); one C and two folds keep every step (choosing C, out-of-fold probabilities,
    # calibration, thresholds, the refit) at a sixth of the fits (tests/test_learned.py alike).
    monkeypatch.setattr(fit, "train_task", functools.partial(fit.train_task, grid=(16.0,), k=2))
    rows = [(r.text, r.stage, set(r.findings) & {"conditional_benefit", "threat", "privacy"})
            for r in read([CORPUS / "train" / "guard.jsonl"])[::12]]
    assert dump(train(rows)) == dump(train(list(rows)))
    shipped = Model.load(ROOT / "dialogs" / "model" / "guard.json.gz")
    assert set(shipped.thresholds) == {"conditional_benefit", "threat", "privacy"}
    assert all(0 < t < 1 for t in shipped.thresholds.values())
    broken = tmp_path / "m.json.gz"
    broken.write_bytes(b"{")
    with pytest.raises(DataError, match="模型文件"):
        Model.load(broken)


def test_a_broken_ties_pattern_is_a_chinese_data_error(tmp_path: Path) -> None:
    import shutil

    from bot.dataload import DataError
    from bot.understand.pipeline import Understander

    dialogs = tmp_path / "dialogs"
    shutil.copytree(ROOT / "dialogs", dialogs, ignore=shutil.ignore_patterns("corpus"))
    spec = load_yaml_text((dialogs / "guard.yaml").read_text(encoding="utf-8"))
    spec["ties"]["review"] = ["(好评"]
    (dialogs / "guard.yaml").write_text(dump_yaml(spec, allow_unicode=True), encoding="utf-8")
    with pytest.raises(DataError, match=r"ties\.review"):
        _ = Understander(dialogs).guard


def test_assist_shows_the_rewrite_and_remembers(tmp_path: Path) -> None:
    import os

    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "PYTHONPATH": str(ROOT)}
    stdin = "我：您好，请问是周女士吗？\n买：是我\n我：亲，给您准备了一张20元的券\n我：改一下评价哈\n/quit\n"
    r = subprocess.run([sys.executable, "-m", "bot", "assist", "--shop", "柚子家女装", "--buyer", "周敏",
                        "--product", "连衣裙", "--order-date", "2026-03-02", "--db", f"sqlite:///{tmp_path / 'a.db'}"],
                       input=stdin, text=True,
                       capture_output=True, env=env, cwd=ROOT, timeout=60, encoding="utf-8", check=False)
    assert r.returncode == 0, r.stderr
    last = "".join(r.stdout.split("改一下评价哈")[-1].split())  # Rich wraps long lines
    assert "【禁止】" in last and "建议改为：" in last and "不附带任何条件" in last
    assert "更正" in last or "道歉" in last  # the next suggestions repair the message


def test_the_benefit_rewrite_reads_as_chinese(engine: Engine) -> None:
    # "您怎么评价都尊重您的决定" had the buyer respect their own decision.
    f = next(f for f in engine.understand.findings("您要是把差评改成好评，我再送您20元红包")
             if f.code == "conditional_benefit")
    assert f.rewrite is not None
    assert f.rewrite == "我送您20元红包，不附带任何条件。这次给您添麻烦了，实在抱歉。", f.rewrite


@pytest.mark.parametrize(("text", "kept"), [
    # a shop's quick reply: the first clause with a benefit word was only its heading (作为补偿),
    # and the rewrite read "作为补偿，不附带任何条件…", the red packet itself dropped
    ("亲，作为补偿，给您发一个5元红包，顺便麻烦改一下评价哈", "作为补偿，给您发一个5元红包"),
    ("这边先给您补偿5元红包，评价的事您看着办～", "这边给您补偿5元红包"),  # 先: the order the review came in
])
def test_the_benefit_rewrite_keeps_the_benefit_itself(engine: Engine, text: str, kept: str) -> None:
    f = next(f for f in engine.understand.findings(text) if f.code == "conditional_benefit")
    assert f.rewrite == f"{kept}，不附带任何条件。这次给您添麻烦了，实在抱歉。", f.rewrite
    assert not engine.understand.guard.blocks(engine.understand.findings(f.rewrite))
