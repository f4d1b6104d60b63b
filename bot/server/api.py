"""Request and response models of the HTTP API (the OpenAPI document is generated from them)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationInfo, field_validator

from bot.models import Case, Finding, Outcome, Suggestion, Tone
from bot.store.views import ConversationSummary, TurnOut

MAX_TEXT = 2000
# Characters that show nothing: a text of only these (and whitespace) is no message.
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e\u200e\u200f"


def visible(text: str) -> str:
    """``text`` if it shows anything; ValueError (a 422) for blank or zero-width-only text."""
    # Both ends stripped of whitespace and of invisible characters in turn, until neither
    # changes: empty exactly when every character is one or the other. A usual message
    # stops at the first round (translating the whole text cost 2-3 µs a turn).
    rest = text
    while True:
        stripped = rest.strip().strip(_INVISIBLE)
        if stripped == rest:
            break
        rest = stripped
    if not rest:
        raise ValueError("不能为空（只有空白或不可见字符）")
    return text


class CreateConversation(Case):
    """Case fields, plus the tone of the suggestions."""

    tone: Tone = "正式"


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Literal["buyer", "agent"]
    text: str = Field(min_length=1, max_length=MAX_TEXT)
    message_id: str | None = Field(default=None, min_length=1, max_length=200)

    _text_visible = field_validator("text")(visible)


class CloseIn(BaseModel):
    """The outcome as its id or its Chinese name (已解决), as corrections take labels."""

    model_config = ConfigDict(extra="forbid")
    outcome: Outcome

    @field_validator("outcome", mode="before")
    @classmethod
    def _by_name(cls, value: Any, info: ValidationInfo) -> Any:
        labels = info.context.get("labels") if isinstance(info.context, dict) else None
        return labels.code("outcome", value) if labels is not None and isinstance(value, str) else value


class CorrectionIn(BaseModel):
    """An agent's correction (codes or the Chinese names of dialogs/defaults.yaml): the
    intent or cause of a buyer message (``turn``, default the newest buyer message), or the
    stage. At least one of intent, cause, stage."""

    model_config = ConfigDict(extra="forbid")
    # strict: {"turn": true} or "1" is no turn number (lax pydantic read true as turn 1)
    turn: StrictInt | None = Field(default=None, ge=1)
    intent: str | None = Field(default=None, min_length=1, max_length=40)
    cause: str | None = Field(default=None, min_length=1, max_length=40)
    stage: str | None = Field(default=None, min_length=1, max_length=40)


class ConversationOut(BaseModel):
    conversation: ConversationSummary
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


class MeOut(BaseModel):
    """Who the token is: the sidebar fills in the agent's name, and an admin may change it."""

    name: str
    role: str = Field(description="admin 或 agent")
    shop: str


class ErrorBody(BaseModel):
    code: str
    message: str


class ErrorOut(BaseModel):
    error: ErrorBody


class LintIn(BaseModel):
    """A draft the agent is typing, checked before it is sent."""

    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=MAX_TEXT)
    # The guard then reads the agent's previous messages and the stage of this conversation.
    conversation_id: str | None = Field(default=None, min_length=1, max_length=200)
    # A public text (the shop's reply under the review, read by every future buyer): with the
    # conversation, the buyer's full name in it is a privacy finding too (a chat may use it).
    public: bool = False

    _text_visible = field_validator("text")(visible)


class LintOut(BaseModel):
    findings: list[Finding]
