"""`csbot train --report DIR`: a folder of saved sessions summarised per trainee."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.engine import Engine
from bot.training.persona import find_persona
from bot.training.rubric import load_rubric
from bot.training.session import Session, run_scripted
from bot.training.team import Trainee, by_trainee, read_sessions
from bot.training.transcript import TranscriptFiles

TRAINEES = Path(__file__).parent / "data" / "trainees"


def replies(name: str) -> list[str]:
    return [ln for ln in (TRAINEES / name).read_text(encoding="utf-8").splitlines() if ln.strip()]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory, engine: Engine) -> Path:
    """小王 fails the bad-reviewer then passes it; 小李 passes one session; one unfinished file."""
    rubric = load_rubric(engine.dialogs)
    out = tmp_path_factory.mktemp("sessions")
    plays = [("小王", "pro_bad_reviewer", "poor", "20261201-090000"),
             ("小王", "pro_bad_reviewer", "good", "20261202-090000"),
             ("小王", "size_not_fit_first_time", "good", "20261203-090000"),
             ("小李", "slow_delivery_first_time", "good", "20261201-100000")]
    for trainee, persona, quality, stamp in plays:
        s = Session(engine, find_persona(engine.dialogs, persona), rubric, 1, trainee=trainee)
        files = TranscriptFiles(out, persona, 1, stamp=stamp)
        s.add_sink(files.write)
        run_scripted(s, replies(f"{persona}.{quality}.txt"))
        files.close(rubric.rubric.labels)
    (out / "half-seed1-20261204-000000.jsonl").write_text('{"type": "header"}\n', encoding="utf-8")
    return out


def test_the_terminal_table_per_trainee(folder: Path) -> None:
    r = CliRunner().invoke(main, ["train", "--report", str(folder)], terminal_width=200)
    assert r.exit_code == 0, r.output
    assert "客服培训汇总" in r.output and "小王" in r.output and "小李" in r.output
    assert "没有结束" in r.output or "跳过" in r.output  # the unfinished file is named, not fatal


def test_csv_has_scores_over_time_findings_and_failed_personas(folder: Path) -> None:
    r = CliRunner().invoke(main, ["train", "--report", str(folder), "--format", "csv"])
    assert r.exit_code == 0, r.output
    raw = r.stdout_bytes
    assert raw.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    head, wang = table[0], next(row for row in table if row[:1] == ["小王"])
    assert head[0] == "学员" and wang[1] == "3"
    scores = [int(x) for x in wang[4].split(" → ")]
    assert len(scores) == 3 and scores[0] < scores[1], "oldest first: the poor session came first"
    assert "职业" in wang[6] or "差评" in wang[6], wang  # the bad-reviewer persona, failed once
    assert "（1/2 次未通过）" in wang[6]


def test_html_is_one_offline_page(folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "team.html"
    r = CliRunner().invoke(main, ["train", "--report", str(folder), "--format", "html", "-o", str(out)])
    assert r.exit_code == 0, r.output
    page = out.read_text(encoding="utf-8")
    assert "<script" not in page and "http" not in page.replace("http-equiv", "")
    assert page.count("<svg") == 2 and "小王" in page


def test_an_empty_folder_is_a_message(tmp_path: Path) -> None:
    r = CliRunner().invoke(main, ["train", "--report", str(tmp_path)])
    assert r.exit_code == 1 and "没有已经结束的练习记录" in r.output


def test_the_terminal_table_wraps_as_chinese_does_at_80_columns(folder: Path) -> None:
    # No cell line starts with "、" or a closing bracket, and no number is cut in two.
    r = CliRunner().invoke(main, ["train", "--report", str(folder)], env={"COLUMNS": "80"})
    assert r.exit_code == 0, r.output
    cells = [c.strip() for line in r.output.splitlines() if line.startswith("│") for c in line.split("│")[1:-1]]
    assert cells and not [c for c in cells if c[:1] in set("、，。；：）」")], r.output
    assert max(len(line) for line in r.output.splitlines()) <= 80


def _played(engine: Engine, tmp_path: Path, persona: str, seed: int, name: str,
            replies: list[str]) -> tuple[Session, Trainee]:
    """One scripted session written as transcript files, read back: the session and its trainee."""
    rubric = load_rubric(engine.dialogs)
    s = Session(engine, find_persona(engine.dialogs, persona), rubric, seed, trainee=name)
    files = TranscriptFiles(tmp_path, persona, seed, stamp="20261207-090000")
    s.add_sink(files.write)
    run_scripted(s, replies)
    files.close(rubric.rubric.labels)
    played, _ = read_sessions(tmp_path)
    (trainee,) = by_trainee(played)
    return s, trainee


def test_a_habit_on_every_reply_counts_once_a_session(engine: Engine, tmp_path: Path) -> None:
    casual = ["林先生你好，我是暖暖生活馆的售后客服小周，请问是林志明先生吗？",
              "你9月20日在我们店买的那个500毫升不锈钢保温杯，还记得吗？",
              "实在抱歉，保温杯不保温，让你失望了。"]
    s, trainee = _played(engine, tmp_path, "traditional_chinese_buyer", 1, "小赵", casual)
    assert [v.code for v in s.scorecard.violations].count("informal_you") == 3  # type: ignore[union-attr]
    assert trainee.common_findings() == [("informal_you", 1)]


def test_a_finding_that_failed_the_session_is_not_cut_from_the_common_ones(
        engine: Engine, tmp_path: Path) -> None:
    # Four findings, each in one session: the bribe that failed it was the fourth found and fell
    # off the top three behind saying 你; the lead must see it first.
    bad = ["在吗", "你好，我们是栖木家居，你那个差评能不能删一下",
           "颜色是你家灯光的问题吧，图片都是实拍的，你自己没看清楚",
           "这样吧，给你返20块钱红包，你把差评改成好评，行不行"]
    s, trainee = _played(engine, tmp_path, "keeps_review_experienced", 2, "小吴", bad)
    codes = [c for c, _ in trainee.common_findings()]
    assert len(dict.fromkeys(v.code for v in s.scorecard.violations)) > 3  # type: ignore[union-attr]
    assert codes[0] == "conditional_benefit", codes
    r = CliRunner().invoke(main, ["train", "--report", str(tmp_path), "--format", "csv"])
    row = next(row for row in csv.reader(io.StringIO(r.stdout_bytes.decode("utf-8-sig"))) if row[:1] == ["小吴"])
    assert row[5].startswith("把好处和评价挂钩×1"), row
