"""`csbot train`: list personas, run the training console, or grade a scripted trainee.

Only click and the standard library are imported at module level: the CLI's start-up
time is measured, and the engine and Rich are needed only once a command runs.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from bot.cli_zh import ReadablePath, os_error

EXIT_USAGE, EXIT_DATA = 2, 3
DEFAULT_OUT = Path("training_sessions")


def _fail(message: str, code: int) -> None:
    click.echo(message, err=True)
    sys.exit(code)


def _read_replies(path: str) -> list[str]:
    """One reply a line; blank lines are skipped."""
    if path == "-":
        text = sys.stdin.read()
    else:
        try:
            text = Path(path).read_text(encoding="utf-8-sig")
        except OSError as exc:
            _fail(f"读不了回复文件 {path}：{os_error(exc)}", EXIT_USAGE)
    return [ln.strip() for ln in text.splitlines() if ln.strip()]


@click.command()
@click.option("--persona", "name", default=None, metavar="NAME",
              help="要练习的买家人设（不给就列出所有人设）")
@click.option("--seed", default=1, show_default=True, type=int,
              help="随机种子：同样的种子和回复，得到一模一样的对话")
@click.option("--replies", type=ReadablePath(), default=None, metavar="FILE",
              help="脚本学员：每行一条回复（- 表示标准输入），输出评分 JSON")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="保存练习记录的文件夹（交互练习默认 ./training_sessions）")
@click.option("--json", "as_json", is_flag=True, help="列出人设时输出 JSON")
@click.option("--trainee", default="", metavar="NAME", help="学员的名字（记进练习记录，汇总时按人统计）")
@click.option("--report", "report_dir", type=click.Path(file_okay=False, exists=True, path_type=Path),
              default=None, metavar="DIR",
              help="汇总一个文件夹里保存的练习：每位学员的历次得分、常见问题、没通过的人设")
@click.option("--format", "fmt", type=click.Choice(["table", "html", "csv"]), default="table",
              show_default=True, help="汇总的格式：终端表格、HTML 页面或 CSV（配合 --report）")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="汇总写到这个文件（HTML、CSV 默认写到标准输出）")
@click.option("--dialogs", type=click.Path(file_okay=False, path_type=Path), default=None,
              envvar="CSBOT_DIALOGS",
              help="店铺自己的 dialogs 数据目录（含 personas/ 和 rubric.yaml）")
@click.option("--templates", type=click.Path(file_okay=False, path_type=Path), default=None,
              envvar="CSBOT_TEMPLATES", help="店铺自己的 scripts_zh 话术模板目录")
def train(name: str | None, seed: int, replies: Path | None, out: Path | None, as_json: bool,
          trainee: str, report_dir: Path | None, fmt: str, output: Path | None,
          dialogs: Path | None, templates: Path | None) -> None:
    """客服培训：csbot 扮演买家，你扮演客服，每句回复都会评分。

    \b
    csbot train                                   列出所有买家人设
    csbot train --persona 人设 [--seed 种子]      在终端里练习（/提示 看建议，/重来，/结束）
    csbot train --persona 人设 --replies 文件     按文件里的回复逐行作答，输出评分 JSON
    csbot train --report 目录 [--format html|csv] [-o 文件]   汇总一个文件夹里的练习记录
    """
    from bot.dataload import DataError
    from bot.paths import dialogs_dir
    from bot.training.persona import UnknownPersona

    folder = dialogs_dir(dialogs)
    try:
        if report_dir is not None:
            _report(folder, report_dir, fmt, output)
            return
        if name is None:
            if replies is not None:
                # grading a written answer needs the buyer it answers: listing the personas
                # instead (exit 0, no scorecard) would look like a success to a lead's script
                raise click.UsageError("--replies 要和 --persona 一起用：这份答案是答哪位买家的？"
                                       "先用 csbot train 看看有哪些人设。")
            _list(folder, as_json)
            return
        _run(folder, templates, name, seed, None if replies is None else str(replies), out, trainee)
    except UnknownPersona as exc:  # a wrong option value: a usage error (exit 2), not the data's
        raise click.BadParameter(str(exc), param_hint="'--persona'") from None
    except DataError as exc:
        _fail(f"数据错误：{exc}", EXIT_DATA)


def _list(folder: Path, as_json: bool) -> None:
    from bot.training.persona import load_personas
    from bot.training.rubric import load_rubric

    personas = [pf.persona for pf in load_personas(folder)]
    # the product and the review, not the title: "职业差评师" is told on the scorecard, not here
    labels = load_rubric(folder).rubric.labels
    if as_json:
        click.echo(json.dumps([{"id": p.id, "kind": p.kind, "title": labels.describe(p.case)}
                               for p in personas], ensure_ascii=False))
        return
    width = max((len(p.id) for p in personas), default=0)
    click.echo("可以练习的买家人设（csbot train --persona 人设名）：")
    for p in personas:
        click.echo(f"  {p.id.ljust(width)}  {labels.describe(p.case)}")


def _report(folder: Path, sessions: Path, fmt: str, output: Path | None) -> None:
    from rich.console import Console

    from bot.training import team
    from bot.training.rubric import load_rubric

    labels = load_rubric(folder).rubric.labels
    played, problems = team.read_sessions(sessions)
    for line in problems:
        click.echo(line, err=True)
    if not played:
        _fail(f"{sessions} 里没有已经结束的练习记录（*.jsonl）", 1)
    trainees = team.by_trainee(played)
    if fmt == "table":
        team.terminal(trainees, labels, Console(highlight=False))
        return
    data = (team.html(trainees, labels, sessions).encode("utf-8") if fmt == "html"
            else team.csv_bytes(trainees, labels))
    if output is None:
        sys.stdout.buffer.write(data)
    else:
        output.write_bytes(data)
        click.echo(f"已写入：{output}")


def _run(folder: Path, templates: Path | None, name: str, seed: int, replies: str | None,
         out: Path | None, trainee: str = "") -> None:
    from bot.engine import Engine
    from bot.training.persona import find_persona
    from bot.training.rubric import load_rubric
    from bot.training.session import Session, run_scripted
    from bot.training.transcript import TranscriptFiles

    persona = find_persona(folder, name)
    rubric = load_rubric(folder)
    engine = Engine.load(folder, templates)

    def new_session() -> Session:
        return Session(engine, persona, rubric, seed, trainee=trainee)

    if replies is not None:
        lines = _read_replies(replies)
        session = new_session()
        files = TranscriptFiles(out, persona.persona.id, seed) if out is not None else None
        if files is not None:
            session.add_sink(files.write)
        card = run_scripted(session, lines)
        if files is not None:
            files.close(rubric.rubric.labels)
        click.echo(json.dumps(card.public(), ensure_ascii=False, indent=2))
        return
    sys.exit(_interactive(new_session, out or DEFAULT_OUT, rubric.rubric.labels))


def _interactive(new_session: Any, out: Path, labels: Any) -> int:
    from rich.console import Console

    from bot.training.console import TrainingConsole

    return TrainingConsole(Console(highlight=False), new_session, out, labels).run()
