"""csbot assign, queue --agent/--mine and contact as an admin and agents type them."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "docs" / "samples" / "reviews.csv"


def test_assign_queue_and_contact(tmp_path: Path) -> None:
    hour = datetime.now(ZoneInfo("Asia/Shanghai")).hour
    quiet_now = f"{hour:02d}:00-{(hour + 2) % 24:02d}:00"
    quiet_later = f"{(hour + 3) % 24:02d}:00-{(hour + 5) % 24:02d}:00"
    env = {**os.environ, "CSBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}", "CSBOT_SHOP": "柚子家女装",
           "CSBOT_QUIET_HOURS": quiet_later}

    def run(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True,
                              cwd=tmp_path, env={**env, **extra}, timeout=120)

    assert run("import", str(SAMPLE)).returncode == 1  # the sample's two bad rows; the rest is in
    items = json.loads(run("queue", "--json").stdout)["items"]
    last = items[-1]["conversation_id"]
    r = run("assign", last[:8], "--agent", "小林")
    assert r.returncode == 0 and r.stdout.strip() == f"案例 {last[:8]} 已分配给 小林"
    mine = json.loads(run("queue", "--json", "--agent", "小林").stdout)["items"]
    assert mine[0]["conversation_id"] == last and mine[0]["assigned_to"] == "小林"
    only = json.loads(run("queue", "--json", "--agent", "小林", "--mine").stdout)
    assert only["total"] == 1
    r = run("queue", "--mine")
    assert r.returncode == 2 and "--mine 需要同时用 --agent 指定客服" in r.stderr
    assert run("assign", last[:8], "--none").stdout.strip() == f"案例 {last[:8]} 已取消分配，回到队列"
    r = run("assign", "zz", "--agent", "小林")
    assert r.returncode == 2 and "案例编号“zz”不对" in r.stderr

    # Quiet hours now: warned, and nothing is recorded without --yes.
    r = run("contact", last[:8], "--kind", "no_answer", CSBOT_QUIET_HOURS=quiet_now)
    assert r.returncode == 1 and "现在是买家的休息时间" in r.stderr and "没有记录" in r.stderr
    r = run("contact", last[:8], "--kind", "no_answer", "--yes", CSBOT_QUIET_HOURS=quiet_now)
    assert r.returncode == 0 and f"已记录案例 {last[:8]} 的第 1 次联系（未接通/未回复）" in r.stdout
    assert run("contact", last[:8], "--check").stdout.strip() == f"案例 {last[:8]} 已联系 1 次，还可以联系 2 次"
    assert run("contact", last[:8], "--kind", "callback").returncode == 0
    r = run("contact", last[:8])
    assert r.returncode == 0 and "这是最后一次联系（第 3 次，最多 3 次）。" in r.stderr
    r = run("contact", last[:8])
    assert r.returncode == 1 and "不能再联系：这个案例已经联系了 3 次" in r.stderr
    item = next(i for i in json.loads(run("queue", "--json").stdout)["items"] if i["conversation_id"] == last)
    assert item["attempts"] == 3 and item["urgency"] == 0


def test_a_database_that_cannot_be_opened_is_told_in_chinese(tmp_path: Path) -> None:
    r = subprocess.run([sys.executable, "-m", "bot", "queue", "--db", "postgresql://csbot:pw@127.0.0.1:1/x"],
                       capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert r.returncode == 3 and "Traceback" not in r.stderr
    assert r.stderr.startswith("无法打开数据库 postgresql://csbot:***@127.0.0.1:1/x：") and "pw" not in r.stderr


def test_queue_stays_readable_in_an_80_column_terminal(tmp_path: Path) -> None:
    # Ten columns left the reasons two cells wide at 80 columns: one character a line.
    env = {**os.environ, "CSBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}", "CSBOT_SHOP": "柚子家女装"}

    def run(*args: str, columns: int = 80, code: int = 0) -> str:
        r = subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True, cwd=tmp_path,
                           env={**env, "COLUMNS": str(columns)}, timeout=120)
        assert r.returncode == code, r.stderr
        return r.stdout

    run("import", str(SAMPLE), code=1)  # the sample's two bad rows are skipped: exit 1
    narrow = run("queue")
    assert "疑似恶意评价：不要" in narrow and "买家情绪激动" in narrow
    assert "│ 阿**宝 " in narrow and "│ 真皮短靴 37码 " in narrow
    wide = run("queue", columns=140)
    header = wide.splitlines()[2]  # wide enough: one column a field
    assert "订单号" in header and "负责人" in header and "原因" in header


def test_queue_reasons_wrap_as_chinese_does(tmp_path: Path) -> None:
    # The reasons cell broke "12-20" into "1" / "2-20" and started a line with "）".
    env = {**os.environ, "CSBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}", "CSBOT_SHOP": "柚子家女装"}
    imported = subprocess.run([sys.executable, "-m", "bot", "import", str(SAMPLE)], capture_output=True, text=True,
                              cwd=tmp_path, env=env, timeout=120)
    assert imported.returncode == 1, imported.stderr  # the sample's two bad rows; the rest is in
    for columns in (80, 100):
        out = subprocess.run([sys.executable, "-m", "bot", "queue"], capture_output=True, text=True, cwd=tmp_path,
                             env={**env, "COLUMNS": str(columns)}, timeout=120, check=True).stdout
        reasons = [line.split("│")[-2].strip() for line in out.splitlines() if line.startswith("│")]
        assert reasons and not [r for r in reasons if r[:1] in set("、，。；：）")], out
        assert not [(a, b) for a, b in itertools.pairwise(reasons)
                    if a[-1:].isdigit() and b[:1].isdigit()], out
