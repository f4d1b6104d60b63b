"""The `csbot` command line. Heavy modules are imported inside each command to keep start-up fast."""

from __future__ import annotations

import errno
import json
import sys
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import click

from bot.cli_options import (
    a_folder,
    config_option,
    data_options,
    db_option,
    load_engine,
    settings,
    shop_engine,
    with_store,
)
from bot.cli_zh import File as zh_file
from bot.cli_zh import ReadablePath, os_error, text_lines
from bot.cli_zh import install as _click_in_chinese

if TYPE_CHECKING:
    from collections.abc import Iterator

    from bot.models import Tone

_click_in_chinese()

EXIT_OK, EXIT_FOUND, EXIT_USAGE, EXIT_DATA = 0, 1, 2, 3



# Collections of the youngest generation in every command: every 10,000 more container
# objects made than freed, not CPython's 700. A turn of `csbot serve` leaves about one more
# behind than it frees, so at 700 the collector ran every few hundred turns and a full
# collection now and then (up to 19 ms, each a stall of every waiting turn): about 4 % of a
# turn's CPU; at 10,000 next to nothing. A command's start-up builds its lexicons and model
# in one go, objects that live as long as the process: at 700 the collector walked them
# about a hundred times (17 ms of `csbot lint`'s CPU, 10 ms at 10,000). Cycles are still
# collected, a little later.
SERVE_GC_THRESHOLD = 10_000


def settle_heap() -> None:
    """Move what start-up built (lexicons, templates, the script) out of the garbage
    collector's sight, and collect the young generation seldom (see above): a service
    allocates per request, and each full collection walked all of it again."""
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(SERVE_GC_THRESHOLD, *gc.get_threshold()[1:])


def _understander(dialogs: Path | None, *models: str) -> Any:
    import gc

    # What is imported and built here lives as long as the command: the collector would
    # only walk it again and again while it grows, and then at each collection while the
    # command reads its input.
    collecting = gc.isenabled()
    gc.disable()
    try:
        from bot.dataload import DataError
        from bot.paths import dialogs_dir
        from bot.understand.pipeline import Understander

        try:
            u = Understander(dialogs_dir(dialogs))
            for name in models:  # loaded (and checked) now, not at the first line of input
                getattr(u, name)
        except DataError as exc:
            click.echo(f"数据错误：{exc}", err=True)
            sys.exit(EXIT_DATA)
        gc.freeze()
        return u
    finally:
        if collecting:
            gc.enable()


_UNREAD = "第 {n} 行的编码看不懂（不是 UTF-8，也不是 GBK），已跳过：请把文件另存为 UTF-8"


def _readable(file: Any, unread: list[int]) -> Iterator[tuple[int, str]]:
    """The non-blank lines of ``file`` with their numbers; a line in no encoding csbot reads is
    said on stderr, skipped and its number added to ``unread`` (the command then exits 1)."""
    for n, text in text_lines(file):
        if text is None:
            unread.append(n)
            click.echo(_UNREAD.format(n=n), err=True)
        elif text.strip():
            yield n, text


def _ending() -> None:
    """A one-shot command is about to exit: what it built (lexicons, model tables) is put
    out of the collector's sight, so the interpreter's last collection does not walk all
    of it once more (1.5–2 % of `csbot analyze` or `lint`). Stdout is flushed and files
    closed at exit as always; nothing these commands make needs a finaliser."""
    import gc

    gc.freeze()


def _stdout_utf8() -> None:
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure:
            reconfigure(encoding="utf-8")


