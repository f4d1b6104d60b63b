"""What the whole test session shares: one Engine over the bundled data, and the two edits
tests make to a shop's copy of the data.

Loading an Engine costs a good part of a second (lexicons compiled, templates parsed), so the
`engine` fixture in conftest.py and the modules that need one while they are collected (for
parametrised cases) take this same object instead of loading their own. Tests treat it as
read-only; a test that needs other data loads its own with ``Engine.load(folder)``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from bot.engine import Engine


@cache
def shared_engine() -> Engine:
    return Engine.load()


def edit(path: Path, old: str, new: str) -> None:
    """Replace the first ``old`` in a copied data file (which must contain it)."""
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(path: Path, needle: str) -> int:
    """The 1-based line of a file where ``needle`` first appears."""
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                if needle in line)
