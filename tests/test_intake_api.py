"""GET /api/v1/queue, assignment and contact attempts over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import select, update

from bot.intake.contact import ContactRules
from bot.intake.importer import import_reviews
from bot.intake.records import ReviewIn
from bot.server.app import STORE, build_app
from bot.server.queue import RULES
from bot.store import schema
from tests.shared import shared_engine

ENGINE = shared_engine()
CONTRACT = {"conversation_id", "buyer_name", "order_id", "product", "review_rating", "platform", "stage",
            "status", "callback_at", "urgency", "reasons", "assigned_to", "review_time", "created_at"}


class Api:
    def __init__(self, client: TestClient, tokens: dict[str, str], names: dict[str, str], shop: str,
                 ids: dict[str, str]) -> None:
        self.client, self.tokens, self.names, self.shop, self.ids = client, tokens, names, shop, ids

    def h(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    async def get(self, who: str = "lin", **query: str) -> tuple[int, Any]:
        r = await self.client.get("/api/v1/queue", params=query, headers=self.h(who))
        return r.status, await r.json()

    async def post(self, path: str, body: Any, who: str = "lin") -> tuple[int, Any]:
        r = await self.client.post(path, json=body, headers=self.h(who))
        return r.status, await r.json()


def rv(order: str, buyer: str, rating: str, hours: float, product: str, shop: str, text: str = "") -> ReviewIn:
    return ReviewIn(shop=shop, order_id=order, sub_order_id="1", buyer_name=buyer, product=product,
                    rating=rating, review_text=text or None,  # type: ignore[arg-type]
                    review_time=datetime.now(UTC) - timedelta(hours=hours))


@pytest.fixture
async def api(aiohttp_client: Any, db_url: str) -> AsyncIterator[Api]:
    app: web.Application = await build_app(db_url, ENGINE)
    store = app[STORE]
    suffix = uuid.uuid4().hex[:6]
    shop, other = f"柚子家{suffix}", f"别家{suffix}"
    names = {"lin": f"小林{suffix}", "zhou": f"小周{suffix}", "other": f"别人{suffix}", "admin": f"管理{suffix}"}
    tokens = {"lin": await store.add_token(names["lin"], "agent", shop),
              "zhou": await store.add_token(names["zhou"], "agent", shop),
              "other": await store.add_token(names["other"], "agent", other),
              "admin": await store.add_token(names["admin"], "admin", "*"),
              "shop_admin": await store.add_token(f"店长{suffix}", "admin", shop)}
    done = await import_reviews(store, ENGINE, [
        rv(f"{suffix}1", "小**猫", "差评", 30, "碎花连衣裙", shop, "质量太差"),
        rv(f"{suffix}2", "t**8", "中评", 2, "纯棉T恤", shop, "有点色差"),
        rv(f"{suffix}3", "j**n", "差评", 3, "羽绒服", shop, "给我返50块我就删差评"),
        rv(f"{suffix}4", "别家买家", "差评", 1, "围巾", other),
    ])
    ids = dict(zip(("cat", "tee", "extort", "other"), done.ids, strict=True))
    yield Api(await aiohttp_client(app), tokens, names, shop, ids)


async def test_the_queue_holds_the_shops_cases_by_urgency(api: Api) -> None:
    status, body = await api.get()
    assert status == 200 and body["total"] == 3
    items = body["items"]
    assert [i["conversation_id"] for i in items] == [api.ids["extort"], api.ids["cat"], api.ids["tee"]]
    assert all(set(i) >= CONTRACT for i in items)
    first = items[0]
    assert first["stage"] == {"id": "opening", "label": "开场"} and first["status"] == "waiting"
    assert first["review_rating"] == "差评" and first["platform"] == "taobao" and first["assigned_to"] is None
    assert first["buyer_name"] == "j**n" and first["product"] == "羽绒服" and first["callback_at"] is None
    assert any(r.startswith("疑似恶意评价") for r in first["reasons"])
    assert items[1]["status"] == "overdue" and isinstance(items[1]["urgency"], int)
    # Another shop's agent sees only their own shop; an admin sees every shop.
    _, theirs = await api.get("other")
    assert [i["conversation_id"] for i in theirs["items"]] == [api.ids["other"]]
    _, everything = await api.get("admin")
    assert {api.ids["cat"], api.ids["other"]} <= {i["conversation_id"] for i in everything["items"]}


async def test_filters(api: Api) -> None:
    _, body = await api.get(q="T恤")
    assert [i["conversation_id"] for i in body["items"]] == [api.ids["tee"]] and body["total"] == 1
    _, body = await api.get(q="J**N")
    assert [i["conversation_id"] for i in body["items"]] == [api.ids["extort"]]
    order = (await api.get())[1]["items"][1]["order_id"]
    _, body = await api.get(q=order[-4:])
    assert [i["order_id"] for i in body["items"]] == [order]
    _, body = await api.get(status="overdue")
    assert [i["conversation_id"] for i in body["items"]] == [api.ids["cat"]]
    _, body = await api.get(mine="1")
    assert body == {"items": [], "total": 0}
    _, body = await api.get(limit="1", offset="1")
    assert body["total"] == 3 and [i["conversation_id"] for i in body["items"]] == [api.ids["cat"]]


@pytest.mark.parametrize("query,message", [
    ({"status": "done"}, "status：应为 waiting、in_progress、callback、overdue 之一"),
    ({"mine": "maybe"}, "mine：应为 1 或 0"),
    ({"shop": "别家"}, "不认识的查询参数：shop"),
    ({"limit": "0"}, "limit：应在 1 到 1000 之间"),
    ({"q": "x" * 101}, "q：搜索词太长或含有非法字符"),
])
async def test_bad_queries_are_told_in_chinese(api: Api, query: dict[str, str], message: str) -> None:
    status, body = await api.get(**query)
    assert status == 422 and body == {"error": {"code": "invalid", "message": message}}


async def test_an_agent_takes_a_case_and_sees_their_own_first(api: Api) -> None:
    tee = api.ids["tee"]
    status, body = await api.post(f"/api/v1/queue/{tee}/assign", {})
    assert status == 200 and body == {"conversation_id": tee, "assigned_to": api.names["lin"]}
    _, mine = await api.get(mine="1")
    assert [i["conversation_id"] for i in mine["items"]] == [tee]
    _, ranked = await api.get()
    assert ranked["items"][0]["conversation_id"] == tee  # the agent's own before more urgent ones
    _, theirs = await api.get("zhou")
    assert theirs["items"][-1]["conversation_id"] == tee and theirs["items"][-1]["assigned_to"] == api.names["lin"]
    status, body = await api.post(f"/api/v1/queue/{tee}/assign", {}, who="zhou")
    assert status == 409 and body["error"]["code"] == "taken" and api.names["lin"] in body["error"]["message"]
    status, body = await api.post(f"/api/v1/queue/{tee}/assign", {"agent": api.names["lin"]}, who="zhou")
    assert status == 403 and "只有管理员" in body["error"]["message"]
    status, body = await api.post(f"/api/v1/queue/{tee}/assign", {"agent": api.names["zhou"]}, who="admin")
    assert status == 200 and body["assigned_to"] == api.names["zhou"]
    status, _ = await api.post(f"/api/v1/queue/{tee}/assign", {}, who="other")
    assert status in (403, 404)  # another shop's case (404 once it must not tell that it exists)
    status, body = await api.post("/api/v1/queue/nope/assign", {}, who="admin")
    assert status == 404 and body["error"]["message"] == "没有这个会话"
    status, body = await api.post("/api/v1/queue/x%00y/assign", {}, who="admin")
    assert status in (400, 404) and body["error"]["code"] in ("bad_request", "not_found")


async def test_three_attempts_then_no_more(api: Api) -> None:
    cat = api.ids["cat"]
    evening = "2026-12-05T22:30:00+08:00"
    status, body = await api.post(f"/api/v1/queue/{cat}/attempts", {"kind": "no_answer", "at": evening})
    assert status == 201 and body["attempts"] == 1 and body["left"] == 2
    assert "现在是买家的休息时间（店铺时区 Asia/Shanghai 22:30，免打扰时段 21:00–08:00）" in body["warnings"][0]
    status, body = await api.post(f"/api/v1/queue/{cat}/attempts", {"kind": "contact",
                                                                    "at": "2026-12-06T10:00:00+08:00"})
    assert status == 201 and body["warnings"] == []
    r = await api.client.get(f"/api/v1/queue/{cat}/contact", headers=api.h("zhou"))
    assert r.status == 200 and (await r.json())["attempts"] == 2
    status, body = await api.post(f"/api/v1/queue/{cat}/attempts", {"kind": "callback"}, who="zhou")
    assert status == 201 and body["left"] == 0 and "这是最后一次联系（第 3 次，最多 3 次）。" in body["warnings"]
    status, body = await api.post(f"/api/v1/queue/{cat}/attempts", {"kind": "no_answer"})
    assert status == 409 and body["error"]["code"] == "too_many_attempts"
    assert "已经联系了 3 次" in body["error"]["message"]
    r = await api.client.get(f"/api/v1/queue/{cat}/contact", headers=api.h("lin"))
    assert r.status == 409
    _, queue = await api.get()
    item = next(i for i in queue["items"] if i["conversation_id"] == cat)
    assert item["urgency"] == 0 and item["status"] == "in_progress" and item["attempts"] == 3
    status, body = await api.post(f"/api/v1/queue/{cat}/attempts", {"kind": "visit"})
    assert status == 422 and "kind" in body["error"]["message"]
    status, _ = await api.post(f"/api/v1/queue/{cat}/attempts", {}, who="other")
    assert status in (403, 404)


async def test_an_agreed_callback_time_in_the_context_is_read(api: Api, aiohttp_client: Any) -> None:
    store = api.client.app[STORE]  # type: ignore[index]
    cid = api.ids["tee"]
    c = schema.conversations.c
    async with store.db.begin() as conn:
        state = json.loads((await conn.execute(select(c.state).where(c.id == cid))).scalar())
        state["stage"] = "callback"
        state["context"]["callback_at"] = "2026-12-05T20:00:00+08:00"
        await conn.execute(update(schema.conversations).where(c.id == cid).values(
            stage="callback", turn=3, state=json.dumps(state, ensure_ascii=False)))
    _, body = await api.get(status="callback")
    assert [i["conversation_id"] for i in body["items"]] == [cid]
    assert body["items"][0]["callback_at"] == "2026-12-05T20:00:00+08:00"
    assert body["items"][0]["stage"] == {"id": "callback", "label": "约定回访"}


async def test_the_rules_come_from_the_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CSBOT_QUIET_HOURS", "22:00-07:00")
    monkeypatch.setenv("CSBOT_SHOP_TIMEZONE", "Europe/Berlin")
    monkeypatch.setenv("CSBOT_FIRST_CONTACT_HOURS", "4")
    app = await build_app(f"sqlite:///{tmp_path / 'r.db'}", ENGINE)
    try:
        rules: ContactRules = app[RULES]
        assert rules.hours.span() == "22:00–07:00" and rules.hours.tz.key == "Europe/Berlin"
        assert rules.first_contact == timedelta(hours=4)
    finally:
        await app[STORE].close()
    monkeypatch.setenv("CSBOT_QUIET_HOURS", "night")
    from bot.channels.base import ConfigError

    with pytest.raises(ConfigError, match=r"免打扰时段应写成 21:00-08:00 这样.*请检查环境变量 CSBOT_QUIET_HOURS"):
        await build_app(f"sqlite:///{tmp_path / 'r2.db'}", ENGINE)


async def test_the_openapi_document_lists_the_queue(api: Api) -> None:
    doc = await (await api.client.get("/api/v1/openapi.json")).json()
    assert {"/api/v1/queue", "/api/v1/queue/{id}/assign", "/api/v1/queue/{id}/attempts",
            "/api/v1/queue/{id}/contact"} <= set(doc["paths"])
    assert set(doc["components"]["schemas"]["QueueItem"]["properties"]) >= CONTRACT
    r = await api.client.get("/api/v1/queue")
    assert r.status == 401


NASTY = ["", "\x00", "%00", "0", "-1", "1e9", "9" * 40, "true", "null", "[]", "{}", "🙂" * 50, "' OR 1=1 --",
         "../../etc", "ｍｉｎｅ", "x" * 1500, "\u202e", "overdue\x00", "1.5", " 1"]
BODIES: list[Any] = [None, [], "x", 1, {"agent": ""}, {"agent": "x" * 101}, {"agent": 1}, {"kind": None},
                     {"kind": "contact", "at": "昨天"}, {"kind": "contact", "at": 1e20}, {"x": 1},
                     {"kind": "contact", "at": "2026-12-05T22:00:00"}, {"agent": None, "extra": True}]


async def test_odd_input_never_gets_a_5xx(api: Api) -> None:
    import random

    rnd = random.Random(19)
    cid = api.ids["tee"]
    for _ in range(120):
        query = {k: rnd.choice(NASTY) for k in rnd.sample(["q", "status", "mine", "limit", "offset", "x"], 3)}
        r = await api.client.get("/api/v1/queue", params=query, headers=api.h(rnd.choice(["lin", "admin"])))
        assert r.status in (200, 400, 422), (query, await r.text())  # 400: a NUL anywhere (h17)
        body = await r.json()
        assert "error" in body or "items" in body
    for body in BODIES:
        for path in (f"/api/v1/queue/{cid}/assign", f"/api/v1/queue/{cid}/attempts", "/api/v1/queue/%00/attempts",
                     "/api/v1/queue/" + "a" * 300 + "/assign"):
            r = await api.client.post(path, data=json.dumps(body), headers={**api.h("admin"),
                                                                           "Content-Type": "application/json"})
            assert r.status < 500, (path, body, await r.text())
            assert "error" in await r.json() or r.status in (200, 201)


async def test_an_admin_of_one_shop_sees_only_that_shops_queue(api: Api) -> None:
    """The queue keeps the service's one rule of scope: an admin token made for one shop
    manages that shop only (only shop '*' sees every shop)."""
    status, body = await api.get("shop_admin")
    assert status == 200 and body["items"]
    assert {i["conversation_id"] for i in body["items"]} == {api.ids[k] for k in ("cat", "tee", "extort")}
    status, body = await api.get("admin")
    assert api.ids["other"] in {i["conversation_id"] for i in body["items"]}



async def _opened(api: Api, conv: str, product: str, reply: str) -> Any:
    """The agent's greeting about ``product`` and the buyer's reply, through the HTTP API: the
    suggestion answering the reply."""
    hello = f"您好，我是柚子家的售后客服小林，请问是您在我们店买的{product}吗？"
    for role, text in (("agent", hello), ("buyer", reply)):
        r = await api.client.post(f"/api/v1/conversations/{conv}/messages", json={"role": role, "text": text},
                                  headers=api.h("lin"))
        assert r.status == 200, await r.text()
    return await r.json()


async def test_the_queue_and_the_script_count_the_same_attempts(api: Api) -> None:
    """The queue counted recorded attempts (contact_attempts rows) and the script its own
    (context.attempts), and took the larger: two unanswered calls, then a chat that reached the
    buyer (the third attempt) read as 2 in the queue and 1 in the script, so the callback was
    resumed as a "second" attempt: a fourth contact. One count now, the case's own, for both."""
    from bot.server.app import TURNS

    turns = api.client.app[TURNS]  # type: ignore[index]
    cat = api.ids["cat"]
    for _ in range(2):
        status, body = await api.post(f"/api/v1/queue/{cat}/attempts", {"kind": "no_answer"})
        assert status == 201
    assert body["attempts"] == 2 and body["left"] == 1
    # the third attempt reaches the buyer, who is busy: a callback is agreed
    sug = await _opened(api, cat, "碎花连衣裙", "我在开会，现在不方便，晚上再说吧")
    assert sug["stage"]["id"] == "callback", sug["stage"]
    r = await api.client.get(f"/api/v1/queue/{cat}/contact", headers=api.h("lin"))
    assert r.status == 409, await r.text()  # the queue: three attempts made, no fourth
    with pytest.raises(ValueError, match="已经联系了 3 次"):
        await turns.resume(cat, api.shop)  # the script: the same three, no fourth either
    _, queue = await api.get()
    assert next(i for i in queue["items"] if i["conversation_id"] == cat)["attempts"] == 3
    # the other way round: a callback resumed by the script is an attempt the queue counts
    tee = api.ids["tee"]
    await _opened(api, tee, "纯棉T恤", "我在开会，现在不方便，晚上再说吧")
    await turns.resume(tee, api.shop)
    status, body = await api.post(f"/api/v1/queue/{tee}/attempts", {"kind": "no_answer"})
    assert status == 201 and body["attempts"] == 3 and body["left"] == 0, body
    status, body = await api.post(f"/api/v1/queue/{tee}/attempts", {"kind": "no_answer"})
    assert status == 409 and "已经联系了 3 次" in body["error"]["message"]


