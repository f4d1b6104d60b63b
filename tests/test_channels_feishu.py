"""Feishu: url_verification and events with the official samples, signature, card replies."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from test_channels_support import FAST, FakeApi, event, request, serve, session, vector

from bot.channels.base import ChannelError, ConfigError, DeliveryError, RawRequest
from bot.channels.crypto import FeishuCipher
from bot.channels.feishu import CARD_LIMIT, FeishuAdapter

GO = vector("feishu-sdk-go-decrypt-event")
V1 = vector("feishu-doc-encrypted-event-v1")
RECEIVE = vector("feishu-im-message-receive_v1")["inputs"]["payload"]
NOW = 1_708_251_665.0


def adapter(key: str = "kudryavka", token: str = "CAkC****1Fk5J", dev: bool = False,
            **extra: str) -> FeishuAdapter:
    env = {"CSBOT_FEISHU_APP_ID": "cli_test", "CSBOT_FEISHU_APP_SECRET": "app-secret",
           "CSBOT_FEISHU_ENCRYPT_KEY": key, "CSBOT_FEISHU_VERIFICATION_TOKEN": token, **extra}
    a = FeishuAdapter.from_settings({k: v for k, v in env.items() if v}, dev=dev)
    assert isinstance(a, FeishuAdapter)
    a.retry = FAST
    return a


def signed(a: FeishuAdapter, body: bytes, ts: str = str(int(NOW)), nonce: str = "n0nce",
           sig: str | None = None) -> RawRequest:
    assert a.cipher is not None
    return request("POST", headers={
        "X-Lark-Request-Timestamp": ts, "X-Lark-Request-Nonce": nonce,
        "X-Lark-Signature": sig or a.cipher.signature(ts, nonce, body),
        "Content-Type": "application/json"}, body=body)


def encrypted(a: FeishuAdapter, doc: dict[str, Any]) -> bytes:
    assert a.cipher is not None
    return json.dumps({"encrypt": a.cipher.encrypt(json.dumps(doc).encode())}).encode()


# -- url_verification -----------------------------------------------------------------------

def test_url_verification_from_the_official_sdk_sample() -> None:
    """The Go SDK's encrypted sample: a url_verification with challenge 1212, token v."""
    a = adapter(key=GO["inputs"]["encrypt_key"], token="v")
    body = json.dumps({"encrypt": GO["inputs"]["encrypt"]}).encode()
    reply, events = a.receive(request("POST", body=body), NOW)  # Feishu does not sign it
    assert (reply.status, json.loads(reply.body), events) == (200, {"challenge": "1212"}, [])


def test_url_verification_needs_the_token() -> None:
    a = adapter(key=GO["inputs"]["encrypt_key"], token="not-v")
    with pytest.raises(ChannelError) as exc:
        a.receive(request("POST", body=json.dumps({"encrypt": GO["inputs"]["encrypt"]}).encode()),
                  NOW)
    assert exc.value.status == 401


def test_plaintext_url_verification_in_dev_without_key() -> None:
    a = adapter(key="", token="tok", dev=True)
    body = json.dumps({"challenge": "abc", "token": "tok", "type": "url_verification"}).encode()
    assert json.loads(a.receive(request("POST", body=body), NOW)[0].body) == {"challenge": "abc"}


# -- events ---------------------------------------------------------------------------------

def test_signed_v1_event_from_the_doc_sample_is_acknowledged() -> None:
    a = adapter(key="kudryavka", token="GzhQEyfUcx7eEungQFWtXgCbxSpUOJIb")
    body = json.dumps({"encrypt": V1["inputs"]["encrypt"]}).encode()
    ts = "1589970805"
    reply, events = a.receive(signed(a, body, ts=ts), float(ts))
    assert reply.status == 200 and events == []  # v1 user_status_change: nothing to do


