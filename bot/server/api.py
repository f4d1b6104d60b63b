"""Request and response models of the HTTP API (the OpenAPI document is generated from them)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from bot.models import Case, Finding, Outcome, Suggestion, Tone

MAX_TEXT = 2000


class CreateConversation(Case):
    """Case fields, plus the tone of the suggestions."""

    tone: Tone = "正式"


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Literal["buyer", "agent"]
    text: str = Field(min_length=1, max_length=MAX_TEXT)
    message_id: str | None = Field(default=None, min_length=1, max_length=200)


class CloseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: Outcome


class CorrectionIn(BaseModel):
    """An agent's correction (codes or the Chinese names of dialogs/defaults.yaml): the
    intent or cause of a buyer message (``turn``, default the newest buyer message), or the
    stage. At least one of intent, cause, stage."""

    model_config = ConfigDict(extra="forbid")
    turn: int | None = Field(default=None, ge=0)
    intent: str | None = Field(default=None, min_length=1, max_length=40)
    cause: str | None = Field(default=None, min_length=1, max_length=40)
    stage: str | None = Field(default=None, min_length=1, max_length=40)


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
    created_at: str
    updated_at: str


class ConversationOut(BaseModel):
    conversation: ConversationSummary
    suggestion: Suggestion


class TurnOut(BaseModel):
    turn: int
    role: str
    text: str
    message_id: str | None
    stage: str
    created_at: str | None
    suggestion: Suggestion


class ConversationDetail(BaseModel):
    conversation: ConversationSummary
    turns: list[TurnOut]


class ConversationList(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[ConversationSummary]


class ErrorBody(BaseModel):
    code: str
    message: str


class ErrorOut(BaseModel):
    error: ErrorBody


class LintIn(BaseModel):
    """A draft the agent is typing, checked before it is sent."""

    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=MAX_TEXT)


class LintOut(BaseModel):
    findings: list[Finding]
