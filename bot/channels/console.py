"""`csbot assist`: agent assist in the terminal, on the same engine as every other channel."""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, cast

from rich.cells import cell_len
from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from bot.engine import ConversationClosed, Engine
from bot.labels import Labels
from bot.models import BuyerUnderstanding, Case, Role, Suggestion, Tone
from bot.periods import parse_day
from bot.service.turns import TurnService, shop_clock
from bot.store.db import Store
from bot.wrap_zh import Wrapped

if TYPE_CHECKING:
    from bot.script.machine import Script

HELP = """输入买家说的话或您发出的话：
  买：文本   （或 b: 文本）  买家说的话；不带前缀也当作买家的话
  我：文本   （或 a: 文本）  您（客服）发出的话，会做合规检查
命令（中文或英文都可以）：
  /结束 结果   （/end）     登记结果并结束，如 /结束 {outcome}
  /意图 名称   （/intent）  更正买家上一句的意图，如 /意图 {intent}
  /原因 名称   （/cause）   更正这个案子的原因，如 /原因 {cause}
  /阶段 名称   （/stage）   更正当前阶段，如 /阶段 {stage}
  /确认        （/confirm） 确认上一条“可能…”提示
  /语气 正式|亲切（/tone）  切换建议的语气
  /恢复        （/resume）  恢复约定回访或暂停的会话；已结束的则再联系一次
  /状态        （/status）  查看当前阶段   /帮助（/help）显示本帮助
  /退出        （/quit）    退出"""

_SEVERITY_STYLE = {"block": "bold red", "warn": "yellow", "info": "cyan"}
_SEVERITY_NAME = {"block": "禁止", "warn": "注意", "info": "提示"}

# Every command by its names. 旺旺's emoticon codes ("/:^_^") start with a slash: a line
# is a command only when a known name, or a word (unknown_command), follows the slash.
COMMANDS: dict[str, str] = {
    "/结束": "end", "/end": "end", "/意图": "intent", "/intent": "intent", "/原因": "cause",
    "/cause": "cause", "/阶段": "stage", "/stage": "stage", "/确认": "confirm", "/confirm": "confirm",
    "/语气": "tone", "/tone": "tone", "/恢复": "resume", "/resume": "resume", "/状态": "status",
    "/status": "status", "/帮助": "help", "/help": "help", "/退出": "quit", "/quit": "quit",
    "/exit": "quit",
}


# A Chinese input method types the "/" key as "、" (搜狗、微软拼音) or "／": read as "/"
# before a command's name only, so "、这个…" stays the buyer's words.
_SLASHES = ("/", "／", "、")


def parse_command(line: str) -> tuple[str, str] | None:
    """(command, argument) of a known /command, else None (the line is a message)."""
    s = line.strip()
    if not s.startswith(_SLASHES):
        return None
    s = "/" + s[1:]
    head, _, rest = s.partition(" ")
    name = COMMANDS.get(head) or COMMANDS.get(head.lower())
    if name is None:  # "/结束已解决": a command glued to its argument
        for word, cmd in COMMANDS.items():
            if s.startswith(word) and not word.isascii():
                return cmd, s[len(word):].strip()
        return None
    return name, rest.strip()


_COMMAND_WORD = re.compile(r"/[A-Za-z\u4e00-\u9fff]\S*")


def unknown_command(line: str) -> str | None:
    """The head of a line that reads as a command but is none ("/帮组", "/hlep"): told to the
    agent, never fed to the conversation as the buyer's words. A slash before anything but a
    word ("/:^_^", "/ 东西坏了") is the buyer's."""
    s = line.strip()
    if parse_command(s) is not None or not s.startswith("/"):
        return None
    m = _COMMAND_WORD.match(s)
    return m.group(0) if m else None


def closest_command(head: str) -> str | None:
    """The command a misspelt head most likely meant (same script: 帮组 → 帮助)."""
    import difflib

    names = [n for n in COMMANDS if n.isascii() == head.isascii()]
    found = difflib.get_close_matches(head.lower(), names, n=1, cutoff=0.5)
    return found[0] if found else None


def help_text(labels: Labels, script: Script) -> str:
    """The help panel, its examples taken from the data (a shop may rename a stage or a
    label: an example the data lacks would be refused when typed)."""
    example = script.stage_with("hears_problem") or script.initial
    shown = script.stages_with("shows_remedies")
    stage = shown[0] if shown else example
    return HELP.format(outcome=_first(labels, "outcome"), intent=labels.name("intent", "complain"),
                       cause=_first(labels, "cause"), stage=labels.name("stage", stage))


