"""Alembic migrations: a database left by every earlier csbot upgrades, keeps its rows and ends
with the schema bot/store/schema.py and bot/intake/tables.py declare, on SQLite and PostgreSQL.

Old databases are built from tests/data/migrations/*.sql, the statements the code before
Alembic sent, never from today's schema or today's revisions.
"""

from __future__ import annotations

import ast
import asyncio
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Connection, MetaData, String, inspect, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import create_async_engine

from bot.engine import Engine
from bot.intake import tables as _intake  # noqa: F401  (its tables on schema.metadata)
from bot.service.turns import TurnService
from bot.store import schema
from bot.store.db import Store, async_url
from bot.store.migrations import LEGACY, SCRIPTS, MigrationError, current_version, head, upgrade
from tests.shared import REAL_UPGRADE

DATA = Path(__file__).parent / "data" / "migrations"
T = TypeVar("T")
NOW = datetime(2026, 3, 1, 8, 30, tzinfo=UTC)

@pytest.fixture(scope="module", autouse=True)
def _every_revision_run() -> Iterator[None]:
    """Here a new SQLite file runs every revision, not the session's migrated copy (conftest.py)."""
    from bot.store import connect

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(connect, "upgrade_schema", REAL_UPGRADE)
        yield


# Each csbot version before Alembic: the steps it had run (tests/data/migrations) and the
# highest row it wrote in schema_version. "4i": step 4 made the intake tables for a while.
OLD = {"0": ([], 0), "1": (["1"], 1), "2": (["1", "2"], 2), "3": (["1", "2", "3"], 3),
       "4": (["1", "2", "3", "4"], 4), "5": (["1", "2", "3", "4", "5"], 5),
       "4i": (["1", "2", "3", "4i"], 4)}


def _steps(dialect: str) -> dict[str, list[str]]:
    text_ = (DATA / f"{dialect}.sql").read_text(encoding="utf-8")
    steps: dict[str, list[str]] = {}
    for block in text_.split("-- step ")[1:]:
        name, _, body = block.partition("\n")
        steps[name.strip()] = [s.strip() for s in body.split(";") if s.strip()]
    return steps


def _run(url: str, fn: Callable[[Connection], T]) -> T:
    async def go() -> T:
        db = create_async_engine(async_url(url))
        try:
            async with db.begin() as conn:
                return await conn.run_sync(fn)
        finally:
            await db.dispose()

    return asyncio.run(go())


@pytest.fixture
def url(db_url: str) -> str:
    """The test's database, empty: PostgreSQL's is shared by the module, so it is wiped."""
    if db_url.startswith("postgresql"):
        def wipe(conn: Connection) -> None:
            conn.exec_driver_sql("DROP SCHEMA public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")

        _run(db_url, wipe)
    return db_url


