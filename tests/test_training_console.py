"""The training console, driven in a pseudo-terminal as a trainee would; `csbot train --json`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest
from click.testing import CliRunner

from bot.cli import main

ROOT = Path(__file__).resolve().parent.parent
PROMPT = "客服（你）>"
PERSONA = "slow_delivery_first_time"


def _spawn(out: Path, *extra: str) -> pexpect.spawn:
    env = {**os.environ, "PYTHONHASHSEED": "random", "COLUMNS": "120", "LINES": "40"}
    env.pop("CSBOT_DIALOGS", None)
    return pexpect.spawn(sys.executable, ["-m", "bot", "train", "--persona", PERSONA,
                                          "--seed", "2", "--out", str(out), *extra],
                         cwd=str(ROOT), env=env, encoding="utf-8", timeout=60,
                         dimensions=(40, 120))


def _saved(out: Path) -> list[tuple[list[dict[str, object]], str]]:
    runs = []
    # in the order the sessions were saved
    for jsonl in sorted(out.glob("*.jsonl"), key=lambda f: f.stat().st_mtime_ns):
        events = [json.loads(ln) for ln in jsonl.read_text(encoding="utf-8").splitlines()]
        runs.append((events, jsonl.with_suffix(".md").read_text(encoding="utf-8")))
    return runs


@pytest.mark.parametrize("hint,restart,quit_", [("/hint", "/restart", "/quit"), ("/提示", "/重来", "/结束")])
def test_trainee_types_asks_for_a_hint_restarts_and_quits(tmp_path: Path, hint: str, restart: str,
                                                          quit_: str) -> None:
    out = tmp_path / "我的练习"
    child = _spawn(out)
    try:
        child.expect("csbot 客服培训")
        child.expect("耳机音质还可以")  # the review is on the case card
        child.expect("阶段")
        child.expect(PROMPT)
        child.sendline("林晓您好，我是悦途数码的售后客服小安，请问是林晓本人吗？")
        child.expect("识别到：问候确认")
        child.expect("买家 林晓：")
        child.expect("是我")
        child.expect("确认商品")  # the stage moved on and is shown
        child.expect(PROMPT)
        child.sendline(hint)
        child.expect("csbot 会这样说")
        child.expect("耳机")  # the suggestion names the product
        child.expect(PROMPT)
        child.sendline("您11月2日在我们店买的那副白色蓝牙耳机，还记得吗？")
        child.expect("九天")
        child.expect(PROMPT)
        child.sendline(restart)
        child.expect("已保存")
        child.expect("重新开始")
        child.expect(PROMPT)
        child.sendline("你好")
        child.expect(PROMPT)
        child.sendline(quit_)
        child.expect("评分")
        child.expect("已保存")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0
    (first, first_md), (second, second_md) = _saved(out)
    assert first[0]["type"] == "header" and first[0]["persona"] == PERSONA
    types = [e["type"] for e in first]
    assert "hint" in types and types[-1] == "scorecard"
    assert first[-2] == {"type": "end", "ending": "restarted", "stage": "listen_apologize"}
    assert "林晓您好，我是悦途数码的售后客服小安" in first_md and "九天" in first_md
    assert "## 评分" in first_md and "查看了 csbot 的建议" in first_md
    assert second[-2]["ending"] == "quit" and "**客服（第 1 轮）**：你好" in second_md


def test_ctrl_c_still_saves(tmp_path: Path) -> None:
    child = _spawn(tmp_path)
    try:
        child.expect(PROMPT)
        child.sendline("林晓您好，请问是林晓本人吗？")
        child.expect(PROMPT)
        child.sendintr()
        child.expect("已保存")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    ((events, md),) = _saved(tmp_path)
    assert events[-2]["ending"] == "interrupted" and events[-1]["type"] == "scorecard"
    assert "林晓您好，请问是林晓本人吗？" in md


def test_closed_terminal_still_saves(tmp_path: Path) -> None:
    child = _spawn(tmp_path)
    try:
        child.expect(PROMPT)
        child.sendline("林晓您好，请问是林晓本人吗？")
        child.expect("买家 林晓：")
        child.expect(PROMPT)
        child.kill(signal.SIGHUP)  # what the terminal sends when its window is closed
        child.expect(pexpect.EOF)
    finally:
        child.close()
    ((events, md),) = _saved(tmp_path)
    assert [e["type"] for e in events][-2:] == ["end", "scorecard"]
    assert "林晓您好" in md and "## 评分" in md


def test_the_console_says_on_the_turn_why_points_will_come_off(tmp_path: Path) -> None:
    child = _spawn(tmp_path)
    try:
        child.expect(PROMPT)
        child.sendline("林晓你好，我是悦途数码的售后客服小安，请问是林晓本人吗？")
        child.expect("【注意】对买家称“你”显得随意")  # the rubric's own finding, on the turn
        child.expect(PROMPT)
        child.sendline("嗯嗯")
        child.expect("【注意】这一句没有推进任何一步")
        child.expect(PROMPT)
        child.sendline("/quit")
        child.expect("第 1 轮 称呼买家用了“你”：扣 3 分")
        child.expect("第 2 轮 这一句没有推进，买家只好再问或离开：扣 5 分")
        child.expect(pexpect.EOF)
    finally:
        child.close()


def test_train_lists_personas_as_json() -> None:
    result = CliRunner().invoke(main, ["train", "--json"])
    assert result.exit_code == 0, result.output
    listed = json.loads(result.output)
    assert len(listed) >= 8
    assert all(set(p) == {"id", "kind", "title"} for p in listed)
    assert {p["kind"] for p in listed} == {"first_time", "experienced", "malicious"}
    assert PERSONA in [p["id"] for p in listed]


def test_train_without_options_lists_ids_and_titles() -> None:
    result = CliRunner().invoke(main, ["train"])
    assert result.exit_code == 0
    # the product and the review, not the title ("第一次网购的大学生" tells the kind of buyer)
    assert PERSONA in result.output and "白色蓝牙耳机" in result.output
    assert "等了九天才到" in result.output and "第一次网购" not in result.output


def test_csbot_train_json_as_a_command() -> None:
    done = subprocess.run([sys.executable, "-m", "bot", "train", "--json"], cwd=ROOT,
                          capture_output=True, check=True, timeout=60)
    assert PERSONA in [p["id"] for p in json.loads(done.stdout.decode("utf-8"))]


def test_replies_print_the_scorecard_json(tmp_path: Path) -> None:
    replies = ROOT / "tests" / "data" / "trainees" / f"{PERSONA}.good.txt"
    result = CliRunner().invoke(main, ["train", "--persona", PERSONA, "--seed", "4",
                                       "--replies", str(replies)])
    assert result.exit_code == 0, result.output
    card = json.loads(result.output)
    assert set(card) == {"persona", "seed", "total", "passed", "stages", "violations",
                         "outcome", "turns", "tips", "kind", "computation"}
    assert card["computation"]["total"] == card["total"]
    assert card["persona"] == PERSONA and card["seed"] == 4 and card["passed"]
    assert all(set(s) == {"score", "max"} for s in card["stages"].values())
    assert not list(tmp_path.iterdir())  # nothing saved unless --out is given


def test_unknown_persona_is_a_usage_error() -> None:
    # A wrong option value, not broken data: exit 2 (usage), with the personas to pick from.
    result = CliRunner().invoke(main, ["train", "--persona", "nobody"])
    assert result.exit_code == 2, result.output
    assert "错误：'--persona' 的值不对：没有这个人设：nobody。可选：" in result.output
    assert "slow_delivery_first_time" in result.output and "Traceback" not in result.output
