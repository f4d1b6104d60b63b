"""The fast loop: conftest.py marks each test by what its code uses, so
`-m "not pg and not browser and not process"` leaves out exactly those; and a skip is a
failure, so the full run cannot pass without a service it needs."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from tests import loop
from tests.conftest import fast_loop, pytest_collection_modifyitems

pytest_plugins = ["pytester"]

SAMPLE = Path(__file__).parent / "data" / "marks_sample.py.txt"


@pytest.fixture
def sample(pytester: pytest.Pytester) -> pytest.Pytester:
    # The suite's own hooks, over a file of small tests (tests/data/marks_sample.py.txt).
    pytester.makeconftest("from tests.conftest import pytest_collection_modifyitems, pytest_runtest_makereport"
                          "  # noqa: F401\n")
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n"
                     "markers =\n    pg: x\n    browser: x\n    process: x\n")
    pytester.makepyfile(test_sample=SAMPLE.read_text(encoding="utf-8"))
    return pytester


def test_markers_follow_the_code(sample: pytest.Pytester) -> None:
    items, _ = sample.inline_genitems()
    marks = {item.name: {m.name for m in item.iter_markers()} & {"pg", "browser", "process"} for item in items}
    assert marks == {
        "test_plain": set(), "test_skipped": set(), "test_pg_by_parameter[sqlite]": set(),
        "test_process_through_a_helper": {"process"},  # its helper starts a child process
        "test_pg_by_parameter[postgresql]": {"pg"},  # judged by the parameter in use
        "test_pg_through_a_fixture": {"pg"},  # its fixture names the database server
        "test_browser": {"browser"},
    }


def test_on_workers_the_tests_that_train_come_first(pytester: pytest.Pytester) -> None:
    """Only the worker handed the head of the list imports scikit-learn (conftest.py)."""
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    items = pytester.getitems("def learn(): pass\ndef test_a(): pass\ndef test_b(): learn()\ndef test_c(): pass\n")
    pytest_collection_modifyitems(SimpleNamespace(), items)  # type: ignore[arg-type]
    assert [item.name for item in items] == ["test_a", "test_b", "test_c"]  # one process: as written
    pytest_collection_modifyitems(SimpleNamespace(workerinput={}), items)  # type: ignore[arg-type]
    assert [item.name for item in items] == ["test_b", "test_a", "test_c"]


def test_a_skip_is_a_failure(sample: pytest.Pytester) -> None:
    result = sample.runpytest_inprocess("-k", "skipped or plain")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*a skip counts as a failure*the service is not there*"])


@pytest.mark.parametrize(("expr", "fast"), [
    ("not pg and not browser and not process", True),
    ("not  process and not pg and\tnot browser", True),  # any order and spacing
    ("not pg and not browser", False),  # the process tests are in it
    ("not pg and not browser and not process or pg", False),
    ("", False),  # the full suite
], ids=["fast-loop", "any-order", "with-child-processes", "widened", "everything"])  # an id naming pg would mark it pg
def test_the_fast_loop_is_the_selection_without_the_three_marks(expr: str, fast: bool) -> None:
    assert fast_loop(expr) is fast


def test_property_tests_take_all_their_examples_outside_the_fast_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loop, "FAST_LOOP", False)
    assert loop.examples(400) == 400
    monkeypatch.setattr(loop, "FAST_LOOP", True)
    assert loop.examples(400) == 100 and loop.examples(120) == 50


def test_a_full_collection_leaves_what_survived_it_frozen() -> None:
    """conftest.py: later full collections scan only what is new (docs/testing.md)."""
    import gc

    gc.collect()
    assert gc.get_freeze_count() > 0


def test_the_collector_runs_again_once_the_suite_is_collected() -> None:
    """conftest.py turns the garbage collector off while collecting, and back on after."""
    import gc

    assert gc.isenabled()
