"""The first release: conversations (without `flagged`), turns, tokens, and schema_version.

Revision 0001_first_release, the first. Frozen: literal column definitions, the same
tables and indexes csbot's migration step 1 created (schema_version row 1).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_first_release"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # How csbot knew a database's version before Alembic (see bot/store/migrations.py).
    op.create_table(
        "schema_version",
        sa.Column("version", sa.Integer(), primary_key=True),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "conversations",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("shop", sa.String(100), nullable=False),
        sa.Column("buyer_key", sa.String(150), nullable=False),
        sa.Column("order_key", sa.String(100), nullable=False),
        sa.Column("agent", sa.String(100)),
        sa.Column("stage", sa.String(40), nullable=False),
        sa.Column("outcome", sa.String(40)),
        sa.Column("is_open", sa.Boolean(), nullable=False),
        sa.Column("turn", sa.Integer(), nullable=False),
        sa.Column("script_version", sa.String(80), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "tokens",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("role", sa.String(10), nullable=False),
        sa.Column("shop", sa.String(100), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "turns",
        sa.Column("conversation_id", sa.String(36), sa.ForeignKey("conversations.id"), primary_key=True),
        sa.Column("turn", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("role", sa.String(10), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("message_id", sa.String(200)),
        sa.Column("stage", sa.String(40), nullable=False),
        sa.Column("suggestion", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("conversation_id", "message_id", name="uq_turn_message"),
    )
    op.create_index("ix_conversations_shop", "conversations", ["shop"])
    op.create_index("ix_conversations_stage", "conversations", ["stage"])
    op.create_index("ix_conversations_created_at", "conversations", ["created_at"])
    # One open conversation per shop + buyer + order: platforms and agents reuse it.
    op.create_index("uq_open_case", "conversations", ["shop", "buyer_key", "order_key"], unique=True,
                    sqlite_where=sa.text("is_open"), postgresql_where=sa.text("is_open"))
