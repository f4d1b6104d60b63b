"""The Chinese names of the ids a report shows: the engine's labels (bot/labels.py, the
same names chat cards and the sidebar show) plus the report's own words, from wording.yaml
beside this module (its metrics and the names of "nothing recorded").
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.dataload import load_yaml

if TYPE_CHECKING:
    from bot.engine import Engine

_HERE = Path(__file__).resolve().parent


@functools.cache
def wording() -> dict[str, Any]:
    """The report's own wording (titles, headings, metric names), shipped in the package."""
    return load_yaml(_HERE, "wording.yaml")


@dataclass(frozen=True, slots=True)
class Labels:
    """Id -> Chinese name, per kind of id (``cause``, ``remedy``, ``stage``, ``outcome``,
    ``code``, ``severity``, ``agent``, ``metric``); an empty id is "not recorded"."""

    names: dict[str, dict[str, str]]
    unset: dict[str, str]
    # (kind, id) shown as the id for want of a name: told once the report is written
    missing: set[tuple[str, str]] = field(default_factory=set, compare=False)

    @classmethod
    def from_engine(cls, engine: Engine) -> Labels:
        """The names of the engine's labels and the report's metrics."""
        words = wording()
        table = engine.labels.table()
        # A column names its kind as the queue, the sidebar and the assist card do (原因, 阶段…);
        # wording.yaml names only the report's own kinds (客服, 指标, 提醒类型).
        return cls(
            names={**table, "kind": {**table["kind"], **words["kinds"]}, "metric": dict(words["metrics"]),
                   "agent": {}},
            unset={**words["unset"], "cause": engine.labels.unknown_cause},
        )

    def name(self, kind: str, key: str) -> str:
        """The Chinese name of ``key``; an unknown id (data edited since) shows as itself."""
        if not key:
            return self.unset.get(kind, "—")
        name = self.names.get(kind, {}).get(key)
        if name is None:
            if kind != "agent":  # agents are their own names
                self.missing.add((kind, key))
            return key
        return name

    def unnamed(self) -> str | None:
        """Chinese words on the ids shown as themselves (a label a shop added in its own
        dialogs, read without them), or None when every id had its name."""
        if not self.missing:
            return None
        kinds = self.names.get("kind", {})
        shown = "、".join(f"{kinds.get(k, k)} {key}" for k, key in sorted(self.missing))
        return (f"报告里有 {len(self.missing)} 个标签没有中文名，按代码显示：{shown}。"
                "店铺自己加的标签（原因、阶段等）要用 --dialogs 指定店铺的 dialogs 目录"
                "（或在设置文件里写 dialogs）才有中文名。")
