"""The turn service (bot/service/turns.py) over a real store, on SQLite and PostgreSQL:
turns on one conversation are serialised, an answered turn survives a crash, and
listeners get the Suggestion in hand."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, select, update

from bot.models import Conversation, Suggestion
from bot.service.turns import TurnResult, TurnService
from bot.store import schema
from bot.store.conversations import Stored, TurnRecord
from bot.store.db import Store
from bot.store.views import ConversationSummary, TurnOut
from tests.shared import shared_engine

ROOT = Path(__file__).resolve().parent.parent
ENGINE = shared_engine()
CASE = {"shop": "柚子家女装", "buyer_name": "周敏", "honorific": "女士", "product": "连衣裙"}


class Watched:
    """The real store, recording when each load and save ran; each load takes a moment
    longer, as under load, so that unserialised turns would overlap."""

    def __init__(self, store: Store, log: list[str], name: str) -> None:
        self.store, self.log, self.name = store, log, name

    async def load(self, conv_id: str, message_id: str | None = None, *, kept: bool = False) -> Stored:
        self.log.append(f"{self.name} load")
        stored = await self.store.load(conv_id, message_id, kept=kept)
        await asyncio.sleep(0.05)
        return stored

    async def save(self, conv: Conversation, *, is_open: bool, loaded: Stored,
                   turn: TurnRecord | None = None) -> bool:
        saved = await self.store.save(conv, is_open=is_open, loaded=loaded, turn=turn)
        self.log.append(f"{self.name} saved" if saved else f"{self.name} stale")
        return saved

    def __getattr__(self, name: str) -> object:
        return getattr(self.store, name)


def test_a_concurrent_pair_of_turns_on_one_conversation_is_serialised(db_url: str) -> None:
    async def go() -> tuple[list[str], list[int], list[tuple[int, str]]]:
        # Two stores on one database: on PostgreSQL, two instances with their own
        # connections and in-process locks; on SQLite, one store (one serving process).
        first = await Store.open(db_url)
        second = first if first.sqlite else await Store.open(db_url)
        log: list[str] = []
        a = TurnService(ENGINE, Watched(first, log, "a"), first.locks)
        b = TurnService(ENGINE, Watched(second, log, "b"), second.locks)
        try:
            conv, _, _ = await a.create(ENGINE.start({**CASE, "order_id": "PAIR"})[0].case)
            done = await asyncio.gather(a.turn(conv.id, "agent", "您好，请问是周女士吗？"),
                                        b.turn(conv.id, "buyer", "是我"))
            _, turns = await first.get(conv.id)
            return log, [d.suggestion.turn for d in done], [(t.turn, t.role) for t in turns]
        finally:
            for svc, store in ((a, first), (b, second)):
                svc.shutdown()
                if store is first and svc is b:
                    continue
                await store.close()

    log, numbers, stored = asyncio.run(go())
    # Each turn loads, decides and saves before the other loads.
    assert log in (["a load", "a saved", "b load", "b saved"], ["b load", "b saved", "a load", "a saved"])
    assert sorted(numbers) == [1, 2]
    assert [n for n, _ in stored] == [1, 2]


_CRASH = """
import asyncio, os, sys
from bot.engine import Engine
from bot.service.turns import TurnResult, TurnService
from bot.store import schema
from bot.store.db import Store
from bot.store.views import ConversationSummary, TurnOut

async def go():
    engine = Engine.load()
    store = await Store.open(sys.argv[1])
    turns = TurnService.over(store, engine)
    conv, _, _ = await turns.create(engine.start({"shop": "柚子家女装", "buyer_name": "周敏",
                                                  "order_id": sys.argv[2]})[0].case)
    done = await turns.turn(conv.id, "buyer", "是我，裙子洗了一次就掉色")
    print(conv.id, done.suggestion.model_dump_json(), flush=True)
    os._exit(0)  # a crash right after the answer: no close, no checkpoint, no clean-up

