"""A repeated message id is found through a partial unique index: turns without a message
id (most of them) no longer enter it.

Revision 0006_turn_message_index, after 0005_intake. The constraint `uq_turn_message`
(conversation_id, message_id) became a unique index of the same name over the rows that
have a message id. Nothing changes in what is unique (NULLs were never equal to each other),
but each turn without an id inserted one more entry, on a leaf page of its own (turns of
many conversations interleave), that every commit wrote to the WAL and synced
(docs/performance.md). SQLite drops a table constraint only by copying the table (Alembic's
batch mode); PostgreSQL alters it in place.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_turn_message_index"
down_revision = "0005_intake"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("turns") as batch:
        batch.drop_constraint("uq_turn_message", type_="unique")
    has_id = sa.column("message_id").isnot(None)
    op.create_index("uq_turn_message", "turns", ["conversation_id", "message_id"], unique=True,
                    sqlite_where=has_id, postgresql_where=has_id)
