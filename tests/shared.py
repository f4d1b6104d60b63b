"""What the whole test session shares: one Engine over the bundled data.

Loading an Engine costs a good part of a second (lexicons compiled, templates parsed), so the
`engine` fixture in conftest.py and the modules that need one while they are collected (for
parametrised cases) take this same object instead of loading their own. Tests treat it as
read-only; a test that needs other data loads its own with ``Engine.load(folder)``.
"""

from __future__ import annotations

from functools import cache

from bot.engine import Engine


@cache
def shared_engine() -> Engine:
    return Engine.load()
