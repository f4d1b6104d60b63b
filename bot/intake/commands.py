"""The intake's commands: csbot import, queue, assign, contact, purge, explain."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from bot.cli_options import config_option, data_options, db_option, settings, shop_engine, with_store
from bot.cli_zh import ReadablePath
from bot.intake.contact import ATTEMPT_KINDS, ContactRules, TooManyAttempts
from bot.quiet import RulesError

EXIT_OK, EXIT_FOUND, EXIT_USAGE, EXIT_DATA = 0, 1, 2, 3

def _rules(s: Any, max_attempts: int = 3) -> ContactRules:
    try:
        return ContactRules.from_settings(s, max_attempts)
    except RulesError as exc:
        click.echo(f"配置错误：{exc}", err=True)
        sys.exit(EXIT_DATA)


def _console(err: bool = False) -> Any:
    from rich.console import Console

    return Console(stderr=err, highlight=False, soft_wrap=False)


# -- import ---------------------------------------------------------------------------------


@click.command(name="import")
@click.argument("file", required=False, type=ReadablePath())
@click.option("--top", is_flag=True, help="从淘宝开放平台（taobao.traderates.get）拉取中差评")
@click.option("--since", default=None, metavar="YYYY-MM-DD|last",
              help="--top：从这天开始（默认 7 天前；last：从上次拉取到的时间接着拉）")
@click.option("--until", default=None, metavar="YYYY-MM-DD", help="--top：到这天为止（默认现在）")
@click.option("--map", "maps", multiple=True, metavar="列名=字段",
              help="表头名称不标准时指定对应字段，可写多次，例如 --map 交易单号=order_id")
@click.option("--shop", default=None, help="文件里没有店铺列时的店铺名（默认 CSBOT_SHOP）")
@click.option("--platform", type=click.Choice(["taobao", "tmall"]), default=None,
              help="文件里没有平台列时的平台；--top：店铺的平台（默认 taobao）")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON 结果，供程序读取")
@db_option
@config_option
@data_options
def import_cmd(file: Path | None, top: bool, since: str | None, until: str | None, maps: tuple[str, ...],
               shop: str | None, platform: str | None, as_json: bool, database_url: str | None,
               config: Path | None, dialogs: Path | None, templates: Path | None) -> None:
    """导入新的中评/差评，每条开一个案例（同一订单+子订单不会重复导入）。

    \b
    文件：csbot import 评价.csv（CSV：UTF-8/带 BOM/GBK；或 .xlsx），表头中英文均可，顺序不限。
    开放平台：csbot import --top [--since 2026-03-01|last]（需要 CSBOT_TOP_APP_KEY 等设置）。
    只有中评、差评开案例；有问题的行会列出行号和原因并跳过，其余照常导入，退出码为 1。
    """
    if top == (file is not None):
        raise click.UsageError("请给出要导入的文件，或者用 --top 从开放平台拉取（二选一）")
    # the review is read with the shop's lexicon: a cause the shop added is the case's cause
    s = settings(config, database_url=database_url, dialogs=dialogs, templates=templates)
    if top:
        from bot.intake.top_command import run_top

        run_top(s, since, until, shop, platform, as_json)
        return
    assert file is not None
    _import_file(s, file, maps, shop, platform, as_json)


def _import_file(s: Any, file: Path, maps: tuple[str, ...], shop: str | None, platform: str | None,
                 as_json: bool) -> None:
    from rich.progress import Progress

    from bot.intake.files import FileError, parse_map, read_table
    from bot.intake.importer import import_reviews
    from bot.intake.records import ReviewIn, RowError, review_of, star_scale

    rules = _rules(s)
    try:
        mapping = parse_map(maps)
    except FileError as exc:  # a wrong --map: the caller's mistake, not the file's
        raise click.BadParameter(str(exc), param_hint="'--map'") from None
    try:
        table = read_table(file, mapping)
    except FileError as exc:
        click.echo(f"无法导入 {file}：{exc}", err=True)
        sys.exit(EXIT_DATA)
    reviews: list[ReviewIn] = []
    bad: list[tuple[int, str]] = []
    good = 0
    now = datetime.now(UTC)
    err = _console(err=True)
    big = len(table.rows) >= 2000
    engine = shop_engine(s)  # it reads each review and gives new cases their stage
    with Progress(console=err, transient=True, disable=not big or as_json) as bar:
        reading = bar.add_task("读取", total=len(table.rows))
        stars = star_scale(record.get("rating") for _, record in table.records())
        for number, record in table.records():
            try:
                review = review_of(record, shop=shop or s.shop, platform=platform or "taobao", tz=rules.hours.tz,
                                   now=now, stars=stars)
            except RowError as exc:
                bad.append((number, str(exc)))
            else:
                if review is None:
                    good += 1
                else:
                    reviews.append(review)
            if number % 500 == 0:
                bar.update(reading, completed=number)
        bar.update(reading, completed=len(table.rows))
        saving = bar.add_task("导入", total=len(reviews))
        result = with_store(s, lambda store: import_reviews(
            store, engine, reviews, progress=lambda n: bar.advance(saving, n)))
    if as_json:
        click.echo(json.dumps({
            "file": str(file), "encoding": table.encoding, "rows": len(table.rows), "cases": result.cases,
            "reviews": result.reviews, "existing": result.existing, "positive": good,
            "bad": [{"row": n, "reason": why} for n, why in bad], "ignored_columns": table.ignored,
        }, ensure_ascii=False))
        if bad:  # rejected input lines are exit 1 (README), for a script as for a person
            sys.exit(EXIT_FOUND)
        return
    names = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8（带 BOM）", "gb18030": "GBK/GB18030", "utf-16": "UTF-16",
             "xlsx": "Excel"}
    click.echo(f"读取 {file.name}（{names.get(table.encoding, table.encoding)}，{len(table.rows)} 行）")
    if "shop" not in table.columns and (reviews or result.existing):
        # the shop is part of a review's identity: say which one the cases were filed under, so
        # that a lead who adds --shop next time knows why the same file opens its cases again
        click.echo(f"店铺：{shop}（--shop）" if shop else
                   f"店铺：{s.shop}（文件里没有“店铺”一列，也没有给 --shop，按设置 CSBOT_SHOP 算；"
                   "用别的店铺名再导入同一批评价会另开案例）")
    click.echo(f"新开案例 {result.cases} 个，新增中差评 {result.reviews} 条；"
               f"已导入过 {result.existing} 条（不重复开案）；好评 {good} 条（不开案）")
    if table.ignored:
        click.echo(f"没有用到的列：{'、'.join(table.ignored)}")
    if bad:
        click.echo(f"有问题的行 {len(bad)} 条，已跳过：")
        for number, why in bad[:50]:
            click.echo(f"  第 {number} 行：{why}")
        if len(bad) > 50:
            click.echo(f"  ……另有 {len(bad) - 50} 行，用 --json 查看全部")
        click.echo("改好这些行后重新导入整个文件即可：已导入的评价不会重复开案。")
    if result.cases:
        click.echo("查看队列：csbot queue")
    if bad:
        sys.exit(EXIT_FOUND)


# -- queue ----------------------------------------------------------------------------------


_WIDE_QUEUE = 122  # cells the eleven-column queue needs
_STATUS_STYLE = {"overdue": "bold red", "callback": "magenta", "in_progress": "cyan", "waiting": "white"}
# The column of the urgency's reasons: what to mind (a deadline, 请主管介入), not the case's cause.
NOTES_HEADING = "处理提示"


def _status(value: str | None) -> str | None:
    """A queue status given as its Chinese name (as the queue shows it) or its code."""
    if value is None:
        return None
    from bot.intake.triage import STATUS_LABELS

    codes = {**{name: code for code, name in STATUS_LABELS.items()}, **{code: code for code in STATUS_LABELS}}
    fits = [code for name, code in codes.items() if value.strip() in name]  # 超时 → 已超时
    if value.strip() not in codes and len(set(fits)) != 1:
        raise click.BadParameter(f"没有“{value}”这个状态（可选：{'、'.join(STATUS_LABELS.values())}）")
    return codes.get(value.strip()) or fits[0]


@click.command()
@click.option("--json", "as_json", is_flag=True, help="输出 JSON（与 GET /api/v1/queue 相同），供程序读取")
@click.option("--shop", default=None, help="只看这个店铺（默认全部店铺）")
@click.option("--agent", default=None, help="以这位客服的身份看：分配给 TA 的排在前面")
@click.option("--mine", is_flag=True, help="只看分配给 --agent 的案例")
@click.option("--status", default=None, callback=lambda ctx, param, value: _status(value),
              metavar="状态", help="只看这个状态：待联系、处理中、待回访、已超时（或 waiting 等代码）")
@click.option("-q", "search", default=None, help="搜索买家、订单号或商品")
@click.option("--limit", type=click.IntRange(1, 10000), default=50, show_default=True, help="最多显示几条")
@db_option
@config_option
@data_options
def queue(as_json: bool, shop: str | None, agent: str | None, mine: bool, status: str | None,
          search: str | None, limit: int, database_url: str | None, config: Path | None,
          dialogs: Path | None, templates: Path | None) -> None:
    """按紧急程度列出待处理的中差评案例。

    差评排在中评前面；疑似恶意评价标出投诉期限；超过首次联系目标（默认评价后 24 小时）的标为已超时；
    天猫评价不能修改，标出走公开解释。
    """
    from bot.intake.queue import QueueQuery
    from bot.intake.queue import queue as build_queue
    from bot.intake.triage import STATUS_LABELS, QueueOut

    if mine and not agent:
        raise click.UsageError("--mine 需要同时用 --agent 指定客服")
    s = settings(config, database_url=database_url, dialogs=dialogs, templates=templates)
    query = QueueQuery(shop=shop, q=search, status=status, me=agent, mine=mine, limit=limit)
    engine = shop_engine(s)
    rules = _rules(s, engine.script.max_attempts)
    total, items = with_store(s, lambda store: build_queue(store, engine, rules, query), existing=True)
    if as_json:
        click.echo(QueueOut(items=items, total=total).model_dump_json())
        return
    if not items:
        click.echo("队列是空的：没有待处理的中差评案例。导入：csbot import 文件", err=True)
        return
    from rich.table import Table

    from bot.wrap_zh import Wrapped

    console = _console()
    # Ten columns need about 110 cells; in a narrower terminal the reasons column was left
    # two characters wide, one character a line. There, related fields share a cell.
    wide = console.width >= _WIDE_QUEUE
    table = Table(title=f"待处理的中差评（共 {total} 个，显示 {len(items)} 个）", title_justify="left",
                  show_lines=True, header_style="bold")
    # The case's cause is named as everywhere else (the Labels' 原因: the sidebar, the assist
    # card, the report); the urgency's reasons are what to mind when handling the case.
    cause, stage, notes = engine.labels.heading("cause"), engine.labels.heading("stage"), NOTES_HEADING
    names = (("编号", "紧急", "状态", "评价", "买家", "订单号", "宝贝", cause, stage, "负责人", notes) if wide
             else ("编号", "紧急\n状态", "评价", f"买家\n宝贝\n订单号\n{cause}", f"{stage}\n负责人", notes))
    for name in names:
        table.add_column(name, overflow="fold", no_wrap=name in ("编号", "紧急", "状态", "评价"),
                         min_width=14 if name == notes else None)
    for it in items:
        level = "bold red" if it.urgency >= 70 else "yellow" if it.urgency >= 40 else "green"
        rating = f"[red]{it.review_rating}[/]" if it.review_rating == "差评" else (it.review_rating or "")
        platform = "天猫" if it.platform == "tmall" else "淘宝"
        status = f"[{_STATUS_STYLE[it.status]}]{STATUS_LABELS[it.status]}[/]"
        agent = it.assigned_to or "[dim]未分配[/]"
        # One reason a line; without the spaces around numbers, which the table
        # would break lines at ("14" and "天" on two lines).
        # Wrapped as Chinese is: never inside a date ("12-20") nor before a closing bracket.
        reasons = Wrapped("\n".join(r.replace(" ", "") for r in it.reasons))
        # the case's problem and where it was read (评价 / 沟通 / 更正)
        said = f"[dim]（{it.cause.source_label}）[/]" if it.cause and it.cause.source_label else ""
        problem = f"[dim]{engine.labels.unknown_cause}[/]" if it.cause is None else f"{it.cause.label}{said}"
        if wide:
            table.add_row(it.conversation_id[:8], f"[{level}]{it.urgency}[/]", status, f"{rating} {platform}",
                          it.buyer_name, it.order_id or "", it.product or "", problem.replace("[dim]（", "\n[dim]（"),
                          it.stage.label, agent,
                          reasons)
        else:
            what = "\n".join(x for x in (it.product, it.order_id, problem) if x)
            table.add_row(it.conversation_id[:8], f"[{level}]{it.urgency}[/]\n{status}",
                          f"{rating}\n{platform}".lstrip("\n"), f"{it.buyer_name}\n{what}".rstrip("\n"),
                          f"{it.stage.label}\n{agent}", reasons)
    console.print(table)
    click.echo(f"首次联系目标：评价后 {rules.first_contact.total_seconds() / 3600:g} 小时内；"
               f"免打扰时段 {rules.hours.span()}（{rules.hours.tz.key}）")


# -- assign, contact ------------------------------------------------------------------------


async def _resolve(store: Any, prefix: str) -> str:
    """A case by its id or the id's first characters (as `csbot queue` shows them)."""
    from sqlalchemy import select

    from bot.store import schema

    c = schema.conversations.c
    if len(prefix) < 4 or len(prefix) > 36 or not all(ch in "0123456789abcdef-" for ch in prefix.lower()):
        raise click.BadParameter(f"案例编号“{prefix[:40]}”不对：用 csbot queue 第一列的编号（至少 4 位）")
    async with store.db.connect() as conn:
        ids = [r.id for r in (await conn.execute(select(c.id).where(c.id.startswith(prefix.lower())).limit(2)))]
    if not ids:
        raise click.BadParameter(f"没有编号以 {prefix} 开头的案例")
    if len(ids) > 1:
        raise click.BadParameter(f"编号以 {prefix} 开头的案例不止一个，请多写几位")
    return str(ids[0])


