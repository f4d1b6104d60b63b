"""csbot report: real cases through the real store and engine, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import update

from bot.cli import main
from bot.engine import Engine
from bot.insights import analytics
from bot.insights.labels import Labels
from bot.insights.records import CaseRecord, Filters, ReportError, open_database, read_records
from bot.insights.render import Report, csv_bytes, html
from bot.models import Case
from bot.service.turns import TurnService
from bot.store import schema
from bot.store.db import Store
from tests.pg import create_database, drop_database
from tests.shared import dump_yaml, load_yaml_text, shared_engine

ROOT = Path(__file__).resolve().parent.parent
YUZI, TEA = "柚子家女装", "茶香小铺"

# Five cases, as agents and buyers typed them (see tests/test_script.py for the script).
CASES: dict[str, dict[str, object]] = {
    # Colour difference: exchange chosen, the buyer updates the review; closed as review_updated.
    "zhou": {"case": {"shop": YUZI, "buyer_name": "周敏", "honorific": "女士", "product": "连衣裙",
                      "agent": "小林"},
             "created": datetime(2026, 3, 1, 10, tzinfo=UTC), "outcome": "review_updated",
             "lines": [("agent", "您好，请问是周女士吗？我是柚子家女装的售后小林。"), ("buyer", "嗯是我"),
                       ("agent", "您3月2号在我们店买的那条连衣裙还记得吗？"),
                       ("buyer", "记得，颜色跟图片差太多了，发灰"),
                       ("agent", "真的很抱歉，让您失望了，换成我也会不开心。"),
                       ("agent", "主图调色调得太鲜了，是我们的问题，这周就换成实拍图。"),
                       ("agent", "给您换一件，来回运费我们出；或者退货退款，您看哪个方便？"),
                       ("buyer", "那就换一件吧"),
                       ("agent", "好的，已经安排了。想问问您，如果觉得处理得还行，"
                                 "愿意考虑更新一下评价吗？改不改由您决定。"),
                       ("buyer", "行，我一会儿去改")]},
    # Loose threads: every remedy declined; closed as review_kept.
    "wu": {"case": {"shop": YUZI, "buyer_name": "吴芳", "product": "衬衫", "agent": "小林"},
           "created": datetime(2026, 3, 1, 15, tzinfo=UTC), "outcome": "review_kept",
           "lines": [("agent", "您好，请问是吴女士吗？"), ("buyer", "是的"), ("agent", "您上周买的衬衫还记得吗？"),
                     ("buyer", "记得，线头特别多，做工太差"), ("agent", "非常抱歉，给您添麻烦了。"),
                     ("agent", "这批是工厂缝制的问题，我们已经反馈给工厂返工。"),
                     ("agent", "给您换一件新的，或者退货退款，您看哪个合适？"), ("buyer", "都不用了")]},
    # A slow courier, a partial refund, then cash back offered for a good review (blocked).
    "guo": {"case": {"shop": YUZI, "buyer_name": "郭强", "honorific": "先生", "product": "扫地机",
                     "platform": "tmall", "agent": "小王"},
            "created": datetime(2026, 3, 10, 9, tzinfo=UTC), "outcome": "resolved",
            "lines": [("agent", "您好，请问是郭先生吗？"), ("buyer", "是我"), ("agent", "您月初买的扫地机还记得吗？"),
                      ("buyer", "记得，快递等了十天才到"), ("agent", "非常抱歉，让您等了这么久。"),
                      ("agent", "那几天仓库遇到暴雨停发，是我们没有及时通知。"),
                      ("agent", "给您退50元，或者送一套滤网，您挑一个。"), ("buyer", "退50吧"),
                      ("agent", "好评返现5元，您看可以吗？")]},
    # Still open, waiting on the agent's apology; the agent already offered cash for a review.
    "sun": {"case": {"shop": YUZI, "buyer_name": "孙丽", "product": "毛衣", "agent": "小王"},
            "created": datetime(2026, 3, 20, 9, tzinfo=UTC), "outcome": None,
            "lines": [("agent", "您好，请问是孙女士吗？"), ("buyer", "是"), ("agent", "您买的毛衣还记得吗？"),
                      ("buyer", "记得，洗一次就起球，质量太差了"),
                      ("agent", "好评返现5元，您看可以吗？")]},
    # Another shop: the wrong person; closed as wrong_person.
    "zhao": {"case": {"shop": TEA, "buyer_name": "赵雪", "product": "茶叶", "agent": "小李"},
             "created": datetime(2026, 3, 20, 11, tzinfo=UTC), "outcome": "wrong_person",
             "lines": [("agent", "您好，请问是赵女士吗？"), ("buyer", "你们打错了，我刚换的这个号")]},
}


@dataclass
class Built:
    url: str
    ids: dict[str, str]


async def _build(url: str, engine: Engine) -> Built:
    store = await Store.open(url)
    turns = TurnService.over(store, engine)
    ids: dict[str, str] = {}
    try:
        for name, spec in CASES.items():
            conv, _, _ = await turns.create(Case.model_validate(spec["case"]))
            ids[name] = conv.id
            for role, text in spec["lines"]:  # type: ignore[attr-defined]
                await turns.turn(conv.id, role, text)
            if spec["outcome"]:
                await turns.close_case(conv.id, str(spec["outcome"]))
            async with store.db.begin() as conn:  # as if opened on that day
                await conn.execute(update(schema.conversations).where(
                    schema.conversations.c.id == conv.id).values(created_at=spec["created"]))
    finally:
        await store.close()
    return Built(url, ids)


@pytest.fixture(scope="module")
def sqlite_db(tmp_path_factory: pytest.TempPathFactory) -> Built:
    path = tmp_path_factory.mktemp("report") / "cases.db"
    return asyncio.run(_build(f"sqlite:///{path}", shared_engine()))


def _records(url: str, filters: Filters | None = None) -> list[CaseRecord]:
    async def go() -> list[CaseRecord]:
        db = await open_database(url)
        try:
            return await read_records(db, filters, initial_stage=shared_engine().script.initial)
        finally:
            await db.dispose()

    return asyncio.run(go())


def _report(records: list[CaseRecord], engine: Engine, filters: Filters | None = None) -> Report:
    return Report.of(records, Labels.from_engine(engine), filters or Filters(), list(engine.script.stages))


def _check_numbers(records: list[CaseRecord]) -> None:
    """The numbers of the five cases above, whichever database they were stored in."""
    by = {r.shop + r.agent + r.outcome: r for r in records}
    assert len(records) == 5
    tables = {t.id: t for t in analytics.build(records)}
    o = tables["overview"].column("value")
    assert (o["cases"], o["open"], o["closed"], o["resolved"], o["review_updated"]) == (5, 1, 4, 2, 1)
    assert o["resolution_rate"] == 0.5 and o["review_updated_rate"] == 0.25
    assert (o["findings"], o["block_findings"], o["block_cases"]) == (2, 2, 2)

    causes = tables["causes"]
    assert [r.key for r in causes.rows] == ["quality", "logistics", "not_as_described", ""]
    assert causes.value("quality", "cases") == 2 and causes.value("quality", "share") == 0.4
    assert causes.value("quality", "closed") == 1 and causes.value("quality", "resolution_rate") == 0.0
    assert causes.value("logistics", "resolution_rate") == 1.0
    assert causes.value("not_as_described", "resolved") == 1

    co = tables["cause_outcomes"]
    assert co.value("quality", "review_kept") == 1 and co.value("quality", "resolved") == 0
    assert co.value("logistics", "resolved") == 1 and co.value("", "wrong_person") == 1

    remedies = tables["remedies"]
    assert remedies.value("exchange", "cases") == 1 and remedies.value("exchange", "resolution_rate") == 1.0
    assert remedies.value("partial_refund", "resolved") == 1
    assert remedies.value("", "cases") == 3 and remedies.value("", "resolution_rate") == 0.0

    assert tables["outcomes"].value("review_kept", "share") == 0.25
    stages = tables["stages"]
    # The open case waits at the apology; the two unresolved ones were closed from the closing stage.
    assert stages.value("listen_apologize", "open") == 1
    assert stages.value("closing", "unresolved") == 2 and stages.value("closing", "stopped") == 2

    assert tables["findings"].rows == (analytics.Row("conditional_benefit", (2, 2, 1)),)
    assert tables["severities"].rows == (analytics.Row("block", (2, 2, 1)),)
    agents = tables["agents"]
    assert agents.rows[0] == analytics.Row("小林", (2, 2, 1, 0.5, 0, 0))
    assert agents.value("小王", "resolution_rate") == 1.0 and agents.value("小王", "block_findings") == 2
    assert tables["agent_codes"].rows == (analytics.Row("小王", (2,)),)
    assert by[YUZI + "小林review_updated"].cause == "not_as_described"


def test_the_analytics_of_stored_cases_on_sqlite(sqlite_db: Built) -> None:
    _check_numbers(_records(sqlite_db.url))


def test_postgresql_gives_the_same_report(engine: Engine) -> None:
    url = create_database()
    try:
        built = asyncio.run(_build(url, engine))
        records = _records(url)
        _check_numbers(records)
        assert [r.created_at for r in _records(url, Filters(since=date(2026, 3, 20)))] == [
            datetime(2026, 3, 20, 9, tzinfo=UTC), datetime(2026, 3, 20, 11, tzinfo=UTC)]
        r = CliRunner().invoke(main, ["report", "--db", built.url, "--format", "csv", "--shop", TEA])
        assert r.exit_code == 0, r.output
        assert "找错人" in r.stdout_bytes.decode("utf-8-sig")
    finally:
        drop_database(url)


def test_filters_by_date_and_shop(sqlite_db: Built) -> None:
    assert {r.id for r in _records(sqlite_db.url, Filters(since=date(2026, 3, 10)))} == {
        sqlite_db.ids[k] for k in ("guo", "sun", "zhao")}
    # `until` includes its whole day.
    assert {r.id for r in _records(sqlite_db.url, Filters(until=date(2026, 3, 10)))} == {
        sqlite_db.ids[k] for k in ("zhou", "wu", "guo")}
    assert [r.id for r in _records(sqlite_db.url, Filters(shop=TEA))] == [sqlite_db.ids["zhao"]]
    assert _records(sqlite_db.url, Filters(shop=YUZI, since=date(2026, 3, 2), until=date(2026, 3, 9))) == []


def test_csv_is_one_long_table_excel_reads(sqlite_db: Built, engine: Engine) -> None:
    data = csv_bytes(_report(_records(sqlite_db.url), engine))
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == ["区块", "项目", "指标", "数值", "区块代码", "项目代码", "指标代码"]
    assert ["总览", "案例数", "数值", "5", "overview", "cases", "value"] in rows
    assert ["总览", "解决率", "数值", "50.0%", "overview", "resolution_rate", "value"] in rows
    assert ["买家为什么给中差评", "质量问题", "案例数", "2", "causes", "quality", "cases"] in rows
    assert ["买家为什么给中差评", "质量问题", "占比", "40.0%", "causes", "quality", "share"] in rows
    assert ["买家为什么给中差评", "未说明原因", "案例数", "1", "causes", "", "cases"] in rows
    assert ["各原因的处理结果", "质量问题", "未改评", "1", "cause_outcomes", "quality", "review_kept"] in rows
    assert ["哪种补救最管用", "换货（来回运费我们出）", "解决率", "100.0%", "remedies", "exchange",
            "resolution_rate"] in rows
    assert ["没解决的案例停在哪一步", "倾听致歉", "进行中", "1", "stages", "listen_apologize", "open"] in rows
    assert ["合规提醒：类型", "好评返现等条件利益", "合规提醒次数", "2", "findings", "conditional_benefit",
            "findings"] in rows
    assert ["各客服的处理情况", "小王", "禁止级提醒次数", "2", "agents", "小王", "block_findings"] in rows
    assert all(len(r) == 7 for r in rows)


def test_html_is_one_offline_page_with_charts(sqlite_db: Built, engine: Engine) -> None:
    page = html(_report(_records(sqlite_db.url), engine, Filters(shop=None, since=date(2026, 3, 1))))
    for heading in ("中差评处理报告", "买家为什么给中差评", "哪种补救最管用", "没解决的案例停在哪一步",
                    "合规提醒：类型", "各客服的处理情况", "2026-03-01 起", "共 5 个案例"):
        assert heading in page, heading
    assert page.count("<svg") == 6  # causes, resolution per cause, outcomes, remedies, stages, findings
    assert "<th scope=\"row\">质量问题</th><td>2</td><td>40.0%</td><td>1</td><td>0</td><td>0.0%</td>" in page
    assert "实物和描述不符" not in page and "与描述不符" in page  # the short names, not the spoken ones
    assert "好评返现等条件利益" in page and "已改评" in page and "倾听致歉" in page
    lowered = page.lower()
    assert "<?xml" not in lowered and "<script" not in lowered and "<link" not in lowered
    assert "src=\"http" not in lowered and "href=\"http" not in lowered and "@import" not in lowered


def test_html_escapes_what_came_from_the_database(engine: Engine) -> None:
    record = CaseRecord(id="x", shop="店", agent="<b>小林</b>", stage="opening", last_stage="opening",
                        outcome="", is_open=True, created_at=datetime(2026, 3, 1, tzinfo=UTC), cause="",
                        remedy="", review_answer="", platform="taobao", rating="", turns=0)
    page = html(_report([record], engine))
    assert "&lt;b&gt;小林&lt;/b&gt;" in page and "<b>小林" not in page
    assert "暂无数据" in page  # no closed case, no finding


def _cli(*args: str) -> tuple[int, str, bytes]:
    """Exit code, what the user sees (stdout and stderr) and stdout's bytes."""
    r = CliRunner(env={"CSBOT_CONFIG": None, "CSBOT_DATABASE_URL": None}).invoke(main, ["report", *args])
    return r.exit_code, r.output, r.stdout_bytes


