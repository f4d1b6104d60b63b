"""One turn: lock → load → ``Engine.feed`` → mask → save → publish.

Every message of every channel (the HTTP API, the platforms' hooks, the console) is one
call to ``TurnService.turn``, over two small interfaces: a repository that loads and saves
conversations (bot/store/conversations.py, SQLite or PostgreSQL) and a lock per
conversation (bot/store/locks.py). The shape is Rasa's MessageProcessor over its tracker
store and lock store. The changes a person makes that are not turns (open, close, resume,
tone, escalate) take the same lock, load and save.

- A turn is committed before it is answered: a crash loses no acknowledged turn.
- A turn starts from the conversation as this process's last turn saved it, without reading
  it again; the save writes only if the row is still that one, and otherwise the turn is
  made again from the row as it is (compare-and-set, bot/store/conversations.py). A change
  made elsewhere in between (another instance, a command, a correction) is never lost.
- The Suggestion published to listeners is the one in hand (as stored: masked), inside the
  lock, so a conversation's listeners get its turns in order.
- A long message is understood and masked in the service's turn thread, in one hand-off: no
  input holds up the event loop. A short one costs less than the hand-off to a thread and
  back (bench/service.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import TYPE_CHECKING, Generic, NamedTuple, TypeVar
from zoneinfo import ZoneInfo

from bot.engine import ConversationClosed, Engine
from bot.models import Case, Conversation, Finding, Role, Suggestion, Tone
from bot.store.conversations import CaseKey, Stored, TurnRecord, TurnRepository
from bot.store.errors import Forbidden, NeedsPerson
from bot.store.locks import Locks
from bot.store.mask import mask, mask_case, mask_edits, masked_suggestion
from bot.store.statement import json_bytes

if TYPE_CHECKING:
    from bot.store.db import Store

R = TypeVar("R")
Subscriber = Callable[[str, Suggestion], Awaitable[None]]
# Messages up to this many characters are decided on the event loop (about a millisecond at
# most: 0.7 ms for 256 characters, 20 ms for 2,000); longer ones in the turn thread.
INLINE_CHARS = 256


# The records made for each turn are NamedTuples: immutable like a frozen dataclass, built
# in a third of its time (a frozen dataclass sets each field through object.__setattr__;
# four of them cost about 6 µs a turn).
class Change(NamedTuple, Generic[R]):
    """What a change computed from a loaded conversation gives: its caller's result and, to
    be written, the new conversation (None: nothing to write), its open flag and the turn."""

    result: R
    conv: Conversation | None = None
    is_open: bool = True
    turn: TurnRecord | None = None


class TurnResult(NamedTuple):
    """What a turn gives its caller: the answer (not masked). Not the conversation: the
    store keeps that one decoded for the next turn, which changes it in place."""

    suggestion: Suggestion
    duplicate: bool = False  # a repeated message id: the answer stored for it (masked)
    # The answer's JSON (UTF-8) when it is the one stored (nothing in the message was
    # masked): encoded once, for the database and the reply.
    json: bytes | None = None


def shop_clock(timezone: str = "Asia/Shanghai") -> Callable[[], datetime]:
    """The shop's wall-clock time (naive, in the shop's time zone): what the engine reads a
    turn's time as (quiet hours, the 30 days to change a review, "今晚八点")."""
    tz = ZoneInfo(timezone)
    return lambda: datetime.now(tz).replace(tzinfo=None)


