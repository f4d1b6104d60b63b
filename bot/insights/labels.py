"""The Chinese names of the ids a report shows, all read from the data folders.

Causes, outcomes, findings and severities come from dialogs/defaults.yaml, remedies from
dialogs/remedies.yaml, stages from dialogs/script.yaml (through the engine); the names of
"nothing recorded" and of the report's own metrics from wording.yaml beside this module.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.dataload import load_yaml
from bot.paths import dialogs_dir

if TYPE_CHECKING:
    from bot.engine import Engine

_HERE = Path(__file__).resolve().parent


@functools.cache
def wording() -> dict[str, Any]:
    """The report's own wording (titles, headings, metric names), shipped in the package."""
    return load_yaml(_HERE, "wording.yaml")


@functools.cache
def _defaults(dialogs: Path) -> dict[str, Any]:
    # Read once per folder: a report takes several mappings from the same file.
    return load_yaml(dialogs, "defaults.yaml")


def _words(dialogs: Path, key: str) -> dict[str, str]:
    # A shop's own copy of dialogs/ made before a mapping was added lacks it: the bundled
    # one fills in, so an older copy keeps working.
    own = _defaults(dialogs).get(key) or {}
    bundled = dialogs_dir(None)
    base = {} if dialogs.resolve() == bundled.resolve() else _defaults(bundled).get(key) or {}
    return {**base, **own}


@functools.cache
def outcome_labels(dialogs: Path) -> dict[str, str]:
    """Outcome id -> Chinese name (``outcome_labels`` in dialogs/defaults.yaml)."""
    return _words(dialogs, "outcome_labels")


@dataclass(frozen=True, slots=True)
class Labels:
    """Id -> Chinese name, per kind of id (``cause``, ``remedy``, ``stage``, ``outcome``,
    ``code``, ``severity``, ``agent``, ``metric``); an empty id is "not recorded"."""

    names: dict[str, dict[str, str]]
    unset: dict[str, str]

    @classmethod
    def from_engine(cls, engine: Engine) -> Labels:
        """The names of the engine's data folders."""
        words = wording()
        causes = _words(engine.dialogs, "cause_names")
        return cls(
            names={
                "cause": causes,
                "remedy": {rid: r.label for rid, r in engine.remedies.remedies.items()},
                "stage": {sid: s.label for sid, s in engine.script.stages.items()},
                "outcome": outcome_labels(engine.dialogs),
                "code": _words(engine.dialogs, "finding_labels"),
                "severity": _words(engine.dialogs, "severity_labels"),
                "metric": dict(words["metrics"]),
                "agent": {},
            },
            unset={**words["unset"], "cause": causes.get("unknown", words["unset"]["cause"])},
        )

    def name(self, kind: str, key: str) -> str:
        """The Chinese name of ``key``; an unknown id (data edited since) shows as itself."""
        if not key:
            return self.unset.get(kind, "—")
        return self.names.get(kind, {}).get(key, key)
