"""The real server as a process: SIGKILL loses no acknowledged turn; two instances on one
PostgreSQL serialise 200 concurrent messages; SIGTERM shuts down cleanly."""

from __future__ import annotations

import asyncio
import json
import signal
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from tests.pg import create_database, drop_database
from tests.server_proc import TOKEN, ServerProcess, call

CASE = {"shop": "茗香茶庄", "buyer_name": "孙", "honorific": "先生", "product": "明前龙井",
        "order_id": "CRASH-1"}
SCRIPT = [("agent", "您好，请问是孙先生吗？我是茗香茶庄的售后阿杰。"), ("buyer", "是我"),
          ("agent", "您12号买的那罐明前龙井还记得吗？"), ("buyer", "记得，一股陈味，根本不是新茶"),
          ("agent", "非常抱歉，花钱买新茶却喝到陈味，确实扫兴。")]


@pytest.fixture
def pg_url() -> Iterator[str]:
    url = create_database()
    yield url
    drop_database(url)


def test_sigkill_loses_no_acknowledged_turn(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'crash.db'}"
    server = ServerProcess(db).start()
    try:
        status, body = call(server.url, "POST", "/api/v1/conversations", CASE)
        assert status == 201
        cid = body["conversation"]["id"]  # type: ignore[index]
        acknowledged = 0
        for role, text in SCRIPT:
            status, sug = call(server.url, "POST", f"/api/v1/conversations/{cid}/messages",
                               {"role": role, "text": text})
            assert status == 200
            acknowledged += 1
        last_stage = sug["stage"]["id"]  # type: ignore[index]
    finally:
        server.proc.send_signal(signal.SIGKILL)  # type: ignore[union-attr]
        server.proc.wait(10)  # type: ignore[union-attr]
    again = ServerProcess(db, server.port).start()
    try:
        status, detail = call(again.url, "GET", f"/api/v1/conversations/{cid}")
        assert status == 200
        assert [t["turn"] for t in detail["turns"]] == list(range(1, acknowledged + 1))  # type: ignore[index]
        # the stage the last acknowledged turn reached, whatever the understanding made of it
        assert detail["conversation"]["stage"] == last_stage != "confirm_identity"  # type: ignore[index]
        status, sug = call(again.url, "POST", f"/api/v1/conversations/{cid}/messages",
                           {"role": "agent", "text": "这批茶叶仓储受潮了，我们已经整批下架。"})
        assert status == 200 and sug["turn"] == acknowledged + 1  # type: ignore[index]
    finally:
        assert again.terminate() == 0  # SIGTERM: graceful shutdown, exit code 0


def test_two_instances_on_postgresql_serialise_200_messages(pg_url: str) -> None:
    a = ServerProcess(pg_url).start()
    b = ServerProcess(pg_url).start()
    try:
        status, body = call(a.url, "POST", "/api/v1/conversations", {**CASE, "order_id": "PG-200"})
        assert status == 201
        cid = body["conversation"]["id"]  # type: ignore[index]

        async def blast() -> list[tuple[int, int]]:
            headers = {"Authorization": f"Bearer {TOKEN}"}
            async with aiohttp.ClientSession(headers=headers) as http:
                async def one(i: int) -> tuple[int, int]:
                    base = a.url if i % 2 else b.url
                    async with http.post(f"{base}/api/v1/conversations/{cid}/messages",
                                         json={"role": "buyer", "text": f"第{i}条", "message_id": f"m{i}"}) as r:
                        data = await r.json()
                        return r.status, data["turn"]
                return await asyncio.gather(*(one(i) for i in range(200)))

        results = asyncio.run(blast())
        assert all(s == 200 for s, _ in results)
        assert sorted(t for _, t in results) == list(range(1, 201))
        status, detail = call(b.url, "GET", f"/api/v1/conversations/{cid}")
        turns = [t["turn"] for t in detail["turns"]]  # type: ignore[index]
        assert turns == list(range(1, 201))
        ids = sorted(t["message_id"] for t in detail["turns"])  # type: ignore[index]
        assert ids == sorted(f"m{i}" for i in range(200))
        # a platform retry on the other instance is answered from the store
        stored_turn = next(t["turn"] for t in detail["turns"] if t["message_id"] == "m3")  # type: ignore[index]
        status, again = call(a.url, "POST", f"/api/v1/conversations/{cid}/messages",
                             {"role": "buyer", "text": "第3条", "message_id": "m3"})
        assert status == 200 and again["turn"] == stored_turn  # type: ignore[index]
        status, detail = call(a.url, "GET", f"/api/v1/conversations/{cid}")
        assert len(detail["turns"]) == 200  # type: ignore[index,arg-type]
    finally:
        a.kill()
        b.kill()


def test_websocket_on_one_instance_sees_turns_posted_to_another(pg_url: str) -> None:
    a = ServerProcess(pg_url).start()
    b = ServerProcess(pg_url).start()
    try:
        _, body = call(a.url, "POST", "/api/v1/conversations", {**CASE, "order_id": "WS-2"})
        cid = body["conversation"]["id"]  # type: ignore[index]

        async def watch() -> list[int]:
            headers = {"Authorization": f"Bearer {TOKEN}"}
            async with aiohttp.ClientSession(headers=headers) as http:
                ws = await http.ws_connect(f"{b.url}/api/v1/conversations/{cid}/ws")
                for role, text in SCRIPT[:3]:
                    async with http.post(f"{a.url}/api/v1/conversations/{cid}/messages",
                                         json={"role": role, "text": text}) as r:
                        assert r.status == 200
                got = [json.loads((await ws.receive(timeout=10)).data)["turn"] for _ in range(3)]
                await ws.close()
                return got

        assert asyncio.run(watch()) == [1, 2, 3]
    finally:
        a.kill()
        b.kill()
