"""The group-commit writer and the token commands (the turn service: tests/test_turns.py;
migrations: tests/test_migrations.py)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Connection

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


def test_the_writer_keeps_a_batch_savepoint_journal_in_memory(tmp_path: Path) -> None:
    """A batch's jobs share one savepoint: past 64 KiB its journal would go to a temporary file."""

    async def go() -> int:
        store = await Store.open(f"sqlite:///{tmp_path / 'm.db'}")
        try:
            assert store.writer is not None
            await store.writer.submit(lambda conn: None)  # the writer's connection is open
            with store.writer.engine.connect() as conn:  # the same one (a static pool)
                return int(conn.exec_driver_sql("PRAGMA temp_store").scalar() or -1)
        finally:
            await store.close()

    assert asyncio.run(go()) == 2  # MEMORY


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


def test_a_turn_reads_and_writes_on_the_loop_and_only_the_commit_waits_in_the_writer_thread(tmp_path: Path) -> None:
    import threading

    async def go() -> list[tuple[str, str]]:
        store = await Store.open(f"sqlite:///{tmp_path / 'th.db'}")
        seen: list[tuple[str, str]] = []
        try:
            assert store.writer is not None and store.reader is not None
            turns = TurnService.over(store, ENGINE)
            conv, _, _ = await turns.create(ENGINE.start({"shop": "店", "buyer_name": "王"})[0].case)

            def trace(sql: str) -> None:  # sqlite3 calls it in the thread that runs the statement
                seen.append((threading.current_thread().name, sql.split()[0].upper()))

            for engine in (store.writer.engine, store.reader):
                with engine.connect() as c:
                    c.connection.driver_connection.set_trace_callback(trace)  # type: ignore[union-attr]
            for i in range(3):
                await turns.turn(conv.id, "buyer", f"第{i}条，颜色不对")
            return seen
        finally:
            await store.close()

    seen = asyncio.run(go())
    main = threading.main_thread().name
    assert {t for t, sql in seen if sql in ("SELECT", "INSERT", "UPDATE", "SAVEPOINT")} == {main}
    commits = [t for t, sql in seen if sql == "COMMIT"]
    assert len(commits) == 3 and all(t.startswith("csbot-writer") for t in commits)


def test_a_turns_statements_run_on_the_driver_store_what_sqlalchemy_stores(tmp_path: Path) -> None:
    """The turn's INSERT and UPDATE go to sqlite3 directly (bot/store/statement.py): their
    dates and flags are stored in the form SQLAlchemy writes, and read back through it."""
    import re
    import sqlite3

    async def go() -> dict[str, object]:
        store = await Store.open(f"sqlite:///{tmp_path / 'st.db'}")
        try:
            turns = TurnService.over(store, ENGINE)
            conv, _, _ = await turns.create(ENGINE.start({"shop": "店", "buyer_name": "王"})[0].case)
            await turns.turn(conv.id, "buyer", "颜色不对", message_id="m1")
            summary, rows = await store.get(conv.id)
            again = await turns.turn(conv.id, "buyer", "颜色不对", message_id="m1")
            assert again.duplicate and again.suggestion.turn == 1  # read back by _LOAD
            return {"summary": summary, "rows": rows, "id": conv.id}
        finally:
            await store.close()

    got = asyncio.run(go())
    raw = sqlite3.connect(tmp_path / "st.db")
    created, updated, is_open = raw.execute(
        "SELECT created_at, updated_at, is_open FROM conversations WHERE id = ?", (got["id"],)).fetchone()
    (turn_created,) = raw.execute("SELECT created_at FROM turns").fetchone()
    stamp = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$")
    # `created` was written by SQLAlchemy (opening the case), the other two by the driver.
    assert stamp.match(created) and stamp.match(updated) and stamp.match(turn_created)
    assert is_open == 1
    rows = got["rows"]
    assert isinstance(rows, list) and rows[0].message_id == "m1" and rows[0].created_at


_CHECKPOINT_CRASH = """
import asyncio, os, sys
import bot.store.writer
bot.store.writer.CHECKPOINT_JOBS = 8  # checkpoints while the turns go on
from bot.engine import Engine
from bot.service.turns import TurnService
from bot.store.db import Store

async def go():
    engine = Engine.load()
    store = await Store.open(sys.argv[1])
    turns = TurnService.over(store, engine)
    conv, _, _ = await turns.create(engine.start({"shop": "店", "buyer_name": "王"})[0].case)
    raw = store.writer._connection().connection.driver_connection
    auto = raw.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
    for i in range(30):
        await turns.turn(conv.id, "buyer", f"第{i}条，颜色不对")
    for _ in range(500):  # the last checkpoint may still be copying: crash after one has finished
        if store.writer.checkpoints:
            break
        await asyncio.sleep(0.01)
    await turns.turn(conv.id, "buyer", "最后一条")
    print(conv.id, auto, store.writer.checkpoints, flush=True)
    os._exit(0)  # a crash right after the answer, a checkpoint perhaps half done

asyncio.run(go())
"""


