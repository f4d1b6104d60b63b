"""Remedy options from ``dialogs/remedies.yaml``, matched to the cause and the buyer's choice."""

from __future__ import annotations

import re
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any

from bot.models import RemedyOption


@dataclass(frozen=True, slots=True)
class Remedy:
    id: str
    label: str
    text: str
    short: str
    next: str | None  # what happens next once it is agreed (remedies.yaml `next`)
    again: str | None  # why the new one won't have the same problem (remedies.yaml `again`)
    choose: tuple[re.Pattern[str], ...]  # one pattern per cue
    intents: tuple[str, ...]

    def cue_length(self, text: str, turned_down: re.Pattern[str] | None = None) -> int:
        """The length of the longest cue found in ``text`` and not turned down by the words
        just before it (0: none). Each cue is searched on its own: in one alternation "换"
        would be found first in "换新的", hiding "新的"."""
        return max((len(m.group(0)) for c in self.choose for m in c.finditer(text)
                    if turned_down is None or turned_down.search(text, 0, m.start()) is None),
                   default=0)


class RemedyBook:
    """The shop's remedies and which ones fit which cause."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.remedies = {
            rid: Remedy(
                rid, r["label"], r["text"], r["short"], r.get("next"), r.get("again"),
                tuple(re.compile(c) for c in r.get("choose") or ()),
                tuple(r.get("intents", [])),
            )
            for rid, r in spec["remedies"].items()
        }
        self.by_cause: dict[str, list[str]] = spec["by_cause"]
        self._options: dict[str | None, list[RemedyOption]] = {}

    def for_cause(self, cause: str | None) -> list[Remedy]:
        """The options for a cause, most fitting first."""
        return [self.remedies[r] for r in self.by_cause.get(cause or "unknown", self.by_cause["unknown"])]

    def options(self, cause: str | None) -> list[RemedyOption]:
        """The options of a cause as the API shows them (built once per cause)."""
        if cause not in self._options:
            self._options[cause] = [RemedyOption(id=r.id, label=r.label, text=r.text)
                                    for r in self.for_cause(cause)]
        return list(self._options[cause])

    def options_text(self, cause: str | None, without: AbstractSet[str] | None = None) -> str:
        """The options as one spoken sentence part: "A；或者B；或者C" (the first three; with
        ``without``, the others than those, at most two: the alternatives to a request)."""
        if without is None:
            return "；或者".join(r.text for r in self.for_cause(cause)[:3])
        return "；或者".join([r.text for r in self.for_cause(cause) if r.id not in without][:2])

    def turned_down(self, text: str, down: re.Pattern[str]) -> list[str]:
        """The options a reply names only to turn them down ("我不要补发了，直接退款吧": the reship)."""
        return [r.id for r in self.remedies.values() if r.cue_length(text) and not r.cue_length(text, down)]

    def offers(self, cause: str | None, rid: str) -> bool:
        """Whether the cause's options (``by_cause``) include the remedy ``rid``."""
        return any(r.id == rid for r in self.for_cause(cause))

    def by_intent(self, intent: str, cause: str | None) -> str | None:
        """The option a request intent asks for: the cause's first option it picks, else any
        remedy it picks (the buyer's request as asked), None when none does."""
        return next((r.id for r in self.for_cause(cause) + list(self.remedies.values())
                     if intent in r.intents), None)

    def named(self, text: str, turned_down: re.Pattern[str] | None = None,
              first: list[Remedy] | None = None) -> str | None:
        """The option a reply names by one of its cues, the longest cue winning (``first``'s
        options before the others on a tie), unless the words just before the cue turn it
        down ("不用退了，换一个吧" names the exchange); None when it names none."""
        order = first or []
        seen = {r.id for r in order}
        best: tuple[int, str] | None = None
        for r in order + [r for r in self.remedies.values() if r.id not in seen]:
            n = r.cue_length(text, turned_down)
            if n and (best is None or n > best[0]):
                best = (n, r.id)
        return best[1] if best else None

    def match(self, text: str, intent: str, cause: str | None,
              turned_down: re.Pattern[str] | None = None) -> str:
        """Which option a buyer's reply chooses: the longest cue in the text not turned down
        (the cause's options first, then any remedy: the buyer's choice is named as the buyer
        said it, 退货退款 is not 全额退款), else the intent, else the first."""
        options = self.for_cause(cause)
        best = self.named(text, turned_down, options)
        if best is not None:
            return best
        for r in options:
            if intent in r.intents:
                return r.id
        return options[0].id