@click.command()
@click.argument("case_id")
@click.option("--agent", default=None, help="分配给这位客服（令牌的名称）")
@click.option("--none", "unassign", is_flag=True, help="取消分配，放回队列")
@db_option
@config_option
def assign(case_id: str, agent: str | None, unassign: bool, database_url: str | None, config: Path | None) -> None:
    """（管理员）把案例分配给客服，或取消分配。客服在侧边栏里可以自己领取。"""
    from bot.intake.queue import assign as do_assign

    if unassign == (agent is not None):
        raise click.UsageError("请用 --agent 名字 分配，或用 --none 取消分配（二选一）")
    s = settings(config, database_url=database_url)

    async def go(store: Any) -> tuple[str, str | None]:
        cid = await _resolve(store, case_id)
        return cid, await do_assign(store, cid, agent, shop=None)

    cid, holder = with_store(s, go)
    click.echo(f"案例 {cid[:8]} 已分配给 {holder}" if holder else f"案例 {cid[:8]} 已取消分配，回到队列")


@click.command()
@click.argument("case_id")
@click.option("--kind", type=click.Choice(list(ATTEMPT_KINDS)), default="contact", show_default=True,
              help="contact：联系上了；no_answer：未接通/未回复；callback：约定回访后再联系")
@click.option("--agent", default=None, help="联系的客服")
@click.option("--check", is_flag=True, help="只检查能不能联系，不记录")
@click.option("--yes", "-y", is_flag=True, help="免打扰时段也记录，不再询问")
@db_option
@config_option
@data_options
def contact(case_id: str, kind: str, agent: str | None, check: bool, yes: bool, database_url: str | None,
            config: Path | None, dialogs: Path | None, templates: Path | None) -> None:
    """记录一次联系买家（每个案例最多 3 次，未接通和回访都算）；免打扰时段先提醒。"""
    from bot.intake.queue import check_contact, record_attempt

    s = settings(config, database_url=database_url, dialogs=dialogs, templates=templates)
    rules = _rules(s, shop_engine(s).script.max_attempts)

    async def go(store: Any) -> tuple[str, int, list[str], bool]:
        cid = await _resolve(store, case_id)
        used, warnings = await check_contact(store, rules, cid, None)
        quiet = rules.hours.quiet(datetime.now(UTC))
        if check or (quiet and not yes):
            return cid, used, warnings, False
        used, warnings = await record_attempt(store, rules, cid, kind, shop=None, agent=agent)
        return cid, used, warnings, True

    try:
        cid, used, warnings, recorded = with_store(s, go)
    except TooManyAttempts as exc:
        click.echo(f"不能再联系：{exc}", err=True)
        sys.exit(EXIT_FOUND)
    for w in warnings:
        click.echo(f"提醒：{w}", err=True)
    if recorded:
        click.echo(f"已记录案例 {cid[:8]} 的第 {used} 次联系（{ATTEMPT_KINDS[kind]}）")
    elif check:
        click.echo(f"案例 {cid[:8]} 已联系 {used} 次，还可以联系 {max(rules.max_attempts - used, 0)} 次")
    else:
        click.echo("现在是免打扰时段，没有记录；确实要联系，请加 --yes", err=True)
        sys.exit(EXIT_FOUND)


@click.command()
@click.option("--days", type=click.IntRange(min=1), default=None,
              help="清除结案超过这么多天的案例文字（默认 CSBOT_PURGE_DAYS）")
@click.option("--dry-run", is_flag=True, help="只数一数，不清除")
@db_option
@config_option
def purge(days: int | None, dry_run: bool, database_url: str | None, config: Path | None) -> None:
    """清除旧案例的文字（聊天内容、评价内容、买家昵称、订单号），保留 csbot report 要用的统计。"""
    from bot.intake.purge import purge as do_purge
    from bot.intake.purge import stale

    s = settings(config, database_url=database_url)
    days = days or s.purge_days
    if not days:
        raise click.UsageError("请用 --days N 指定天数，或设置 CSBOT_PURGE_DAYS")
    if dry_run:
        n = len(with_store(s, lambda store: stale(store, days)))
        click.echo(f"结案超过 {days} 天、还有文字的案例：{n} 个（没有清除）")
        return
    n = with_store(s, lambda store: do_purge(store, days))
    click.echo(f"已清除 {n} 个结案超过 {days} 天的案例的文字；统计数据保留，csbot report 照常可用")
