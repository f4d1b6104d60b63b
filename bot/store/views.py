"""What the store gives people to read: a conversation's summary, its turns, the tokens.

Typed models, not dicts: the HTTP API answers with them as they are (bot/server/api.py
re-exports them for its OpenAPI document), the channels' commands and the CLI read their
fields by name.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, PrivateAttr

from bot.models import Conversation, Suggestion


class ConversationSummary(BaseModel):
    id: str
    shop: str
    agent: str | None
    stage: str
    outcome: str | None
    open: bool
    turns: int
    flagged: bool
    script_version: str
    case: dict[str, Any]
    supervisor_notified: bool = False
    complaint_filed: bool = False  # the 恶意评价 complaint is filed with the platform
    callback_at: str | None = None
    # The case's primary cause and where it was read: the queue card shows it before the
    # first message (seeded from the review when the case is opened).
    cause: str | None = Field(default=None,
                              description="the case's primary cause (a cause id), null while none is known")
    cause_source: Literal["review", "talk", "correction"] | None = Field(
        default=None, description="where the cause was read: the review, the talk or a correction")
    created_at: str
    updated_at: str
    # The state the summary was read from (not sent): what to say now needs no second read.
    _conversation: Conversation | None = PrivateAttr(default=None)

    @classmethod
    def of_row(cls, row: Any) -> ConversationSummary:
        conv = Conversation.model_validate_json(row.state)
        summary = cls(
            id=row.id, shop=row.shop, agent=row.agent, stage=row.stage, outcome=row.outcome,
            open=bool(row.is_open), turns=row.turn, flagged=bool(row.flagged),
            script_version=row.script_version, case=conv.case.model_dump(mode="json"),
            supervisor_notified=conv.context.supervisor_notified,
            complaint_filed=conv.context.complaint_filed,
            callback_at=conv.context.callback_at,  # the agreed callback time (ISO), if any
            cause=conv.context.cause, cause_source=conv.context.cause_source,
            created_at=row.created_at.isoformat(), updated_at=row.updated_at.isoformat())
        summary._conversation = conv
        return summary

    @property
    def conversation(self) -> Conversation:
        if self._conversation is None:
            raise ValueError("this summary was not read from the store")
        return self._conversation


class TurnOut(BaseModel):
    turn: int
    role: str
    text: str
    message_id: str | None
    stage: str
    created_at: str | None
    suggestion: Suggestion

    @classmethod
    def of_row(cls, row: Any) -> TurnOut:
        return cls(turn=row.turn, role=row.role, text=row.text, message_id=row.message_id, stage=row.stage,
                   created_at=row.created_at.isoformat() if row.created_at else None,
                   suggestion=Suggestion.model_validate_json(row.suggestion))


class TokenRow(BaseModel):
    """A token as `csbot token list` shows it (never the token itself)."""

    name: str
    role: str
    shop: str
    created_at: datetime
    revoked: bool


__all__ = ["ConversationSummary", "TokenRow", "TurnOut"]
