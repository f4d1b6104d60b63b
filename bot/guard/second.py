"""The guard's judges for measuring: rules, the learned second opinion, both combined."""

from __future__ import annotations

from pathlib import Path

from bot.guard.corpus import GuardLine, Judge
from bot.guard.learned import Model
from bot.models import Finding
from bot.understand.pipeline import Understander


def judges(dialogs: Path, model_file: Path | None = None) -> dict[str, Judge]:
    u = Understander(dialogs)
    guard = u.guard
    if model_file is None and guard.model is None and (dialogs / "model" / "guard.json.gz").is_file():
        model_file = dialogs / "model" / "guard.json.gz"  # switched off in guard.yaml: measured all the same
    model = Model.load(model_file) if model_file else guard.model
    rules_only = type(guard)  # the same rules without the model
    from bot.dataload import load_yaml

    plain = rules_only(load_yaml(dialogs, "guard.yaml"), None)

    def rules(row: GuardLine) -> list[Finding]:
        context, stage = row.situation()
        return plain(u.normalize(row.text), u.context(context), stage)

    def learned(row: GuardLine) -> list[Finding]:
        if model is None:
            return []
        text = u.normalize(row.text).text
        codes = [c for c in model.codes(text)
                 if c != "conditional_benefit" or guard.ties.plausible(text, (), row.stage)]
        return [Finding(code=c, severity="block", span=None, message="") for c in codes]

    def combined(row: GuardLine) -> list[Finding]:
        found = rules(row)
        return found if any(f.severity == "block" for f in found) else found + learned(row)

    return {"rules": rules, "model": learned, "combined": combined}
