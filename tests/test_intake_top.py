"""The TOP client against a fake open platform: a real aiohttp server on 127.0.0.1 that
checks every request's signature and timestamp and, like the platform, answers at most 1,500
results per query; and `csbot import --top` / `csbot explain` as a user runs them."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import hmac
import json
import os
import sqlite3
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.intake.top import TopClient, TopConfig, TopError, review_of_rate, sign

CN = ZoneInfo("Asia/Shanghai")
KEY, SECRET, SESSION = "12345678", "s3cr3t-测试", "6100a1b2c3"
FMT = "%Y-%m-%d %H:%M:%S"


def expected_sign(params: dict[str, str], method: str) -> str:
    """The platform's documented algorithm, written out again here."""
    joined = "".join(k + params[k] for k in sorted(params) if k != "sign" and params[k] != "")
    if method == "md5":
        return hashlib.md5(f"{SECRET}{joined}{SECRET}".encode()).hexdigest().upper()
    return hmac.new(SECRET.encode(), joined.encode(), "md5").hexdigest().upper()


@dataclass
class FakeTop:
    """The open platform's router: traderates.get and traderate.explain.add."""

    rates: list[dict[str, Any]]
    windows: list[tuple[str, str, str]] = field(default_factory=list)  # result, start, end of page 1s
    calls: int = 0
    bad_signatures: int = 0
    explained: dict[str, str] = field(default_factory=dict)
    fail_with: dict[str, Any] | None = None
    now: datetime = field(default_factory=lambda: datetime.now(CN))

    def error(self, code: int, msg: str, sub_code: str = "", sub_msg: str = "") -> web.Response:
        return web.json_response({"error_response": {"code": code, "msg": msg, "sub_code": sub_code,
                                                     "sub_msg": sub_msg, "request_id": "x"}})

    async def handle(self, request: web.Request) -> web.Response:
        self.calls += 1
        p = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
        for name in ("method", "app_key", "session", "timestamp", "v", "sign_method", "sign", "format"):
            if name not in p:
                return self.error(40, "Missing Required Arguments", f"missing-{name}")
        if p["sign"] != expected_sign(p, p["sign_method"]):
            self.bad_signatures += 1
            return self.error(25, "Invalid Signature")
        if abs(datetime.strptime(p["timestamp"], FMT).replace(tzinfo=CN) - datetime.now(CN)) > timedelta(minutes=10):
            return self.error(31, "Invalid Timestamp")
        if p["app_key"] != KEY:
            return self.error(29, "Invalid App Key")
        if p["session"] != SESSION:
            return self.error(27, "Invalid session", "invalid-sessionkey", "SessionKey非法")
        if self.fail_with:
            return self.error(**self.fail_with)
        if p["method"] == "taobao.traderates.get":
            return self.traderates(p)
        if p["method"] == "taobao.traderate.explain.add":
            if p["oid"] in self.explained:
                return self.error(15, "Remote service error", "isv.explain-already-exist", "该评价已经解释过")
            self.explained[p["oid"]] = p["reply"]
            return web.json_response({"traderate_explain_add_response": {"is_success": True}})
        return self.error(22, "Invalid Method")

    def traderates(self, p: dict[str, str]) -> web.Response:
        assert (p["rate_type"], p["role"]) == ("get", "buyer") and p["result"] in ("neutral", "bad")
        assert set(p["fields"].split(",")) >= {"tid", "oid", "nick", "result", "created", "item_title",
                                               "item_price", "content", "reply", "valid_score"}
        page_no, page_size = int(p["page_no"]), int(p["page_size"])
        if page_size > 150 or page_no > 200:
            return self.error(41, "Invalid Arguments", "isv.invalid-parameter:page_size")
        start = datetime.strptime(p["start_date"], FMT).replace(tzinfo=CN)
        end = datetime.strptime(p["end_date"], FMT).replace(tzinfo=CN)
        if start < self.now - timedelta(days=180):
            return self.error(41, "Invalid Arguments", "isv.invalid-parameter:start_date", "只能查询180天内")
        hits = [r for r in self.rates if r["result"] == p["result"] and start <= _at(r["created"]) <= end]
        if page_no == 1:
            self.windows.append((p["result"], p["start_date"], p["end_date"]))
        first = (page_no - 1) * page_size
        if first + page_size > 1500:  # the platform answers no further than 1,500 results
            return self.error(41, "Invalid Arguments", "isv.invalid-parameter:page_no", "最多返回1500条")
        page = hits[first:first + page_size]
        return web.json_response({"traderates_get_response": {
            "total_results": len(hits), "trade_rates": {"trade_rate": page}}})


