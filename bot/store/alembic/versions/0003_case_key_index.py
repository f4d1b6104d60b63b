"""The case-key index: opening a case looked it up through the shop index alone.

Revision 0003_case_key_index, after 0002_flagged_and_channels. Frozen: csbot's migration
step 3 (schema_version row 3).
"""

from __future__ import annotations

from alembic import op

revision = "0003_case_key_index"
down_revision = "0002_flagged_and_channels"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # IF NOT EXISTS as step 3 had it: csbot's step 1 of later releases made this index too,
    # so a database can carry it at version 1 or 2.
    op.create_index("ix_case_key", "conversations", ["shop", "buyer_key", "order_key"], if_not_exists=True)
