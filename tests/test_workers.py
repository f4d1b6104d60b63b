"""Worker processes deciding turns beside the SQLite writer (csbot serve --workers N):
the same answers as the writer alone, one turn at a time per conversation, nothing lost
when a worker dies, and nothing per conversation kept."""

from __future__ import annotations

import asyncio
import functools
import json
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.engine import ConversationClosed
from bot.models import Case
from bot.settings import Settings
from bot.store.db import Store
from bot.store.turns import Duplicate, Forbidden, NotFound, Prepared
from bot.store.workers import KeyedLock
from tests.conftest import DATA, read_jsonl
from tests.shared import shared_engine

ENGINE = shared_engine()
CASE = Case(shop="柚子家女装", buyer_name="周敏", honorific="女士", product="湖蓝色碎花连衣裙",
            order_id="W-1")


@pytest.fixture
async def pooled(tmp_path: Path) -> AsyncIterator[Store]:
    store = await Store.open(f"sqlite:///{tmp_path / 'pooled.db'}", ENGINE, workers=2)
    assert store.workers is not None and len(store.workers.workers) == 2
    yield store
    await store.close()


async def _dialog(store: Store, turns: list[tuple[str, str]], order: str) -> list[str]:
    conv, _, _ = await store.create(CASE.model_copy(update={"order_id": order}))
    answers = []
    for role, text in turns:
        done = await store.post_turn(conv.id, role, text)
        assert isinstance(done, Prepared)
        answers.append(done.answer.replace(conv.id, "<id>"))
    return answers


async def test_workers_answer_byte_for_byte_like_the_writer(pooled: Store, tmp_path: Path) -> None:
    alone = await Store.open(f"sqlite:///{tmp_path / 'alone.db'}", ENGINE)
    try:
        for k, dialog in enumerate(read_jsonl(DATA / "dialogs_dev.jsonl")[:6]):
            turns = [(t["role"], t["text"]) for t in dialog["turns"]]
            assert await _dialog(pooled, turns, f"D-{k}") == await _dialog(alone, turns, f"D-{k}")
    finally:
        await alone.close()
    assert pooled.workers is not None and pooled.workers.restarts == 0


async def test_refusals_come_back_from_the_workers(pooled: Store) -> None:
    conv, _, _ = await pooled.create(CASE)
    with pytest.raises(NotFound):
        await pooled.post_turn("no-such-conversation", "buyer", "在吗")
    with pytest.raises(Forbidden):
        await pooled.post_turn(conv.id, "buyer", "在吗", shop="别家小店")
    first = await pooled.post_turn(conv.id, "buyer", "是我，手机号13812345678", message_id="m-1")
    again = await pooled.post_turn(conv.id, "buyer", "是我，手机号13812345678", message_id="m-1")
    assert isinstance(first, Prepared) and isinstance(again, Duplicate)
    assert "13812345678" in first.answer and "13812345678" not in first.stored  # masked at rest
    assert again.stored == first.stored
    await pooled.close_case(conv.id, "resolved")
    with pytest.raises(ConversationClosed, match="已经登记过结果"):
        await pooled.close_case(conv.id, "resolved")  # the outcome is recorded once
    bye = await pooled.post_turn(conv.id, "buyer", "好的，拜拜")  # answered after the end too
    assert isinstance(bye, Prepared) and bye.stage == "closed" and not bye.is_open
    _, turns = await pooled.get(conv.id)
    assert [t["turn"] for t in turns] == [1, 2]


async def test_the_writer_waits_a_moment_for_decisions_still_out(tmp_path: Path) -> None:
    store = await Store.open(f"sqlite:///{tmp_path / 'w.db'}", ENGINE)
    writer = store.writer
    assert writer is not None
    loop = asyncio.get_running_loop()

    async def two_jobs_apart() -> int:
        before = writer.batches
        late: asyncio.Future[object] = loop.create_future()
        loop.call_later(0.0002, lambda: late.set_result(asyncio.ensure_future(writer.submit(lambda c: 2))))
        first = await asyncio.gather(writer.submit(lambda c: 1), late)
        assert first[0] == 1 and await first[1] == 2  # type: ignore[misc]
        return writer.batches - before

    try:
        assert await two_jobs_apart() == 2  # no wait: the first job commits alone
        writer.window, writer.more_coming = 0.002, lambda: True
        assert await two_jobs_apart() == 1  # decisions out at the workers: they share one
        writer.more_coming = lambda: False
        assert await two_jobs_apart() == 2  # nothing out: no wait
    finally:
        await store.close()


async def test_concurrent_messages_on_one_conversation_take_turns(pooled: Store) -> None:
    conv, _, _ = await pooled.create(CASE)
    done = await asyncio.gather(*(pooled.post_turn(conv.id, "buyer", f"第{i}条：还在吗")
                                  for i in range(60)))
    assert sorted(d.turn for d in done if isinstance(d, Prepared)) == list(range(1, 61))
    _, turns = await pooled.get(conv.id)
    assert [t["turn"] for t in turns] == list(range(1, 61))
    assert len(pooled.locks) == 0  # no lock is kept once nobody waits


