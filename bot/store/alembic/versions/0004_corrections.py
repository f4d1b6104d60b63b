"""Agents' corrections of the understanding and the stage, kept as future corpus lines.

Revision 0004_corrections, after 0003_case_key_index. Frozen: csbot's migration step 4
(schema_version row 4).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_corrections"
down_revision = "0003_case_key_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "corrections",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("conversation_id", sa.String(36), sa.ForeignKey("conversations.id"), nullable=False),
        sa.Column("shop", sa.String(100), nullable=False),
        sa.Column("turn", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("intent", sa.String(40)),
        sa.Column("cause", sa.String(40)),
        sa.Column("emotion", sa.String(20)),
        sa.Column("stage", sa.String(40)),
        sa.Column("agent", sa.String(100)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_corrections_conversation_id", "corrections", ["conversation_id"])
    op.create_index("ix_corrections_shop", "corrections", ["shop"])
    op.create_index("ix_corrections_created_at", "corrections", ["created_at"])
