"""Guard findings for people: the Chinese names of the folder's labels, never codes."""

from __future__ import annotations

from pathlib import Path

from bot.findings import Finding
from bot.labels import Labels


class Describer:
    """A guard finding in a line or two of Chinese (`csbot lint`), named by the folder's labels."""

    def __init__(self, dialogs: Path) -> None:
        labels = Labels.load(dialogs)
        self.findings: dict[str, str] = dict(labels.names["code"])
        self.severities: dict[str, str] = dict(labels.names["severity"])

    def describe(self, f: Finding, text: str) -> str:
        """Two lines at most: 【禁止】好评返现等条件利益「span」：why; 建议改为：rewrite."""
        level = self.severities.get(f.severity, "注意")
        name = self.findings.get(f.code, "其他问题")
        start, end = f.span or (0, 0)
        line = f"  【{level}】{name}「{text[start:end]}」：{f.message}"
        if f.rewrite:
            line += f"\n    建议改为：{f.rewrite}"
        return line
