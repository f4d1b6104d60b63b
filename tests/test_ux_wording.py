"""What a demanding user reads: one register (您) in a rewritten reply, traditional replies that
keep the shop's words, the trainer's scorecard lines, one name per label kind."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from bot.engine import Engine
from bot.paths import dialogs_dir
from bot.training.console import TrainingConsole
from bot.training.persona import find_persona
from bot.training.rubric import load_rubric
from bot.training.session import Session
from bot.understand.normalize import to_traditional
from tests.shared import shared_engine

ENGINE = shared_engine()


def _rewrite(text: str) -> str:
    """The rewrite of the conditional-benefit finding on ``text``."""
    found = [f for f in ENGINE.understand.findings(text) if f.code == "conditional_benefit"]
    assert found, f"没有拦下：{text}"
    assert found[0].rewrite is not None
    return found[0].rewrite


@pytest.mark.parametrize(("draft", "kept"), [
    ("给你发个5元红包，你给个好评吧", "给您发个5元红包"),
    ("你先把差评删了，我马上给你退10块钱", "我给您退10块钱"),
    ("亲，给你寄个迷你风扇，你改个好评呗", "给您寄个迷你风扇"),  # 迷你 is a word, not "you"
])
def test_a_rewrite_says_nin_throughout(draft: str, kept: str) -> None:
    """The agent's benefit clause is kept in the rewrite; it used to keep its 你 beside the
    template's 您 (给你发个5元红包，……给您添麻烦了)."""
    rewrite = _rewrite(draft)
    assert rewrite.startswith(kept), rewrite
    assert "给您添麻烦了" in rewrite
    assert "你" not in rewrite.replace("迷你", "")
    assert ENGINE.understand.findings(rewrite) == []  # the rewrite itself is clean


@pytest.mark.parametrize(("simplified", "traditional"), [
    # the templates' words: Taiwan vocabulary (s2twp) would say 支援, 釋出, 儲存好發票, 檢視
    ("感谢您的理解和支持！", "感謝您的理解和支持！"),
    ("追评在发布后30天内都可以改", "追評在發佈後30天內都可以改"),
    ("麻烦您保存好发票和照片", "麻煩您保存好發票和照片"),
    ("我们已查看当时的聊天记录", "我們已查看當時的聊天記錄"),
    # product words stay what the order says (s2twp: 隨身碟, 滑鼠)
    ("给您补发一个新的U盘", "給您補發一個新的U盤"),
    ("无线鼠标的电池", "無線鼠標的電池"),
])
def test_traditional_replies_change_characters_not_words(simplified: str, traditional: str) -> None:
    assert to_traditional(simplified) == traditional


def test_a_traditional_buyer_gets_traditional_replies_with_names_as_given() -> None:
    conv, _ = ENGINE.start({"shop": "台湾小铺", "buyer_name": "陳美玲", "agent": "小云",
                            "product": "北欧实木餐椅", "order_date": "2026-05-03"})
    conv, _ = ENGINE.feed(conv, "agent", "您好，请问是陳美玲吗？我是台湾小铺的售后客服小云")
    conv, sug = ENGINE.feed(conv, "buyer", "對，是我。椅子收到就是壞的，椅腳裂開了")
    texts = [s.text for s in sug.suggestions]
    assert texts and all("們" in t or "您" in t for t in texts)
    assert not any(ch in "".join(texts) for ch in "们这给让说问题")  # no simplified form left
    assert all("你" not in t for t in texts)


def test_the_scorecard_says_one_fact_a_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """At 80 columns the run-together line broke before "；用了 7 轮"."""
    folder = dialogs_dir(None)
    persona, rubric = find_persona(folder, "traditional_chinese_buyer"), load_rubric(folder)
    replies = ["林先生您好，我是暖暖生活馆的客服小周",
               "您9月20号在我们店买了一个500毫升的保温杯，还记得吗",
               "非常抱歉给您添麻烦了，保温效果不好确实是我们的问题，换谁都会生气",
               "这批杯子的真空层可能封得不好，我们已经反馈给工厂了",
               "给您换一个新的，或者直接退款，您看哪个方便",
               "好的，新杯子发出前我们会先测一遍保温，再次抱歉，谢谢您的耐心，欢迎下次光临",
               "/结束"]
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(replies) + "\n"))
    out = io.StringIO()
    console = Console(file=out, width=80, highlight=False, color_system=None)
    TrainingConsole(console, lambda: Session(ENGINE, persona, rubric, 3), tmp_path,
                    rubric.rubric.labels).run()
    lines = out.getvalue().splitlines()
    assert not [ln for ln in lines if ln.startswith(("；", "，", "）"))]
    ending = next(ln for ln in lines if ln.startswith("结束方式："))
    assert ending == "结束方式：客服道别，对话结束（最后阶段：已结束，用了 6 轮）"
    assert any(ln.startswith("问题解决：是（买家选了：换货") for ln in lines)
    assert any(ln.startswith("评价请求：") for ln in lines)
    assert not [ln for ln in lines if ln.strip().startswith("✗ ")]  # full marks: nothing lost


