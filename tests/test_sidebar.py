"""The agent sidebar: its page, the lint endpoint, the WebSocket token, and a real headless Chromium."""

from __future__ import annotations

import json
import re
import shutil
import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from bot.engine import Engine
from bot.server.app import STORE, build_app
from tests.server_proc import TOKEN, ServerProcess, call

ENGINE = Engine.load()
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


# ---------------------------------------------------------------- a real browser, a real server

@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    db = tmp_path_factory.mktemp("sidebar") / "csbot.db"
    proc = ServerProcess(f"sqlite:///{db}", workers=0).start()
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
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=420,1200"):
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

    def __init__(self, driver: Any, server: ServerProcess) -> None:
        from selenium.webdriver.support.ui import WebDriverWait

        self.d, self.server = driver, server
        self.wait = WebDriverWait(driver, 10, poll_frequency=0.05)
        driver.get(server.url + "/sidebar")
        driver.execute_script("sessionStorage.clear(); localStorage.clear();")
        driver.get(server.url + "/sidebar")
        driver.get_log("browser")  # reading the log empties it: each test sees its own

    def js_errors(self) -> list[str]:
        """Errors of the page's own code (an API's 4xx is logged too; that one is expected)."""
        return [e["message"] for e in self.d.get_log("browser")
                if e["level"] == "SEVERE" and "Failed to load resource" not in e["message"]]

    def el(self, css: str) -> Any:
        from selenium.webdriver.common.by import By

        return self.d.find_element(By.CSS_SELECTOR, css)

    def all(self, css: str) -> list[Any]:
        from selenium.webdriver.common.by import By

        return list(self.d.find_elements(By.CSS_SELECTOR, css))

    def text(self, css: str) -> str:
        return str(self.el(css).text)

    def until_text(self, css: str, part: str) -> None:
        self.wait.until(lambda _: part in self.text(css), f"{css} 里没有出现“{part}”")

    def until_shown(self, css: str) -> None:
        self.wait.until(lambda _: self.el(css).is_displayed(), f"{css} 没有显示")

    def type(self, css: str, text: str) -> None:
        box = self.el(css)
        box.clear()
        box.send_keys(text)

    def sign_in(self, token: str = TOKEN) -> None:
        self.type("#token", token)
        self.el("#save-token").click()

    def start_case(self, **case: str) -> None:
        fields = {**CASE, **case}
        self.until_shown("#case-form")
        for css, key in (("#shop", "shop"), ("#buyer-name", "buyer_name"), ("#product", "product")):
            self.type(css, fields[key])
        self.d.execute_script("document.getElementById('honorific').value = arguments[0]", fields["honorific"])
        self.type("#order-id", fields.get("order_id", ""))
        self.el("#create").click()
        self.until_shown("#conv")

    def say_as_buyer(self, text: str) -> None:
        turns = len(self.all("#transcript li"))
        self.type("#buyer-text", text)
        self.el("#send-buyer").click()
        self.wait.until(lambda _: len(self.all("#transcript li")) == turns + 1)

    def send_as_agent(self) -> None:
        turns = len(self.all("#transcript li"))
        self.wait.until(lambda _: self.el("#send-agent").is_enabled())
        self.el("#send-agent").click()
        self.wait.until(lambda _: len(self.all("#transcript li")) == turns + 1)


def test_a_wrong_token_shows_the_apis_chinese_error(browser: Any, server: ServerProcess) -> None:
    page = Sidebar(browser, server)
    page.sign_in("csb_not_a_real_token")
    page.until_text("#error", "令牌无效或已被吊销")
    assert page.el("#login").is_displayed() and not page.el("#start").is_displayed()
    assert browser.execute_script("return sessionStorage.getItem('csbot.token')") is None
    assert page.js_errors() == []


def test_an_agent_works_a_case_from_the_sidebar(browser: Any, server: ServerProcess) -> None:
    page = Sidebar(browser, server)
    # The agent pastes their token once, then starts the case.
    page.sign_in()
    page.start_case(order_id="S-1")
    assert page.text("#stage") == "开场"
    assert "周敏女士" in page.text("#suggestions")
    # They take the first suggestion as their opening line and send it.
    page.all("#suggestions .use")[0].click()
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
    copy = page.all("#suggestions .copy")[0]
    assert copy.text == "复制"
    copy.click()
    page.wait.until(lambda _: copy.text in ("已复制", "复制失败，请手动选中"))
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
    assert page.el("#agent-text").get_attribute("value") == ""

    # 退出 forgets the token.
    page.el("#logout").click()
    page.until_shown("#login")
    assert browser.execute_script("return sessionStorage.getItem('csbot.token')") is None
    assert page.js_errors() == []


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
    page.el("#open").click()
    page.until_text("#live", "实时推送已连接")
    assert "还没有消息" in page.text("#suggestions") and page.text("#stage") == "开场"

    # Another agent (or a channel) records the opening line and the buyer's answer.
    call(server.url, "POST", f"/api/v1/conversations/{cid}/messages",
         {"role": "agent", "text": "您好，请问是周敏女士吗？我是柚子家女装的售后小安。"})
    call(server.url, "POST", f"/api/v1/conversations/{cid}/messages",
         {"role": "buyer", "text": "<b>记得</b>" + BUYER_LINE[2:]})
    page.until_text("#transcript", "<b>记得</b>，颜色跟图片差好多")
    page.until_text("#stage", "倾听致歉")
    assert len(page.all("#transcript li")) == 2
    assert "与描述不符" in page.text("#understanding")
    assert page.text("#case-title").startswith("<i>周敏</i>")
    assert page.all("#conv i, #conv b") == []
    assert page.js_errors() == []


def test_api_errors_show_their_chinese_message(browser: Any, server: ServerProcess) -> None:
    page = Sidebar(browser, server)
    page.sign_in()
    page.until_shown("#open-form")
    page.type("#conv-id", "no-such-case")
    page.el("#open").click()
    page.until_text("#error", "没有这个会话")
    # A text longer than the API allows: the 422's Chinese message, not "undefined".
    page.start_case(order_id="S-3")
    browser.execute_script("const b = document.getElementById('buyer-text');"
                           "b.removeAttribute('maxlength'); b.value = '太'.repeat(2001);")
    page.el("#send-buyer").click()
    page.until_text("#error", "太长了")
    assert "undefined" not in page.text("#error")
    assert page.js_errors() == []


def test_serve_says_where_the_sidebar_is(server: ServerProcess) -> None:
    started = Path(server.log.name).read_text(encoding="utf-8")
    assert f"客服侧边栏：{server.url}/sidebar" in started
    with urllib.request.urlopen(f"{server.url}/sidebar", timeout=5) as r:
        assert r.status == 200 and "售后助手" in r.read().decode("utf-8")
