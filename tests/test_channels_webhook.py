"""Generic webhook: HMAC over timestamp and body, window, validation, optional callback."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from typing import Any

import pytest
from test_channels_support import FAST, FakeApi, event, request, serve, session

from bot.channels.base import ChannelError, ConfigError, DeliveryError, RawRequest
from bot.channels.webhook import WebhookAdapter, sign

SECRET = "shop-secret-123"
NOW = 1_700_000_000.0
MSG = {"chat_id": "shop-1", "sender_id": "agent-7", "text": "质量太差了", "message_id": "m-1"}


def adapter(**extra: str) -> WebhookAdapter:
    a = WebhookAdapter.from_settings({"CSBOT_WEBHOOK_SECRET": SECRET, **extra})
    assert isinstance(a, WebhookAdapter)
    a.retry = FAST
    return a


def signed(body: Any, ts: str = str(int(NOW)), secret: str = SECRET) -> RawRequest:
    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    mac = hmac.new(secret.encode(), ts.encode() + b"." + raw, hashlib.sha256).hexdigest()
    return request("POST", headers={"X-Csbot-Timestamp": ts, "X-Csbot-Signature": mac}, body=raw)


def test_signed_message() -> None:
    reply, [e] = adapter().receive(signed(MSG), NOW)
    assert reply.status == 200 and WebhookAdapter.sync_reply
    assert (e.channel, e.chat_id, e.sender_id, e.text, e.message_id) == (
        "webhook", "shop-1", "agent-7", "质量太差了", "m-1")
    assert e.time.timestamp() == NOW


def test_sign_helper_matches_the_formula() -> None:
    body = b'{"a":1}'
    assert sign(SECRET, "1", body) == hmac.new(SECRET.encode(), b"1.{\"a\":1}",
                                               hashlib.sha256).hexdigest()


@pytest.mark.parametrize(("req", "status", "code"), [
    (signed(MSG, secret="other"), 401, "bad_signature"),
    (request("POST", body=json.dumps(MSG).encode()), 401, "bad_signature"),
    (signed(MSG, ts=str(int(NOW) - 301)), 401, "stale_timestamp"),
    (signed(MSG, ts="soon"), 401, "bad_timestamp"),
    (signed(b"{not json"), 400, "bad_request"),
    (signed({**MSG, "text": ""}), 400, "bad_request"),
    (signed({k: v for k, v in MSG.items() if k != "message_id"}), 400, "bad_request"),
    (signed({**MSG, "extra": 1}), 400, "bad_request"),
    (signed(b"{}" + b" " * 300_000), 413, "too_large"),
])
def test_refusals(req: RawRequest, status: int, code: str) -> None:
    with pytest.raises(ChannelError) as exc:
        adapter().receive(req, NOW)
    assert (exc.value.status, exc.value.code) == (status, code)
    assert json.loads(exc.value.reply().body)["error"]["code"] == code


def test_refusals_are_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("WARNING", logger="csbot.channels"), pytest.raises(ChannelError):
        adapter().receive(signed(MSG, secret="other"), NOW)
    assert "channel=webhook refused status=401 code=bad_signature" in caplog.text


def test_tampered_body() -> None:
    req = signed(MSG)
    forged = RawRequest(req.method, req.path, req.query, req.headers,
                        req.body.replace("质量".encode(), "价格".encode()))
    with pytest.raises(ChannelError):
        adapter().receive(forged, NOW)


def test_settings() -> None:
    assert WebhookAdapter.from_settings({}) is None
    with pytest.raises(ConfigError):
        WebhookAdapter.from_settings({"CSBOT_WEBHOOK_CALLBACK_URL": "http://x"})
    dev = WebhookAdapter.from_settings({"CSBOT_WEBHOOK_CALLBACK_URL": "http://x"}, dev=True)
    assert dev is not None
    assert dev.receive(request("POST", body=json.dumps(MSG).encode()), NOW)[1]


def test_probe_round_trip() -> None:
    a = adapter()
    probe = a.probe(NOW)
    reply, [e] = a.receive(probe.request, NOW)
    assert probe.check(reply.status, reply.body) and e.text == "/help"


@pytest.mark.asyncio
async def test_deliver_without_callback_does_nothing() -> None:
    async with session() as http:
        await adapter().deliver(http, event("webhook", {}), adapter().render("x"))


@pytest.mark.asyncio
async def test_deliver_posts_signed_callback(aiohttp_server: Any) -> None:
    fake = FakeApi()
    fake.on("POST", "/csbot-callback", (204, None), (500, {}))
    base = await serve(aiohttp_server, fake)
    a = adapter(CSBOT_WEBHOOK_CALLBACK_URL=f"{base}/csbot-callback")
    async with session() as http:
        await a.deliver(http, event("webhook", {}, "m-9"), a.render("您好", "话术建议"))
        with pytest.raises(DeliveryError):  # 500, then 500 again: retried, then surfaced
            await a.deliver(http, event("webhook", {}, "m-10"), a.render("x"))
    first = fake.calls[0]
    assert first.json == {"chat_id": "c", "sender_id": "u", "message_id": "m-9",
                          "title": "话术建议", "text": "您好"}
    ts = first.headers["X-Csbot-Timestamp"]
    assert first.headers["X-Csbot-Signature"] == sign(SECRET, ts, first.body)
    assert len(fake.calls) == 1 + FAST.attempts


@pytest.mark.parametrize(("req", "said"), [
    (signed({**MSG, "extra": 1}), "extra：不认识的字段"),
    (signed({**MSG, "text": 5}), "text：应为字符串"),
    (signed({k: v for k, v in MSG.items() if k != "message_id"}), "message_id：缺少必填字段"),
    (signed(b'{"chat_id":'), "第 1 行第 12 列"),
    (signed('{"text":"差评"}'.encode("gbk")), "UTF-8"),
])
def test_a_refused_body_is_told_in_chinese(req: RawRequest, said: str) -> None:
    # the integrator read pydantic's "Extra inputs are not permitted" and "（JSONDecodeError）"
    with pytest.raises(ChannelError) as exc:
        adapter().receive(req, NOW)
    message = json.loads(exc.value.reply().body)["error"]["message"]
    assert said in message and not re.search(r"[A-Za-z']+ [A-Za-z']+|Error", message), message
