"""Shared fixtures: one engine for the session, the data sets, and a dialog-style flow helper."""

from __future__ import annotations

import functools
import gc
import inspect
import json
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests import loop

if TYPE_CHECKING:
    from bot.engine import Engine

# The engine, the store and the database helpers are imported where they are used: with the
# fast loop on workers (below) the main process only hands out tests, and a second of
# imports there would delay the start of every worker.

DATA = Path(__file__).parent / "data"
PUBLIC = DATA / "public"


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


@pytest.fixture(scope="session")
def engine() -> Engine:
    """The one Engine of the session (tests/shared.py): loading one costs most of a second."""
    from tests.shared import shared_engine

    return shared_engine()


@pytest.fixture(scope="session", autouse=True)
def _one_engine_per_data_folder() -> Iterator[None]:
    """``Engine.load`` keeps what it loaded for the session (tests/shared.py: one Engine per
    folder and contents), also for the commands tests run in process."""
    from bot.engine import Engine
    from tests.shared import load_once

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Engine, "load", classmethod(lambda _cls, dialogs=None, templates=None, quiet=None:
                                               load_once(dialogs, templates, quiet)))
        yield


@pytest.fixture(scope="session", autouse=True)
def _fresh_sqlite_from_a_migrated_copy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A new SQLite file starts as a byte copy of one the real migrations made in this session
    (tests/shared.py); some 250 tests open a fresh database, and running every revision
    costs each about 40 ms. tests/test_migrations.py runs the revisions itself every time."""
    from bot.store import connect
    from tests.shared import REAL_UPGRADE, fresh_sqlite_from_copy

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(connect, "upgrade_schema", fresh_sqlite_from_copy(
            REAL_UPGRADE, tmp_path_factory.mktemp("migrated") / "head.db"))
        yield


# A fresh PostgreSQL database per module, and each test on both databases.
@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    from tests.pg import create_database, drop_database

    url = create_database()
    yield url
    drop_database(url)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'csbot.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def shop(tmp_path: Path) -> tuple[Path, Path]:
    """A shop's own copy of dialogs/ (without the corpus) and scripts_zh/, to edit."""
    root = Path(__file__).resolve().parent.parent
    dialogs, templates = tmp_path / "dialogs", tmp_path / "scripts_zh"
    shutil.copytree(root / "dialogs", dialogs, ignore=shutil.ignore_patterns("corpus"))
    shutil.copytree(root / "scripts_zh", templates)
    return dialogs, templates


@pytest.fixture
def flow(engine: Engine, tmp_path: Path) -> Iterator[Any]:
    """Dialogs through the turn service and a real SQLite store (tests/dialog.py)."""
    from tests.dialog import ServiceFlow

    made: list[ServiceFlow] = []

    def make(case: dict[str, Any] | None = None, **kw: Any) -> ServiceFlow:
        made.append(ServiceFlow(engine, tmp_path / f"flow{len(made)}.db", case, **kw))
        return made[-1]

    yield make
    for f in made:
        f.finish()


# -- markers for the fast loop -----------------------------------------------------------
# `pytest -m "not pg and not browser and not process"` runs what needs no PostgreSQL, no
# browser and no child process. A test is marked by what its code (its function, the
# module helpers it calls and its fixtures) uses, so a new test is marked without anyone
# remembering to; a parametrised fixture is judged by the parameter in use instead.
_MARK_WORDS = {
    "pg": re.compile(r"create_database|postgresql://|CSBOT_TEST_PG|asyncpg\.connect"),
    "browser": re.compile(r"webdriver|chromedriver|/usr/bin/chromium"),
    "process": re.compile(r"subprocess|pexpect|ServerProcess|Popen|sys\.executable"),
}
_PARAM_WORDS = {"pg": ("postgres", "pg")}


@functools.cache
def _source(obj: Any) -> str:
    # Cached: a module's helpers are reached from many tests, and getsource re-reads and
    # re-tokenises the file each time (seconds over the whole suite).
    try:
        return inspect.getsource(obj)
    except (OSError, TypeError):
        return ""