async def test_one_contact_resumed_and_recorded_counts_once(api: Api) -> None:
    """`/恢复` in assist and `csbot contact` for the same call counted it twice: the follow-up
    of a closed case read as attempts 3 of 3 after one call. Either order is one attempt; an
    unanswered call is always one of its own."""
    from bot.server.app import TURNS

    turns = api.client.app[TURNS]  # type: ignore[index]
    cat = api.ids["cat"]
    status, body = await api.post(f"/api/v1/queue/{cat}/attempts", {"kind": "contact"})
    assert status == 201 and body["attempts"] == 1, body  # the first call, logged
    await _opened(api, cat, "碎花连衣裙", "是我，洗一次就起球了")
    await turns.close_case(cat, "unchanged", api.shop)
    await turns.resume(cat, api.shop)  # the follow-up call: /恢复 ...
    status, body = await api.post(f"/api/v1/queue/{cat}/attempts", {"kind": "contact"})  # ... logged
    assert status == 201 and body["attempts"] == 2 and body["left"] == 1, body
    _, queue = await api.get()
    assert next(i for i in queue["items"] if i["conversation_id"] == cat)["attempts"] == 2
    # the other order on a callback: logged first, then resumed: one attempt too
    tee = api.ids["tee"]
    await _opened(api, tee, "纯棉T恤", "我在开会，现在不方便，晚上再说吧")
    status, body = await api.post(f"/api/v1/queue/{tee}/attempts", {"kind": "callback"})
    assert status == 201 and body["attempts"] == 2, body
    await turns.resume(tee, api.shop)
    _, queue = await api.get()
    assert next(i for i in queue["items"] if i["conversation_id"] == tee)["attempts"] == 2