def _first(labels: Labels, kind: str) -> str:
    return next(iter(labels.names[kind].values()), "")


_PREFIXES: tuple[tuple[str, Role], ...] = (
    # 買 too: an agent with a traditional-Chinese keyboard types it, and the prefix must not
    # reach the stored turn and the corrections exported as corpus lines.
    ("买：", "buyer"), ("买:", "buyer"), ("買：", "buyer"), ("買:", "buyer"), ("b:", "buyer"), ("b：", "buyer"),
    ("我：", "agent"), ("我:", "agent"), ("a:", "agent"), ("a：", "agent"))


def looks_like_chat(text: str) -> bool:
    """A line meant for the conversation (a 买：/我： prefix or a /command), typed too early."""
    s = text.strip().lower()
    return s.startswith("/") or any(s.startswith(prefix) for prefix, _ in _PREFIXES)


def parse_line(line: str) -> tuple[Role, str] | None:
    """(role, text) of an input line, or None for an empty one."""
    s = line.strip()
    if not s:
        return None
    for prefix, role in _PREFIXES:
        if s.lower().startswith(prefix):
            return role, s[len(prefix):].strip()
    return "buyer", s


def stage_bar(sug: Suggestion, width: int, paused_at: str | None = None) -> str:
    """The stage and the main path on one line of ``width`` columns (markup): the steps
    with spaced arrows, else tight arrows, else the steps around the current one. The steps
    done are dim. In a held stage (约定回访, 疑似恶意, 升级处理) ``paused_at``, the last main
    step the case was in, is marked in yellow: the sidebar's "主流程停在第 N 步"."""
    stages = sug.progress.stages
    labels = [s.label for s in stages]
    ids = [s.id for s in stages]
    here = ids.index(sug.stage.id) if sug.stage.id in ids else None
    held = here is None and sug.progress.step == 0 and paused_at in ids
    mark = ids.index(paused_at) if held and paused_at is not None else here
    if here is None and not held and stages and sug.progress.step == sug.progress.of:
        mark = len(stages)  # the script has ended: every step is done
    style = "bold yellow" if held else "bold green"
    title = f"{sug.stage.label}（暂停）" if held else sug.stage.label
    head = f"阶段：{title}  "

    def line(parts: list[tuple[int, str]], arrow: str) -> tuple[str, str]:
        plain = arrow.join(p for _, p in parts)
        marked = arrow.join(f"[{style}]{p}[/]" if i == mark else f"[dim]{p}[/]" if mark is not None and 0 <= i < mark
                            else p for i, p in parts)
        return plain, marked

    steps = list(enumerate(labels))
    windows: list[list[tuple[int, str]]] = [steps]
    if mark is not None:  # the neighbours of the current step, the rest as "…"
        lo, hi = max(mark - 1, 0), min(mark + 2, len(labels))
        windows.append(([(-1, "…")] if lo else []) + steps[lo:hi] + ([(-1, "…")] if hi < len(labels) else []))
    for parts in windows:
        for arrow in (" → ", "→"):
            plain, marked = line(parts, arrow)
            if cell_len(head + plain) <= width:
                return f"[bold]阶段：{title}[/]  {marked}"
    return f"[bold]阶段：{title}[/]"


