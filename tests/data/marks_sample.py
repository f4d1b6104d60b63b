"""Tests for tests/test_fast_loop.py to collect: each uses what its name says, directly or
through a module helper or a fixture, and conftest.py marks it from that code."""

import subprocess

import pytest


def _run_child() -> None:
    subprocess.run(["true"], check=False)


@pytest.fixture
def database() -> str:
    return "postgresql://postgres@127.0.0.1:5432/test"


def test_plain() -> None:
    assert sum([1, 2]) == 3


def test_process_through_a_helper() -> None:
    _run_child()


def test_pg_through_a_fixture(database: str) -> None:
    assert database


def test_browser() -> None:
    assert "/usr/bin/chromium"


@pytest.mark.parametrize("db", ["sqlite", "postgresql"])
def test_pg_by_parameter(db: str) -> None:
    assert db


def test_skipped() -> None:
    pytest.skip("the service is not there")
