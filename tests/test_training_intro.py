"""The trainee's first screen: the case panel and the command line under it, whole at any width."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from bot.paths import dialogs_dir
from bot.training.console import HELP, TrainingConsole
from bot.training.persona import find_persona
from bot.training.rubric import load_rubric


@pytest.mark.parametrize("width", [60, 80, 100, 140])
def test_every_command_of_the_intro_is_shown_whole(width: int, tmp_path: Path) -> None:
    folder = dialogs_dir()
    persona = find_persona(folder, "size_not_fit_first_time").persona
    console = Console(file=io.StringIO(), width=width, highlight=False)
    TrainingConsole(console, lambda: None, tmp_path, load_rubric(folder).rubric.labels)._intro(  # type: ignore[arg-type,return-value]
        persona)
    screen = console.file.getvalue()  # type: ignore[attr-defined]
    joined = "".join(line.strip() for line in screen.splitlines())
    for command in ("/提示", "/重来", "/结束", "/帮助", "/hint", "/restart", "/quit", "/help"):
        assert command in joined, (command, screen)
    assert HELP.replace(" ", "") in joined.replace(" ", "")
    assert "运动鞋" in screen