def render(console: Console, sug: Suggestion, labels: Labels, paused_at: str | None = None) -> None:
    """Print one Suggestion: stage, understanding, replies, remedies, warnings, checklist
    (``paused_at``: the main step a held case paused in)."""
    console.print(stage_bar(sug, console.width, paused_at))
    u: Any = sug.understanding
    if isinstance(u, BuyerUnderstanding):
        h = labels.heading
        said = u.cause or sug.case_cause  # "嗯", "好的" name none: the case's cause, not "—"
        console.print(f"买家：{h('intent')} [magenta]{labels.intent_of(u.intent, u.amount)}[/]  "
                      f"{h('cause')} [magenta]{labels.name('cause', said) if said else '—'}[/]  "
                      f"{h('emotion')} [magenta]{labels.name('emotion', u.emotion)}[/]  "
                      f"把握 {u.confidence:.0%}")
    elif u is not None:
        acts = "、".join(labels.name("act", a) for a in u.acts)
        console.print(f"{labels.heading('act')}：{acts or '—'}")
    for f in sug.warnings:
        style = _SEVERITY_STYLE[f.severity]
        how = f.action.how("输入 /确认 ") if f.action is not None else ""
        if f.code == "record_outcome":  # the note names no surface's way: this one's is /结束
            how = "输入 /结束 <结果> 登记。"
        console.print(Wrapped(f"【{_SEVERITY_NAME[f.severity]}】{f.message}{how}", style=style))
        if f.rewrite:
            console.print(Wrapped(f"  建议改为：{f.rewrite}", style="green"))
    if sug.suggestions:
        table = Table(show_header=False, box=None, padding=(0, 1), expand=True)
        table.add_column(no_wrap=True)
        table.add_column(no_wrap=True)
        table.add_column(ratio=1)  # the whole reply, wrapped whole words and numbers: the agent copies it
        for i, s in enumerate(sug.suggestions, 1):
            table.add_row(f"[bold]{i}.[/]", f"[dim]{s.tone}[/]", Wrapped(s.text))
        console.print(Panel(table, title="建议回复", title_align="left", border_style="green"))
    if sug.remedies:
        console.print("可选补救：" + "；".join(r.label for r in sug.remedies))
    if sug.public_reply:
        console.print(Panel(Wrapped(sug.public_reply), title="评价公开解释（草稿）", title_align="left",
                            border_style="cyan"))
    if sug.checklist:
        console.print("  ".join(("[green]✓[/]" if c.done else "[red]✗[/]") + c.item
                                for c in sug.checklist))


def _pasted_chat(console: Console, answer: str, what: str, empty: str = "") -> bool:
    """Whether ``answer`` is a line of the conversation typed too early (said so in yellow):
    as a name or a product it would sit inside every suggested reply."""
    if not looks_like_chat(answer):
        return False
    hint = f"（{empty}）" if empty else ""
    console.print(Wrapped(f"“{answer}”像是对话里的一句话，不像{what}。先填{what}{hint}，"
                          "对话开始后再输入买家或您说的话。", style="yellow"))
    return True


def interview(console: Console, shop: str | None, buyer: str | None, product: str | None,
              order_date: date | None, asked_date: bool, today: date | None = None
              ) -> tuple[str, str, str | None, date | None]:
    """Ask for what the command line did not give, in Chinese, checking each answer as it
    is typed (EOFError / KeyboardInterrupt pass through); ``today``: the shop's date, which
    昨天 and 周三 are counted from."""
    while not shop:
        shop = console.input("店铺名：").strip()
        if not shop:
            console.print("[yellow]店铺名不能为空[/]")
        elif _pasted_chat(console, shop, "店铺名"):
            shop = None
    while not buyer:
        buyer = console.input("买家姓名或称呼：").strip()
        if not buyer:
            console.print("[yellow]买家姓名或称呼不能为空（不知道姓名可以写“亲”）[/]")
        elif _pasted_chat(console, buyer, "买家的称呼"):
            buyer = None
    while product is None:
        product = console.input("商品（可留空）：").strip()
        if _pasted_chat(console, product, "商品名", "不填就直接回车"):
            product = None
            continue
        product = product or None
        break
    while order_date is None and not asked_date:
        raw = console.input("下单日期，如 2026-05-03、5月3日、昨天、上周三（可留空）：").strip()
        if not raw:
            break
        if _pasted_chat(console, raw, "下单日期", "不知道就直接回车"):
            continue
        try:
            order_date = parse_day(raw, today)
        except ValueError as exc:
            console.print(Wrapped(str(exc), style="yellow"))
    return shop, buyer, product, order_date


def run_console(store_url: str, engine: Engine, case: Case, console: Console, tone: Tone = "正式",
                clock: Callable[[], datetime] | None = None) -> int:
    """The interactive loop over the same store, lock and dedupe as the service; returns the exit code.

    Each turn is committed to the database (``store_url``, the embedded SQLite file by
    default) before it is shown, so a closed terminal loses nothing and the case can be
    read later through the API or `csbot serve`.
    """
    with asyncio.Runner() as runner:
        try:
            store = runner.run(Store.open(store_url))
        except Exception as exc:  # the driver's own errors too: told in Chinese, exit 3, no traceback
            from bot.cli_options import EXIT_DATA, database_problem

            print(database_problem(store_url, exc), file=sys.stderr)
            return EXIT_DATA
        turns = TurnService.over(store, engine, clock)  # the shop's time: 今晚八点, quiet hours
        try:
            return _Session(runner, store, turns, case, console, tone).loop()
        finally:
            turns.shutdown()
            runner.run(store.close())


