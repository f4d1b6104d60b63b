"""The agent sidebar: its page, the lint endpoint, the WebSocket token, and a real headless Chromium."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import logging
import os
import re
import shutil
import tempfile
import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from bot.server.app import STORE, build_app
from tests.server_proc import TOKEN, ServerProcess, call
from tests.shared import shared_engine

ENGINE = shared_engine()
CASE = {"shop": "柚子家女装", "buyer_name": "周敏", "honorific": "女士", "product": "连衣裙"}
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
BUYER_LINE = "记得，颜色跟图片差好多，到手发灰发暗，我很失望"
BAD_DRAFT = "好评返现5元，您看可以吗？"
APOLOGY = "非常抱歉，颜色和图片差这么多，换谁都会失望，给您添麻烦了。"


# ---------------------------------------------------------------- in process (aiohttp client)

class Api:
    def __init__(self, client: TestClient, agent: str) -> None:
        self.client, self.agent = client, agent

    def h(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.agent}"}

    async def lint(self, body: Any, **kw: Any) -> tuple[int, Any]:
        kw.setdefault("headers", self.h())
        data = body if isinstance(body, bytes) else json.dumps(body)
        r = await self.client.post("/api/v1/lint", data=data,
                                   headers={"Content-Type": "application/json", **kw["headers"]})
        return r.status, await r.json()


@pytest.fixture
async def api(aiohttp_client: Any, tmp_path: Path) -> AsyncIterator[Api]:
    app = await build_app(f"sqlite:///{tmp_path / 'csbot.db'}", ENGINE, max_body=16 * 1024)
    agent = await app[STORE].add_token("小林", "agent", CASE["shop"])
    yield Api(await aiohttp_client(app), agent)


async def test_lint_finds_a_benefit_tied_to_the_review(api: Api) -> None:
    status, body = await api.lint({"text": BAD_DRAFT})
    assert status == 200
    (f,) = [f for f in body["findings"] if f["code"] == "conditional_benefit"]
    assert f["severity"] == "block" and "评价" in f["message"]
    s, e = f["span"]
    assert "返现" in BAD_DRAFT[s:e]
    assert set(f) == {"code", "severity", "span", "message", "rewrite"} and "评价" in f["rewrite"]


async def test_lint_of_a_clean_apology_is_empty(api: Api) -> None:
    assert await api.lint({"text": APOLOGY}) == (200, {"findings": []})


async def test_lint_needs_a_token(api: Api) -> None:
    r = await api.client.post("/api/v1/lint", json={"text": BAD_DRAFT})
    assert r.status == 401
    assert (await r.json())["error"]["code"] == "unauthorized"
    status, body = await api.lint({"text": BAD_DRAFT}, headers=api.h("csb_wrong"))
    assert status == 401 and body["error"]["message"] == "令牌无效或已被吊销"


@pytest.mark.parametrize(("body", "status", "code"), [
    (b"{not json", 400, "bad_json"),
    (b"", 400, "empty_body"),
    ({}, 422, "invalid"),
    ({"text": ""}, 422, "invalid"),
    ({"text": 5}, 422, "invalid"),
    ({"text": "好" * 2001}, 422, "invalid"),
    ({"text": "您好", "role": "agent"}, 422, "invalid"),
    (["您好"], 422, "invalid"),
])
async def test_lint_bad_bodies(api: Api, body: Any, status: int, code: str) -> None:
    got, answer = await api.lint(body)
    assert got == status and answer["error"]["code"] == code
    assert re.search(r"[\u4e00-\u9fff]", answer["error"]["message"])


async def test_sidebar_page_is_public_chinese_and_self_contained(api: Api) -> None:
    r = await api.client.get("/sidebar")
    assert r.status == 200 and r.content_type == "text/html"
    assert "connect-src 'self'" in r.headers["Content-Security-Policy"]
    html = await r.text()
    assert "<title>csbot 售后助手</title>" in html and 'lang="zh-CN"' in html
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html, re.I)
    assert "innerHTML" not in html
    labels = json.loads(re.search(r'<script id="labels" type="application/json">(.*?)</script>',
                                  html, re.S).group(1))  # type: ignore[union-attr]
    assert labels["cause"]["not_as_described"] == "与描述不符"
    assert labels["stage"]["listen_apologize"] == "倾听致歉"


async def test_openapi_documents_lint_sidebar_and_the_ws_protocol(api: Api) -> None:
    doc = await (await api.client.get("/api/v1/openapi.json")).json()
    assert "post" in doc["paths"]["/api/v1/lint"] and "/sidebar" in doc["paths"]
    assert {"LintIn", "LintOut"} <= set(doc["components"]["schemas"])
    ws = doc["paths"]["/api/v1/conversations/{id}/ws"]["get"]
    assert {"wsProtocol": []} in ws["security"]
    assert any(p["name"] == "Sec-WebSocket-Protocol" for p in ws["parameters"])


async def test_websocket_takes_the_token_as_a_subprotocol(api: Api) -> None:
    r = await api.client.post("/api/v1/conversations", json=CASE, headers=api.h())
    cid = (await r.json())["conversation"]["id"]
    path = f"/api/v1/conversations/{cid}/ws"
    ws = await api.client.ws_connect(path, protocols=("csbot", f"bearer.{api.agent}"))
    assert ws.protocol == "csbot"  # the server never echoes the token back
    await api.client.post(f"/api/v1/conversations/{cid}/messages",
                          json={"role": "buyer", "text": "是的"}, headers=api.h())
    got = json.loads((await ws.receive(timeout=5)).data)
    assert got["turn"] == 1 and got["conversation_id"] == cid
    await ws.close()
    for protocols in (("csbot", "bearer.csb_wrong"), ("csbot",), ("csbot", "bearer.")):
        with pytest.raises(aiohttp.WSServerHandshakeError) as exc:
            await api.client.ws_connect(path, protocols=protocols)
        assert exc.value.status == 401
    # The subprotocol is for the WebSocket only: other routes still want the header.
    r = await api.client.get("/api/v1/conversations",
                             headers={"Sec-WebSocket-Protocol": f"csbot, bearer.{api.agent}"})
    assert r.status == 401


# ---------------------------------------------------------------- finishing a case (in process)

WHOLE_CASE = {**CASE, "order_id": "W-1", "order_date": "2026-11-20", "review_rating": "中评",
              "review_text": "颜色跟图片差好多", "channel": "旺旺", "platform": "taobao"}
# A whole conversation, main path to the script's own close after the agent's goodbye.
SHIFT = [
    ("buyer", "是我，怎么了"),
    ("agent", "您11月20日在我们店买的连衣裙，还记得吗？"),
    ("buyer", BUYER_LINE),
    ("agent", APOLOGY),
    ("agent", "这批面料染色和样图有偏差，我们已经反馈给工厂质检了。"),
    ("agent", "我们可以给您免费换货，来回运费我们承担，或者直接退款，您看哪种方便？"),
    ("buyer", "那就换货吧"),
    ("agent", "好的，马上给您安排换货。评价是您的权利，如果这次处理您觉得还满意，方便的话可以考虑更新一下评价，"
              "不方便也完全没关系。"),
    ("buyer", "行吧，收到货我看看"),
    ("agent", "再次抱歉给您添麻烦了，谢谢您的耐心，欢迎下次再来，祝您生活愉快！"),
]


class Receiver:
    """A real local HTTP server standing in for the supervisors' group robot."""

    def __init__(self) -> None:
        self.got: list[dict[str, Any]] = []
        self.answers: list[tuple[int, dict[str, Any]]] = []  # consumed in order; then 200 errcode 0

    async def handle(self, request: aiohttp.web.Request) -> aiohttp.web.Response:
        self.got.append(await request.json())
        status, body = self.answers.pop(0) if self.answers else (200, {"errcode": 0, "errmsg": "ok"})
        return aiohttp.web.json_response(body, status=status)


