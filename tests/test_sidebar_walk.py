"""The sidebar as an agent uses it beside 千牛: what a real headless Chromium draws at 1280 and 360 px."""

from __future__ import annotations

from typing import Any

import pytest

from tests.server_proc import ServerProcess
from tests.test_sidebar import BAD_DRAFT, BUYER_LINE, Sidebar, browser, server

__all__ = ["browser", "server"]  # the module's fixtures, shared with tests/test_sidebar.py

TRADITIONAL = "是我，衣服顏色跟圖片差太多了，穿起來很顯老，真的很失望"
TIED = "亲，给个好评我们返您10元红包哦"


def _to_complaint(page: Sidebar, order_id: str, buyer_line: str = BUYER_LINE) -> None:
    page.sign_in()
    page.start_case(order_id=order_id)
    page.click("#suggestions .use")
    page.send_as_agent()
    page.say_as_buyer(buyer_line)
    page.until_text("#stage", "倾听致歉")


@pytest.mark.browser
@pytest.mark.process
def test_the_opening_is_before_the_main_path_not_its_step_zero(browser: Any, server: ServerProcess) -> None:
    page = Sidebar(browser, server)
    page.sign_in()
    page.start_case(order_id="W-0")
    assert page.text("#stage") == "开场"
    step = page.text("#step")
    assert "第 0" not in step and step == "（主流程之前，共 7 步）"


@pytest.mark.browser
@pytest.mark.process
def test_a_suggestions_tone_tag_never_breaks_in_two(browser: Any, server: ServerProcess) -> None:
    """“正式” drawn as 正 at a line's end and 式 on the next: a tag is one box at any width."""
    page = Sidebar(browser, server)
    _to_complaint(page, "W-1")
    assert page.all("#suggestions .tag")
    broken = []
    for width in range(360, 1281, 11):
        page.size(width, 900)
        n = browser.execute_script(
            "return [...document.querySelectorAll('#suggestions .tag')].filter(t => t.getClientRects().length > 1)"
            ".map(t => t.textContent).length")
        if n:
            broken.append(width)
    assert broken == [], f"语气标签在这些宽度折成两行：{broken[:8]}"


@pytest.mark.browser
@pytest.mark.process
@pytest.mark.parametrize(("width", "height"), [(1280, 900), (360, 740)])
def test_the_warning_shows_the_rule_and_the_whole_rewrite(browser: Any, server: ServerProcess,
                                                          width: int, height: int) -> None:
    """A traditional-Chinese buyer, a draft that ties a red packet to the review: the warning names
    the rule, shows the compliant rewrite without scrolling inside it, and one click uses it."""
    page = Sidebar(browser, server, width, height)
    _to_complaint(page, f"W-2-{width}", TRADITIONAL)
    assert "與描述不符" not in page.text("#understanding") and "与描述不符" in page.text("#understanding")
    page.type("#agent-text", TIED)
    page.wait.until(lambda _: page.all("#lint li.sev-block"))
    lint = page.text("#lint")
    assert "淘宝评价规则" in lint and "建议改为：" in lint and "这句话不能发给买家" in lint
    assert not page.el("#send-agent").is_enabled()
    box = page.el("#lint")
    browser.execute_script("arguments[0].scrollIntoView({block: 'nearest'})", box)
    hidden = browser.execute_script("const b = arguments[0]; return b.scrollHeight - b.clientHeight;", box)
    page.shot(f"{width}-walk-blocked")
    assert hidden <= 1, f"警告有 {hidden} px 要在框里滚动才看得到（改写建议被截掉）"
    assert page.axe() == [], "拦下草稿时的无障碍检查"
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [
        {"name": "prefers-color-scheme", "value": "dark"}]})
    assert page.axe() == [], "深色模式下拦下草稿时的无障碍检查"
    page.shot(f"{width}-walk-blocked-dark")
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [
        {"name": "prefers-color-scheme", "value": "light"}]})
    # The rewrite is one click away, and it passes the check.
    page.click("#lint .use-rewrite")
    page.wait.until(lambda _: page.el("#send-agent").is_enabled() and not page.all("#lint li.sev-block"))
    # a draft that only asks for a good review gets the slogan rewrite (guard.yaml solicit): the
    # review left to the buyer, no benefit beside it
    assert "评价按您的真实感受" in page.value("#agent-text") and "红包" not in page.value("#agent-text")
    assert BAD_DRAFT not in page.value("#agent-text")
    assert page.too_wide() == [] and page.js_errors() == []


@pytest.mark.browser
@pytest.mark.process
def test_the_empty_transcript_points_to_the_reply_box_wherever_it_is(browser: Any, server: ServerProcess) -> None:
    """At 360 px the reply box is below, not 右边: the hint names the box, not a side."""
    page = Sidebar(browser, server, 360, 740)
    page.sign_in()
    page.start_case(order_id="W-3")
    hint = page.text("#transcript li.empty")
    assert "“我的回复”" in hint
    assert not any(side in hint for side in ("右边", "左边", "上面", "下面"))


def _uncovered(browser: Any, css: str) -> bool:
    """The element is what a click at its centre hits: no sticky bar lies over it."""
    return bool(browser.execute_script(
        "const e = document.querySelector(arguments[0]); const r = e.getBoundingClientRect();"
        "const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);"
        "return r.height > 0 && (hit === e || e.contains(hit));", css))


def _just_below_the_stage_bar(page: Sidebar, css: str) -> None:
    """Scrolled as an agent would to click it: between the two sticky bars (the centre of a 360 px
    screen is under the reply box once a warning shows)."""
    page.d.execute_script(
        "const r = document.querySelector(arguments[0]).getBoundingClientRect();"
        "scrollBy(0, r.top - document.getElementById('stagebar').offsetHeight - 40);", css)


@pytest.mark.browser
@pytest.mark.process
def test_a_correction_form_is_not_hidden_under_the_reply_box(browser: Any, server: ServerProcess) -> None:
    """At 360 px the reply box (with a warning in it) sticks to the bottom: opening a correction
    brings its 确认更正 above it, so the agent sees what they are about to press."""
    page = Sidebar(browser, server, 360, 740)
    _to_complaint(page, "W-4", TRADITIONAL)
    page.type("#agent-text", TIED)
    page.wait.until(lambda _: page.all("#lint li.sev-block"))
    for opener, go in (("#stage", "#fix-stage-go"), ("#understanding button", "#fix-meaning-go")):
        _just_below_the_stage_bar(page, opener)
        page.el(opener).click()
        page.until_shown(go)
        assert _uncovered(browser, go), f"{go} 被贴底的回复框挡住了"
        page.shot(f"360-walk-fix-{go[5:]}")
        page.el(f"{go[:-3]} .cancel").click()  # as it is on screen: no scrolling first
    # The correction itself: the cause read from the buyer becomes the case's.
    _just_below_the_stage_bar(page, "#understanding button")
    page.el("#understanding button").click()
    page.choose("#fix-cause", "quality")
    page.el("#fix-meaning-go").click()
    page.until_text("#case-facts", "质量问题（更正）")
    assert "质量问题" in page.text("#understanding")
    assert page.js_errors() == []
