"""Migrations, the group-commit writer, and the token commands."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.store.db import Store, async_url
from bot.store.migrations import LATEST, current_version, upgrade
from tests.pg import create_database, drop_database
from tests.shared import shared_engine

ROOT = Path(__file__).resolve().parent.parent
ENGINE = shared_engine()


async def _old_database(url: str) -> None:
    """A database as the first release left it, with one open conversation in it."""
    conv, _ = ENGINE.start({"shop": "店", "buyer_name": "王"}, conversation_id="old-1")
    db = create_async_engine(async_url(url))
    now = datetime.now(UTC)
    async with db.begin() as conn:
        assert await conn.run_sync(lambda c: upgrade(c, target=1)) == 1
        await conn.execute(text(
            "INSERT INTO conversations (id, shop, buyer_key, order_key, agent, stage, outcome, is_open,"
            " turn, script_version, state, created_at, updated_at) VALUES ('old-1', '店', '王', '',"
            " NULL, 'opening', NULL, TRUE, 0, :v, :s, :t, :t)"),
            {"v": conv.script_version, "s": conv.model_dump_json(), "t": now})
    await db.dispose()


def _check_upgrade(url: str) -> None:
    async def go() -> None:
        await _old_database(url)
        store = await Store.open(url, ENGINE)
        try:
            sug, _ = await store.add_turn("old-1", "agent", "您好，请问是王先生吗？")
            assert sug.turn == 1 and sug.stage.id == "confirm_identity"
            summary, _ = await store.get("old-1")
            assert summary["flagged"] is False
            async with store.db.connect() as conn:
                assert await conn.run_sync(current_version) == LATEST
                assert await conn.run_sync(lambda c: inspect(c).has_table("channel_events"))
        finally:
            await store.close()

    asyncio.run(go())


def test_an_old_sqlite_database_upgrades_on_start(tmp_path: Path) -> None:
    _check_upgrade(f"sqlite:///{tmp_path / 'old.db'}")


def test_an_old_postgresql_database_upgrades_on_start() -> None:
    url = create_database()
    try:
        _check_upgrade(url)
    finally:
        drop_database(url)


def test_waiting_turns_share_one_commit(tmp_path: Path) -> None:
    async def go() -> tuple[int, int]:
        store = await Store.open(f"sqlite:///{tmp_path / 'g.db'}", ENGINE)
        try:
            conv, _, _ = await store.create(ENGINE.start({"shop": "店", "buyer_name": "王"})[0].case)
            before = store.writer.batches  # type: ignore[union-attr]
            await asyncio.gather(*(store.add_turn(conv.id, "buyer", f"第{i}条") for i in range(50)))
            return store.writer.batches - before, (await store.get(conv.id))[0]["turns"]  # type: ignore[union-attr]
        finally:
            await store.close()

    batches, turns = asyncio.run(go())
    assert turns == 50
    assert batches < 50  # turns waiting together were committed together


def test_token_commands(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CSBOT_DATABASE_URL": f"sqlite:///{tmp_path / 't.db'}"}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "bot", "token", *args], env=env, text=True,
                              capture_output=True, timeout=60)

    r = run("add", "--role", "agent", "--shop", "柚子家女装", "--name", "小林")
    assert r.returncode == 0, r.stderr
    value = r.stdout.splitlines()[-1]
    assert value.startswith("csb_") and "只显示这一次" in r.stderr
    assert run("add", "--role", "agent", "--shop", "x", "--name", "小林").returncode == 1
    listing = run("list").stdout
    assert "小林\tagent\t柚子家女装" in listing and value not in listing and "有效" in listing
    assert run("revoke", "小林").returncode == 0
    assert "已吊销" in run("list").stdout
    assert run("revoke", "小林").returncode == 1
    raw = (tmp_path / "t.db").read_bytes()
    assert value.encode() not in raw


def test_a_failing_job_rolls_back_alone_in_its_batch(tmp_path: Path) -> None:
    from sqlalchemy import Connection

    from bot.store import schema

    def insert(name: str, fail: bool = False):  # type: ignore[no-untyped-def]
        def job(conn: Connection) -> str:
            conn.execute(schema.tokens.insert().values(
                name=name, role="agent", shop="店", token_hash=name * 8,
                created_at=datetime.now(UTC)))
            if fail:
                raise ValueError("job failed after writing")
            return name
        return job

    async def go() -> tuple[list[object], list[str]]:
        store = await Store.open(f"sqlite:///{tmp_path / 'b.db'}", ENGINE)
        try:
            assert store.writer is not None
            results = await asyncio.gather(
                store.writer.submit(insert("a")), store.writer.submit(insert("b", fail=True)),
                store.writer.submit(insert("c")), return_exceptions=True)
            names = [t["name"] for t in await store.list_tokens()]
            return list(results), names
        finally:
            await store.close()

    results, names = asyncio.run(go())
    assert results[0] == "a" and results[2] == "c" and isinstance(results[1], ValueError)
    assert names == ["a", "c"]


def test_the_sqlite_synchronous_setting_reaches_the_writer(tmp_path: Path) -> None:
    async def go() -> int:
        store = await Store.open(f"sqlite:///{tmp_path / 's.db'}", ENGINE, synchronous="NORMAL")
        try:
            assert store.writer is not None
            with store.writer.engine.connect() as conn:
                return int(conn.exec_driver_sql("PRAGMA synchronous").scalar() or -1)
        finally:
            await store.close()

    assert asyncio.run(go()) == 1  # NORMAL


def test_a_batch_waits_for_another_process_write_lock_without_stalling_the_loop(tmp_path: Path) -> None:
    import sqlite3

    async def go() -> tuple[bool, int, int]:
        path = tmp_path / "l.db"
        store = await Store.open(f"sqlite:///{path}", ENGINE)
        other = sqlite3.connect(path, isolation_level=None)
        try:
            assert store.writer is not None
            conv, _, _ = await store.create(ENGINE.start({"shop": "店", "buyer_name": "王"})[0].case)
            other.execute("BEGIN IMMEDIATE")  # as a `csbot token` command would, for a moment
            turn = asyncio.ensure_future(store.add_turn(conv.id, "buyer", "颜色不对"))
            ticks = 0
            for _ in range(20):  # the loop goes on while the batch waits in the writer's thread
                await asyncio.sleep(0.01)
                ticks += 1
            waited = not turn.done()
            other.execute("COMMIT")
            sug, _ = await asyncio.wait_for(turn, 30)
            return waited, ticks, sug.turn
        finally:
            other.close()
            await store.close()

    waited, ticks, turn = asyncio.run(go())
    assert waited and ticks == 20 and turn == 1


def test_commits_go_to_the_writer_thread_only_when_the_disk_is_slow(tmp_path: Path) -> None:
    async def go(slow_commit: float) -> tuple[int, int, int]:
        store = await Store.open(f"sqlite:///{tmp_path / f's{slow_commit}.db'}", ENGINE)
        try:
            assert store.writer is not None
            store.writer.slow_commit = slow_commit
            conv, _, _ = await store.create(ENGINE.start({"shop": "店", "buyer_name": "王"})[0].case)
            for i in range(10):
                await store.add_turn(conv.id, "buyer", f"第{i}条")
            return store.writer.threaded_commits, store.writer.batches, (await store.get(conv.id))[0]["turns"]
        finally:
            await store.close()

    # Every commit slower than 0 s: after the first few, all of them go to the thread.
    threaded, batches, turns = asyncio.run(go(0.0))
    assert turns == 10 and batches >= 11 and threaded >= batches - 4
    # None slower than an hour: all on the loop.
    threaded, _, turns = asyncio.run(go(3600.0))
    assert turns == 10 and threaded == 0


def _listeners_see_turns_in_order(url: str, workers: int = 0) -> list[int]:
    async def go() -> list[int]:
        store = await Store.open(url, ENGINE, workers=workers)
        seen: list[int] = []
        everyone = asyncio.Event()

        async def slow_first(conv_id: str, turn: int) -> None:
            # The first turn's read-back is slow, as under load: the second must still wait.
            await asyncio.sleep(0.2 if turn == 1 else 0)
            seen.append(turn)
            if len(seen) == 3:
                everyone.set()

        try:
            await store.listen(slow_first)
            conv, _, _ = await store.create(ENGINE.start({"shop": "店", "buyer_name": "王"})[0].case)
            await asyncio.gather(*(store.add_turn(conv.id, "buyer", f"第{i}条") for i in range(3)))
            await asyncio.wait_for(everyone.wait(), 10)
            assert not store._announcing  # nothing per conversation stays behind
        finally:
            await store.close()
        return seen

    return asyncio.run(go())


def test_listeners_see_a_conversations_turns_in_order(tmp_path: Path) -> None:
    assert _listeners_see_turns_in_order(f"sqlite:///{tmp_path / 'a.db'}") == [1, 2, 3]
    assert _listeners_see_turns_in_order(f"sqlite:///{tmp_path / 'b.db'}", workers=1) == [1, 2, 3]
    url = create_database()
    try:
        assert _listeners_see_turns_in_order(url) == [1, 2, 3]  # through LISTEN/NOTIFY
    finally:
        drop_database(url)


def _turn_with_competition(url: str, competing: int) -> tuple[int, list[tuple[int, str]], int, int]:
    """Our buyer turn, while another instance adds ``competing`` agent turns, one between each
    of our reads and writes: (our turn's number, the stored turns, times decided, locked)."""
    import threading

    import bot.store.db as db_module

    async def go() -> tuple[int, list[tuple[int, str]], int, int]:
        store = await Store.open(url, ENGINE)
        case = {"shop": "店", "buyer_name": f"王{competing}"}  # a new case each time
        conv, _, _ = await store.create(ENGINE.start(case)[0].case)
        decided = [0]
        locked = [0]
        real_decide, real_locked = db_module.decide, store._pg_turn_locked

        def other_instance() -> None:
            async def post() -> None:
                other = await Store.open(url, ENGINE)
                try:
                    await other.add_turn(conv.id, "agent", f"插话{decided[0]}")
                finally:
                    await other.close()

            asyncio.run(post())

        def deciding(*args: object, **kw: object) -> object:
            result = real_decide(*args, **kw)  # type: ignore[arg-type]
            if args[4] == "buyer":  # ours (the other instance's turns are the agent's)
                decided[0] += 1
                if decided[0] <= competing:  # the other instance commits before our write
                    t = threading.Thread(target=other_instance)
                    t.start()
                    t.join()
            return result

        async def counting_locked(*args: object) -> object:
            locked[0] += 1
            return await real_locked(*args)  # type: ignore[arg-type]

        db_module.decide = deciding  # type: ignore[assignment]
        store._pg_turn_locked = counting_locked  # type: ignore[method-assign]
        try:
            sug, _ = await store.add_turn(conv.id, "buyer", "是我，您说")
            _, turns = await store.get(conv.id)
            return sug.turn, [(t["turn"], t["role"]) for t in turns], decided[0], locked[0]
        finally:
            db_module.decide = real_decide
            await store.close()

    return asyncio.run(go())


def test_a_postgresql_turn_is_decided_again_when_another_instance_moved_first() -> None:
    url = create_database()
    try:
        # One competing turn: our write finds the conversation moved on, and we decide again.
        ours, turns, decided, locked = _turn_with_competition(url, competing=1)
        assert (ours, decided, locked) == (2, 2, 0)
        assert turns == [(1, "agent"), (2, "buyer")]
        # Three: after three tries the turn is decided holding the row lock, still in order.
        ours, turns, decided, locked = _turn_with_competition(url, competing=3)
        assert (ours, decided, locked) == (4, 4, 1)
        assert turns == [(1, "agent"), (2, "agent"), (3, "agent"), (4, "buyer")]
    finally:
        drop_database(url)
