"""The labelled corpus (dialogs/corpus/): JSON-lines files, validated line by line, and the
frozen train / held-out split.

The split is a hash of the text with a fixed seed, so it was chosen once and never moves:
adding lines to a pool never sends an existing line to the other half, and nobody (rule
writer or learner) can pick which lines are held out.

    python -m bot.corpus split POOL.jsonl [MORE.jsonl …] --train T.jsonl --heldout H.jsonl [--role agent]

Other line models (the guard's, for one) subclass ``_Line`` and use ``read_jsonl``/``is_heldout``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Annotated, Any, Protocol, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from bot.labels import Labels, known
from bot.models import Emotion

# A line's labels must be the data's: those of the folder it is read for, else the bundled ones.
Intent = Annotated[str, AfterValidator(known("intent", fallback=True))]
Cause = Annotated[str, AfterValidator(known("cause", fallback=True))]
Act = Annotated[str, AfterValidator(known("act", fallback=True))]
Code = Annotated[str, AfterValidator(known("code", fallback=True))]

SPLIT_SEED = "csbot-split-2026:"
HELDOUT_PERCENT = 25

M = TypeVar("M", bound=BaseModel)


class _HasText(Protocol):
    @property
    def text(self) -> str: ...


T = TypeVar("T", bound=_HasText)


class CorpusError(ValueError):
    """A corpus file is missing or a line in it is malformed (the message names file and line)."""


def is_heldout(text: str) -> bool:
    """True when ``text`` belongs to the frozen held-out split (about 25 % of lines)."""
    digest = hashlib.sha256((SPLIT_SEED + text).encode("utf-8")).hexdigest()
    return int(digest, 16) % 100 < HELDOUT_PERCENT


class _Line(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=2000)


class BuyerLine(_Line):
    """One buyer message: the primary intent, cause (or null), emotion; ``intents`` lists every
    intent in the order it appears when the message has several (the primary one among them)."""

    intent: Intent
    cause: Cause | None
    emotion: Emotion
    intents: list[Intent] | None = None

    @model_validator(mode="after")
    def _primary_listed(self) -> BuyerLine:
        if self.intents is not None:
            if len(self.intents) < 2:
                raise ValueError("intents 只在一句话有多个意图时填写（至少两个）")
            if self.intent not in self.intents:
                raise ValueError(f"主意图 {self.intent} 不在 intents 列表中")
        return self


class AgentLine(_Line):
    """One agent message: its acts (possibly none) and guard findings as in tests/data."""

    acts: list[Act]
    # guard codes, as in tests/data/agent_dev.jsonl ("conditional_benefit", …)
    findings: list[Code] = Field(default_factory=list)


ROLE_MODELS: dict[str, type[BaseModel]] = {"buyer": BuyerLine, "agent": AgentLine}


_MESSAGES = {
    "missing": "缺少这个字段",
    "extra_forbidden": "不认识的字段",
    "string_type": "应为字符串",
    "string_too_short": "不能为空",
    "string_too_long": "太长",
    "list_type": "应为列表",
    "model_type": "每行应为一个 JSON 对象",
    "dict_type": "应为 JSON 对象",
}


def _describe(exc: ValidationError) -> str:
    """pydantic's errors in Chinese: field, what is wrong, the offending value."""
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "整行"
        kind = err["type"]
        if kind == "literal_error":
            allowed = err.get("ctx", {}).get("expected", "")
            what = f"标签 {json.dumps(err.get('input'), ensure_ascii=False)} 不存在（可用：{allowed}）"
        elif kind == "value_error":
            what = str(err.get("ctx", {}).get("error", err["msg"]))
        else:
            what = _MESSAGES.get(kind, err["msg"])
        parts.append(f"{where}：{what}")
    return "；".join(parts)


def read_jsonl(path: Path | str, model: type[M], labels: Labels | None = None) -> list[M]:
    """Read a JSON-lines file, each non-blank line validated by ``model`` (its labels
    against ``labels``, default the bundled ones).

    A bad line raises :class:`CorpusError` naming the file and the line number."""
    path = Path(path)
    rows: list[M] = []
    try:
        fh = path.open(encoding="utf-8")
    except FileNotFoundError as exc:
        raise CorpusError(f"找不到语料文件：{path}") from exc
    with fh:
        for number, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                data = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise CorpusError(f"{path} 第 {number} 行不是合法的 JSON：{exc.msg}") from exc
            try:
                rows.append(model.model_validate(data, context={"labels": labels}))
            except ValidationError as exc:
                raise CorpusError(f"{path} 第 {number} 行格式错误：{_describe(exc)}") from exc
    return rows


def dump_line(row: BaseModel | dict[str, Any]) -> str:
    """One row as a JSON line (no trailing newline); ``intents`` only when it is set."""
    data = row.model_dump(exclude_none=False) if isinstance(row, BaseModel) else dict(row)
    if data.get("intents") is None:
        data.pop("intents", None)
    return json.dumps(data, ensure_ascii=False)


def write_jsonl(path: Path | str, rows: Iterable[BaseModel | dict[str, Any]]) -> int:
    """Write rows as UTF-8 JSON lines (LF endings); returns how many were written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        for row in rows:
            fh.write(dump_line(row) + "\n")
            count += 1
    return count


def split_rows(rows: Sequence[T]) -> tuple[list[T], list[T]]:
    """(train, heldout) by :func:`is_heldout`; a text seen twice is kept once (the first)."""
    seen: set[str] = set()
    train: list[T] = []
    heldout: list[T] = []
    for row in rows:
        text = row.text
        if text in seen:
            continue
        seen.add(text)
        (heldout if is_heldout(text) else train).append(row)
    return train, heldout


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bot.corpus",
        description="按冻结的哈希规则把语料池分成训练集和留出集（结果稳定，可重复执行）。",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sp = sub.add_parser("split", help="把语料池文件分成训练集和留出集")
    sp.add_argument("pool", nargs="+", help="语料池 JSONL 文件（可以多个，也可以是已有的两半）")
    sp.add_argument("--train", required=True, help="训练集输出文件")
    sp.add_argument("--heldout", required=True, help="留出集输出文件")
    sp.add_argument("--role", choices=sorted(ROLE_MODELS), default="buyer", help="语料角色")
    args = parser.parse_args(argv)
    model = ROLE_MODELS[args.role]
    try:
        rows: list[Any] = []
        for pool in args.pool:
            rows.extend(read_jsonl(pool, model))
    except CorpusError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 3
    train, heldout = split_rows(rows)
    write_jsonl(args.train, train)
    write_jsonl(args.heldout, heldout)
    print(f"训练集 {len(train)} 行 → {args.train}；留出集 {len(heldout)} 行 → {args.heldout}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