def test_receive_v1_becomes_an_event() -> None:
    a = adapter()
    reply, [e] = a.receive(signed(a, encrypted(a, RECEIVE)), NOW)
    assert reply.status == 200
    assert (e.channel, e.text, e.message_id, e.chat_id, e.sender_id) == (
        "feishu", "/say 12345", "0a67****6a9953c", "oc_b5fc2808***5970", "ou_23e65b***4fd28")
    assert e.reply_to == {"message_id": "om_b9c9da5***7d74a", "chat_id": "oc_b5fc2808***5970"}
    assert e.time.timestamp() == pytest.approx(1708251664.735)


def test_mentions_are_stripped() -> None:
    doc = copy.deepcopy(RECEIVE)
    text = "@_user_1 /new 周敏 连衣裙 2024-05-01"
    doc["event"]["message"]["content"] = json.dumps({"text": text})
    doc["event"]["message"]["mentions"] = [{"key": "@_user_1", "name": "csbot"}]
    a = adapter()
    _, [e] = a.receive(signed(a, encrypted(a, doc)), NOW)
    assert e.text == "/new 周敏 连衣裙 2024-05-01"


def test_app_messages_and_images_are_ignored() -> None:
    a = adapter()
    for path, value in ((("sender", "sender_type"), "app"),
                        (("message", "message_type"), "image")):
        doc = copy.deepcopy(RECEIVE)
        doc["event"][path[0]][path[1]] = value
        assert a.receive(signed(a, encrypted(a, doc)), NOW)[1] == []


def test_refusals() -> None:
    a = adapter()
    body = encrypted(a, RECEIVE)
    cases: list[tuple[RawRequest, float, int, str]] = [
        (signed(a, body, sig="0" * 64), NOW, 401, "bad_signature"),
        (signed(a, body + b" "), NOW, 200, ""),  # signed as received: still fine
        (signed(a, body, ts=str(int(NOW) - 301)), NOW, 401, "stale_timestamp"),
        (request("POST", body=body), NOW, 401, "bad_signature"),  # unsigned event
        (signed(a, b"{not json"), NOW, 400, "bad_request"),
        (signed(a, json.dumps({"encrypt": "AAAA" * 12}).encode()), NOW, 400, "bad_encryption"),
        (signed(a, json.dumps({"plain": 1}).encode()), NOW, 400, "bad_request"),
        (signed(a, b"{}" + b" " * 300_000), NOW, 413, "too_large"),
    ]
    for req, now, status, code in cases:
        if status == 200:
            assert a.receive(req, now)[0].status == 200
            continue
        with pytest.raises(ChannelError) as exc:
            a.receive(req, now)
        assert (exc.value.status, exc.value.code) == (status, code), req


def test_wrong_verification_token_and_bad_content() -> None:
    a = adapter(token="another-token")
    with pytest.raises(ChannelError) as exc:
        a.receive(signed(a, encrypted(a, RECEIVE)), NOW)
    assert exc.value.status == 401
    doc = copy.deepcopy(RECEIVE)
    doc["event"]["message"]["content"] = "not json"
    b = adapter()
    with pytest.raises(ChannelError) as exc:
        b.receive(signed(b, encrypted(b, doc)), NOW)
    assert exc.value.status == 400


def test_settings() -> None:
    assert FeishuAdapter.from_settings({"CSBOT_FEISHU_API_BASE": "http://x"}) is None
    with pytest.raises(ConfigError) as exc:
        FeishuAdapter.from_settings({"CSBOT_FEISHU_APP_ID": "a", "CSBOT_FEISHU_APP_SECRET": "s"})
    assert "CSBOT_FEISHU_ENCRYPT_KEY" in str(exc.value)
    assert "CSBOT_FEISHU_VERIFICATION_TOKEN" in str(exc.value)


@pytest.mark.parametrize("key", ["kudryavka", ""])
def test_probe_round_trip(key: str) -> None:
    a = adapter(key=key, dev=not key)
    probe = a.probe(NOW)
    reply, events = a.receive(probe.request, NOW)
    assert probe.check(reply.status, reply.body) and events == []


