"""Click's own words (usage, option headings, --help's line, usage errors) in Chinese.

Click translates its messages with ``gettext``; csbot ships no compiled catalogue, so the
modules' translation function is pointed at this table (the rest stays English). What click
does not translate (metavars such as TEXT and [OPTIONS], the heading's colon) the help
formatter below puts in Chinese, and it measures Chinese characters as two columns."""

from __future__ import annotations

import errno
import gettext
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import click
import click.core
import click.decorators
import click.exceptions
import click.formatting
import click.parser
import click.types

from bot.wrap_zh import wide, wrap

ZH = {
    "Usage:": "用法：",
    "Options": "选项",
    "Commands": "命令",
    "Positional arguments": "参数",
    "Show this message and exit.": "显示本帮助并退出。",
    "Show the version and exit.": "显示版本号并退出。",
    "Error: {message}": "错误：{message}",
    "Try '{command} {option}' for help.": "输入“{command} {option}”查看帮助。",
    "No such command {name!r}.": "没有这个命令：{name!r}。",
    "No such option {name!r}.": "没有这个选项：{name!r}。",
    "Did you mean {possibility}?": "是不是想用 {possibility}？",
    "(Did you mean one of: {possibilities}?)": "（是不是想用其中一个：{possibilities}？）",
    "Missing argument": "缺少参数",
    "Missing option": "缺少选项",
    "Missing parameter": "缺少参数",
    "Choose from:\n\t{choices}": "可选：{choices}",
    "Missing command.": "缺少命令。",
    "Missing parameter: {param_name}": "缺少参数：{param_name}",
    "Missing {param_type}": "缺少{param_type}",
    "Invalid value for {param_hint}: {message}": "{param_hint} 的值不对：{message}",
    "Invalid value: {message}": "值不对：{message}",
    "Option {name!r} does not take a value.": "选项 {name!r} 不带值。",
    "Option {name!r} requires an argument.": "选项 {name!r} 需要一个值。",
    "Got unexpected extra argument ({args})": "多了一个参数（{args}）",
    "Got unexpected extra arguments ({args})": "多了几个参数（{args}）",
    "{value!r} is not one of {choices}.": "{value!r} 不是可选值之一：{choices}。",
    "{value!r} is not a valid {number_type}.": "{value!r} 不是合法的{number_type}。",
    "{value} is not in the range {range}.": "应{range}，收到的是 {value}。",
    "{name} {filename!r} does not exist.": "{name} {filename!r} 不存在。",
    "{name} {filename!r} is a directory.": "{name} {filename!r} 是一个目录。",
    "{name} {filename!r} is a file.": "{name} {filename!r} 是一个文件。",
    "Could not open file {filename!r}: {message}": "无法打开文件 {filename!r}：{message}",
    "default: {default}": "默认：{default}",
    "env var: {var}": "环境变量：{var}",
    "Aborted!": "已中止。",
    "required": "必填",
    "file": "文件",
    "directory": "目录",
    "path": "路径",
    "integer": "整数",
    "float": "小数",
}


# Click's metavars (type names, argument names, usage placeholders) as the help shows them.
METAVARS = {
    "OPTIONS": "选项", "COMMAND": "命令", "ARGS": "参数", "TEXT": "文本", "INTEGER RANGE": "整数",
    "INTEGER": "整数", "FLOAT": "小数", "FILE": "文件", "PATH": "路径", "DIRECTORY": "目录", "DIR": "目录",
    "NAME": "名称", "CASE_ID": "案例编号", "DATASETS": "数据集",
}
_METAVAR = re.compile(r"\b(?:INTEGER RANGE|[A-Z][A-Z_]*)\b")
_WIDE = re.compile("[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]")


def metavars(text: str) -> str:
    """The metavars in an option's or usage's spelling, in Chinese (others, e.g. URL, stay)."""
    return _METAVAR.sub(lambda m: METAVARS.get(m.group(0), m.group(0)), text)


