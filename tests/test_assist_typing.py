"""`csbot assist` as an agent types into it: a misspelt command, a slash from a Chinese input
method, a command without its argument, the end of a case, a date said as 昨天."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.channels.console import help_text, parse_command, unknown_command
from tests.shared import shared_engine

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONIOENCODING": "utf-8", "PYTHONPATH": str(ROOT)}
ENGINE = shared_engine()


def _assist(tmp_path: Path, stdin: str, *extra: str, env: dict[str, str] | None = None
            ) -> tuple[subprocess.CompletedProcess[str], list[tuple[str, str]]]:
    db = tmp_path / "assist.db"
    r = subprocess.run([sys.executable, "-m", "bot", "assist", "--shop", "柚子家女装", "--buyer", "周敏",
                        "--honorific", "女士", "--product", "连衣裙", "--order-date", "", "--db", f"sqlite:///{db}",
                        *extra], input=stdin, text=True, capture_output=True, env=env or ENV, cwd=ROOT,
                       timeout=120, encoding="utf-8")
    with sqlite3.connect(db) as conn:
        turns = conn.execute("SELECT role, text FROM turns ORDER BY turn").fetchall()
    return r, turns


@pytest.mark.parametrize("line", ["/帮组", "/hlep", "/foo bar", "/结速 已解决", "/Stage 解释原因x"])
def test_a_misspelt_command_is_not_a_buyer_message(line: str) -> None:
    # "/帮组" was fed to the conversation as the buyer's words: the stage moved on a typo.
    assert parse_command(line) is None or line.startswith("/Stage")
    if parse_command(line) is None:
        assert unknown_command(line) == line.split()[0]


@pytest.mark.parametrize("line", ["/:^_^ 亲在吗", "/:? 怎么回事", "/ 东西坏了", "买：/帮组", "东西坏了 /帮助"])
def test_a_buyer_line_with_a_slash_is_still_the_buyers(line: str) -> None:
    assert parse_command(line) is None and unknown_command(line) is None


@pytest.mark.parametrize(("line", "expected"), [
    ("／结束 已解决", ("end", "已解决")), ("、结束 已解决", ("end", "已解决")), ("、帮助", ("help", "")),
    ("／阶段 解释原因", ("stage", "解释原因")), ("、原因质量问题", ("cause", "质量问题")), ("／HELP", ("help", "")),
])
def test_a_slash_typed_with_a_chinese_input_method_is_a_command(line: str, expected: tuple[str, str]) -> None:
    # 搜狗、微软拼音 in Chinese mode type "/" as "、" (or a full-width "／")
    assert parse_command(line) == expected


def test_a_chinese_input_method_slash_before_other_words_stays_the_buyers() -> None:
    assert parse_command("、这个东西坏了") is None and unknown_command("、这个东西坏了") is None


def test_the_help_gives_examples_the_data_has() -> None:
    text = help_text(ENGINE.labels, ENGINE.script)
    for example in re.findall(r"如 /(?:阶段|原因|意图) (\S+)", text):
        assert any(example in names.values() for names in ENGINE.labels.names.values()), example
    renamed = {**ENGINE.labels.names["stage"], "explain": "说明原因"}
    labels = type(ENGINE.labels)(names={**ENGINE.labels.names, "stage": renamed}, spoken=ENGINE.labels.spoken,
                                 defaults=ENGINE.labels.defaults, unknown_cause=ENGINE.labels.unknown_cause)
    assert "/阶段 说明原因" in help_text(labels, ENGINE.script)
    assert "解释原因" not in help_text(labels, ENGINE.script)


def test_assist_answers_a_misspelt_command_and_records_nothing(tmp_path: Path) -> None:
    r, turns = _assist(tmp_path, "我：您好，请问是周女士吗？\n/帮组\n、状态\n/quit\n")
    assert r.returncode == 0, r.stderr
    flat = re.sub(r"\s+", "", r.stdout)
    assert "没有这个命令：/帮组" in flat and "/帮助" in flat
    assert turns == [("agent", "您好，请问是周女士吗？")]


def test_a_correction_without_its_name_lists_the_names(tmp_path: Path) -> None:
    # "/意图" alone answered "如 /意图 …": no example and no choices.
    r, _ = _assist(tmp_path, "买：衣服洗了一次就掉色\n/意图\n/原因\n/阶段\n/quit\n")
    flat = re.sub(r"\s+", "", r.stdout)
    assert "/意图…" not in flat and "/原因…" not in flat and "/阶段…" not in flat
    intents = "、".join(ENGINE.labels.names["intent"].values())
    causes = "、".join(ENGINE.labels.names["cause"].values())
    stages = "、".join(ENGINE.labels.names["stage"].values())
    assert f"可选：{intents}" in flat and f"可选：{causes}" in flat and f"可选：{stages}" in flat


def test_after_the_outcome_is_recorded_assist_does_not_ask_for_it_again(tmp_path: Path) -> None:
    r, _ = _assist(tmp_path, "买：衣服洗了一次就掉色\n/阶段 已结束\n/结束 已解决\n买：好的谢谢\n/quit\n")
    flat = re.sub(r"\s+", "", r.stdout)
    before, _, after = flat.partition("已登记结果：已解决。")
    assert "用/结束<结果>登记结果" in before
    assert after and "用/结束<结果>登记结果" not in after and "已登记结果：已解决" in after


# Two zones a day apart at every moment: the machine's clock and the shop's.
MACHINE, SHOP = "Etc/GMT+12", "Pacific/Kiritimati"


def test_an_order_date_said_as_today_is_the_shops_today(tmp_path: Path) -> None:
    # 昨天 / 今天 were read on the machine's calendar while quiet hours and 今晚八点 were the
    # shop's: on a server in UTC, 昨天 typed at 7 in the morning in Shanghai was two days ago.
    env = {**ENV, "TZ": MACHINE, "CSBOT_SHOP_TIMEZONE": SHOP}
    lines = [{"role": "agent", "text": "您好，请问是周女士吗？我是柚子家女装的售后客服"},
             {"role": "buyer", "text": "是我"}]
    r = subprocess.run([sys.executable, "-m", "bot", "assist", "--json", "--shop", "柚子家女装", "--buyer", "周敏",
                        "--product", "连衣裙", "--order-date", "今天"],
                       input="\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n", text=True,
                       capture_output=True, env=env, cwd=ROOT, timeout=120, encoding="utf-8")
    assert r.returncode == 0, r.stderr
    today = datetime.now(ZoneInfo(SHOP)).date()
    said = " ".join(s["text"] for line in r.stdout.splitlines() for s in json.loads(line)["suggestions"])
    assert f"{today.month}月{today.day}日" in said, said


def test_a_cause_the_case_already_has_is_said_so_and_not_recorded(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # `/原因 物流问题` a second time said "已更正" and stored a second correction.
    import io

    from rich.console import Console

    from bot.channels.console import run_console
    from bot.models import Case

    db = tmp_path / "c.db"
    monkeypatch.setattr("sys.stdin", io.StringIO("买：衣服洗了一次就掉色\n/原因 物流问题\n/原因 物流\n/quit\n"))
    out = io.StringIO()
    console = Console(file=out, width=120, highlight=False, color_system=None)
    assert run_console(f"sqlite:///{db}", ENGINE, Case(shop="柚子家女装", buyer_name="周敏"), console) == 0
    text = out.getvalue()
    assert text.count("已更正") == 1 and "这个案子的原因已经是“物流问题”，不用更正，没有记录。" in text, text
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT cause FROM corrections").fetchall() == [("logistics",)]


@pytest.mark.parametrize(("lines", "said"), [
    # `/阶段 提出` at 提出补救 said "已更正" and stored a correction that changed nothing
    (["买：衣服洗了一次就掉色", "/阶段 提出补救", "/stage 提出"], "现在已经是“提出补救”阶段，不用更正，没有记录。"),
    # a second `/意图 想退款` said "已更正" again, stored it again, and re-read the message (undoing a /阶段)
    (["买：衣服洗了一次就掉色", "/意图 想退款", "/intent 想退款"], "买家上一句已经是“想退款”，不用更正，没有记录。"),
])
def test_a_stage_or_intent_correction_that_changes_nothing_is_said_so_and_not_recorded(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lines: list[str], said: str) -> None:
    import io

    from rich.console import Console

    from bot.channels.console import run_console
    from bot.models import Case

    db = tmp_path / "c.db"
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join([*lines, "/quit"]) + "\n"))
    out = io.StringIO()
    console = Console(file=out, width=120, highlight=False, color_system=None)
    assert run_console(f"sqlite:///{db}", ENGINE, Case(shop="柚子家女装", buyer_name="周敏"), console) == 0
    text = out.getvalue()
    assert text.count("已更正") == 1 and said in text, text
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM corrections").fetchone() == (1,)


def test_a_new_contact_after_resume_starts_at_the_opening_not_paused(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    # `/恢复` on a closed case showed "阶段：开场（暂停）" in yellow: the opening is where a new
    # contact starts, not a held stage (约定回访, 疑似恶意, 升级处理)
    import io

    from rich.console import Console

    from bot.channels.console import run_console
    from bot.models import Case

    db = tmp_path / "c.db"
    monkeypatch.setattr("sys.stdin", io.StringIO(
        "我：您好，请问是周敏女士吗？\n买：是我\n/结束 联系不上\n/恢复\n/quit\n"))
    out = io.StringIO()
    console = Console(file=out, width=120, highlight=False, color_system=None)
    assert run_console(f"sqlite:///{db}", ENGINE, Case(shop="柚子家女装", buyer_name="周敏"), console) == 0
    text = out.getvalue()
    assert "阶段：确认商品" in text and "已登记结果：联系不上" in text, text
    after = text.split("已登记结果：联系不上", 1)[1]
    assert "阶段：开场" in after and "（暂停）" not in after, after


def test_an_intent_correction_says_what_it_became_and_whether_the_stage_follows(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`/意图 投诉` said only "已更正，并记录为训练数据。": not that 投诉 was taken as 威胁投诉, nor that
    the stage stayed put because the agent had answered since (the flow follows the newest message)."""
    import io

    from rich.console import Console

    from bot.channels.console import run_console
    from bot.models import Case

    lines = ["买：衣服洗了一次就掉色", "/意图 想退款", "我：真的很抱歉，给您添麻烦了。", "/意图 投诉", "/quit"]
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(lines) + "\n"))
    out = io.StringIO()
    console = Console(file=out, width=200, highlight=False, color_system=None)
    case = Case(shop="柚子家女装", buyer_name="周敏")
    assert run_console(f"sqlite:///{tmp_path / 'c.db'}", ENGINE, case, console) == 0
    text = out.getvalue()
    first, second = text.split("已更正：")[1:3]
    assert first.startswith("买家上一句的意图是“想退款”，并记录为训练数据。\n"), first[:80]
    assert second.startswith("买家上一句的意图是“威胁投诉”，并记录为训练数据。"
                             "您在这句之后已经回复过，阶段不跟着改"), second[:80]