class _Session:
    def __init__(self, runner: asyncio.Runner, store: Store, turns: TurnService, case: Case,
                 console: Console, tone: Tone) -> None:
        self.runner, self.store, self.turns, self.case = runner, store, turns, case
        self.engine = engine = turns.engine
        self.console, self.tone = console, tone
        self.labels = engine.labels
        self.conv_id = ""
        self.sug: Suggestion
        self.main_stage: str | None = None
        self.outcome: str | None = None  # the name of the outcome recorded: not asked for again

    def show(self, sug: Suggestion) -> None:
        self.sug = sug
        if any(s.id == sug.stage.id for s in sug.progress.stages):
            self.main_stage = sug.stage.id  # where a held case paused, for the stage bar
        elif sug.stage.id == self.engine.script.initial:
            self.main_stage = None  # a new contact (/恢复 after the end) starts over: not "开场（暂停）"
        render(self.console, sug, self.labels, self.main_stage)
        if sug.stage.id == self.engine.script.final:
            done = f"已登记结果：{self.outcome}" if self.outcome else "用 /结束 <结果> 登记结果"
            self.console.print(f"[bold]对话已结束。[/]{done}；买家再发消息也会继续给出建议。")

    def loop(self) -> int:
        conv, sug, created = self.runner.run(self.turns.create(self.case, self.tone))
        self.conv_id = conv.id
        if conv.outcome:
            self.outcome = self.labels.name("outcome", conv.outcome)
        self.help = help_text(self.labels, self.engine.script)
        self.console.print(Panel(self.help, title=f"csbot 售后助手 · {self.case.shop} · 买家 {self.case.buyer_name}",
                                 border_style="blue"))
        if not created:
            # The same shop, buyer and order already have an open case: say so, or the agent
            # sees a stage they never reached (致谢结束 before saying a word).
            other = f"，商品是“{conv.case.product}”" if conv.case.product != self.case.product else ""
            self.console.print(Wrapped(
                f"这个买家和订单已有进行中的会话（{conv.turn} 条消息{other}，编号 {conv.id[:8]}），"
                "接着这个会话继续，没有新建。同一买家的另一单，请用 --order-id 给出订单号。", style="cyan"))
        self.show(sug)
        while True:
            try:
                line = self.console.input("[bold blue]> [/]")
            except (EOFError, KeyboardInterrupt):
                self.console.print("\n再见。")
                return 0
            command = parse_command(line)
            if command is not None:
                if command[0] == "quit":
                    self.console.print("再见。")
                    return 0
                try:
                    self.command(*command)
                except ValueError as exc:
                    self.console.print(Wrapped(str(exc), style="yellow"))
                continue
            unknown = unknown_command(line)
            if unknown is not None:
                meant = closest_command(unknown)
                hint = f"是不是想输入 {meant}？" if meant else ""
                self.console.print(Wrapped(
                    f"没有这个命令：{unknown}。{hint}输入 /帮助 查看全部命令；这一行没有记进对话"
                    "（要当作买家的话，前面加“买：”）。", style="yellow"))
                continue
            parsed = parse_line(line)
            if parsed is None or not parsed[1]:
                continue
            role, text = parsed
            self.show(self.runner.run(self.turns.turn(self.conv_id, role, text)).suggestion)

    def command(self, name: str, arg: str) -> None:
        run, turns = self.runner.run, self.turns
        if name == "help":
            self.console.print(self.help)
        elif name == "status":
            self.show(self.sug)
        elif name == "tone":
            if arg not in ("正式", "亲切"):
                raise ValueError("语气只能是“正式”或“亲切”")
            run(turns.set_tone(self.conv_id, cast(Tone, arg)))
            self.console.print(f"建议语气已切换为：{arg}")
        elif name == "resume":
            self.show(run(turns.resume(self.conv_id)))
        elif name == "end":
            if not arg:
                outcomes = "、".join(self.labels.names["outcome"].values())
                raise ValueError(f"请写上结果，如 /结束 已解决。可选：{outcomes}")
            code = self.labels.code("outcome", arg)
            try:
                run(turns.close_case(self.conv_id, code))
            except ConversationClosed as exc:
                raise ValueError(str(exc)) from exc
            outcome = self.labels.name("outcome", code)
            self.outcome = outcome
            self.console.print(f"[bold]已登记结果：{outcome}。[/]案子已结束，输入 /退出 离开。")
        elif name in ("intent", "cause", "stage", "confirm"):
            from bot.store.corrections import correct

            if name == "confirm":
                action = next((w.action for w in self.sug.warnings if w.action is not None), None)
                if action is None:
                    raise ValueError("现在没有需要确认的“可能…”提示")
                name, arg = "stage", action.stage
            if not arg:
                what = {"intent": "意图", "cause": "原因", "stage": "阶段"}[name]
                names = list(self.labels.names[name].values())
                raise ValueError(f"请写上要更正成的{what}，如 /{what} {names[0]}。可选：{'、'.join(names)}")
            # What is so already: nothing to correct, nothing recorded (an intent said again would
            # also read the message anew, undoing a /阶段 made after it).
            code = self.engine.label_code(name, arg)
            summary, history = run(self.store.get(self.conv_id))
            if name == "cause" and summary.cause == code:
                raise ValueError(f"这个案子的原因已经是“{self.labels.name('cause', code)}”，不用更正，没有记录。")
            if name == "stage" and summary.stage == code:
                raise ValueError(f"现在已经是“{self.labels.name('stage', code)}”阶段，不用更正，没有记录。")
            said = next((t for t in reversed(history) if t.role == "buyer"), None)
            if name == "intent" and said is not None and said.suggestion.understanding is not None \
                    and getattr(said.suggestion.understanding, "intent", None) == code:
                raise ValueError(f"买家上一句已经是“{self.labels.name('intent', code)}”，不用更正，没有记录。")
            sug = run(correct(self.store, self.engine, self.conv_id, agent=self.case.agent,
                              intent=arg if name == "intent" else None,
                              cause=arg if name == "cause" else None,
                              stage=arg if name == "stage" else None))
            what = {"intent": "买家上一句的意图", "cause": "案子的原因", "stage": "阶段"}[name]
            done = f"已更正：{what}是“{self.labels.name(name, code)}”，并记录为训练数据。"
            if name == "intent" and history and history[-1].role != "buyer":
                # (bot/store/corrections.py: the flow follows the newest message only)
                done += "您在这句之后已经回复过，阶段不跟着改；要改阶段用 /阶段。"
            self.console.print(f"[green]{done}[/]")
            self.show(sug)


