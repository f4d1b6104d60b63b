"""What the whole test session shares: one Engine over the bundled data, and the two edits
tests make to a shop's copy of the data.

Loading an Engine costs a good part of a second (lexicons compiled, templates parsed), so the
`engine` fixture in conftest.py and the modules that need one while they are collected (for
parametrised cases) take this same object instead of loading their own. Tests treat it as
read-only; a test that needs other data loads its own with ``Engine.load(folder)``.

The same holds for every other data folder: ``load_once`` keeps one Engine per folder and
contents, and conftest.py routes ``Engine.load`` through it for the session, so a command run
through CliRunner, `csbot check`'s rendering and a test that loads a module's copy share the
engine already made from those very files. Each first load of a folder is the real load; a
folder edited since (its files hashed) is loaded anew; a load that fails is never kept.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Awaitable, Callable
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.dataload import read_yaml
from bot.engine import Engine
from bot.models import BuyerUnderstanding, Conversation, IntentScore
from bot.paths import dialogs_dir, templates_dir
from bot.quiet import QuietHours
from bot.store.connect import upgrade_schema
from bot.training.persona import find_persona
from bot.training.rubric import load_rubric
from bot.training.session import Session, run_scripted

REAL_LOAD = Engine.load
REAL_UPGRADE = upgrade_schema
_loaded: dict[tuple[str, str, str, QuietHours | None], Engine] = {}


@cache
def shared_engine() -> Engine:
    return load_once()


def load_once(dialogs: str | Path | None = None, templates: str | Path | None = None,
              quiet: QuietHours | None = None) -> Engine:
    """``Engine.load``, once per folder pair, contents and quiet hours in the session."""
    d, t = dialogs_dir(dialogs).resolve(), templates_dir(templates).resolve()
    key = (str(d), str(t), _digest(d, t), quiet if quiet != QuietHours() else None)
    if key not in _loaded:
        _loaded[key] = REAL_LOAD(dialogs, templates, quiet)
    return _loaded[key]


def _digest(*folders: Path) -> str:
    """Every file's name and bytes (the training corpus aside: the engine does not read it)."""
    h = hashlib.blake2b()
    for folder in folders:
        for root, dirs, files in os.walk(folder):
            dirs[:] = sorted(x for x in dirs if x != "corpus")
            for name in sorted(files):
                path = os.path.join(root, name)
                h.update(path.encode())
                with open(path, "rb") as fh:
                    h.update(fh.read())
    return h.hexdigest()


Upgrade = Callable[..., Awaitable[tuple[str | None, str | None]]]


def fresh_sqlite_from_copy(real: Upgrade, template: Path) -> Upgrade:
    """``upgrade_schema`` (bot/store/connect.py) that brings a new, empty SQLite file to the
    latest revision by copying ``template``, a file the ``real`` upgrade made from empty once.
    Anything else (PostgreSQL, an existing file, another target) takes the real upgrade."""

    async def upgrade(db: AsyncEngine, target: str = "head") -> tuple[str | None, str | None]:
        path = db.url.database if db.dialect.name == "sqlite" else None
        if target != "head" or not path or path == ":memory:" or not os.path.isdir(os.path.dirname(path) or ".") \
                or (os.path.exists(path) and os.path.getsize(path) > 0):
            return await real(db, target)
        if not template.exists():
            await _migrated(real, template)
        shutil.copyfile(template, path)
        _, after = await real(db, target)  # finds the copy at the latest revision
        return None, after  # what the real upgrade of an empty file answers

    return upgrade


async def _migrated(real: Upgrade, template: Path) -> None:
    from bot.store.connect import open_engine

    db = open_engine(f"sqlite:///{template}")
    try:
        await real(db, "head")
    finally:
        await db.dispose()  # the last connection closed: the WAL is folded into the file
    assert not Path(f"{template}-wal").exists()


def edit(path: Path, old: str, new: str) -> None:
    """Replace the first ``old`` in a copied data file (which must contain it)."""
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(path: Path, needle: str) -> int:
    """The 1-based line of a file where ``needle`` first appears."""
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                if needle in line)


# The tests' own reads and writes of the data files go through libyaml, as the data loads do
# (bot/dataload.py): yaml.safe_load and safe_dump, the same in pure Python, cost about a
# second of the fast loop's CPU.
_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def load_yaml_text(text: str) -> Any:
    """YAML text as data (yaml.safe_load, read by libyaml)."""
    return read_yaml(text)


def dump_yaml(data: Any, **kw: Any) -> str:
    """``data`` as YAML text (yaml.safe_dump, written by libyaml)."""
    return yaml.dump(data, Dumper=_Dumper, **kw)


def guard_findings(engine: Engine, text: str, context: tuple[str, ...] = (),
                   stage: str | None = None) -> dict[str, str]:
    """The guard's findings on an agent line: code → severity."""
    return {f.code: f.severity for f in engine.understand.findings(text, context, stage)}


def guard_corpus_texts() -> set[str]:
    """Every hand-written and train-split guard line: a test's sibling lines must be in none."""
    root = Path(__file__).resolve().parent.parent
    texts: set[str] = set()
    for path in (root / "scripts/guard_handwritten.jsonl", root / "dialogs/corpus/train/guard.jsonl"):
        texts |= {json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line}
    return texts


def talk(engine: Engine, case: dict[str, str], lines: list[tuple[str, str]],
         tone: Any = "正式") -> tuple[Conversation, Any]:
    """A conversation fed line by line (``lines`` as (role, text)); the last Suggestion with it."""
    conv, sug = engine.start(case, tone=tone)
    for role, text in lines:
        conv, sug = engine.feed(conv, role, text)  # type: ignore[arg-type]
    return conv, sug


def clean_texts(engine: Engine, sug: Any, key: str) -> list[str]:
    """The suggestions, all from template ``key`` and clean: no guard finding, no review request read."""
    assert sug.suggestions and all(s.template.split(".")[0] == key for s in sug.suggestions), \
        [(s.template, s.text) for s in sug.suggestions]
    texts = [s.text for s in sug.suggestions]
    for text in texts:
        agent = engine.understand.agent(text)
        assert agent.findings == [] and "request_review" not in agent.acts, (text, agent)
    return texts


def model_read(text: str, intents: list[tuple[str, float]], primary: str, confidence: float,
               cause: str | None = None) -> BuyerUnderstanding:
    """A buyer message as a model might read it (``intents`` in text order): dialog tests that
    pin a reading so the flow is tested apart from the model."""
    return BuyerUnderstanding(text=text, intent=primary, cause=cause, emotion="calm",
                              confidence=confidence,
                              intents=[IntentScore(intent=i, confidence=p) for i, p in intents])


def play(engine: Engine, persona: str, replies: list[str], seed: int = 1,
         dialogs: Path | None = None) -> Session:
    """A trainee session through the real trainer: ``replies`` typed in order (the shop's own
    personas and rubric when ``dialogs`` is given)."""
    folder = dialogs or engine.dialogs
    s = Session(engine, find_persona(folder, persona), load_rubric(folder), seed)
    run_scripted(s, replies)
    return s


def violation_codes(s: Session) -> list[tuple[int, str]]:
    """The scorecard's violations as (turn, code)."""
    assert s.scorecard is not None
    return [(v.turn, v.code) for v in s.scorecard.violations]
