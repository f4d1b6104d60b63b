"""`csbot db`: the database's schema version, its upgrade, and (for developers) a new revision."""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path
from typing import Any

import click

from bot.cli_options import config_option, db_option, settings


@click.group()
def db() -> None:
    """数据库结构的版本和升级（csbot serve 启动时也会自动升级）。"""


def _url(config: Path | None, database_url: str | None) -> str:
    return str(settings(config, database_url=database_url).database_url)


def _run(url: str, job: Any) -> Any:
    """``job(engine)`` on the database; one that cannot be opened or migrated is told in Chinese,
    exit 3 like every command's (a revision csbot cannot upgrade to is a wrong --to: exit 2)."""
    import asyncio  # here, not at the top: every command imports this module (cli.py)

    from sqlalchemy.exc import SQLAlchemyError

    from bot.cli_options import EXIT_DATA, database_problem
    from bot.store.connect import open_engine
    from bot.store.migrations import MigrationError, UnknownTarget

    async def go() -> Any:
        engine = open_engine(url)
        try:
            return await job(engine)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(go())
    except UnknownTarget as exc:
        raise click.BadParameter(str(exc), param_hint="'--to'") from None
    except MigrationError as exc:
        click.echo(f"无法升级数据库：{exc}", err=True)
    except (SQLAlchemyError, OSError, ImportError) as exc:  # ImportError: no driver (mysql://…)
        click.echo(database_problem(url, exc), err=True)
    sys.exit(EXIT_DATA)


@db.command(name="upgrade")
@click.option("--to", "target", default="head", metavar="修订", help="升级到这个修订（默认最新）")
@db_option
@config_option
def upgrade_cmd(target: str, database_url: str | None, config: Path | None) -> None:
    """把数据库结构升级到最新版本（或 --to 指定的修订），在一个事务里完成。"""
    from bot.store.connect import upgrade_schema

    before, after = _run(_url(config, database_url), lambda engine: upgrade_schema(engine, target))
    if before == after:
        click.echo(f"数据库结构已是 {after}，不用升级。")
    else:
        click.echo(f"数据库结构已升级：{before or '空库'} → {after}")


@db.command(name="version")
@db_option
@config_option
def version_cmd(database_url: str | None, config: Path | None) -> None:
    """显示数据库结构的版本；需要升级时退出码为 1。"""
    from bot.store.migrations import current_version, head

    async def read(engine: Any) -> Any:
        async with engine.connect() as conn:
            return await conn.run_sync(current_version)

    current = _run(_url(config, database_url), read)
    latest = head()
    if current == latest:
        click.echo(f"数据库结构：{current}（最新）")
        return
    click.echo(f"数据库结构：{current or '空库'}；这个版本的 csbot 最新是 {latest}，请运行 csbot db upgrade")
    sys.exit(1)


_NAME = re.compile(r"[a-z][a-z0-9_]*")


@db.command(name="revision")
@click.argument("name", metavar="名称")
@click.option("-m", "--message", default=None, help="这次改动的说明（写进修订文件的第一行）")
@click.option("--dir", "location", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="修订所在的目录（默认 bot/store/alembic）")
def revision_cmd(name: str, message: str | None, location: Path | None) -> None:
    """开发者用：生成下一个数据库修订文件。

    按 bot/store/schema.py 和 bot/intake/tables.py 与现有修订的差别生成。

    名称用小写英文和下划线，例如 conversation_note；文件名为 0006_conversation_note.py 这样的编号加名字。
    生成的是草稿：读一遍，只留字面的列定义，再用 tests/test_migrations.py 检查。"""
    import argparse

    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine

    from bot.intake import tables as _intake  # noqa: F401  (its tables on schema.metadata)
    from bot.store import migrations, schema

    where = location or migrations.SCRIPTS
    numbers = [int(m.group(1)) for f in (where / "versions").glob("*.py")
               if (m := re.match(r"(\d{4})_", f.name))]
    rev_id = f"{max(numbers, default=0) + 1:04d}_{name}"
    if not _NAME.fullmatch(name) or len(rev_id) > 32:
        raise click.BadParameter("请用小写英文字母、数字和下划线，以字母开头，编号加名字不超过 32 个字符",
                                 param_hint="NAME")
    # Autogenerate compares a database at the latest revision with the schema: a scratch one.
    with tempfile.TemporaryDirectory() as scratch:
        engine = create_engine(f"sqlite:///{Path(scratch) / 'head.db'}")
        try:
            with engine.begin() as conn:
                migrations.upgrade(conn, location=where)
                changes = compare_metadata(MigrationContext.configure(conn), schema.metadata)
                cfg = migrations.config(conn, where)
                cfg.set_main_option("file_template", "%%(rev)s")
                cfg.cmd_opts = argparse.Namespace(quiet=True)  # Alembic's English progress line; ours is below
                script = command.revision(cfg, message=message or name, autogenerate=True, rev_id=rev_id)
        finally:
            engine.dispose()
    path = Path(script.path) if script is not None and not isinstance(script, list) else None
    click.echo(f"已生成修订 {rev_id}：{path}")
    if not changes:
        click.echo("schema.py、tables.py 与现有修订一致：这是个空修订，请手写改动（例如数据迁移）。", err=True)