def test_card_respects_the_size_limit() -> None:
    msg = adapter().render('很"长\n' * 20_000, "话术建议")
    assert msg.payload["msg_type"] == "interactive"
    assert len(msg.payload["content"].encode()) <= CARD_LIMIT
    card = json.loads(msg.payload["content"])
    assert card["header"]["title"]["content"] == "话术建议"
    assert card["elements"][0]["content"].endswith("（已截断）")


# -- replies --------------------------------------------------------------------------------

TOKEN_PATH = "/open-apis/auth/v3/tenant_access_token/internal"
REPLY_PATH = "/open-apis/im/v1/messages/om_b9c9da5***7d74a/reply"


def _fake(*replies: tuple[int, Any]) -> FakeApi:
    fake = FakeApi()
    fake.on("POST", TOKEN_PATH,
            (200, {"code": 0, "msg": "ok", "tenant_access_token": "t-1", "expire": 7200}),
            (200, {"code": 0, "msg": "ok", "tenant_access_token": "t-2", "expire": 7200}))
    fake.on("POST", REPLY_PATH, *(replies or [(200, {"code": 0, "msg": "success", "data": {}})]))
    return fake


def _event() -> Any:
    return event("feishu", {"message_id": "om_b9c9da5***7d74a", "chat_id": "oc_1"},
                 message_id="0a67****6a9953c")


@pytest.mark.asyncio
async def test_reply_sends_the_documented_request(aiohttp_server: Any) -> None:
    fake = _fake()
    a = adapter(CSBOT_FEISHU_API_BASE=await serve(aiohttp_server, fake))
    msg = a.render("**建议回复：**\n1. 您好", "话术建议")
    async with session() as http:
        await a.deliver(http, _event(), msg)
        await a.deliver(http, _event(), msg)
    [tok] = fake.hits(TOKEN_PATH)
    assert tok.json == {"app_id": "cli_test", "app_secret": "app-secret"}
    calls = fake.hits(REPLY_PATH)
    assert len(calls) == 2
    assert calls[0].headers["Authorization"] == "Bearer t-1"
    assert calls[0].headers["Content-Type"] == "application/json; charset=utf-8"
    body = calls[0].json
    assert set(body) == {"msg_type", "content", "uuid"}
    assert body["msg_type"] == "interactive" and body["uuid"] == "0a67****6a9953c"
    assert json.loads(body["content"])["elements"] == [
        {"tag": "markdown", "content": "**建议回复：**\n1. 您好"}]


@pytest.mark.asyncio
async def test_invalid_token_is_refreshed(aiohttp_server: Any) -> None:
    fake = _fake((400, {"code": 99991663, "msg": "Invalid access token"}),
                 (200, {"code": 0, "msg": "success"}))
    a = adapter(CSBOT_FEISHU_API_BASE=await serve(aiohttp_server, fake))
    async with session() as http:
        await a.deliver(http, _event(), a.render("x"))
    assert [c.headers["Authorization"] for c in fake.hits(REPLY_PATH)] == [
        "Bearer t-1", "Bearer t-2"]


@pytest.mark.asyncio
async def test_5xx_and_rate_limit_are_retried(aiohttp_server: Any) -> None:
    fake = _fake((500, {}), (200, {"code": 99991400, "msg": "rate limited"}),
                 (200, {"code": 0, "msg": "success"}))
    a = adapter(CSBOT_FEISHU_API_BASE=await serve(aiohttp_server, fake))
    async with session() as http:
        await a.deliver(http, _event(), a.render("x"))
    assert len(fake.hits(REPLY_PATH)) == 3


@pytest.mark.asyncio
async def test_platform_error_code_surfaces(aiohttp_server: Any) -> None:
    fake = _fake((400, {"code": 230002, "msg": "Bot/User can NOT be out of the chat."}))
    a = adapter(CSBOT_FEISHU_API_BASE=await serve(aiohttp_server, fake))
    async with session() as http:
        with pytest.raises(DeliveryError) as exc:
            await a.deliver(http, _event(), a.render("x"))
    assert (exc.value.code, exc.value.status) == ("230002", 400)


def test_cipher_type() -> None:
    assert isinstance(adapter().cipher, FeishuCipher)
