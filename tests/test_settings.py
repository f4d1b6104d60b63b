"""Settings: defaults, CSBOT_* variables, a TOML file, and flags over both."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from bot.settings import Settings, load_settings


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("CSBOT_CONFIG", "CSBOT_PORT", "CSBOT_DATABASE_URL", "CSBOT_HOST"):
        monkeypatch.delenv(var, raising=False)
    s = Settings()
    assert (s.database_url, s.host, s.port, s.sqlite_synchronous) == ("sqlite:///csbot.db", "127.0.0.1", 8080, "FULL")


def test_toml_then_environment_then_flags(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    toml = tmp_path / "csbot.toml"
    toml.write_text('port = 9001\nhost = "0.0.0.0"\nshop = "柚子家女装"\n', encoding="utf-8")
    monkeypatch.delenv("CSBOT_PORT", raising=False)
    monkeypatch.delenv("CSBOT_CONFIG", raising=False)
    s = load_settings(toml)
    assert (s.port, s.host, s.shop) == (9001, "0.0.0.0", "柚子家女装")
    monkeypatch.setenv("CSBOT_PORT", "9002")
    assert load_settings(toml).port == 9002
    assert load_settings(toml, port=9003).port == 9003


def test_a_bad_sqlite_synchronous_value_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CSBOT_SQLITE_SYNCHRONOUS", "FULL; DROP TABLE turns")
    with pytest.raises(ValueError, match="sqlite_synchronous"):
        Settings()


def test_the_token_cache_time_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CSBOT_TOKEN_CACHE_SECONDS", raising=False)
    assert Settings().token_cache_seconds == 10.0
    monkeypatch.setenv("CSBOT_TOKEN_CACHE_SECONDS", "0")
    assert Settings().token_cache_seconds == 0.0
    monkeypatch.setenv("CSBOT_TOKEN_CACHE_SECONDS", "-1")
    with pytest.raises(ValueError, match="token_cache_seconds"):
        Settings()


def test_every_channel_setting_is_a_field_of_the_one_settings_model() -> None:
    from bot.channels.registry import ADAPTERS

    fields = {f"CSBOT_{name.upper()}" for name in Settings.model_fields}
    declared = {s.env for cls in ADAPTERS.values() for s in cls.settings}
    assert declared <= fields, f"channel settings missing from Settings: {sorted(declared - fields)}"


async def test_a_channel_set_in_the_toml_file_is_mounted(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, aiohttp_client: Any) -> None:
    """The documented --config file works for channel secrets too, not only for `port`."""
    from bot.server.app import build_app

    for var in ("CSBOT_CONFIG", "CSBOT_TELEGRAM_BOT_TOKEN", "CSBOT_TELEGRAM_SECRET_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    toml = tmp_path / "csbot.toml"
    toml.write_text('telegram_bot_token = "123:abc"\ntelegram_secret_token = "s3cret-token"\n',
                    encoding="utf-8")
    s = load_settings(toml)
    assert s.channel_env() == {"CSBOT_TELEGRAM_BOT_TOKEN": "123:abc",
                               "CSBOT_TELEGRAM_SECRET_TOKEN": "s3cret-token"}
    app = await build_app(f"sqlite:///{tmp_path / 'c.db'}", env=s.channel_env())
    client = await aiohttp_client(app)
    r = await client.post("/hooks/telegram", json={"update_id": 1},
                          headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"})
    body = await r.json()
    assert r.status == 401 and body["error"]["code"] != "unknown_channel", body
    r = await client.post("/hooks/telegram", json={"update_id": 1},
                          headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-token"})
    assert r.status == 200, await r.text()


@pytest.mark.parametrize(("toml", "said"), [
    ('telegram_bot_tokn = "123:abc"\n', "telegram_bot_tokn：不认识这个设置（拼写错了？）"),
    ("[telegram]\nbot_token = 1\n", "telegram：不认识这个设置（拼写错了？）"),
    ('port = "九千"\n', "port：应为整数"),
    ("port = 9000\n[x\n", "不是合法的 TOML"),
])
def test_a_broken_settings_file_is_told_in_chinese_with_exit_2(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, toml: str, said: str) -> None:
    """A misspelt key in the --config file is an error, not a setting silently left at its
    default (the same rule as the data files); a bad value or TOML is no traceback."""
    from click.testing import CliRunner

    from bot.cli import main

    monkeypatch.delenv("CSBOT_CONFIG", raising=False)
    path = tmp_path / "csbot.toml"
    path.write_text(toml, encoding="utf-8")
    result = CliRunner().invoke(main, ["db", "version", "--config", str(path),
                                       "--db", f"sqlite:///{tmp_path / 'x.db'}"])
    assert result.exit_code == 2, result.output
    assert str(path) in result.output and said in result.output and "Traceback" not in result.output


async def test_the_queues_contact_rules_come_from_the_toml_file(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, aiohttp_client: Any, engine: Any) -> None:
    """`csbot serve --config` read quiet_hours and the rest of the contact rules from the
    environment only: the file's were left out of the served queue."""
    from bot.server.app import serve_app

    for var in ("CSBOT_CONFIG", "CSBOT_QUIET_HOURS", "CSBOT_FIRST_CONTACT_HOURS"):
        monkeypatch.delenv(var, raising=False)
    toml = tmp_path / "csbot.toml"
    toml.write_text(f'database_url = "sqlite:///{tmp_path / "q.db"}"\nquiet_hours = "00:00-23:59"\n'
                    'first_contact_hours = 6\n', encoding="utf-8")
    app = await serve_app(load_settings(toml), engine)
    client = await aiohttp_client(app)
    from bot.server.queue import RULES

    rules = client.app[RULES]
    assert (rules.hours.start.hour, rules.hours.end.minute, rules.first_contact.total_seconds()) == (0, 59, 6 * 3600)


