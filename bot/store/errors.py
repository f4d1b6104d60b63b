"""What the store and the turn service raise, for the HTTP layer to answer in Chinese."""

from __future__ import annotations


class NotFound(LookupError):
    """No such conversation (or token)."""


class Forbidden(PermissionError):
    """The conversation belongs to another shop."""


class NeedsPerson(RuntimeError):
    """The conversation's stage vanished from the edited script: a person must take over."""


class Stale(RuntimeError):
    """The conversation's row changed since it was loaded (another instance, a command, a
    correction): the save wrote nothing, and the change is made again from a fresh read."""


__all__ = ["Forbidden", "NeedsPerson", "NotFound", "Stale"]