def width(text: str) -> int:
    """Terminal columns: a Chinese character (and full-width punctuation) takes two."""
    return sum(2 if wide(c) else 1 for c in click.unstyle(text))


class ZhHelpFormatter(click.HelpFormatter):
    """Click's help page with Chinese usage, headings and metavars."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, metavars(args), "用法：" if prefix is None else prefix)

    def write_heading(self, heading: str) -> None:
        self.write(f"{'':>{self.current_indent}}{heading}：\n")

    def write_dl(self, rows: Iterable[tuple[str, str]], col_max: int = 30, col_spacing: int = 2) -> None:
        rows = [(metavars(a), b) for a, b in rows]
        if not any(_WIDE.search(b) for _, b in rows):
            super().write_dl(rows, col_max, col_spacing)
            return
        # Click wraps the second column by characters, so a Chinese line ran over the terminal
        # (which then cut it anywhere): wrap by columns, where Chinese may break (wrap_zh).
        first_col = min(max(width(a) for a, _ in rows), col_max) + col_spacing
        for first, second in rows:
            self.write(f"{'':>{self.current_indent}}{first}")
            if not second:
                self.write("\n")
                continue
            if width(first) <= first_col - col_spacing:
                self.write(" " * (first_col - width(first)))
            else:
                self.write("\n" + " " * (first_col + self.current_indent))
            lines = wrap(second, max(self.width - first_col - 2, 10), measure=width)
            self.write(lines[0] + "\n")
            for line in lines[1:]:
                self.write(f"{'':>{first_col + self.current_indent}}{line}\n")

    def write_text(self, text: str) -> None:
        # Chinese paragraphs keep the author's line breaks ("\b", click's own convention):
        # rewrapped, a break became a space and a long line was cut mid-word
        # (a line longer than the terminal is wrapped where Chinese may break, not cut by it)
        room = max(self.width - self.current_indent, 20)
        paras = ["\b\n" + "\n".join(wrap(_reflow(p), room, measure=width))
                 if _WIDE.search(p) and not p.lstrip().startswith("\b") else p
                 for p in text.split("\n\n")]
        super().write_text("\n\n".join(paras))


# A docstring line that ends inside a Chinese sentence was broken to fit the source file,
# not for the reader: joined to the next line, the paragraph is wrapped to the terminal
# instead of leaving a two-character remainder on a line of its own. A line that ends a
# sentence or a lead-in (。！？：) keeps its break.
_MID_SENTENCE = re.compile("[\u2e80-\u9fff\uf900-\ufaff，、；（“]$")


def _reflow(paragraph: str) -> str:
    lines = paragraph.split("\n")
    out = [lines[0]]
    for line in lines[1:]:
        if _MID_SENTENCE.search(out[-1]) and line.strip():
            out[-1] += line.strip()
        else:
            out.append(line)
    return "\n".join(out)


# What the operating system says (its strerror is English: "No such file or directory").
_ERRNO = {errno.ENOENT: "没有这个文件或文件夹", errno.EACCES: "没有权限", errno.EPERM: "没有权限",
          errno.EISDIR: "这是一个文件夹，不是文件", errno.ENOTDIR: "路径里有一段不是文件夹",
          errno.ENOSPC: "磁盘满了", errno.EROFS: "文件系统是只读的", errno.EEXIST: "已经存在",
          errno.ENAMETOOLONG: "文件名太长"}


def os_error(exc: OSError) -> str:
    """Why a file could not be read or written, in Chinese (the English text when unknown)."""
    return _ERRNO.get(exc.errno or 0) or exc.strerror or str(exc)


def _readable(value: Any, ctx: click.Context | None) -> None:
    # A file argument that cannot be read is the caller's mistake: a usage error (exit 2).
    if isinstance(value, (str, os.PathLike)) and os.fspath(value) != "-":
        try:
            with open(value, "rb"):
                pass
        except OSError as exc:
            raise click.UsageError(f"读不了文件 {os.fsdecode(value)}：{os_error(exc)}", ctx) from None


class File(click.File):
    """click.File whose "cannot open" error is Chinese: 读不了文件 x.txt：没有这个文件或文件夹."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> IO[Any]:
        if "r" in self.mode:
            _readable(value, ctx)
        return super().convert(value, param, ctx)


