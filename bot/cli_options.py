"""What the command groups share: the --db and --config options, the settings they make, the
engine and the store a command opens (bot/cli.py, bot/db_cli.py, bot/intake/commands.py …).

Heavy modules are imported inside the helpers: `csbot --help` starts without them.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from bot.engine import Engine
    from bot.quiet import QuietHours
    from bot.settings import Settings
    from bot.store.db import Store

T = TypeVar("T")
EXIT_USAGE = 2
EXIT_DATA = 3

db_option = click.option("--db", "database_url", default=None, help="数据库地址（默认 CSBOT_DATABASE_URL）")
config_option = click.option("--config", type=click.Path(dir_okay=False, path_type=Path), default=None,
                             envvar="CSBOT_CONFIG", help="TOML 配置文件")

def settings(config: Path | None, **overrides: Any) -> Settings:
    """The settings: flags (``overrides``, None for a flag not given) over the TOML file over CSBOT_*."""
    from bot.settings import SettingsError, load_settings

    ctx = click.get_current_context(silent=True)
    if ctx is not None:  # an option click filled from CSBOT_* is that variable, not a flag
        from click.core import ParameterSource

        overrides = {k: None if ctx.get_parameter_source(k) == ParameterSource.ENVIRONMENT else v
                     for k, v in overrides.items()}
    try:
        return load_settings(config, _flag_names(), **overrides)
    except SettingsError as exc:  # like a bad flag: a usage error
        click.echo(str(exc), err=True)
        sys.exit(EXIT_USAGE)


def a_folder(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
    """--dialogs / --templates: a folder that is there (a usage error, exit 2, otherwise),
    named as the person gave it: the flag or the CSBOT_ variable."""
    if value is None or value.is_dir():
        return value
    from click.core import ParameterSource

    envvar = param.envvar if isinstance(param.envvar, str) else None
    if envvar and ctx.get_parameter_source(str(param.name)) == ParameterSource.ENVIRONMENT:
        where = f"环境变量 {envvar}"
    else:
        where = max(param.opts, key=len)
    said = "不是文件夹" if value.exists() else "文件夹不存在"
    raise click.UsageError(f"{where} 的值不对：{said}：{value}", ctx)


_data_options = [
    click.option("--dialogs", type=click.Path(path_type=Path), default=None, callback=a_folder, metavar="目录",
                 envvar="CSBOT_DIALOGS", help="店铺自己的 dialogs 数据目录（默认用内置的）"),
    click.option("--templates", type=click.Path(path_type=Path), default=None, callback=a_folder, metavar="目录",
                 envvar="CSBOT_TEMPLATES", help="店铺自己的 scripts_zh 话术模板目录"),
]


def data_options(f: Any) -> Any:
    """--dialogs and --templates: every command that loads the engine reads the shop's copy."""
    for opt in reversed(_data_options):
        f = opt(f)
    return f


def _flag_names() -> dict[str, str]:
    """The running command's options by the name they fill (``database_url``: ``--db``), so
    that a bad value is named by the flag the person typed."""
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return {}
    return {p.name: max(p.opts, key=len) for p in ctx.command.params
            if isinstance(p, click.Option) and p.name and p.opts}


def database_problem(url: str, exc: BaseException) -> str:
    """Why the database at ``url`` cannot be opened, in Chinese, the password hidden."""
    from urllib.parse import unquote

    from sqlalchemy import make_url

    from bot.store.errors import database_reason

    try:
        # the password hidden; a Chinese folder name as typed, not %E6%B2%A1…
        shown = unquote(make_url(url).render_as_string())
    except Exception:
        shown = "（地址格式不对）"
    return f"无法打开数据库 {shown}：{database_reason(exc)}（可用 --db 指定，或设置 CSBOT_DATABASE_URL）"


def shop_engine(s: Settings) -> Engine:
    """The engine over the settings' data folders, with the shop's quiet hours and time zone."""
    from bot.quiet import QuietHours

    return load_engine(s.dialogs, s.templates, QuietHours.from_settings(s))


def load_engine(dialogs: Path | None, templates: Path | None, quiet: QuietHours | None = None) -> Engine:
    """The engine over a shop's data; broken data is told in Chinese with exit 3."""
    from bot.dataload import DataError
    from bot.engine import Engine

    try:
        engine = Engine.load(dialogs, templates, quiet)
    except DataError as exc:
        click.echo(f"数据错误：{exc}", err=True)
        sys.exit(EXIT_DATA)
    from bot.datacheck import check_folders  # names, templates: what loading alone cannot tell

    problems = check_folders(engine.dialogs, engine.templates_root, engine)
    if problems:
        click.echo("数据错误：\n" + "\n".join(map(str, problems)), err=True)
        sys.exit(EXIT_DATA)
    return engine


def with_store(s: Settings, fn: Callable[[Store], Awaitable[T]], *, existing: bool = False) -> T:
    """``fn(store)`` over the settings' database, closed afterwards; a database that cannot
    be opened is told in Chinese with exit 3, not a traceback. ``existing``: a command that
    only reads (export, queue, token list) refuses a SQLite file that is not there, rather
    than making an empty one at a misspelt path and reporting nothing found."""
    from bot.store.db import Store

    if existing:
        missing = _missing_sqlite_file(s.database_url)
        if missing is not None:
            click.echo(f"数据库文件不存在：{missing}（路径写错了？可用 --db 指定，或设置 CSBOT_DATABASE_URL）",
                       err=True)
            sys.exit(EXIT_DATA)

    async def go() -> T:
        try:
            store = await Store.open(s.database_url)
        except Exception as exc:  # the driver's own errors too (asyncpg, OSError)
            click.echo(database_problem(s.database_url, exc), err=True)
            sys.exit(EXIT_DATA)
        try:
            return await fn(store)
        finally:
            await store.close()

    import asyncio  # only the commands that open the store need it

    return asyncio.run(go())


def _missing_sqlite_file(url: str) -> str | None:
    """The path of a SQLite database URL whose file does not exist (None otherwise)."""
    from sqlalchemy import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        return None  # the opening says what is wrong with the address
    path = parsed.database if parsed.get_backend_name() == "sqlite" else None
    if not path or path == ":memory:" or path.startswith("file:") or Path(path).exists():
        return None
    # a missing folder is the opening's to tell (文件夹不存在或没有权限)
    return path if Path(path).parent.is_dir() else None


__all__ = ["a_folder", "config_option", "data_options", "database_problem", "db_option", "load_engine", "settings",
           "with_store"]
