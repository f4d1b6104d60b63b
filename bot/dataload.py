"""Reading the YAML data files of a dialogs folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

# libyaml's loader reads the lexicons several times faster (start-up of every command).
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class DataError(ValueError):
    """A data file in dialogs/ or scripts_zh/ is missing or malformed."""


def load_yaml(folder: Path, name: str) -> dict[str, Any]:
    """Load ``folder/name`` as a YAML mapping, with an error that names the file."""
    path = folder / name
    try:
        with path.open(encoding="utf-8") as fh:
            data = yaml.load(fh, Loader=_Loader)
    except FileNotFoundError as exc:
        raise DataError(f"缺少数据文件：{path}") from exc
    except yaml.YAMLError as exc:
        raise DataError(f"数据文件格式错误：{path}：{exc}") from exc
    if not isinstance(data, dict):
        raise DataError(f"数据文件应为映射（key: value）：{path}")
    return data
