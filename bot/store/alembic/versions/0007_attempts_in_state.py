"""The contact attempts of a case are one count, in the case's state.

Revision 0007_attempts_in_state, after 0006_turn_message_index. The queue counted the rows of
contact_attempts and the script its own counter (the state's context.attempts), and took the
larger once the case had messages: the two could disagree (two unanswered calls, then the chat
that reached the buyer, read as 2 and 1) and the limit of three was not the same in both places.
The state's counter is now the one count; the rows stay as the log of who tried and when. This
revision carries each case's count as the queue read it into its state, so no case gains or
loses an attempt: before the first message the counter is one more than the attempts made (the
attempt under way is the conversation itself), afterwards it is the attempts made. Data only;
written out here, never imported from the code, as every revision is.
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0007_attempts_in_state"
down_revision = "0006_turn_message_index"
branch_labels = None
depends_on = None

_conversations = sa.table("conversations", sa.column("id", sa.String), sa.column("turn", sa.Integer),
                          sa.column("state", sa.Text))
_attempts = sa.table("contact_attempts", sa.column("conversation_id", sa.String))


def upgrade() -> None:
    conn = op.get_bind()
    counts = conn.execute(sa.select(_attempts.c.conversation_id, sa.func.count())
                          .group_by(_attempts.c.conversation_id)).all()
    for conv_id, recorded in counts:
        row = conn.execute(sa.select(_conversations.c.turn, _conversations.c.state)
                           .where(_conversations.c.id == conv_id)).first()
        if row is None:
            continue
        try:
            state = json.loads(row.state)
            counted = int((state.get("context") or {}).get("attempts") or 1)
        except (ValueError, TypeError, AttributeError):
            continue
        made = int(recorded) if row.turn <= 0 else max(int(recorded), counted)
        new = made + 1 if row.turn <= 0 else made
        if new != counted:
            state.setdefault("context", {})["attempts"] = new
            conn.execute(sa.update(_conversations).where(_conversations.c.id == conv_id)
                         .values(state=json.dumps(state, ensure_ascii=False)))
