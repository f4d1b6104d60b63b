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
    9: {"guilt_trip", "pressure"},  # 您不改的话我们也没办法…求求您了: a plea, nothing held back (was 条件利益)
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


def _export(tmp_path: Path, encoding: str, delimiter: str = ",") -> Path:
    """The same 30 replies as 千牛 exports a quick-reply library: 分组, 快捷短语, 快捷编码. The
    group names and codes are the shop's own labels, not replies: a group called 好评返现话术
    (kept for the record) and the code hpfx must not be linted."""
    import csv
    import io

    out = io.StringIO(newline="")
    w = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    w.writerow(["分组名称", "快捷短语", "快捷编码"])
    for n, line in enumerate(REPLIES.read_text(encoding="utf-8").splitlines(), 1):
        w.writerow(["好评返现话术（已停用）" if n == 1 else "售后", line, "hpfx" if n == 1 else f"sh{n}"])
    path = tmp_path / "快捷短语.csv"
    path.write_bytes(out.getvalue().encode(encoding))
    return path


def test_qianniu_export_lints_the_phrase_column_with_excel_row_numbers(tmp_path: Path) -> None:
    """`csbot lint` on 千牛's quick-reply export linted every whole line: the header and the
    group and code cells went through the guard (`售后,"亲，…",sh6`), and a row's number was
    its line number. Now only the 快捷短语 column is linted and row N is Excel's row N (the
    header is row 1): GBK/GB18030 as Excel saves it (an emoji needs GB18030), UTF-8 with a BOM, tab-separated."""
    for encoding, delimiter in (("gb18030", ","), ("utf-8-sig", ","), ("utf-8", "\t")):
        path = _export(tmp_path, encoding, delimiter)
        r = CliRunner(env={"CSBOT_CONFIG": None, "CSBOT_DIALOGS": None}).invoke(main, ["lint", "--json", str(path)])
        assert r.exit_code == 1, r.output
        rows = [json.loads(line) for line in r.output.splitlines()]
        assert len(rows) == 30
        assert [row["line"] for row in rows] == list(range(2, 32))
        got = {row["line"] - 1: {f["code"] for f in row["findings"]} for row in rows}
        assert {n: c for n, c in got.items() if c} == EXPECTED, encoding
        assert rows[0]["text"] == REPLIES.read_text(encoding="utf-8").splitlines()[0]
        assert rows[0]["group"] == "好评返现话术（已停用）"
    r = CliRunner(env={"CSBOT_CONFIG": None, "CSBOT_DIALOGS": None}).invoke(main, ["lint", str(path)])
    assert "第 7 行（分组：售后）：" in r.output  # reply 6 of the library: the first block
    assert "第 1 行：" not in r.output and "第 2 行" not in r.output  # the header; a clean reply
    assert "千牛快捷短语表：只检查“快捷短语”一列，行号和 Excel 里一致（表头是第 1 行）。" in r.output
    assert r.output.rstrip().endswith("共检查 30 条：10 条有禁止级问题，5 条需要注意。")


def test_a_phrase_over_two_lines_is_one_row(tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    path.write_bytes("分组,快捷短语\r\n问候,您好\r\n售后,\"亲，给您添麻烦了\n改成好评返您5元\"\r\n问候,再见\r\n"
                     .encode("gbk"))
    r = CliRunner(env={"CSBOT_CONFIG": None, "CSBOT_DIALOGS": None}).invoke(main, ["lint", "--json", str(path)])
    rows = [json.loads(line) for line in r.output.splitlines()]
    assert [(row["line"], bool(row["findings"])) for row in rows] == [(2, False), (3, True), (4, False)]


def test_a_text_file_whose_lines_have_commas_stays_a_text_file(tmp_path: Path) -> None:
    path = tmp_path / "q.txt"
    path.write_bytes("短语,内容\n您好,欢迎光临\n改好评返您5元\n".encode("gbk"))  # no column 千牛 writes
    r = CliRunner(env={"CSBOT_CONFIG": None, "CSBOT_DIALOGS": None}).invoke(main, ["lint", "--json", str(path)])
    rows = [json.loads(line) for line in r.output.splitlines()]
    assert [row["line"] for row in rows] == [1, 2, 3] and rows[2]["findings"]
