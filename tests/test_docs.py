"""The documentation keeps up with the code: every command, setting and HTTP route is in
the README or docs/, and every relative link in them leads somewhere."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from bot.cli import main
from bot.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
TEXT = "\n".join(p.read_text(encoding="utf-8") for p in DOCS)


def _commands(group: click.Group, prefix: str) -> list[str]:
    out = []
    ctx = click.Context(group)
    for name in group.list_commands(ctx):  # the commands imported on first use too
        cmd = group.get_command(ctx, name)
        assert cmd is not None, name
        path = f"{prefix} {name}"
        out.append(path)
        if isinstance(cmd, click.Group):
            out += _commands(cmd, path)
    return out


@pytest.mark.parametrize("command", _commands(main, "csbot"))
def test_every_command_is_documented(command: str) -> None:
    assert command in TEXT, f"`{command}` is in no document (README.md, docs/*.md)"


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_setting_is_documented(name: str) -> None:
    env = f"CSBOT_{name.upper()}"
    assert env in TEXT, f"the setting {env} is in no document"


def _routes() -> list[str]:
    from bot.server.app import make_app
    from tests.shared import shared_engine

    class _NoStore:  # the router is all this test reads
        locks = None

    app = make_app(_NoStore(), shared_engine(), env={})  # type: ignore[arg-type]
    paths = {r.resource.canonical for r in app.router.routes() if r.resource is not None}
    return sorted(paths)


@pytest.mark.parametrize("path", _routes())
def test_every_route_is_documented(path: str) -> None:
    assert path in TEXT, f"the route {path} is in no document"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_relative_links_lead_somewhere(doc: Path) -> None:
    for target in re.findall(r"\]\(([^)#:\s]+)(?:#[^)]*)?\)", doc.read_text(encoding="utf-8")):
        assert (doc.parent / target).exists(), f"{doc.name} links to {target}, which does not exist"


def test_every_import_header_is_documented() -> None:
    """docs/intake.md's table is where a lead looks up whether the shop's export needs --map; it
    left out headers csbot reads (宝贝标题, 子订单编号, 买家会员名 …), and `csbot import --help`
    gave 宝贝标题 as the example of a header that needs one."""
    from bot.intake.records import FIELDS

    table = (ROOT / "docs" / "intake.md").read_text(encoding="utf-8")
    rows = {line.split("|")[1].strip().strip("`").split("`")[0]: line for line in table.splitlines()
            if line.startswith("  | `")}
    for field, names in FIELDS.items():
        row = rows[field].lower().replace("_", "")  # headers are compared without case or underscores
        missing = [n for n in names if n.replace("_", "") not in row]
        assert not missing, (field, missing)
    from click.testing import CliRunner

    said = CliRunner().invoke(main, ["import", "--help"]).output
    example = " ".join(said.split()).split("例如 --map ", 1)[1].split("=", 1)[0]
    assert all(example not in names for names in FIELDS.values()), example
