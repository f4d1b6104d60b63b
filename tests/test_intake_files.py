"""Reading review exports: encodings, .xlsx, header names in any order, --map, bad rows."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.intake.files import FileError, decode, parse_map, read_table
from bot.intake.records import ReviewIn, RowError, review_of, star_scale, time_of

CN = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
ZH = "订单编号,子订单,买家昵称,宝贝,评价结果,评价内容,评价时间,平台\n"
ROWS = ("1001,1002,小**猫,碎花连衣裙,差评,起球了，質量太差！😡,2026-12-04 21:13:05,淘宝\n"
        "1003,,t**8,短袖T恤,中评,有色差,2026/12/2 9:41,天猫\n"
        "1004,1005,l**y,围巾,好评,很暖和,2026-12-03 12:00:00,淘宝\n")


def reviews(path: Path, mapping: dict[str, str] | None = None) -> tuple[list[ReviewIn], list[tuple[int, str]], int]:
    table = read_table(path, mapping)
    good, bad, positive = [], [], 0
    for number, record in table.records():
        try:
            r = review_of(record, shop="柚子家女装", platform="taobao", tz=CN, now=NOW)
        except RowError as exc:
            bad.append((number, str(exc)))
            continue
        if r is None:
            positive += 1
        else:
            good.append(r)
    return good, bad, positive


@pytest.mark.parametrize("encoding,bom", [("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("gbk", b""),
                                          ("gb18030", b""), ("utf-16-le", b"\xff\xfe")])
def test_csv_in_every_encoding_excel_writes(tmp_path: Path, encoding: str, bom: bytes) -> None:
    text = ZH + ROWS
    if encoding == "gbk":
        text = text.replace("😡", "").replace("質", "质")  # GBK has neither
    if encoding.startswith("utf-16"):
        text = text.replace(",", "\t")  # Excel's "Unicode text" is tab-separated UTF-16
    path = tmp_path / "r.csv"
    path.write_bytes(bom + text.encode(encoding))
    good, bad, positive = reviews(path)
    assert bad == [] and positive == 1
    assert [(r.order_id, r.sub_order_id, r.rating, r.platform) for r in good] == [
        ("1001", "1002", "差评", "taobao"), ("1003", "", "中评", "tmall")]
    assert good[0].buyer_name == "小**猫" and good[0].review_text is not None
    assert good[0].review_text.startswith("起球了")
    assert good[0].review_time == datetime(2026, 12, 4, 21, 13, 5, tzinfo=CN)
    assert good[1].review_time == datetime(2026, 12, 2, 9, 41, tzinfo=CN)


def test_gbk_bytes_are_not_taken_for_utf8() -> None:
    text, encoding = decode("订单编号,买家\n".encode("gbk"))
    assert encoding == "gb18030" and text.startswith("订单编号")


def test_english_headers_in_another_order(tmp_path: Path) -> None:
    path = tmp_path / "en.csv"
    path.write_text("content,result,nick,oid,tid,created,item_title,shop\n"
                    "\"too small, returned\",bad,buyer_1,22,11,2026-12-01 10:00:00,Boots,店A\n"
                    "ok,neutral,buyer_2,,12,2026-12-01T11:00:00+08:00,Scarf,\n", encoding="utf-8")
    good, bad, _ = reviews(path)
    assert bad == []
    assert [(r.shop, r.order_id, r.sub_order_id, r.rating, r.product) for r in good] == [
        ("店A", "11", "22", "差评", "Boots"), ("柚子家女装", "12", "", "中评", "Scarf")]
    assert good[0].review_text == "too small, returned"


def test_map_names_an_odd_header(tmp_path: Path) -> None:
    path = tmp_path / "odd.csv"
    path.write_text("交易单号,旺旺名,评价结果,商品简称\n77,小王,差评,毛衣\n", encoding="utf-8")
    with pytest.raises(FileError, match="找不到订单编号、买家昵称"):
        read_table(path)
    good, bad, _ = reviews(path, parse_map(["交易单号=order_id", "旺旺名=买家昵称", "商品简称=product"]))
    assert bad == [] and (good[0].order_id, good[0].buyer_name, good[0].product) == ("77", "小王", "毛衣")


def test_map_with_an_unknown_field_is_told_in_chinese() -> None:
    with pytest.raises(FileError, match="字段“颜色”不认识"):
        parse_map(["色=颜色"])
    with pytest.raises(FileError, match="应写成 列名=字段"):
        parse_map(["订单"])


def test_bad_rows_are_told_by_number_and_the_rest_go_in(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(ZH + "2001,1,甲,裙,差评,差,2026-12-01 10:00:00,淘宝\n"
                    ",2,乙,裙,差评,差,2026-12-01 10:00:00,淘宝\n"  # row 3
                    "2003,3,丙,裙,一般般,差,2026-12-01 10:00:00,淘宝\n"  # row 4
                    "\n"  # an empty line: skipped, not an error (row 5)
                    "2005,5,丁,裙,差评,差,昨天下午,淘宝\n"  # row 6
                    "2006,6,戊,裙,差评,差,2027-06-01 10:00:00,淘宝\n"  # row 7
                    "2007,7,,裙,中评,差,2026-12-01 10:00:00,淘宝\n"  # row 8
                    "2008,8,己,裙,中评,差,2026-12-01 10:00:00,京东\n"  # row 9
                    "20 09,9,庚,裙,中评,差,2026-12-01 10:00:00,淘宝\n"  # row 10
                    f"2010,10,辛,裙,中评,{'长' * 2001},2026-12-01 10:00:00,淘宝\n", encoding="utf-8")
    good, bad, _ = reviews(path)
    assert [r.order_id for r in good] == ["2001"]
    assert bad == [
        (3, "缺少订单编号"),
        (4, "评价结果“一般般”看不懂（应为 好评/中评/差评 或 good/neutral/bad）"),
        (6, "评价时间“昨天下午”看不懂（应写成 2026-03-02 10:15:00）"),
        (7, "评价时间 2027-06-01 10:00 在将来"),
        (8, "缺少买家昵称"),
        (9, "平台“京东”看不懂（应为 淘宝 或 天猫）"),
        (10, "订单编号“20 09”里有不该有的字符"),
        (11, "评价内容太长（最多 2000 个字）"),
    ]


def test_xlsx_with_numbers_and_dates_as_excel_stores_them(tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["评价时间", "买家", "订单号", "oid", "评价", "评价内容"])
    sheet.append([datetime(2026, 12, 1, 10, 30), "小**猫", 3719204857321, 3719204857322, "差评", "破了"])
    sheet.append(["2026-12-02 08:00:00", "t**8", "3719204857400", None, "neutral", None])
    sheet.append([None, None, None, None, None, None])
    sheet.append(["2026-12-02 08:00:00", "x", "3719204857401", None, "差", None])
    path = tmp_path / "export.xlsx"
    book.save(path)
    good, bad, _ = reviews(path)
    assert [(r.order_id, r.sub_order_id, r.rating) for r in good] == [
        ("3719204857321", "3719204857322", "差评"), ("3719204857400", "", "中评")]
    assert good[0].review_time == datetime(2026, 12, 1, 10, 30, tzinfo=CN)
    assert bad == [(5, "评价结果“差”看不懂（应为 好评/中评/差评 或 good/neutral/bad）")]


def test_a_file_that_is_not_an_export(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(FileError, match="文件是空的"):
        read_table(empty)
    fake = tmp_path / "fake.xlsx"
    fake.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(FileError, match="不是有效的 Excel"):
        read_table(fake)
    binary = tmp_path / "bin.csv"
    binary.write_bytes(bytes(range(128, 256)) * 4)
    with pytest.raises(FileError, match="编码看不懂"):
        read_table(binary)
    with pytest.raises(FileError, match="无法读取文件"):
        read_table(tmp_path / "missing.csv")


def test_review_times_as_exports_write_them() -> None:
    assert time_of("2026年3月2日 10:15", CN) == datetime(2026, 3, 2, 10, 15, tzinfo=CN)
    assert time_of("2026.3.2", CN) == datetime(2026, 3, 2, tzinfo=CN)
    assert time_of("2026-03-02T10:15:00Z", CN) == datetime(2026, 3, 2, 10, 15, tzinfo=UTC)
    with pytest.raises(RowError, match="不是有效的日期"):
        time_of("2026-02-30 10:00", CN)


def test_an_order_number_excel_turned_into_a_number_is_refused(tmp_path: Path) -> None:
    from openpyxl import Workbook

    path = tmp_path / "sci.csv"
    path.write_text("订单编号,买家,评价\n3.71920485732132E+18,小王,差评\n3719204857321000001,小李,差评\n",
                    encoding="utf-8")
    good, bad, _ = reviews(path)
    assert [r.order_id for r in good] == ["3719204857321000001"]
    assert bad == [(2, "订单编号被 Excel 存成了数字（3.71920485732132E+18），后几位已经丢失："
                       "请把这一列设成“文本”后重新导出")]
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["订单编号", "子订单", "买家", "评价"])
    sheet.append([3719204857321000001.0, "1", "小王", "差评"])
    sheet.append(["3719204857321000002", 3719204857321000003.0, "小李", "差评"])
    xlsx = tmp_path / "sci.xlsx"
    book.save(xlsx)
    good, bad, _ = reviews(xlsx)
    assert good == [] and [(n, why.split("（")[0]) for n, why in bad] == [
        (2, "订单编号被 Excel 存成了数字"), (3, "子订单被 Excel 存成了数字")]


@pytest.mark.parametrize("header", ["评分", "星级", "评价星级", "买家评分", "商品评分", "评价等级", "评价类型",
                                    "好中差评"])
def test_the_rating_column_under_the_names_exports_give_it(tmp_path: Path, header: str) -> None:
    """A header 评分 was not taken for the rating: the import stopped and asked for --map."""
    path = tmp_path / "r.csv"
    path.write_text(f"订单编号,买家昵称,{header},评价内容\n3001,甲,1,起球\n3002,乙,3,一般\n3003,丙,5,好\n",
                    encoding="utf-8")
    table = read_table(path)
    stars = star_scale(record.get("rating") for _, record in table.records())
    got = [review_of(record, shop="店", platform="taobao", tz=CN, now=NOW, stars=stars)
           for _, record in table.records()]
    assert [(r.order_id, r.rating) if r else None for r in got] == [("3001", "差评"), ("3002", "中评"), None]


def test_stars_written_with_their_unit_are_read(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("订单编号,买家昵称,评分\n3101,甲,1星\n3102,乙,3分\n3103,丙,★★★★★\n", encoding="utf-8")
    good, bad, positive = reviews(path)
    assert ([(r.order_id, r.rating) for r in good], bad, positive) == ([("3101", "差评"), ("3102", "中评")], [], 1)


def test_xlsx_stars_stored_as_numbers_are_read_as_stars(tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in (["订单编号", "买家昵称", "星级"], ["3201", "甲", 1.0], ["3202", "乙", 4.0]):
        sheet.append(row)
    book.save(tmp_path / "r.xlsx")
    table = read_table(tmp_path / "r.xlsx")
    assert star_scale(record.get("rating") for _, record in table.records())


def test_a_row_longer_than_the_header_is_told_not_cut(tmp_path: Path) -> None:
    """Cells beyond the header were dropped without a word: a comma the export did not quote
    shifts the columns, and the row went in with its text cut."""
    path = tmp_path / "long.csv"
    path.write_text(ZH + "4001,1,甲,裙,差评,起球了,质量差,2026-12-01 10:00:00,淘宝\n"  # row 2: 9 cells
                    "4002,2,乙,裙,差评,差,2026-12-01 10:00:00,淘宝,,\n"  # row 3: empty trailing cells are fine
                    "4003,3,丙,裙,好评,好,2026-12-01 10:00:00,淘宝,多的\n", encoding="utf-8")  # row 4
    good, bad, _ = reviews(path)
    assert [r.order_id for r in good] == ["4002"]
    assert [n for n, _ in bad] == [2, 4]
    assert "这一行比表头多 1 格（“淘宝”）" in bad[0][1] and "逗号" in bad[0][1], bad
