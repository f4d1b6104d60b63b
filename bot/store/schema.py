"""The database schema (latest version), shared by SQLite and PostgreSQL.

What the code reads and writes. A database gets it from the frozen revisions in
bot/store/alembic/versions/: a change here needs a new revision (`csbot db revision`),
and tests/test_migrations.py fails until the two agree."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
)

metadata = MetaData()

conversations = Table(
    "conversations", metadata,
    Column("id", String(36), primary_key=True),
    Column("shop", String(100), nullable=False, index=True),
    Column("buyer_key", String(150), nullable=False),
    Column("order_key", String(100), nullable=False),
    Column("agent", String(100)),
    Column("stage", String(40), nullable=False, index=True),
    Column("outcome", String(40)),
    Column("is_open", Boolean, nullable=False),
    Column("turn", Integer, nullable=False),
    Column("script_version", String(80), nullable=False),
    Column("state", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, index=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("flagged", Boolean, nullable=False, server_default=text("false")),
)
# One open conversation per shop + buyer + order: platforms and agents reuse it.
Index("uq_open_case", conversations.c.shop, conversations.c.buyer_key, conversations.c.order_key,
      unique=True, sqlite_where=conversations.c.is_open, postgresql_where=conversations.c.is_open)

# The lookup by case key: the partial unique index above is not used by SQLite for it
# (it cannot prove "is_open = 1" implies "is_open"), and one shop holds many conversations.
Index("ix_case_key", conversations.c.shop, conversations.c.buyer_key, conversations.c.order_key)

turns = Table(
    "turns", metadata,
    Column("conversation_id", String(36), ForeignKey("conversations.id"), primary_key=True),
    Column("turn", Integer, primary_key=True),
    Column("role", String(10), nullable=False),
    Column("text", Text, nullable=False),
    Column("message_id", String(200)),
    Column("stage", String(40), nullable=False),
    Column("suggestion", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
# A repeated message id gives the answer stored for it. Partial: most turns have no id, and
# an entry for each of them was one more page written at every commit (revision 0006).
Index("uq_turn_message", turns.c.conversation_id, turns.c.message_id, unique=True,
      sqlite_where=turns.c.message_id.isnot(None), postgresql_where=turns.c.message_id.isnot(None))

tokens = Table(
    "tokens", metadata,
    Column("name", String(100), primary_key=True),
    Column("role", String(10), nullable=False),
    Column("shop", String(100), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
)

channel_events = Table(
    "channel_events", metadata,
    Column("channel", String(20), primary_key=True),
    Column("message_id", String(200), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

channel_chats = Table(
    "channel_chats", metadata,
    Column("channel", String(20), primary_key=True),
    Column("chat_id", String(200), primary_key=True),
    Column("agent_id", String(200), primary_key=True),
    Column("conversation_id", String(36), nullable=False),
    Column("tone", String(4), nullable=False, server_default=text("'正式'")),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

schema_version = Table(
    "schema_version", metadata,
    Column("version", Integer, primary_key=True),
    Column("applied_at", DateTime(timezone=True), nullable=False),
)

# An agent's correction of how csbot read a buyer message, or of the stage (issue 13.6):
# kept with the (masked) text so that `csbot corrections export` can give them back as
# corpus lines.
corrections = Table(
    "corrections", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("conversation_id", String(36), ForeignKey("conversations.id"), nullable=False, index=True),
    Column("shop", String(100), nullable=False, index=True),
    Column("turn", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("intent", String(40)),
    Column("cause", String(40)),
    Column("emotion", String(20)),
    Column("stage", String(40)),
    Column("agent", String(100)),
    Column("created_at", DateTime(timezone=True), nullable=False, index=True),
)
