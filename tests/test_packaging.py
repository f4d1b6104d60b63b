"""The wheel carries dialogs/ and scripts_zh/, and an installed copy finds them."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_non_editable_install_finds_the_data(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(tmp_path / "dist"), str(ROOT)], check=True, timeout=300)
    wheel = next((tmp_path / "dist").glob("csbot-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "bot/_data/dialogs/script.yaml" in names
    assert "bot/_data/scripts_zh/opening/default.formal.j2" in names
    # The migrations: Alembic's environment, the template of `csbot db revision`, every revision.
    revisions = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "bot/store/alembic").rglob("*")
                       if p.suffix in (".py", ".mako"))
    assert "bot/store/alembic/versions/0001_first_release.py" in revisions
    assert set(revisions) <= set(names)
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target",
                    str(target), str(wheel)], check=True, timeout=300)
    env = {**os.environ, "PYTHONPATH": str(target), "PYTHONIOENCODING": "utf-8"}
    r = subprocess.run([sys.executable, "-m", "bot", "analyze", "--role", "agent"],
                       input="好评返现\n", text=True, capture_output=True, env=env,
                       cwd=tmp_path, timeout=60, encoding="utf-8")
    assert r.returncode == 0, r.stderr
    assert "conditional_benefit" in r.stdout
    r = subprocess.run([sys.executable, "-m", "bot", "db", "upgrade", "--db", "sqlite:///installed.db"],
                       text=True, capture_output=True, env=env, cwd=tmp_path, timeout=60, encoding="utf-8")
    assert r.returncode == 0 and "数据库结构已升级：空库 → " in r.stdout, r.stderr
    r = subprocess.run([sys.executable, "-c", "import bot.paths as p; print(p.dialogs_dir())"],
                       text=True, capture_output=True, env=env, cwd=tmp_path, timeout=60)
    assert str(target) in r.stdout