def test_a_settings_file_that_is_not_there_is_said(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """`--config csbot.tmol` (a typo) ran on the defaults without a word."""
    from click.testing import CliRunner

    from bot.cli import main

    monkeypatch.delenv("CSBOT_CONFIG", raising=False)
    missing = tmp_path / "csbot.tmol"
    result = CliRunner().invoke(main, ["db", "version", "--config", str(missing),
                                       "--db", f"sqlite:///{tmp_path / 'x.db'}"])
    assert result.exit_code == 2 and f"找不到设置文件：{missing}" in result.output, result.output


def _clear_channels(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for var in [k for k in os.environ if k.upper().startswith("CSBOT_")]:
        monkeypatch.delenv(var)


async def test_a_bad_setting_from_the_file_is_named_by_the_file_and_key(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, engine: Any) -> None:
    """A bad escalation_webhook in the --config file was reported as CSBOT_ESCALATION_WEBHOOK,
    a variable the admin never set: the error names the file, the line and the key."""
    from bot.channels.base import ConfigError
    from bot.server.app import serve_app

    _clear_channels(monkeypatch)
    toml = tmp_path / "csbot.toml"
    toml.write_text(f'database_url = "sqlite:///{tmp_path / "e.db"}"\nescalation_webhook = "ftp://x"\n',
                    encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        await serve_app(load_settings(toml), engine)
    said = str(caught.value)
    assert f"设置文件 {toml} 第 2 行的 escalation_webhook" in said and "CSBOT_" not in said, said
    # The same value from the variable is named by the variable (it beats the file).
    monkeypatch.setenv("CSBOT_ESCALATION_WEBHOOK", "ftp://y")
    with pytest.raises(ConfigError, match="环境变量 CSBOT_ESCALATION_WEBHOOK 应为"):
        await serve_app(load_settings(toml), engine)


async def test_a_channel_half_set_in_the_file_names_the_files_missing_key(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, engine: Any) -> None:
    from bot.channels.base import ConfigError
    from bot.server.app import serve_app

    _clear_channels(monkeypatch)
    toml = tmp_path / "csbot.toml"
    toml.write_text(f'database_url = "sqlite:///{tmp_path / "t.db"}"\ntelegram_bot_token = "1:a"\n',
                    encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        await serve_app(load_settings(toml), engine)
    assert f"设置文件 {toml} 的 telegram_secret_token" in str(caught.value), caught.value


def test_a_bad_value_names_where_it_came_from(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The hint listed the variable, the file and the flags whatever the source was."""
    from bot.settings import SettingsError

    _clear_channels(monkeypatch)
    toml = tmp_path / "csbot.toml"
    toml.write_text('shop = "x"\nport = "九千"\n', encoding="utf-8")
    with pytest.raises(SettingsError, match=f"请检查设置文件 {re.escape(str(toml))} 第 2 行的 port。"):
        load_settings(toml)
    monkeypatch.setenv("CSBOT_PORT", "0")
    with pytest.raises(SettingsError, match="请检查环境变量 CSBOT_PORT。"):
        load_settings(toml)


def test_channels_check_names_the_files_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from bot.cli import main

    _clear_channels(monkeypatch)
    toml = tmp_path / "csbot.toml"
    toml.write_text('telegram_bot_token = "1:a"\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["channels", "check", "telegram", "--config", str(toml)])
    assert f"设置文件 {toml} 的 telegram_secret_token" in result.output, result.output


@pytest.mark.parametrize(("key", "value", "said"), [
    ("quiet_hours", "晚上九点到早上八点", "免打扰时段应写成 21:00-08:00 这样，实际是 '晚上九点到早上八点'"),
    ("shop_timezone", "Asia/Shangai", "不认识这个时区，实际是 'Asia/Shangai'（应写成 Asia/Shanghai 这样的时区名"),
    ("first_contact_hours", 0, "应大于 0，实际是 0"),
    ("first_contact_hours", "inf", "应为有限的数字"),
    ("header_timeout", -1, "应大于 0，实际是 -1"),
])
def test_every_bad_value_in_the_file_names_the_file_line_and_key_with_exit_2(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, key: str, value: Any, said: str) -> None:
    """A bad quiet_hours or time zone was told when the queue was built, as 配置错误 with
    exit 3 and no word of where it was written (a time zone crashed `csbot serve` with a
    traceback); the other settings named their source. Now every value is read when the
    settings load: the file, its line and the key, exit 2 as docs/service.md says."""
    from click.testing import CliRunner

    from bot.cli import main

    _clear_channels(monkeypatch)
    toml = tmp_path / "csbot.toml"
    shown = f'"{value}"' if isinstance(value, str) else str(value)
    toml.write_text(f'shop = "柚子家女装"\n{key} = {shown}\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["queue", "--config", str(toml), "--db", f"sqlite:///{tmp_path / 'q.db'}"])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"设置有误：{key}：{said}"), result.stderr
    assert result.stderr.rstrip().endswith(f"请检查设置文件 {toml} 第 2 行的 {key}。"), result.stderr
    assert "Input should" not in result.stderr and "配置错误" not in result.stderr


def test_a_bad_time_zone_in_the_environment_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.settings import SettingsError

    _clear_channels(monkeypatch)
    monkeypatch.setenv("CSBOT_SHOP_TIMEZONE", "北京")
    with pytest.raises(SettingsError, match=r"不认识这个时区，实际是 '北京'.*请检查环境变量 CSBOT_SHOP_TIMEZONE。"):
        load_settings()
    monkeypatch.setenv("CSBOT_SHOP_TIMEZONE", "Europe/Berlin")
    monkeypatch.setenv("CSBOT_QUIET_HOURS", "22-7")  # the short form the queue reads
    s = load_settings()
    assert (s.shop_timezone, s.quiet_hours) == ("Europe/Berlin", "22-7")


def test_a_bad_flag_is_named_as_it_is_typed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The flag was named 命令行参数（port）, a name nobody types: now --port, and a
    setting whose flag is spelt otherwise (database_url: --db) by that flag."""
    from click.testing import CliRunner

    from bot.cli import main
    from bot.settings import SettingsError

    _clear_channels(monkeypatch)
    result = CliRunner().invoke(main, ["serve", "--port", "70000", "--db", f"sqlite:///{tmp_path / 's.db'}"])
    assert result.exit_code == 2, result.output
    assert result.stderr == "设置有误：port：应不大于 65535，实际是 70000。请检查命令行参数 --port。\n", result.stderr
    with pytest.raises(SettingsError, match="请检查命令行参数 --shop-timezone。"):
        load_settings(None, shop_timezone="Mars")
    with pytest.raises(SettingsError, match="请检查命令行参数 --db。"):
        load_settings(None, {"database_url": "--db"}, database_url=1)


def test_a_data_folder_that_is_not_there_is_one_line_naming_where_it_was_set(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """`dialogs = "我的店/dialog"` (a typo) in the --config file, or in CSBOT_DIALOGS, or after
    --dialogs, was told as ten missing data files under it with exit 3 (`serve` said only
    缺少数据文件：…/normalize.yaml): one line now names the folder and where it was written,
    exit 2 (a file to read that is not there is a usage error, README)."""
    from click.testing import CliRunner

    from bot.cli import main

    _clear_channels(monkeypatch)
    toml = tmp_path / "csbot.toml"
    missing = tmp_path / "我的店" / "dialog"
    toml.write_text(f'port = 9000\ndialogs = "{missing}"\n', encoding="utf-8")
    runner = CliRunner()
    for command in (["check"], ["serve"], ["report"], ["assist", "--json"]):
        result = runner.invoke(main, [*command, "--config", str(toml)])
        assert result.exit_code == 2, (command, result.output)
        assert result.stderr == (f"设置有误：dialogs：文件夹不存在：{missing}。"
                                 f"请检查设置文件 {toml} 第 2 行的 dialogs。\n"), result.stderr
    result = runner.invoke(main, ["check", "--dialogs", str(missing)])
    assert result.exit_code == 2, result.output
    assert f"错误：--dialogs 的值不对：文件夹不存在：{missing}" in result.stderr, result.stderr
    result = runner.invoke(main, ["check"], env={"CSBOT_TEMPLATES": str(toml)})
    assert result.exit_code == 2, result.output
    assert f"错误：环境变量 CSBOT_TEMPLATES 的值不对：不是文件夹：{toml}" in result.stderr, result.stderr
    assert "缺少数据文件" not in result.output


def test_check_reads_the_folders_from_the_settings_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """docs/customising.md lets a shop name its folders in the settings file; `csbot check`
    had no --config and checked the built-in folders instead."""
    from click.testing import CliRunner

    from bot.cli import main

    _clear_channels(monkeypatch)
    dialogs = tmp_path / "我的店" / "dialogs"
    dialogs.mkdir(parents=True)  # an empty folder: every data file missing
    toml = tmp_path / "csbot.toml"
    toml.write_text(f'dialogs = "{dialogs}"\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["check", "--json", "--config", str(toml)])
    assert result.exit_code == 3, result.output
    out = __import__("json").loads(result.stdout)
    assert out["dialogs"] == str(dialogs) and not out["ok"]
    assert f"{dialogs / 'script.yaml'}" in {p["file"] for p in out["problems"]}


def test_an_empty_variable_is_a_setting_not_set(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """`export CSBOT_DIALOGS=` made the current folder the data folder (ten missing files
    from `csbot check`, whose --dialogs click reads as not given), and `CSBOT_PORT=` a bad port;
    a bad value in the file is then the file's, not the empty variable's."""
    from bot.settings import SettingsError

    _clear_channels(monkeypatch)
    monkeypatch.setenv("CSBOT_DIALOGS", "")
    monkeypatch.setenv("CSBOT_PORT", "")
    s = load_settings()
    assert (s.dialogs, s.port) == (None, 8080)
    toml = tmp_path / "csbot.toml"
    toml.write_text('port = "九千"\n', encoding="utf-8")
    with pytest.raises(SettingsError, match=f"请检查设置文件 {re.escape(str(toml))} 第 1 行的 port。"):
        load_settings(toml)
