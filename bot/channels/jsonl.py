"""`csbot assist --json`: JSON lines in, exactly one JSON line out for every line in.

A line is a case (``{"case":{…}}``, first), a message (``{"role","text"}``), a correction
(``{"correct":{"intent"?,"cause"?,"stage"?}}``) or the outcome (``{"end":"已解决"}``, code or
Chinese name). Every other line, an empty one included, gets an error line. Without a case
line the case is the command line's (--shop, --buyer …), else the data's defaults.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import IO, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.engine import Engine
from bot.models import Case, Conversation, Tone


class CaseLine(BaseModel):
    model_config = ConfigDict(extra="forbid")
    case: Case


class MessageLine(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Literal["buyer", "agent"]
    text: str = Field(min_length=1, max_length=2000)


class Correction(BaseModel):
    model_config = ConfigDict(extra="forbid")
    intent: str | None = Field(default=None, min_length=1, max_length=40)
    cause: str | None = Field(default=None, min_length=1, max_length=40)
    stage: str | None = Field(default=None, min_length=1, max_length=40)


class CorrectLine(BaseModel):
    model_config = ConfigDict(extra="forbid")
    correct: Correction


class EndLine(BaseModel):
    model_config = ConfigDict(extra="forbid")
    end: str = Field(min_length=1, max_length=40)


def _error(code: str, message: str, line: int) -> str:
    return json.dumps({"error": {"code": code, "message": message, "line": line}},
                      ensure_ascii=False)


def run_jsonl(engine: Engine, lines: Iterable[str], out: IO[str], case: Case | None = None,
              tone: Tone = "正式") -> int:
    """Process the lines; returns the exit code (0, or 1 if any line was rejected). ``case``:
    the case when the first line gives none; ``tone``: the suggestions' tone."""
    from bot.server.errors import describe

    conv: Conversation | None = None
    last_buyer = ""  # the buyer's last message, for an intent correction
    failed = False
    for n, raw in enumerate(lines, 1):
        reply = ""
        try:
            if not raw.strip():
                raise _Bad("empty", f"第 {n} 行是空行：每行应是一个 JSON 对象")
            try:
                obj = json.loads(raw)
            except json.JSONDecodeError as exc:
                # json's own reason is English: the column says where instead
                raise _Bad("bad_json", f"第 {n} 行不是合法的 JSON（第 {exc.colno} 个字符附近）") from exc
            if not isinstance(obj, dict):
                raise _Bad("invalid", f"第 {n} 行应是一个 JSON 对象")
            if "case" in obj:
                if conv is not None:
                    raise _Bad("invalid", f"第 {n} 行：案件信息只能在第一行给出")
                conv, first = engine.start(CaseLine.model_validate(obj).case, tone=tone)
                reply = first.model_dump_json()
            elif "correct" in obj or "end" in obj:
                if conv is None:
                    conv, _ = engine.start(case, tone=tone)
                if "end" in obj:
                    conv, reply = _end(engine, conv, EndLine.model_validate(obj).end)
                else:
                    c = CorrectLine.model_validate(obj).correct
                    if c.intent is None and c.cause is None and c.stage is None:
                        raise _Bad("invalid", f"第 {n} 行：请至少更正一项（intent、cause 或 stage）")
                    conv, sug = engine.correct(conv, intent=c.intent, cause=c.cause, stage=c.stage,
                                               text=last_buyer)
                    reply = sug.model_dump_json()
            else:
                msg = MessageLine.model_validate(obj)
                if conv is None:
                    conv, _ = engine.start(case, tone=tone)
                conv, sug = engine.feed(conv, msg.role, msg.text)
                if msg.role == "buyer":
                    last_buyer = msg.text
                reply = sug.model_dump_json()
        except _Bad as exc:
            reply, failed = _error(exc.code, exc.message, n), True
        except ValidationError as exc:
            reply, failed = _error("invalid", f"第 {n} 行格式不对：{describe(exc)}", n), True
        except ValueError as exc:  # an unknown label in a correction or an outcome
            reply, failed = _error("invalid", f"第 {n} 行：{exc}", n), True
        out.write(reply + "\n")
        out.flush()
    return 1 if failed else 0


class _Bad(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def _end(engine: Engine, conv: Conversation, name: str) -> tuple[Conversation, str]:
    """Record the outcome: the line's answer is ``{"outcome":{"code","label"},"stage":…}``."""
    code = engine.label_code("outcome", name)
    conv = engine.close(conv, code)
    stage = engine.script.stages[conv.stage]
    return conv, json.dumps({"conversation_id": conv.id, "turn": conv.turn,
                             "outcome": {"code": code, "label": engine.labels.name("outcome", code)},
                             "stage": {"id": stage.id, "label": stage.label}}, ensure_ascii=False)