class Desk:
    def __init__(self, client: TestClient, tokens: dict[str, str], receiver: Receiver) -> None:
        self.client, self.tokens, self.receiver = client, tokens, receiver

    def h(self, who: str = "小林") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    async def post(self, path: str, body: Any, who: str = "小林") -> tuple[int, Any]:
        r = await self.client.post(path, json=body, headers=self.h(who))
        return r.status, await r.json()

    async def case(self, order_id: str, turns: list[tuple[str, str]], **fields: Any) -> str:
        status, made = await self.post("/api/v1/conversations", {**WHOLE_CASE, "order_id": order_id, **fields})
        assert status == 201, made
        cid: str = made["conversation"]["id"]
        opening = made["suggestion"]["suggestions"][0]["text"]
        for role, text in [("agent", opening), *turns]:
            status, body = await self.post(f"/api/v1/conversations/{cid}/messages", {"role": role, "text": text})
            assert status == 200, body
        return cid


async def _desk(aiohttp_client: Any, aiohttp_server: Any, tmp_path: Path, env: dict[str, str]) -> Desk:
    receiver = Receiver()
    hook = aiohttp.web.Application()
    hook.router.add_post("/robot/send", receiver.handle)
    robot = await aiohttp_server(hook)
    env = {k: v.replace("{robot}", str(robot.make_url("/robot/send"))) for k, v in env.items()}
    app = await build_app(f"sqlite:///{tmp_path / 'csbot.db'}", ENGINE, env=env)
    store = app[STORE]
    tokens = {"小林": await store.add_token("小林", "agent", CASE["shop"]),
              "小周": await store.add_token("小周", "agent", CASE["shop"]),
              "主管": await store.add_token("主管", "admin", "*")}
    return Desk(await aiohttp_client(app), tokens, receiver)


@pytest.fixture
async def desk(aiohttp_client: Any, aiohttp_server: Any, tmp_path: Path) -> Desk:
    return await _desk(aiohttp_client, aiohttp_server, tmp_path,
                       {"CSBOT_ESCALATION_WEBHOOK": "{robot}", "CSBOT_ESCALATION_FORMAT": "wecom"})


async def test_the_outcome_of_a_case_the_script_closed_is_recorded_not_refused(desk: Desk) -> None:
    cid = await desk.case("W-1", SHIFT)
    got = await (await desk.client.get(f"/api/v1/conversations/{cid}", headers=desk.h())).json()
    assert got["conversation"]["stage"] == "closed" and got["conversation"]["outcome"] is None
    turns = got["conversation"]["turns"]
    # Another agent of the shop may not record it; the case's agent may, once; no turn is added.
    status, body = await desk.post(f"/api/v1/conversations/{cid}/close", {"outcome": "resolved"}, who="小周")
    assert status == 403 and "负责它的客服或管理员" in body["error"]["message"]
    status, body = await desk.post(f"/api/v1/conversations/{cid}/close", {"outcome": "resolved"})
    assert status == 200, body
    assert body["conversation"]["outcome"] == "resolved" and body["conversation"]["turns"] == turns
    status, body = await desk.post(f"/api/v1/conversations/{cid}/close", {"outcome": "review_kept"}, who="主管")
    assert status == 409 and body["error"]["message"] == "这个会话已经登记过结果"
    # An admin records the outcome of another script-closed case.
    other = await desk.case("W-2", SHIFT)
    status, body = await desk.post(f"/api/v1/conversations/{other}/close", {"outcome": "review_kept"}, who="主管")
    assert status == 200 and body["conversation"]["outcome"] == "review_kept"
    listed = await (await desk.client.get("/api/v1/conversations?outcome=resolved", headers=desk.h())).json()
    assert [c["id"] for c in listed["items"]] == [cid]


async def test_escalation_tells_the_supervisor_first_then_ticks_the_item(desk: Desk) -> None:
    cid = await desk.case("E-1", SHIFT[:3])
    note = {"note": "买家说要打12315，电话13812345678"}
    status, body = await desk.post(f"/api/v1/conversations/{cid}/escalate", note)
    assert status == 200, body
    (sent,) = desk.receiver.got
    assert sent["msgtype"] == "text"
    text = sent["text"]["content"]
    assert text.startswith("【请主管介入】柚子家女装 · 买家 周敏 · 订单 E-1 · 连衣裙")
    assert "当前阶段：倾听致歉" in text and "客服：小林" in text and cid in text
    assert "13812345678" not in text and "12315" in text  # the note is masked like a stored message
    sug = body["suggestion"]
    assert sug["stage"] == {"id": "escalated", "label": "升级处理"}
    assert {"item": "已请主管介入", "done": True} in sug["checklist"]
    assert body["conversation"]["supervisor_notified"] is True and body["conversation"]["open"] is True
    # Not a turn; reopening the case shows the tick (the current Suggestion, not the last turn's).
    got = await (await desk.client.get(f"/api/v1/conversations/{cid}", headers=desk.h())).json()
    assert len(got["turns"]) == 4 and got["turns"][-1]["stage"] == "listen_apologize"
    assert got["current"]["stage"]["id"] == "escalated"
    assert {"item": "已请主管介入", "done": True} in got["current"]["checklist"]