def test_one_name_per_kind_in_queue_sidebar_card_and_report(engine: Engine) -> None:
    from bot.insights.labels import Labels as ReportLabels

    labels = engine.labels
    assert labels.heading("cause") == "原因"
    assert labels.table()["kind"]["cause"] == "原因"  # what the sidebar reads
    report = ReportLabels.from_engine(engine)
    assert report.name("kind", "cause") == "原因" and report.name("kind", "stage") == labels.heading("stage")
    assert report.name("kind", "agent") == "客服"  # the report's own kinds stay its own


@pytest.mark.parametrize("args", [["lint", "没有这个文件.txt"], ["analyze", "--role", "buyer", "没有这个文件.txt"],
                                  ["train", "--persona", "busy_office_worker", "--replies", "没有这个文件.txt"]])
def test_a_missing_file_is_said_in_chinese(args: list[str], tmp_path: Path) -> None:
    from click.testing import CliRunner

    from bot.cli import main

    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert "没有这个文件.txt：没有这个文件或文件夹" in result.output
    assert "No such file" not in result.output and "[FILE]" not in result.output
    folder = CliRunner().invoke(main, ["lint", str(tmp_path)])
    assert folder.exit_code == 2 and "这是一个文件夹，不是文件" in folder.output


def _bar(sug: object, paused_at: str | None = None, width: int = 110) -> str:
    """The stage bar as the terminal shows it, with its colours as markup."""
    from bot.channels.console import stage_bar

    return stage_bar(sug, width, paused_at)  # type: ignore[arg-type]


def test_the_stage_bar_shows_where_a_held_case_paused_and_what_is_done() -> None:
    conv, _ = ENGINE.start({"shop": "柚子家女装", "buyer_name": "周敏", "honorific": "女士", "product": "连衣裙"})
    conv, sug = ENGINE.feed(conv, "agent", "您好，请问是周女士吗？")
    conv, sug = ENGINE.feed(conv, "buyer", "是我，颜色跟图片差太多了")
    assert sug.stage.id == "listen_apologize"
    bar = _bar(sug)
    assert "[dim]确认身份[/] → [dim]确认商品[/] → [bold green]倾听致歉[/] → 解释原因" in bar
    # The buyer is in a meeting: the case is held; the bar says where the main path stopped.
    conv, sug = ENGINE.feed(conv, "buyer", "我在开会，晚上再说吧")
    assert sug.stage.id == "callback"
    bar = _bar(sug, "listen_apologize")
    assert bar.startswith("[bold]阶段：约定回访（暂停）[/]")
    assert "[dim]确认商品[/] → [bold yellow]倾听致歉[/] → 解释原因" in bar
    # An ended script: every step done, none marked as the current one.
    conv, sug = ENGINE.start({"shop": "柚子家女装", "buyer_name": "周敏", "honorific": "女士", "product": "连衣裙"})
    for role, text in [("agent", "您好，请问是周女士吗？"), ("buyer", "是我，颜色跟图片差太多了"),
                       ("agent", "非常抱歉，颜色和图片差这么多，换谁都会失望，给您添麻烦了。"),
                       ("agent", "这批面料染色和样图有偏差，我们已经反馈给工厂质检了。"),
                       ("agent", "我们可以给您免费换货，来回运费我们承担，或者直接退款，您看哪种方便？"),
                       ("buyer", "那就换货吧"),
                       ("agent", "好的，马上给您安排换货，评价您怎么决定都可以。"), ("buyer", "行吧"),
                       ("agent", "再次抱歉给您添麻烦了，谢谢您的耐心，欢迎下次再来，祝您生活愉快！")]:
        conv, sug = ENGINE.feed(conv, role, text)  # type: ignore[arg-type]
    assert sug.stage.id == ENGINE.script.final
    bar = _bar(sug)
    assert "bold green" not in bar and "[dim]确认身份[/]" in bar and "[dim]致谢结束[/]" in bar


