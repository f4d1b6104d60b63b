"""Benchmark: `csbot import` of a 10,000-row review export into a fresh SQLite database,
against a Python process that reads the same CSV and inserts its rows into one SQLite table
in one transaction (the floor: no validation, no understanding, no cases). Same run; the
ratio is what to compare between machines. Also the same file imported again (every row
found already) and `csbot queue --json` over the cases it opened.

    python bench/intake.py [--rows 10000] [--postgresql URL]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = """
import csv, sqlite3, sys
rows = list(csv.reader(open(sys.argv[1], encoding="utf-8-sig", newline="")))[1:]
db = sqlite3.connect(sys.argv[2])
db.execute("CREATE TABLE r (o TEXT, s TEXT, b TEXT, p TEXT, rating TEXT, t TEXT, at TEXT, UNIQUE (o, s))")
with db:
    db.executemany("INSERT OR IGNORE INTO r VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
"""


def export(path: Path, n: int) -> None:
    """An export as shops download it: a third each 好评/中评/差评, texts as buyers type them."""
    texts = [json.loads(x)["text"] for x in (ROOT / "tests/data/buyer_dev.jsonl").read_text(
        encoding="utf-8").splitlines() if x.strip()]
    lines = ["订单编号,子订单,买家昵称,宝贝,评价结果,评价内容,评价时间"]
    for i in range(n):
        text = texts[i % len(texts)].replace('"', "'").replace("\n", " ")
        lines.append(f'{3700000000000 + i},{i},买家{i % 977},商品{i % 50},{("差评", "中评", "好评")[i % 3]},'
                     f'"{text}",2026-11-{1 + i % 28:02d} 10:{i % 60:02d}:00')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")


def timed(cmd: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--postgresql", default=None, help="also import into this (empty) PostgreSQL database")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "reviews.csv"
        export(path, args.rows)
        env = {**os.environ, "PYTHONPATH": str(ROOT), "CSBOT_SHOP": "压测店"}
        floor = timed([sys.executable, "-c", BASELINE, str(path), str(Path(tmp) / "floor.db")], env)
        start = timed([sys.executable, "-c", "import bot.cli, bot.engine; bot.engine.Engine.load()"], env)
        urls = [f"sqlite:///{Path(tmp) / 'csbot.db'}"] + ([args.postgresql] if args.postgresql else [])
        print(f"rows {args.rows}; baseline (csv + one-transaction insert) {floor:.2f} s; "
              f"csbot start-up with the engine {start:.2f} s")
        for url in urls:
            name = url.split(":", 1)[0]
            first = timed([sys.executable, "-m", "bot", "import", str(path), "--db", url, "--json"], env)
            again = timed([sys.executable, "-m", "bot", "import", str(path), "--db", url, "--json"], env)
            queue = timed([sys.executable, "-m", "bot", "queue", "--db", url, "--json", "--limit", "100"], env)
            print(f"{name:10}  import {first:6.2f} s ({args.rows / first:7.0f} rows/s, ratio to baseline "
                  f"{first / floor:6.1f}; without start-up {(first - start) / floor:6.1f})   "
                  f"again {again:6.2f} s   queue of {args.rows * 2 // 3} cases {queue:6.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
