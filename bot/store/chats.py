"""Chat state for the channels: platform events seen (dedupe, used signatures) and each
agent's open case in a chat."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection, select, update
from sqlalchemy.exc import IntegrityError

from bot.store import schema
from bot.store.base import Database

_E, _H = schema.channel_events.c, schema.channel_chats.c


class ChatStore(Database):
    async def first_time(self, channel: str, message_id: str) -> bool:
        """Record a platform event id; False if it was seen before (a retry)."""

        def job(conn: Connection) -> bool:
            seen = conn.execute(select(_E.message_id).where(
                _E.channel == channel, _E.message_id == message_id)).first()
            if seen:
                return False
            conn.execute(schema.channel_events.insert().values(
                channel=channel, message_id=message_id, created_at=datetime.now(UTC)))
            return True

        try:
            return await self.write(job)
        except IntegrityError:  # another instance recorded it at the same moment
            return False

    async def seen_event(self, channel: str, message_id: str) -> bool:
        """Whether ``first_time`` recorded this event id."""
        async with self.db.connect() as conn:
            return (await conn.execute(select(_E.message_id).where(
                _E.channel == channel, _E.message_id == message_id))).first() is not None

    async def claim(self, channel: str, key: str, owner: str) -> bool:
        """Make ``key`` (a used signature) ``owner``'s (the one message it signed): True if it
        was nobody's or already ``owner``'s (a platform's retry), False if another's (a replay)."""
        mine = f"{key}>{owner}"[:200]

        def job(conn: Connection) -> bool:
            seen = set(conn.execute(select(_E.message_id).where(
                _E.channel == channel, _E.message_id.in_([key, mine]))).scalars())
            if mine in seen or key in seen:
                return mine in seen
            now = datetime.now(UTC)
            conn.execute(schema.channel_events.insert(), [
                {"channel": channel, "message_id": key, "created_at": now},
                {"channel": channel, "message_id": mine, "created_at": now}])
            return True

        try:
            return await self.write(job)
        except IntegrityError:  # another instance claimed it at the same moment: whose?
            return await self.seen_event(channel, mine)

    async def forget_event(self, channel: str, message_id: str) -> None:
        """Undo ``first_time``: the event failed, and the platform's retry must be handled."""

        def job(conn: Connection) -> None:
            conn.execute(schema.channel_events.delete().where(
                _E.channel == channel, _E.message_id == message_id))

        await self.write(job)

    async def active_case(self, channel: str, chat_id: str, agent_id: str) -> str | None:
        """The case an agent is working on in a chat."""
        async with self.db.connect() as conn:
            return (await conn.execute(select(_H.conversation_id).where(
                _H.channel == channel, _H.chat_id == chat_id, _H.agent_id == agent_id))).scalar()

    async def set_active_case(self, channel: str, chat_id: str, agent_id: str, conv_id: str) -> None:
        """Make ``conv_id`` the agent's case in this chat (one open case per agent and chat)."""

        def job(conn: Connection) -> None:
            now = datetime.now(UTC)
            res = conn.execute(update(schema.channel_chats).where(
                _H.channel == channel, _H.chat_id == chat_id, _H.agent_id == agent_id).values(
                conversation_id=conv_id, updated_at=now))
            if not res.rowcount:
                conn.execute(schema.channel_chats.insert().values(
                    channel=channel, chat_id=chat_id, agent_id=agent_id, conversation_id=conv_id,
                    updated_at=now))

        await self.write(job)


__all__ = ["ChatStore"]