def text_lines(stream: Iterable[bytes]) -> Iterator[tuple[int, str | None]]:
    """(line number, text) of each line of a file a shop saved: UTF-8 (a BOM dropped), or
    GBK/GB18030 as Notepad's "ANSI" and 千牛's exports write it; None for a line in neither.
    Line by line, so a pipe is read as it comes."""
    for n, raw in enumerate(stream, 1):
        if n == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        text: str | None = None
        for encoding in ("utf-8", "gb18030"):
            try:
                text = raw.decode(encoding).rstrip("\r\n")
                break
            except UnicodeDecodeError:
                continue
        yield n, text


class ReadablePath(click.Path):
    """A file to read, given as a path (a command opens it itself, e.g. an .xlsx), with the
    same Chinese usage error as File when it cannot be opened ("-" passes: standard input)."""

    def __init__(self) -> None:
        super().__init__(dir_okay=False, path_type=Path)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        _readable(value, ctx)
        return super().convert(value, param, ctx)


class _Filled(str):
    """A message click fills in after translating it: the English it fills in (a number
    type's name, "integer"; the choices, one a line) is put in Chinese too."""

    def format(self, *args: object, **kwargs: Any) -> str:
        kind, choices = kwargs.get("number_type"), kwargs.get("choices")
        if isinstance(kind, str):
            kwargs["number_type"] = ZH.get(kind, kind)
        if isinstance(choices, str):
            kwargs["choices"] = choices.replace(",\n\t", "、")
        return str.format(self, *args, **kwargs)


def _zh(message: str) -> str:
    said = ZH.get(message, gettext.gettext(message))
    return _Filled(said) if "{number_type}" in said or "{choices}" in said else said


def _nzh(singular: str, plural: str, n: int) -> str:
    return ZH.get(singular if n == 1 else plural, gettext.ngettext(singular, plural, n))


_MISSING_FORMAT = click.exceptions.MissingParameter.format_message


def _missing_message(self: click.exceptions.MissingParameter) -> str:
    # Click puts an English full stop after the parameter's name: "缺少参数 '渠道名'."
    # …and names an argument by its metavar (CASE_ID) where the usage line says 案例编号
    text = metavars(_MISSING_FORMAT(self))
    hint = f"缺少{text[2:].split('.', 1)[0]}" if text.startswith("缺少") and "." in text else ""
    return f"{hint}。{text[len(hint) + 1:].lstrip()}" if hint else text


def _describe_range(self: Any) -> str:
    """An IntRange's bounds in words (click writes x>=1 in the error and the help)."""
    low = None if self.min is None else f"{'大于' if self.min_open else '不小于'} {self.min}"
    high = None if self.max is None else f"{'小于' if self.max_open else '不大于'} {self.max}"
    if low and high and not (self.min_open or self.max_open):
        return f"在 {self.min} 到 {self.max} 之间"
    return "、".join(x for x in (low, high) if x)


def install() -> None:
    """Point click's modules at the Chinese table (idempotent)."""
    setattr(click.types._NumberRangeBase, "_describe_range", _describe_range)  # noqa: B010
    click.exceptions.MissingParameter.format_message = _missing_message  # type: ignore[method-assign]
    for module in (click.core, click.decorators, click.exceptions, click.formatting, click.parser,
                   click.types):
        module._ = _zh  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = _nzh  # type: ignore[attr-defined]
    click.Context.formatter_class = ZhHelpFormatter
    setattr(click.formatting, "term_len", width)  # noqa: B010  the help's columns line up under Chinese text


__all__ = ["METAVARS", "ZH", "File", "ReadablePath", "ZhHelpFormatter", "install", "metavars", "os_error", "width"]
