"""Team-chat commands in Chinese and English, full-width slash, prefixes and mistakes."""

from __future__ import annotations

from datetime import date

import pytest

from bot.channels.commands import HELP, Command, parse_command, parse_date
from bot.models import Case

TODAY = date(2024, 5, 20)


@pytest.mark.parametrize("text", [
    "/new 周敏 连衣裙 2024-05-01 差评 颜色和图片不一样",
    "/新建 周敏 连衣裙 2024/5/1 差评：颜色和图片不一样",
    "／新建 周敏 连衣裙 2024年5月1日 差评，颜色和图片不一样",
    "csbot new 周敏 连衣裙 20240501 差评 颜色和图片不一样",
    "/csbot new 周敏 连衣裙 5月1日 差评 颜色和图片不一样",
    "/new@csbot_bot 周敏 连衣裙 ２０２４-０５-０１ 差评 颜色和图片不一样",
    "/NEW　周敏　连衣裙　2024.5.1　差评 颜色和图片不一样",
])
def test_new_in_every_spelling(text: str) -> None:
    cmd = parse_command(text, today=TODAY)
    assert cmd.kind == "new", cmd.error
    assert (cmd.buyer_name, cmd.product, cmd.order_date) == ("周敏", "连衣裙", date(2024, 5, 1))
    assert (cmd.review_rating, cmd.review_text) == ("差评", "颜色和图片不一样")
    case = Case(shop="柚子家女装", **cmd.case_fields())
    assert case.buyer_name == "周敏" and case.order_date == date(2024, 5, 1)


def test_new_product_with_spaces_and_no_review() -> None:
    cmd = parse_command("/new 张三 蓝牙 耳机 Pro 2024-03-02")
    assert (cmd.product, cmd.order_date, cmd.review_text) == ("蓝牙 耳机 Pro", date(2024, 3, 2),
                                                               None)
    assert cmd.case_fields() == {"buyer_name": "张三", "product": "蓝牙 耳机 Pro",
                                 "order_date": date(2024, 3, 2)}


@pytest.mark.parametrize("text", ["/new", "/new 张三", "/new 张三 鞋", "/新建 张三 鞋 明天",
                                  "/new 张三 鞋 2024-02-30", "/new 张三 鞋 5月1日"])
def test_new_mistakes_explain_the_usage(text: str) -> None:
    cmd = parse_command(text)  # no today: month-day alone cannot be placed in a year
    assert cmd.kind == "invalid" and cmd.error and "/new 买家名 商品 下单日期" in cmd.error


def test_month_day_is_never_in_the_future() -> None:
    assert parse_date("12月30日", today=TODAY) == date(2023, 12, 30)
    assert parse_date("5-20", today=TODAY) == date(2024, 5, 20)


@pytest.mark.parametrize(("text", "kind", "value"), [
    ("/me 您好，我是店铺客服", "me", "您好，我是店铺客服"),
    ("/我 您好，我是店铺客服", "me", "您好，我是店铺客服"),
    ("/我您好，我是店铺客服", "me", "您好，我是店铺客服"),
    ("／我 您好", "me", "您好"),
    ("/buyer /:) 东西不错", "buyer", "/:) 东西不错"),
    ("/买 衣服有线头", "buyer", "衣服有线头"),
    ("衣服有线头，质量太差了", "buyer", "衣服有线头，质量太差了"),
    ("  衣服有线头  ", "buyer", "衣服有线头"),
    ("/:) 好吧", "buyer", "/:) 好吧"),
    ("csbot是什么", "buyer", "csbot是什么"),
])
def test_text_commands(text: str, kind: str, value: str) -> None:
    cmd = parse_command(text)
    assert (cmd.kind, cmd.text) == (kind, value)


@pytest.mark.parametrize(("text", "kind"), [
    ("/status", "status"), ("/状态", "status"), ("/hint", "hint"), ("/提示", "hint"),
    ("/help", "help"), ("/帮助", "help"), ("csbot", "help"), ("/csbot", "help"), ("", "help"),
    ("/switch", "switch"), ("/切换", "switch"), ("csbot status", "status"),
    ("/status@csbot_bot", "status"), ("／帮助", "help"),
])
def test_simple_commands(text: str, kind: str) -> None:
    assert parse_command(text).kind == kind


@pytest.mark.parametrize(("text", "tone"), [
    ("/tone 正式", "正式"), ("/tone 亲切", "亲切"), ("/语气 亲切", "亲切"),
    ("/tone formal", "正式"), ("/tone Friendly", "亲切"),
])
def test_tone(text: str, tone: str) -> None:
    assert parse_command(text) == Command(kind="tone", tone=tone)  # type: ignore[arg-type]


@pytest.mark.parametrize(("text", "outcome"), [
    ("/end 已解决", "resolved"), ("/结束 已改评", "review_updated"), ("/end 未改评", "review_kept"),
    ("/end 约定回访 明天下午", "callback"), ("/结束 恶意", "malicious"),
    ("/end 升级处理", "escalated"),
    ("/end 联系不上", "unreachable"), ("/end 找错人", "wrong_person"),
    ("/end review_updated", "review_updated"), ("/结束已解决", "resolved"),
])
def test_end(text: str, outcome: str) -> None:
    cmd = parse_command(text)
    assert (cmd.kind, cmd.outcome) == ("end", outcome)


@pytest.mark.parametrize("text", ["/tone", "/tone 严肃", "/end", "/end 随便", "/me", "/我",
                                  "/foo bar", "/删除"])
def test_invalid_commands_say_why(text: str) -> None:
    cmd = parse_command(text)
    assert cmd.kind == "invalid" and cmd.error
    assert any(word in cmd.error for word in ("用法", "未知命令"))


def test_switch_target() -> None:
    assert parse_command("/switch 2").target == "2"
    assert parse_command("/切换 周敏").target == "周敏"
    assert parse_command("/switch").target is None


def test_help_text_lists_every_command() -> None:
    for word in ("/new", "/新建", "/me", "/我", "/status", "/hint", "/tone 正式|亲切", "/end",
                 "/help", "/switch", "/csbot new"):
        assert word in HELP
