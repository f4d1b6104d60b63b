"""Line breaking for Chinese text in a terminal.

rich wraps at spaces and folds a longer "word" at any cell; a Chinese sentence has no
spaces, so it cut "30" into "3" / "0" and "/确认" into "/确" / "认". Here a line may break
between two Chinese characters or at a space, never inside a number, a Latin word or a
code, and (the usual 禁则) never before a closing mark nor after an opening one.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # rich is imported where it is used: click's help wraps without it
    from rich.console import Console, ConsoleOptions, RenderResult
    from rich.measure import Measurement
    from rich.style import StyleType

# A line does not start with these (they stay with what comes before)...
CLOSING = frozenset("，。、；：！？）」』”’》〉】〕…—%‰℃,.;:!?)]}'\"")
# ...nor end with these (they stay with what follows).
OPENING = frozenset("（「『“‘《〈【〔([{@#￥$")
COMMAND = frozenset("/／")  # a slash and the letters after it are one command: /确认, /结束


def wide(c: str) -> bool:
    """Two terminal columns: a Chinese character or full-width punctuation."""
    return unicodedata.east_asian_width(c) in "WF"


def _word_char(c: str) -> bool:
    """Part of a run that stays whole: digits, Latin letters, codes (narrow, not a space)."""
    return not c.isspace() and not wide(c)


def units(paragraph: str) -> list[str]:
    """The paragraph cut where a line may break (joined back, the cuts give the paragraph)."""
    tokens: list[str] = []
    i = 0
    while i < len(paragraph):
        j = i + 1
        if paragraph[i] in COMMAND:
            while j < len(paragraph) and unicodedata.category(paragraph[j])[0] in "LN":
                j += 1
        elif _word_char(paragraph[i]) or paragraph[i].isspace():
            same = _word_char if _word_char(paragraph[i]) else str.isspace
            while j < len(paragraph) and same(paragraph[j]):
                j += 1
        tokens.append(paragraph[i:j])
        i = j
    out: list[str] = []
    for tok in tokens:
        glue = bool(out) and (tok[0] in CLOSING or tok.isspace() or out[-1][-1] in OPENING)
        if glue:
            out[-1] += tok
        else:
            out.append(tok)
    return out


def wrap(text: str, width: int, measure: Callable[[str], int] | None = None) -> list[str]:
    """``text`` as lines of at most ``width`` columns (``measure``, rich's cell width by
    default), broken where Chinese allows; a unit wider than a whole line is cut by cells
    (nothing else fits it)."""
    if measure is None:
        from rich.cells import cell_len

        measure = cell_len
    width_of: Callable[[str], int] = measure
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for unit in units(paragraph):
            if width_of((line + unit).rstrip()) <= width:
                line += unit
                continue
            if line.strip():
                lines.append(line.rstrip())
            line = unit.lstrip() if line.strip() else (line + unit).lstrip()
            if width_of(line.rstrip()) > width:
                from rich.cells import chop_cells

                *whole, line = chop_cells(line.rstrip(), max(width, 1))
                lines.extend(whole)
        lines.append(line.rstrip())
    return lines


class Wrapped:
    """Text for rich that wraps with :func:`wrap` (in a table cell, a panel or on its own)."""

    def __init__(self, text: str, style: StyleType = "") -> None:
        self.text, self.style = text, style

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        from rich.text import Text

        yield Text("\n".join(wrap(self.text, options.max_width)), style=self.style, no_wrap=True,
                   overflow="crop")

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        from rich.cells import cell_len
        from rich.measure import Measurement

        paragraphs = self.text.split("\n")
        widest = max(cell_len(p) for p in paragraphs)
        unit = max((cell_len(u.rstrip()) for p in paragraphs for u in units(p)), default=0)
        return Measurement(min(unit, widest), widest).clamp(max_width=options.max_width)


__all__ = ["CLOSING", "COMMAND", "OPENING", "Wrapped", "units", "wide", "wrap"]
