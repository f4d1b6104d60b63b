"""The training console: the trainee plays the agent, csbot plays the buyer (Rich UI).

Every session is saved to the chosen folder (JSON lines as it goes, Markdown at the end);
Ctrl-C, end of input and a closed terminal (SIGHUP) still save.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType

from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from bot.training.grader import Scorecard
from bot.training.persona import Persona, titled
from bot.training.rubric import Labels
from bot.training.session import Exchange, Session
from bot.training.transcript import (
    TranscriptFiles,
    check_line,
    computation_lines,
    grouped_violations,
    outcome_line,
    review_line,
)
from bot.wrap_zh import Wrapped

HELP = ("命令：/提示 看看 csbot 会怎么说  /重来 重新开始  /结束 结束并评分  /帮助"
        "（英文也行：/hint /restart /quit /help）")
# Chinese first, the English names kept for those used to them (and the assist console's /结束).
COMMANDS = {"/quit": "quit", "/exit": "quit", "/退出": "quit", "/结束": "quit",
            "/help": "help", "/帮助": "help", "/restart": "restart", "/重来": "restart", "/重新开始": "restart",
            "/hint": "hint", "/提示": "hint"}
_SEVERITY = {"block": ("禁止", "bold red"), "warn": ("注意", "yellow"), "info": ("提示", "cyan")}
EXIT_OK, EXIT_INTERRUPTED, EXIT_HANGUP = 0, 130, 129


class Hangup(Exception):
    """The terminal went away (SIGHUP) or the process was asked to stop (SIGTERM)."""


@contextlib.contextmanager
def _hangup_raises() -> Iterator[None]:
    def handler(signum: int, frame: FrameType | None) -> None:
        raise Hangup(signum)

    old = {sig: signal.signal(sig, handler) for sig in (signal.SIGHUP, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, h in old.items():
            signal.signal(sig, h)


class TrainingConsole:
    """One trainee at one terminal; sessions restart with the same persona and seed."""

    def __init__(self, console: Console, new_session: Callable[[], Session], out: Path,
                 labels: Labels) -> None:
        self.console = console
        self.new_session = new_session
        self.out = out
        self.labels = labels
        self.session: Session | None = None
        self.files: TranscriptFiles | None = None

    # -- the loop ---------------------------------------------------------------------------

    def run(self) -> int:
        """Run until the trainee quits; returns the exit code."""
        with _hangup_raises():
            try:
                self._start()
                while True:
                    if not self._step():
                        return EXIT_OK
            except EOFError:
                self._end("interrupted")
                return EXIT_OK
            except KeyboardInterrupt:
                self._end("interrupted")
                return EXIT_INTERRUPTED
            except Hangup:
                self._end("interrupted", quiet=True)
                return EXIT_HANGUP

    def _start(self) -> None:
        s = self.new_session()
        self.session = s
        self.files = TranscriptFiles(self.out, s.persona.id, s.seed)
        s.add_sink(self.files.write)
        self._intro(s.persona)
        self._status()

    def _step(self) -> bool:
        """One line of input; False when the trainee quits."""
        s = self.session
        assert s is not None
        line = self.console.input("[bold cyan]客服（你）> [/]").strip()
        if not line:
            return True
        command = COMMANDS.get(line.replace("／", "/")) if line[0] in "/／" else None
        if command == "quit":
            self._end("quit")
            return False
        if command == "help":
            self.console.print(HELP)
            return True
        if command == "restart":
            self._end("restarted")
            self.console.rule("重新开始")
            self._start()
            return True
        if command == "hint":
            self._hint(s)
            return True
        if line[0] in "/／":
            self.console.print(f"[yellow]没有这个命令。{HELP}[/]")
            return True
        if s.done:
            self.console.print("[yellow]这次练习已经结束：输入 /重来 再练一次，"
                               "或 /结束 退出。[/]")
            return True
        self._show(s.say(line))
        if s.done:
            self._end(s.ending or "closed")
            self.console.print("输入 /重来 再练一次，或 /结束 退出。")
        else:
            self._status()
        return True

    def _end(self, ending: str, quiet: bool = False) -> None:
        """Finish the current session (once), save it and show the scorecard."""
        s, files = self.session, self.files
        if s is None or files is None:
            return
        card = s.finish(ending)
        files.close(self.labels)
        self.files = None
        if quiet:
            return  # the terminal is gone: writing to it would fail
        with contextlib.suppress(OSError):
            self._scorecard(s, card)
            self.console.print(f"已保存：{files.markdown}")
            self.console.print(f"　　　　{files.jsonl}")

    # -- drawing ---------------------------------------------------------------------------------

    def _intro(self, p: Persona) -> None:
        c = p.case
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column(overflow="fold")
        grid.add_row("买家", f"{c.buyer_name}{c.honorific}")  # the kind is told in the scorecard
        grid.add_row("店铺", c.shop)
        grid.add_row("商品", f"{c.product or '—'} · {c.order_date or '—'} 下单")
        review_time = c.review_time.strftime("%Y-%m-%d %H:%M") if c.review_time else "—"
        grid.add_row("评价", f"{self.labels.platforms[c.platform]} · {c.review_rating or '—'} · "
                              f"{review_time}")
        grid.add_row("评价内容", f"「{c.review_text or ''}」")
        grid.add_row("现在", p.contact_time.strftime("%Y-%m-%d %H:%M"))
        self.console.print(Panel(grid, title=f"csbot 客服培训 · {c.product or p.id}", title_align="left",
                                 border_style="blue"))
        # Under the panel, not on its border: a border line cuts the text off at the corner.
        self.console.print(Wrapped(HELP, style="dim"))
        self.console.print("由你先开口：你是店铺的售后客服，买家还在线。")

    def _status(self) -> None:
        s = self.session
        assert s is not None
        b = s.buyer
        p = s.persona
        mood = "●" * (b.mood + 5) + "○" * (4 - b.mood)
        patience = "♥" * b.patience + "♡" * max(0, p.patience - b.patience)
        band_style = {"calm": "green", "upset": "yellow", "angry": "red"}[b.band]
        line = Text.assemble(
            ("阶段：", "bold"), (s.stage_label(), "bold green"),
            "   ", ("买家情绪：", "bold"), (f"{self.labels.bands[b.band]} {mood}", band_style),
            "   ", ("耐心：", "bold"), (patience, "magenta"),
            "   ", (f"第 {len(s.turns) + 1}/{p.max_turns} 轮", "dim"),
        )
        self.console.print(line)

    def _show(self, x: Exchange) -> None:
        acts = ("、".join(self.labels.acts.get(a, a) for a in x.facts.acts)
                or "（没有识别到话术动作）")
        self.console.print(Text(f"  ↳ 识别到：{acts}", style="dim"))
        for f in [*x.facts.findings, *x.facts.notes]:
            name, style = _SEVERITY[f.severity]
            span = f"「{x.facts.text[f.span[0]:f.span[1]]}」" if f.span else ""
            self.console.print(Wrapped(f"  【{name}】{span}{f.message}", style=style))
        # The rubric's own findings (称呼用了“你”, a turn that moved nothing, a wrong name):
        # said on the turn, not only on the scorecard
        engine_codes = {f.code for f in [*x.facts.findings, *x.facts.notes]}
        for v in x.violations:
            if v.code not in engine_codes:
                name, style = _SEVERITY.get(v.severity, ("注意", "yellow"))
                self.console.print(Wrapped(f"  【{name}】{v.message}", style=style))
        s = self.session
        assert s is not None
        who = f"买家 {s.persona.case.buyer_name}"
        self.console.print(Text.assemble((f"{who}：", "bold magenta"), x.reply.text))
        # the tip is about the step after the buyer's reply ("方案选好了…" once the buyer picked one):
        # shown under that reply, not above it
        if x.tip:
            self.console.print(Wrapped(f"  提示：{x.tip}", style="green"))

    def _hint(self, s: Session) -> None:
        texts = s.hint()
        if not texts:
            self.console.print("[yellow]现在没有建议：等买家回复，或者这次练习已经结束。[/]")
            return
        table = Table.grid(padding=(0, 1))
        table.add_column(no_wrap=True)
        table.add_column(overflow="fold")
        for i, t in enumerate(texts, 1):
            table.add_row(f"[bold]{i}.[/]", t)
        self.console.print(Panel(table, title="csbot 会这样说", title_align="left",
                                 border_style="green"))

    def _scorecard(self, s: Session, card: Scorecard) -> None:
        verdict = "[bold green]通过[/]" if card.passed else "[bold red]未通过[/]"
        self.console.print(f"[bold]评分：{card.total} 分[/]（{verdict}，及格线 {card.pass_mark}）")
        table = Table()
        table.add_column("阶段")
        table.add_column("得分", justify="right")
        table.add_column("满分", justify="right")
        for sid, sc in card.stages.items():
            label = s.stage_label(sid) + ("（不适用）" if sc.max == 0 else "")
            table.add_row(label, str(sc.score), str(sc.max))
        self.console.print(table)
        # Which points were lost, on screen (they were only in the saved transcript): the
        # items of the steps the talk reached; a step never reached shows as 0 in the table.
        order = list(card.stages)
        upto = order.index(card.outcome.stage) if card.outcome.stage in order else len(order)
        for c in card.checks:
            if not c.passed and c.stage in order[:upto + 1] and card.stages[c.stage].max > 0:
                self.console.print(Wrapped(f"  {check_line(c.model_dump(), s.stage_label(c.stage))}",
                                           style="red" if c.reached else "dim"))
        for line in computation_lines(card.model_dump(mode="json"), self.labels):
            self.console.print(f"  {line}")
        # the kind, and the persona's title that tells it, only now (not in the list or intro)
        o = card.outcome
        remedies = {rid: r.label for rid, r in s.engine.remedies.remedies.items()}
        self.console.print(Wrapped(f"这位买家是：{self.labels.kinds.get(card.kind, card.kind)}"
                                   f"（{titled(s.persona.title, remedies.get(o.remedy or ''))}）"))
        # One fact a line: run together, the line was wider than the terminal and Rich broke
        # it before "；用了 7 轮", leaving the semicolon at the head of the next line.
        ended = (f"结束方式：{self.labels.endings.get(o.ending, o.ending)}"
                 f"（最后阶段：{s.stage_label(o.stage)}，用了 {card.turns} 轮）")
        facts = (ended, outcome_line(o.model_dump(), s.scenario, remedies),
                 review_line(o.model_dump(), self.labels))
        for fact in facts:
            if fact is not None:
                self.console.print(Wrapped(fact))
        for turns, v in grouped_violations([v.model_dump() for v in card.violations]):
            name, style = _SEVERITY.get(v["severity"], ("注意", "yellow"))
            # Wrapped as Chinese is: Rich broke "超过 30 天" at its space and put 》 at a line's head
            self.console.print(Wrapped(f"第{turns}轮【{name}】{v['message']}", style=style))
            if v["rewrite"]:
                self.console.print(Wrapped(f"建议改为：{v['rewrite']}", style="green"))
        for i, tip in enumerate(card.tips, 1):
            self.console.print(Wrapped(f"建议{i}：{tip}"))