def test_cli_writes_the_html_page_by_default(sqlite_db: Built, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, _ = _cli("--db", sqlite_db.url, "--shop", YUZI)
    assert code == 0, out
    assert "报告已写入 csbot-report.html（4 个案例）" in out
    page = (tmp_path / "csbot-report.html").read_text(encoding="utf-8")
    assert "柚子家女装，全部日期，共 4 个案例" in page and "<svg" in page


def test_the_page_says_the_clock_its_dates_were_read_on(sqlite_db: Built, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    # --since/--until are read on the shop's clock: the page said "按…（UTC）计算" and gave
    # the time it was made in UTC, eight hours off for a lead in Shanghai.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CSBOT_SHOP_TIMEZONE", "Asia/Shanghai")
    code, out, _ = _cli("--db", sqlite_db.url, "--since", "2026-03-01")
    assert code == 0, out
    page = (tmp_path / "csbot-report.html").read_text(encoding="utf-8")
    assert "日期按案例的创建时间、在 Asia/Shanghai 时区计算。" in page
    assert "（Asia/Shanghai）" in page and "UTC" not in page


def test_cli_csv_to_stdout_with_filters(sqlite_db: Built) -> None:
    code, out, data = _cli("--db", sqlite_db.url, "--format", "csv", "--since", "2026-03-10",
                           "--until", "2026-03-20")
    assert code == 0, out
    text = data.decode("utf-8")
    assert text.startswith("\ufeff区块,项目,指标,数值")
    assert "总览,案例数,数值,3,overview,cases,value" in text
    assert "各客服的处理情况,小李,案例数,1,agents,小李,cases" in text
    assert "小林" not in text  # his cases are older


def test_cli_runs_as_a_process(sqlite_db: Built, tmp_path: Path) -> None:
    out = tmp_path / "r.csv"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONIOENCODING": "utf-8"}
    r = subprocess.run([sys.executable, "-m", "bot", "report", "--db", sqlite_db.url, "--format", "csv",
                        "-o", str(out)], env=env, capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr.decode()
    assert r.stdout == b"" and "5 个案例" in r.stderr.decode("utf-8")
    assert out.read_bytes().startswith("\ufeff区块".encode())


def test_no_matching_case_is_a_message_not_an_error(sqlite_db: Built, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, data = _cli("--db", sqlite_db.url, "--format", "csv", "--shop", "没有这家店")
    assert (code, data) == (0, b"")
    assert "没有符合条件的案例" in out
    empty = tmp_path / "empty.db"

    async def fresh() -> None:
        await (await Store.open(f"sqlite:///{empty}")).close()

    asyncio.run(fresh())
    monkeypatch.chdir(tmp_path)
    code, out, _ = _cli("--db", f"sqlite:///{empty}")
    assert code == 0 and "没有符合条件的案例" in out
    assert not (tmp_path / "csbot-report.html").exists()


@pytest.mark.parametrize(("args", "said"), [
    (["--since", "2026-13-01"], "没有这一天：2026-13-01"),
    (["--until", "下下个月"], "看不懂“下下个月”：可以写 2026-12-01、2026-12-01 10:00、2026/12/01、12-01"),
    (["--since", "2026-03-01 25:00"], "没有这个时间：“25:00”"),
    (["--since", "2026-03-20", "--until", "2026-03-01"], "开始时间 2026-03-20 晚于结束时间 2026-03-01")])
def test_bad_dates_exit_2(sqlite_db: Built, args: list[str], said: str) -> None:
    code, out, _ = _cli("--db", sqlite_db.url, *args)
    assert code == 2
    assert said in out and "Traceback" not in out


@pytest.mark.parametrize(("args", "cases", "scope"), [
    # the cases were created at 18:00 and 23:00 (03-01), 17:00 (03-10), 17:00 and 19:00 (03-20)
    # Beijing time: what a lead types is read on the shop's clock (Asia/Shanghai by default)
    (["--since", "2026-03-20 18:00"], 1, "2026-03-20 18:00 起"),
    (["--since", "2026/03/01", "--until", "2026-03-01 20:00"], 1, "2026-03-01 起 至 2026-03-01 20:00"),
    (["--since", "03-10", "--until", "3月20日"], 3, "2026-03-10 起 至 2026-03-20"),
    (["--until", "2026年3月1日"], 2, "至 2026-03-01"),
])
def test_dates_as_a_lead_types_them(sqlite_db: Built, args: list[str], cases: int, scope: str) -> None:
    """`--since` took YYYY-MM-DD only: `2026-12-01 10:00`, `12-01`, `2026/12/01`, `7天`, `昨天`
    and `本周` were refused. Month-day without a year is this year (2026 here: the cases were
    made in March and it is later than that whenever this runs)."""
    code, out, data = _cli("--db", sqlite_db.url, "--format", "csv", *args)
    assert code == 0, out
    assert f"总览,案例数,数值,{cases}," in data.decode("utf-8-sig"), args
    code, out, _ = _cli("--db", sqlite_db.url, "-o", "-", *args)
    assert scope in out, out


@pytest.mark.parametrize("word", ["7d", "7天", "近7天", "昨天", "本周", "本月", "24h"])
def test_relative_periods_are_taken(sqlite_db: Built, word: str) -> None:
    code, out, _ = _cli("--db", sqlite_db.url, "--since", word, "--format", "csv")
    assert code == 0 and "没有符合条件的案例" in out  # the cases are from March 2026


def test_the_ends_of_a_period_on_the_shops_clock() -> None:
    from zoneinfo import ZoneInfo

    from bot.periods import parse_bound

    tz = ZoneInfo("Asia/Shanghai")
    now = datetime(2026, 12, 3, 15, 30, tzinfo=tz)  # a Thursday

    def at(text: str, end: bool = False) -> tuple[str, str]:
        b = parse_bound(text, now, end=end)
        return f"{b.at.astimezone(tz):%Y-%m-%d %H:%M}", b.shown

    assert at("7d") == at("7天") == at("近7天") == ("2026-11-26 15:30", "2026-11-26 15:30")
    assert at("24h") == ("2026-12-02 15:30", "2026-12-02 15:30")
    assert at("昨天") == ("2026-12-02 00:00", "2026-12-02")
    assert at("昨天", end=True) == ("2026-12-03 00:00", "2026-12-02")  # the whole of yesterday
    assert at("本周") == ("2026-11-30 00:00", "2026-11-30")
    assert at("本周", end=True) == ("2026-12-07 00:00", "2026-12-06")
    assert at("上周") == ("2026-11-23 00:00", "2026-11-23")
    assert at("本月") == ("2026-12-01 00:00", "2026-12-01")
    assert at("上个月", end=True) == ("2026-12-01 00:00", "2026-11-30")
    assert at("12-01") == at("2026/12/01") == at("12月1日") == ("2026-12-01 00:00", "2026-12-01")
    assert at("2026-12-01 10:00") == at("12-01 10点") == at("2026-12-01T10:00:00") == (
        "2026-12-01 10:00", "2026-12-01 10:00")
    assert at("12-01 10:00", end=True) == ("2026-12-01 10:00", "2026-12-01 10:00")  # up to that minute
    assert at("12-25") == ("2025-12-25 00:00", "2025-12-25")  # still to come this year: last year's
    with pytest.raises(ValueError, match="看不懂“上午”"):
        at("上午")


def test_a_database_that_is_missing_or_not_csbots(tmp_path: Path) -> None:
    missing = tmp_path / "nope.db"
    code, out, _ = _cli("--db", f"sqlite:///{missing}")
    assert code == 3 and "数据库文件不存在" in out and "Traceback" not in out
    assert not missing.exists()  # a report never creates a database
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE notes (id INTEGER)")
    code, out, _ = _cli("--db", f"sqlite:///{other}")
    assert code == 3 and "这不是 csbot 的数据库" in out
    junk = tmp_path / "junk.db"
    junk.write_text("这不是数据库" * 200, encoding="utf-8")
    code, out, _ = _cli("--db", f"sqlite:///{junk}")
    assert code == 3 and "无法打开数据库" in out and "Traceback" not in out
    code, out, _ = _cli("--db", "mysql://localhost/x")
    assert code == 3 and "不支持的数据库" in out


def test_a_postgresql_database_that_does_not_exist() -> None:
    url = create_database()
    drop_database(url)
    with pytest.raises(ReportError, match="无法打开数据库"):
        _records(url)


def test_every_outcome_has_a_label_even_in_an_older_dialogs_copy(tmp_path: Path, engine: Engine) -> None:
    bundled = dict(engine.labels.names["outcome"])
    assert set(bundled) >= {"resolved", "review_updated", "review_kept", "callback", "malicious",
                            "escalated", "unreachable", "wrong_person"}
    assert bundled["review_updated"] == "已改评"
    old = tmp_path / "dialogs"
    shutil.copytree(ROOT / "dialogs", old)
    words = load_yaml_text((old / "defaults.yaml").read_text(encoding="utf-8"))
    del words["outcome_labels"]
    words["cause_names"] = {"quality": "做工"}  # the shop renamed one, the rest come bundled
    (old / "defaults.yaml").write_text(dump_yaml(words, allow_unicode=True), encoding="utf-8")
    older = Engine.load(old)
    assert dict(older.labels.names["outcome"]) == bundled
    labels = Labels.from_engine(older)
    assert labels.name("cause", "quality") == "做工" and labels.name("cause", "logistics") == "物流问题"
    assert labels.name("remedy", "refund") == "直接退款" and labels.name("stage", "explain") == "解释原因"
    assert labels.name("outcome", "") == "未登记结果" and labels.name("agent", "小林") == "小林"


def test_every_label_has_one_chinese_name_in_the_bundled_data(engine: Engine) -> None:
    # Chat cards, the sidebar and the report all read the engine's labels: every id the
    # understanding can produce is named, in Chinese.
    labels = engine.labels
    assert set(labels.emotions) == {"calm", "upset", "angry"}
    assert set(labels.names["severity"]) == {"block", "warn", "info"}
    assert {"quality", "logistics", "counterfeit"} <= set(labels.causes)
    assert {"affirm", "extort", "other"} <= set(labels.intents) and "blame_buyer" in labels.acts
    assert set(labels.codes) == set(engine.understand.spec("guard.yaml")["codes"])
    names = [n for kind in ("intent", "cause", "emotion", "act", "outcome", "code", "severity")
             for n in labels.names[kind].values()]
    assert all(any("\u4e00" <= c <= "\u9fff" for c in n) for n in names)



def test_csv_cells_never_start_a_formula(engine: Engine) -> None:
    # An agent's name comes from a token or a request: Excel must not run it.
    evil = ["=HYPERLINK(\"http://x\",\"点我\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\t=1"]
    records = [CaseRecord(id=f"x{i}", shop="店", agent=name, stage="closed", last_stage="closing",
                          outcome="resolved", is_open=False, created_at=datetime(2026, 3, 1, tzinfo=UTC),
                          cause="", remedy="", review_answer="", platform="taobao", rating="差评", turns=2)
               for i, name in enumerate(evil)]
    rows = list(csv.reader(io.StringIO(csv_bytes(_report(records, engine)).decode("utf-8-sig"))))
    cells = [c for row in rows for c in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "@", "\t") or (c[:1] == "-" and not
                                                                     re.fullmatch(r"-\d+(\.\d+)?%?", c))]
    assert "'=HYPERLINK(\"http://x\",\"点我\")" in cells


def test_the_report_page_allows_no_script() -> None:
    from bot.insights.render import cell

    page = (Path(__file__).parent.parent / "bot/insights/report.html.j2").read_text(encoding="utf-8")
    assert "Content-Security-Policy" in page and "script-src 'none'" in page
    assert cell("-3") == "-3" and cell("-1.5%") == "-1.5%" and cell("-x") == "'-x"


def test_chart_values_sit_clear_of_lines_and_bars(sqlite_db: Built, engine: Engine) -> None:
    # Users saw the dashed guide lines run through the values printed on the bars, and a 0%
    # sat on the axis line. Each value now stands after the end of its bar, with no guide line.
    import xml.etree.ElementTree as ET

    page = html(_report(_records(sqlite_db.url), engine))
    svgs = [ET.fromstring(s) for s in re.findall(r"<svg.*?</svg>", page, re.S)]
    assert len(svgs) == 6
    for svg in svgs:
        nodes = list(svg.iter())
        assert not [n for n in nodes if n.tag.endswith("path") and "guide" in n.get("class", "").split()]
        if "horizontalbar-graph" not in " ".join(n.get("class", "") for n in nodes):
            continue  # the pie and the stacked bars keep their values inside their slices
        bars = [n for n in nodes if n.tag.endswith("rect") and "reactive" in n.get("class", "")]
        values = [n for n in nodes if n.tag.endswith("text") and n.get("class") == "value"]
        assert bars and len(bars) == len(values)
        for bar, value in zip(bars, values, strict=True):
            end = float(bar.get("x", 0)) + float(bar.get("width", 0))
            assert value.get("text-anchor") == "start" and float(value.get("x", 0)) > end
    stacked = next(s for s in svgs if "horizontalstackedbar-graph" in ET.tostring(s, encoding="unicode"))
    printed = [n.text for n in stacked.iter() if n.tag.endswith("text") and n.get("class") == "value"]
    assert printed and "0" not in printed  # no label without a bar


def test_count_axes_step_by_round_numbers() -> None:
    from bot.insights.charts import tick_step

    assert [tick_step(n) for n in (0, 3, 10, 12, 36, 190, 359, 1234)] == [1, 1, 1, 2, 5, 20, 50, 200]


async def test_a_second_review_request_counts_as_a_compliance_finding(tmp_path: Path, aiohttp_client: Any) -> None:
    """The agent asked for the review twice: the sidebar warned 重复请求改评 (a compliance code in
    defaults.yaml's finding_labels, found by the flow, so without a span), and the lead's report
    said 合规提醒 0: it counted only the warnings with a span."""
    from bot.server.app import STORE, build_app

    engine = shared_engine()
    db = f"sqlite:///{tmp_path / 'csbot.db'}"
    app = await build_app(db, engine)
    token = await app[STORE].add_token("小林", "agent", "柚子家女装")
    client = await aiohttp_client(app)
    h = {"Authorization": f"Bearer {token}"}
    r = await client.post("/api/v1/conversations", headers=h,
                          json={"shop": "柚子家女装", "buyer_name": "陈静", "honorific": "女士", "product": "羽绒服"})
    conv_id = (await r.json())["conversation"]["id"]
    said = []
    for role, text in [("agent", "您好，请问是陈静女士吗？我是柚子家女装的售后小林。"), ("buyer", "是我"),
                       ("agent", "亲，方便的话麻烦您把评价改一下吧"), ("agent", "亲，评价的事还麻烦您改一下哈")]:
        r = await client.post(f"/api/v1/conversations/{conv_id}/messages", json={"role": role, "text": text},
                              headers=h)
        said.append({w["code"] for w in (await r.json())["warnings"]})
    assert "repeat_request" in said[-1], said
    run = CliRunner(env={"CSBOT_CONFIG": None, "CSBOT_DIALOGS": None})
    out = await asyncio.to_thread(run.invoke, main, ["report", "--db", db, "--format", "csv"])
    rows = list(csv.reader(io.StringIO(out.stdout_bytes.decode("utf-8-sig"))))
    assert ["合规提醒：类型", "重复请求改评", "合规提醒次数", "1"] in [row[:4] for row in rows], out.output
    # a flow note that is no compliance code (early_request: asked before the fix) is still left out
    assert not any(row[5] == "early_request" for row in rows[1:])


def test_natural_periods_a_lead_types_are_read_on_the_shops_clock() -> None:
    """`上上周`, `上上个月`, `最近三天`, `近一周` were refused with exit 2 (only digits and one 上
    were read); `前天` and `大前天` were read but never tried here. Each is the shop's calendar."""
    from zoneinfo import ZoneInfo

    from bot.periods import parse_bound

    tz = ZoneInfo("Asia/Shanghai")
    now = datetime(2026, 12, 3, 15, 30, tzinfo=tz)  # a Thursday

    def at(text: str, end: bool = False) -> tuple[str, str]:
        b = parse_bound(text, now, end=end)
        return f"{b.at.astimezone(tz):%Y-%m-%d %H:%M}", b.shown

    assert at("上上周") == at("上上个星期") == ("2026-11-16 00:00", "2026-11-16")
    assert at("上上周", end=True) == ("2026-11-23 00:00", "2026-11-22")  # up to its Sunday, whole
    assert at("上上个月") == at("上上月") == ("2026-10-01 00:00", "2026-10-01")
    assert at("上上个月", end=True) == ("2026-11-01 00:00", "2026-10-31")
    assert at("上个星期") == at("上星期") == at("上周")
    assert at("前天") == ("2026-12-01 00:00", "2026-12-01")
    assert at("大前天", end=True) == ("2026-12-01 00:00", "2026-11-30")
    assert at("最近三天") == at("近3天") == at("过去三天") == ("2026-11-30 15:30", "2026-11-30 15:30")
    assert at("近一周") == at("最近一个星期") == at("近7天") == ("2026-11-26 15:30", "2026-11-26 15:30")
    assert at("近两周") == at("最近十四天") == ("2026-11-19 15:30", "2026-11-19 15:30")
    assert at("近一个月") == at("最近1个月") == ("2026-11-03 15:30", "2026-11-03 15:30")
    assert at("近三个月") == ("2026-09-03 15:30", "2026-09-03 15:30")
    assert at("最近十二小时") == ("2026-12-03 03:30", "2026-12-03 03:30")
    assert at("今年") == ("2026-01-01 00:00", "2026-01-01")
    assert at("去年", end=True) == ("2026-01-01 00:00", "2025-12-31")
    # a month back from the 31st is the last day of the shorter month
    assert parse_bound("近一个月", datetime(2026, 3, 31, 9, 0, tzinfo=tz), end=False).shown == "2026-02-28 09:00"
    for bad in ("下下周", "上上上上", "最近几天", "近零天"):
        with pytest.raises(ValueError, match=f"看不懂“{bad}”：可以写"):
            at(bad)


@pytest.mark.parametrize("word", ["上上周", "上上个月", "前天", "大前天", "最近三天", "近一周"])
def test_natural_periods_are_taken_by_the_cli(sqlite_db: Built, word: str) -> None:
    code, out, _ = _cli("--db", sqlite_db.url, "--since", word, "--format", "csv")
    assert code == 0 and "没有符合条件的案例" in out, out  # the cases are from March 2026


def test_a_period_not_understood_lists_the_forms_it_takes(sqlite_db: Built) -> None:
    code, out, _ = _cli("--db", sqlite_db.url, "--since", "大大前天")
    assert code == 2, out
    assert "看不懂“大大前天”" in out and "上上周" in out and "最近三天" in out and "前天" in out, out


def test_the_date_reader_is_core_not_a_channel() -> None:
    """bot/periods.py imported parse_day from the console channel: the core read its dates from an
    adapter. The reader lives in bot/periods.py; the console (a channel) uses it from there."""
    import ast
    from pathlib import Path

    import bot.periods
    root = Path(bot.periods.__file__).parent
    assert callable(bot.periods.parse_day)
    for path in [root / "periods.py", root / "corrections_cli.py", root / "cli.py"]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "bot.channels.console":
                assert "parse_day" not in [a.name for a in node.names], path
    source = (root / "periods.py").read_text(encoding="utf-8")
    assert "bot.channels" not in source


def test_a_remedy_that_solved_the_problem_counts_as_resolved_whatever_the_review(engine: Engine) -> None:
    """User trial: a refund closed as 未改评 read "退货退款 解决率 0%". The remedy solved the buyer's
    problem (domain: a satisfied buyer, whether or not the review changes): resolved; the review
    change is its own figure (改评率), in the overview and per remedy and cause."""
    def case(i: int, outcome: str, remedy: str) -> CaseRecord:
        return CaseRecord(id=f"r{i}", shop="店", agent="小林", stage="closed", last_stage="closing",
                          outcome=outcome, is_open=False, created_at=datetime(2026, 3, 1, tzinfo=UTC),
                          cause="quality", remedy=remedy, review_answer="", platform="taobao",
                          rating="差评", turns=8)
    records = [case(1, "review_kept", "return_refund"), case(2, "review_updated", "return_refund"),
               case(3, "", "return_refund"), case(4, "review_kept", "")]  # the last: every option declined
    tables = {t.id: t for t in analytics.build(records)}
    remedies = tables["remedies"]
    assert remedies.value("return_refund", "resolution_rate") == 1.0
    assert remedies.value("return_refund", "review_updated") == 1
    assert round(remedies.value("return_refund", "review_updated_rate") or 0, 3) == 0.333
    assert remedies.value("", "resolution_rate") == 0.0
    o = tables["overview"].column("value")
    assert (o["resolved"], o["resolution_rate"], o["review_updated"], o["review_updated_rate"]) == (3, 0.75, 1, 0.25)
    assert tables["causes"].value("quality", "review_updated") == 1
    rows = list(csv.reader(io.StringIO(csv_bytes(_report(records, engine)).decode("utf-8-sig"))))
    assert ["哪种补救最管用", "退货退款（运费我们出）", "解决率", "100.0%", "remedies", "return_refund",
            "resolution_rate"] in rows
    assert ["哪种补救最管用", "退货退款（运费我们出）", "改评率", "33.3%", "remedies", "return_refund",
            "review_updated_rate"] in rows
    assert ["总览", "已解决", "数值", "3", "overview", "resolved", "value"] in rows
