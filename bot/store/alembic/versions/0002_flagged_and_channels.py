"""A flag for conversations a script change left on a vanished stage; the channels' tables.

Revision 0002_flagged_and_channels, after 0001_first_release. Frozen: csbot's migration
step 2 (schema_version row 2).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_flagged_and_channels"
down_revision = "0001_first_release"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("conversations", sa.Column("flagged", sa.Boolean(), nullable=False,
                                             server_default=sa.text("FALSE")))
    # Dedupe of platform events, and the open case per chat and agent.
    op.create_table(
        "channel_events",
        sa.Column("channel", sa.String(20), primary_key=True),
        sa.Column("message_id", sa.String(200), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "channel_chats",
        sa.Column("channel", sa.String(20), primary_key=True),
        sa.Column("chat_id", sa.String(200), primary_key=True),
        sa.Column("agent_id", sa.String(200), primary_key=True),
        sa.Column("conversation_id", sa.String(36), nullable=False),
        sa.Column("tone", sa.String(4), nullable=False, server_default=sa.text("'正式'")),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