def _dialect(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgresql"


def _old_database(url: str, version: str) -> None:
    """A database exactly as csbot ``version`` left it, with a few rows in every table it had."""
    steps, legacy = OLD[version]
    sql = _steps(_dialect(url))

    def build(conn: Connection) -> None:
        for step in steps:
            for statement in sql[step]:
                conn.exec_driver_sql(statement)
        for number in range(1, legacy + 1):  # as the old code wrote them, one per step
            conn.execute(text("INSERT INTO schema_version (version, applied_at) VALUES (:v, :t)"),
                         {"v": number, "t": NOW})
        if steps:
            _old_rows(conn, set(steps))

    _run(url, build)


def _old_rows(conn: Connection, steps: set[str]) -> None:
    row = {"shop": "柚子家女装", "key": "周敏", "t": NOW}
    for cid, is_open in (("old-1", True), ("old-2", False)):
        conn.execute(text(
            "INSERT INTO conversations (id, shop, buyer_key, order_key, agent, stage, outcome, is_open,"
            " turn, script_version, state, created_at, updated_at) VALUES (:id, :shop, :key, :order, NULL,"
            " 'opening', NULL, :open, 1, 'v-old', '{}', :t, :t)"),
            {**row, "id": cid, "order": cid, "open": is_open})
        conn.execute(text(
            "INSERT INTO turns (conversation_id, turn, role, text, message_id, stage, suggestion, created_at)"
            " VALUES (:id, 1, 'agent', '您好，请问是周女士吗？', :mid, 'opening', '{}', :t)"),
            {**row, "id": cid, "mid": f"m-{cid}"})
    conn.execute(text("INSERT INTO tokens (name, role, shop, token_hash, created_at) VALUES"
                      " ('客服小王', 'agent', :shop, 'ab12', :t)"), row)
    if "2" in steps:
        conn.execute(text("UPDATE conversations SET flagged = TRUE WHERE id = 'old-2'"))
        conn.execute(text("INSERT INTO channel_events (channel, message_id, created_at) VALUES"
                          " ('wecom', 'e-1', :t)"), row)
        conn.execute(text("INSERT INTO channel_chats (channel, chat_id, agent_id, conversation_id, updated_at)"
                          " VALUES ('wecom', 'chat-1', 'a-1', 'old-1', :t)"), row)
    if "4" in steps:
        conn.execute(text("INSERT INTO corrections (conversation_id, shop, turn, text, intent, created_at)"
                          " VALUES ('old-1', :shop, 1, '衣服洗了就掉色', 'complain', :t)"), row)
    if "5" in steps or "4i" in steps:
        conn.execute(text(
            "INSERT INTO intake_reviews (shop, order_id, sub_order_id, conversation_id, source, rating,"
            " platform, review_text, created_at) VALUES (:shop, 'o-1', '', 'old-1', 'file', '差评',"
            " 'taobao', '质量太差了', :t)"), row)
        conn.execute(text("INSERT INTO contact_attempts (conversation_id, kind, at) VALUES"
                          " ('old-1', 'no_answer', :t)"), row)
        conn.execute(text("INSERT INTO intake_cursors (source, shop, until, updated_at) VALUES"
                          " ('top', :shop, :t, :t)"), row)


COUNTS = {"conversations": 2, "turns": 2, "tokens": 1, "channel_events": 1, "channel_chats": 1,
          "corrections": 1, "intake_reviews": 1, "contact_attempts": 1, "intake_cursors": 1}


def _expected_counts(version: str) -> dict[str, int]:
    steps = set(OLD[version][0])
    have = {"conversations", "turns", "tokens"} if steps else set()
    if "2" in steps:
        have |= {"channel_events", "channel_chats"}
    if "4" in steps:
        have.add("corrections")
    if steps & {"5", "4i"}:
        have |= {"intake_reviews", "contact_attempts", "intake_cursors"}
    return {name: COUNTS[name] if name in have else 0 for name in COUNTS}


def _differences(conn: Connection, metadata: MetaData = schema.metadata) -> list[Any]:
    return list(compare_metadata(MigrationContext.configure(conn), metadata))


def _check_upgraded(conn: Connection, version: str) -> None:
    counts = {name: conn.execute(text(f"SELECT count(*) FROM {name}")).scalar() for name in COUNTS}
    assert counts == _expected_counts(version)
    assert _differences(conn) == []
    assert current_version(conn) == head()
    assert [r[0] for r in conn.execute(text("SELECT version FROM schema_version ORDER BY version"))] \
        == [1, 2, 3, 4, 5]
    if OLD[version][0]:
        flagged = {i: bool(f) for i, f in conn.execute(text("SELECT id, flagged FROM conversations"))}
        assert flagged == {"old-1": False, "old-2": "2" in OLD[version][0]}
    # What compare_metadata does not look at: the partial unique index and the defaults.
    where = "sqlite_where" if conn.dialect.name == "sqlite" else "postgresql_where"
    index = next(i for i in inspect(conn).get_indexes("conversations") if i["name"] == "uq_open_case")
    assert index["unique"] and "is_open" in str(index.get("dialect_options", {}).get(where))
    conn.execute(text(
        "INSERT INTO conversations (id, shop, buyer_key, order_key, stage, is_open, turn, script_version,"
        " state, created_at, updated_at) VALUES ('new-1', '店', '李', 'o-9', 'opening', TRUE, 0, 'v', '{}',"
        " :t, :t)"), {"t": NOW})
    conn.execute(text("INSERT INTO channel_chats (channel, chat_id, agent_id, conversation_id, updated_at)"
                      " VALUES ('wecom', 'chat-2', 'a-1', 'new-1', :t)"), {"t": NOW})
    assert conn.execute(text("SELECT flagged FROM conversations WHERE id = 'new-1'")).scalar() in (False, 0)
    assert conn.execute(text("SELECT tone FROM channel_chats WHERE chat_id = 'chat-2'")).scalar() == "正式"
    # A message id once per conversation (revision 0006: an index over the turns that have one).
    turns = next(i for i in inspect(conn).get_indexes("turns") if i["name"] == "uq_turn_message")
    assert turns["unique"] and "message_id" in str(turns.get("dialect_options", {}).get(where))
    assert inspect(conn).get_unique_constraints("turns") == []
    for turn, mid in ((1, None), (2, None), (3, "m-1")):
        conn.execute(text("INSERT INTO turns (conversation_id, turn, role, text, message_id, stage, suggestion,"
                          " created_at) VALUES ('new-1', :n, 'agent', '您好', :mid, 'opening', '{}', :t)"),
                     {"n": turn, "mid": mid, "t": NOW})
    with pytest.raises(IntegrityError), conn.begin_nested():
        conn.execute(text("INSERT INTO turns (conversation_id, turn, role, text, message_id, stage, suggestion,"
                          " created_at) VALUES ('new-1', 4, 'agent', '您好', 'm-1', 'opening', '{}', :t)"), {"t": NOW})


@pytest.mark.parametrize("version", list(OLD))
def test_a_database_of_every_earlier_csbot_upgrades(url: str, version: str) -> None:
    _old_database(url, version)
    assert _run(url, upgrade) == head()
    _run(url, lambda c: _check_upgraded(c, version))
    assert _run(url, upgrade) == head()  # again: nothing to do, nothing written twice


def test_an_old_database_upgrades_when_the_store_opens_and_its_case_goes_on(url: str, engine: Engine) -> None:
    conv, _ = engine.start({"shop": "店", "buyer_name": "王"}, conversation_id="old-1")
    _old_database(url, "1")
    _run(url, lambda c: c.execute(text("UPDATE conversations SET turn = 0, shop = '店', buyer_key = '王',"
                                       " order_key = '', script_version = :v, state = :s WHERE id = 'old-1'"),
                                  {"v": conv.script_version, "s": conv.model_dump_json()}))
    _run(url, lambda c: c.exec_driver_sql("DELETE FROM turns WHERE conversation_id = 'old-1'"))

    async def go() -> None:
        store = await Store.open(url)
        try:
            sug = (await TurnService.over(store, engine).turn("old-1", "agent", "您好，请问是王先生吗？")).suggestion
            assert sug.turn == 1 and sug.stage.id == "confirm_identity"
            summary, _ = await store.get("old-1")
            assert summary.flagged is False
        finally:
            await store.close()

    asyncio.run(go())
    assert _run(url, current_version) == head()


def test_each_revision_leaves_the_schema_the_old_step_left(url: str) -> None:
    """Revision by revision, the schema equals the one the old step left (compared as
    SQLAlchemy reads both back): the frozen revisions are the old steps, one for one."""
    other = _other_database(url)
    try:
        for number, revision in enumerate(LEGACY, start=1):
            if number == 1:
                _old_database(other, "1")
            else:
                _old_step(other, str(number))
            _run(url, lambda c, r=revision: upgrade(c, r))
            assert _run(url, _shape) == _run(other, _shape), revision
    finally:
        _drop(other)


def _old_step(url: str, step: str) -> None:
    sql = _steps(_dialect(url))[step]

    def run(conn: Connection) -> None:
        for statement in sql:
            conn.exec_driver_sql(statement)

    _run(url, run)


def _shape(conn: Connection) -> dict[str, Any]:
    """Tables, columns (type, null, default), keys, indexes and unique constraints, as read back."""
    insp = inspect(conn)
    shape: dict[str, Any] = {}
    for name in sorted(set(insp.get_table_names()) - {"alembic_version"}):
        shape[name] = {
            "columns": [(c["name"], str(c["type"]), c["nullable"], _default(c.get("default")))
                        for c in insp.get_columns(name)],
            "pk": insp.get_pk_constraint(name)["constrained_columns"],
            "fks": sorted((tuple(f["constrained_columns"]), f["referred_table"])
                          for f in insp.get_foreign_keys(name)),
            "indexes": sorted((i["name"], tuple(i["column_names"]), bool(i["unique"]),
                               tuple(sorted((k, str(v)) for k, v in i.get("dialect_options", {}).items())))
                              for i in insp.get_indexes(name)),
            "unique": sorted(tuple(u["column_names"]) for u in insp.get_unique_constraints(name)),
        }
    return shape


def _default(value: Any) -> Any:
    # PostgreSQL names the sequence of a SERIAL after its table: the same in both databases.
    return None if value is None else str(value).lower()


def _other_database(url: str) -> str:
    if url.startswith("sqlite"):
        return url.replace(".db", "-other.db")
    from tests.pg import create_database

    return create_database()


def _drop(url: str) -> None:
    if not url.startswith("sqlite"):
        from tests.pg import drop_database

        drop_database(url)


# -- a later revision ---------------------------------------------------------------------

_REVISIONS = [f.stem for f in sorted((SCRIPTS / "versions").glob("0*.py"))]

NOTE = '''"""A note on each conversation (a later, ordinary revision)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_conversation_note"
down_revision = "{down}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("conversations", sa.Column("note", sa.String(200)))
'''


def _with_note(tmp_path: Path) -> Path:
    """A copy of the revisions with one more that adds a column, as the next release would."""
    location = tmp_path / "alembic"
    shutil.copytree(SCRIPTS, location, ignore=shutil.ignore_patterns("__pycache__"))
    (location / "versions" / "0007_conversation_note.py").write_text(NOTE.format(down=head()), encoding="utf-8")
    return location


def _metadata_with_note() -> MetaData:
    meta = MetaData()
    for table in schema.metadata.sorted_tables:
        table.to_metadata(meta)
    meta.tables["conversations"].append_column(Column("note", String(200)))
    return meta


@pytest.mark.parametrize("version", [*OLD, *sorted(set(_REVISIONS) - set(LEGACY))])
def test_a_later_revision_that_adds_a_column_upgrades_every_database(url: str, tmp_path: Path,
                                                                      version: str) -> None:
    """The bug of issue 15: step 1 built today's table minus a column, so a step adding
    another column failed on a fresh database ("duplicate column name"). From every csbot
    before Alembic, and from each revision since (the newest: a database of this csbot)."""
    location = _with_note(tmp_path)
    if version in OLD:
        _old_database(url, version)
    else:
        _run(url, lambda c: upgrade(c, target=version))
    assert _run(url, lambda c: upgrade(c, location=location)) == "0007_conversation_note"
    assert _run(url, lambda c: _differences(c, _metadata_with_note())) == []
    # schema_version stops at 5: the code before Alembic knows no more.
    assert _run(url, lambda c: c.execute(text("SELECT max(version) FROM schema_version")).scalar()) == 5
    # And this csbot, which lacks 0006, refuses the database in Chinese rather than guess.
    with pytest.raises(MigrationError, match=r"0007_conversation_note.*不认识"):
        _run(url, upgrade)


def test_the_revisions_are_frozen() -> None:
    """A revision imports SQLAlchemy and Alembic only: never today's schema or tables."""
    files = sorted((SCRIPTS / "versions").glob("0*.py"))
    assert [f.stem for f in files][:len(LEGACY)] == list(LEGACY)
    assert files[-1].stem == head()
    for file in files:
        tree = ast.parse(file.read_text(encoding="utf-8"))
        imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        # (json: the standard library's, never changed under a revision: a data revision edits states)
        assert imported <= {"__future__", "sqlalchemy", "alembic", "json"}, file.name


def test_recorded_attempts_move_into_the_cases_one_count(url: str) -> None:
    """0007: the queue's count (contact_attempts rows, at least the script's once a case has
    messages) is carried into the state's counter, so no case gains or loses an attempt."""
    import json

    _run(url, lambda c: upgrade(c, "0006_turn_message_index"))
    cases = {"quiet": (0, {"context": {"attempts": 1}}, 2), "talked": (2, {"context": {"attempts": 2}}, 3),
             "resumed": (4, {"context": {"attempts": 3}, "stage": "opening"}, 1), "old": (1, {}, 1)}

    def fill(conn: Connection) -> None:
        for cid, (turn, state, rows) in cases.items():
            conn.execute(text(
                "INSERT INTO conversations (id, shop, buyer_key, order_key, agent, stage, outcome, is_open,"
                " turn, script_version, state, created_at, updated_at) VALUES (:id, '柚子家女装', :id, :id, NULL,"
                " 'opening', NULL, TRUE, :turn, 'v', :state, :t, :t)"),
                {"id": cid, "turn": turn, "state": json.dumps(state, ensure_ascii=False), "t": NOW})
            for _ in range(rows):
                conn.execute(text("INSERT INTO contact_attempts (conversation_id, kind, at) VALUES"
                                  " (:id, 'no_answer', :t)"), {"id": cid, "t": NOW})

    _run(url, fill)
    _run(url, upgrade)
    states = dict(_run(url, lambda c: c.execute(text("SELECT id, state FROM conversations")).all()))
    counted = {cid: json.loads(s).get("context", {}).get("attempts") for cid, s in states.items()}
    # before the first message the counter is one more than the attempts made
    assert counted == {"quiet": 3, "talked": 3, "resumed": 3, "old": None}
    assert json.loads(states["resumed"])["stage"] == "opening"  # the rest of the state as it was


# -- csbot db ------------------------------------------------------------------------------

def test_db_version_and_upgrade_commands(url: str) -> None:
    from click.testing import CliRunner

    from bot.cli import main

    runner = CliRunner()
    _old_database(url, "2")
    result = runner.invoke(main, ["db", "version", "--db", url])
    assert result.exit_code == 1
    assert ("数据库结构：0002_flagged_and_channels；这个版本的 csbot 最新是 0007_attempts_in_state，"
            "请运行 csbot db upgrade") in result.output
    result = runner.invoke(main, ["db", "upgrade", "--db", url])
    assert result.exit_code == 0, result.output
    assert "数据库结构已升级：0002_flagged_and_channels → 0007_attempts_in_state" in result.output
    assert _run(url, lambda c: _check_upgraded(c, "2")) is None
    result = runner.invoke(main, ["db", "upgrade", "--db", url])
    assert "数据库结构已是 0007_attempts_in_state，不用升级。" in result.output
    result = runner.invoke(main, ["db", "version", "--db", url])
    assert (result.exit_code, result.output.strip()) == (0, "数据库结构：0007_attempts_in_state（最新）")


def test_db_upgrade_to_an_unknown_revision_is_refused_in_chinese(url: str) -> None:
    from click.testing import CliRunner

    from bot.cli import main

    _old_database(url, "3")
    result = CliRunner().invoke(main, ["db", "upgrade", "--db", url, "--to", "9999_nothing"])
    assert result.exit_code == 2  # a wrong --to: a usage error
    assert "'--to' 的值不对：无法把数据库结构从 0003_case_key_index 升级到 9999_nothing" in result.output
    assert "Traceback" not in result.output
    # Refused in its transaction: the old database is as it was, not even stamped.
    assert _run(url, lambda c: inspect(c).has_table("alembic_version")) is False
    # A revision behind the database: nothing to do (csbot never downgrades).
    result = CliRunner().invoke(main, ["db", "upgrade", "--db", url, "--to", "0002_flagged_and_channels"])
    assert (result.exit_code, result.output.strip()) == (0, "数据库结构已是 0003_case_key_index，不用升级。")


def test_instances_starting_together_upgrade_an_old_postgresql_database_once(pg_url: str) -> None:
    """Several instances start at once: the advisory lock lets one migrate, the others find it done."""
    from bot.store.connect import open_engine, upgrade_schema

    _run(pg_url, lambda c: c.exec_driver_sql("DROP SCHEMA public CASCADE"))
    _run(pg_url, lambda c: c.exec_driver_sql("CREATE SCHEMA public"))
    _old_database(pg_url, "2")

    async def start() -> tuple[str | None, str | None]:
        engine = open_engine(pg_url)
        try:
            return await upgrade_schema(engine)
        finally:
            await engine.dispose()

    async def together() -> list[tuple[str | None, str | None]]:
        return list(await asyncio.gather(*(start() for _ in range(4))))

    results = asyncio.run(together())
    assert sorted(results) == [("0002_flagged_and_channels", head())] + [(head(), head())] * 3
    _run(pg_url, lambda c: _check_upgraded(c, "2"))


def test_db_upgrade_names_a_database_it_cannot_open(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from bot.cli import main

    junk = tmp_path / "junk.db"
    junk.write_text("这不是数据库" * 200, encoding="utf-8")
    result = CliRunner().invoke(main, ["db", "upgrade", "--db", f"sqlite:///{junk}"])
    assert result.exit_code == 3  # a data error, as every command's database that cannot be opened
    assert f"无法打开数据库 sqlite:///{junk}：" in result.output and "Traceback" not in result.output
    # A PostgreSQL address shows without its password.
    result = CliRunner().invoke(main, ["db", "version", "--db", "postgresql://csbot:pw@127.0.0.1:1/x"])
    assert result.exit_code == 3
    assert "无法打开数据库 postgresql://csbot:***@127.0.0.1:1/x：" in result.output and "pw" not in result.output


def test_db_revision_drafts_what_the_schema_has_and_the_revisions_lack(tmp_path: Path) -> None:
    """Without 0005 (and 0006, 0007 after it), `csbot db revision` writes the intake tables and the
    turns' message index into a new 0005 that upgrades a database to the declared schema,
    importing nothing of csbot's."""
    from click.testing import CliRunner

    from bot.cli import main

    location = tmp_path / "alembic"
    shutil.copytree(SCRIPTS, location, ignore=shutil.ignore_patterns("__pycache__", "0005_*", "0006_*", "0007_*"))
    result = CliRunner().invoke(main, ["db", "revision", "intake_tables", "-m", "导入的差评", "--dir", str(location)])
    assert result.exit_code == 0, result.output
    drafted = location / "versions" / "0005_intake_tables.py"
    assert f"已生成修订 0005_intake_tables：{drafted}" in result.output
    assert "Generating" not in result.output
    source = drafted.read_text(encoding="utf-8")
    assert source.startswith('"""导入的差评') and "down_revision = '0004_corrections'" in source
    assert "from bot" not in source and "import bot" not in source
    url = f"sqlite:///{tmp_path / 'drafted.db'}"
    assert _run(url, lambda c: upgrade(c, location=location)) == "0005_intake_tables"
    assert _run(url, _differences) == []
    # Nothing left to draft: the next one is empty, and it says so.
    result = CliRunner().invoke(main, ["db", "revision", "data_fix", "--dir", str(location)])
    assert "已生成修订 0006_data_fix" in result.output and "这是个空修订" in result.output
