"""A database that cannot be opened: our Chinese message, and nothing printed after it.

aiosqlite's worker thread, when it cannot open the file, posts the end of its own stop to
the event loop; nobody awaits it, so a command that tells the error and leaves closed the
loop first and the thread printed "Event loop is closed" after our message."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from bot.store.db import Store

ROOT = Path(__file__).resolve().parent.parent


def test_a_failed_open_leaves_no_driver_thread_behind(tmp_path: Path) -> None:
    caught: list[BaseException | None] = []
    before = set(threading.enumerate())
    hook = threading.excepthook
    threading.excepthook = lambda args: caught.append(args.exc_value)
    try:
        for _ in range(20):
            with pytest.raises(OperationalError, match="unable to open database file"):
                asyncio.run(Store.open(f"sqlite:///{tmp_path}/没有这个文件夹/csbot.db"))
        for thread in set(threading.enumerate()) - before:
            thread.join()  # a driver's thread left running would print now, into `caught`
    finally:
        threading.excepthook = hook
    assert caught == []


@pytest.mark.process
def test_the_command_says_only_our_message(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/没有这个文件夹/csbot.db"
    said = (f"无法打开数据库 {url}：打不开数据库文件：文件夹不存在或没有权限"
            "（可用 --db 指定，或设置 CSBOT_DATABASE_URL）\n")
    for _ in range(12):  # it was a race: run it often enough to catch it
        done = subprocess.run([sys.executable, "-m", "bot", "queue", "--db", url], capture_output=True,
                              text=True, timeout=120, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
        assert (done.returncode, done.stderr, done.stdout) == (3, said, "")


@pytest.mark.parametrize("args", [["corrections", "export"], ["queue"], ["token", "list"], ["token", "revoke", "小林"]])
def test_a_reading_command_on_a_misspelt_sqlite_path_says_so_and_creates_nothing(tmp_path: Path,
                                                                                  args: list[str]) -> None:
    # "--db sqlite:///csbto.db" made an empty database and answered "共导出 0 条更正" / "队列是空的"
    from click.testing import CliRunner

    from bot.cli import main

    missing = tmp_path / "csbto.db"
    result = CliRunner().invoke(main, [*args, "--db", f"sqlite:///{missing}"])
    assert result.exit_code == 3, result.output
    assert f"数据库文件不存在：{missing}" in result.output and "--db" in result.output
    assert not missing.exists()