def test_a_correction_takes_part_of_a_name_and_asks_back_when_two_fit(engine: Engine) -> None:
    """/原因 质量 was refused with the whole list, though only 质量问题 fits."""
    labels = engine.labels
    assert labels.code("cause", "质量") == "quality" and labels.code("cause", "假货") == "counterfeit"
    assert labels.code("stage", "解释") == "explain" and labels.code("outcome", "解决") == "resolved"
    assert labels.code("cause", "发错") == "wrong_missing"  # in its spoken form, 发错、漏发的问题
    with pytest.raises(ValueError, match="“改评”可以是：已改评、未改评，请写全"):
        labels.code("outcome", "改评")
    with pytest.raises(ValueError, match="没有这个原因：包装"):
        labels.code("cause", "包装")


def test_the_trainers_notes_wrap_as_chinese(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rich broke "超过 30 天" at its space (a line "…超过 30", the next "天或已改过一次…")
    and put 》 at the head of a line."""
    folder = dialogs_dir(None)
    persona, rubric = find_persona(folder, "poor_quality_experienced"), load_rubric(folder)
    replies = ["你好", "你买的水壶怎么了", "那是你自己用的不对吧", "好评返现10元，你改一下评价吧", "/结束"]
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(replies) + "\n"))
    out = io.StringIO()
    console = Console(file=out, width=90, highlight=False, color_system=None)
    TrainingConsole(console, lambda: Session(ENGINE, persona, rubric, 2), tmp_path, rubric.rubric.labels).run()
    text = out.getvalue()
    assert "超过 30 天" in text.replace("\n", "") and "第4轮【禁止】" in text
    lines = text.splitlines()
    assert not [ln for ln in lines if ln.rstrip().endswith("30") or ln.startswith(("天", "》", "，", "。"))]
    # The points lost are on screen, for the steps the talk reached (it ended while listening).
    missed = [ln.strip() for ln in lines if ln.strip().startswith("✗ ")]
    assert "✗ 确认身份：用名字和正确的称呼确认（只说“在吗”不算）（4 分）" in missed
    assert "✗ 倾听致歉：听完问题先道歉（5 分）" in missed
    assert not [m for m in missed if m.startswith(("✗ 解释原因", "✗ 提出补救", "✗ 致谢结束"))]


def test_the_queue_filters_by_the_status_it_shows(tmp_path: Path) -> None:
    """The table says 已超时; --status took only overdue."""
    import json

    from click.testing import CliRunner

    from bot.cli import main

    runner = CliRunner(env={"CSBOT_CONFIG": None, "CSBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'csbot.db'}"})
    sample = Path(__file__).resolve().parent.parent / "docs" / "samples" / "reviews.csv"
    assert runner.invoke(main, ["import", str(sample)]).exit_code == 1  # its two bad rows are skipped

    def ids(status: str) -> list[str]:
        result = runner.invoke(main, ["queue", "--json", "--status", status])
        assert result.exit_code == 0, result.output
        return [i["conversation_id"] for i in json.loads(result.output)["items"]]

    overdue = ids("overdue")
    assert overdue and ids("已超时") == overdue == ids("超时")
    bad = runner.invoke(main, ["queue", "--status", "紧急"])
    assert bad.exit_code == 2 and "没有“紧急”这个状态（可选：待联系、处理中、待回访、已超时）" in bad.output


def _serve(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    from click.testing import CliRunner

    from bot.cli import main

    runner = CliRunner(env={"CSBOT_CONFIG": None, "CSBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'csbot.db'}",
                            **(env or {})})
    result = runner.invoke(main, ["serve", *args])
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def test_serve_says_what_is_wrong_in_chinese_not_a_traceback(tmp_path: Path) -> None:
    assert _serve(tmp_path, env={"CSBOT_PORT": "abc"}) == (
        2, "设置有误：port：应为整数，实际是 'abc'。请检查环境变量 CSBOT_PORT。\n")
    code, out = _serve(tmp_path, "--port", "99999")
    assert code == 2 and "port：应不大于 65535" in out
    code, out = _serve(tmp_path, "--db", "mysql2://localhost/x")
    assert code == 3 and "不认识的数据库类型“mysql2”" in out


def test_serve_on_a_port_in_use_or_a_missing_folder_says_so(tmp_path: Path) -> None:
    # In a process of its own: the store's driver thread outlives a failed start in pytest's.
    import os
    import socket
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent

    def serve(port: int, db: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "bot", "serve", "--port", str(port), "--db", db],
                              capture_output=True, text=True, timeout=120, cwd=root,
                              env={**os.environ, "PYTHONPATH": str(root)})

    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        unused = free.getsockname()[1]
    done = serve(unused, f"sqlite:///{tmp_path}/没有这个文件夹/csbot.db")
    assert done.returncode == 3, done.stderr
    # Only the message: no driver thread prints "Event loop is closed" after it (tests/test_open_errors.py).
    assert done.stderr == (f"无法打开数据库 sqlite:///{tmp_path}/没有这个文件夹/csbot.db："
                           "打不开数据库文件：文件夹不存在或没有权限（可用 --db 指定，或设置 CSBOT_DATABASE_URL）\n")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = serve(port, f"sqlite:///{tmp_path / 'csbot.db'}")
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr == (f"无法启动服务：127.0.0.1:{port} 已经被占用"
                           "（另一个 csbot serve 还在运行？用 --port 换一个端口）\n")


@pytest.mark.parametrize(("broken", "said"), [
    ("remedies:\n\tx: 1\n", "Tab 缩进请改用空格"),
    ("remedies: 换货: 来回运费我们出\n", "这里不能有冒号“:”（值里有冒号时，给整个值加上引号）"),
    ("remedies:\n  - 换货\n - 退款\n", "这里应该是一个键：缩进没对齐？"),
    ("remedies: [换货, 退款\n", "方括号 […] 里缺少逗号或右方括号 ]"),
    ('remedies: "换货\n', "文件结束了，引号或括号还没有合上"),
])
def test_a_shops_broken_yaml_is_explained_in_chinese(tmp_path: Path, broken: str, said: str) -> None:
    import shutil

    from click.testing import CliRunner

    from bot.cli import main

    dialogs = tmp_path / "dialogs"
    shutil.copytree(dialogs_dir(None), dialogs, ignore=shutil.ignore_patterns("corpus", "model"))
    (dialogs / "remedies.yaml").write_text(broken, encoding="utf-8")
    result = CliRunner().invoke(main, ["check", "--dialogs", str(dialogs)])
    assert result.exit_code == 3
    line = next(ln for ln in result.output.splitlines() if "remedies.yaml" in ln)
    assert "数据文件格式错误（不是合法的 YAML）" in line and said in line and "（YAML：" in line


def test_the_order_date_as_agents_say_it() -> None:
    """'上周三' was refused at assist's first question."""
    from datetime import date

    from bot.periods import parse_day

    friday = date(2026, 12, 4)  # a Friday
    assert parse_day("周三", friday) == date(2026, 12, 2) == parse_day("星期三", friday)
    assert parse_day("上周三", friday) == date(2026, 11, 25) == parse_day("上礼拜三", friday)
    assert parse_day("上上周日", friday) == date(2026, 11, 22)
    assert parse_day("周五", friday) == friday  # today is the latest such day
    assert parse_day("3号", friday) == date(2026, 12, 3)
    assert parse_day("20号", friday) == date(2026, 11, 20)  # still to come this month: last month's
    assert parse_day("5月3日", friday) == date(2026, 5, 3)
    with pytest.raises(ValueError, match=r"看不懂这个日期：“下下周”（可以写 .*上周三）"):
        parse_day("下下周", friday)
    with pytest.raises(ValueError, match="没有这一天：31号"):
        parse_day("31号", date(2026, 11, 4))


@pytest.mark.parametrize(("args", "said"), [
    (["purge", "--days", "0", "--dry-run"], "错误：'--days' 的值不对：应不小于 1，收到的是 0。"),
    (["queue", "--limit", "0"], "错误：'--limit' 的值不对：应在 1 到 10000 之间，收到的是 0。"),
])
def test_a_number_out_of_range_is_said_in_words(args: list[str], said: str) -> None:
    """click's range reads 0 不在 x>=1 范围内: a formula, not what a team lead reads."""
    from click.testing import CliRunner

    from bot.cli import main

    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2 and said in result.stderr, result.stderr
    assert "x>=" not in result.output and "<=x" not in result.output