def _code_of(item: pytest.Function) -> str:
    """The test function's source, the module-level functions and classes it reaches
    (three calls deep) and its fixtures' sources (parametrised ones excepted)."""
    seen: set[int] = set()
    parts: list[str] = []
    module = vars(item.module)

    def visit(fn: Any, depth: int) -> None:
        fn = inspect.unwrap(fn)
        if id(fn) in seen or depth > 3:
            return
        seen.add(id(fn))
        if inspect.isclass(fn):  # a class's source costs a parse of its module: its methods instead
            for member in vars(fn).values():
                if inspect.isfunction(member):
                    visit(member, depth)
            return
        parts.append(_source(fn))
        code = getattr(fn, "__code__", None)
        names = set(code.co_names) if code else set(re.findall(r"\b\w+\b", parts[-1]))
        for name in names:
            target = module.get(name)
            if (inspect.isfunction(target) or inspect.isclass(target)) and \
                    getattr(target, "__module__", "") == item.module.__name__:
                visit(target, depth + 1)

    visit(item.obj, 0)
    for defs in item._fixtureinfo.name2fixturedefs.values():
        for fdef in defs:
            if fdef.params is None:
                visit(fdef.func, 1)
    return "\n".join(parts)


@pytest.hookimpl(wrapper=True)
def pytest_collection() -> Iterator[object]:
    """pytest keeps the test modules it rewrote (for its assert messages) in __pycache__,
    except where PYTHONDONTWRITEBYTECODE is set: then every run rewrites all of them again,
    about 2.5 s of CPU in each process that collects. The suite keeps what it first imports
    while collecting (__pycache__ is ignored by git); later imports keep the setting.

    Nor does the garbage collector run while collecting: importing the suite builds most of
    the session's heap, and the collector walked all of it again at each of its six full
    collections on the way (about 0.5 s of CPU per process). pytest_collection_finish
    collects once and freezes what survives."""
    before, sys.dont_write_bytecode = sys.dont_write_bytecode, False
    collector = gc.isenabled()
    gc.disable()
    _register_hypothesis_randoms()
    try:
        return (yield)
    finally:
        sys.dont_write_bytecode = before
        if collector:
            gc.enable()


def fast_loop(markexpr: str) -> bool:
    """Whether ``-m`` leaves out every test marked pg, browser and process (docs/testing.md)."""
    expr = " ".join(markexpr.split())
    return " or " not in expr and all(f"not {mark}" in expr for mark in _MARK_WORDS)


def _freeze_survivors(phase: str, info: dict[str, int]) -> None:
    """After a full collection, what survived it (the session's engines, Hypothesis's state:
    a heap that grows to some 750,000 objects) is moved out of the collector's sight, so each
    later full collection scans only what came since instead of the whole heap again: about
    6 s of CPU in the fast loop otherwise, and 3 s more at exit."""
    if phase == "stop" and info["generation"] == 2:
        gc.freeze()


def _register_hypothesis_randoms() -> None:
    """Hypothesis asks the collector who refers to the random generators registered with it
    (trio's when it is imported, its own at the first example run), and it cannot see frozen
    referrers: one example run before anything is frozen registers them all. Run before the
    suite is imported, each registration's full collection walks a third of the heap."""
    from hypothesis import given, settings, strategies

    given(strategies.none())(settings(database=None, max_examples=1)(lambda _: None))()


def pytest_collection_finish() -> None:
    gc.collect()  # the one full collection of collecting (pytest_collection): some 18,000 objects go
    gc.freeze()  # the modules and whatever the collection built stay for the session
    gc.callbacks.append(_freeze_survivors)


def pytest_configure(config: pytest.Config) -> None:
    loop.FAST_LOOP = fast_loop(config.option.markexpr or "")
    _temporary_files_in_memory()


# The tests' files on tmpfs where the machine has one: each SQLite commit syncs its file
# (synchronous=FULL, the default being tested), about 2,500 of them in the fast loop at some
# 4 ms each on this machine's disk, and ~30 tests copy dialogs/ (5 MB). On tmpfs a sync returns
# at once and nothing reaches the disk; what the tests read and write is the same.
SHM = Path("/dev/shm")


