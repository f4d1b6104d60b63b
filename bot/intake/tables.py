"""The intake's tables (created by revision 0005_intake in bot/store/alembic/versions/)."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from bot.store import schema

# On the store's metadata, so the foreign keys to conversations resolve.
metadata = schema.metadata

# One row per imported review. The key is the order and its sub-order (a buyer reviews each
# item of an order): importing the same export twice, or two exports that overlap, finds the
# row and opens nothing. Several reviews of one buyer's order share its open conversation.
reviews = Table(
    "intake_reviews", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("shop", String(100), nullable=False),
    Column("order_id", String(100), nullable=False),
    Column("sub_order_id", String(100), nullable=False),  # "" when the export has none
    Column("conversation_id", String(36), ForeignKey("conversations.id"), nullable=False, index=True),
    Column("source", String(10), nullable=False),  # file | top
    Column("rating", String(4), nullable=False),  # 中评 | 差评
    Column("platform", String(10), nullable=False),  # taobao | tmall
    Column("review_time", DateTime(timezone=True)),
    Column("review_text", Text),  # masked; emptied by the purge
    # The triage's reading of the review text (the understanding), kept for the queue.
    Column("intent", String(30)),
    Column("cause", String(30)),
    Column("emotion", String(10)),
    Column("explained_at", DateTime(timezone=True)),  # taobao.traderate.explain.add done
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("shop", "order_id", "sub_order_id", name="uq_review_order"),
)

# Every contact attempt of a case (a call or message that reached nobody, a callback, a
# contact): the rule of at most three is counted over these, across the whole case.
attempts = Table(
    "contact_attempts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("conversation_id", String(36), ForeignKey("conversations.id"), nullable=False, index=True),
    Column("kind", String(20), nullable=False),  # contact | no_answer | callback
    Column("agent", String(100)),
    Column("at", DateTime(timezone=True), nullable=False),
)

# Where a scheduled `csbot import --top --since last` carries on.
cursors = Table(
    "intake_cursors", metadata,
    Column("source", String(20), primary_key=True),
    Column("shop", String(100), primary_key=True),
    Column("until", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