@functools.cache
def _at(stamp: str) -> datetime:
    """A rate's time, read once: every page request filters all 3,650 rates."""
    return datetime.strptime(stamp, FMT).replace(tzinfo=CN)


def make_rates(n_bad: int, n_neutral: int, days: float, now: datetime) -> list[dict[str, Any]]:
    out = []
    total = n_bad + n_neutral
    for i in range(total):
        created = now - timedelta(days=days) + timedelta(seconds=(days * 86400 - 3600) * i / total)
        out.append({"tid": 5000000 + i, "oid": 7000000 + i, "nick": f"b**{i % 97}",
                    "result": "bad" if i < n_bad else "neutral", "created": created.strftime(FMT),
                    "item_title": f"宝贝{i % 30}", "item_price": "59.00", "content": f"第{i}个：质量不好",
                    "reply": "", "valid_score": True})
    return out


@pytest.fixture
async def fake() -> AsyncIterator[tuple[FakeTop, str]]:
    top = FakeTop(make_rates(3400, 250, 10, datetime.now(CN)))
    app = web.Application()
    app.router.add_post("/router/rest", top.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield top, str(server.make_url("/router/rest"))
    await server.close()


def test_signatures_as_documented() -> None:
    params = {"foo": "1", "bar": "2", "foo_bar": "3", "foobar": "4", "empty": ""}
    digest = hashlib.md5(b"helloworldbar2foo1foo_bar3foobar4helloworld").hexdigest().upper()
    assert sign(params, "helloworld", "md5") == digest
    assert sign({**params, "sign": "ignored"}, "helloworld", "md5") == digest
    keyed = hmac.new(b"helloworld", b"bar2foo1foo_bar3foobar4", "md5").hexdigest().upper()
    assert sign(params, "helloworld", "hmac") == keyed
    assert len(digest) == 32 and digest.isupper()


@pytest.mark.parametrize("method", ["md5", "hmac"])
async def test_more_than_1500_results_are_fetched_by_splitting_windows(
        fake: tuple[FakeTop, str], method: str) -> None:
    top, url = fake
    now = datetime.now(CN)
    async with aiohttp.ClientSession() as http:
        client = TopClient(TopConfig(KEY, SECRET, SESSION, url, method), http)  # type: ignore[arg-type]
        got = [r async for r in client.rates(now - timedelta(days=11), now)]
    assert top.bad_signatures == 0
    assert len(got) == 3650 and len({r["oid"] for r in got}) == 3650
    bad_windows = [w for w in top.windows if w[0] == "bad"]
    assert len(bad_windows) > 3  # the first window was too big and was split
    assert len([w for w in top.windows if w[0] == "neutral"]) == 1  # 250 fit in one query
    reviews = [review_of_rate(r, shop="店", platform="taobao") for r in got]
    assert {r.rating for r in reviews if r} == {"差评", "中评"}
    assert not any(r.explained for r in reviews if r)
    replied = review_of_rate({**got[0], "reply": "已为您补发"}, shop="店", platform="tmall")
    assert replied is not None and replied.explained and replied.platform == "tmall"
    assert replied.shop_reply == "已为您补发"  # shown with the case, as a file's 商家回复 column
    assert review_of_rate({**got[0], "result": "good"}, shop="店", platform="taobao") is None


async def test_platform_errors_come_out_in_chinese(fake: tuple[FakeTop, str]) -> None:
    top, url = fake
    now = datetime.now(CN)
    async with aiohttp.ClientSession() as http:
        expired = TopClient(TopConfig(KEY, SECRET, "old-session", url), http)
        with pytest.raises(TopError) as caught:
            [r async for r in expired.rates(now - timedelta(days=1), now)]
        assert caught.value.code == 27
        assert caught.value.message.startswith("店铺授权（SessionKey）已过期或无效：请店铺主账号重新授权应用")
        wrong = TopClient(TopConfig(KEY, "not-the-secret", SESSION, url), http)
        with pytest.raises(TopError, match="签名不对：请检查 CSBOT_TOP_APP_SECRET"):
            [r async for r in wrong.rates(now - timedelta(days=1), now)]
        top.fail_with = {"code": 7, "msg": "App Call Limited", "sub_code": "accesscontrol.limited-by-app-access-count",
                         "sub_msg": "This ban will last for 12 more seconds"}
        limited = TopClient(TopConfig(KEY, SECRET, SESSION, url), http)
        with pytest.raises(TopError, match="调用太频繁，被开放平台限流了：请过几分钟再试") as caught:
            [r async for r in limited.rates(now - timedelta(days=1), now)]
        assert "This ban will last" in caught.value.message
        nowhere = TopClient(TopConfig(KEY, SECRET, SESSION, "http://127.0.0.1:9/router/rest"), http)
        with pytest.raises(TopError, match="连不上开放平台"):
            await nowhere.call("taobao.traderates.get")


async def cli(*args: str, env: dict[str, str], cwd: Path, stdin: bytes = b"") -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, cwd=cwd, env={**os.environ, **env},
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(stdin), 180)
    return proc.returncode or 0, out.decode(), err.decode()


