"""A review is the buyer's first statement: the cause it states surely is the case's primary
cause from the moment the case is opened, whether imported (csbot import) or typed in with its
text (POST /api/v1/conversations). The talk keeps it unless the buyer corrects it; the queue
and the report show it with its Chinese name and where it came from (评价 / 沟通 / 更正)."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from click.testing import CliRunner

from bot.cli import main
from bot.insights.records import read_records
from bot.models import Case
from bot.server.app import STORE, build_app
from bot.service.turns import TurnService
from bot.store.db import Store
from tests.shared import shared_engine

ENGINE = shared_engine()

# A morning's export: a shrunk dress, a slow parcel, a review in traditional characters (the
# colour is not the picture's), one that states no problem, and a good review (no case).
EXPORT = """订单编号,买家昵称,宝贝,评价结果,评价内容,评价时间
3719204860001,小**猫,纯棉连衣裙 M码,差评,衣服洗一次就缩水了，袖子短了一大截,2026-12-05 09:00:00
3719204860002,阿**宝,加厚羽绒服 黑色,差评,快递太慢了，等了整整十天才到,2026-12-05 10:30:00
3719204860003,王**,真皮短靴 37码,中评,顏色跟圖片差太多了，實物發灰，一點都不亮,2026-12-05 11:00:00
3719204860004,t**8,纯棉短袖T恤 白色 L,中评,一般吧，不想多说,2026-12-05 12:00:00
3719204860005,李**,毛呢大衣 驼色 S,好评,很好看，下次还来,2026-12-05 13:00:00
"""


def _run(db: Path, *args: str) -> Any:
    r = CliRunner(env={"CSBOT_CONFIG": None, "CSBOT_DATABASE_URL": f"sqlite:///{db}", "CSBOT_SHOP": "柚子家女装"}
                  ).invoke(main, list(args))
    assert r.exit_code == 0, r.output
    return r


def _imported(tmp_path: Path) -> tuple[Path, dict[str, dict[str, Any]]]:
    export, db = tmp_path / "评价.csv", tmp_path / "csbot.db"
    export.write_text(EXPORT, encoding="utf-8")
    assert "新开案例 4 个" in _run(db, "import", str(export)).output
    items = json.loads(_run(db, "queue", "--json").output)["items"]
    return db, {i["order_id"]: i for i in items}


def _report_rows(db: Path) -> list[list[str]]:
    out = _run(db, "report", "--db", f"sqlite:///{db}", "--format", "csv").stdout_bytes.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(out)))


def test_an_imported_review_seeds_the_cause_the_queue_and_report_show(tmp_path: Path) -> None:
    db, by_order = _imported(tmp_path)
    cause = {o: i["cause"] for o, i in by_order.items()}
    assert cause["3719204860001"] == {"id": "quality", "label": "质量问题", "source": "review",
                                      "source_label": "评价"}
    assert cause["3719204860002"]["id"] == "logistics" and cause["3719204860002"]["label"] == "物流问题"
    assert cause["3719204860003"]["id"] == "not_as_described"  # 繁體 reads as simplified does
    assert cause["3719204860004"] is None  # "一般吧，不想多说" names no problem: nothing is made up
    # The lead's table (80 columns: the problem shares the rating's cell) names each problem.
    table = _run(db, "queue").output
    assert "质量问题" in table and "物流问题" in table and "与描述不符" in table and "未说明" in table
    assert "（评价）" in table
    # The cause is headed 原因, as in the sidebar, the assist card and the report; the
    # urgency's reasons are 处理提示, so no column is called 原因 with other content.
    head = table[:table.index("┡")]
    assert "┃ 原因 " in head and "┃ 处理提示 " in head and "问题" not in head

    rows = _report_rows(db)
    assert ["买家为什么给中差评", "质量问题", "案例数", "1", "causes", "quality", "cases"] in rows
    assert ["买家为什么给中差评", "质量问题", "来自评价", "1", "causes", "quality", "from_review"] in rows
    assert ["买家为什么给中差评", "物流问题", "来自沟通", "0", "causes", "logistics", "from_talk"] in rows
    assert ["买家为什么给中差评", "未说明原因", "占比", "25.0%", "causes", "", "share"] in rows
    assert ["买家为什么给中差评", "未说明原因", "来自评价", "—", "causes", "", "from_review"] in rows


def test_the_talk_keeps_the_reviews_cause_until_the_buyer_corrects_it(tmp_path: Path) -> None:
    db, by_order = _imported(tmp_path)
    shrunk, vague = by_order["3719204860001"], by_order["3719204860004"]

    async def go() -> None:
        store = await Store.open(f"sqlite:///{db}")
        turns = TurnService.over(store, ENGINE)
        try:
            # The opened case suggests from the review's cause before a word is said.
            first = await turns.last_suggestion(shrunk["conversation_id"])
            assert first.stage.id == "opening"
            cid = shrunk["conversation_id"]
            for role, text in [("agent", "您好，请问是小猫吗？我是柚子家女装的售后客服。"), ("buyer", "是我"),
                               ("buyer", "对，那条裙子洗了一次就缩水了"),
                               ("buyer", "而且你们客服回消息也太慢了")]:
                await turns.turn(cid, role, text)  # type: ignore[arg-type]
            # Another problem said in the talk is the case's second one: the review's stays first.
            stored = (await store.load(cid)).conversation
            assert (stored.context.cause, stored.context.cause_source) == ("quality", "review")
            assert stored.context.causes == ["service"]
            await turns.turn(cid, "buyer", "不是缩水的问题，其实是尺码一开始就偏小，穿不上")
            stored = (await store.load(cid)).conversation
            assert (stored.context.cause, stored.context.cause_source) == ("size_fit", "correction")
            # A review that named nothing: the first problem said in the talk is the cause.
            other = vague["conversation_id"]
            await turns.turn(other, "agent", "您好，这里是柚子家女装的售后客服，请问是您本人吗？")
            await turns.turn(other, "buyer", "是我，T恤领口洗了两次就松了")
            stored = (await store.load(other)).conversation
            assert (stored.context.cause, stored.context.cause_source) == ("quality", "talk")
            records = {r.id: r for r in await read_records(store.db, initial_stage=ENGINE.script.initial)}
            assert records[cid].cause_source == "correction" and records[other].cause_source == "talk"
        finally:
            turns.shutdown()
            await store.close()

    asyncio.run(go())
    rows = _report_rows(db)
    assert ["买家为什么给中差评", "尺码不合适", "更正过", "1", "causes", "size_fit", "corrected"] in rows
    assert ["买家为什么给中差评", "质量问题", "来自沟通", "1", "causes", "quality", "from_talk"] in rows
    assert not any(r[1] == "未说明原因" for r in rows if r[0] == "买家为什么给中差评")
    items = {i["order_id"]: i for i in json.loads(_run(db, "queue", "--json").output)["items"]}
    assert items["3719204860001"]["cause"]["source_label"] == "更正"
    assert items["3719204860004"]["cause"]["source_label"] == "沟通"


def test_only_a_sure_reading_seeds_the_cause(monkeypatch: pytest.MonkeyPatch) -> None:
    text = "衣服洗一次就缩水了，袖子短了一大截"
    u, scores = ENGINE.understand.buyer_scored(text)
    p = scores["cause"]
    assert u.cause == "quality" and p is not None and 0.5 < p <= 1.0
    assert ENGINE.review_cause(text)[1] == "quality"
    monkeypatch.setattr(ENGINE.flow, "review_cause", p + 1e-6)  # the gate is the calibrated probability
    assert ENGINE.review_cause(text) == (u, None)
    conv, _ = ENGINE.start(Case(shop="柚子家女装", buyer_name="周敏", review_text=text))
    assert conv.context.cause is None and conv.context.cause_source is None
    assert ENGINE.review_cause("   ") == (None, None)


# -- the HTTP API: a case typed in with its review --------------------------------------------


@pytest.fixture
async def client(aiohttp_client: Any, db_url: str) -> AsyncIterator[tuple[TestClient, dict[str, str], str]]:
    app: web.Application = await build_app(db_url, ENGINE)
    shop = f"柚子家{uuid.uuid4().hex[:6]}"
    token = await app[STORE].add_token(f"小林{shop[-6:]}", "agent", shop)
    yield await aiohttp_client(app), {"Authorization": f"Bearer {token}"}, shop


async def test_a_case_typed_in_with_its_review_starts_with_its_cause(
        client: tuple[TestClient, dict[str, str], str]) -> None:
    http, h, shop = client
    made = {}
    for order, review in [("K-1", "快遞太慢了，等了十天才到，盒子都壓扁了"), ("K-2", None)]:
        r = await http.post("/api/v1/conversations", headers=h, json={
            "shop": shop, "buyer_name": "周敏", "order_id": order, "product": "陶瓷马克杯",
            "review_rating": "差评", "review_text": review})
        assert r.status == 201, await r.text()
        made[order] = (await r.json())["conversation"]["id"]
    r = await http.get("/api/v1/queue", headers=h)
    items = {i["order_id"]: i for i in (await r.json())["items"]}
    assert items["K-1"]["cause"] == {"id": "logistics", "label": "物流问题", "source": "review", "source_label": "评价"}
    assert items["K-2"]["cause"] is None
    cid = made["K-1"]
    for role, text in [("agent", "您好，请问是周敏女士吗？我是店里的售后客服。"), ("buyer", "是我"),
                       ("buyer", "杯子收到就有个缺口")]:
        r = await http.post(f"/api/v1/conversations/{cid}/messages", headers=h, json={"role": role, "text": text})
        assert r.status == 200, await r.text()
    r = await http.get("/api/v1/queue", headers=h)
    item = next(i for i in (await r.json())["items"] if i["order_id"] == "K-1")
    assert item["cause"]["id"] == "logistics" and item["cause"]["source"] == "review"
    # The conversation itself (GET one, and the list the sidebar falls back to) carries the
    # same cause and where it was read: the queue card shows it without the queue route.
    r = await http.get(f"/api/v1/conversations/{cid}", headers=h)
    conv = (await r.json())["conversation"]
    assert (conv["cause"], conv["cause_source"]) == ("logistics", "review")
    r = await http.get("/api/v1/conversations", headers=h)
    listed = {c["case"]["order_id"]: c for c in (await r.json())["items"]}
    assert (listed["K-2"]["cause"], listed["K-2"]["cause_source"]) == (None, None)
    r = await http.post(f"/api/v1/conversations/{cid}/messages", headers=h, json={
        "role": "buyer", "text": "不是快递的问题，其实是杯子本身做工太差，一碰就掉瓷"})
    assert r.status == 200, await r.text()
    r = await http.get(f"/api/v1/conversations/{cid}", headers=h)
    conv = (await r.json())["conversation"]
    assert (conv["cause"], conv["cause_source"]) == ("quality", "correction")
