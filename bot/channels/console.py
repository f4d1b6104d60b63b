"""`csbot assist`: agent assist in the terminal, on the same engine as every other channel."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from bot.engine import ConversationClosed, Engine
from bot.models import Case, Suggestion, Tone
from bot.store.db import Store

HELP = """输入买家说的话或您发出的话：
  买：文本   （或 b: 文本）  买家说的话；不带前缀也当作买家的话
  我：文本   （或 a: 文本）  您（客服）发出的话，会做合规检查
  /tone 正式|亲切   切换建议的语气      /resume   恢复约定回访或暂停的会话
  /status           查看当前阶段        /help     显示本帮助
  /quit             退出"""

_SEVERITY_STYLE = {"block": "bold red", "warn": "yellow", "info": "cyan"}
_SEVERITY_NAME = {"block": "禁止", "warn": "注意", "info": "提示"}


def parse_line(line: str) -> tuple[str, str] | None:
    """(role, text) of an input line, or None for an empty one."""
    s = line.strip()
    if not s:
        return None
    for prefix, role in (("买：", "buyer"), ("买:", "buyer"), ("b:", "buyer"), ("b：", "buyer"),
                         ("我：", "agent"), ("我:", "agent"), ("a:", "agent"), ("a：", "agent")):
        if s.lower().startswith(prefix):
            return role, s[len(prefix):].strip()
    return "buyer", s


def render(console: Console, sug: Suggestion) -> None:
    """Print one Suggestion: stage, understanding, replies, remedies, warnings, checklist."""
    steps = " → ".join(
        f"[bold green]{s.label}[/]" if s.id == sug.stage.id else s.label for s in sug.progress.stages
    )
    console.print(f"[bold]阶段：{sug.stage.label}[/]（{sug.stage.id}）  {steps}")
    u: Any = sug.understanding
    if u is not None and hasattr(u, "intent"):
        console.print(f"买家：意图 [magenta]{u.intent}[/]  原因 [magenta]{u.cause or '—'}[/]  "
                      f"情绪 [magenta]{u.emotion}[/]  置信度 {u.confidence:.2f}")
    elif u is not None:
        console.print(f"客服动作：{'、'.join(u.acts) or '—'}")
    for f in sug.warnings:
        style = _SEVERITY_STYLE[f.severity]
        console.print(Text(f"【{_SEVERITY_NAME[f.severity]}】{f.message}", style=style))
        if f.rewrite:
            console.print(Text(f"  建议改为：{f.rewrite}", style="green"))
    if sug.suggestions:
        table = Table(show_header=False, box=None, padding=(0, 1), expand=True)
        table.add_column(no_wrap=True)
        table.add_column(no_wrap=True)
        table.add_column(overflow="fold", ratio=1)  # the whole reply, wrapped: the agent copies it
        for i, s in enumerate(sug.suggestions, 1):
            table.add_row(f"[bold]{i}.[/]", f"[dim]{s.tone}[/]", s.text)
        console.print(Panel(table, title="建议回复", title_align="left", border_style="green"))
    if sug.remedies:
        console.print("可选补救：" + "；".join(r.label for r in sug.remedies))
    if sug.public_reply:
        console.print(Panel(sug.public_reply, title="评价公开解释（草稿）", title_align="left",
                            border_style="cyan"))
    if sug.checklist:
        console.print("  ".join(("[green]✓[/]" if c.done else "[red]✗[/]") + c.item
                                for c in sug.checklist))


def run_console(store_url: str, engine: Engine, case: Case, console: Console, tone: Tone = "正式") -> int:
    """The interactive loop over the same store, lock and dedupe as the service; returns the exit code.

    Each turn is committed to the database (``store_url``, the embedded SQLite file by
    default) before it is shown, so a closed terminal loses nothing and the case can be
    read later through the API or `csbot serve`.
    """
    with asyncio.Runner() as runner:
        store = runner.run(Store.open(store_url, engine))
        try:
            return _loop(runner, store, engine, case, console, tone)
        finally:
            runner.run(store.close())


def _loop(runner: asyncio.Runner, store: Store, engine: Engine, case: Case, console: Console,
          tone: Tone) -> int:
    conv, sug, _ = runner.run(store.create(case, tone))
    console.print(Panel(HELP, title=f"csbot 售后助手 · {case.shop} · 买家 {case.buyer_name}",
                        border_style="blue"))
    render(console, sug)
    while True:
        try:
            line = console.input("[bold blue]> [/]")
        except (EOFError, KeyboardInterrupt):
            console.print("\n再见。")
            return 0
        s = line.strip()
        if s in ("/quit", "/exit", "/退出"):
            console.print("再见。")
            return 0
        if s == "/help":
            console.print(HELP)
            continue
        if s == "/status":
            render(console, sug)
            continue
        if s.startswith("/tone"):
            choice = s.removeprefix("/tone").strip()
            if choice not in ("正式", "亲切"):
                console.print("[yellow]语气只能是“正式”或“亲切”[/]")
                continue
            runner.run(store.set_tone(conv.id, cast(Tone, choice)))
            console.print(f"建议语气已切换为：{choice}")
            continue
        if s == "/resume":
            try:
                sug = runner.run(store.resume(conv.id))
            except ValueError as exc:
                console.print(f"[yellow]{exc}[/]")
                continue
            render(console, sug)
            continue
        if s.startswith("/"):
            console.print("[yellow]没有这个命令，输入 /help 查看可用命令[/]")
            continue
        parsed = parse_line(line)
        if parsed is None:
            continue
        role, text = parsed
        if not text:
            continue
        try:
            sug, _ = runner.run(store.add_turn(conv.id, role, text))
        except ConversationClosed as exc:
            console.print(f"[yellow]{exc}[/]")
            continue
        render(console, sug)
        if sug.stage.id == engine.script.final:
            console.print("[bold]会话已结束。[/]输入 /quit 退出。")
