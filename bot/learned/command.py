"""The ``csbot learn`` command (registered in bot/cli.py)."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import click

from bot.cli_zh import os_error


@click.command()
@click.option("--dialogs", type=click.Path(file_okay=False, path_type=Path), default=None,
              envvar="CSBOT_DIALOGS", help="数据目录：用它的词库和 corpus/train/ 语料（默认用内置的）")
@click.option("--corpus", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="另用一个语料目录（其中的 corpus/train/buyer.jsonl 和 agent.jsonl）")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="模型文件写到哪里（默认：数据目录下的 model/understand.json.gz）")
@click.option("--quiet", "-q", is_flag=True, help="不显示训练过程")
def learn(dialogs: Path | None, corpus: Path | None, out: Path | None, quiet: bool) -> None:
    """用语料的训练集（corpus/train/）训练理解模型，写出模型文件。

    同样的语料和词库总是得到字节完全相同的模型文件。只读训练集，从不读留出集（corpus/heldout/）。
    训练需要 scikit-learn（pip install 'csbot[learn]'）；运行 csbot 不需要它。
    """
    from bot.dataload import DataError
    from bot.learned.linear import dump
    from bot.learned.understand import MODEL_FILE
    from bot.paths import dialogs_dir

    try:
        import sklearn  # noqa: F401
    except ImportError:
        click.echo("训练模型需要 scikit-learn：请先运行 pip install 'csbot[learn]'", err=True)
        sys.exit(2)
    from bot.learned.build import learn as build

    folder = dialogs_dir(dialogs)
    target = out or folder / MODEL_FILE
    # Training takes minutes: a place the model cannot be written to is told before it.
    problem = _unwritable(target)
    if problem:
        if out is not None:
            raise click.BadParameter(f"写不了 {target}：{problem}", param_hint="'--out'")
        raise click.UsageError(f"写不了模型文件 {target}：{problem}（可以用 --out 写到别处）")
    log = None if quiet else (lambda s: click.echo(s, err=True))
    try:
        model = build(folder, log, corpus)
    except DataError as exc:
        click.echo(f"数据错误：{exc}", err=True)
        sys.exit(3)
    data = dump(model)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    except OSError as exc:
        click.echo(f"无法写入 {target}：{os_error(exc)}", err=True)
        sys.exit(3)
    info = model.info
    click.echo(f"已写出 {target}（{len(data) / 1024:.0f} KB，版本 {model.version}）")
    names = {"rules": "规则", "model": "模型", "stack": "组合"}
    for family, row in info["train_out_of_fold"].items():
        figures = "，".join(f"{names[v]} {row[v]:.3f}" for v in ("rules", "model", "stack"))
        if "filled" in row:
            figures += f"，组合 + 规则补原因 {row['filled']:.3f}"
        if "stack_new_act_min" in row:
            figures += f"，组合 + 新动作门槛 {info['new_act_min']} {row['stack_new_act_min']:.3f}"
        click.echo(f"  {family}：训练集交叉验证 {figures}；采用{names[info['ship'][family]]}")


def _unwritable(target: Path) -> str | None:
    """Why the model file cannot be written to ``target`` (None when it can): its folder is
    made as the write would make it, and a scratch file is created in it and removed."""
    if target.is_dir():
        return "这是一个文件夹，不是文件"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=target.parent):
            pass
        if target.exists() and not os.access(target, os.W_OK):
            return "没有权限"
    except OSError as exc:
        return os_error(exc)
    return None
