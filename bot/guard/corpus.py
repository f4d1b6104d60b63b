"""The guard corpus (dialogs/corpus/{train,heldout}/guard.jsonl) and its measures.

    python -m bot.guard.corpus FILE [FILE...] [--families] [--misses]

prints block recall (lines that must be blocked and are), clean lines blocked, and the
recall of each expected code, for the rules, the learned model and both combined.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from pydantic import ConfigDict, Field

from bot.corpus import _Line, read_jsonl
from bot.models import Finding

BLOCK_CODES = frozenset({"conditional_benefit", "threat", "privacy"})


class GuardLine(_Line):
    """One agent message: the guard codes it must get ([] = clean), its family, and when the
    finding depends on the conversation, the agent's previous messages and the stage."""

    model_config = ConfigDict(extra="ignore")  # the public dev sets carry agent acts too

    findings: list[str]
    family: str = Field(default="—", min_length=1)
    context: list[str] | None = None
    stage: str | None = None

    def situation(self) -> tuple[Sequence[str], str | None]:
        """What the guard is given besides the text: the agent's previous messages (oldest
        first) and the stage. Every measure reads a line through this (``csbot eval`` too)."""
        return self.context or (), self.stage


def read(paths: Iterable[Path | str]) -> list[GuardLine]:
    rows: list[GuardLine] = []
    for p in paths:
        rows += read_jsonl(p, GuardLine)
    return rows


Judge = Callable[[GuardLine], list[Finding]]


def measure(rows: list[GuardLine], judge: Judge) -> dict[str, Any]:
    """Block recall, clean lines blocked, per-code recall and per-family rates."""
    return tally(rows, [judge(row) for row in rows])


def tally(rows: Sequence[GuardLine], judged: Sequence[list[Finding]]) -> dict[str, Any]:
    """The figures of :func:`measure` from each row's findings, judged already (aligned)."""
    must = blocked_must = clean = blocked_clean = 0
    code_hits: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    fam: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    misses: list[dict[str, Any]] = []
    for row, found in zip(rows, judged, strict=True):
        codes = {f.code for f in found}
        blocked = any(f.severity == "block" for f in found)
        expected = set(row.findings)
        if expected & BLOCK_CODES:
            must += 1
            blocked_must += blocked
            ok = blocked
        elif not expected:
            clean += 1
            blocked_clean += blocked
            ok = not blocked
        else:
            ok = bool(expected & codes)
        for c in expected:
            code_hits[c][0] += c in codes
            code_hits[c][1] += 1
        fam[row.family][0] += ok
        fam[row.family][1] += 1
        if not ok:
            misses.append({"text": row.text, "family": row.family, "expected": sorted(expected),
                           "found": sorted(codes)})
    return {
        "lines": len(rows),
        "block_recall": round(blocked_must / must, 4) if must else None,
        "must_block": must,
        "clean_blocked": round(blocked_clean / clean, 4) if clean else None,
        "clean": clean,
        "code_recall": {c: round(h / n, 4) for c, (h, n) in sorted(code_hits.items())},
        "families": {f: f"{h}/{n}" for f, (h, n) in sorted(fam.items())},
        "misses": misses,
    }


def main(argv: list[str] | None = None) -> None:
    from bot.guard.second import judges
    from bot.paths import dialogs_dir

    ap = argparse.ArgumentParser()
    ap.add_argument("files", nargs="+", type=Path)
    ap.add_argument("--misses", action="store_true")
    ap.add_argument("--only", choices=["rules", "model", "combined"])
    args = ap.parse_args(argv)
    rows = read(args.files)
    for name, judge in judges(dialogs_dir()).items():
        if args.only and name != args.only:
            continue
        res = measure(rows, judge)
        if not args.misses:
            res.pop("misses")
        print(name, json.dumps(res, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
