"""Telegram Bot API webhook: the ``X-Telegram-Bot-Api-Secret-Token`` header, ``sendMessage``.

``setWebhook(url, secret_token=…)`` makes Telegram send the secret with every update; it
is a plain shared secret (no HMAC, no timestamp), compared in constant time. Updates are
deduped on ``update_id`` upstream.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from bot.channels.base import (
    Adapter,
    ConfigError,
    HttpReply,
    InboundEvent,
    OutboundMessage,
    Probe,
    RawRequest,
    Setting,
    bad_signature,
    epoch_to_datetime,
    malformed,
    parse_json_object,
    truncate,
)
from bot.channels.crypto import same

if TYPE_CHECKING:
    import aiohttp

API_BASE = "https://api.telegram.org"
TEXT_LIMIT = 4096  # sendMessage text, in UTF-16 code units
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


class TelegramAdapter(Adapter):
    """Telegram bot messages (private chats and groups)."""

    name: ClassVar[str] = "telegram"
    title: ClassVar[str] = "Telegram"
    settings: ClassVar[tuple[Setting, ...]] = (
        Setting("CSBOT_TELEGRAM_BOT_TOKEN", "BotFather 给的 Bot Token"),
        Setting("CSBOT_TELEGRAM_SECRET_TOKEN", "setWebhook 的 secret_token", "secret"),
        Setting("CSBOT_TELEGRAM_API_BASE", "Bot API 地址（测试或自建 Bot API 服务用）", "optional",
                counts=False),
    )

    def __init__(self, values: Mapping[str, str], dev: bool = False) -> None:
        super().__init__(values, dev)
        secret = self.get("CSBOT_TELEGRAM_SECRET_TOKEN")
        if secret and not _SECRET.fullmatch(secret):
            raise ConfigError("CSBOT_TELEGRAM_SECRET_TOKEN 只能是 1–256 个 A-Z a-z 0-9 _ - 字符")

    def _receive(self, req: RawRequest, now: float) -> tuple[HttpReply, list[InboundEvent]]:
        secret = self.get("CSBOT_TELEGRAM_SECRET_TOKEN")
        if secret:
            given = req.headers.get("x-telegram-bot-api-secret-token", "")
            if not given or not same(given, secret):
                raise bad_signature("Secret Token ")
        update = parse_json_object(req.body)
        update_id = update.get("update_id")
        if not isinstance(update_id, int):
            raise malformed("缺少 update_id")
        message = update.get("message")
        if not isinstance(message, dict) or not isinstance(message.get("text"), str):
            return HttpReply.text(""), []  # edits, joins, stickers...: acknowledged, no turn
        chat, sender = message.get("chat"), message.get("from")
        if not isinstance(chat, dict) or "id" not in chat:
            raise malformed("message 缺少 chat.id")
        sender = sender if isinstance(sender, dict) else {}
        if sender.get("is_bot"):
            return HttpReply.text(""), []
        name = " ".join(str(sender[k]) for k in ("first_name", "last_name") if sender.get(k))
        event = InboundEvent(
            channel=self.name, chat_id=str(chat["id"]), sender_id=str(sender.get("id", chat["id"])),
            sender_name=name or str(sender.get("username") or ""), text=message["text"].strip(),
            message_id=str(update_id), time=epoch_to_datetime(message.get("date")),
            reply_to={"chat_id": str(chat["id"]), "message_id": str(message.get("message_id", ""))},
        )
        return HttpReply.text(""), [event] if event.text else []

    def render(self, text: str, title: str | None = None) -> OutboundMessage:
        """Plain text (no parse_mode, so nothing needs escaping), within 4096 characters."""
        content = truncate(f"{title}\n{text}" if title else text, TEXT_LIMIT, unit="utf16")
        return OutboundMessage(text=content, payload={"text": content})

    async def deliver(self, http: aiohttp.ClientSession, event: InboundEvent,
                      msg: OutboundMessage) -> None:
        """``POST /bot<token>/sendMessage`` to the chat the message came from."""
        from bot.channels.outbound import call_api, failure

        chat = event.reply_to["chat_id"]
        chat_id: int | str = int(chat) if re.fullmatch(r"-?\d+", chat) else chat
        url = f"{self.api_base(API_BASE)}/bot{self.get('CSBOT_TELEGRAM_BOT_TOKEN')}/sendMessage"
        resp = await call_api(http, "POST", url, platform=self.name, policy=self.retry,
                              json_body={"chat_id": chat_id, **msg.payload})
        data: Any = resp.data or {}
        if not data.get("ok"):
            raise failure(self.name, data.get("error_code", f"http_{resp.status}"),
                          f"sendMessage 失败：{data.get('description', '')}", resp.status)

    def probe(self, now: float) -> Probe:
        """An update without a message, with the secret header: accepted, no turn."""
        headers = {"content-type": "application/json"}
        if secret := self.get("CSBOT_TELEGRAM_SECRET_TOKEN"):
            headers["x-telegram-bot-api-secret-token"] = secret
        body = json.dumps({"update_id": secrets.randbelow(2**31)}).encode()
        req = RawRequest("POST", f"/hooks/{self.name}", {}, headers, body)
        return Probe(req, "带 Secret Token 的空更新", lambda status, _body: status == 200)