async def test_import_top_then_since_last_then_explain_once(fake: tuple[FakeTop, str], tmp_path: Path) -> None:
    top, url = fake
    env = {"CSBOT_TOP_APP_KEY": KEY, "CSBOT_TOP_APP_SECRET": SECRET, "CSBOT_TOP_SESSION": SESSION,
           "CSBOT_TOP_API_BASE": url, "CSBOT_TOP_SIGN_METHOD": "hmac", "CSBOT_SHOP": "柚子家女装",
           "CSBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'top.db'}"}
    since = (datetime.now(CN) - timedelta(days=11)).strftime("%Y-%m-%d")
    code, out, err = await cli("import", "--top", "--since", since, "--json", env=env, cwd=tmp_path)
    assert code == 0, err
    first = json.loads(out)
    assert (first["fetched"], first["cases"], first["reviews"]) == (3650, 3650, 3650)
    assert top.bad_signatures == 0
    # New reviews arrive; the scheduled run carries on where the last one ended.
    stamp = datetime.now(CN) - timedelta(seconds=30)
    top.rates.append({**top.rates[0], "oid": 1, "tid": 2, "created": stamp.strftime(FMT), "nick": "新**买家"})
    top.windows.clear()
    code, out, err = await cli("import", "--top", "--since", "last", env=env, cwd=tmp_path)
    assert code == 0, err
    assert "新开案例 1 个，新增中差评 1 条" in out and "下次接着拉：csbot import --top --since last" in out
    carried = datetime.fromisoformat(first["until"]) - timedelta(hours=1)  # an hour's overlap
    assert top.windows and all(w[1] == carried.strftime(FMT) for w in top.windows)
    # The 180-day limit: an older start is cut, and said so.
    code, out, err = await cli("import", "--top", "--since", "2020-01-01", env=env, cwd=tmp_path)
    assert code == 0 and "开放平台只能查最近 180 天的评价" in err, err
    # Errors in Chinese, exit code 3, no traceback.
    code, out, err = await cli("import", "--top", env={**env, "CSBOT_TOP_SESSION": "expired"}, cwd=tmp_path)
    assert code == 3 and "店铺授权（SessionKey）已过期或无效" in err and "Traceback" not in err
    code, out, err = await cli("import", "--top", env={**env, "CSBOT_TOP_APP_KEY": ""}, cwd=tmp_path)
    assert code == 3 and "缺少 CSBOT_TOP_APP_KEY" in err
    # The public explanation: confirmed, posted once, never twice.
    code, out, err = await cli("queue", "--json", "-q", "新**买家", env=env, cwd=tmp_path)
    cid = json.loads(out)["items"][0]["conversation_id"]
    reply = "感谢您的反馈，我们已经联系厂家改进做工，也给您办理了退换。"
    code, out, err = await cli("explain", cid[:8], "--text", reply, env=env, cwd=tmp_path, stdin=b"n\n")
    assert code == 0 and "没有发布" in out and top.explained == {}
    code, out, err = await cli("explain", cid[:8], "--text", reply, env=env, cwd=tmp_path, stdin=b"y\n")
    assert code == 0 and "已发布 1 条评价的公开解释" in out, err
    assert top.explained == {"1": reply}
    code, out, err = await cli("explain", cid[:8], "--text", reply, "--yes", env=env, cwd=tmp_path)
    assert code == 1 and "每条评价只能解释一次" in err
    # the reply posted is kept as the case's 商家回复 (it was lost: "已经解释过了" and no text)
    assert f"这条评价下已经有商家回复：\n{reply}" in out, out
    with sqlite3.connect(tmp_path / "top.db") as db:
        state = json.loads(db.execute("select state from conversations where id = ?", (cid,)).fetchone()[0])
    assert state["case"]["shop_reply"] == reply
    # 12 hex digits: among 3,650 random ids a 4-digit prefix like 0000 exists one run in 18
    code, out, err = await cli("explain", "00000000-0000", "--text", reply, env=env, cwd=tmp_path)
    assert code == 2 and "没有编号以 00000000-0000 开头的案例" in err
    bad = "您要是改成好评，我们就返您10元红包。"
    other = json.loads((await cli("queue", "--json", "--limit", "1", env=env, cwd=tmp_path))[1])["items"][0]
    code, out, err = await cli("explain", other["conversation_id"], "--text", bad, "--yes", env=env, cwd=tmp_path)
    assert code == 1 and "禁止" in err and "没有发布" in err and len(top.explained) == 1