asyncio.run(go())
"""


def test_a_crash_after_the_answer_loses_nothing(db_url: str) -> None:
    out = subprocess.run([sys.executable, "-c", _CRASH, db_url, f"CRASH-{os.getpid()}"], cwd=ROOT,
                         env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    conv_id, answered = out.stdout.split(" ", 1)

    async def read() -> tuple[ConversationSummary, list[TurnOut]]:
        store = await Store.open(db_url)
        try:
            return await store.get(conv_id)
        finally:
            await store.close()

    summary, turns = asyncio.run(read())
    assert summary.turns == 1 and len(turns) == 1
    assert turns[0].suggestion == Suggestion.model_validate_json(answered)


def test_the_published_suggestion_is_the_one_returned(db_url: str) -> None:
    async def go() -> tuple[list[tuple[str, Suggestion]], list[TurnResult], list[Suggestion]]:
        store = await Store.open(db_url)
        turns = TurnService.over(store, ENGINE)
        published: list[tuple[str, Suggestion]] = []

        async def listener(conv_id: str, sug: Suggestion) -> None:
            published.append((conv_id, sug))

        turns.subscribe(listener)
        try:
            conv, _, _ = await turns.create(ENGINE.start({**CASE, "order_id": "PUB"})[0].case)
            returned = [await turns.turn(conv.id, "agent", "您好，请问是周女士吗？"),
                        await turns.turn(conv.id, "buyer", "是我，电话13812345678")]
            _, rows = await store.get(conv.id)
            return published, returned, [r.suggestion for r in rows]
        finally:
            turns.shutdown()
            await store.close()

    published, done, stored = asyncio.run(go())
    returned = [d.suggestion for d in done]
    assert [s.turn for _, s in published] == [1, 2]
    # The JSON stored is the reply's, encoded once (pydantic's UTF-8 bytes, the same text as
    # model_dump_json); none for a masked message (the caller is answered with what it said).
    assert done[0].json == returned[0].model_dump_json().encode() and done[1].json is None
    # A message without personal data: what listeners get is what the caller got.
    assert published[0][1] == returned[0] == stored[0]
    # One with a phone number: the caller sees it; listeners and the database the masked one.
    assert published[1][1] == stored[1] != returned[1]
    assert "13812345678" in returned[1].model_dump_json()
    assert "13812345678" not in published[1][1].model_dump_json()


def test_another_instances_turns_reach_listeners_in_order(pg_url: str) -> None:
    async def go() -> list[int]:
        here, there = await Store.open(pg_url), await Store.open(pg_url)
        turns = TurnService.over(here, ENGINE)
        heard: list[int] = []
        own: list[int] = []
        everyone = asyncio.Event()

        async def slow_first(conv_id: str, turn: int) -> None:
            await asyncio.sleep(0.2 if turn == 1 else 0)  # the first read-back is slow, as under load
            heard.append(turn)
            if len(heard) == 3:
                everyone.set()

        async def mine(conv_id: str, turn: int) -> None:
            own.append(turn)

        try:
            await there.listen(slow_first)
            await here.listen(mine)
            conv, _, _ = await turns.create(ENGINE.start({**CASE, "order_id": "NOTIFY"})[0].case)
            await asyncio.gather(*(turns.turn(conv.id, "buyer", f"第{i}条") for i in range(3)))
            await asyncio.wait_for(everyone.wait(), 10)
            await asyncio.sleep(0.2)
            assert own == []  # an instance publishes its own turns itself, from hand
        finally:
            turns.shutdown()
            await here.close()
            await there.close()
        return heard

    assert asyncio.run(go()) == [1, 2, 3]


@pytest.mark.parametrize("size", [10, 5000])
def test_a_long_message_is_decided_off_the_event_loop(tmp_path: Path, size: int) -> None:
    async def go() -> tuple[int, bool]:
        store = await Store.open(f"sqlite:///{tmp_path / 'long.db'}")
        turns = TurnService.over(store, ENGINE)
        try:
            conv, _, _ = await turns.create(ENGINE.start(CASE)[0].case)
            ticks = 0

            async def tick() -> None:
                nonlocal ticks
                while True:
                    await asyncio.sleep(0)
                    ticks += 1

            ticker = asyncio.create_task(tick())
            done = await turns.turn(conv.id, "buyer", "颜色不对" * (size // 4))
            ticker.cancel()
            return ticks, done.suggestion.turn == 1
        finally:
            turns.shutdown()
            await store.close()

    ticks, ok = asyncio.run(go())
    assert ok
    if size > 256:
        assert ticks > 5  # the loop ran on while the turn thread understood the message


def test_the_guards_memory_is_stored_masked_turn_after_turn(db_url: str) -> None:
    """A line remembered for the guard is masked in every state written, not only in the
    turn it was said (lines found clean once are not masked again)."""
    async def go() -> list[list[str]]:
        store = await Store.open(db_url)
        turns = TurnService.over(store, ENGINE)
        try:
            conv, _, _ = await turns.create(ENGINE.start({**CASE, "order_id": "MEM"})[0].case)
            memories = []
            for text in ("您好，请问是周女士吗？", "您好，请问是周女士吗？", "我的电话是13812345678，您打过来",
                         "好的，稍等", "您好，请问是周女士吗？"):
                await turns.turn(conv.id, "agent", text)
                memories.append((await store.load(conv.id)).conversation.context.agent_recent)
            return memories
        finally:
            turns.shutdown()
            await store.close()

    memories = asyncio.run(go())
    assert all("13812345678" not in line for memory in memories for line in memory)
    assert any("[手机号]" in line for line in memories[2])
    assert memories[0] == ["您好，请问是周女士吗？"] and memories[-1][-1] == "您好，请问是周女士吗？"


def test_a_conversation_written_elsewhere_is_read_as_written(db_url: str) -> None:
    """The store keeps the conversations its turns saved decoded; a change another store
    (another instance, a command) wrote in between is what the next turn starts from."""
    async def go() -> tuple[str, int, bool, bool]:
        first = await Store.open(db_url)
        second = await Store.open(db_url)
        a, b = TurnService.over(first, ENGINE), TurnService.over(second, ENGINE)
        try:
            conv, _, _ = await a.create(ENGINE.start({**CASE, "order_id": "ELSEWHERE"})[0].case)
            await a.turn(conv.id, "agent", "您好，请问是周女士吗？")  # a keeps it decoded
            kept = conv.id in first.decoded._items
            await b.set_tone(conv.id, "亲切")  # written by the other store
            await a.turn(conv.id, "buyer", "是我")
            state = (await second.load(conv.id)).conversation
            again = (await first.load(conv.id)).conversation
            return state.tone, state.turn, kept, again.tone == "亲切"
        finally:
            a.shutdown()
            b.shutdown()
            await first.close()
            await second.close()

    tone, turn, kept, seen = asyncio.run(go())
    assert kept and (tone, turn) == ("亲切", 2) and seen


def test_a_write_by_another_connection_between_turns_is_seen_and_kept(db_url: str) -> None:
    """A turn starts from the conversation its store kept, without reading it; the save
    writes only over the row it was computed from. A plain write by another connection in
    between (a command, another instance: it knows nothing of that) makes the save write
    nothing, and the turn is made again from the row as written: the write stays, the turn
    sits on top of it, and a turn with nothing written in between reads nothing."""
    async def go() -> tuple[list[str], int, str, int, list[int]]:
        store = await Store.open(db_url)
        other = await Store.open(db_url)  # its own connection (on SQLite: its own writer)
        log: list[str] = []
        turns = TurnService(ENGINE, Watched(store, log, "a"), store.locks)
        reads = 0
        read = store.read

        async def counted(job: Any) -> Any:
            nonlocal reads
            reads += 1
            return await read(job)

        store.read = counted  # type: ignore[method-assign]
        try:
            conv, _, _ = await turns.create(ENGINE.start({**CASE, "order_id": "CAS"})[0].case)
            await turns.turn(conv.id, "agent", "您好，请问是周女士吗？")
            before = reads
            await turns.turn(conv.id, "buyer", "是我")  # kept: no read
            unread = reads - before
            log.clear()

            def retone(conn: Connection) -> None:
                state = json.loads(conn.execute(select(schema.conversations.c.state).where(
                    schema.conversations.c.id == conv.id)).scalar_one())
                state["tone"] = "亲切"
                conn.execute(update(schema.conversations).where(schema.conversations.c.id == conv.id)
                             .values(state=json.dumps(state, ensure_ascii=False)))

            await other.write(retone)
            await turns.turn(conv.id, "agent", "您3月2号在我们店拍的那条连衣裙收到了吗？")
            summary, stored = await other.get(conv.id)
            return log, unread, summary.conversation.tone, summary.conversation.turn, [t.turn for t in stored]
        finally:
            turns.shutdown()
            await other.close()
            await store.close()

    log, unread, tone, turn, numbers = asyncio.run(go())
    assert unread == 0
    assert log == ["a load", "a stale", "a load", "a saved"]
    assert (tone, turn, numbers) == ("亲切", 3, [1, 2, 3])


def test_the_stage_and_open_columns_follow_the_state_turn_after_turn(db_url: str) -> None:
    """A turn that leaves the stage and the open flag as they were does not write them again
    (bot/store/conversations.py); one that changes them does: the row's columns, which the
    lists filter on, always say what the state says."""
    lines = [("agent", "您好，请问是周女士吗？"), ("buyer", "是我"), ("buyer", "嗯"),
             ("agent", "您3月2号在我们店拍的那条连衣裙收到了吗？"), ("buyer", "颜色跟图片差好多"), ("buyer", "嗯")]

    async def go() -> tuple[list[tuple[str, str, bool, bool]], bool, bool]:
        store = await Store.open(db_url)
        turns = TurnService.over(store, ENGINE)
        try:
            conv, _, _ = await turns.create(ENGINE.start({**CASE, "order_id": "COLUMNS"})[0].case)
            seen = []
            for role, text in lines:
                await turns.turn(conv.id, role, text)
                summary, _ = await store.get(conv.id)
                seen.append((summary.stage, summary.conversation.stage, summary.open,
                             summary.conversation.stage != ENGINE.script.final))
            listed = conv.id in {c.id for c in (await store.find(shop=CASE["shop"], stage=seen[-1][0], limit=200))[1]}
            # A close outside a turn, then a turn that reopens the case: both write the columns.
            await turns.close_case(conv.id, "resolved")
            closed = not (await store.get(conv.id))[0].open
            await turns.turn(conv.id, "buyer", "衣服又开线了")
            summary, _ = await store.get(conv.id)
            seen.append((summary.stage, summary.conversation.stage, summary.open,
                         summary.conversation.stage != ENGINE.script.final))
            return seen, listed, closed
        finally:
            turns.shutdown()
            await store.close()

    seen, listed, closed = asyncio.run(go())
    assert all(column == state for column, state, _, _ in seen)
    assert all(is_open == open_state for _, _, is_open, open_state in seen)
    assert len({stage for stage, _, _, _ in seen}) >= 3  # the stage moved, and was written each time
    assert any(a[0] == b[0] for a, b in itertools.pairwise(seen))  # and some turns kept it
    assert listed and closed and seen[-1][2]


def _talk(tmp_path: Path, at: str, lines: list[tuple[str, str]]) -> list[Suggestion]:
    """The lines through a turn service whose clock says ``at`` (shop time)."""
    from datetime import datetime

    async def go() -> list[Suggestion]:
        store = await Store.open(f"sqlite:///{tmp_path / 'clock.db'}")
        turns = TurnService.over(store, ENGINE, clock=lambda: datetime.fromisoformat(at))
        try:
            conv, _, _ = await turns.create(ENGINE.start({**CASE, "order_id": at})[0].case)
            return [(await turns.turn(conv.id, role, text)).suggestion  # type: ignore[arg-type]
                    for role, text in lines]
        finally:
            turns.shutdown()
            await store.close()

    return asyncio.run(go())


def test_a_callback_time_is_said_as_people_say_it_relative_to_the_message(tmp_path: Path) -> None:
    # The service takes a message as sent when it arrives, in the shop's time: the agreed
    # time is "今晚8点", not the calendar date, and "agree a time" is no longer said.
    *_, agreed = _talk(tmp_path, "2026-12-06T17:50", [
        ("agent", "您好，请问是周女士吗？"), ("buyer", "在开会，晚点再说"),
        ("agent", "好的，那我今晚8点再联系您可以吗？")])
    texts = [s.text for s in agreed.suggestions]
    assert agreed.stage.id == "callback" and texts and all("今晚8点" in t for t in texts), texts
    assert not any("12月6日" in t for t in texts)
    codes = [w.code for w in agreed.warnings]
    assert "callback_agreed" in codes and "callback_time" not in codes, codes
    assert any("今晚8点" in w.message for w in agreed.warnings if w.code == "callback_agreed")


def test_a_first_message_late_at_night_is_warned_in_the_service_too(tmp_path: Path) -> None:
    late, = _talk(tmp_path, "2026-12-06T22:40", [("agent", "您好，请问是周女士吗？")])
    early, = _talk(tmp_path, "2026-12-07T19:30", [("agent", "您好，请问是周女士吗？")])
    assert "late_contact" in [w.code for w in late.warnings]
    assert "late_contact" not in [w.code for w in early.warnings]


def test_a_late_contact_proposes_the_first_hour_out_of_the_quiet_hours(tmp_path: Path) -> None:
    """At 01:00 the quiet hours (the settings' 21:00-08:00) end in seven hours: that morning is proposed,
    not the evening 19 hours on; at 22:40 the next morning."""
    night, = _talk(tmp_path, "2026-12-07T01:00", [("agent", "您好，请问是周女士吗？")])
    late, = _talk(tmp_path, "2026-12-06T22:40", [("agent", "您好，请问是周女士吗？")])
    said = {w.code: w.message for w in night.warnings}
    assert said["late_contact"] == ("现在是休息时间（21:00 以后或 8:00 以前），打扰买家容易引起反感，"
                                    "建议等到今天早上8点以后再联系。")
    assert "建议等到明天早上8点以后再联系" in {w.code: w.message for w in late.warnings}["late_contact"]
    assert not any("20:00" in w.message for w in [*night.warnings, *late.warnings])


def test_the_state_and_the_suggestion_are_stored_as_the_text_pydantic_writes(db_url: str) -> None:
    """A turn's JSON goes to the database as pydantic's UTF-8 bytes (bound as text on SQLite,
    decoded for PostgreSQL's driver): the columns hold text, the same as model_dump_json."""
    async def go() -> tuple[list[object], Conversation, Suggestion]:
        store = await Store.open(db_url)
        turns = TurnService.over(store, ENGINE)
        try:
            conv, _, _ = await turns.create(ENGINE.start({**CASE, "order_id": "TEXT"})[0].case)
            done = await turns.turn(conv.id, "buyer", "衣服颜色跟图片差好多，我很失望")
            _C, _T = schema.conversations.c, schema.turns.c
            row = await store.read(lambda c: c.execute(
                select(_C.state, _T.suggestion).join(schema.turns, _T.conversation_id == _C.id)
                .where(_C.id == conv.id)).one())
            kept = (await store.load(conv.id)).conversation
            return list(row), kept, done.suggestion
        finally:
            turns.shutdown()
            await store.close()

    (state, suggestion), conv, sug = asyncio.run(go())
    assert isinstance(state, str) and isinstance(suggestion, str)
    assert state == conv.model_dump_json() and json.loads(state)["turn"] == 1
    assert suggestion == sug.model_dump_json() and "失望" in suggestion
