"""The models a guard finding needs (``csbot lint`` reads no other): split from bot.models,
which re-exports them, so that linting does not build the other models' classes."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, SerializerFunctionWrapHandler, model_serializer

Severity = Literal["block", "warn", "info"]


class Base(BaseModel):
    """The base of csbot's models: each builds its validator on first use, not on import
    (a command such as `csbot lint` uses two of them; building all was a fifth of its start-up).
    ``warm()`` builds them all where the first request must not wait (the engine's load)."""

    model_config = ConfigDict(defer_build=True)


class NoteAction(Base):
    """What confirms a "可能…" note: the stage to move to, as a correction (one click in the
    sidebar: POST …/corrections {"stage": …}; one word in assist: ``command``)."""

    stage: str
    command: str
    label: str = ""  # the stage's name on screen ("" in suggestions saved before it was added)

    def how(self, way: str) -> str:
        """The sentence each surface adds to the note, with its own ``way`` to confirm
        ("输入 /确认 " in assist, "在侧边栏点“确认”" in a chat): the note itself names none."""
        return f"如果是，{way}{f'转到“{self.label}”' if self.label else ''}".rstrip() + "。"


class Finding(Base):
    """A compliance finding on agent text (or a policy note when span is None)."""

    code: str
    severity: Severity
    span: tuple[int, int] | None
    message: str
    # A compliant Chinese rewrite of the message (guard findings; None for policy notes).
    rewrite: str | None = None
    action: NoteAction | None = None

    @model_serializer(mode="wrap")
    def _without_empty_action(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Only a "可能…" note carries an action: the other findings keep their four fields.
        out: dict[str, Any] = handler(self)
        if out.get("action", 0) is None:
            del out["action"]
        return out


__all__ = ["Base", "Finding", "NoteAction", "Severity"]