@contextlib.asynccontextmanager
async def _imported(top: FakeTop, tmp_path: Path) -> AsyncIterator[dict[str, str]]:
    """``top`` served as the open platform and its last two days imported into a new SQLite
    database: the environment the CLI then runs with."""
    app = web.Application()
    app.router.add_post("/router/rest", top.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        env = {"CSBOT_TOP_APP_KEY": KEY, "CSBOT_TOP_APP_SECRET": SECRET, "CSBOT_TOP_SESSION": SESSION,
               "CSBOT_TOP_API_BASE": str(server.make_url("/router/rest")), "CSBOT_TOP_SIGN_METHOD": "hmac",
               "CSBOT_SHOP": "柚子家女装", "CSBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'top.db'}"}
        since = (datetime.now(CN) - timedelta(days=2)).strftime("%Y-%m-%d")
        code, _out, err = await cli("import", "--top", "--since", since, env=env, cwd=tmp_path)
        assert code == 0, err
        yield env
    finally:
        await server.close()


async def test_the_reply_posted_is_kept_masked_as_the_cases_shop_reply(tmp_path: Path) -> None:
    """The public reply goes to the platform as written; the copy kept as the case's 商家回复 is
    masked at rest like every text kept (docs/privacy.md): no phone number in the raw row."""
    top = FakeTop(make_rates(2, 1, 1, datetime.now(CN)))
    async with _imported(top, tmp_path) as env:
        code, out, err = await cli("queue", "--json", "--limit", "1", env=env, cwd=tmp_path)
        cid = json.loads(out)["items"][0]["conversation_id"]
        reply = "感谢您的反馈，已为您补发。如有问题请拨打售后电话13812345678。"
        code, out, err = await cli("explain", cid, "--text", reply, "--yes", env=env, cwd=tmp_path)
        assert code == 0 and "已发布 1 条评价的公开解释" in out, err
        assert list(top.explained.values()) == [reply]  # the platform gets it as written
    with sqlite3.connect(tmp_path / "top.db") as db:
        raw = db.execute("select state from conversations where id = ?", (cid,)).fetchone()[0]
        tables = [t for (t,) in db.execute("select name from sqlite_master where type = 'table'")]
        rows = "\n".join(repr(row) for table in tables for row in db.execute(f'select * from "{table}"'))
    assert json.loads(raw)["case"]["shop_reply"] == "感谢您的反馈，已为您补发。如有问题请拨打售后电话[手机号]。"
    assert "13812345678" not in raw and "13812345678" not in rows
    data = b"".join(p.read_bytes() for p in tmp_path.glob("top.db*"))
    assert b"13812345678" not in data and "13812345678".encode("utf-16-le") not in data
    # shown again as kept: the masked reply, no second one drafted
    code, out, err = await cli("explain", cid, "--text", reply, "--yes", env=env, cwd=tmp_path)
    assert code == 1 and "这条评价下已经有商家回复：\n感谢您的反馈，已为您补发。如有问题请拨打售后电话[手机号]。" in out


async def test_a_public_reply_that_names_the_buyer_is_not_posted_and_no_name_is_kept(tmp_path: Path) -> None:
    """The 商家回复 is read by every future buyer: "感谢王小明女士的反馈" publishes the buyer's real
    name. `csbot explain` refuses it with the reason in Chinese and a rewrite (王女士); the reply
    with 王女士 goes out. A reply imported with the name is kept as [姓名] (the case keeps the name
    only in buyer_name, to call the buyer by it)."""
    rates = make_rates(2, 0, 1, datetime.now(CN))
    rates[0]["nick"] = rates[1]["nick"] = "王小明"
    rates[1]["reply"] = "感谢王小明女士的反馈，已为您补发配件。"
    top = FakeTop(rates)
    async with _imported(top, tmp_path) as env:
        with sqlite3.connect(tmp_path / "top.db") as db:
            states = [json.loads(s) for (s,) in db.execute("select state from conversations")]
        todo = next(s["id"] for s in states if not s["case"].get("shop_reply"))
        named = "感谢王小明女士的反馈，已为您补发配件，我们也会加强出库检查。"
        code, out, err = await cli("explain", todo, "--text", named, "--yes", env=env, cwd=tmp_path)
        assert code == 1 and top.explained == {}, (out, err)
        assert ("禁止：商家回复是公开的，以后的买家都看得到：不能写出买家的全名，姓名是买家的隐私。"
                "称呼用“您”，或者只用姓加称呼（如“王女士”）。") in err
        assert "建议改为：感谢王女士的反馈，已为您补发配件，我们也会加强出库检查。" in err
        assert "解释里有不合规的内容，没有发布。" in err
        polite = "感谢王女士的反馈，已为您补发配件，我们也会加强出库检查。"
        code, out, err = await cli("explain", todo, "--text", polite, "--yes", env=env, cwd=tmp_path)
        assert code == 0 and "已发布 1 条评价的公开解释" in out and "禁止" not in err, err
        assert list(top.explained.values()) == [polite]
    with sqlite3.connect(tmp_path / "top.db") as db:
        states = [json.loads(s) for (s,) in db.execute("select state from conversations")]
        tables = [t for (t,) in db.execute("select name from sqlite_master where type = 'table'")]
        rows = "\n".join(repr(row) for t in tables for row in db.execute(f'select * from "{t}"'))
        keys = [k for (k,) in db.execute("select buyer_key from conversations")]
    replies = sorted(s["case"]["shop_reply"] for s in states)
    assert replies == sorted([polite, "感谢[姓名]女士的反馈，已为您补发配件。"])
    assert all(s["case"]["buyer_name"] == "王小明" for s in states)
    # the name only where the case needs it: buyer_name, and the key that tells buyers apart
    assert "王小明女士" not in rows
    assert rows.count("王小明") == sum(repr(s).count("王小明") for s in states) + keys.count("王小明")
