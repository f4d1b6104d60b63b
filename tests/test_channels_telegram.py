"""Telegram: the secret-token header, updates, sendMessage through a fake Bot API."""

from __future__ import annotations

import json
from typing import Any

import pytest
from test_channels_support import FAST, FakeApi, event, request, serve, session, vector

from bot.channels.base import ChannelError, ConfigError, DeliveryError
from bot.channels.telegram import TEXT_LIMIT, TelegramAdapter

SECRET = vector("telegram-secret-token-header")["inputs"]["setWebhook_secret_token"]
BOT = "123456:ABC-DEF1234ghIkl"
UPDATE = {"update_id": 10000, "message": {
    "message_id": 1365, "date": 1441645532, "text": "/new 周敏 连衣裙 2024-05-01",
    "chat": {"id": -1001234567890, "type": "supergroup", "title": "售后组"},
    "from": {"id": 1111111, "is_bot": False, "first_name": "Mei", "last_name": "Zhou"}}}


def adapter(**extra: str) -> TelegramAdapter:
    env = {"CSBOT_TELEGRAM_BOT_TOKEN": BOT, "CSBOT_TELEGRAM_SECRET_TOKEN": SECRET, **extra}
    a = TelegramAdapter.from_settings(env)
    assert isinstance(a, TelegramAdapter)
    a.retry = FAST
    return a


def post(body: Any, secret: str | None = SECRET) -> Any:
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return request("POST", headers=headers, body=raw)


def test_message_update() -> None:
    reply, [e] = adapter().receive(post(UPDATE), 0)
    assert reply.status == 200
    assert (e.channel, e.chat_id, e.sender_id, e.sender_name, e.message_id, e.text) == (
        "telegram", "-1001234567890", "1111111", "Mei Zhou", "10000", "/new 周敏 连衣裙 2024-05-01")
    assert e.reply_to == {"chat_id": "-1001234567890", "message_id": "1365"}
    assert e.time.timestamp() == 1441645532


@pytest.mark.parametrize(("secret", "status"), [(None, 401), ("", 401), ("wrong", 401),
                                                (SECRET + "x", 401)])
def test_secret_token_is_required(secret: str | None, status: int) -> None:
    with pytest.raises(ChannelError) as exc:
        adapter().receive(post(UPDATE, secret), 0)
    assert exc.value.status == status


def test_malformed_and_other_updates() -> None:
    bodies: tuple[Any, ...] = (b"{", b"[]", {"message": {}})
    for body in bodies:
        with pytest.raises(ChannelError) as exc:
            adapter().receive(post(body), 0)
        assert exc.value.status == 400
    assert adapter().receive(post({"update_id": 1, "edited_message": {}}), 0)[1] == []
    sticker = {"update_id": 2, "message": {**UPDATE["message"], "text": None}}  # type: ignore[dict-item]
    assert adapter().receive(post(sticker), 0)[1] == []


def test_settings() -> None:
    assert TelegramAdapter.from_settings({}) is None
    with pytest.raises(ConfigError) as exc:
        TelegramAdapter.from_settings({"CSBOT_TELEGRAM_BOT_TOKEN": BOT})
    assert "CSBOT_TELEGRAM_SECRET_TOKEN" in str(exc.value)
    dev = TelegramAdapter.from_settings({"CSBOT_TELEGRAM_BOT_TOKEN": BOT}, dev=True)
    assert dev is not None and dev.receive(post(UPDATE, None), 0)[1]  # dev: unverified
    with pytest.raises(ConfigError):
        adapter(CSBOT_TELEGRAM_SECRET_TOKEN="has space")


def test_probe_round_trip() -> None:
    a = adapter()
    probe = a.probe(0)
    reply, events = a.receive(probe.request, 0)
    assert probe.check(reply.status, reply.body) and events == []


def test_render_limit_counts_utf16_units() -> None:
    text = adapter().render("😀" * 3000).payload["text"]  # 2 UTF-16 units each
    assert len(text.encode("utf-16-le")) // 2 <= TEXT_LIMIT


PATH = f"/bot{BOT}/sendMessage"


@pytest.mark.asyncio
async def test_send_message(aiohttp_server: Any) -> None:
    fake = FakeApi()
    fake.on("POST", PATH, (200, {"ok": True, "result": {"message_id": 1}}))
    a = adapter(CSBOT_TELEGRAM_API_BASE=await serve(aiohttp_server, fake))
    async with session() as http:
        await a.deliver(http, event("telegram", {"chat_id": "-1001234567890"}),
                        a.render("您好", "话术建议"))
    [call] = fake.calls
    assert call.json == {"chat_id": -1001234567890, "text": "话术建议\n您好"}


@pytest.mark.asyncio
async def test_rate_limit_is_retried(aiohttp_server: Any) -> None:
    fake = FakeApi()
    fake.on("POST", PATH, (429, {"ok": False, "error_code": 429, "description": "Too Many Requests",
                                 "parameters": {"retry_after": 0}}),
            (200, {"ok": True, "result": {}}))
    a = adapter(CSBOT_TELEGRAM_API_BASE=await serve(aiohttp_server, fake))
    async with session() as http:
        await a.deliver(http, event("telegram", {"chat_id": "1"}), a.render("x"))
    assert len(fake.calls) == 2


@pytest.mark.asyncio
async def test_error_code_surfaces(aiohttp_server: Any) -> None:
    fake = FakeApi()
    fake.on("POST", PATH, (400, {"ok": False, "error_code": 400,
                                 "description": "Bad Request: chat not found"}))
    a = adapter(CSBOT_TELEGRAM_API_BASE=await serve(aiohttp_server, fake))
    async with session() as http:
        with pytest.raises(DeliveryError) as exc:
            await a.deliver(http, event("telegram", {"chat_id": "1"}), a.render("x"))
    assert exc.value.code == "400" and len(fake.calls) == 1