class _Commands(click.Group):
    """The group of csbot's commands, some of them imported on first use (LAZY_COMMANDS)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in LAZY_COMMANDS:
            import importlib

            module, name = LAZY_COMMANDS[cmd_name].split(":")
            self.add_command(getattr(importlib.import_module(module), name), cmd_name)
        return super().get_command(ctx, cmd_name)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="csbot", message="csbot %(version)s")
def main() -> None:
    """csbot：淘宝/天猫售后中差评沟通助手。

    按话术流程提示每一步该说什么，检查客服发言是否合规，并提供客服培训模拟。
    """
    import gc

    gc.set_threshold(SERVE_GC_THRESHOLD, *gc.get_threshold()[1:])  # see SERVE_GC_THRESHOLD
    _stdout_utf8()


@main.command()
@click.option("--role", type=click.Choice(["buyer", "agent"]), required=True,
              help="buyer：买家消息；agent：客服消息")
@click.argument("file", type=zh_file("rb"), default="-")
@click.option("--dialogs", type=click.Path(path_type=Path), default=None, callback=a_folder, metavar="目录",
              envvar="CSBOT_DIALOGS", help="店铺自己的 dialogs 数据目录")
def analyze(role: str, file: Any, dialogs: Path | None) -> None:
    """逐行分析消息（UTF-8，一行一条），每行输出一个 JSON 对象。

    买家：{"text","intent","cause","emotion","confidence","intents"}（intent 是主意图，
    confidence 是校准过的把握；intents 按出现顺序列出一句话里的全部意图）；
    客服：{"text","acts":[...],"findings":[{"code","severity","span","message"}]}。
    """
    u = _understander(dialogs, *(("buyer_model",) if role == "buyer" else ("agent_model", "guard")))
    analyse = u.buyer if role == "buyer" else u.agent
    out = sys.stdout
    unread: list[int] = []
    for _, text in _readable(file, unread):
        # (one message alone names no sum asked for: that is read in a conversation, amount)
        out.write(analyse(text).model_dump_json(exclude={"amount"}) + "\n")
    _ending()
    if unread:
        sys.exit(EXIT_FOUND)


@main.command()
@click.argument("file", type=zh_file("rb"), default="-")
@click.option("--json", "as_json", is_flag=True, help="每行输出一个 JSON 对象，供程序读取")
@click.option("--dialogs", type=click.Path(path_type=Path), default=None, callback=a_folder, metavar="目录",
              envvar="CSBOT_DIALOGS", help="店铺自己的 dialogs 数据目录")
def lint(file: Any, as_json: bool, dialogs: Path | None) -> None:
    """检查店铺的快捷短语库（一行一条；千牛导出的快捷短语表 CSV 只查“快捷短语”一列）。

    有“禁止”级问题（好评返现等条件利益、威胁、泄露隐私）时退出码为 1，否则为 0。
    """
    import itertools

    u = _understander(dialogs, "guard")
    from bot.guard.quick_replies import export_rows, peek
    from bot.guard.report import Describer
    from bot.intake.files import FileError

    labels = Describer(u.dialogs)
    blocked = warned = total = 0
    unread: list[int] = []
    first, export = peek(file)
    rows: Iterator[tuple[int, str, str]]
    if export is not None:  # 千牛's quick-reply export: the phrase column only, rows as Excel numbers them
        rows = export_rows(first + file.read(), export)
    else:
        rows = ((n, text, "") for n, text in _readable(itertools.chain([first], file), unread))
    try:
        for n, text, group in rows:
            total += 1
            findings = u.findings(text)
            blocked += any(f.severity == "block" for f in findings)
            warned += bool(findings) and not any(f.severity == "block" for f in findings)
            if as_json:
                click.echo(json.dumps({"line": n, "text": text, **({"group": group} if export else {}),
                                       "findings": [f.model_dump() for f in findings]},
                                      ensure_ascii=False))
            elif findings:
                click.echo(f"第 {n} 行" + (f"（分组：{group}）" if group else "") + f"：{text}")
                for f in findings:
                    click.echo(labels.describe(f, text))
    except FileError as exc:
        click.echo(f"读不了这个文件：{exc}", err=True)
        sys.exit(EXIT_DATA)
    if not as_json:
        click.echo(("千牛快捷短语表：只检查“快捷短语”一列，行号和 Excel 里一致（表头是第 1 行）。\n" if export else "")
                   + f"共检查 {total} 条：{blocked} 条有禁止级问题，{warned} 条需要注意。")
    _ending()
    sys.exit(EXIT_FOUND if blocked or unread else EXIT_OK)


def _json_case(engine: Any, shop: str | None, buyer: str | None, honorific: str, product: str | None,
               order_date: date | None, platform: str, agent: str | None, order_id: str | None = None) -> Any:
    """The case `assist --json` starts from without a case line: the options given, the
    data's defaults for shop and buyer; None when no option was given (the engine's own)."""
    from pydantic import ValidationError

    from bot.models import Case
    from bot.server.errors import describe

    given: dict[str, Any] = {"honorific": honorific, "product": product, "order_date": order_date,
                             "order_id": order_id, "agent": agent,
                             "platform": platform if platform != "taobao" else None}
    fields = {k: v for k, v in given.items() if v}
    if shop is None and buyer is None and not fields:
        return None
    try:
        return Case.model_validate({"shop": shop or engine.defaults["shop"],
                                    "buyer_name": buyer or engine.defaults["buyer_name"], **fields})
    except ValidationError as exc:
        click.echo(f"案件信息不完整或格式不对：{describe(exc)}", err=True)
        sys.exit(EXIT_USAGE)


@main.command()
@data_options
@click.option("--json", "as_json", is_flag=True,
              help='JSON 行模式：输入 {"role":"buyer"|"agent","text":…}'
                   '（可先给一行 {"case":{…}}，不给就用下面的 --shop、--buyer 等选项；'
                   '更正 {"correct":{"intent"|"cause"|"stage":…}}；'
                   '登记结果 {"end":"已解决"}），每行输入恰好输出一行 JSON')
@click.option("--shop", default=None, help="店铺名")
@click.option("--buyer", "buyer_name", default=None, help="买家姓名或称呼")
@click.option("--honorific", default="", help="称谓：先生 / 女士 / 同学…（不确定就留空）")
@click.option("--product", default=None, help="商品")
@click.option("--order-date", "order_day", default=None, metavar="日期",
              help="下单日期：2026-05-03、2026/5/3、5月3日、3号、昨天、上周三")
@click.option("--order-id", default=None, help="订单号（同一买家的不同订单各开一个案例）")
@click.option("--platform", type=click.Choice(["taobao", "tmall"]), default="taobao", help="平台")
@click.option("--agent", "agent_name", default=None, help="客服自己的名字（不填则建议里不署名）")
@click.option("--tone", type=click.Choice(["正式", "亲切"]), default="正式", help="建议的语气")
@click.option("--db", "database_url", default=None,
              help="保存会话的数据库（默认 CSBOT_DATABASE_URL，即当前目录的 csbot.db）")
@config_option
def assist(dialogs: Path | None, templates: Path | None, as_json: bool, shop: str | None,
           buyer_name: str | None, honorific: str, product: str | None, order_day: str | None,
           order_id: str | None, platform: str, agent_name: str | None, tone: str,
           database_url: str | None, config: Path | None) -> None:
    """在终端里辅助客服：输入买家和自己说的话，看到阶段、建议回复、补救方案和合规提醒。

    买家的话直接输入（或以“买：”“b:”开头），您发出的话以“我：”或“a:”开头；/帮助 列出全部命令。
    没给 --order-date 时先问下单日期（可留空）。

    每一轮都先存入数据库再显示（和 csbot serve 用同一套存储）；--json 模式不存库。"""
    from bot.service.turns import shop_clock

    # the shop's folders as csbot serve reads them: the options, CSBOT_*, or the settings file
    s = settings(config, database_url=database_url, dialogs=dialogs, templates=templates)
    order_date = _day(order_day, shop_clock(s.shop_timezone)().date())
    engine = shop_engine(s)
    if as_json:
        from bot.channels.jsonl import run_jsonl

        sys.exit(run_jsonl(engine, sys.stdin, sys.stdout,
                           _json_case(engine, shop, buyer_name, honorific, product, order_date,
                                      platform, agent_name, order_id), cast("Tone", tone)))
    from click.core import ParameterSource

    from bot.channels.console import assist_console

    # --order-date "" says "no date": only a date not given at all is asked for
    date_given = click.get_current_context().get_parameter_source("order_day") != ParameterSource.DEFAULT
    sys.exit(assist_console(engine, shop, buyer_name, honorific, product, order_date, platform,
                            agent_name, tone, s.database_url, date_given, order_id or None,
                            s.shop_timezone))


@main.command()
@click.option("--format", "fmt", type=click.Choice(["mermaid", "svg", "dot"]), default="mermaid",
              help="mermaid 文本（默认）、svg 图片（需要 Graphviz）或 dot 文本")
@click.option("--dialogs", type=click.Path(path_type=Path), default=None, callback=a_folder, metavar="目录",
              envvar="CSBOT_DIALOGS", help="店铺自己的 dialogs 数据目录")
@click.option("--templates", type=click.Path(path_type=Path), default=None, callback=a_folder, metavar="目录",
              envvar="CSBOT_TEMPLATES", help="店铺自己的 scripts_zh 话术模板目录")
def diagram(fmt: str, dialogs: Path | None, templates: Path | None) -> None:
    """输出话术流程图（取自运行中的状态机）。"""
    from bot.script.diagram import dot, mermaid

    script = load_engine(dialogs, templates).script
    if fmt == "mermaid":
        click.echo(mermaid(script), nl=False)
        return
    if fmt == "dot":
        click.echo(dot(script), nl=False)
        return
    import shutil  # only this command runs a program: not imported at start-up
    import subprocess

    exe = shutil.which("dot")
    if exe is None:
        click.echo("输出 SVG 需要 Graphviz：请先安装（如 apt-get install graphviz），或改用 --format mermaid。",
                   err=True)
        sys.exit(EXIT_DATA)
    svg = subprocess.run([exe, "-Tsvg"], input=dot(script).encode(), capture_output=True, check=True)
    sys.stdout.buffer.write(svg.stdout)


@main.command(name="eval")
@click.argument("datasets", nargs=-1, required=False,
                type=ReadablePath())
@click.option("--role", type=click.Choice(["buyer", "agent"]), default=None,
              help="不给数据集时只评估买家（buyer）或客服（agent）的留出集")
@click.option("--train", "with_train", is_flag=True, help="不给数据集时也评估训练集（对照用）")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.option("--errors", default=0, show_default=True, help="列出前 N 条错误")
@data_options
def evaluate_cmd(datasets: tuple[Path, ...], role: str | None, with_train: bool, as_json: bool, errors: int,
                 dialogs: Path | None, templates: Path | None) -> None:
    """在带标注的数据集（JSON 行）上评估：意图、原因、情绪准确率，动作和合规的 P/R/F1，对话阶段一致率。

    自动识别数据集种类：买家消息、客服消息、快捷短语或整段对话。买家和客服消息并列给出
    “规则 / 模型 / 组合”三列，以及置信度的可靠性表和 ECE。不给数据集时评估语料的留出集
    （corpus/heldout/）和 tests/data 里的旧数据集。
    """
    from bot.evaluate import evaluate, format_report, kind_of, read_jsonl
    from bot.learned.report import Comparison, default_sets, format_comparison, table_row

    engine = load_engine(dialogs, templates)
    compare = Comparison(engine.dialogs)
    if not datasets:
        datasets = tuple(default_sets(engine.dialogs, role, with_train))
        if not datasets:
            click.echo("没有可评估的数据集：数据目录里没有 corpus/heldout/", err=True)
            sys.exit(EXIT_DATA)
    results = []
    for path in datasets:
        rows = read_jsonl(path)
        if not rows:
            click.echo(f"{path}：数据集为空", err=True)
            sys.exit(EXIT_DATA)
        try:
            result = evaluate(engine.understand, rows, engine)
            if kind_of(rows) in ("buyer", "agent"):
                side = compare(rows)
                result["compare"] = table_row(side)
                result["_compare"] = side
        except (KeyError, TypeError) as exc:
            click.echo(f"{path}：数据格式不对（缺少字段 {exc}）", err=True)
            sys.exit(EXIT_DATA)
        except ValueError as exc:  # a guard or agent line that does not validate (pydantic)
            first = str(exc).splitlines()[1:3]
            click.echo(f"{path}：数据格式不对（{'：'.join(x.strip() for x in first)}）", err=True)
            sys.exit(EXIT_DATA)
        result["file"] = str(path)
        results.append(result)
    if as_json:
        for result in results:
            result.pop("_compare", None)
        click.echo(json.dumps(results, ensure_ascii=False, indent=1))
        return
    for result in results:
        click.echo(f"== {result['file']}")
        side = result.pop("_compare", None)
        if side is not None:
            for line in format_comparison(side):
                click.echo(line)
            click.echo("  组合（实际使用的理解）的明细：")
        for line in format_report(result, errors):
            click.echo(line)


@main.command()
@click.option("--db", "database_url", default=None,
              help="数据库地址：sqlite:///csbot.db（默认）或 postgresql://用户@主机/库")
@click.option("--host", default=None, help="监听地址（默认 127.0.0.1）")
@click.option("--port", type=int, default=None, help="端口（默认 8080）")
@config_option
@click.option("--dev", is_flag=True, help="开发模式：允许未配置密钥的渠道")
@data_options
def serve(database_url: str | None, host: str | None, port: int | None, config: Path | None,
          dev: bool, dialogs: Path | None, templates: Path | None) -> None:
    """启动 HTTP 服务（REST、WebSocket、指标、渠道回调）。

    默认使用当前目录下的 SQLite 文件 csbot.db。"""
    import logging

    from aiohttp import web

    from bot.server.app import serve_app
    from bot.server.run import serve_forever
    from bot.understand.normalize import load_conversions

    s = settings(config, database_url=database_url, host=host, port=port,
                  dialogs=dialogs, templates=templates)
    logging.basicConfig(level=logging.INFO if s.access_log else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    engine = shop_engine(s)
    load_conversions()  # no turn builds an OpenCC converter

    async def app_factory() -> web.Application:
        app = await serve_app(s, engine, dev=dev)
        settle_heap()
        return app

    try:
        serve_forever(app_factory(), host=s.host, port=s.port, ready=lambda: click.echo(
            f"csbot 服务已启动：http://{s.host}:{s.port}（数据库：{s.database_url}）\n"
            f"客服侧边栏：http://{s.host}:{s.port}/sidebar"),
            shutdown_timeout=10, keepalive_timeout=s.header_timeout,
            access_log=logging.getLogger("aiohttp.access") if s.access_log else None)
    except Exception as exc:  # a configuration problem found at start-up
        from sqlalchemy.exc import SQLAlchemyError

        from bot.channels.base import ConfigError
        from bot.cli_options import database_problem

        if isinstance(exc, ConfigError):  # a setting's value, like every other bad setting: exit 2
            click.echo(f"设置有误：{exc}", err=True)
            sys.exit(EXIT_USAGE)
        if isinstance(exc, OSError) and exc.errno in (errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL):
            why = {errno.EADDRINUSE: "已经被占用（另一个 csbot serve 还在运行？用 --port 换一个端口）",
                   errno.EACCES: "没有权限监听（1024 以下的端口要管理员权限，用 --port 换一个）",
                   errno.EADDRNOTAVAIL: "这台机器上没有这个地址（用 --host 换一个）"}[exc.errno]
            click.echo(f"无法启动服务：{s.host}:{s.port} {why}", err=True)
            sys.exit(EXIT_USAGE)
        if isinstance(exc, SQLAlchemyError | OSError):  # the store did not open (a traceback before)
            click.echo(database_problem(s.database_url, exc), err=True)
            sys.exit(EXIT_DATA)
        raise


@main.group()
def token() -> None:
    """管理 API 令牌（只保存哈希，令牌本身只显示一次）。"""


@token.command(name="add")
@click.option("--role", type=click.Choice(["agent", "admin"]), required=True, help="agent：客服；admin：管理员")
@click.option("--shop", required=True, help="令牌所属店铺（客服只能看到本店的会话）")
@click.option("--name", default=None, help="令牌名称（默认自动生成）")
@db_option
@config_option
def token_add(role: str, shop: str, name: str | None, database_url: str | None,
              config: Path | None) -> None:
    """新建令牌并显示一次。"""
    import secrets

    from sqlalchemy.exc import IntegrityError

    label = name or f"{role}-{secrets.token_hex(3)}"
    try:
        value = with_store(settings(config, database_url=database_url), lambda st: st.add_token(label, role, shop))
    except IntegrityError:
        click.echo(f"已有名为 {label} 的令牌", err=True)
        sys.exit(EXIT_FOUND)
    click.echo(f"令牌 {label}（{role}，店铺 {shop}）：")
    if role == "admin" and shop != "*":  # scoped: an admin of one shop (bot/server/app.py _scope)
        click.echo(f"这个管理员令牌只能管理店铺 {shop}；要管理所有店铺，请用 --shop '*'", err=True)
    click.echo(value)
    click.echo("请立即保存：令牌只显示这一次，数据库里只存它的哈希。", err=True)


@token.command(name="list")
@db_option
@config_option
def token_list(database_url: str | None, config: Path | None) -> None:
    """列出令牌（不显示令牌本身）。"""
    rows = with_store(settings(config, database_url=database_url), lambda st: st.list_tokens(), existing=True)
    for r in rows:
        state = "已吊销" if r.revoked else "有效"
        click.echo(f"{r.name}\t{r.role}\t{r.shop}\t{r.created_at.isoformat()}\t{state}")


@token.command(name="revoke")
@click.argument("name")
@db_option
@config_option
def token_revoke(name: str, database_url: str | None, config: Path | None) -> None:
    """吊销令牌。"""
    if not with_store(settings(config, database_url=database_url), lambda st: st.revoke_token(name), existing=True):
        click.echo(f"没有名为 {name} 的有效令牌", err=True)
        sys.exit(EXIT_FOUND)
    click.echo(f"已吊销令牌 {name}")


def _day(value: str | None, today: date) -> date | None:
    """--order-date read on the shop's calendar (``today``: 昨天, 周三, 5月3日 are the shop's)."""
    from bot.periods import parse_day

    try:
        return parse_day(value, today) if value else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--order-date") from exc


def _period(shop: str | None, since: str | None, until: str | None, timezone: str) -> Any:
    """The report's filters from --since/--until as the lead typed them (bot/periods.py),
    read on the shop's clock; a usage error (exit 2) in Chinese otherwise."""
    from zoneinfo import ZoneInfo

    from bot.insights.records import Filters
    from bot.periods import parse_bound

    now = datetime.now(ZoneInfo(timezone))
    bounds = []
    for value, hint, end in ((since, "--since", False), (until, "--until", True)):
        try:
            bounds.append(parse_bound(value, now, end=end) if value is not None else None)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint=hint) from None
    start, stop = bounds
    if start is not None and stop is not None and start.at > stop.at:
        raise click.BadParameter(f"开始时间 {start.shown} 晚于结束时间 {stop.shown}", param_hint="--since / --until")
    return Filters(shop=shop, since=start.at if start else None, until=stop.at if stop else None,
                   since_shown=start.shown if start else "", until_shown=stop.shown if stop else "")