async def test_a_turn_decided_on_a_state_that_moved_on_is_not_written(pooled: Store) -> None:
    conv, _, _ = await pooled.create(CASE)
    assert pooled.workers is not None
    stale = await pooled.workers.decide(conv.id, "buyer", "是我", None, None, None)
    assert isinstance(stale, Prepared)
    await pooled.post_turn(conv.id, "buyer", "是我")  # another turn lands first
    assert not await pooled._write(functools.partial(pooled._commit_checked, p=stale))
    before_close = await pooled.workers.decide(conv.id, "agent", "好的，我记下了", None, None, None)
    await pooled.close_case(conv.id, "resolved")  # a person closes the case meanwhile
    assert isinstance(before_close, Prepared)
    assert not await pooled._write(functools.partial(pooled._commit_checked, p=before_close))
    _, turns = await pooled.get(conv.id)
    assert [t["turn"] for t in turns] == [1]


async def test_a_killed_worker_loses_no_turn_and_is_replaced(pooled: Store) -> None:
    assert pooled.workers is not None
    conv, _, _ = await pooled.create(CASE)
    victim = pooled.workers.workers[0].proc

    async def talk(i: int) -> Prepared | Duplicate:
        return await pooled.post_turn(conv.id, "buyer", f"第{i}条", message_id=f"k-{i}")

    first = [asyncio.create_task(talk(i)) for i in range(20)]
    await asyncio.sleep(0.01)
    os.kill(victim.pid, signal.SIGKILL)
    rest = [asyncio.create_task(talk(i)) for i in range(20, 40)]
    done = await asyncio.gather(*first, *rest)
    assert sorted(d.turn for d in done if isinstance(d, Prepared)) == list(range(1, 41))
    for _ in range(100):  # a replacement starts after a second
        if pooled.workers.restarts == 1 and len(pooled.workers.workers) == 2:
            break
        await asyncio.sleep(0.1)
    assert pooled.workers.restarts == 1 and all(w.alive for w in pooled.workers.workers)
    assert victim.pid not in [w.proc.pid for w in pooled.workers.workers]
    again = await pooled.post_turn(conv.id, "agent", "您好，请问是周女士吗？")
    assert isinstance(again, Prepared) and again.turn == 41


async def test_closing_the_store_stops_its_workers(tmp_path: Path) -> None:
    store = await Store.open(f"sqlite:///{tmp_path / 'c.db'}", ENGINE, workers=1)
    assert store.workers is not None
    proc = store.workers.workers[0].proc
    await store.close()
    assert proc.poll() == 0  # it saw its socket close and exited by itself


async def test_keyed_lock_serialises_one_key_and_forgets_it() -> None:
    locks, order = KeyedLock(), []

    async def hold(key: str, tag: str) -> None:
        async with locks(key):
            order.append(f"{tag}+")
            await asyncio.sleep(0.01)
            order.append(f"{tag}-")

    await asyncio.gather(hold("a", "1"), hold("a", "2"), hold("b", "3"))
    assert order.index("1-") < order.index("2+")  # one key: one at a time
    assert order.index("3+") < order.index("1-")  # other keys do not wait
    assert len(locks) == 0
    blocker = asyncio.create_task(hold("a", "4"))
    await asyncio.sleep(0)
    waiter = asyncio.create_task(hold("a", "5"))
    await asyncio.sleep(0)
    waiter.cancel()  # cancelled while waiting: it no longer counts
    await asyncio.gather(blocker, waiter, return_exceptions=True)
    assert len(locks) == 0


def test_the_default_is_one_worker_per_core_but_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CSBOT_WORKERS", raising=False)
    cores = len(os.sched_getaffinity(0))
    assert Settings().turn_workers() == max(cores - 1, 0)
    monkeypatch.setenv("CSBOT_WORKERS", "3")
    assert Settings().turn_workers() == 3
    monkeypatch.setenv("CSBOT_WORKERS", "-1")
    with pytest.raises(ValueError, match="workers"):
        Settings()


def test_the_wire_format_is_plain_values() -> None:
    import marshal

    conv, _ = ENGINE.start(CASE, conversation_id="c-1")
    from bot.store.turns import ConvRow, decide

    p = decide(ENGINE, ConvRow(CASE.shop, True, conv.model_dump_json(), 0), None, "c-1",
               "agent", "给您好评返现5元", None, None, None)
    assert isinstance(p, Prepared)
    back = Prepared.from_wire(marshal.loads(marshal.dumps(p.wire())))
    assert back == p and ("conditional_benefit", "block") in back.findings
    assert json.loads(back.answer)["turn"] == 1


def test_serve_takes_the_worker_count_from_its_flag(tmp_path: Path) -> None:
    import subprocess
    import sys
    import time
    import urllib.request

    from tests.server_proc import ROOT, free_port

    bad = subprocess.run([sys.executable, "-m", "bot", "serve", "--workers", "-1"], cwd=ROOT,
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "--workers" in bad.stderr
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "CSBOT_WORKERS"}
    proc = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--db", f"sqlite:///{tmp_path / 'f.db'}",
                             "--port", str(port), "--workers", "2"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                    break
            except OSError:
                time.sleep(0.1)
        children = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True)
        assert len(children.stdout.split()) == 2
    finally:
        proc.terminate()
        assert proc.wait(20) == 0
