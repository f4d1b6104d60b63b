"""The command line, run as a user runs it: subprocesses, real bytes on stdin and stdout."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.shared import dump_yaml, load_yaml_text

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONIOENCODING": "utf-8", "PYTHONPATH": str(ROOT)}


def csbot(*args: str, stdin: str = "", cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", *args], input=stdin, text=True,
                          capture_output=True, env=ENV, cwd=cwd or ROOT, timeout=60,
                          encoding="utf-8")


def test_help_is_chinese_on_every_command() -> None:
    top = csbot("--help")
    assert top.returncode == 0 and "售后" in top.stdout
    for cmd in ("analyze", "lint", "assist", "diagram", "eval", "report"):
        r = csbot(cmd, "--help")
        assert r.returncode == 0 and any("\u4e00" <= c <= "\u9fff" for c in r.stdout), cmd


def test_assist_help_says_how_to_type_the_lines() -> None:
    """--help of assist said "输入买家和自己说的话" but not how: the 买：/我： (b:/a:) prefixes and
    the question for the order date were only learnt once it ran."""
    r = csbot("assist", "--help")
    text = re.sub(r"\s+", "", r.stdout)
    assert r.returncode == 0 and "我：" in text and "a:" in text and "/帮助" in text, r.stdout
    assert "先问下单日期" in text, r.stdout


def test_analyze_buyer_lines() -> None:
    r = csbot("analyze", "--role", "buyer", stdin="想申請退貨，耳機一直有電流聲\n\n嗯是我\n")
    assert r.returncode == 0, r.stderr
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert [x["text"] for x in rows] == ["想申請退貨，耳機一直有電流聲", "嗯是我"]
    assert rows[0]["intent"] == "want_return" and rows[0]["cause"] == "quality"
    assert set(rows[0]) == {"text", "intent", "cause", "emotion", "confidence", "intents"}
    assert 0 <= rows[0]["confidence"] <= 1
    assert rows[1]["intent"] == "affirm"


def test_analyze_agent_lines_with_spans() -> None:
    text = "亲，改成好评后给您发5元红包"
    r = csbot("analyze", "--role", "agent", stdin=text + "\n")
    row = json.loads(r.stdout)
    f = row["findings"][0]
    assert f["code"] == "conditional_benefit" and f["severity"] == "block"
    assert text[f["span"][0]:f["span"][1]] and "评价" in f["message"]


def test_lint_exit_codes(tmp_path: Path) -> None:
    clean = tmp_path / "clean.txt"
    clean.write_text("亲，您好，有什么可以帮您的吗？\n不管评价改不改，小礼物都送您\n", encoding="utf-8")
    r = csbot("lint", str(clean))
    assert r.returncode == 0, r.stdout
    assert "共检查 2 条" in r.stdout
    bad = tmp_path / "bad.txt"
    bad.write_text("亲，您好\n好评返现5元\n是您自己没看尺码表\n", encoding="utf-8")
    r = csbot("lint", str(bad))
    assert r.returncode == 1
    assert "第 2 行" in r.stdout and "禁止" in r.stdout and "第 3 行" in r.stdout
    warn_only = tmp_path / "warn.txt"
    warn_only.write_text("是您自己没看尺码表\n", encoding="utf-8")
    assert csbot("lint", str(warn_only)).returncode == 0
    r = csbot("lint", "--json", "-", stdin="好评返现\n你好\n")
    assert r.returncode == 1
    rows = [json.loads(x) for x in r.stdout.splitlines()]
    assert rows[0]["findings"][0]["code"] == "conditional_benefit" and rows[1]["findings"] == []
    missing = csbot("lint", str(tmp_path / "nope.txt"))
    assert missing.returncode == 2


def test_assist_json_with_and_without_a_case() -> None:
    lines = [
        {"case": {"shop": "柚子家女装", "buyer_name": "周敏", "honorific": "女士", "product": "连衣裙"}},
        {"role": "agent", "text": "您好，请问是周女士吗？"},
        {"role": "buyer", "text": "是我"},
    ]
    r = csbot("assist", "--json", stdin="\n".join(json.dumps(x, ensure_ascii=False) for x in lines))
    assert r.returncode == 0, r.stderr
    out = [json.loads(x) for x in r.stdout.splitlines()]
    assert [o["stage"]["id"] for o in out] == ["opening", "confirm_identity", "confirm_product"]
    assert [o["turn"] for o in out] == [0, 1, 2]
    assert out[2]["understanding"]["intent"] == "affirm"
    assert out[2]["stage"]["label"] == "确认商品"
    assert "周敏女士" in out[0]["suggestions"][0]["text"]
    r = csbot("assist", "--json", stdin='{"role":"agent","text":"您好，在吗？"}\n')
    out = [json.loads(x) for x in r.stdout.splitlines()]
    assert len(out) == 1 and out[0]["stage"]["id"] == "confirm_identity"


def test_assist_json_bad_lines_are_reported() -> None:
    r = csbot("assist", "--json", stdin='{"role":"robot","text":"x"}\nnot json\n{"role":"buyer","text":"是"}\n')
    assert r.returncode == 1
    out = [json.loads(x) for x in r.stdout.splitlines()]
    assert out[0]["error"]["code"] == "invalid" and out[1]["error"]["code"] == "bad_json"
    assert out[1]["error"]["message"] == "第 2 行不是合法的 JSON（第 1 个字符附近）"  # not json's English
    assert "stage" in out[2]


def test_assist_json_takes_the_case_from_the_options() -> None:
    """Without a case line, --shop, --buyer … and --tone are the case (they were ignored)."""
    opts = ("--shop", "柚子家运动", "--buyer", "周敏", "--honorific", "女士", "--tone", "亲切")
    r = csbot("assist", "--json", *opts, stdin='{"role":"buyer","text":"是我"}\n')
    assert r.returncode == 0, r.stderr
    sug = json.loads(r.stdout)
    assert sug["suggestions"][0]["tone"] == "亲切"  # the chosen tone leads
    bare = json.loads(csbot("assist", "--json", stdin='{"role":"buyer","text":"是我"}\n').stdout)
    assert bare["suggestions"][0]["tone"] == "正式"
    r = csbot("assist", "--json", "--shop", "柚子家运动", "--agent", "小林",
              stdin='{"role":"agent","text":"您好，在吗？"}\n')
    texts = " ".join(s["text"] for s in json.loads(r.stdout)["suggestions"])
    assert "柚子家运动" in texts and "本店" not in texts


def test_assist_console_session(tmp_path: Path) -> None:
    stdin = "我：您好，请问是周女士吗？\n买：是我\n/tone 亲切\n/status\n/quit\n"
    db = tmp_path / "assist.db"
    r = csbot("assist", "--shop", "柚子家女装", "--buyer", "周敏", "--honorific", "女士",
              "--product", "连衣裙", "--order-date", "2026-03-02", "--db", f"sqlite:///{db}", stdin=stdin)
    assert r.returncode == 0, r.stderr
    assert "确认身份" in r.stdout and "确认商品" in r.stdout and "建议回复" in r.stdout
    assert "建议语气已切换为：亲切" in r.stdout and "再见" in r.stdout
    # the console is one more channel on the service's store: the turns are in the database
    import sqlite3

    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT turn, role, stage FROM turns ORDER BY turn").fetchall()
        tone = conn.execute("SELECT state FROM conversations").fetchone()[0]
    assert rows == [(1, "agent", "confirm_identity"), (2, "buyer", "confirm_product")]
    assert '"tone":"亲切"' in tone


def test_diagram_is_the_live_machine() -> None:
    r = csbot("diagram")
    assert r.returncode == 0
    assert r.stdout.startswith("stateDiagram-v2")
    # Chinese edge labels (issue 16); an edge lists every trigger that takes it
    edge = next(x for x in r.stdout.splitlines() if x.strip().startswith("listen_apologize --> explain:"))
    assert "客服致歉" in [t.strip() for t in edge.split(":", 1)[1].split(" / ")], edge
    assert "remedy --> polite_request" in r.stdout
    r = csbot("diagram", "--format", "svg")
    if shutil.which("dot"):
        assert r.returncode == 0 and "<svg" in r.stdout
    else:
        assert r.returncode == 3 and "Graphviz" in r.stderr


def test_eval_prints_figures() -> None:
    r = csbot("eval", "tests/data/public/buyer_dev.jsonl", "tests/data/agent_dev.jsonl")
    assert r.returncode == 0, r.stderr
    assert "意图准确率" in r.stdout and "动作 micro-F1" in r.stdout and "逐项" in r.stdout
    r = csbot("eval", "--json", "tests/data/dialogs_dev.jsonl")
    res = json.loads(r.stdout)
    assert res[0]["kind"] == "dialogs" and 0 < res[0]["stage_accuracy"] <= 1


def test_a_shops_own_data_folder_is_used(tmp_path: Path) -> None:
    dialogs = tmp_path / "dialogs"
    shutil.copytree(ROOT / "dialogs", dialogs)
    guard = dialogs / "guard.yaml"
    spec = load_yaml_text(guard.read_text(encoding="utf-8"))
    # the shop's own rule: no lists of buyers kept outside the order (售后群 the shipped guard knows)
    spec["codes"]["privacy"]["rules"].append({"any": ["回访名单"]})
    guard.write_text(dump_yaml(spec, allow_unicode=True), encoding="utf-8")
    r = csbot("lint", "--json", "--dialogs", str(dialogs), "-", stdin="回头我把您加到回访名单里\n")
    assert json.loads(r.stdout)["findings"][0]["code"] == "privacy"
    r = csbot("lint", "--json", "-", stdin="回头我把您加到回访名单里\n")
    assert json.loads(r.stdout)["findings"] == []


def test_bad_data_folder_is_a_clear_error(tmp_path: Path) -> None:
    r = csbot("lint", "--dialogs", str(tmp_path), "-", stdin="你好\n")
    assert r.returncode == 3 and "缺少数据文件" in r.stderr


@pytest.mark.parametrize("cmd", [["analyze", "--role", "robot"], ["nonsense"]])
def test_usage_errors_exit_2(cmd: list[str]) -> None:
    assert csbot(*cmd).returncode == 2


def _every_command(group: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    import click

    ctx = click.Context(group)
    out = [path]
    for name in group.list_commands(ctx):  # the commands imported on first use too
        cmd = group.get_command(ctx, name)
        out += _every_command(cmd, (*path, name)) if hasattr(cmd, "commands") else [(*path, name)]
    return out


def test_help_has_no_english_of_clicks_own() -> None:
    """Usage, headings, metavars and [required] are Chinese, and the option column lines up
    under Chinese metavars (click counted a Chinese character as one column)."""
    from click.testing import CliRunner
    from rich.cells import cell_len

    from bot.cli import main

    english = re.compile(r"\[OPTIONS\]|COMMAND|\[ARGS\]|\b(TEXT|INTEGER|FILE|NAME|DIR|CASE_ID|DATASETS)\b"
                         r"|\[required|Usage|Options:|Commands:")
    for path in _every_command(main):
        text = CliRunner().invoke(main, [*path, "--help"]).output
        assert text.startswith("用法：") and "选项：" in text, path
        assert not english.search(text), (path, english.search(text))
    text = CliRunner().invoke(main, ["assist", "--help"]).output
    rows = [line for line in text.splitlines() if line.startswith(("  --shop ", "  --order-date ", "  --dialogs "))]
    starts = {cell_len(m.group(1)) for m in (re.match(r"(.*?\S {2,})\S", line) for line in rows) if m}
    assert len(rows) == 3 and len(starts) == 1, rows


def test_a_misspelt_option_is_answered_in_chinese_with_the_option_meant() -> None:
    from click.testing import CliRunner

    from bot.cli import main

    result = CliRunner().invoke(main, ["assist", "--buyer-name", "陈"])
    assert result.exit_code == 2
    assert "没有这个选项：'--buyer-name'。 是不是想用 '--buyer'？" in result.output, result.output
    assert "Did you mean" not in result.output and "Possible" not in result.output


def test_assist_takes_the_traditional_buyer_prefix(tmp_path: Path) -> None:
    # "買：" was read as part of the buyer's words, stored and exported as a corpus line.
    db = tmp_path / "assist.db"
    r = csbot("assist", "--shop", "柚子家女装", "--buyer", "周敏", "--honorific", "女士", "--product", "连衣裙",
              "--order-date", "", "--db", f"sqlite:///{db}", stdin="我：您好，请问是周女士吗？\n買：是我本人\n/quit\n")
    assert r.returncode == 0, r.stderr
    import sqlite3

    with sqlite3.connect(db) as conn:
        texts = [t for (t,) in conn.execute("SELECT text FROM turns WHERE role = 'buyer'")]
    assert texts == ["是我本人"]


def test_assist_says_when_it_carries_on_an_open_case(tmp_path: Path) -> None:
    # The case key is shop + buyer + order: a second `assist` for the same buyer silently
    # carried on the first case, stage and product included ("跑鞋" asked, "连衣裙" suggested).
    db = f"sqlite:///{tmp_path / 'assist.db'}"
    base = ("assist", "--shop", "柚子家女装", "--buyer", "周敏", "--honorific", "女士", "--order-date", "",
            "--db", db)
    first = csbot(*base, "--product", "连衣裙", stdin="我：您好，请问是周敏女士吗？\n/quit\n")
    assert first.returncode == 0 and "已有进行中的会话" not in first.stdout
    again = csbot(*base, "--product", "跑鞋", stdin="/quit\n")
    assert again.returncode == 0, again.stderr
    note = re.sub(r"\s+", "", again.stdout)
    assert "这个买家和订单已有进行中的会话（1条消息，商品是“连衣裙”" in note
    assert "同一买家的另一单，请用--order-id给出订单号。" in note
    other = csbot(*base, "--product", "跑鞋", "--order-id", "3719204857555", stdin="/quit\n")
    assert other.returncode == 0 and "已有进行中的会话" not in other.stdout
    assert "您买的跑鞋" in re.sub(r"\s+", "", other.stdout)


def test_eval_scores_guard_lines_in_their_conversation(tmp_path: Path) -> None:
    rows = [{"text": "改一下评价哈", "findings": ["conditional_benefit"], "family": "cross_message",
             "context": ["亲，给您准备了一张20元的券"]},
            {"text": "好吧，150就150", "findings": ["conditional_benefit"], "family": "malicious_agree",
             "stage": "malicious"},
            {"text": "退款已经给您退了，评价的事您随意", "findings": [], "family": "clean_request"}]
    path = tmp_path / "guard.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    r = csbot("eval", "--json", str(path))
    assert r.returncode == 0, r.stderr
    (res,) = json.loads(r.stdout)
    assert res["kind"] == "guard" and res["block_recall"] == 1.0 and res["clean_blocked"] == 0.0
    text = csbot("eval", str(path)).stdout
    assert "拦截级召回率：1.000" in text and "干净句被拦率：0.000" in text


def test_lint_reads_a_quick_reply_file_saved_as_gbk_or_with_a_bom(tmp_path: Path) -> None:
    # A library exported from 千牛 or saved by Notepad as ANSI (GBK) ended in a UnicodeDecodeError
    # traceback; a UTF-8 BOM was shown in front of line 1.
    gbk = tmp_path / "快捷短语.txt"
    gbk.write_bytes("您好，有什么可以帮您？\r\n亲，给个好评返现5元哦\r\n".encode("gbk"))
    r = csbot("lint", str(gbk))
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    assert "第 2 行：亲，给个好评返现5元哦" in r.stdout and "共检查 2 条：1 条有禁止级问题" in r.stdout
    bom = csbot("lint", "--json", stdin="\ufeff亲，好评返现\n")
    assert json.loads(bom.stdout.splitlines()[0])["text"] == "亲，好评返现"
    r = subprocess.run([sys.executable, "-m", "bot", "analyze", "--role", "buyer"], input="質量太差了\n".encode("big5"),
                       capture_output=True, env=ENV, cwd=ROOT, timeout=60)
    assert r.returncode in (0, 1) and b"Traceback" not in r.stderr, r.stderr.decode()
    r = subprocess.run([sys.executable, "-m", "bot", "analyze", "--role", "buyer"], input="质量太差了\n".encode("gbk"),
                       capture_output=True, env=ENV, cwd=ROOT, timeout=60)
    assert r.returncode == 0 and json.loads(r.stdout)["text"] == "质量太差了", r.stderr.decode()


def test_serve_with_a_misspelt_time_zone_in_the_settings_file_says_where(tmp_path: Path) -> None:
    """`shop_timezone = "Asia/Shangai"` in the --config file crashed `csbot serve` with a
    ZoneInfoNotFoundError traceback; now one Chinese line names the file, the line and the key."""
    toml = tmp_path / "csbot.toml"
    toml.write_text(f'database_url = "sqlite:///{tmp_path / "s.db"}"\nport = 18093\n'
                    'shop_timezone = "Asia/Shangai"\n', encoding="utf-8")
    r = csbot("serve", "--config", str(toml), cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert r.stderr == ("设置有误：shop_timezone：不认识这个时区，实际是 'Asia/Shangai'（应写成 Asia/Shanghai "
                        f"这样的时区名，大小写要对）。请检查设置文件 {toml} 第 3 行的 shop_timezone。\n"), r.stderr
    assert not (tmp_path / "s.db").exists()  # refused before anything was opened


def test_serve_with_a_channel_half_set_in_the_settings_file_is_a_bad_setting(tmp_path: Path) -> None:
    """A Telegram token without its secret stopped serve as 配置错误 with exit 3 (a data error),
    while every other bad setting is exit 2 (docs/service.md); now it is one of them."""
    toml = tmp_path / "csbot.toml"
    toml.write_text(f'database_url = "sqlite:///{tmp_path / "s.db"}"\nport = 18094\n'
                    'telegram_bot_token = "1:a"\n', encoding="utf-8")
    r = csbot("serve", "--config", str(toml), cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith("设置有误：") and f"设置文件 {toml} 的 telegram_secret_token" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr
