"""Alembic migrations, the same for SQLite and PostgreSQL; an old database upgrades on start.

The revisions are frozen files in bot/store/alembic/versions/ (literal columns, never
today's schema). The Store calls ``upgrade`` inside its start-up transaction (on
PostgreSQL under an advisory lock), and Alembic runs on that very connection.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, func, inspect, select

from bot.store import schema

SCRIPTS = Path(__file__).with_name("alembic")

# csbot before Alembic counted its steps 1..5 in `schema_version`; each is one revision.
LEGACY = ("0001_first_release", "0002_flagged_and_channels", "0003_case_key_index",
          "0004_corrections", "0005_intake")

log = logging.getLogger("csbot.store")
logging.getLogger("alembic").setLevel(logging.WARNING)  # its English progress lines; ours is below


def config(conn: Connection | None = None, location: Path = SCRIPTS) -> Config:
    """Alembic's configuration, built in code (no alembic.ini): the scripts and the connection."""
    cfg = Config()
    cfg.set_main_option("script_location", str(location))
    cfg.set_main_option("path_separator", "os")
    if conn is not None:
        cfg.attributes["connection"] = conn
    return cfg


def scripts(location: Path = SCRIPTS) -> ScriptDirectory:
    """The revisions at ``location``; csbot's own are read once per process."""
    return _packaged() if location == SCRIPTS else ScriptDirectory.from_config(config(location=location))


@cache
def _packaged() -> ScriptDirectory:
    return ScriptDirectory.from_config(config())


class MigrationError(RuntimeError):
    """The database cannot be brought to this csbot's schema (the message is for a person)."""


class UnknownTarget(MigrationError):
    """The revision asked for is not one csbot can upgrade to (a wrong ``--to``)."""


def known(location: Path = SCRIPTS) -> frozenset[str]:
    """Every revision this csbot carries."""
    return frozenset(s.revision for s in scripts(location).walk_revisions())


def head(location: Path = SCRIPTS) -> str:
    """The latest revision."""
    rev = scripts(location).get_current_head()
    assert rev is not None
    return rev


def current_version(conn: Connection) -> str | None:
    """The database's revision (None for an empty database); a database of csbot before
    Alembic answers with its legacy version's revision."""
    return MigrationContext.configure(conn).get_current_revision() or _legacy_revision(conn)


def upgrade(conn: Connection, target: str = "head", *, location: Path = SCRIPTS) -> str | None:
    """Bring the database to ``target`` (a revision id, or "head"); returns its revision.
    ``location``: another copy of the revisions (tests try the next release's)."""
    context = MigrationContext.configure(conn)
    before = context.get_current_revision()
    if before is None:
        before = _legacy_revision(conn)
        if before is not None:  # the first start after csbot moved to Alembic
            context.stamp(scripts(location), before)
    if before == (head(location) if target == "head" else target):
        return before
    if before is not None and before not in known(location):
        raise MigrationError(f"数据库的结构版本是 {before}，这个版本的 csbot 不认识（数据库由更新的 csbot 升级过）："
                             "请换用那个版本或更新的 csbot")
    try:
        command.upgrade(config(conn, location), target)
    except CommandError as exc:  # a target csbot does not carry
        raise UnknownTarget(f"无法把数据库结构从 {before or '空库'} 升级到 {target}：只能往前升到 csbot 带着的修订"
                             f"（{', '.join(sorted(known(location)))}）") from exc
    after = MigrationContext.configure(conn).get_current_revision()
    _write_legacy_version(conn, after)
    if after != before:  # a target behind the database is no step at all
        log.info("数据库结构已升级：%s → %s", before or "空库", after)
    return after


def _legacy_version(conn: Connection) -> int:
    if not inspect(conn).has_table("schema_version"):
        return 0
    return int(conn.execute(select(func.max(schema.schema_version.c.version))).scalar() or 0)


def _legacy_revision(conn: Connection) -> str | None:
    """The revision a database of csbot before Alembic is at, from its ``schema_version``."""
    version = _legacy_version(conn)
    if version == 0:
        return None
    if version == 4 and not inspect(conn).has_table("corrections"):
        # Between two merges csbot's step 4 made the intake tables (now 0005): such a
        # database has 0003's schema plus those, and 0005 tolerates them being there.
        return LEGACY[2]
    return LEGACY[version - 1]


def _write_legacy_version(conn: Connection, revision: str | None) -> None:
    """Keep ``schema_version`` counting 1..5 as the code before Alembic did, so that a
    rollback to that code finds its own steps done (instead of creating its tables again).
    Revisions after 0005 leave it at 5: that code knows no more, and ``alembic_version``
    is the record."""
    if revision is None:
        return
    reached = LEGACY.index(revision) + 1 if revision in LEGACY else len(LEGACY)
    now = datetime.now(UTC)
    have = _legacy_version(conn)
    # An interim database (see above) has row 4 already: the rows above the highest.
    for number in range(have + 1, reached + 1):
        conn.execute(schema.schema_version.insert().values(version=number, applied_at=now))
