"""The purge removes old case text and keeps every figure `csbot report` reads (SQLite, PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update

from bot.insights.records import Filters, read_records
from bot.intake import tables
from bot.intake.importer import import_reviews
from bot.intake.purge import purge, stale
from bot.intake.records import ReviewIn
from bot.models import Case
from bot.service.turns import TurnService
from bot.store import schema
from bot.store.db import Store
from tests.shared import shared_engine

ENGINE = shared_engine()


async def worked_cases(store: Store, shop: str) -> tuple[str, str, str]:
    """A closed imported case with a guard finding, a closed typed-in one, and an open one."""
    turns = TurnService.over(store, ENGINE)
    done = await import_reviews(store, ENGINE, [ReviewIn(
        shop=shop, order_id="P1", sub_order_id="1", buyer_name="周敏", product="连衣裙", rating="差评",
        review_text="裙子起球，电话13812345678", review_time=datetime.now(UTC) - timedelta(days=3))])
    imported = done.ids[0]
    for role, text in [("agent", "您好，请问是周敏女士吗？我是柚子家女装的售后。"),
                       ("buyer", "是我，裙子穿一次就起球了"),
                       ("agent", "非常抱歉给您添麻烦了，您改成好评我们就返您5元红包"),
                       ("buyer", "那给我换一条吧")]:
        await turns.turn(imported, role, text)
    await turns.close_case(imported, "resolved")
    typed, _, _ = await turns.create(Case(shop=shop, buyer_name="李雷", buyer_id="li-lei-88", order_id="P2",
                                          review_rating="中评", platform="tmall", review_text="物流太慢"))
    await turns.turn(typed.id, "agent", "您好，请问是李先生吗？")
    await turns.turn(typed.id, "buyer", "不是，你打错了")
    await turns.close_case(typed.id, "wrong_person")
    still, _, _ = await turns.create(Case(shop=shop, buyer_name="韩梅", order_id="P3", review_text="颜色不对"))
    await turns.turn(still.id, "agent", "您好，请问是韩女士吗？")
    return imported, typed.id, still.id


def test_the_purge_keeps_the_reports_figures(db_url: str) -> None:
    shop = f"清除店{os.urandom(3).hex()}"

    async def go() -> None:
        store = await Store.open(db_url)
        try:
            imported, typed, still = await worked_cases(store, shop)
            before = await read_records(store.db, Filters(shop=shop), initial_stage=ENGINE.script.initial)
            assert any(f.code == "conditional_benefit" for r in before for f in r.findings)
            assert await purge(store, 30) == 0  # nothing is that old yet
            later = datetime.now(UTC) + timedelta(days=31)
            assert sorted(await stale(store, 30, later)) == sorted([imported, typed])
            assert await purge(store, 30, later) == 2
            after = await read_records(store.db, Filters(shop=shop), initial_stage=ENGINE.script.initial)
            assert after == before
            for cid in (imported, typed):
                summary, rows = await store.get(cid)
                turns = [t.model_dump(mode="json") for t in rows]
                case = summary.case
                assert case["buyer_name"] == "已清除" and case["review_text"] is None
                assert case["order_id"] is None and case["buyer_id"] is None
                assert all(t["text"] == "" and t["suggestion"]["suggestions"] == [] for t in turns)
                assert all(t["suggestion"]["understanding"] is None or t["suggestion"]["understanding"]["text"] == ""
                           for t in turns)
                stored = json.dumps([summary.model_dump(mode="json"), turns], ensure_ascii=False)
                for secret in ("周敏", "李雷", "li-lei-88", "起球", "物流太慢", "13812345678", "[手机号]", "5元红包"):
                    assert secret not in stored
            async with store.db.connect() as conn:
                texts = (await conn.execute(select(tables.reviews.c.review_text, tables.reviews.c.rating).where(
                    tables.reviews.c.shop == shop))).all()
            assert [tuple(t) for t in texts] == [(None, "差评")]
            summary, turns = await store.get(still)  # an open case is being worked: kept whole
            assert summary.case["buyer_name"] == "韩梅" and turns[0].text.startswith("您好")
            assert await purge(store, 30, later) == 0  # done once
        finally:
            await store.close()

    asyncio.run(go())


def test_the_purge_command(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'p.db'}"

    async def setup() -> None:
        store = await Store.open(db)
        try:
            await worked_cases(store, "店")
            async with store.db.begin() as conn:
                await conn.execute(update(schema.conversations).where(~schema.conversations.c.is_open).values(
                    updated_at=datetime.now(UTC) - timedelta(days=100)))
        finally:
            await store.close()

    asyncio.run(setup())

    def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "bot", "purge", "--db", db, *args], capture_output=True,
                              text=True, cwd=tmp_path, env={**os.environ, **env}, timeout=120)

    r = run()
    assert r.returncode == 2 and "请用 --days N 指定天数，或设置 CSBOT_PURGE_DAYS" in r.stderr
    r = run("--dry-run", CSBOT_PURGE_DAYS="90")
    assert r.returncode == 0 and "结案超过 90 天、还有文字的案例：2 个（没有清除）" in r.stdout
    r = run("--days", "90")
    assert r.returncode == 0 and "已清除 2 个结案超过 90 天的案例的文字" in r.stdout
    r = run("--days", "90")
    assert "已清除 0 个" in r.stdout