def assist_console(engine: Engine, shop: str | None, buyer: str | None, honorific: str,
                   product: str | None, order_date: date | None, platform: str,
                   agent: str | None, tone: str, store_url: str, date_given: bool = False,
                   order_id: str | None = None, timezone: str = "Asia/Shanghai") -> int:
    """`csbot assist` without --json: the interview for missing case fields, then the loop."""
    from pydantic import ValidationError

    from bot.server.errors import describe

    console = Console(highlight=False)
    clock = shop_clock(timezone)
    try:
        shop, buyer, product, order_date = interview(console, shop, buyer, product, order_date,
                                                     asked_date=date_given or order_date is not None,
                                                     today=clock().date())
    except KeyboardInterrupt:
        return 0
    except EOFError:
        # Input piped in (or a file) ran out at a question: its lines were taken as answers, and
        # nothing was saved. Said, not a silent exit 0 (at a terminal, Ctrl-D just leaves).
        if sys.stdin.isatty():
            return 0
        console.print(Wrapped("输入已经结束，案例信息还没有填完：没有开始对话，什么都没有保存。从文件或管道输入时，"
                              "请用 --shop、--buyer、--product、--order-date 给出案例信息（不知道的写空字符串，"
                              "如 --order-date \"\"），或者用 --json 模式。", style="red"))
        return 2
    try:
        case = Case(shop=shop, buyer_name=buyer, honorific=honorific, product=product or None,
                    order_date=order_date, order_id=order_id, platform=platform,  # type: ignore[arg-type]
                    agent=agent)
    except ValidationError as exc:
        console.print(f"[red]案件信息不完整或格式不对：{describe(exc)}[/]")
        return 2
    return run_console(store_url, engine, case, console, cast(Tone, tone), clock)
