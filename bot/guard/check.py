"""Guard findings on agent text (conditional benefits, threats, private data, pressure...)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.models import Finding, Severity
from bot.understand.normalize import Norm
from bot.understand.scoped import ScopedRules, WideNegation


@dataclass(frozen=True, slots=True)
class CodeInfo:
    severity: Severity
    message: str


class Guard:
    """Runs the rules of ``dialogs/guard.yaml`` on normalised agent text."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.codes: dict[str, CodeInfo] = {}
        rules: dict[str, list[dict[str, Any]]] = {}
        for code, body in spec["codes"].items():
            self.codes[code] = CodeInfo(body["severity"], body["message"])
            rules[code] = body["rules"]
        negation = WideNegation(spec.get("negators", []), spec.get("fillers", []))
        self.rules = ScopedRules(rules, spec.get("cues", {}), negation)

    def __call__(self, norm: Norm) -> list[Finding]:
        """One finding per code, at its first match, in the order of the YAML file."""
        first: dict[str, tuple[int, int]] = {}
        for hit in self.rules.hits(norm.text):
            prev = first.get(hit.label)
            if prev is None or hit.start < prev[0]:
                first[hit.label] = (hit.start, hit.end)
        return [
            Finding(
                code=code,
                severity=info.severity,
                span=norm.span(*first[code]),
                message=info.message,
            )
            for code, info in self.codes.items()
            if code in first
        ]

    def blocks(self, findings: list[Finding]) -> bool:
        """True when any finding is of block severity."""
        return any(f.severity == "block" for f in findings)
