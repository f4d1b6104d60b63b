"""`csbot import --top` and `csbot explain`: the open platform from the command line."""

from __future__ import annotations

import json
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import click

from bot.cli_options import config_option, data_options, db_option, settings, shop_engine, with_store

# The open platform's client (and aiohttp) is imported by the commands that use it:
# `csbot --help` and every other command start without it.

EXIT_FOUND, EXIT_DATA = 1, 3
SOURCE = "top"
OVERLAP = timedelta(hours=1)


def _day(value: str, end: bool) -> datetime:
    from bot.intake.top import CN

    try:
        d = date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"日期应写成 YYYY-MM-DD（收到的是“{value}”）") from None
    return datetime.combine(d + timedelta(days=1) if end else d, time.min, CN)


def run_top(s: Any, since: str | None, until: str | None, shop: str | None, platform: str | None,
            as_json: bool) -> None:
    """Pull the 中评/差评 of a range (or since the stored cursor) and import them."""
    import aiohttp

    from bot.intake.importer import cursor, import_reviews, set_cursor
    from bot.intake.top import CN, TopClient, TopConfig, TopError, clamp, review_of_rate

    try:
        config = TopConfig.from_settings(s)
    except TopError as exc:
        click.echo(f"无法从开放平台导入：{exc.message}", err=True)
        sys.exit(EXIT_DATA)
    shop_name = shop or s.shop
    engine = shop_engine(s)
    now = datetime.now(CN)
    end = _day(until, True) if until else now

    async def go(store: Any) -> dict[str, Any]:
        if since == "last":
            last = await cursor(store, SOURCE, shop_name)
            # An hour back over the last run: a review can show up on the platform a little
            # after its time; what was already imported is found by its key and skipped.
            start = last - OVERLAP if last else now - timedelta(days=7)
        else:
            start = _day(since, False) if since else now - timedelta(days=7)
        start, stop, cut = clamp(start, end, now)
        if start >= stop:
            return {"start": start, "until": stop, "cut": cut, "fetched": 0, "result": None, "calls": 0}
        async with aiohttp.ClientSession() as http:
            client = TopClient(config, http)
            reviews = []
            fetched = 0
            async for rate in client.rates(start, stop):
                fetched += 1
                review = review_of_rate(rate, shop=shop_name, platform=platform or "taobao")
                if review is not None:
                    reviews.append(review)
        result = await import_reviews(store, engine, reviews)
        await set_cursor(store, SOURCE, shop_name, stop)  # only once everything is in
        return {"start": start, "until": stop, "cut": cut, "fetched": fetched, "result": result,
                "calls": client.calls}

    try:
        out = with_store(s, go)
    except TopError as exc:
        click.echo(f"从开放平台导入失败：{exc.message}", err=True)
        sys.exit(EXIT_DATA)
    result = out["result"]
    if as_json:
        click.echo(json.dumps({
            "since": out["start"].isoformat(), "until": out["until"].isoformat(), "fetched": out["fetched"],
            "cases": result.cases if result else 0, "reviews": result.reviews if result else 0,
            "existing": result.existing if result else 0, "calls": out["calls"], "cut_to_180_days": out["cut"],
        }, ensure_ascii=False))
        return
    if out["cut"]:
        click.echo("开放平台只能查最近 180 天的评价：更早的部分没有拉取。", err=True)
    click.echo(f"开放平台：{out['start']:%Y-%m-%d %H:%M} 到 {out['until']:%Y-%m-%d %H:%M}，"
               f"拉到中差评 {out['fetched']} 条（{out['calls']} 次调用）")
    if result is not None:
        click.echo(f"新开案例 {result.cases} 个，新增中差评 {result.reviews} 条；"
                   f"已导入过 {result.existing} 条（不重复开案）")
    click.echo("下次接着拉：csbot import --top --since last")


