"""Recipients' names at rest: a review export and a conversation that carry a recipient's name
(收货人：张伟, a pasted "name，phone，address" order line) or a name said alone (我叫王芳, 找陈建国)
leave no name in the database, as
they leave no phone number or address (docs/privacy.md). Checked on the SQLite file's bytes and
on every row of every table (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from bot.cli import main

NAMES = ("张伟", "李娜", "王小明", "赵敏", "王芳", "陈建国")
EXPORT = "\n".join([
    "订单编号,买家昵称,宝贝名称,评价结果,评价内容,评价时间,追评内容,收货人",
    "3719204880001,小**猫,纯棉连衣裙 M码,差评,发错地址了！收货人：张伟，13812345678，浙江省杭州市西湖区文三路90号3栋,"
    "2026-12-04 09:00:00,收件人李娜到现在也没收到，我叫王芳，是她同事,赵敏", ""])
TALK = "\n".join([
    "客：您好，请问您是这个订单的收件人王小明吗？",
    "买：是我，我的收货信息是 王小明，13912345678，上海市浦东新区张江路100号，衣服洗一次就缩水了",
    "买：之前找陈建国也没人回我",
    "/quit", ""])


def _run(url: str, *args: str, stdin: str | None = None) -> str:
    r = CliRunner(env={"CSBOT_CONFIG": None, "CSBOT_DATABASE_URL": url, "CSBOT_SHOP": "柚子家女装"}
                  ).invoke(main, list(args), input=stdin)
    assert r.exit_code == 0, r.output
    return r.output


def _fill(url: str, tmp_path: Path) -> None:
    export = tmp_path / "评价.csv"
    export.write_bytes(EXPORT.encode("gbk"))
    assert "新开案例 1 个" in _run(url, "import", str(export))
    out = _run(url, "assist", "--shop", "柚子家女装", "--buyer", "周敏", "--product", "连衣裙", "--order-date", "",
               stdin=TALK)
    assert "缩水" in out or "抱歉" in out  # the conversation ran


def _rows(url: str) -> str:
    """Every row of every table, as text."""
    from sqlalchemy.ext.asyncio import create_async_engine

    from bot.store.connect import async_url

    async def read() -> str:
        engine = create_async_engine(async_url(url))
        try:
            async with engine.connect() as conn:
                meta = sa.MetaData()
                await conn.run_sync(meta.reflect)
                out = []
                for table in meta.sorted_tables:
                    out += [repr(tuple(row)) for row in await conn.execute(table.select())]
                return "\n".join(out)
        finally:
            await engine.dispose()

    return asyncio.run(read())


def test_no_recipient_name_in_the_sqlite_files_bytes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'csbot.db'}"
    _fill(url, tmp_path)
    data = b"".join(p.read_bytes() for p in tmp_path.glob("csbot.db*"))
    rows = _rows(url)
    assert "[姓名]" in rows and "[手机号]" in rows and "[地址]" in rows
    for name in NAMES:
        for form in (name.encode(), name.encode("unicode_escape"), name.encode("utf-16-le")):
            assert form not in data, (name, form)
        assert name not in rows
    assert b"13812345678" not in data and b"13912345678" not in data


def test_no_recipient_name_in_any_row(db_url: str, tmp_path: Path) -> None:
    _fill(db_url, tmp_path)
    rows = _rows(db_url)
    assert "[姓名]" in rows
    for name in NAMES:
        assert name not in rows, name


@pytest.mark.parametrize("text", ["收货人：张伟，13812345678", "王小明，13912345678，上海市浦东新区张江路100号"])
def test_the_http_answer_to_the_agent_still_has_the_text(text: str) -> None:
    """Masking is at rest: what the agent is shown for the message just sent is computed on
    the words as typed (docs/privacy.md), and the understanding reads them unmasked."""
    from tests.shared import shared_engine

    conv, _ = shared_engine().start({"shop": "柚子家女装", "buyer_name": "周敏"})
    _, sug = shared_engine().feed(conv, "buyer", text)
    assert sug.understanding is not None and sug.understanding.text == text
