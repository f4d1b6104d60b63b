"""Which channels start: none set → not mounted; partial → refuse; no secret → only with dev."""

from __future__ import annotations

import pytest
from test_channels_support import ENV

from bot.channels.base import ConfigError, Setting
from bot.channels.registry import ADAPTERS, load_adapters

FULL = {k: v for key, env in ENV.items() if key != "dingtalk-robot" for k, v in env.items()}

def test_names() -> None:
    assert list(ADAPTERS) == ["wecom", "dingtalk", "feishu", "telegram", "slack", "webhook"]
    for name, cls in ADAPTERS.items():
        assert cls.name == name and cls.title
        assert all(s.env.startswith(f"CSBOT_{name.upper()}_") for s in cls.settings)


def test_nothing_set_mounts_nothing() -> None:
    assert load_adapters({}) == {}
    assert load_adapters({"CSBOT_SLACK_API_BASE": "http://127.0.0.1:1", "CSBOT_PORT": "1"}) == {}
    assert load_adapters({"CSBOT_SLACK_BOT_TOKEN": "  "}) == {}  # blank counts as unset


def test_everything_set_mounts_everything() -> None:
    adapters = load_adapters(FULL)
    assert sorted(adapters) == sorted(ADAPTERS)
    assert adapters["webhook"].sync_reply and not adapters["slack"].sync_reply


def test_partial_settings_name_every_missing_one() -> None:
    env = {"CSBOT_FEISHU_APP_ID": "a", "CSBOT_SLACK_SIGNING_SECRET": "s"}
    with pytest.raises(ConfigError) as exc:
        load_adapters(env)
    msg = str(exc.value)
    for missing in ("CSBOT_FEISHU_APP_SECRET", "CSBOT_FEISHU_ENCRYPT_KEY", "CSBOT_SLACK_BOT_TOKEN"):
        assert missing in msg
    assert "飞书" in msg and "Slack" in msg


@pytest.mark.parametrize(("env", "missing"), [
    ({"CSBOT_TELEGRAM_BOT_TOKEN": "1:A"}, "CSBOT_TELEGRAM_SECRET_TOKEN"),
    ({"CSBOT_SLACK_BOT_TOKEN": "x"}, "CSBOT_SLACK_SIGNING_SECRET"),
    ({"CSBOT_DINGTALK_APP_KEY": "k"}, "CSBOT_DINGTALK_APP_SECRET"),
    ({"CSBOT_FEISHU_APP_ID": "a", "CSBOT_FEISHU_APP_SECRET": "s"}, "CSBOT_FEISHU_ENCRYPT_KEY"),
    ({"CSBOT_WEBHOOK_CALLBACK_URL": "http://x"}, "CSBOT_WEBHOOK_SECRET"),
])
def test_no_secret_refuses_unless_dev(env: dict[str, str], missing: str) -> None:
    with pytest.raises(ConfigError) as exc:
        load_adapters(env)
    assert missing in str(exc.value) and "--dev" in str(exc.value)
    assert len(load_adapters(env, dev=True)) == 1


def test_dev_does_not_excuse_missing_credentials() -> None:
    with pytest.raises(ConfigError):  # WeCom always encrypts: its keys are never optional
        load_adapters({"CSBOT_WECOM_CORP_ID": "x"}, dev=True)


def test_describe_never_shows_values() -> None:
    rows = ADAPTERS["slack"].describe({"CSBOT_SLACK_BOT_TOKEN": "xoxb-secret"})
    assert [(s.env, present) for s, present in rows] == [
        ("CSBOT_SLACK_BOT_TOKEN", True), ("CSBOT_SLACK_SIGNING_SECRET", False),
        ("CSBOT_SLACK_API_BASE", False)]
    assert all(isinstance(s, Setting) for s, _ in rows)