async def test_the_call_a_resume_counted_is_no_fourth(api: Api) -> None:
    """The third attempt resumed with `/恢复`: logging that same call was refused as a fourth."""
    from bot.server.app import TURNS

    turns = api.client.app[TURNS]  # type: ignore[index]
    cat = api.ids["cat"]
    for _ in range(2):
        await api.post(f"/api/v1/queue/{cat}/attempts", {"kind": "no_answer"})
    await _opened(api, cat, "碎花连衣裙", "是我，洗一次就起球了")
    await turns.close_case(cat, "unchanged", api.shop)
    with pytest.raises(ValueError, match="已经联系了 3 次"):
        await turns.resume(cat, api.shop)  # three made: the script refuses a fourth
    tee = api.ids["tee"]
    await api.post(f"/api/v1/queue/{tee}/attempts", {"kind": "no_answer"})
    await _opened(api, tee, "纯棉T恤", "是我，有点色差")
    await turns.close_case(tee, "unchanged", api.shop)
    await turns.resume(tee, api.shop)  # the third
    r = await api.client.get(f"/api/v1/queue/{tee}/contact", headers=api.h("lin"))
    assert r.status == 200, await r.text()
    status, body = await api.post(f"/api/v1/queue/{tee}/attempts", {"kind": "contact"})
    assert status == 201 and body["attempts"] == 3 and body["left"] == 0, body
