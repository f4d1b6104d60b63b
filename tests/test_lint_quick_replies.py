"""A team lead's 30 quick replies through `csbot lint --json`: each breach found with its code
(some subtle: the month's sales hung on the review, harassment as the "or else" of a request,
the goods declared flawless against the buyer's word), every compliant line left alone, and
each block's rewrite keeping what the shop offered."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from bot.cli import main

REPLIES = Path(__file__).parent / "data" / "quick_replies_lead.txt"

# line number → the codes it must get (every other line: none)
EXPECTED = {
    6: {"conditional_benefit"}, 7: {"conditional_benefit"},
    8: {"guilt_trip"},  # 这个月就靠这点业绩了 with 把评价改一下: was let through
    9: {"blame", "conditional_benefit", "guilt_trip"},
    10: {"threat"}, 11: {"privacy"}, 12: {"privacy"}, 13: {"conditional_benefit"}, 14: {"guilt_trip"},
    15: {"conditional_benefit"}, 22: {"conditional_benefit"},
    24: {"pressure", "threat"},  # 删掉吧，不然我们只能每天给您打电话了: was only pressure (注意)
    28: {"blame"},  # 出厂前都是检验过的，不可能有问题: was let through
    29: {"conditional_benefit"}, 30: {"off_platform"},
}


def _linted() -> list[dict[str, object]]:
    r = CliRunner(env={"CSBOT_CONFIG": None, "CSBOT_DIALOGS": None}).invoke(main, ["lint", "--json", str(REPLIES)])
    assert r.exit_code == 1, r.output  # blocks found
    return [json.loads(line) for line in r.output.splitlines()]


def test_each_quick_reply_gets_exactly_its_findings() -> None:
    rows = _linted()
    assert len(rows) == 30
    got = {n: {f["code"] for f in row["findings"]} for n, row in enumerate(rows, 1)}  # type: ignore[attr-defined]
    assert {n: c for n, c in got.items() if c} == EXPECTED


def test_the_red_packet_survives_its_rewrite() -> None:
    row = _linted()[28]
    (f,) = [f for f in row["findings"] if f["code"] == "conditional_benefit"]  # type: ignore[attr-defined]
    assert f["rewrite"].startswith("作为补偿，给您发一个5元红包，不附带任何条件")


def test_the_refund_done_at_once_is_not_pressing_the_review() -> None:
    """The shipped `deal` suggestion for a price-difference case ends with the remedy's next step
    (remedies.yaml): "我核对好金额马上操作" is the agent's own haste about the refund, not the buyer's
    review to hurry; the agent who sent it was warned of 施压催促."""
    from bot.engine import Engine

    engine = Engine.load()
    text = ("退还差价本来就是我们该给您办的，跟评价没有关系，评价怎么写都由您自己决定。"
            "我核对好金额马上操作，钱会原路退回。")
    assert engine.understand.findings(text) == []
    assert "pressure" in {f.code for f in engine.understand.findings("评价的事麻烦您马上操作一下")}
