"""The intake (bot/intake): imported reviews, contact attempts, the TOP import's cursor.

Revision 0005_intake, after 0004_corrections. Frozen: csbot's migration step 5
(schema_version row 5).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_intake"
down_revision = "0004_corrections"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # IF NOT EXISTS: for a while csbot numbered these tables step 4 (before the corrections
    # took that number); bot/store/migrations.py stamps such a database 0003, so 0004 adds
    # the corrections and this finds its tables already there.
    op.create_table(
        "intake_reviews",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("shop", sa.String(100), nullable=False),
        sa.Column("order_id", sa.String(100), nullable=False),
        sa.Column("sub_order_id", sa.String(100), nullable=False),
        sa.Column("conversation_id", sa.String(36), sa.ForeignKey("conversations.id"), nullable=False),
        sa.Column("source", sa.String(10), nullable=False),
        sa.Column("rating", sa.String(4), nullable=False),
        sa.Column("platform", sa.String(10), nullable=False),
        sa.Column("review_time", sa.DateTime(timezone=True)),
        sa.Column("review_text", sa.Text()),
        sa.Column("intent", sa.String(30)),
        sa.Column("cause", sa.String(30)),
        sa.Column("emotion", sa.String(10)),
        sa.Column("explained_at", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("shop", "order_id", "sub_order_id", name="uq_review_order"),
        if_not_exists=True,
    )
    op.create_index("ix_intake_reviews_conversation_id", "intake_reviews", ["conversation_id"],
                    if_not_exists=True)
    op.create_table(
        "contact_attempts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("conversation_id", sa.String(36), sa.ForeignKey("conversations.id"), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("agent", sa.String(100)),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        if_not_exists=True,
    )
    op.create_index("ix_contact_attempts_conversation_id", "contact_attempts", ["conversation_id"],
                    if_not_exists=True)
    op.create_table(
        "intake_cursors",
        sa.Column("source", sa.String(20), primary_key=True),
        sa.Column("shop", sa.String(100), primary_key=True),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        if_not_exists=True,
    )
