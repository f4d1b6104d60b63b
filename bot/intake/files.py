"""Reading a shop's review export: CSV (UTF-8 with or without BOM, GBK/GB18030, UTF-16 as
Excel's "Unicode text") or .xlsx, headers in Chinese or English in any order."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bot.cli_zh import os_error
from bot.intake.records import ALIASES, EXTRA, FIELD_LABELS, FIELDS, REQUIRED, header_key


class FileError(ValueError):
    """The file as a whole cannot be read (the message is Chinese)."""


@dataclass
class Table:
    """The rows of an export as canonical fields, each with its row number (the header is row 1)."""

    columns: dict[str, int]  # field -> column index
    rows: list[tuple[int, list[object]]]
    encoding: str
    ignored: list[str] = field(default_factory=list)  # headers no field uses
    width: int | None = None  # columns up to the last named header (None: any width)

    def records(self) -> Iterator[tuple[int, dict[str, object]]]:
        for number, cells in self.rows:
            if all(_blank(c) for c in cells):
                continue  # an empty line
            record = {f: cells[i] if i < len(cells) else None for f, i in self.columns.items()}
            extra = [c for c in cells[self.width:] if not _blank(c)] if self.width is not None else []
            if extra:  # trailing empty cells are Excel's habit; a filled one is data
                record[EXTRA] = extra
            yield number, record


def _blank(cell: object) -> bool:
    return cell is None or str(cell).strip() == ""


def _width(headers: list[object]) -> int:
    return max((i + 1 for i, h in enumerate(headers) if not _blank(h)), default=0)


def parse_map(items: tuple[str, ...] | list[str]) -> dict[str, str]:
    """``--map 列名=字段`` options: a header name to a field (its id or its Chinese name)."""
    out: dict[str, str] = {}
    for item in items:
        name, sep, target = item.partition("=")
        if not sep or not name.strip() or not target.strip():
            raise FileError(f"写法不对：“{item}”，应写成 列名=字段，例如 交易单号=order_id")
        key = target.strip()
        fid = key if key in FIELDS else ALIASES.get(header_key(key))
        if fid is None:
            names = "、".join(f"{f}（{label}）" for f, label in FIELD_LABELS.items())
            raise FileError(f"字段“{key}”不认识，可用的字段：{names}")
        out[header_key(name)] = fid
    return out


def _columns(headers: list[object], mapping: dict[str, str]) -> tuple[dict[str, int], list[str]]:
    columns: dict[str, int] = {}
    ignored = []
    for i, h in enumerate(headers):
        key = header_key(str(h or ""))
        fid = mapping.get(key) or ALIASES.get(key)
        if fid is None or fid in columns:
            if key:
                ignored.append(str(h).strip())
            continue
        columns[fid] = i
    missing = [FIELD_LABELS[f] for f in REQUIRED if f not in columns]
    if missing:
        shown = "、".join(str(h).strip() for h in headers if str(h or "").strip())[:200]
        raise FileError(f"表头里找不到{'、'.join(missing)}这一列（表头是：{shown}）；"
                        "列名不一样时用 --map 列名=字段 指定，例如 --map 交易单号=order_id")
    return columns, ignored


def decode(data: bytes) -> tuple[str, str]:
    """The text of a CSV and the encoding it was in: a BOM decides; else UTF-8 if it reads
    as UTF-8, else GB18030 (a superset of GBK, what Excel in China writes)."""
    for bom, name in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                      (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return data.decode(name), name
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as exc:
        raise FileError("文件编码看不懂：不是 UTF-8，也不是 GBK/GB18030；请在 Excel 里另存为"
                        f"“CSV UTF-8”再导入（第 {exc.start} 个字节出错）") from None


def read_csv(data: bytes, mapping: dict[str, str]) -> Table:
    text, encoding = decode(data)
    first = text.split("\n", 1)[0]
    delimiter = max(",\t;", key=first.count) if first else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        headers: list[object] = list(next(reader))
    except StopIteration:
        raise FileError("文件是空的") from None
    except csv.Error as exc:
        raise FileError(f"CSV 格式不对：{exc}") from None
    columns, ignored = _columns(headers, mapping)
    rows: list[tuple[int, list[object]]] = []
    try:
        for n, cells in enumerate(reader, 2):
            rows.append((n, list(cells)))
    except csv.Error as exc:
        raise FileError(f"CSV 第 {len(rows) + 2} 行格式不对：{exc}") from None
    return Table(columns, rows, encoding, ignored, _width(headers))


def read_xlsx(path: Path, mapping: dict[str, str]) -> Table:
    import zipfile

    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise FileError(f"不是有效的 Excel（.xlsx）文件：{exc}") from None
    try:
        sheet = book.worksheets[0]
        it = sheet.iter_rows(values_only=True)
        try:
            headers = list(next(it))
        except StopIteration:
            raise FileError("表格是空的") from None
        columns, ignored = _columns(headers, mapping)
        rows = [(n, list(cells)) for n, cells in enumerate(it, 2)]
    finally:
        book.close()
    return Table(columns, rows, "xlsx", ignored, _width(headers))


def read_table(path: Path, mapping: dict[str, str] | None = None) -> Table:
    """The export at ``path``, by its content (an .xlsx is a zip file) rather than its name."""
    try:
        with path.open("rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise FileError(f"无法读取文件 {path}：{os_error(exc)}") from None
    if data.startswith(b"PK\x03\x04"):
        return read_xlsx(path, mapping or {})
    if path.suffix.lower() in (".xls",):
        raise FileError("不支持旧的 .xls 格式：请在 Excel 里另存为 .xlsx 或 CSV")
    return read_csv(data, mapping or {})
