"""One turn, apart from where it runs: from the stored conversation row and the message to
the rows to write.

The SQLite writer runs it inside its transaction when csbot serves from one process; with
``--workers`` the worker processes run it beside the writer (bot/store/workers.py) and the
writer only checks that the conversation has not moved on and commits. Either way the
same function decides the turn, so both give the same answer byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from bot.engine import Engine
from bot.models import AgentUnderstanding, Case, Conversation, Finding, Suggestion
from bot.store.mask import Edit, mask, mask_edits, mask_id, move_span


class NotFound(LookupError):
    """No such conversation (or token)."""


class Forbidden(PermissionError):
    """The conversation belongs to another shop."""


class NeedsPerson(RuntimeError):
    """The conversation's stage vanished from the edited script: a person must take over."""


class ConvRow(NamedTuple):
    shop: str
    is_open: bool
    state: str
    turn: int


SQL_LOAD = "SELECT shop, is_open, state, turn FROM conversations WHERE id = ?"
SQL_DEDUPE = "SELECT suggestion FROM turns WHERE conversation_id = ? AND message_id = ?"


@dataclass(slots=True)
class Prepared:
    """A turn decided but not yet written: the two rows it changes, and the answer."""

    conv_id: str
    before: int  # the conversation's turn it was decided on
    turn: int
    role: str
    text: str  # masked: no raw personal data at rest
    message_id: str | None
    stage: str
    state: str  # the new Conversation, JSON
    stored: str  # the Suggestion at rest (masked), JSON
    answer: str  # the Suggestion for the caller, JSON
    script_version: str
    is_open: bool
    outcome: str | None
    findings: tuple[tuple[str, str], ...]  # (code, severity) of the guard's findings
    suggestion: Suggestion | None = field(default=None, compare=False)  # only in process
    was_open: bool = True  # as read: the write checks that no one closed (or reopened) it since

    def wire(self) -> tuple[Any, ...]:
        """The fields as plain values (what crosses to the writer's process); the stored
        answer is sent only where masking made it differ."""
        return (self.conv_id, self.before, self.turn, self.role, self.text, self.message_id,
                self.stage, self.state, None if self.stored == self.answer else self.stored,
                self.answer, self.script_version, self.is_open, self.outcome, self.findings,
                self.was_open)

    @classmethod
    def from_wire(cls, values: tuple[Any, ...]) -> Prepared:
        v = list(values)
        if v[8] is None:
            v[8] = v[9]
        p = cls(*v[:13], tuple(tuple(f) for f in v[13]))  # type: ignore[call-arg]
        p.was_open = bool(v[14]) if len(v) > 14 else True
        return p

    def sug(self) -> Suggestion:
        """The answer as a model."""
        if self.suggestion is None:
            self.suggestion = Suggestion.model_validate_json(self.answer)
        return self.suggestion


@dataclass(slots=True)
class Duplicate:
    """The message id was seen before: its stored answer."""

    stored: str


def load(raw: Any, conv_id: str, message_id: str | None) -> tuple[ConvRow | None, str | None]:
    """The conversation's row and, for a repeated message id, its stored answer (DB-API)."""
    found = raw.execute(SQL_LOAD, (conv_id,)).fetchone()
    stored = None
    if found is not None and message_id is not None:
        stored = (raw.execute(SQL_DEDUPE, (conv_id, message_id)).fetchone() or (None,))[0]
    return (ConvRow(*found) if found else None), stored


def current_script(engine: Engine, conv: Conversation) -> Conversation:
    """The conversation on the script loaded now (the shop edited dialogs/ and restarted)."""
    if conv.script_version == engine.script.version:
        return conv
    stage = engine.script.renamed.get(conv.stage, conv.stage)
    if stage not in engine.script.stages:
        raise NeedsPerson(conv.stage)
    return conv.model_copy(update={"stage": stage, "script_version": engine.script.version})


def decide(
    engine: Engine, row: Any, stored: str | None, conv_id: str, role: str, text: str,
    message_id: str | None, shop: str | None, at: datetime | None,
) -> Prepared | Duplicate:
    """Apply one message to the stored row. Raises NotFound, Forbidden or NeedsPerson; a
    repeated message id gives its stored answer. A closed case is answered too (issue 16):
    a goodbye keeps it closed, a new problem reopens it."""
    if row is None:
        raise NotFound(conv_id)
    if shop is not None and row.shop != shop:
        raise Forbidden(conv_id)
    if stored is not None:
        return Duplicate(stored)
    conv = current_script(engine, Conversation.model_validate_json(row.state))
    conv, sug = engine.feed(conv, role, text, at=at, owned=True)  # type: ignore[arg-type]
    answer = sug.model_dump_json()
    masked, steps = mask_edits(text)
    stored_sug = answer
    if masked != text:
        stored_sug = masked_suggestion(sug, masked, steps).model_dump_json()
    return Prepared(
        conv_id=conv.id, before=row.turn, turn=conv.turn, role=role, text=masked,
        message_id=message_id, stage=conv.stage, state=conv.model_dump_json(), stored=stored_sug,
        answer=answer, script_version=conv.script_version,
        is_open=conv.stage != engine.script.final, outcome=conv.outcome,
        findings=tuple((f.code, f.severity) for f in sug.warnings if f.span is not None),
        suggestion=sug, was_open=bool(row.is_open))


_ID_FIELDS = frozenset({"buyer_id", "order_id"})
# Fields that are codes or the shop's own words, never a buyer's: kept as they are.
_KEPT_FIELDS = frozenset({"shop", "platform", "review_rating", "channel", "agent", "honorific"})


def mask_case(case: Case) -> Case:
    """The case as stored: every free-text field masked (review text, names, notes, product),
    ids masked for the phone numbers some platforms build them from."""
    update: dict[str, str] = {}
    for name, value in case:
        if isinstance(value, str) and name not in _KEPT_FIELDS:
            done = mask_id(value) if name in _ID_FIELDS else mask(value)
            if done != value:
                update[name] = done
    return case.model_copy(update=update) if update else case


def masked_suggestion(sug: Suggestion, masked: str, steps: list[list[Edit]]) -> Suggestion:
    """The Suggestion as stored: the understanding quotes the masked message, and every
    finding's span points into it (a span on a masked part covers its placeholder)."""

    def moved(findings: list[Finding]) -> list[Finding]:
        return [f if f.span is None else f.model_copy(update={"span": move_span(f.span, steps)})
                for f in findings]

    update: dict[str, Any] = {"warnings": moved(sug.warnings)}
    u = sug.understanding
    if u is not None:
        extra: dict[str, Any] = {"text": masked}
        if isinstance(u, AgentUnderstanding):
            extra["findings"] = moved(u.findings)
        update["understanding"] = u.model_copy(update=extra)
    return sug.model_copy(update=update)


__all__ = ["ConvRow", "Duplicate", "Forbidden", "NeedsPerson", "NotFound", "Prepared",
           "current_script", "decide", "load", "mask_case", "masked_suggestion"]
