"""The guard's judges for measuring: rules, the learned second opinion, both combined."""

from __future__ import annotations

from pathlib import Path

from bot.guard.corpus import GuardLine, Judge
from bot.models import Finding
from bot.understand.pipeline import Understander


def judges(dialogs: Path) -> dict[str, Judge]:
    u = Understander(dialogs)

    def rules(row: GuardLine) -> list[Finding]:
        return u.findings(row.text, row.context or (), row.stage)

    return {"rules": rules}
