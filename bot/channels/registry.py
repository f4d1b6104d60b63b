"""Which adapters exist, and which of them the settings turn on."""

from __future__ import annotations

from collections.abc import Mapping

from bot.channels.base import Adapter, ConfigError
from bot.channels.dingtalk import DingTalkAdapter
from bot.channels.feishu import FeishuAdapter
from bot.channels.slack import SlackAdapter
from bot.channels.telegram import TelegramAdapter
from bot.channels.webhook import WebhookAdapter
from bot.channels.wecom import WeComAdapter

ADAPTERS: dict[str, type[Adapter]] = {
    cls.name: cls
    for cls in (WeComAdapter, DingTalkAdapter, FeishuAdapter, TelegramAdapter, SlackAdapter,
                WebhookAdapter)
}


def load_adapters(env: Mapping[str, str], dev: bool = False) -> dict[str, Adapter]:
    """The adapters to mount at ``/hooks/{name}``; ConfigError listing every incomplete one."""
    adapters: dict[str, Adapter] = {}
    problems: list[str] = []
    for name, cls in ADAPTERS.items():
        try:
            adapter = cls.from_settings(env, dev)
        except ConfigError as exc:
            problems.append(str(exc))
            continue
        if adapter is not None:
            adapters[name] = adapter
    if problems:
        raise ConfigError("\n".join(problems))
    return adapters