@click.command()
@click.argument("case_id")
@click.option("--text", default=None, help="解释的内容（默认用 csbot 为这个案例起草的公开解释）")
@click.option("--yes", "-y", is_flag=True, help="不再询问，直接发布")
@db_option
@config_option
@data_options
def explain(case_id: str, text: str | None, yes: bool, database_url: str | None, config: Path | None,
            dialogs: Path | None, templates: Path | None) -> None:
    """评价保留时，在开放平台发布商家的公开解释（taobao.traderate.explain.add）。

    每条评价只能解释一次：发布前先确认，发布后记下，不会再发第二次。
    """
    import aiohttp
    from sqlalchemy import select, update

    from bot.guard.names import mask_name
    from bot.intake import tables
    from bot.intake.commands import _resolve
    from bot.intake.top import TopClient, TopConfig, TopError
    from bot.service.turns import TurnService
    from bot.store import schema
    from bot.store.mask import mask

    s = settings(config, database_url=database_url, dialogs=dialogs, templates=templates)
    r = tables.reviews.c
    engine = shop_engine(s)

    async def find(store: Any) -> tuple[str, list[Any], str | None, str | None, list[Any]]:
        cid = await _resolve(store, case_id)
        async with store.db.connect() as conn:
            rows = (await conn.execute(select(r.id, r.order_id, r.sub_order_id, r.explained_at)
                                       .where(r.conversation_id == cid))).all()
        summary, _ = await store.get(cid)
        posted = summary.case.get("shop_reply") or None
        if rows and all(row.explained_at is not None for row in rows):
            return cid, rows, posted, None, []  # nothing to draft: every review is explained
        turns = TurnService.over(store, engine)
        try:
            draft = text or (await turns.last_suggestion(cid)).public_reply
        finally:
            turns.shutdown()
        # a public text: besides the guard's rules, the buyer's full name may not be in it
        findings = engine.understand.public_findings(draft, summary.case.get("buyer_name")) if draft else []
        return cid, rows, posted, draft, findings

    cid, rows, posted, draft, findings = with_store(s, find)
    if not rows:
        click.echo("这个案例不是从评价导入的，没有可以解释的评价。", err=True)
        sys.exit(EXIT_FOUND)
    if posted:
        # the reply the review already has (imported as 商家回复): the agent sees what future
        # buyers read under it, and no second reply is drafted as if none were there
        click.echo(f"这条评价下已经有商家回复：\n{posted}")
    todo = [row for row in rows if row.explained_at is None]
    if not todo:
        click.echo("每条评价只能解释一次，不会再起草或发布第二条。" if posted
                   else "这个案例的评价已经解释过了：每条评价只能解释一次。", err=True)
        sys.exit(EXIT_FOUND)
    if not draft:
        click.echo("还没有起草好的公开解释：请用 --text 给出解释的内容。", err=True)
        sys.exit(EXIT_FOUND)
    try:
        top = TopConfig.from_settings(s)
    except TopError as exc:
        click.echo(f"无法发布解释：{exc.message}", err=True)
        sys.exit(EXIT_DATA)
    blocked = [f for f in findings if f.severity == "block"]
    for f in findings:
        click.echo(f"{'禁止' if f.severity == 'block' else '提醒'}：{f.message}", err=True)
        if f.rewrite:
            click.echo(f"建议改为：{f.rewrite}", err=True)
    if blocked:
        click.echo("解释里有不合规的内容，没有发布。", err=True)
        sys.exit(EXIT_FOUND)
    click.echo(f"将要发布的公开解释（{len(todo)} 条评价，只能发布一次）：\n{draft}")
    if not yes and not click.confirm("确认发布？", default=False):
        click.echo("没有发布。")
        return

    async def post(store: Any) -> int:
        done = 0
        async with aiohttp.ClientSession() as http:
            client = TopClient(top, http)
            for row in todo:
                await client.explain(row.order_id, row.sub_order_id, draft)

                def mark(conn: Any, rid: int = row.id) -> None:
                    conn.execute(update(tables.reviews).where(r.id == rid).values(explained_at=datetime.now(UTC)))
                    # the reply posted is the case's 商家回复 now (masked, as every text kept): shown
                    # by `csbot explain` again, the sidebar's case card, and no second one is drafted
                    c = schema.conversations.c
                    raw = conn.execute(select(c.state).where(c.id == cid)).scalar_one()
                    state = json.loads(raw)
                    case = state.setdefault("case", {})
                    if not case.get("shop_reply"):
                        case["shop_reply"] = mask_name(mask(draft), case.get("buyer_name"))[:2000]
                        conn.execute(update(schema.conversations).where(c.id == cid).values(
                            state=json.dumps(state, ensure_ascii=False)))

                await store.write(mark)
                done += 1
        return done

    try:
        n = with_store(s, post)
    except TopError as exc:
        click.echo(f"发布失败：{exc.message}", err=True)
        sys.exit(EXIT_DATA)
    click.echo(f"已发布 {n} 条评价的公开解释。")


__all__ = ["explain", "run_top"]