def _temporary_files_in_memory() -> None:
    chosen = any(os.environ.get(name) for name in ("TMPDIR", "TEMP", "TMP"))  # the developer's own
    if not chosen and SHM.is_dir() and os.access(SHM, os.W_OK) and shutil.disk_usage(SHM).free >= 2 << 30:
        tempfile.tempdir = str(SHM)  # read by pytest's tmp_path and by tempfile alike


@pytest.hookimpl(tryfirst=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """The run's last full collection, then what survives it frozen: the interpreter's own
    collections at exit then walk nothing (each process spent 1-2 s of CPU there, walking what
    the tests built since the last full collection). First of the unconfigure hooks, so
    pytest's hunt for unraisable exceptions after us finds the heap walked already; a cycle
    whose ``__del__`` raises is still collected, and so reported, here."""
    if _freeze_survivors in gc.callbacks:
        gc.collect()  # _freeze_survivors freezes what survives it
        gc.callbacks.remove(_freeze_survivors)


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's own hook reads -n
def pytest_cmdline_main(config: pytest.Config) -> None:
    """The fast loop over whole folders runs on every core (pytest-xdist; on 2 cores about half
    the time). Everything else stays in one process: the full suite starts servers, browsers
    and databases of its own, and a few chosen files do not pay for starting workers (each
    imports and collects the suite again). ``-n`` given by hand, ``-n 0`` too, wins."""
    if hasattr(config, "workerinput") or not config.pluginmanager.has_plugin("xdist") \
            or config.option.numprocesses is not None or config.option.dist != "no" \
            or config.option.collectonly or config.option.usepdb \
            or not fast_loop(config.option.markexpr or "") \
            or not all(Path(arg.split("::")[0]).is_dir() for arg in config.args):
        return
    workers = config.hook.pytest_xdist_auto_num_workers(config=config)
    if workers >= 2:
        config.option.numprocesses = workers
        # Tests one by one, and an idle worker takes from the other's queue: the few tests
        # of several seconds no longer end the run on one worker alone.
        config.option.dist = "worksteal"


# Training a model imports scikit-learn, about a second of CPU in each process that does.
_TRAINS = re.compile(r"\b(?:learn|train|_fit)\(")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    by_code: dict[tuple[Any, ...], list[str]] = {}  # the cases of one parametrised test read alike
    trains: set[pytest.Item] = set()
    for item in items:
        if not isinstance(item, pytest.Function):
            continue
        key = (item.obj, *(fdef.func for defs in item._fixtureinfo.name2fixturedefs.values()
                           for fdef in defs if fdef.params is None))
        if key not in by_code:
            code = _code_of(item)
            by_code[key] = [mark for mark, pattern in _MARK_WORDS.items() if pattern.search(code)]
            if _TRAINS.search(code):
                by_code[key].append("trains")
        if "trains" in by_code[key]:
            trains.add(item)
        ident = item.callspec.id.lower() if hasattr(item, "callspec") else ""
        for mark in _MARK_WORDS:
            by_param = any(w in ident for w in _PARAM_WORDS.get(mark, ()))
            if by_param or mark in by_code[key]:
                item.add_marker(mark)
    if hasattr(config, "workerinput"):
        # On workers the tests that train go first: the worker handed the head of the list runs
        # them all (an idle worker steals from the tail of the other's queue), and only that
        # one imports scikit-learn. Every worker sorts alike, as pytest-xdist requires.
        items.sort(key=lambda item: item not in trains)


# -- no skips --------------------------------------------------------------------------
# A test that needs a service starts it and fails when it cannot: a skip would let
# `bash scripts/test` pass without PostgreSQL or Chromium. Deselecting (-m) is how a
# developer leaves them out, so any skip, from a test or from a plugin, is a failure.
@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> pytest.TestReport:
    report: pytest.TestReport = yield
    if report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped, and a skip counts as a failure here (deselect with -m instead): {reason}"
    return report