@main.command()
@db_option
@config_option
@click.option("--shop", default=None, help="只统计这个店铺的案例（默认全部店铺）")
@click.option("--since", default=None, metavar="日期",
              help="只统计这以后创建的案例：2026-12-01、2026-12-01 10:00、12-01、2026/12/01、7天（或 7d）、"
                   "最近三天、近一周、昨天、前天、本周、上上周、本月、上上个月（按店铺时区）")
@click.option("--until", default=None, metavar="日期",
              help="只统计这以前创建的案例：写日期时含这一天，写到几点几分就到那一刻为止（写法同 --since）")
@click.option("--format", "fmt", type=click.Choice(["html", "csv"]), default="html",
              help="html（默认）：带图表的单页报告；csv：一张长表（UTF-8 带 BOM，Excel 可直接打开）")
@click.option("--output", "-o", default=None, metavar="FILE",
              help="输出文件，- 表示标准输出（默认：html 写入当前目录的 csbot-report.html，csv 输出到标准输出）")
@data_options
def report(database_url: str | None, config: Path | None, shop: str | None, since: str | None,
           until: str | None, fmt: str, output: str | None, dialogs: Path | None,
           templates: Path | None) -> None:
    """统计已保存的案例：买家为什么给中差评、什么补救管用、案例停在哪一步、合规提醒和各客服的情况。

    只读数据库，不会修改它。例：csbot report --since 2026-03-01 --shop 柚子家女装
    """
    import asyncio

    from bot.insights.labels import Labels, wording
    from bot.insights.records import ReportError, open_database, read_records
    from bot.insights.render import Report, csv_bytes, html

    s = settings(config, database_url=database_url, dialogs=dialogs, templates=templates)
    filters = _period(shop, since, until, s.shop_timezone)

    async def read() -> tuple[Any, Any]:
        db = await open_database(s.database_url)  # first: a wrong --db is told at once
        try:
            engine = shop_engine(s)
            return engine, await read_records(db, filters, initial_stage=engine.script.initial,
                                              compliance=frozenset(engine.labels.codes))
        finally:
            await db.dispose()

    try:
        engine, records = asyncio.run(read())
    except ReportError as exc:
        click.echo(f"无法生成报告：{exc}", err=True)
        sys.exit(EXIT_DATA)
    words = wording()
    if not records:
        click.echo(words["empty"], err=True)
        sys.exit(EXIT_OK)
    labels = Labels.from_engine(engine)
    done = Report.of(records, labels, filters, list(engine.script.stages), zone=s.shop_timezone)
    data = csv_bytes(done) if fmt == "csv" else html(done).encode("utf-8")
    if labels.unnamed():  # a label the data read does not name: the report shows its id
        click.echo(labels.unnamed(), err=True)
    target = output or ("-" if fmt == "csv" else "csbot-report.html")
    if target == "-":
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    try:
        Path(target).write_bytes(data)
    except OSError as exc:
        click.echo(f"无法写入 {target}：{os_error(exc)}", err=True)
        sys.exit(EXIT_DATA)
    click.echo(words["written"].format(path=target, n=len(records)), err=True)


# The commands that live in their own modules, imported when one of them runs (or --help
# lists them): `analyze` and `lint` no longer import every command's module first.
LAZY_COMMANDS = {
    "train": "bot.training.command:train",
    "channels": "bot.channels.check:channels",
    "import": "bot.intake.commands:import_cmd",
    "queue": "bot.intake.commands:queue",
    "assign": "bot.intake.commands:assign",
    "contact": "bot.intake.commands:contact",
    "purge": "bot.intake.commands:purge",
    "explain": "bot.intake.top_command:explain",
    "check": "bot.datacheck:check",
    "corrections": "bot.corrections_cli:corrections",
    "learn": "bot.learned.command:learn",
    "db": "bot.db_cli:db",
}