def test_the_wal_is_checkpointed_beside_the_commits_and_a_crash_loses_no_turn(tmp_path: Path) -> None:
    """Commits never checkpoint (that waited for the database file's fsync, the p99 at half
    load); the checkpoint thread does, and a crash at any point loses no answered turn."""
    import sqlite3

    db = tmp_path / "ck.db"
    out = subprocess.run([sys.executable, "-c", _CHECKPOINT_CRASH, f"sqlite:///{db}"], cwd=ROOT,
                         env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    conv_id, auto, checkpoints = out.stdout.split()
    assert auto == "0" and int(checkpoints) >= 1
    raw = sqlite3.connect(db)  # recovers the WAL the crash left
    (turns,) = raw.execute("SELECT COUNT(*) FROM turns WHERE conversation_id = ?", (conv_id,)).fetchone()
    (turn,) = raw.execute("SELECT turn FROM conversations WHERE id = ?", (conv_id,)).fetchone()
    assert turns == turn == 31


def test_serve_collects_the_young_generation_seldom_and_leaves_start_up_frozen() -> None:
    """`csbot serve` moves what start-up built out of the collector's sight and raises the
    young generation's threshold (bot/cli.py): the collector ran every few hundred turns."""
    import gc

    from bot.cli import SERVE_GC_THRESHOLD, settle_heap

    before = gc.get_threshold()
    try:
        gc.set_threshold(700, *before[1:])  # CPython's default (a command run in this process raised it)
        settle_heap()
        assert gc.get_threshold() == (SERVE_GC_THRESHOLD, *before[1:])
        assert gc.get_freeze_count() > 0
    finally:
        # Left frozen: the session freezes what survives each full collection anyway
        # (conftest.py), and unfreezing the whole heap made the next ones walk it all again.
        gc.set_threshold(*before)


def test_the_wal_starts_again_from_its_beginning_under_steady_writes(tmp_path: Path, monkeypatch: object) -> None:
    """Commits go on while the checkpoint thread copies; the writer copies the rest between two
    batches, so the WAL is reused from its beginning instead of growing with every turn."""
    import time

    import bot.store.writer

    monkeypatch.setattr(bot.store.writer, "CHECKPOINT_JOBS", 8)  # type: ignore[attr-defined]
    copy = bot.store.writer.GroupCommitWriter._checkpoint

    def slow_copy(self: bot.store.writer.GroupCommitWriter) -> None:
        copy(self)
        time.sleep(0.02)  # a long copy: turns keep committing until it is done

    monkeypatch.setattr(bot.store.writer.GroupCommitWriter, "_checkpoint", slow_copy)  # type: ignore[attr-defined]
    db = tmp_path / "wal.db"

    async def go() -> int:
        store = await Store.open(f"sqlite:///{db}")
        try:
            turns = TurnService.over(store, ENGINE)
            convs = [(await turns.create(ENGINE.start({"shop": "店", "buyer_name": f"王{i}"})[0].case))[0]
                     for i in range(40)]
            for r in range(15):
                await asyncio.gather(*(turns.turn(c.id, "buyer", f"第{r}次，颜色不对") for c in convs))
            assert store.writer is not None
            return store.writer.checkpoints
        finally:
            wal = os.path.getsize(f"{db}-wal")
            await store.close()
            sizes.append(wal)

    sizes: list[int] = []
    assert asyncio.run(go()) >= 3
    # 600 turns wrote about 5,000 pages (20 MB); the WAL holds a few checkpoints' worth.
    assert sizes[0] < 4 * 1024 * 1024


def test_a_checkpoint_waits_until_no_turn_waits_for_the_writer(tmp_path: Path, monkeypatch: object) -> None:
    """A due checkpoint is put off while jobs queue for the writer (its copy and the database
    file's fsync slowed the commits they overlapped) and begins once the queue is empty; a
    queue that never empties gets one at twice the interval, so the WAL stays bounded."""
    import bot.store.writer
    from bot.store.writer import GroupCommitWriter

    monkeypatch.setattr(bot.store.writer, "CHECKPOINT_JOBS", 8)  # type: ignore[attr-defined]
    due = GroupCommitWriter._checkpoint_due
    began: list[tuple[int, int]] = []  # (jobs committed since the last one began, jobs waiting)

    def watched(self: GroupCommitWriter, *, idle: bool) -> bool:
        since = self._since_checkpoint
        if due(self, idle=idle):
            began.append((since, len(self.jobs)))
            return True
        return False

    monkeypatch.setattr(GroupCommitWriter, "_checkpoint_due", watched)  # type: ignore[attr-defined]

    def write(n: int) -> Callable[[Connection], None]:
        return lambda conn: conn.exec_driver_sql(f"INSERT INTO scratch VALUES ({n})")  # type: ignore[func-returns-value]

    async def go() -> int:
        store = await Store.open(f"sqlite:///{tmp_path / 'idle.db'}")
        try:
            writer = store.writer
            assert writer is not None
            writer.max_batch = 4  # 40 jobs queued at once: ten batches, the queue empty only after the last
            await writer.submit(lambda conn: conn.exec_driver_sql("CREATE TABLE scratch (n INTEGER)"))
            await asyncio.gather(*(writer.submit(write(n)) for n in range(40)))
            while writer._checkpointing is not None:
                await asyncio.sleep(0.01)
            for n in range(40, 60):  # one at a time: the queue is empty after every batch
                await writer.submit(write(n))
            while writer._checkpointing is not None:
                await asyncio.sleep(0.01)
            return writer.checkpoints
        finally:
            await store.close()

    assert asyncio.run(go()) >= 2
    # Queued: not at 8 jobs, but at 16 with 24 still waiting; then at the first empty queue past 8.
    assert began[0] == (1 + 16, 24)  # the CREATE TABLE was the first job
    assert any(waiting == 0 and 8 <= since < 16 for since, waiting in began[1:])
