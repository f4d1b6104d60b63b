"""Versioned migrations, the same for SQLite and PostgreSQL; an old database upgrades on start."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Column, Connection, MetaData, Table, inspect, select

from bot.store import schema


def _v1(conn: Connection) -> None:
    # The first release: conversations (without `flagged`), turns, tokens.
    meta = MetaData()
    Table("conversations", meta, *(
        Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable)
        for c in schema.conversations.columns if c.name != "flagged"))
    for table in (schema.turns, schema.tokens):
        table.to_metadata(meta)
    meta.create_all(conn)
    for index in schema.conversations.indexes:
        index.create(conn)


def _v2(conn: Connection) -> None:
    # Script changes may leave a conversation on a vanished stage: flag it for a person.
    # Channels: dedupe of platform events and the open case per chat and agent.
    conn.exec_driver_sql("ALTER TABLE conversations ADD COLUMN flagged BOOLEAN NOT NULL DEFAULT FALSE")
    schema.channel_events.create(conn)
    schema.channel_chats.create(conn)


def _v3(conn: Connection) -> None:
    # Opening a case looked it up through the shop index alone: a scan of the shop's cases.
    conn.exec_driver_sql(
        "CREATE INDEX IF NOT EXISTS ix_case_key ON conversations (shop, buyer_key, order_key)")


def _v4(conn: Connection) -> None:
    # Agents' corrections of the understanding and the stage, kept as future corpus lines.
    schema.corrections.create(conn)


# Renumbered at merge time by the lead (h16's corrections and h19's intake both added a step 4).
def _v5(conn: Connection) -> None:
    # Intake (bot/intake): imported reviews keyed by order + sub-order, contact attempts,
    # the TOP import's cursor.
    from bot.intake import tables

    for table in (tables.reviews, tables.attempts, tables.cursors):
        table.create(conn)


MIGRATIONS: list[tuple[int, Callable[[Connection], None]]] = [(1, _v1), (2, _v2), (3, _v3), (4, _v4), (5, _v5)]
LATEST = MIGRATIONS[-1][0]


def current_version(conn: Connection) -> int:
    """The schema version of a database (0 for an empty one)."""
    if not inspect(conn).has_table("schema_version"):
        return 0
    return int(conn.execute(select(schema.schema_version.c.version)
                            .order_by(schema.schema_version.c.version.desc())).scalar() or 0)


def upgrade(conn: Connection, target: int = LATEST) -> int:
    """Apply every migration above the database's version, up to ``target``; returns it."""
    if not inspect(conn).has_table("schema_version"):
        schema.schema_version.create(conn)
    version = current_version(conn)
    for number, step in MIGRATIONS:
        if version < number <= target:
            step(conn)
            conn.execute(schema.schema_version.insert().values(version=number,
                                                               applied_at=datetime.now(UTC)))
            version = number
    return version
