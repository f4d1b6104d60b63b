"""Dialog tests through the real pipeline (Bot Framework's TestFlow, in its shape).

``ServiceFlow`` runs a dialog the way the service does: every message is one call to the
turn service (bot/service/turns.py) over a real SQLite store on a file, so what a test
sees is what a buyer's agent would, after the lock, the load from the database, the
masking and the save. ``flow.agent("…").expect("explain")`` reads like the dialog.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from datetime import datetime
from pathlib import Path
from typing import Any, Self, TypeVar

from bot.engine import Engine
from bot.models import Case, Conversation, Role, Suggestion, Tone
from bot.service.turns import TurnService
from bot.store.corrections import correct
from bot.store.db import Store

T = TypeVar("T")
DEFAULT_CASE = {"shop": "柚子家女装", "buyer_name": "周敏", "honorific": "女士", "product": "连衣裙"}


class Expectations:
    """What a dialog test checks after each message (the engine-only
    ``Flow`` and ``ServiceFlow`` below share them)."""

    conv: Conversation
    last: Suggestion

    def expect(self, stage: str) -> Self:
        assert self.conv.stage == stage, (
            f"expected stage {stage}, got {self.conv.stage} after {self.last.understanding!r}")
        return self

    def expect_warning(self, code: str) -> Self:
        codes = [w.code for w in self.last.warnings]
        assert code in codes, f"expected warning {code}, got {codes}"
        return self

    def expect_no_warning(self, code: str) -> Self:
        codes = [w.code for w in self.last.warnings]
        assert code not in codes, f"unexpected warning {code} in {codes}"
        return self

    def expect_reply_contains(self, *needles: str) -> Self:
        texts = [s.text for s in self.last.suggestions]
        assert texts, "no suggestion"
        for needle in needles:
            assert any(needle in t for t in texts), f"{needle!r} not in {texts}"
        return self


class ServiceFlow(Expectations):
    """One conversation through the turn service and a store of its own."""

    def __init__(self, engine: Engine, db: Path, case: dict[str, Any] | None = None,
                 tone: Tone = "正式") -> None:
        self._loop = asyncio.Runner()
        # synchronous=OFF: a test needs the store's behaviour, not its fsync per turn.
        self.store = self._run(Store.open(f"sqlite:///{db}", synchronous="OFF"))
        self.turns = TurnService.over(self.store, engine)
        self.published: list[Suggestion] = []
        self.turns.subscribe(self._heard)
        conv, self.last, _ = self._run(self.turns.create(Case.model_validate(case or DEFAULT_CASE), tone))
        self.conv: Conversation = conv
        self.history: list[Suggestion] = [self.last]

    async def _heard(self, _conv_id: str, sug: Suggestion) -> None:
        self.published.append(sug)

    def _run(self, work: Coroutine[Any, Any, T]) -> T:
        return self._loop.run(work)

    def _reload(self) -> None:
        self.conv = self._run(self.store.load(self.conv.id)).conversation  # as stored

    # -- sending -----------------------------------------------------------------------------

    def send(self, role: Role, text: str, at: datetime | None = None) -> ServiceFlow:
        done = self._run(self.turns.turn(self.conv.id, role, text, at=at))
        self.last = done.suggestion
        self.history.append(self.last)
        self._reload()
        return self

    def buyer(self, text: str, at: datetime | None = None) -> ServiceFlow:
        return self.send("buyer", text, at)

    def agent(self, text: str, at: datetime | None = None) -> ServiceFlow:
        return self.send("agent", text, at)

    def correct(self, *, intent: str | None = None, cause: str | None = None,
                stage: str | None = None) -> ServiceFlow:
        """An agent's correction of the newest buyer message or the stage, as the sidebar sends it."""
        self.last = self._run(correct(self.store, self.turns.engine, self.conv.id, intent=intent,
                                      cause=cause, stage=stage))
        self.history.append(self.last)
        self._reload()
        return self

    def close(self, outcome: str) -> ServiceFlow:
        """A person records the outcome (a code or its Chinese name)."""
        code = self.turns.engine.label_code("outcome", outcome)
        self._run(self.turns.close_case(self.conv.id, code))
        self._reload()
        return self

    def resume(self) -> ServiceFlow:
        self.last = self._run(self.turns.resume(self.conv.id))
        self.history.append(self.last)
        self._reload()
        return self

    def finish(self) -> None:
        self.turns.shutdown()
        self._run(self.store.close())
        self._loop.close()


__all__ = ["DEFAULT_CASE", "ServiceFlow"]


class Flow(Expectations):
    """A conversation that reads like a dialog: ``flow.agent("…").expect("explain")``."""

    def __init__(self, engine: Engine, case: dict[str, Any] | None = None, **kw: Any) -> None:
        self.engine = engine
        self.conv, self.last = engine.start(case or DEFAULT_CASE, **kw)
        self.history: list[Suggestion] = [self.last]

    def buyer(self, text: str, **kw: Any) -> Flow:
        self.conv, self.last = self.engine.feed(self.conv, "buyer", text, **kw)
        self.history.append(self.last)
        return self

    def agent(self, text: str, **kw: Any) -> Flow:
        self.conv, self.last = self.engine.feed(self.conv, "agent", text, **kw)
        self.history.append(self.last)
        return self
