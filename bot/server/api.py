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
    callback_at: str | None = None
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
    current: Suggestion | None = Field(default=None, description="what to say now: the case as it stands "
                                       "(after an escalation or a correction, which are not turns)")


class ToneIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tone: Tone


class EscalateIn(BaseModel):
    """A supervisor is asked to join; the note goes with the notification."""

    model_config = ConfigDict(extra="forbid")
    note: str | None = Field(default=None, max_length=500)


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