async def test_escalation_changes_nothing_when_the_supervisor_was_not_told(
        desk: Desk, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.server import escalation

    # the three attempts without the 0.9 s of backoff between them (the backoff: test_channels_outbound.py)
    monkeypatch.setattr(escalation, "POLICY", dataclasses.replace(escalation.POLICY, base_delay=0.0))
    cid = await desk.case("E-2", SHIFT[:3])
    desk.receiver.answers = [(500, {})] * 3
    status, body = await desk.post(f"/api/v1/conversations/{cid}/escalate", {})
    assert status == 502 and body["error"]["code"] == "notify_failed"
    assert body["error"]["message"].startswith("没能通知主管") and "案件没有改动" in body["error"]["message"]
    assert len(desk.receiver.got) == 3  # retried, then gave up
    desk.receiver.answers = [(200, {"errcode": 93000, "errmsg": "invalid webhook url"})]
    status, body = await desk.post(f"/api/v1/conversations/{cid}/escalate", {})
    assert status == 502 and "93000" in body["error"]["message"]
    got = await (await desk.client.get(f"/api/v1/conversations/{cid}", headers=desk.h())).json()
    assert got["conversation"]["stage"] == "listen_apologize"
    assert got["conversation"]["supervisor_notified"] is False
    for bad in ({"note": "好" * 501}, {"who": "x"}):
        status, body = await desk.post(f"/api/v1/conversations/{cid}/escalate", bad)
        assert status == 422 and re.search(r"[\u4e00-\u9fff]", body["error"]["message"])


async def test_escalation_without_a_channel_says_so(aiohttp_client: Any, aiohttp_server: Any, tmp_path: Path,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    """A 503 (the server lacks a setting, the request is right) that tells the agent what to
    do now and the admin what to set, by the TOML key as well as the variable."""
    desk = await _desk(aiohttp_client, aiohttp_server, tmp_path, {})
    cid = await desk.case("E-3", SHIFT[:1])
    caplog.set_level(logging.INFO)
    status, body = await desk.post(f"/api/v1/conversations/{cid}/escalate", {})
    assert status == 503 and body["error"]["code"] == "escalation_unavailable"
    said = body["error"]["message"]
    assert said.startswith("没能通知主管") and "案件没有改动" in said and "请直接联系主管" in said
    assert "escalation_webhook" in said and "CSBOT_ESCALATION_WEBHOOK" in said
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == [
        f"refused POST /api/v1/conversations/{cid}/escalate: 503 escalation_unavailable"]
    got = await (await desk.client.get(f"/api/v1/conversations/{cid}", headers=desk.h())).json()
    assert got["conversation"]["stage"] == "confirm_product"


@pytest.mark.parametrize(("env", "needle"), [
    ({"CSBOT_ESCALATION_WEBHOOK": "ftp://x"}, "http://"),
    ({"CSBOT_ESCALATION_WEBHOOK": "http://127.0.0.1:1/x", "CSBOT_ESCALATION_FORMAT": "qq"}, "wecom"),
    ({"CSBOT_ESCALATION_FORMAT": "slack"}, "CSBOT_ESCALATION_WEBHOOK"),
])
def test_a_bad_escalation_setting_stops_start_up(env: dict[str, str], needle: str) -> None:
    from bot.channels.base import ConfigError
    from bot.server.escalation import from_env

    with pytest.raises(ConfigError, match=needle):
        from_env(env)


def test_the_body_follows_the_receiver() -> None:
    from bot.server.escalation import Notifier, guess_kind

    assert guess_kind("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k") == "wecom"
    assert guess_kind("https://oapi.dingtalk.com/robot/send?access_token=t") == "dingtalk"
    assert guess_kind("https://open.feishu.cn/open-apis/bot/v2/hook/x") == "feishu"
    assert guess_kind("https://hooks.slack.com/services/T/B/x") == "slack"
    assert guess_kind("http://10.0.0.5:9000/notify") == "json"
    assert Notifier("u", "feishu").body("好", {}) == {"msg_type": "text", "content": {"text": "好"}}
    assert Notifier("u", "slack").body("好", {}) == {"text": "好"}
    assert Notifier("u", "json").body("好", {"shop": "店"}) == {"event": "escalation", "text": "好", "shop": "店"}


def test_the_escalation_setting_comes_from_the_environment_or_the_toml_file(tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.settings import load_settings

    monkeypatch.setenv("CSBOT_ESCALATION_WEBHOOK", "https://oapi.dingtalk.com/robot/send?access_token=t")
    assert load_settings().channel_env()["CSBOT_ESCALATION_WEBHOOK"].startswith("https://oapi.dingtalk.com/")
    monkeypatch.delenv("CSBOT_ESCALATION_WEBHOOK")
    toml = tmp_path / "csbot.toml"
    toml.write_text('escalation_webhook = "http://10.0.0.5/notify"\nescalation_format = "json"\n', encoding="utf-8")
    env = load_settings(toml).channel_env()
    assert env["CSBOT_ESCALATION_WEBHOOK"] == "http://10.0.0.5/notify" and env["CSBOT_ESCALATION_FORMAT"] == "json"


async def test_the_workstations_routes_are_in_the_openapi_document(desk: Desk) -> None:
    doc = await (await desk.client.get("/api/v1/openapi.json")).json()
    for path in ("/api/v1/conversations/{id}/escalate", "/api/v1/conversations/{id}/tone", "/api/v1/me"):
        assert path in doc["paths"]
    assert {"EscalateIn", "ToneIn"} <= set(doc["components"]["schemas"])
    detail = doc["components"]["schemas"]["ConversationDetail"]["properties"]
    assert "current" in detail


async def test_the_tone_changes_the_suggestions_without_a_turn(desk: Desk) -> None:
    cid = await desk.case("T-1", SHIFT[:1])
    status, body = await desk.post(f"/api/v1/conversations/{cid}/tone", {"tone": "亲切"})
    assert status == 200 and body["suggestion"]["suggestions"][0]["tone"] == "亲切"
    assert body["conversation"]["turns"] == 2
    status, body = await desk.post(f"/api/v1/conversations/{cid}/tone", {"tone": "活泼"})
    assert status == 422 and "tone" in body["error"]["message"]


async def test_me_names_the_token(desk: Desk) -> None:
    r = await desk.client.get("/api/v1/me", headers=desk.h())
    assert await r.json() == {"name": "小林", "role": "agent", "shop": CASE["shop"]}
    # UTF-8 like every other route (it sent "\\u5c0f\\u6797"), and its schema is in the OpenAPI document.
    assert "小林" in await r.text() and r.content_type == "application/json"
    doc = await (await desk.client.get("/api/v1/openapi.json")).json()
    assert doc["paths"]["/api/v1/me"]["get"]["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/MeOut"}
    assert (await desk.client.get("/api/v1/me")).status == 401


# ---------------------------------------------------------------- a real browser, a real server

@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    db = tmp_path_factory.mktemp("sidebar") / "csbot.db"
    proc = ServerProcess(f"sqlite:///{db}").start()
    try:
        yield proc
    finally:
        proc.kill()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    # Installed by scripts/test; a missing browser is a failure, never a skip.
    if not Path(CHROMIUM).exists() or not shutil.which(CHROMEDRIVER):
        pytest.fail(f"需要 Chromium 和 chromedriver（{CHROMIUM}、{CHROMEDRIVER}）："
                    "apt-get install chromium chromium-driver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900",
                "--lang=zh-CN", "--autoplay-policy=no-user-gesture-required"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    opts.binary_location = CHROMIUM  # with the Service below, Selenium Manager downloads nothing
    driver = webdriver.Chrome(options=opts, service=Service(CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()


class Sidebar:
    """The page as an agent sees it."""

    def __init__(self, driver: Any, server: ServerProcess, width: int = 1280, height: int = 900) -> None:
        from selenium.webdriver.support.ui import WebDriverWait

        self.d, self.server = driver, server
        self.wait = WebDriverWait(driver, 15, poll_frequency=0.05)
        self.size(width, height)
        # Granted up front, as an agent would once: no permission prompt can stall a test.
        driver.execute_cdp_cmd("Browser.grantPermissions", {"origin": server.url, "permissions": [
            "notifications", "clipboardReadWrite", "clipboardSanitizedWrite"]})
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [
            {"name": "prefers-color-scheme", "value": "light"}]})
        # Storage is cleared from a page of the same origin that runs no script of its own
        # (the sidebar's, still busy restoring the last test's case, could write it back).
        driver.get(server.url + "/healthz")
        driver.execute_script("sessionStorage.clear(); localStorage.clear();")
        driver.get(server.url + "/sidebar")
        driver.get_log("browser")  # reading the log empties it: each test sees its own

    def size(self, width: int, height: int) -> None:
        # The viewport itself, not the window: a 360 px test is a 360 px page.
        self.d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})

    def js_errors(self) -> list[str]:
        """Errors of the page's own code (an API's 4xx is logged too; that one is expected)."""
        return [e["message"] for e in self.d.get_log("browser")
                if e["level"] == "SEVERE" and "Failed to load resource" not in e["message"]
                and "ERR_CONNECTION_REFUSED" not in e["message"] and "WebSocket connection" not in e["message"]]

    def el(self, css: str) -> Any:
        from selenium.webdriver.common.by import By

        return self.d.find_element(By.CSS_SELECTOR, css)

    def all(self, css: str) -> list[Any]:
        from selenium.webdriver.common.by import By

        return list(self.d.find_elements(By.CSS_SELECTOR, css))

    def text(self, css: str) -> str:
        return str(self.el(css).get_attribute("textContent"))

    def value(self, css: str) -> str:
        return str(self.el(css).get_attribute("value"))

    def focused(self) -> str:
        return str(self.d.execute_script("return document.activeElement && document.activeElement.id"))

    def until_text(self, css: str, part: str) -> None:
        self.wait.until(lambda _: part in self.text(css), f"{css} 里没有出现“{part}”")

    def until_shown(self, css: str) -> None:
        from selenium.common.exceptions import TimeoutException

        try:
            self.wait.until(lambda _: self.el(css).is_displayed())
        except TimeoutException:
            raise TimeoutException(f"{css} 没有显示；页面：{self.state()}") from None

    def state(self) -> str:
        """What the agent would see, for a failing test's message."""
        return str(self.d.execute_script(
            "return ['login', 'start', 'conv'].filter(i => !document.getElementById(i).hidden).join() + ' ' +"
            "[...document.querySelectorAll('.err:not([hidden]), .note:not([hidden])')]"
            ".map(e => e.textContent).join(' | ')"))

    def click(self, css: str) -> None:
        self.d.execute_script("arguments[0].scrollIntoView({block: 'center'})", self.el(css))
        self.el(css).click()

    def type(self, css: str, text: str) -> None:
        box = self.el(css)
        self.d.execute_script("arguments[0].scrollIntoView({block: 'center'})", box)
        box.clear()
        box.send_keys(text)

    def choose(self, css: str, value: str) -> None:
        from selenium.webdriver.support.ui import Select

        Select(self.el(css)).select_by_value(value)

    def sign_in(self, token: str = TOKEN) -> None:
        self.type("#token", token)
        self.click("#save-token")

    def start_case(self, **case: str) -> None:
        fields = {**CASE, **case}
        self.until_shown("#case-form")
        for css, key in (("#shop", "shop"), ("#buyer-name", "buyer_name"), ("#product", "product")):
            self.type(css, fields[key])
        self.choose("#honorific", fields["honorific"])
        self.type("#order-id", fields.get("order_id", ""))
        self.click("#create")
        self.until_shown("#conv")

    def turns(self) -> int:
        return len(self.all("#transcript li:not(.empty)"))

    def say_as_buyer(self, text: str) -> None:
        turns = self.turns()
        self.type("#buyer-text", text)
        self.click("#send-buyer")
        self.wait.until(lambda _: self.turns() == turns + 1, f"买家消息“{text}”没有进入对话记录")

    def send_as_agent(self, text: str | None = None) -> None:
        turns = self.turns()
        if text is not None:
            self.type("#agent-text", text)
        self.wait.until(lambda _: self.el("#send-agent").is_enabled(), "“提交我的回复”一直不能点")
        self.click("#send-agent")
        self.wait.until(lambda _: self.turns() == turns + 1, "我的回复没有进入对话记录")

    def key(self, key: str, shift: bool = False) -> None:
        """A key pressed on the page (not in a text box), with Shift held if asked."""
        from selenium.webdriver.common.action_chains import ActionChains
        from selenium.webdriver.common.keys import Keys

        self.d.execute_script("document.activeElement && document.activeElement.blur()")
        chain = ActionChains(self.d)
        chain = chain.key_down(Keys.SHIFT).send_keys(key).key_up(Keys.SHIFT) if shift else chain.send_keys(key)
        chain.perform()

    def shot(self, name: str) -> Path:
        return self.shot_of(self.d, name)

    @staticmethod
    def shot_of(driver: Any, name: str) -> Path:
        """A screenshot into $CSBOT_SCREENSHOTS (docs/img for the docs), else a temporary folder."""
        folder = Path(os.environ["CSBOT_SCREENSHOTS"]) if os.environ.get("CSBOT_SCREENSHOTS") else \
            Path(tempfile.gettempdir()) / "csbot-sidebar-shots"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.png"
        driver.save_screenshot(str(path))
        return path

    def axe(self) -> list[dict[str, Any]]:
        """axe-core's serious and critical violations on the page as it is now."""
        if not self.d.execute_script("return typeof window.axe === 'object'"):
            self.d.execute_script(AXE.read_text(encoding="utf-8"))
        result = self.d.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations.map("
            "v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(' '))}))))"
            ".catch(e => done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]));")
        return [v for v in result if v["impact"] in ("serious", "critical")]

    def too_wide(self) -> list[str]:
        """Elements whose right edge passes the viewport (nothing may, at any width)."""
        return list(self.d.execute_script(
            "const w = document.documentElement.clientWidth; const out = [];"
            "if (document.documentElement.scrollWidth > w) out.push('page ' + document.documentElement.scrollWidth);"
            "for (const e of document.querySelectorAll('body *')) { const r = e.getBoundingClientRect();"
            " if (r.width && r.right > w + 1 && !e.closest('[hidden]'))"
            "  out.push((e.id || e.tagName) + ' ' + r.right); }"
            "return out.slice(0, 10);"))


AXE = Path(__file__).parent / "vendor" / "axe.min.js"


@pytest.mark.browser
@pytest.mark.process
def test_the_browser_draws_chinese_not_empty_boxes(browser: Any, server: ServerProcess) -> None:
    """Without a Chinese font every character is the same empty box, and screenshots of the
    sidebar show nothing (scripts/test installs fonts-noto-cjk): two characters must differ."""
    Sidebar(browser, server)
    drawn = browser.execute_script(
        "const c = document.createElement('canvas'); c.width = c.height = 40;"
        "const g = c.getContext('2d'); const out = [];"
        "for (const ch of ['中', '国']) { g.clearRect(0, 0, 40, 40); g.font = '32px sans-serif';"
        "  g.fillText(ch, 2, 34); out.push(Array.from(g.getImageData(0, 0, 40, 40).data).join()); }"
        "return out;")
    assert drawn[0] != drawn[1], "中 和 国 画出来一样：没有中文字体（apt-get install fonts-noto-cjk）"


@pytest.mark.browser
@pytest.mark.process
def test_a_wrong_token_shows_the_apis_chinese_error(browser: Any, server: ServerProcess) -> None:
    page = Sidebar(browser, server)
    assert page.focused() == "token"
    page.sign_in("csb_not_a_real_token")
    page.until_text("#login-err", "令牌无效或已被吊销")
    assert page.el("#login").is_displayed() and not page.el("#start").is_displayed()
    assert browser.execute_script("return sessionStorage.getItem('csbot.token')") is None
    assert page.js_errors() == []


@pytest.mark.browser
@pytest.mark.process
def test_an_agent_works_a_case_from_the_sidebar(browser: Any, server: ServerProcess) -> None:
    page = Sidebar(browser, server)
    # The agent pastes their token once, then starts the case.
    page.sign_in()
    page.start_case(order_id="S-1")
    assert page.text("#stage") == "开场"
    assert "周敏女士" in page.text("#suggestions")
    # They take the first suggestion as their opening line and send it.
    page.click("#suggestions .use")
    page.send_as_agent()
    page.until_text("#stage", "确认身份")

    # The buyer answers; the agent pastes the line in.
    page.say_as_buyer(BUYER_LINE)
    page.until_text("#stage", "倾听致歉")
    assert "（第 3 / 7 步）" in page.text("#step")
    assert page.text("#progress li.current") == "倾听致歉"
    meaning = page.text("#understanding")
    assert "抱怨" in meaning and "与描述不符" in meaning and "不满" in meaning
    replies = page.all("#suggestions > li")
    assert 1 <= len(replies) <= 3
    assert all(re.search(r"[\u4e00-\u9fff]", r.text) for r in replies)
    assert "抱歉" in page.text("#suggestions") or "对不起" in page.text("#suggestions")
    copies = page.all("#suggestions .copy")
    assert [c.get_attribute("aria-label") for c in copies] == [f"复制第 {n} 条建议" for n in range(1, len(copies) + 1)]
    copies[0].click()
    page.until_text("#key-status", "已复制第 1 条建议")
    assert "已道歉" in page.text("#checklist")

    # The draft ties a cash-back to the review: red warning, no send.
    page.type("#agent-text", BAD_DRAFT)
    page.wait.until(lambda _: page.all("#lint li.sev-block"))
    lint = page.text("#lint")
    assert "禁止" in lint and "评价" in lint and "返现" in lint
    assert "这句话不能发给买家" in lint
    assert not page.el("#send-agent").is_enabled()

    # A clean apology instead: the warning goes, sending works.
    page.type("#agent-text", APOLOGY)
    page.wait.until(lambda _: not page.all("#lint li") and page.el("#send-agent").is_enabled())
    page.send_as_agent()
    page.until_text("#stage", "解释原因")
    assert "换货" in page.text("#remedies")
    assert page.text("#transcript li:last-child").endswith(APOLOGY)
    assert page.value("#agent-text") == ""
    assert page.focused() == "buyer-text"  # the next step is the buyer's answer

    # 退出 forgets the token.
    page.click("#logout")
    page.until_shown("#login")
    assert browser.execute_script("return sessionStorage.getItem('csbot.token')") is None
    assert page.js_errors() == []


@pytest.mark.browser
@pytest.mark.process
@pytest.mark.parametrize(("width", "height"), [(1280, 900), (360, 740)])
def test_a_blocked_draft_is_one_line_that_opens(browser: Any, server: ServerProcess, width: int, height: int) -> None:
    """A blocked draft says which rule in one line, with 改用这句 beside it; the reasons open on
    a click, a tap or the keyboard. On a 360 px phone the reply box used to take ~400 of 740 px
    and push the suggestions off the screen."""
    from selenium.webdriver.common.keys import Keys

    page = Sidebar(browser, server, width, height)
    page.sign_in()
    page.start_case(order_id=f"B-{width}")
    page.click("#suggestions .use")
    page.send_as_agent()
    page.say_as_buyer(BUYER_LINE)
    page.until_text("#stage", "倾听致歉")
    page.type("#agent-text", BAD_DRAFT)
    page.wait.until(lambda _: page.all("#lint li.sev-block .lint-head"))
    item = page.el("#lint li.sev-block")
    head, toggle = item.find_element("css selector", ".lint-head"), item.find_element("css selector", ".lint-toggle")
    rewrite, more = item.find_element("css selector", ".use-rewrite"), item.find_element("css selector", ".lint-more")
    # Compact: the severity and the rule's Chinese name, 改用这句 on the same line, the reasons folded.
    assert toggle.text.startswith("禁止：好评返现等条件利益"), toggle.text
    assert rewrite.is_displayed() and rewrite.text == "改用这句"
    assert not more.is_displayed() and toggle.get_attribute("aria-expanded") == "false"
    assert toggle.get_attribute("aria-controls") == more.get_attribute("id")
    line = head.rect["height"]
    assert line <= 40, f"一条提示占了 {line} px，不是一行"
    assert abs(rewrite.rect["y"] - toggle.rect["y"]) < line, "改用这句不在规则名那一行"
    assert item.rect["height"] <= line + 16
    assert not page.el("#send-agent").is_enabled() and "这句话不能发给买家" in page.text("#lint")
    # Never silent: the line is in a live region, and the reasons are the toggle's description.
    assert browser.execute_script("return arguments[0].closest('[aria-live]') !== null", item)
    assert "淘宝评价规则" in page.text("#" + str(toggle.get_attribute("aria-describedby")))
    # The reply box leaves the screen to the suggestions.
    reply, bar = page.el("#reply").rect, page.el("#stagebar").rect
    assert reply["height"] <= 0.4 * height, f"回复框高 {reply['height']} px（屏幕 {height} px）"
    if width < 960:
        top = browser.execute_script("return document.getElementById('reply').getBoundingClientRect().top")
        assert top - bar["height"] >= 0.35 * height, "阶段条和回复框之间留给建议的地方太小"
    assert page.too_wide() == []
    assert page.axe() == [], "草稿被拦下时的无障碍检查"
    page.shot(f"{width}-blocked")
    # A click opens the reasons (the rule, the law, the rewrite); the keyboard closes them again.
    page.click(f"#{toggle.get_attribute('id')}")
    page.wait.until(lambda _: more.is_displayed())
    assert toggle.get_attribute("aria-expanded") == "true"
    assert "淘宝评价规则" in more.text and "建议改为" in more.text
    page.shot(f"{width}-blocked-open")
    toggle.send_keys(Keys.ENTER)
    page.wait.until(lambda _: not more.is_displayed())
    toggle.send_keys(Keys.SPACE)
    page.wait.until(lambda _: more.is_displayed())
    # 改用这句 puts the compliant wording in the draft, which then passes.
    page.click("#lint .use-rewrite")
    page.wait.until(lambda _: not page.all("#lint li") and page.el("#send-agent").is_enabled())
    assert "评价" in page.value("#agent-text")
    assert page.js_errors() == []


@pytest.mark.browser
@pytest.mark.process
def test_turns_posted_elsewhere_arrive_live(browser: Any, server: ServerProcess) -> None:
    # Markup in the data stays text: the page renders with textContent only.
    status, made = call(server.url, "POST", "/api/v1/conversations",
                        {**CASE, "buyer_name": "<i>周敏</i>", "order_id": "S-2"})
    assert status == 201
    cid = made["conversation"]["id"]  # type: ignore[index]
    page = Sidebar(browser, server)
    page.sign_in()
    page.until_shown("#open-form")
    page.type("#conv-id", cid)
    page.click("#open")
    page.until_text("#live", "实时推送已连接")
    assert "还没有消息" in page.text("#transcript") and page.text("#stage") == "开场"
    page.click("#watch")

    # Another agent (or a channel) records the opening line and the buyer's answer.
    call(server.url, "POST", f"/api/v1/conversations/{cid}/messages",
         {"role": "agent", "text": "您好，请问是周敏女士吗？我是柚子家女装的售后小安。"})
    call(server.url, "POST", f"/api/v1/conversations/{cid}/messages",
         {"role": "buyer", "text": "<b>记得</b>" + BUYER_LINE[2:]})
    page.until_text("#transcript", "<b>记得</b>，颜色跟图片差好多")
    page.until_text("#stage", "倾听致歉")
    assert page.turns() == 2
    assert "与描述不符" in page.text("#understanding")
    assert page.text("#case-title").startswith("<i>周敏</i>")
    assert page.all("#conv i, #conv b") == []
    # The watched case told the agent: a note beside the case and the tab's title.
    page.until_text("#watch-note", "买家发来新消息")
    assert browser.title.startswith("（新消息）")
    assert page.js_errors() == []


@pytest.mark.browser
@pytest.mark.process
def test_api_errors_show_next_to_the_action(browser: Any, server: ServerProcess) -> None:
    page = Sidebar(browser, server)
    page.sign_in()
    page.until_shown("#open-form")
    page.type("#conv-id", "no-such-case")
    page.click("#open")
    page.until_text("#open-err", "没有这个会话")
    # A text longer than the API allows: the 422's Chinese message beside the button, not "undefined".
    page.start_case(order_id="S-3")
    browser.execute_script("const b = document.getElementById('buyer-text');"
                           "b.removeAttribute('maxlength'); b.value = '太'.repeat(2001);")
    page.click("#send-buyer")
    page.until_text("#buyer-err", "太长了")
    assert "undefined" not in page.text("#buyer-err")
    # It clears when the action works.
    page.say_as_buyer("是我")
    assert not page.el("#buyer-err").is_displayed()
    assert page.js_errors() == []


@pytest.mark.browser
@pytest.mark.process
def test_opening_the_same_buyer_and_order_shows_the_whole_case(browser: Any, server: ServerProcess) -> None:
    status, made = call(server.url, "POST", "/api/v1/conversations", {**CASE, "order_id": "S-4"})
    assert status == 201
    cid = made["conversation"]["id"]  # type: ignore[index]
    for role, text in (("agent", "您好，请问是周敏女士吗？"), ("buyer", "是我")):
        call(server.url, "POST", f"/api/v1/conversations/{cid}/messages", {"role": role, "text": text})
    page = Sidebar(browser, server)
    page.sign_in()
    page.start_case(order_id="S-4")
    page.until_text("#case-note", "已有进行中的会话")
    assert page.turns() == 2 and page.text("#conv-code") == cid
    # Back to the queue: the next case's form does not carry this buyer.
    page.click("#to-queue")
    page.until_shown("#case-form")
    assert page.value("#buyer-name") == "" and page.value("#order-id") == ""
    assert page.value("#shop") == CASE["shop"]
    assert page.focused() == "q"
    assert page.js_errors() == []


@pytest.mark.browser
@pytest.mark.process
def test_the_agent_corrects_the_reading_and_switches_the_tone(browser: Any, server: ServerProcess) -> None:
    page = Sidebar(browser, server)
    page.sign_in()
    page.start_case(order_id="S-5")
    page.click("#suggestions .use")
    page.send_as_agent()
    page.say_as_buyer(BUYER_LINE)
    page.until_text("#stage", "倾听致歉")
    # 亲切: the suggestions from now on, without a turn.
    page.click("input[name=tone][value=亲切]")
    page.until_text("#key-status", "之后的建议改用“亲切”语气")
    assert page.text("#suggestions li:first-child .tag") == "亲切" and page.turns() == 2
    # Click the buyer's intent to correct it.
    intent = page.el("#understanding dd button")
    assert intent.get_attribute("aria-label") == "买家的意图：抱怨（点击更正）"
    intent.click()
    page.until_shown("#fix-meaning")
    assert page.focused() == "fix-intent"
    page.choose("#fix-intent", "want_exchange")
    page.click("#fix-meaning-go")
    page.wait.until(lambda _: not page.el("#fix-meaning").is_displayed())
    assert "想换货" in page.text("#understanding")
    # Click the stage to correct it.
    page.click("#stage")
    page.until_shown("#fix-stage")
    page.choose("#fix-stage-to", "explain")
    page.click("#fix-stage-go")
    page.until_text("#stage", "解释原因")
    assert page.focused() == "stage" and page.turns() == 2
    assert page.axe() == []
    # A reload keeps the case and the half-written reply.
    page.type("#agent-text", "您说的颜色问题")
    page.type("#buyer-text", "还有")
    browser.refresh()
    page.until_shown("#conv")
    assert page.value("#agent-text") == "您说的颜色问题" and page.value("#buyer-text") == "还有"
    assert page.text("#stage") == "解释原因" and page.turns() == 2
    assert page.js_errors() == []


@pytest.mark.browser
@pytest.mark.process
def test_the_agent_records_the_complaint_about_a_malicious_review(browser: Any, server: ServerProcess) -> None:
    page = Sidebar(browser, server)
    page.sign_in()
    page.start_case(order_id="S-EXT")
    assert not page.el("#complaint-box").is_displayed()  # an ordinary case has nothing to file
    page.click("#suggestions .use")
    page.send_as_agent()
    page.say_as_buyer("给我转200块钱我就把差评删了，不然别想")
    page.until_text("#stage", "疑似恶意")
    page.until_shown("#complaint-box")
    item = "30 天内向平台投诉恶意评价"
    assert "○ " + item in page.text("#checklist") and "✓" not in page.text("#complaint-state")
    page.click("#complaint")
    page.until_text("#complaint-state", "✓ 已登记向平台投诉")
    assert not page.el("#complaint").is_enabled()  # once is enough
    assert page.focused() == "complaint-state" and page.turns() == 2
    # The item is ticked, and stays so after a reload.
    assert "✓ " + item in page.text("#checklist")
    browser.refresh()
    page.until_shown("#complaint-box")
    assert page.text("#complaint-state") == "✓ 已登记向平台投诉" and not page.el("#complaint").is_enabled()
    assert page.axe() == []
    assert page.js_errors() == []


@pytest.mark.browser
@pytest.mark.process
def test_the_queue_card_names_the_cause_read_from_the_review(browser: Any, server: ServerProcess) -> None:
    """The lead's `csbot queue` and the report name each case's cause; the agent's queue card
    does too, under the same name (原因), with where it was read."""
    for order, name, review in (("C-1", "陈小雨", "鞋子偏小一码，孩子穿着挤脚，退换还要自己出运费"),
                                ("C-2", "黄大山", "一般吧，不想多说")):
        status, made = call(server.url, "POST", "/api/v1/conversations",
                            {"shop": CASE["shop"], "buyer_name": name, "product": "儿童运动鞋", "order_id": order,
                             "review_rating": "中评", "review_text": review})
        assert status == 201
        summary = made["conversation"]  # type: ignore[index]
        seeded = ("size_fit", "review") if order == "C-1" else (None, None)
        assert (summary["cause"], summary["cause_source"]) == seeded
    page = Sidebar(browser, server)
    page.sign_in()
    page.type("#q", "儿童运动鞋")
    page.click("#q-go")
    page.until_text("#queue-list", "黄大山")
    # The list may be drawn again while it is read (the search's answer after the first load):
    # each card's cause is read in one script call, once both cards are there.
    causes = page.wait.until(lambda d: (lambda c: c if len(c) == 2 else False)(d.execute_script(
        "const out = {};"
        "for (const card of document.querySelectorAll('#queue-list .q-item')) {"
        "  for (const name of ['陈小雨', '黄大山']) if (card.textContent.includes(name))"
        "    out[name] = card.querySelector('.q-cause').innerText; }"
        "return out;")), "排队列表里没有两个案例的原因")
    assert causes == {"陈小雨": "原因：尺码不合适（评价）", "黄大山": "未说明原因"}
    page.shot("1280-queue-cause")
    # The case's reading, opened from the card, heads its cause the same way.
    page.wait.until(lambda d: d.execute_script(
        "const card = [...document.querySelectorAll('#queue-list .q-item')]"
        ".find(c => c.textContent.includes('陈小雨'));"
        "if (card) card.click(); return !!card;"))
    page.until_shown("#conv")
    # The case details name the cause as the card does.
    page.until_text("#case-facts", "尺码不合适（评价）")
    assert page.d.execute_script(
        "const dt = [...document.querySelectorAll('#case-facts dt')].find(t => t.textContent === '原因');"
        "return dt && dt.nextElementSibling.textContent;") == "尺码不合适（评价）"
    page.say_as_buyer("是我，鞋子小了一码")
    page.until_text("#understanding", "尺码不合适")
    assert "原因" in page.text("#understanding dl")
    # A case opened without one shows that none is known, then the problem the buyer names.
    page.click("#to-queue")
    page.until_text("#queue-list", "黄大山")
    page.wait.until(lambda d: d.execute_script(
        "const card = [...document.querySelectorAll('#queue-list .q-item')]"
        ".find(c => c.textContent.includes('黄大山'));"
        "if (card) card.click(); return !!card;"))
    page.until_text("#case-title", "黄大山")
    page.until_text("#case-facts", "还没说明")
    page.say_as_buyer("是我，穿了两天鞋底就开胶了")
    page.until_text("#case-facts", "质量问题（沟通）")
    assert "还没说明" not in page.text("#case-facts")
    page.shot("1280-case-cause")
    assert page.js_errors() == []


@pytest.mark.process
def test_serve_says_where_the_sidebar_is(server: ServerProcess) -> None:
    started = Path(server.log.name).read_text(encoding="utf-8")
    assert f"客服侧边栏：{server.url}/sidebar" in started
    with urllib.request.urlopen(f"{server.url}/sidebar", timeout=5) as r:
        assert r.status == 200 and "售后助手" in r.read().decode("utf-8")


# ---------------------------------------------------------------- a whole shift, at two widths

LONG_LINK = "https://item.taobao.com/item.htm?id=13812345678&spm=a1z10.3-c-s.w4002-21818769070.11.6d5f3c5aXQ2bQe"
REMEDY = "我们可以给您免费换货，来回运费我们承担，或者直接退款，您看哪种方便？"
REQUEST = ("好的，马上给您安排换货。评价是您的权利，如果这次处理您觉得还满意，方便的话可以考虑更新一下评价，"
           "不方便也完全没关系。")
GOODBYE = "再次抱歉给您添麻烦了，谢谢您的耐心，欢迎下次再来，祝您生活愉快！"
EXPLANATION = "这批面料染色和样图有偏差，我们已经反馈给工厂质检了。"


class Robot:
    """The supervisors' webhook: a real HTTP server in this process, keeping what it got."""

    def __init__(self) -> None:
        import http.server
        import threading

        got = self.got = []  # type: list[dict[str, Any]]

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                got.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"ok":true}')

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/notify"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _cli(*args: str) -> str:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)})
    assert done.returncode == 0, done.stderr
    return done.stdout


def _new_token(db_url: str, name: str = "小林") -> str:
    found = re.search(r"csb_[A-Za-z0-9_-]+", _cli("token", "add", "--role", "agent", "--shop", CASE["shop"],
                                                   "--name", name, "--db", db_url))
    assert found
    return found.group(0)


@pytest.mark.browser
@pytest.mark.process
@pytest.mark.parametrize(("width", "height"), [(1280, 900), (360, 740)])
def test_an_agent_works_a_shift(browser: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                width: int, height: int) -> None:
    robot = Robot()
    db_url = f"sqlite:///{tmp_path / 'shift.db'}"
    monkeypatch.setenv("CSBOT_ESCALATION_WEBHOOK", robot.url)
    monkeypatch.setenv("CSBOT_TOKEN_CACHE_SECONDS", "0")  # a revoked token stops at once
    proc = ServerProcess(db_url).start()
    try:
        _shift(browser, proc, robot, db_url, width, height)
    finally:
        proc.kill()
        robot.close()
    # The report counts what the agent recorded.
    rows = list(csv.reader(io.StringIO(_cli("report", "--format", "csv", "--db", db_url).lstrip("\ufeff"))))
    outcomes = {r[5]: r[3] for r in rows[1:] if r[4] == "outcomes" and r[6] == "cases"}
    assert outcomes == {"resolved": "1", "escalated": "1"}
    # The HTML report on this screen: nothing wider than it, chart labels still legible.
    report = tmp_path / "report.html"
    _cli("report", "--db", db_url, "-o", str(report))
    browser.get(report.as_uri())
    assert browser.execute_script("return document.documentElement.scrollWidth") <= width
    smallest = browser.execute_script(
        "const sizes = [...document.querySelectorAll('.chart svg text')]"
        ".map(t => t.getBoundingClientRect().height).filter(h => h > 0);"
        "return sizes.length ? Math.min(...sizes) : 0;")
    assert smallest >= 9, f"图表文字只有 {smallest} px 高"
    browser.execute_script("document.querySelector('#causes').scrollIntoView()")
    Sidebar.shot_of(browser, f"{width}-report")


def _shift(browser: Any, proc: ServerProcess, robot: Robot, db_url: str, width: int, height: int) -> None:
    tag = f"{width}"
    for order, name, product in (("Q-1", "李雷", "保温杯"), ("Q-2", "王芳", "运动鞋")):
        status, _ = call(proc.url, "POST", "/api/v1/conversations",
                         {"shop": CASE["shop"], "buyer_name": name, "product": product, "order_id": order,
                          "review_rating": "差评", "agent": "小林"})
        assert status == 201
    page = Sidebar(browser, proc, width, height)

    # Sign in: the queue, with the search box focused.
    page.sign_in(_new_token(db_url))
    page.until_text("#queue-list", "王芳")
    assert page.focused() == "q" and "李雷" in page.text("#queue-list")
    page.type("#q", "Q-2")
    page.click("#q-go")
    page.wait.until(lambda _: "李雷" not in page.text("#queue-list"))
    assert "王芳" in page.text("#queue-list")
    assert page.axe() == [], "队列页面的无障碍检查"
    page.shot(f"{tag}-queue")

    # A case with every field; the agent's name comes from the token and only an admin may change it.
    assert page.value("#agent-name") == "小林" and page.el("#agent-name").get_attribute("readonly") is not None
    assert page.value("#shop") == CASE["shop"]
    page.type("#buyer-name", "周敏")
    page.choose("#honorific", "女士")
    page.type("#product", "连衣裙")
    page.type("#order-id", "S-1")
    browser.execute_script("document.getElementById('order-date').value = '2026-11-20';"
                           "document.getElementById('review-time').value = '2026-11-28T09:30';")
    page.choose("#platform", "taobao")
    page.choose("#rating", "中评")
    page.type("#review-text", "颜色跟图片差好多")
    page.type("#channel", "旺旺")
    page.click("#create")
    page.until_shown("#conv")
    assert page.focused() == "case-title"
    assert page.text("#stage") == "开场"
    facts = page.text("#case-facts")
    for part in ("S-1", "2026-11-20", "淘宝", "中评", "颜色跟图片差好多", "旺旺", "小林"):
        assert part in facts
    assert "小林" in page.text("#suggestions")

    # Key 1 copies the first suggestion; Shift+1 copies it and records it as sent.
    first = page.text("#suggestions li:first-child .text")
    page.key("1")
    page.until_text("#key-status", "已复制第 1 条建议")
    clip = browser.execute_async_script(
        "const done = arguments[0]; navigator.clipboard.readText().then(done, () => done(null));")
    assert clip is None or clip in first
    page.key("1", shift=True)
    page.wait.until(lambda _: page.turns() == 1, "Shift+1 没有把建议记为已发送")
    page.until_text("#stage", "确认身份")

    # The whole conversation, pasted and typed.
    page.say_as_buyer("是我，怎么了")
    assert page.focused() == "sugg-h"
    page.send_as_agent("您11月20日在我们店买的连衣裙，还记得吗？")
    page.say_as_buyer(BUYER_LINE)
    page.until_text("#stage", "倾听致歉")

    # A benefit tied to the review is blocked, with the reason beside the reply box.
    page.type("#agent-text", BAD_DRAFT)
    page.wait.until(lambda _: page.all("#lint li.sev-block"))
    assert "这句话不能发给买家" in page.text("#lint") and not page.el("#send-agent").is_enabled()
    page.shot(f"{tag}-blocked")
    page.type("#agent-text", APOLOGY)
    page.send_as_agent()
    page.until_text("#stage", "解释原因")

    # The server stops mid-case: the compliance check cannot run, so sending is blocked, not allowed.
    proc.terminate()
    page.type("#agent-text", EXPLANATION)
    page.until_text("#lint", "合规检查没法进行")
    assert not page.el("#send-agent").is_enabled()
    page.until_text("#live", "断开")
    page.shot(f"{tag}-offline")
    proc.start()
    page.wait.until(lambda _: page.el("#send-agent").is_enabled(), "服务恢复后没有重新检查")
    page.until_text("#live", "实时推送已连接")
    assert "合规检查没法进行" not in page.text("#lint")
    page.send_as_agent()
    page.until_text("#stage", "提出补救")

    # The stage, its checklist and the reply box stay on screen whatever scrolls.
    browser.execute_script("for (const id of ['talk', 'transcript-box', 'assist-scroll']) {"
                           " const e = document.getElementById(id); e.scrollTop = e.scrollHeight; }"
                           "document.getElementById('remedies').scrollIntoView({block: 'center'});")
    on_screen = "const r = document.getElementById(arguments[0]).getBoundingClientRect();" \
                "return r.top >= 0 && r.bottom <= window.innerHeight;"
    for part in ("stage", "checklist", "agent-text", "send-agent"):
        assert browser.execute_script(on_screen, part), f"{part} 不在屏幕上"
    assert page.axe() == [], "会话页面的无障碍检查"
    page.shot(f"{tag}-case")
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [
        {"name": "prefers-color-scheme", "value": "dark"}]})
    assert browser.execute_script("return getComputedStyle(document.body).backgroundColor") == "rgb(13, 17, 23)"
    assert page.axe() == [], "深色模式的无障碍检查"
    page.shot(f"{tag}-dark")
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [
        {"name": "prefers-color-scheme", "value": "light"}]})

    # To the end of the script; it closes the case, and the agent records the outcome.
    page.send_as_agent(REMEDY)
    page.say_as_buyer("那就换货吧")
    page.send_as_agent(REQUEST)
    page.say_as_buyer("行吧，收到货我看看")
    page.send_as_agent(GOODBYE)
    page.until_text("#stage", "已结束")
    page.until_text("#outcome-state", "还没有登记结果")
    page.choose("#outcome", "resolved")
    page.click("#close-case")
    page.until_text("#outcome-state", "已登记结果：已解决")
    assert page.focused() == "outcome-state"
    page.shot(f"{tag}-closed")

    # The next case from the queue: the buyer is busy, a callback is agreed.
    page.click("#to-queue")
    page.until_shown("#queue-list")
    assert page.value("#q") == "Q-2"  # the filter is kept; the agent clears it
    page.type("#q", "李")
    page.click("#q-go")
    page.until_text("#queue-list", "李雷")
    next(b for b in page.all("#queue-list .q-item") if "李雷" in b.text).click()
    page.until_shown("#conv")
    page.key("1", shift=True)
    page.wait.until(lambda _: page.turns() == 1)
    page.say_as_buyer("我现在在开会，晚上再说吧")
    page.until_text("#stage", "约定回访")
    assert "held" in page.el("#stage").get_attribute("class")
    assert "暂停" in page.text("#step") and "第 0" not in page.text("#step")
    page.send_as_agent("好的，那我今晚8点再联系您，您看方便吗？")
    page.until_text("#checklist", "✓ 已约定具体回访时间")
    page.until_text("#callback-line", "20:00")  # (约定回访：… is there before the time is read back)

    # The third: the buyer threatens a complaint; the supervisor is told, then the item is ticked.
    page.click("#to-queue")
    page.until_text("#queue-list", "李雷")
    assert "待回访" in next(b.text for b in page.all("#queue-list .q-item") if "李雷" in b.text)
    page.el("#q").clear()
    page.click("#q-go")
    page.until_text("#queue-list", "王芳")
    next(b for b in page.all("#queue-list .q-item") if "王芳" in b.text).click()
    page.until_shown("#conv")
    page.key("1", shift=True)
    page.wait.until(lambda _: page.turns() == 1)
    page.say_as_buyer("你看这个链接 " + LONG_LINK + " 跟我收到的完全不一样")
    assert page.too_wide() == []

    # The token is revoked mid-draft: the sign-in form says why; the draft and the case come back.
    page.type("#agent-text", APOLOGY)
    page.wait.until(lambda _: page.el("#send-agent").is_enabled())
    cid = page.text("#conv-code")
    _cli("token", "revoke", "小林", "--db", db_url)
    page.click("#send-agent")
    page.until_shown("#login")
    page.until_text("#login-note", "草稿")
    assert page.focused() == "token"
    page.shot(f"{tag}-expired")
    page.sign_in(_new_token(db_url, "小林-补发"))
    page.until_shown("#conv")
    assert page.text("#conv-code") == cid and page.value("#agent-text") == APOLOGY
    assert page.turns() == 2
    assert LONG_LINK in page.text("#transcript"), "链接里的数字不应被当成电话号码遮住"
    page.send_as_agent()
    page.say_as_buyer("东西坏了你们也不管，我要去12315投诉你们")
    page.until_text("#stage", "升级处理")
    held = browser.execute_script("return getComputedStyle(document.getElementById('stage')).color")
    assert held == "rgb(125, 78, 0)"  # the held colour, not the main path's blue
    assert "○ 已请主管介入" in page.text("#checklist") and robot.got == []
    page.type("#esc-note", "买家要打12315")
    page.click("#escalate")
    page.until_text("#esc-state", "已通知主管")
    assert "✓ 已请主管介入" in page.text("#checklist")
    (sent,) = robot.got
    assert sent["buyer_name"] == "王芳" and sent["order_id"] == "Q-2" and "买家要打12315" in sent["text"]
    page.shot(f"{tag}-escalated")
    page.choose("#outcome", "escalated")
    page.click("#close-case")
    page.until_text("#outcome-state", "已登记结果：升级处理")
    assert page.too_wide() == []
    assert page.js_errors() == []


def test_the_sidebar_asks_for_the_final_stage_by_the_scripts_id() -> None:
    # '待登记结果' asked for stage=closed: a shop that renamed its final stage got an empty list
    # (and, now that an unknown stage filter is a 422, an error)
    page = (Path(__file__).resolve().parent.parent / "bot/server/sidebar.html").read_text(encoding="utf-8")
    assert "stage=closed" not in page and "encodeURIComponent(S.final)" in page
