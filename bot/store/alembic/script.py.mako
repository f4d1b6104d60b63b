"""${message}

Revision ${up_revision}, after ${down_revision | comma,n}. Frozen once released: literal
column definitions only, never an import of bot/store/schema.py or bot/intake/tables.py.
Forward only (csbot never downgrades): undo a change with a new revision.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
${imports if imports else ""}
revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = ${repr(branch_labels)}
depends_on = ${repr(depends_on)}


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}
