"""Triage and the contact rules: the queue's order for a hand-built set of cases, statuses,
quiet hours across midnight and time zones, the fourth attempt."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.intake.contact import ContactRules, TooManyAttempts
from bot.intake.triage import CaseView, Reading, ReviewRow, matches, order, read_review, triage
from bot.quiet import QuietHours, RulesError
from tests.shared import shared_engine

ENGINE = shared_engine()
STAGES = ENGINE.script.stages
NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
RULES = ContactRules()


def view(cid: str, *, rating: str = "差评", platform: str = "taobao", hours_ago: float = 2,
         text: str | None = None, stage: str = "opening", turn: int = 0, attempts: int = 0,
         agent: str | None = None, context: dict[str, Any] | None = None, **case: Any) -> CaseView:
    review_time = NOW - timedelta(hours=hours_ago)
    reading = read_review(ENGINE.understand, text)
    state = {"case": {"shop": "店", "buyer_name": f"买家{cid}", "order_id": f"O{cid}", "product": "裙子",
                      "platform": platform, "review_rating": rating, "review_text": text,
                      "review_time": review_time.isoformat(), **case},
             "context": {"attempts": 1, **(context or {})}}
    return CaseView(cid, "店", agent, stage, turn, state, review_time + timedelta(minutes=5),
                    [ReviewRow(rating, platform, review_time, reading)], attempts)


def item(v: CaseView, rules: ContactRules = RULES, now: datetime = NOW) -> Any:
    return triage(v, rules, now, STAGES, ENGINE.understand)


def test_the_queue_order_of_a_hand_built_set() -> None:
    cases = [
        view("mid-fresh", rating="中评", hours_ago=1, text="颜色有点色差"),
        view("bad-fresh", hours_ago=1, text="质量太差了，穿一次就起球"),
        view("bad-overdue", hours_ago=30, text="质量太差了"),
        view("mid-overdue", rating="中评", hours_ago=40, text="一般般吧"),
        view("extort", hours_ago=3, text="给我返50块钱我就删差评，不然天天给你差评"),
        view("threat", hours_ago=3, text="再不给我退款我就去12315投诉你们"),
        view("bad-window-closing", hours_ago=24 * 27 - 12, stage="listen_apologize", turn=3),
        view("mid-too-old", rating="中评", hours_ago=24 * 40, stage="listen_apologize", turn=2),
        view("tmall-bad", platform="tmall", hours_ago=1, text="鞋子磨脚"),
        view("callback-later", stage="callback", turn=4, hours_ago=20,
             context={"callback_at": (NOW + timedelta(hours=6)).isoformat()}),
        view("callback-due", stage="callback", turn=4, hours_ago=20,
             context={"callback_at": (NOW - timedelta(minutes=10)).isoformat()}),
        view("three-tries", hours_ago=50, attempts=3),
    ]
    ranked = order([item(v) for v in cases])
    # The malicious review first (its complaint deadline runs), then a threat to complain; a
    # 差评 past the first-contact target and a callback that is due (the older review first);
    # a 差评 whose window to change closes; a 中评 already late before a 差评 still within the
    # target, and the Tmall one (no window to close: explanation only); a callback not yet due; the
    # fresh 中评; a 中评 past its window; last, a case that must not be contacted again.
    assert [(i.conversation_id, i.urgency) for i in ranked] == [
        ("extort", 71), ("threat", 61), ("bad-overdue", 60), ("callback-due", 60), ("bad-window-closing", 49),
        ("mid-overdue", 41), ("bad-fresh", 40), ("tmall-bad", 40), ("callback-later", 25), ("mid-fresh", 20),
        ("mid-too-old", 10), ("three-tries", 0)]
    by = {i.conversation_id: i for i in ranked}
    assert by["extort"].reasons[0].startswith("疑似恶意评价：不要付钱，保留聊天记录，01-04 前向平台投诉（还剩 30 天）")
    assert "评价里提到投诉或维权：请主管介入" in by["threat"].reasons
    assert "天猫评价不能修改：解决问题后写公开解释" in by["tmall-bad"].reasons
    assert "已过 30 天改评期：解决问题后写公开解释" in by["mid-too-old"].reasons
    assert "改评期还剩 4 天" in by["bad-window-closing"].reasons
    assert by["three-tries"].urgency == 0
    assert "已联系 3 次：不要再联系买家，记录结果后转下一条" in by["three-tries"].reasons
    assert by["bad-fresh"].reasons[-1] == "首次联系目标还剩 23 小时"


def test_statuses_and_the_first_contact_target() -> None:
    assert item(view("a", hours_ago=2)).status == "waiting"
    late = item(view("b", hours_ago=26))
    assert late.status == "overdue"
    assert "超时 2 小时（首次联系目标：评价后 24 小时内）" in late.reasons
    assert item(view("c", hours_ago=26, turn=2, stage="confirm_product")).status == "in_progress"
    assert item(view("d", hours_ago=26, attempts=1)).status == "in_progress"
    cb = item(view("e", stage="callback", turn=3, context={"callback_at": "2026-12-05T20:00:00+08:00"}))
    assert cb.status == "callback" and cb.callback_at == datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
    assert "约定的回访时间已到（12-05 20:00）" in cb.reasons
    # A shorter target (a setting) makes the same case overdue sooner.
    strict = ContactRules.of(first_contact_hours=1)
    assert item(view("f", hours_ago=2), strict).status == "overdue"
    # A time the context holds in another form is ignored, not an error.
    odd = item(view("g", stage="callback", turn=3, context={"callback_at": "明晚八点"}))
    assert odd.callback_at is None and "待回访：还没约定具体时间" in odd.reasons


def test_an_agents_own_cases_come_first_and_the_search() -> None:
    items = [item(view("x", hours_ago=30)), item(view("y", rating="中评", agent="小林")),
             item(view("z", agent="小周", hours_ago=40))]
    assert [i.conversation_id for i in order(items, "小林")] == ["y", "z", "x"]
    assert [i.conversation_id for i in order(items)] == ["z", "x", "y"]
    assert matches(items[0], "买家X") and matches(items[0], "ox") and matches(items[0], "裙")
    assert not matches(items[0], "大衣")


def test_a_case_typed_in_is_read_from_its_review_text() -> None:
    v = view("t", text=None)
    v.reviews = []
    v.state["case"]["review_text"] = "不给我赔100块，我就一直给差评"
    assert any("疑似恶意评价" in r for r in item(v).reasons)
    v.state["case"]["review_text"] = "再不給我退款我就去12315投訴"  # traditional characters
    assert "评价里提到投诉或维权：请主管介入" in item(v).reasons
    assert Reading("extort").malicious and not Reading("complain").malicious


def test_a_typed_cases_review_is_read_once_not_on_every_queue_request() -> None:
    class Counting:  # the real understanding, counted
        def __init__(self) -> None:
            self.calls = 0

        def buyer(self, text: str) -> Any:
            self.calls += 1
            return ENGINE.understand.buyer(text)

    counting = Counting()
    typed = CaseView("t1", "店", None, "opening", 0,
                     {"case": {"buyer_name": "王", "review_rating": "差评", "review_text": "给我200块就删差评"}},
                     NOW - timedelta(hours=1))
    first = triage(typed, RULES, NOW, STAGES, counting)
    again = triage(typed, RULES, NOW + timedelta(minutes=1), STAGES, counting)
    assert counting.calls == 1
    assert first.reasons[0].startswith("疑似恶意评价") and again.reasons[0] == first.reasons[0]


@pytest.mark.parametrize("local,quiet", [
    ("20:59", False), ("21:00", True), ("23:30", True), ("00:00", True), ("03:15", True),
    ("07:59", True), ("08:00", False), ("12:00", False)])
def test_quiet_hours_across_midnight(local: str, quiet: bool) -> None:
    h, m = map(int, local.split(":"))
    at = datetime(2026, 12, 5, h, m, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert RULES.hours.quiet(at) is quiet
    assert (RULES.quiet_warning(at) is not None) is quiet


@pytest.mark.parametrize(("local", "proposed"), [
    ("01:05", "建议等到今天早上8点以后再联系。"), ("07:30", "建议等到今天早上8点以后再联系。"),
    ("21:00", "建议等到明天早上8点以后再联系。"), ("23:59", "建议等到明天早上8点以后再联系。")])
def test_a_quiet_hour_warning_proposes_the_first_time_allowed(local: str, proposed: str) -> None:
    """At 01:05 the evening (19 hours on) was proposed: the quiet hours end at 8 that morning."""
    h, m = map(int, local.split(":"))
    warning = RULES.quiet_warning(datetime(2026, 12, 5, h, m, tzinfo=ZoneInfo("Asia/Shanghai")))
    assert warning is not None and warning.endswith(proposed) and "20:00" not in warning, warning
    assert f"Asia/Shanghai {local}" in warning
    noon = datetime(2026, 12, 5, 12, 40, tzinfo=ZoneInfo("Asia/Shanghai"))
    lunch = ContactRules.of("12:00-13:30").quiet_warning(noon)
    assert lunch is not None and lunch.endswith("建议等到今天下午1点半以后再联系。")


@pytest.mark.parametrize(("now", "at", "said"), [
    ("01:00", "08:00", "今天早上8点"), ("05:30", "06:00", "今天早上6点"), ("07:00", "08:30", "今天早上8点半"),
    ("22:00", "08:00", "明天早上8点"), ("07:00", "09:00", "今天上午9点"), ("08:00", "10:30", "今天上午10点半"),
    ("12:00", "13:30", "今天下午1点半"), ("20:00", "04:00", "明天凌晨4点"), ("18:00", "20:00", "今晚8点")])
def test_a_time_is_said_as_a_native_speaker_says_it(now: str, at: str, said: str) -> None:
    """At 01:00 the end of the quiet hours was "今天上午8点": before 9 the morning is 早上
    (今天早上8点); 上午 from 9 on."""
    from bot.script.flow import spoken_time

    def day(clock: str, days: int = 0) -> datetime:
        h, m = map(int, clock.split(":"))
        return datetime(2026, 12, 5 + days, h, m)

    later = day(at) if at > now else day(at, 1)
    assert spoken_time(later, day(now)) == said


def test_quiet_hours_are_the_shops_time_zone() -> None:
    # 14:30 UTC is 22:30 in Shanghai (quiet) and 15:30 in Berlin (not).
    at = datetime(2026, 12, 5, 14, 30, tzinfo=UTC)
    assert ContactRules.of(timezone="Asia/Shanghai").hours.quiet(at)
    assert not ContactRules.of(timezone="Europe/Berlin").hours.quiet(at)
    warning = ContactRules.of(timezone="Asia/Shanghai").quiet_warning(at)
    assert warning is not None and "Asia/Shanghai 22:30" in warning and "21:00–08:00" in warning
    # A span within one day, and one that is switched off.
    lunch = ContactRules.of("12:00-13:30")
    assert lunch.hours.quiet(datetime(2026, 12, 5, 13, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
    assert not lunch.hours.quiet(datetime(2026, 12, 5, 22, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
    assert not ContactRules.of("00:00-00:00").hours.quiet(at)
    assert ContactRules.of("22:00~7:30").hours.end == time(7, 30)


def test_the_guards_late_contact_note_is_in_the_shops_time_zone() -> None:
    """The guard read the hour of the turn's time as it came (03:00 UTC: day to it) from
    policy.yaml's hours: a Los Angeles shop at 19:00 its time, or 22:30 with its quiet hours
    set to 23:00-07:00, was judged by other hours than its queue. Both read one QuietHours."""
    from bot.dataload import load_yaml
    from bot.guard.policy import Policy

    conv, _ = ENGINE.start()
    assert conv.stage in ENGINE.policy.contacts

    def notes(quiet: QuietHours, at: datetime) -> dict[str, str]:
        policy = Policy(load_yaml(ENGINE.dialogs, "policy.yaml"), ENGINE.script, quiet)
        return {f.code: f.message for f in policy.agent_turn(conv, ["greet"], [], True, at)}

    la = QuietHours.of("21:00-08:00", "America/Los_Angeles")
    day_in_utc = datetime(2026, 12, 5, 11, 0, tzinfo=UTC)  # 03:00 in Los Angeles
    said = notes(la, day_in_utc)["late_contact"]
    assert "21:00 以后或 8:00 以前" in said and "今天早上8点" in said, said
    assert ContactRules(la).quiet_warning(day_in_utc) is not None  # the queue says the same
    assert "late_contact" not in notes(la, datetime(2026, 12, 5, 20, 0, tzinfo=UTC))  # 12:00 there
    # the settings' hours, not a second copy of them: 22:30 is no quiet hour in 23:00-07:00
    late = QuietHours.of("23:00-07:00", "Asia/Shanghai")
    assert "late_contact" not in notes(late, datetime(2026, 12, 5, 22, 30))
    assert "23:00 以后或 7:00 以前" in notes(late, datetime(2026, 12, 5, 23, 30))["late_contact"]


def test_settings_that_cannot_be_read_are_told_in_chinese() -> None:
    with pytest.raises(RulesError, match="免打扰时段写法不对"):
        ContactRules.of("晚上九点到早上八点")
    with pytest.raises(RulesError, match="00:00 到 23:59"):
        ContactRules.of("25:00-08:00")
    with pytest.raises(RulesError, match="不认识的时区"):
        ContactRules.of(timezone="Mars/Olympus")


def test_the_fourth_attempt_is_refused() -> None:
    day = datetime(2026, 12, 5, 11, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert RULES.check(0, day) == []
    assert RULES.check(2, day) == ["这是最后一次联系（第 3 次，最多 3 次）。"]
    with pytest.raises(TooManyAttempts, match="已经联系了 3 次（每个评价最多 3 次），不能再联系买家"):
        RULES.check(3, day)
