"""The HTTP service in process (pytest-aiohttp), on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import select, update

from bot.engine import Engine
from bot.server.app import STORE, build_app
from bot.service.turns import TurnService
from bot.store import schema
from bot.store.db import Store
from tests.shared import shared_engine

ENGINE = shared_engine()
CASE = {"shop": "柚子家女装", "buyer_name": "周敏", "honorific": "女士", "product": "连衣裙",
        "order_id": "O-1001", "order_date": "2026-03-02"}


class Api:
    def __init__(self, client: TestClient, tokens: dict[str, str]) -> None:
        self.client, self.tokens = client, tokens

    def h(self, who: str = "agent") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    async def create(self, who: str = "agent", **case: Any) -> dict[str, Any]:
        r = await self.client.post("/api/v1/conversations", json={**CASE, **case}, headers=self.h(who))
        assert r.status in (200, 201), await r.text()
        return await r.json()  # type: ignore[no-any-return]

    async def say(self, cid: str, role: str, text: str, **kw: Any) -> Any:
        return await self.client.post(f"/api/v1/conversations/{cid}/messages",
                                      json={"role": role, "text": text, **kw}, headers=self.h())


@pytest.fixture
async def api(aiohttp_client: Any, db_url: str) -> AsyncIterator[Api]:
    app: web.Application = await build_app(db_url, ENGINE, max_body=16 * 1024)
    store = app[STORE]
    import uuid

    suffix = uuid.uuid4().hex[:6]
    tokens = {"agent": await store.add_token(f"小林{suffix}", "agent", "柚子家女装"),
              "other": await store.add_token(f"别家{suffix}", "agent", "别家小店"),
              "admin": await store.add_token(f"管理{suffix}", "admin", "*")}
    client = await aiohttp_client(app)
    yield Api(client, tokens)


async def test_create_is_keyed_by_shop_buyer_and_order(api: Api) -> None:
    first = await api.create(order_id="K-1")
    again = await api.create(order_id="K-1")
    other = await api.create(order_id="K-2")
    assert first["conversation"]["id"] == again["conversation"]["id"] != other["conversation"]["id"]
    assert first["suggestion"]["stage"]["id"] == "opening"
    assert "周敏女士" in first["suggestion"]["suggestions"][0]["text"]
    r = await api.client.post("/api/v1/conversations", json={**CASE, "order_id": "K-1"},
                              headers=api.h("admin"))
    assert r.status == 200


async def test_a_whole_turn_cycle(api: Api) -> None:
    cid = (await api.create(order_id="T-1"))["conversation"]["id"]
    r = await api.say(cid, "agent", "您好，请问是周女士吗？我是柚子家女装的售后小林。")
    s = await r.json()
    assert r.status == 200 and s["turn"] == 1 and s["stage"] == {"id": "confirm_identity", "label": "确认身份"}
    s = await (await api.say(cid, "buyer", "是我，颜色跟图片差太多了")).json()
    assert s["turn"] == 2 and s["understanding"]["cause"] == "not_as_described"
    detail = await (await api.client.get(f"/api/v1/conversations/{cid}", headers=api.h())).json()
    assert [t["turn"] for t in detail["turns"]] == [1, 2]
    assert detail["conversation"]["stage"] == s["stage"]["id"]


async def test_repeated_message_id_returns_the_stored_answer(api: Api) -> None:
    cid = (await api.create(order_id="D-1"))["conversation"]["id"]
    a = await (await api.say(cid, "buyer", "是我", message_id="plat-1")).json()
    b = await (await api.say(cid, "buyer", "是我", message_id="plat-1")).json()
    assert a == b
    detail = await (await api.client.get(f"/api/v1/conversations/{cid}", headers=api.h())).json()
    assert len(detail["turns"]) == 1


async def test_personal_data_is_masked_at_rest(api: Api) -> None:
    cid = (await api.create(order_id="P-1"))["conversation"]["id"]
    await api.say(cid, "buyer", "我电话13812345678，寄到浙江省杭州市西湖区文三路100号")
    detail = await (await api.client.get(f"/api/v1/conversations/{cid}", headers=api.h())).json()
    stored = json.dumps(detail, ensure_ascii=False)
    assert "13812345678" not in stored and "文三路100号" not in stored
    assert "[手机号]" in detail["turns"][0]["text"]


@pytest.mark.parametrize("body,status,code", [
    (b"{not json", 400, "bad_json"),
    (b"", 400, "empty_body"),
    (json.dumps({"role": "buyer"}).encode(), 422, "invalid"),
    (json.dumps({"role": "boss", "text": "hi"}).encode(), 422, "invalid"),
    (json.dumps({"role": "buyer", "text": 5}).encode(), 422, "invalid"),
    (json.dumps({"role": "buyer", "text": ""}).encode(), 422, "invalid"),
    (json.dumps({"role": "buyer", "text": "长" * 2001}, ensure_ascii=False).encode(), 422, "invalid"),
    (json.dumps({"role": "buyer", "text": "好", "extra": 1}).encode(), 422, "invalid"),
    (b"[1, 2]", 422, "invalid"),
    (b'{"role": "buyer", "text": "\\ud800"}', 422, "invalid"),  # half a surrogate pair
    (b'{"role": "buyer", "text": NaN}', 422, "invalid"),
    (b'{"role":"buyer","text":"' + b"x" * 20000 + b'"}', 413, "too_large"),
])
async def test_bad_message_bodies(api: Api, body: bytes, status: int, code: str) -> None:
    cid = (await api.create(order_id="B-1"))["conversation"]["id"]
    r = await api.client.post(f"/api/v1/conversations/{cid}/messages", data=body,
                              headers={**api.h(), "Content-Type": "application/json"})
    assert r.status == status, await r.text()
    err = (await r.json())["error"]
    assert err["code"] == code and err["message"] and "Traceback" not in err["message"]


async def test_wrong_content_type_and_unknown_routes(api: Api) -> None:
    cid = (await api.create(order_id="B-2"))["conversation"]["id"]
    r = await api.client.post(f"/api/v1/conversations/{cid}/messages", data="role=buyer",
                              headers={**api.h(), "Content-Type": "application/x-www-form-urlencoded"})
    assert r.status == 415 and (await r.json())["error"]["code"] == "unsupported_media_type"
    r = await api.client.get("/api/v1/nothing", headers=api.h())
    assert r.status == 404 and (await r.json())["error"]["code"] == "not_found"
    r = await api.client.delete(f"/api/v1/conversations/{cid}", headers=api.h())
    assert r.status == 405 and "error" in await r.json()


async def test_unknown_closed_and_foreign_conversations(api: Api) -> None:
    r = await api.say("no-such-id", "buyer", "你好")
    assert r.status == 404 and (await r.json())["error"]["code"] == "not_found"
    cid = (await api.create(order_id="C-1"))["conversation"]["id"]
    r = await api.client.post(f"/api/v1/conversations/{cid}/messages", json={"role": "buyer", "text": "在"},
                              headers=api.h("other"))
    # another shop's conversation is not found, as one that does not exist (a 403 would say it does)
    assert r.status == 404 and await r.json() == {"error": {"code": "not_found", "message": "没有这个会话"}}
    r = await api.client.get(f"/api/v1/conversations/{cid}", headers=api.h("other"))
    assert r.status == 404
    r = await api.client.post(f"/api/v1/conversations/{cid}/close", json={"outcome": "resolved"},
                              headers=api.h())
    body = await r.json()
    assert r.status == 200 and body["conversation"]["outcome"] == "resolved"
    assert body["conversation"]["stage"] == "closed" and body["conversation"]["open"] is False
    r = await api.say(cid, "buyer", "好的，再见")  # answered after the end (issue 16); still closed
    assert r.status == 200 and (await r.json())["stage"]["id"] == "closed"
    r = await api.client.post(f"/api/v1/conversations/{cid}/close", json={"outcome": "resolved"},
                              headers=api.h())
    assert r.status == 409
    r = await api.client.post(f"/api/v1/conversations/{cid}/close", json={"outcome": "maybe"},
                              headers=api.h())
    assert r.status == 409 or r.status == 422
    created = await api.create(order_id="C-1")  # a closed case does not block a new one
    assert created["conversation"]["id"] != cid


async def test_close_with_a_bad_outcome_is_422(api: Api) -> None:
    cid = (await api.create(order_id="C-2"))["conversation"]["id"]
    r = await api.client.post(f"/api/v1/conversations/{cid}/close", json={"outcome": "maybe"},
                              headers=api.h())
    assert r.status == 422 and "outcome" in (await r.json())["error"]["message"]


async def test_create_validation(api: Api) -> None:
    for body, needle in [({"shop": "柚子家女装"}, "buyer_name"),
                         ({**CASE, "platform": "jd"}, "platform"),
                         ({**CASE, "order_date": "昨天"}, "order_date"),
                         ({**CASE, "nickname": "x"}, "nickname")]:
        r = await api.client.post("/api/v1/conversations", json=body, headers=api.h())
        assert r.status == 422, body
        assert needle in (await r.json())["error"]["message"]
    r = await api.client.post("/api/v1/conversations", json={**CASE, "shop": "别家小店"}, headers=api.h())
    assert r.status == 403


async def test_auth(api: Api) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}):
        r = await api.client.get("/api/v1/conversations", headers=headers)
        assert r.status == 401 and (await r.json())["error"]["code"] == "unauthorized"
    store = api.client.app[STORE]
    name = f"temp{id(api)}"
    tok = await store.add_token(name, "agent", "柚子家女装")
    assert (await api.client.get("/api/v1/conversations", headers={"Authorization": f"Bearer {tok}"})).status == 200
    await store.revoke_token(name)
    assert (await api.client.get("/api/v1/conversations", headers={"Authorization": f"Bearer {tok}"})).status == 401
    async with store.db.connect() as conn:
        hashes = (await conn.execute(select(schema.tokens.c.token_hash))).scalars().all()
    assert tok not in hashes and all(len(h) == 64 for h in hashes)


async def test_a_token_revoked_elsewhere_passes_until_its_cache_time_is_up(api: Api, db_url: str) -> None:
    import time

    store = api.client.app[STORE]
    name = f"elsewhere{id(api)}"
    headers = {"Authorization": f"Bearer {await store.add_token(name, 'agent', '柚子家女装')}"}
    assert (await api.client.get("/api/v1/conversations", headers=headers)).status == 200
    other = await Store.open(db_url)  # as `csbot token revoke` does, in its own process
    try:
        assert await other.revoke_token(name)
    finally:
        await other.close()
    # Trusted from the cache for token_ttl (10 s by default), then looked up again.
    assert (await api.client.get("/api/v1/conversations", headers=headers)).status == 200
    store._tokens = {k: (info, time.monotonic() - 1) for k, (info, _) in store._tokens.items()}
    assert (await api.client.get("/api/v1/conversations", headers=headers)).status == 401


async def test_list_filters_and_scope(api: Api) -> None:
    a = (await api.create(who="admin", order_id="L-1", agent="阿杰"))["conversation"]["id"]  # an admin assigns it
    await api.say(a, "agent", "您好，请问是周女士吗？")
    await api.create(order_id="L-2")
    await api.create(who="other", shop="别家小店", order_id="L-3")
    listing = await (await api.client.get("/api/v1/conversations?stage=confirm_identity",
                                          headers=api.h())).json()
    assert a in [i["id"] for i in listing["items"]]
    assert all(i["stage"] == "confirm_identity" for i in listing["items"])
    mine = await (await api.client.get("/api/v1/conversations?limit=200", headers=api.h())).json()
    assert all(i["shop"] == "柚子家女装" for i in mine["items"])
    everyone = await (await api.client.get("/api/v1/conversations?limit=200", headers=api.h("admin"))).json()
    assert {"柚子家女装", "别家小店"} <= {i["shop"] for i in everyone["items"]}
    by_agent = await (await api.client.get("/api/v1/conversations?agent=阿杰", headers=api.h())).json()
    assert [i["id"] for i in by_agent["items"]] == [a]
    page = await (await api.client.get("/api/v1/conversations?limit=1&offset=1", headers=api.h())).json()
    assert page["limit"] == 1 and len(page["items"]) == 1 and page["total"] >= 2
    today = await (await api.client.get("/api/v1/conversations?since=2020-01-01&until=2999-01-01",
                                        headers=api.h())).json()
    assert today["total"] == mine["total"]
    closed = (await api.create(order_id="L-4"))["conversation"]["id"]
    await api.client.post(f"/api/v1/conversations/{closed}/close", json={"outcome": "review_kept"},
                          headers=api.h())
    kept = await (await api.client.get("/api/v1/conversations?outcome=review_kept", headers=api.h())).json()
    assert [i["id"] for i in kept["items"]] == [closed]
    for q in ("since=yesterday", "limit=0", "limit=x", "colour=red"):
        r = await api.client.get(f"/api/v1/conversations?{q}", headers=api.h())
        assert r.status == 422, q


async def test_websocket_pushes_every_new_turn(api: Api) -> None:
    cid = (await api.create(order_id="W-1"))["conversation"]["id"]
    ws1 = await api.client.ws_connect(f"/api/v1/conversations/{cid}/ws", headers=api.h())
    ws2 = await api.client.ws_connect(f"/api/v1/conversations/{cid}/ws", headers=api.h("admin"))
    await api.say(cid, "agent", "您好，请问是周女士吗？")
    await api.say(cid, "buyer", "是的")
    for ws in (ws1, ws2):
        got = [json.loads((await ws.receive(timeout=5)).data) for _ in range(2)]
        assert [g["turn"] for g in got] == [1, 2]
        assert got[1]["stage"]["id"] == "confirm_product"
        await ws.close()
    r = await api.client.get("/api/v1/conversations/nope/ws", headers=api.h())
    assert r.status == 404


async def test_health_metrics_openapi_docs(api: Api) -> None:
    assert (await (await api.client.get("/healthz")).json()) == {"status": "ok", "database": "ok"}
    cid = (await api.create(order_id="M-1"))["conversation"]["id"]
    await api.say(cid, "agent", "亲，好评返现5元哦")
    text = await (await api.client.get("/metrics")).text()
    assert 'csbot_turns_total{role="agent"} 1.0' in text
    assert 'csbot_guard_findings_total{code="conditional_benefit",severity="block"} 1.0' in text
    assert "csbot_open_conversations" in text and "csbot_turn_seconds_bucket" in text
    doc = await (await api.client.get("/api/v1/openapi.json")).json()
    assert doc["openapi"].startswith("3.")
    assert {"Suggestion", "MessageIn", "CreateConversation", "ErrorOut"} <= set(doc["components"]["schemas"])
    assert "/api/v1/conversations/{id}/messages" in doc["paths"]
    html = await (await api.client.get("/docs")).text()
    assert "csbot API 文档" in html and "openapi.json" in html


async def test_open_conversations_survive_a_script_edit(api: Api, tmp_path: Path, db_url: str) -> None:
    store = api.client.app[STORE]
    cid = (await api.create(order_id="S-1"))["conversation"]["id"]
    await api.say(cid, "agent", "您好，请问是周女士吗？")
    dialogs = tmp_path / "dialogs"
    shutil.copytree(ENGINE.dialogs, dialogs)
    script = dialogs / "script.yaml"
    edited = script.read_text(encoding="utf-8").replace("label: 确认身份", "label: 核对身份")
    script.write_text(edited.replace("renamed: {}", "renamed: {gone_stage: confirm_product}"),
                      encoding="utf-8")
    new_engine = Engine.load(dialogs)
    assert new_engine.script.version != ENGINE.script.version
    from bot.store.db import Store

    store2 = await Store.open(db_url)
    turns2 = TurnService.over(store2, new_engine)
    try:
        sug = (await turns2.turn(cid, "buyer", "是我")).suggestion
        assert sug.stage.id == "confirm_product" and sug.turn == 2
        _, turns = await store2.get(cid)
        assert len(turns) == 2
        # a stage that vanished: mapped when the shop says how, flagged for a person otherwise
        for target, expect in (("gone_stage", "mapped"), ("vanished", "flagged")):
            cid2 = (await api.create(order_id=f"S-{target}"))["conversation"]["id"]
            async with store.db.begin() as conn:
                row = (await conn.execute(select(schema.conversations.c.state).where(
                    schema.conversations.c.id == cid2))).scalar_one()
                state = json.loads(row)
                state["stage"], state["script_version"] = target, "old"
                await conn.execute(update(schema.conversations).where(
                    schema.conversations.c.id == cid2).values(state=json.dumps(state)))
            if expect == "mapped":
                sug = (await turns2.turn(cid2, "buyer", "记得，质量太差了")).suggestion
                assert sug.stage.id == "listen_apologize"
            else:
                from bot.store.errors import NeedsPerson

                with pytest.raises(NeedsPerson):
                    await turns2.turn(cid2, "buyer", "记得")
                summary, _ = await store2.get(cid2)
                assert summary.flagged is True
    finally:
        turns2.shutdown()
        await store2.close()


async def test_concurrent_messages_on_one_conversation_are_serialised(api: Api) -> None:
    cid = (await api.create(order_id="Q-1"))["conversation"]["id"]
    rs = await asyncio.gather(*(api.say(cid, "buyer", f"第{i}条消息", message_id=f"q{i}") for i in range(40)))
    assert all(r.status == 200 for r in rs)
    turns = sorted([(await r.json())["turn"] for r in rs])
    assert turns == list(range(1, 41))


def _count_conversation_reads(store: Store) -> list[str]:
    """Every SELECT that reads the conversations table, as the driver receives it: a
    SQLAlchemy event on the store's async engine, and sqlite3's own trace on SQLite's
    blocking reader (the turn service's load goes to the driver directly)."""
    from sqlalchemy import event

    seen: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM conversations" in statement:
            seen.append(statement)

    event.listen(store.db.sync_engine, "before_cursor_execute", before)
    if store.reader is not None:
        with store.reader.connect() as c:
            c.connection.driver_connection.set_trace_callback(  # type: ignore[union-attr]
                lambda statement: before(None, None, statement))
    return seen


async def test_a_conversation_is_read_once_per_request(api: Api) -> None:
    cid = (await api.create(order_id="R-1"))["conversation"]["id"]
    await api.say(cid, "agent", "您好，请问是周女士吗？")
    store = api.client.app[STORE]  # type: ignore[index]
    reads = _count_conversation_reads(store)
    detail = await (await api.client.get(f"/api/v1/conversations/{cid}", headers=api.h())).json()
    assert len(reads) == 1, reads  # the summary, the turns and what to say now: one read
    assert detail["current"]["stage"]["id"] == detail["conversation"]["stage"] == "confirm_identity"
    reads.clear()
    r = await api.client.post(f"/api/v1/conversations/{cid}/tone", json={"tone": "亲切"}, headers=api.h())
    assert r.status == 200
    # the service's load under the lock, and the summary it answers with: no read of the
    # Suggestion again after the save
    assert len(reads) == 2, reads


async def test_the_agent_reports_the_complaint_and_the_checklist_ticks(api: Api) -> None:
    cid = (await api.create(order_id="EXT-1"))["conversation"]["id"]
    url = f"/api/v1/conversations/{cid}/complaint"
    r = await api.client.post(url, headers=api.h())
    assert r.status == 409 and (await r.json())["error"]["code"] == "not_malicious"
    await api.say(cid, "agent", "您好，请问是周女士吗？我是柚子家女装的售后。")
    s = await (await api.say(cid, "buyer", "给我转200块钱我就把差评删了，不然别想")).json()
    assert s["stage"]["id"] == "malicious"
    item = "30 天内向平台投诉恶意评价"
    assert [c["done"] for c in s["checklist"] if c["item"] == item] == [False]
    assert (await api.client.post(url, headers=api.h("other"))).status == 404  # another shop's
    r = await api.client.post(url, headers=api.h())
    out = await r.json()
    assert r.status == 200, out
    assert [c["done"] for c in out["suggestion"]["checklist"] if c["item"] == item] == [True]
    assert out["conversation"]["stage"] == "malicious" and out["conversation"]["turns"] == 2
    detail = await (await api.client.get(f"/api/v1/conversations/{cid}", headers=api.h())).json()
    assert [c["done"] for c in detail["current"]["checklist"] if c["item"] == item] == [True]


_ENGLISH = re.compile(r"[A-Za-z']+ [A-Za-z']+")  # a parser's sentence ("Expecting value", "codec can't")


@pytest.mark.parametrize(("body", "said"), [
    (b'{"role":"buyer","text":', "第 1 行第 24 列"),
    (b'{"role":"buyer" "text":"hi"}', "逗号"),
    (b"{role: 'buyer'}", "双引号"),
    (b'{"role":"buyer","text":"hi"} x', "多余"),
    ('{"role":"buyer","text":"差评"}'.encode("gbk"), "UTF-8"),
])
async def test_a_body_that_is_not_json_is_told_in_chinese_where(api: Api, body: bytes, said: str) -> None:
    # An integrator got json's "Expecting value" and "'utf-8' codec can't decode byte 0xb2…"
    cid = (await api.create(order_id="J-1"))["conversation"]["id"]
    r = await api.client.post(f"/api/v1/conversations/{cid}/messages", data=body,
                              headers={**api.h(), "Content-Type": "application/json"})
    err = (await r.json())["error"]
    assert r.status == 400 and err["code"] == "bad_json", err
    assert said in err["message"] and not _ENGLISH.search(err["message"]), err["message"]


async def test_a_body_too_large_says_the_limit(api: Api) -> None:
    cid = (await api.create(order_id="J-2"))["conversation"]["id"]
    r = await api.client.post(f"/api/v1/conversations/{cid}/messages", data=b"{" + b" " * 20000 + b"}",
                              headers={**api.h(), "Content-Type": "application/json"})
    err = (await r.json())["error"]
    assert r.status == 413 and err["code"] == "too_large" and "16 KB" in err["message"], err


@pytest.mark.parametrize("turn", [True, 1.0, "1", 0])
async def test_a_correction_turn_is_a_turn_number(api: Api, turn: object) -> None:
    # {"turn": true} corrected turn 1 (pydantic's lax bool → int); turns count from 1
    cid = (await api.create(order_id="J-3"))["conversation"]["id"]
    await api.say(cid, "buyer", "衣服洗了一次就掉色")
    r = await api.client.post(f"/api/v1/conversations/{cid}/corrections", json={"turn": turn, "intent": "抱怨"},
                              headers=api.h())
    err = (await r.json())["error"]
    assert r.status == 422 and err["code"] == "invalid" and err["message"].startswith("turn："), err


async def test_close_takes_the_outcomes_chinese_name_as_corrections_do(api: Api) -> None:
    # "已解决" was refused with a list of English codes, while corrections take the names
    cid = (await api.create(order_id="O-1"))["conversation"]["id"]
    r = await api.client.post(f"/api/v1/conversations/{cid}/close", json={"outcome": "随便"}, headers=api.h())
    err = (await r.json())["error"]
    assert r.status == 422 and "已解决" in err["message"] and "review_updated" not in err["message"], err
    r = await api.client.post(f"/api/v1/conversations/{cid}/close", json={"outcome": "已解决"}, headers=api.h())
    assert r.status == 200 and (await r.json())["conversation"]["outcome"] == "resolved"


@pytest.mark.parametrize(("query", "said"), [("stage=listen_apologise", "倾听致歉"), ("outcome=done", "已解决")])
async def test_a_list_filter_that_names_nothing_is_refused_not_empty(api: Api, query: str, said: str) -> None:
    # a misspelt stage answered 200 and no conversations: "nobody is listening" read as fact
    await api.create(order_id="F-1")
    r = await api.client.get(f"/api/v1/conversations?{query}", headers=api.h())
    err = (await r.json())["error"]
    assert r.status == 422 and err["code"] == "invalid" and said in err["message"], err


async def test_a_list_filter_takes_the_chinese_name(api: Api) -> None:
    cid = (await api.create(order_id="F-2"))["conversation"]["id"]
    await api.say(cid, "buyer", "衣服洗了一次就掉色")
    r = await api.client.get("/api/v1/conversations", params={"stage": "倾听致歉"}, headers=api.h())
    body = await r.json()
    assert r.status == 200 and cid in [c["id"] for c in body["items"]], body
