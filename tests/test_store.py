"""The group-commit writer and the token commands (the turn service: tests/test_turns.py;
migrations: tests/test_migrations.py)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from bot.service.turns import TurnService
from bot.store.db import Store
from tests.shared import shared_engine

ROOT = Path(__file__).resolve().parent.parent
ENGINE = shared_engine()


def test_waiting_turns_share_one_commit(tmp_path: Path) -> None:
    async def go() -> tuple[int, int]:
        store = await Store.open(f"sqlite:///{tmp_path / 'g.db'}")
        try:
            turns = TurnService.over(store, ENGINE)
            convs = [(await turns.create(ENGINE.start({"shop": "店", "buyer_name": f"王{i}"})[0].case))[0]
                     for i in range(50)]
            before = store.writer.batches  # type: ignore[union-attr]
            await asyncio.gather(*(turns.turn(c.id, "buyer", "颜色不对") for c in convs))
            total = sum([(await store.get(c.id))[0].turns for c in convs])
            return store.writer.batches - before, total  # type: ignore[union-attr]
        finally:
            await store.close()

    batches, turns = asyncio.run(go())
    assert turns == 50
    assert batches < 50  # turns of many conversations waiting together were committed together


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
        store = await Store.open(f"sqlite:///{tmp_path / 'b.db'}")
        try:
            assert store.writer is not None
            results = await asyncio.gather(
                store.writer.submit(insert("a")), store.writer.submit(insert("b", fail=True)),
                store.writer.submit(insert("c")), return_exceptions=True)
            names = [t.name for t in await store.list_tokens()]
            return list(results), names
        finally:
            await store.close()

    results, names = asyncio.run(go())
    assert results[0] == "a" and results[2] == "c" and isinstance(results[1], ValueError)
    assert names == ["a", "c"]


def test_the_sqlite_synchronous_setting_reaches_the_writer(tmp_path: Path) -> None:
    async def go() -> int:
        store = await Store.open(f"sqlite:///{tmp_path / 's.db'}", synchronous="NORMAL")
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
        store = await Store.open(f"sqlite:///{path}")
        other = sqlite3.connect(path, isolation_level=None)
        try:
            assert store.writer is not None
            turns = TurnService.over(store, ENGINE)
            conv, _, _ = await turns.create(ENGINE.start({"shop": "店", "buyer_name": "王"})[0].case)
            other.execute("BEGIN IMMEDIATE")  # as a `csbot token` command would, for a moment
            turn = asyncio.ensure_future(turns.turn(conv.id, "buyer", "颜色不对"))
            ticks = 0
            for _ in range(20):  # the loop goes on while the batch waits in the writer's thread
                await asyncio.sleep(0.01)
                ticks += 1
            waited = not turn.done()
            other.execute("COMMIT")
            done = await asyncio.wait_for(turn, 30)
            return waited, ticks, done.suggestion.turn
        finally:
            other.close()
            await store.close()

    waited, ticks, turn = asyncio.run(go())
    assert waited and ticks == 20 and turn == 1


def test_commits_go_to_the_writer_thread_only_when_the_disk_is_slow(tmp_path: Path) -> None:
    async def go(slow_commit: float) -> tuple[int, int, int]:
        store = await Store.open(f"sqlite:///{tmp_path / f's{slow_commit}.db'}")
        try:
            assert store.writer is not None
            store.writer.slow_commit = slow_commit
            turns = TurnService.over(store, ENGINE)
            conv, _, _ = await turns.create(ENGINE.start({"shop": "店", "buyer_name": "王"})[0].case)
            for i in range(10):
                await turns.turn(conv.id, "buyer", f"第{i}条")
            return store.writer.threaded_commits, store.writer.batches, (await store.get(conv.id))[0].turns
        finally:
            await store.close()

    # Every commit slower than 0 s: after the first few, all of them go to the thread.
    threaded, batches, turns = asyncio.run(go(0.0))
    assert turns == 10 and batches >= 11 and threaded >= batches - 4
    # None slower than an hour: all on the loop.
    threaded, _, turns = asyncio.run(go(3600.0))
    assert turns == 10 and threaded == 0
