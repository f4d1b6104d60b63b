"""Alembic's environment: it runs on the connection bot/store/migrations.py hands over.

csbot never reads an alembic.ini: the caller opens the connection (inside the Store's
start-up transaction, under PostgreSQL's advisory lock) and puts it in
``config.attributes["connection"]``.
"""

from __future__ import annotations

from alembic import context

from bot.intake import tables as _intake_tables  # noqa: F401  (puts the intake tables on the metadata)
from bot.store import schema

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("数据库迁移要在 csbot 打开的连接上运行：请用 csbot db upgrade，不要直接运行 alembic 命令")

# target_metadata is for `csbot db revision` (autogenerate) only: the revisions themselves
# never read today's schema. render_as_batch: on SQLite an altered column needs the table
# copied, which Alembic's batch mode writes out.
context.configure(connection=connection, target_metadata=schema.metadata, render_as_batch=True)
with context.begin_transaction():  # joins the caller's transaction when one is open
    context.run_migrations()
