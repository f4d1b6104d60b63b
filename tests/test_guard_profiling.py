"""Profiling the buyer from data beyond this order (查到您经常买差评, 看您的购买记录经常给差评)
is use of private data (`privacy`, a block); this order's own record is not."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROFILING = ["查到您经常买差评", "看您的购买记录经常给差评", "翻了您的历史评价，差评挺多的"]
THIS_ORDER = ["您这单的订单记录我看了一下", "您这一单的订单记录显示已签收", "本单的订单记录里有您的留言"]


def test_lint_blocks_the_profile_and_passes_this_orders_record() -> None:
    r = subprocess.run([sys.executable, "-m", "bot", "lint", "--json"], input="\n".join(PROFILING + THIS_ORDER) + "\n",
                       text=True, capture_output=True, cwd=ROOT, check=False)
    rows = [json.loads(x) for x in r.stdout.splitlines()]
    found = {row["text"]: [(f["code"], f["severity"]) for f in row["findings"]] for row in rows}
    for text in PROFILING:
        assert found[text] == [("privacy", "block")], (text, found[text])
    for text in THIS_ORDER:
        assert found[text] == [], (text, found[text])
    human = subprocess.run([sys.executable, "-m", "bot", "lint"], input="查到您经常买差评\n",
                           text=True, capture_output=True, cwd=ROOT, check=False)
    assert "【禁止】泄露隐私「查到您经常买差评」" in human.stdout, human.stdout
