"""Where the shop-editable data folders are found."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _bundled(name: str) -> Path:
    # Installed wheel: the folders sit inside the package; source checkout: beside it.
    inside = _PACKAGE / "_data" / name
    return inside if inside.is_dir() else _PACKAGE.parent / name


def dialogs_dir(override: str | Path | None = None) -> Path:
    """The dialogs folder: the shop's own copy if given, else the bundled one."""
    return Path(override) if override else _bundled("dialogs")


def templates_dir(override: str | Path | None = None) -> Path:
    """The scripts_zh folder: the shop's own copy if given, else the bundled one."""
    return Path(override) if override else _bundled("scripts_zh")
