"""`csbot assist --json`: JSON lines in, one Suggestion JSON per line out."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import IO, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.engine import ConversationClosed, Engine
from bot.models import Case


class CaseLine(BaseModel):
    model_config = ConfigDict(extra="forbid")
    case: Case


class MessageLine(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Literal["buyer", "agent"]
    text: str = Field(min_length=1, max_length=2000)


def _error(code: str, message: str, line: int) -> str:
    return json.dumps({"error": {"code": code, "message": message, "line": line}},
                      ensure_ascii=False)


def run_jsonl(engine: Engine, lines: Iterable[str], out: IO[str]) -> int:
    """Process the lines; returns the exit code (0, or 1 if any line was rejected)."""
    conv = None
    failed = False
    for n, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            out.write(_error("bad_json", f"第 {n} 行不是合法的 JSON：{exc.msg}", n) + "\n")
            failed = True
            continue
        try:
            if conv is None and isinstance(obj, dict) and "case" in obj:
                conv, first = engine.start(CaseLine.model_validate(obj).case)
                out.write(first.model_dump_json() + "\n")
                continue
            msg = MessageLine.model_validate(obj)
        except ValidationError as exc:
            detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            out.write(_error("invalid", f"第 {n} 行格式不对：{detail}", n) + "\n")
            failed = True
            continue
        if conv is None:
            conv, _ = engine.start(None)
        try:
            conv, sug = engine.feed(conv, msg.role, msg.text)
        except ConversationClosed as exc:
            out.write(_error("closed", str(exc), n) + "\n")
            failed = True
            continue
        out.write(sug.model_dump_json() + "\n")
        out.flush()
    return 1 if failed else 0
