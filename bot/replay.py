"""Replaying whole dialogs through one fresh conversation each (stage agreement)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.engine import Engine


def replay(engine: Engine, dialog: dict[str, Any]) -> list[str]:
    """The stage after each turn of a dialog. A dialog may carry `case` and `at` (ISO time)."""
    conv, _ = engine.start(dialog.get("case"))
    at = datetime.fromisoformat(dialog["at"]) if dialog.get("at") else None
    stages = []
    for turn in dialog["turns"]:  # every line is answered, also after the end (issue 16)
        conv, _ = engine.feed(conv, turn["role"], turn["text"], at=at)
        stages.append(conv.stage)
    return stages


def eval_dialogs(engine: Engine, dialogs: list[dict[str, Any]]) -> dict[str, Any]:
    """Turn-level stage accuracy (null expectations skipped) and final-stage accuracy."""
    scored = right = final_right = 0
    errors = []
    for d in dialogs:
        got = replay(engine, d)
        for i, (turn, stage) in enumerate(zip(d["turns"], got, strict=True)):
            if turn["expect_stage"] is None:
                continue
            scored += 1
            if turn["expect_stage"] == stage:
                right += 1
            else:
                errors.append({"dialog": d["id"], "turn": i + 1, "text": turn["text"],
                               "expect": turn["expect_stage"], "got": stage})
        final_right += got[-1] == d["turns"][-1]["expect_stage"]
    return {
        "kind": "dialogs", "lines": len(dialogs),
        "stage_accuracy": right / scored if scored else 1.0,
        "final_stage_accuracy": final_right / len(dialogs) if dialogs else 1.0,
        "errors": errors,
    }
