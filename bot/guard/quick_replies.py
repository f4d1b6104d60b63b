"""A shop's quick replies as `csbot lint` reads them: a plain text file (one a line), or the
CSV 千牛 exports (分组, 快捷短语, 快捷编码 … columns; UTF-8 with or without a BOM, or GBK):
there only the phrase column is a reply, and a row is numbered as Excel shows it (the header
is row 1; a phrase with line breaks in it is still one row)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

# Header names of the phrase column, and of the others an export has beside it (compared
# without spaces, underscores or a trailing colon).
PHRASE = ("快捷短语", "短语", "短语内容", "快捷短语内容", "快捷回复", "快捷回复内容", "回复内容", "话术",
          "话术内容", "内容", "phrase", "content")
OTHERS = ("分组", "分组名称", "短语分组", "所属分组", "快捷编码", "快捷键", "编码", "序号", "排序", "创建时间",
          "group", "shortcut", "code")


def _key(name: str) -> str:
    return re.sub(r"[\s_:：*]+", "", name.replace("\ufeff", "")).casefold()


_PHRASE = {_key(n) for n in PHRASE}
_OTHERS = {_key(n) for n in OTHERS}
_GROUP = {_key(n) for n in ("分组", "分组名称", "短语分组", "所属分组", "group")}


@dataclass(frozen=True, slots=True)
class Export:
    """The columns of a quick-reply export's header."""

    phrase: int
    group: int | None
    delimiter: str


def export_header(first: bytes) -> Export | None:
    """The export's columns when ``first`` (the file's first line, as bytes) is the header of
    a quick-reply export: a phrase column beside at least one other column it knows."""
    from bot.intake.files import FileError, decode

    try:
        text = decode(first)[0].strip("\r\n")
    except FileError:
        return None
    delimiter = max(",\t;", key=text.count)
    cells = [_key(c) for c in next(csv.reader([text], delimiter=delimiter), [])]
    phrase = next((i for i, c in enumerate(cells) if c in _PHRASE), None)
    if phrase is None or not any(c in _OTHERS for c in cells):
        return None
    group = next((i for i, c in enumerate(cells) if c in _GROUP), None)
    return Export(phrase, group, delimiter)


def export_rows(data: bytes, export: Export) -> Iterator[tuple[int, str, str]]:
    """(row number, phrase, group) of each row with a phrase; FileError (Chinese) when the
    file is in no encoding csbot reads or is not well-formed CSV."""
    from bot.intake.files import FileError, decode

    text = decode(data)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=export.delimiter)
    n = 1
    try:
        next(reader, None)
        for n, cells in enumerate(reader, 2):
            phrase = cells[export.phrase].strip() if export.phrase < len(cells) else ""
            group = cells[export.group].strip() if export.group is not None and export.group < len(cells) else ""
            if phrase:
                yield n, phrase, group
    except csv.Error as exc:
        raise FileError(f"CSV 第 {n + 1} 行格式不对：{exc}") from None


def peek(stream: IO[bytes]) -> tuple[bytes, Export | None]:
    """The first line of ``stream`` and, if it is a quick-reply export's header, its columns."""
    first = stream.readline()
    return first, export_header(first)