class TurnService:
    def __init__(self, engine: Engine, repo: TurnRepository, locks: Locks,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.engine = engine
        self.repo = repo
        self.locks = locks
        # A message is taken as sent when it arrives (unless its channel says when): the
        # time the flow reads it at, in the shop's time zone.
        self.clock = clock or shop_clock()
        self.subscribers: list[Subscriber] = []
        # Long turns and lint run here, off the event loop, one at a time (the engine is shared).
        self.cpu = ThreadPoolExecutor(max_workers=1, thread_name_prefix="csbot-turns")

    @classmethod
    def over(cls, store: Store, engine: Engine, clock: Callable[[], datetime] | None = None) -> TurnService:
        return cls(engine, store, store.locks, clock)

    def shutdown(self) -> None:
        self.cpu.shutdown(wait=True)

    def subscribe(self, callback: Subscriber) -> None:
        """Call ``callback(conversation_id, suggestion)`` after each turn this process commits."""
        self.subscribers.append(callback)

    # -- the turn ------------------------------------------------------------------------

    async def turn(
        self, conv_id: str, role: Role, text: str, *, message_id: str | None = None,
        shop: str | None = None, at: datetime | None = None,
    ) -> TurnResult:
        """Apply one message. Raises NotFound, Forbidden or NeedsPerson; a repeated message
        id gives its stored answer. A closed case is answered too (a goodbye keeps it
        closed, a new problem reopens it). ``at``: when the message was sent (shop time;
        default: now by the service's clock)."""
        at = at if at is not None else self.clock()
        async def feed(stored: Stored) -> Change[TurnResult]:
            if stored.answered is not None:
                return Change(TurnResult(stored.answered, duplicate=True))
            conv = await self._on_script(stored.conversation)
            if len(text) <= INLINE_CHARS:
                conv, sug, record = self._decide(conv, role, text, message_id, at)
            else:
                conv, sug, record = await asyncio.get_running_loop().run_in_executor(
                    self.cpu, self._decide, conv, role, text, message_id, at)
            json = record.suggestion_json if record.suggestion is sug else None
            return Change(TurnResult(sug, json=json), conv, self._is_open(conv), record)

        # From the conversation kept by the last save, unread: a turn refuses nothing on what
        # the row could have changed meanwhile (the shop never changes; the script version
        # is this process's), and the save finds out whether the row is still that one.
        return await self._change(conv_id, shop, feed, message_id=message_id, kept=True)

    async def _change(self, conv_id: str, shop: str | None, apply: Callable[[Stored], Awaitable[Change[R]]],
                      *, message_id: str | None = None, kept: bool = False) -> R:
        """Lock → load → apply → save → publish. A save that finds the row changed since the
        load writes nothing: the change is made again from a fresh read."""
        async with self.locks(conv_id):
            while True:
                stored = await self.repo.load(conv_id, message_id, kept=kept)
                _check_shop(stored, conv_id, shop)  # the shop never changes: no fresh read needed
                change = await apply(stored)
                if change.conv is None:
                    return change.result
                if await self.repo.save(change.conv, is_open=change.is_open, loaded=stored, turn=change.turn):
                    if change.turn is not None:  # the Suggestion in hand, in the turns' order
                        await self._publish(conv_id, change.turn.suggestion)
                    return change.result
                kept = False

    def _decide(self, conv: Conversation, role: Role, text: str, message_id: str | None,
                at: datetime | None) -> tuple[Conversation, Suggestion, TurnRecord]:
        """The engine's answer and the turn as it will be stored (masked)."""
        conv, sug = self.engine.feed(conv, role, text, at=at, owned=True)
        return conv, sug, _masked_turn(conv, sug, role, text, message_id)

    async def _publish(self, conv_id: str, sug: Suggestion) -> None:
        for callback in self.subscribers:
            await callback(conv_id, sug)

    async def _on_script(self, conv: Conversation) -> Conversation:
        """The conversation on the script loaded now (the shop edited dialogs/ and
        restarted); one whose stage is gone is flagged for a person."""
        if conv.script_version == self.engine.script.version:
            return conv
        stage = self.engine.script.renamed.get(conv.stage, conv.stage)
        if stage not in self.engine.script.stages:
            await self.repo.flag(conv.id)
            raise NeedsPerson(conv.stage)
        return conv.model_copy(update={"stage": stage, "script_version": self.engine.script.version})

    def _opening(self, conv: Conversation) -> Suggestion:
        """The opening Suggestion of a case with no turn yet, from its stored state (an
        imported case's cause seeded from its review, or corrected since); a case stored on
        another script version starts afresh as before."""
        if conv.script_version == self.engine.script.version and conv.stage in self.engine.script.stages:
            return self.engine.current(conv)
        return self.engine.start(conv.case, conversation_id=conv.id, tone=conv.tone)[1]

    def _is_open(self, conv: Conversation) -> bool:
        return conv.stage != self.engine.script.final

    # -- what a person does that is not a turn --------------------------------------------

    async def create(
        self, case: Case, tone: Tone = "正式", agent: str | None = None,
    ) -> tuple[Conversation, Suggestion, bool]:
        """Open a conversation for the case, or return the open one for the same shop +
        buyer + order; and whether it was opened now."""
        key = CaseKey.of(case)
        case = mask_case(case)  # nothing a buyer typed is stored in the clear

        def start(conv_id: str) -> tuple[Conversation, Suggestion]:
            return self.engine.start(case, conversation_id=conv_id, tone=tone)

        conv, sug, created = await self.repo.open_case(key, start, agent)
        if sug is None:  # no turn yet: its opening Suggestion (with the cause seeded from its review)
            sug = self._opening(conv)
        return conv, sug, created

    async def close_case(self, conv_id: str, outcome: str, shop: str | None = None) -> Conversation:
        """Close a conversation with an outcome (once: the script may have closed it already)."""
        async def close(stored: Stored) -> Change[Conversation]:
            if not stored.is_open and stored.conversation.outcome is not None:
                raise ConversationClosed("这个会话已经登记过结果")
            conv = self.engine.close(stored.conversation, outcome)
            return Change(conv, conv, False)

        return await self._change(conv_id, shop, close)

    async def resume(self, conv_id: str, shop: str | None = None) -> Suggestion:
        """A person resumes a held case (a callback is a new contact attempt, at most three);
        a closed case contacted again opens."""
        async def resume(stored: Stored) -> Change[Suggestion]:
            conv, sug = self.engine.resume(stored.conversation, self.clock())
            return Change(sug, conv, self._is_open(conv))

        return await self._change(conv_id, shop, resume)

    async def set_tone(self, conv_id: str, tone: Tone, shop: str | None = None) -> Suggestion:
        """Change the tone of a conversation's suggestions; the Suggestion in the new tone."""
        async def set_tone(stored: Stored) -> Change[Conversation]:
            conv = (await self._on_script(stored.conversation)).model_copy(update={"tone": tone})
            return Change(conv, conv, stored.is_open)

        conv = await self._change(conv_id, shop, set_tone)
        return self.engine.current(conv, self.clock())  # from the conversation in hand: no second read

    async def escalate(self, conv_id: str, shop: str | None = None) -> tuple[Conversation, Suggestion]:
        """Mark that a supervisor was notified (the case holds in the escalated stage); not a turn."""
        async def escalate(stored: Stored) -> Change[tuple[Conversation, Suggestion]]:
            if not stored.is_open:
                raise ConversationClosed("这个会话已经结束，不能再升级")
            conv, sug = self.engine.escalate(await self._on_script(stored.conversation))
            return Change((conv, sug), conv, True)

        return await self._change(conv_id, shop, escalate)

    async def complaint_filed(self, conv_id: str, shop: str | None = None) -> tuple[Conversation, Suggestion]:
        """The agent filed the malicious review's complaint with the platform; not a turn."""
        async def filed(stored: Stored) -> Change[tuple[Conversation, Suggestion]]:
            conv, sug = self.engine.complaint_filed(await self._on_script(stored.conversation))
            return Change((conv, sug), conv, stored.is_open)

        return await self._change(conv_id, shop, filed)

    async def current(self, conv_id: str, shop: str | None = None) -> Suggestion:
        """The Suggestion for the conversation as it stands now (no turn, nothing written)."""
        stored = await self.repo.load(conv_id)
        _check_shop(stored, conv_id, shop)
        return await self.current_of(stored.conversation)

    async def current_of(self, conv: Conversation) -> Suggestion:
        """The Suggestion for a conversation the caller has already read."""
        return self.engine.current(await self._on_script(conv), self.clock())

    async def last_suggestion(self, conv_id: str) -> Suggestion:
        """The newest Suggestion of a conversation (its opening one before any turn)."""
        sug = await self.repo.last_suggestion(conv_id)
        if sug is not None:
            return sug
        conv = (await self.repo.load(conv_id)).conversation
        return self._opening(conv)

    async def lint(self, text: str, context: list[str], stage: str | None, *, public: bool = False,
                   buyer_name: str | None = None) -> list[Finding]:
        """The guard's findings on a draft (CPU work: in the turn thread); on a ``public`` one
        (the shop's reply under the review) the buyer's full name is found too."""
        u = self.engine.understand
        if public:
            return await asyncio.get_running_loop().run_in_executor(
                self.cpu, u.public_findings, text, buyer_name, context, stage)
        return await asyncio.get_running_loop().run_in_executor(self.cpu, u.findings, text, context, stage)


def _check_shop(stored: Stored, conv_id: str, shop: str | None) -> None:
    if shop is not None and stored.shop != shop:
        raise Forbidden(conv_id)


def _masked_turn(conv: Conversation, sug: Suggestion, role: str, text: str,
                 message_id: str | None) -> TurnRecord:
    """The turn as stored, with no raw personal data: the text, the Suggestion's quotes of
    it and the guard's memory (kept with the state) masked."""
    masked, steps = mask_edits(text)
    conv.context.agent_recent = [_masked_line(t) for t in conv.context.agent_recent]
    stored = sug if masked == text else masked_suggestion(sug, masked, steps)
    return TurnRecord(conv.id, conv.turn, role, masked, message_id, conv.stage, stored, json_bytes(stored))


# Lines of the guard's memory that masking leaves as they are: a line comes back in the next
# turns' memory (already masked), and masking it again each turn cost more than its lookup.
# Holds only lines the database keeps as they are anyway (nothing masking would change); bounded.
_CLEAN: set[str] = set()
_CLEAN_MAX = 4096


def _masked_line(text: str) -> str:
    if text in _CLEAN:
        return text
    masked = mask(text)
    if masked == text:
        if len(_CLEAN) >= _CLEAN_MAX:
            _CLEAN.clear()
        _CLEAN.add(text)
    return masked


__all__ = ["INLINE_CHARS", "TurnResult", "TurnService"]
