"""Writing training scenarios as dialogs: ``Dialog(...).say("…").expect_buyer_contains("…")``.

Used by the tests, and handy for a lead checking a new persona from a Python shell. Each
``expect_*`` raises AssertionError with the conversation so far when it does not hold.
"""

from __future__ import annotations

from pathlib import Path

from bot.engine import Engine
from bot.paths import dialogs_dir
from bot.training.grader import Scorecard
from bot.training.persona import find_persona
from bot.training.rubric import load_rubric
from bot.training.session import Exchange, Session


class Dialog:
    """A scripted trainee talking to one persona, one line at a time."""

    def __init__(self, persona: str, seed: int = 1, *, engine: Engine | None = None,
                 dialogs: Path | None = None) -> None:
        folder = dialogs_dir(dialogs)
        self.engine = engine or Engine.load(folder)
        self.session = Session(self.engine, find_persona(folder, persona), load_rubric(folder),
                               seed)
        self.last: Exchange | None = None

    # -- acting ---------------------------------------------------------------------------

    def say(self, text: str) -> Dialog:
        """The trainee sends one reply."""
        self.last = self.session.say(text)
        return self

    def finish(self, ending: str = "quit") -> Scorecard:
        """End the session and return its scorecard."""
        return self.session.finish(ending)

    # -- checking ---------------------------------------------------------------------------

    def _exchange(self) -> Exchange:
        if self.last is None:
            raise AssertionError("nothing said yet")
        return self.last

    def _fail(self, what: str) -> AssertionError:
        lines = [f"{e['type']}: {e.get('text', '')}" for e in self.session.events
                 if e["type"] in ("agent", "buyer")]
        return AssertionError(what + "\n  " + "\n  ".join(lines))

    def expect_buyer_contains(self, *fragments: str) -> Dialog:
        """The buyer's last line contains every fragment."""
        text = self._exchange().reply.text
        missing = [f for f in fragments if f not in text]
        if missing:
            raise self._fail(f"buyer said {text!r}, missing {missing}")
        return self

    def expect_buyer(self, *, intent: str | None = None, event: str | None = None,
                     band: str | None = None) -> Dialog:
        """The buyer's last line has this intent / agenda event / mood band."""
        r = self._exchange().reply
        for name, want, got in (("intent", intent, r.intent), ("event", event, r.event),
                                ("band", band, r.band)):
            if want is not None and want != got:
                raise self._fail(f"buyer {name} is {got!r}, expected {want!r}")
        return self

    def expect_stage(self, stage: str) -> Dialog:
        """The conversation is in ``stage`` after the buyer's answer."""
        got = self.session.conv.stage
        if got != stage:
            raise self._fail(f"stage is {got!r}, expected {stage!r}")
        return self

    def expect_acts(self, *acts: str) -> Dialog:
        """The trainee's last reply was read with at least these acts."""
        got = self._exchange().facts.acts
        missing = [a for a in acts if a not in got]
        if missing:
            raise self._fail(f"acts {got}, missing {missing}")
        return self

    def expect_violation(self, code: str) -> Dialog:
        """The trainee's last reply counts as violation ``code``."""
        got = [v.code for v in self._exchange().violations]
        if code not in got:
            raise self._fail(f"violations {got}, expected {code!r}")
        return self

    def expect_no_violation(self) -> Dialog:
        """The trainee's last reply has no violation."""
        got = [v.code for v in self._exchange().violations]
        if got:
            raise self._fail(f"unexpected violations {got}")
        return self

    def expect_tip_contains(self, fragment: str) -> Dialog:
        """The coaching tip after the last reply contains ``fragment``."""
        tip = self._exchange().tip
        if fragment not in tip:
            raise self._fail(f"tip {tip!r} lacks {fragment!r}")
        return self

    def expect_over(self, ending: str | None = None) -> Dialog:
        """The buyer has left (with this ending, if given)."""
        if not self.session.done:
            raise self._fail("the session is still going")
        if ending is not None and self.session.ending != ending:
            raise self._fail(f"ended {self.session.ending!r}, expected {ending!r}")
        return self

    def expect_going(self) -> Dialog:
        """The buyer is still in the chat."""
        if self.session.done:
            raise self._fail(f"the session ended ({self.session.ending})")
        return self
