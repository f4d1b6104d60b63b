"""`csbot corrections export`: the agents' corrections as corpus lines for the next `csbot learn`."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import click

from bot.cli_options import config_option, db_option, settings, with_store


@click.group()
def corrections() -> None:
    """客服的更正（意图、原因、阶段）：导出为语料，供下次 csbot learn 使用。"""


def _since(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    from bot.periods import parse_day

    try:
        return parse_day(value) if value else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from exc


@corrections.command(name="export")
@click.option("--since", callback=_since, default=None, metavar="日期",
              help="只导出这一天及以后的更正（2026-05-03、5月3日、昨天…）")
@click.option("--shop", default=None, help="只导出这个店铺的更正（默认全部店铺）")
@db_option
@config_option
def export_cmd(since: date | None, shop: str | None, database_url: str | None,
               config: Path | None) -> None:
    """把客服的更正导出为语料，每行一条 JSON。

    每行是 {"text","intent","cause","emotion"}，和 tests/data/buyer_dev.jsonl 同一格式。

    文本是入库时已遮盖个人信息的原文；客服没有更正的标签沿用 csbot 当时的理解。"""
    from bot.store.corrections import export

    rows = with_store(settings(config, database_url=database_url), lambda st: export(st, since, shop),
                      existing=True)
    for row in rows:
        click.echo(json.dumps(row, ensure_ascii=False))
    click.echo(f"共导出 {len(rows)} 条更正。", err=True)
