"""Guard findings for people: Chinese names from dialogs/defaults.yaml, never codes."""

from __future__ import annotations

from pathlib import Path

from bot.dataload import load_yaml
from bot.models import Finding


class Labels:
    """``finding_labels`` and ``severity_labels`` of a dialogs folder."""

    def __init__(self, dialogs: Path) -> None:
        words = load_yaml(dialogs, "defaults.yaml")
        self.findings: dict[str, str] = dict(words.get("finding_labels") or {})
        self.severities: dict[str, str] = dict(words.get("severity_labels") or {})

    def describe(self, f: Finding, text: str) -> str:
        """Two lines at most: 【禁止】好评返现等条件利益「span」：why; 建议改为：rewrite."""
        level = self.severities.get(f.severity, "注意")
        name = self.findings.get(f.code, "其他问题")
        start, end = f.span or (0, 0)
        line = f"  【{level}】{name}「{text[start:end]}」：{f.message}"
        if f.rewrite:
            line += f"\n    建议改为：{f.rewrite}"
        return line
