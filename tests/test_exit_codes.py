"""Every command's wrong option value or missing file is a usage error (exit 2, click's
Chinese "用法…错误：…"), broken data or a database that cannot be opened a data error (exit 3):
README's promise, run through the real commands."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = str(ROOT / "docs" / "samples" / "reviews.csv")


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


@pytest.mark.parametrize(("args", "said"), [
    # A persona that does not exist is a wrong --persona, not broken data (it was exit 3).
    (["train", "--persona", "nope"], "错误：'--persona' 的值不对：没有这个人设：nope。可选：busy_office_worker、"),
    (["train", "--persona", "busy_office_worker", "--replies", "{tmp}/没有.txt"],
     "错误：读不了文件 {tmp}/没有.txt：没有这个文件或文件夹"),
    # A written answer with no buyer to answer: it listed the personas and exited 0, no scorecard.
    (["train", "--replies", str(ROOT / "tests" / "data" / "trainees" / "size_not_fit_first_time.good.txt")],
     "错误：--replies 要和 --persona 一起用：这份答案是答哪位买家的？"),
    (["train", "--seed", "1.5"], "错误：'--seed' 的值不对：'1.5' 不是合法的整数。"),
    (["import", "{tmp}/没有.csv", "--db", "sqlite:///{tmp}/c.db"],
     "错误：读不了文件 {tmp}/没有.csv：没有这个文件或文件夹"),
    (["import", "{tmp}", "--db", "sqlite:///{tmp}/c.db"], "错误：读不了文件 {tmp}：这是一个文件夹，不是文件"),
    (["import", SAMPLE, "--map", "宝贝", "--db", "sqlite:///{tmp}/c.db"],
     "错误：'--map' 的值不对：写法不对：“宝贝”，应写成 列名=字段"),
    (["import", SAMPLE, "--platform", "jd"], "错误：'--platform' 的值不对：'jd' 不是可选值之一：'taobao', 'tmall'。"),
    (["eval", "{tmp}/没有.jsonl"], "错误：读不了文件 {tmp}/没有.jsonl：没有这个文件或文件夹"),
    (["assist", "--tone", "随便"], "错误：'--tone' 的值不对：'随便' 不是可选值之一：'正式', '亲切'。"),
    (["analyze", "--role", "boss"], "错误：'--role' 的值不对：'boss' 不是可选值之一：'buyer', 'agent'。"),
    (["analyze"], "错误：缺少选项 '--role'。可选：buyer、agent"),
    (["channels", "check"], "错误：缺少参数 '渠道名'。"),
    # the argument's name as the usage line shows it (案例编号), not click's CASE_ID
    (["contact"], "错误：缺少参数 '案例编号'。"),
    (["explain"], "错误：缺少参数 '案例编号'。"),
    (["assign", "--none"], "错误：缺少参数 '案例编号'。"),
    (["serve", "--port", "abc"], "错误：'--port' 的值不对：'abc' 不是合法的整数。"),
])
def test_a_wrong_value_is_a_usage_error(tmp_path: Path, args: list[str], said: str) -> None:
    code, out = run(*(a.format(tmp=tmp_path) for a in args))
    assert code == 2, out
    assert out.startswith("用法：") and said.format(tmp=tmp_path) in out, out


def test_a_revision_csbot_cannot_upgrade_to_is_a_wrong_to(tmp_path: Path) -> None:
    code, out = run("db", "upgrade", "--db", f"sqlite:///{tmp_path}/c.db", "--to", "9999_nothing")
    assert code == 2 and "错误：'--to' 的值不对：无法把数据库结构从 空库 升级到 9999_nothing" in out, out


@pytest.mark.parametrize("command", [["db", "version"], ["db", "upgrade"], ["queue"], ["report"]])
def test_a_database_that_cannot_be_opened_is_exit_3_in_chinese(tmp_path: Path, command: list[str]) -> None:
    junk = tmp_path / "junk.db"
    junk.write_text("这不是数据库" * 200, encoding="utf-8")
    code, out = run(*command, "--db", f"sqlite:///{junk}")
    assert code == 3 and f"无法打开数据库 sqlite:///{junk}：这个文件不是数据库：是别的文件，或者已经损坏" in out, out
    code, out = run(*command, "--db", f"sqlite:///{tmp_path}/没有这个文件夹/c.db")
    missing = ("数据库文件不存在" if command == ["report"]  # the report never creates one
               else "打不开数据库文件：文件夹不存在或没有权限")
    assert code == 3 and missing in out, out


def test_learn_tells_a_place_it_cannot_write_to_before_training(tmp_path: Path) -> None:
    # Training takes minutes; an --out under a file (or anywhere unwritable) is a usage
    # error at once, and nothing is trained (no model, no folder made under the file).
    (tmp_path / "文件").write_text("x", encoding="utf-8")
    target = tmp_path / "文件" / "模型" / "x.json.gz"
    code, out = run("learn", "--quiet", "--out", str(target))
    assert code == 2, out
    assert out.startswith("用法：") and f"错误：'--out' 的值不对：写不了 {target}：路径里有一段不是文件夹" in out, out


ASSIST_CASE = ["assist", "--shop", "柚子家", "--buyer", "周敏", "--product", "跑鞋", "--order-date", ""]


@pytest.mark.parametrize("as_url", [False, True])
def test_assist_tells_a_database_it_cannot_open_in_chinese(tmp_path: Path, as_url: bool) -> None:
    """`csbot assist --db …` was a traceback for every plain path (not even a SQLAlchemy URL) and,
    as a URL, for a folder that does not exist or a file that is no database: exit 3 in Chinese."""
    def where(p: Path) -> str:
        return f"sqlite:///{p}" if as_url else str(p)

    junk = tmp_path / "junk.db"
    junk.write_text("这不是数据库" * 200, encoding="utf-8")
    result = CliRunner().invoke(main, [*ASSIST_CASE, "--db", where(junk)], input="买：你好\n/退出\n")
    assert "Traceback" not in result.output and result.exit_code == 3, result.output
    assert "这个文件不是数据库：是别的文件，或者已经损坏" in result.output, result.output
    gone = tmp_path / "没有这个文件夹" / "c.db"
    result = CliRunner().invoke(main, [*ASSIST_CASE, "--db", where(gone)], input="买：你好\n/退出\n")
    assert "Traceback" not in result.output and result.exit_code == 3, result.output
    assert "打不开数据库文件：文件夹不存在或没有权限" in result.output, result.output
    assert not gone.parent.exists()


def test_assist_takes_a_plain_path_as_the_sqlite_file(tmp_path: Path) -> None:
    """A fresh path is a new SQLite file there, as the help says (the default is csbot.db here)."""
    fresh = tmp_path / "新的.db"
    result = CliRunner().invoke(main, [*ASSIST_CASE, "--db", str(fresh)], input="买：衣服质量太差了\n/退出\n")
    assert "Traceback" not in result.output and result.exit_code == 0, result.output
    assert fresh.is_file() and fresh.stat().st_size > 0
