"""Shared fixtures: one engine for the session, the data sets, and a dialog-style flow helper."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# The compiled-regex cache of the tests and of the processes they start stays out of the
# user's home (bot/understand/regex_cache.py); one folder for the whole run.
os.environ.setdefault("CSBOT_CACHE_DIR", tempfile.mkdtemp(prefix="csbot-test-cache-"))

from bot.engine import Engine
from bot.models import Conversation, Suggestion

DATA = Path(__file__).parent / "data"
PUBLIC = DATA / "public"


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


@pytest.fixture(scope="session")
def engine() -> Engine:
    return Engine.load()


class Flow:
    """A conversation that reads like a dialog: ``flow.agent("…").expect("explain")``."""

    def __init__(self, engine: Engine, case: dict[str, Any] | None = None, **kw: Any) -> None:
        self.engine = engine
        self.conv: Conversation
        self.conv, self.last = engine.start(case or {"shop": "柚子家女装", "buyer_name": "周敏",
                                                     "honorific": "女士", "product": "连衣裙"}, **kw)
        self.history: list[Suggestion] = [self.last]

    def buyer(self, text: str, **kw: Any) -> Flow:
        self.conv, self.last = self.engine.feed(self.conv, "buyer", text, **kw)
        self.history.append(self.last)
        return self

    def agent(self, text: str, **kw: Any) -> Flow:
        self.conv, self.last = self.engine.feed(self.conv, "agent", text, **kw)
        self.history.append(self.last)
        return self

    def expect(self, stage: str) -> Flow:
        assert self.conv.stage == stage, (
            f"expected stage {stage}, got {self.conv.stage} after "
            f"{self.last.understanding!r}"
        )
        return self

    def expect_warning(self, code: str) -> Flow:
        codes = [w.code for w in self.last.warnings]
        assert code in codes, f"expected warning {code}, got {codes}"
        return self

    def expect_no_warning(self, code: str) -> Flow:
        codes = [w.code for w in self.last.warnings]
        assert code not in codes, f"unexpected warning {code} in {codes}"
        return self

    def expect_reply_contains(self, *needles: str) -> Flow:
        texts = [s.text for s in self.last.suggestions]
        assert texts, "no suggestion"
        for needle in needles:
            assert any(needle in t for t in texts), f"{needle!r} not in {texts}"
        return self


@pytest.fixture
def flow(engine: Engine) -> Iterator[type[Flow]]:
    def make(case: dict[str, Any] | None = None, **kw: Any) -> Flow:
        return Flow(engine, case, **kw)

    yield make  # type: ignore[misc]
