"""DingTalk: robot signature, event subscription with the official samples, replies."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest
from test_channels_support import FAST, FakeApi, event, request, serve, session, vector

from bot.channels.base import ChannelError, ConfigError, DeliveryError
from bot.channels.crypto import WXBizMsgCrypt
from bot.channels.dingtalk import DingTalkAdapter, robot_sign

CHECK_URL = vector("dingtalk-official-lib-check_url")
SUITE = vector("dingtalk-legacy-isv-doc-check_create_suite_url")
ROBOT = vector("dingtalk-robot-text-message")["inputs"]["payload"]
SECRET = "gLrJ_app_secret_for_tests"
NOW = ROBOT["createAt"] / 1000


def adapter(**extra: str) -> DingTalkAdapter:
    env = {"CSBOT_DINGTALK_APP_KEY": "dingappkey", "CSBOT_DINGTALK_APP_SECRET": SECRET, **extra}
    a = DingTalkAdapter.from_settings(env)
    assert isinstance(a, DingTalkAdapter)
    a.retry = FAST
    return a


def event_adapter(v: dict[str, Any]) -> DingTalkAdapter:
    i = v["inputs"]
    return adapter(CSBOT_DINGTALK_APP_KEY=i["owner_key"], CSBOT_DINGTALK_TOKEN=i["token"],
                   CSBOT_DINGTALK_AES_KEY=i["aes_key"])


def signed_robot(body: dict[str, Any], ts_ms: int, secret: str = SECRET) -> Any:
    raw = json.dumps(body, ensure_ascii=False).encode()
    return request("POST", headers={"timestamp": str(ts_ms), "sign": robot_sign(secret, str(ts_ms)),
                                    "content-type": "application/json"}, body=raw)


# -- robot (HTTP mode) ----------------------------------------------------------------------

def test_robot_sign_formula() -> None:
    ts = "1695283635765"
    mac = hmac.new(SECRET.encode(), f"{ts}\n{SECRET}".encode(), hashlib.sha256).digest()
    assert robot_sign(SECRET, ts) == base64.b64encode(mac).decode()


def test_robot_message_is_parsed() -> None:
    reply, [e] = adapter().receive(signed_robot(ROBOT, ROBOT["createAt"]), NOW)
    assert reply.status == 200
    assert (e.channel, e.text, e.message_id, e.chat_id, e.sender_id, e.sender_name) == (
        "dingtalk", "hello DingTalk!", "msgY****Pw==", "cide****4g=", "042***297", "张三")
    assert e.reply_to["session_webhook"] == ROBOT["sessionWebhook"]
    assert e.reply_to["session_webhook_expires"] == "1695289035996"
    assert e.reply_to["conversation_type"] == "1"


def test_group_text_loses_the_at_space() -> None:
    body = {**ROBOT, "conversationType": "2", "text": {"content": " /status"}}
    _, [e] = adapter().receive(signed_robot(body, ROBOT["createAt"]), NOW)
    assert e.text == "/status"


@pytest.mark.parametrize(("make", "now", "code"), [
    (lambda: signed_robot(ROBOT, ROBOT["createAt"], secret="wrong"), NOW, "bad_signature"),
    (lambda: request("POST", headers={"timestamp": str(ROBOT["createAt"])},
                     body=json.dumps(ROBOT).encode()), NOW, "bad_signature"),
    (lambda: signed_robot(ROBOT, ROBOT["createAt"]), NOW + 3601, "stale_timestamp"),
    (lambda: signed_robot(ROBOT, ROBOT["createAt"]), NOW - 3601, "stale_timestamp"),
])
def test_robot_refusals(make: Any, now: float, code: str) -> None:
    with pytest.raises(ChannelError) as exc:
        adapter().receive(make(), now)
    assert (exc.value.status, exc.value.code) == (401, code)


def test_robot_timestamp_is_milliseconds() -> None:
    # a seconds timestamp would read as 1970 and be refused
    ts = ROBOT["createAt"] // 1000
    with pytest.raises(ChannelError):
        adapter().receive(signed_robot(ROBOT, ts), NOW)


def test_robot_malformed_and_non_text() -> None:
    ts = str(ROBOT["createAt"])
    headers = {"timestamp": ts, "sign": robot_sign(SECRET, ts)}
    for body in (b"{not json", b"[1]", json.dumps({"msgtype": "text"}).encode()):
        with pytest.raises(ChannelError) as exc:
            adapter().receive(request("POST", headers=headers, body=body), NOW)
        assert exc.value.status == 400
    pic = {**ROBOT, "msgtype": "picture", "content": {"downloadCode": "x"}}
    assert adapter().receive(signed_robot(pic, ROBOT["createAt"]), NOW)[1] == []


# -- event subscription ---------------------------------------------------------------------

def _event_request(v: dict[str, Any], sig_name: str = "signature",
                   ts_name: str = "timestamp", **over: str) -> Any:
    i = v["inputs"]
    q = {sig_name: i["signature"], ts_name: i["timestamp"], "nonce": i["nonce"], **over}
    return request("POST", query=q, body=json.dumps({"encrypt": i["encrypt"]}).encode())


def _assert_success(a: DingTalkAdapter, body: bytes) -> None:
    doc = json.loads(body)
    assert set(doc) == {"msg_signature", "timeStamp", "nonce", "encrypt"}
    assert a.crypt is not None
    assert a.crypt.verify(doc["msg_signature"], doc["timeStamp"], doc["nonce"], doc["encrypt"])
    assert a.crypt.decrypt(doc["encrypt"]) == b"success"


@pytest.mark.parametrize("v", [CHECK_URL, SUITE], ids=["check_url", "suite"])
@pytest.mark.parametrize(("sig_name", "ts_name"), [("signature", "timestamp"),
                                                   ("msg_signature", "timeStamp")])
def test_event_answered_with_encrypted_success(v: dict[str, Any], sig_name: str,
                                               ts_name: str) -> None:
    a = event_adapter(v)
    now = int(v["inputs"]["timestamp"]) / 1000
    reply, events = a.receive(_event_request(v, sig_name, ts_name), now)
    assert reply.status == 200 and events == []
    _assert_success(a, reply.body)
    assert json.loads(reply.body)["timeStamp"] == str(int(now * 1000))  # milliseconds


def test_event_refusals() -> None:
    a = event_adapter(CHECK_URL)
    now = int(CHECK_URL["inputs"]["timestamp"]) / 1000
    with pytest.raises(ChannelError) as exc:
        a.receive(_event_request(CHECK_URL, signature="0" * 40), now)
    assert exc.value.status == 401
    with pytest.raises(ChannelError) as exc:
        a.receive(_event_request(CHECK_URL), now + 7200)
    assert exc.value.code == "stale_timestamp"
    wrong_owner = adapter(CSBOT_DINGTALK_TOKEN="mryue",
                          CSBOT_DINGTALK_AES_KEY=CHECK_URL["inputs"]["aes_key"])
    with pytest.raises(ChannelError) as exc:
        wrong_owner.receive(_event_request(CHECK_URL), now)
    assert (exc.value.status, exc.value.code) == (403, "wrong_receive_id")
    with pytest.raises(ChannelError) as exc:
        adapter().receive(_event_request(CHECK_URL), now)  # no event subscription set up
    assert exc.value.status == 403
    bad = request("POST", query={"signature": "x", "timestamp": "1", "nonce": "n"}, body=b"{}")
    with pytest.raises(ChannelError) as exc:
        a.receive(bad, now)
    assert exc.value.status == 400


def test_event_crypto_matches_the_vector_byte_for_byte() -> None:
    i, e = CHECK_URL["inputs"], CHECK_URL["expected"]
    c = WXBizMsgCrypt(i["token"], i["aes_key"], i["owner_key"])
    assert c.encrypt(e["plaintext"].encode(), e["random16"].encode()) == i["encrypt"]


def test_settings() -> None:
    assert DingTalkAdapter.from_settings({}) is None
    with pytest.raises(ConfigError) as exc:
        DingTalkAdapter.from_settings({"CSBOT_DINGTALK_APP_KEY": "k"})
    assert "CSBOT_DINGTALK_APP_SECRET" in str(exc.value)
    assert DingTalkAdapter.from_settings({"CSBOT_DINGTALK_APP_KEY": "k"}, dev=True) is not None
    with pytest.raises(ConfigError) as exc:
        adapter(CSBOT_DINGTALK_TOKEN="t")
    assert "CSBOT_DINGTALK_AES_KEY" in str(exc.value)


@pytest.mark.parametrize("extra", [{}, {"CSBOT_DINGTALK_TOKEN": "mryue",
                                        "CSBOT_DINGTALK_AES_KEY": CHECK_URL["inputs"]["aes_key"]}])
def test_probe_round_trip(extra: dict[str, str]) -> None:
    a = adapter(**extra)
    probe = a.probe(1_700_000_000.0)
    reply, events = a.receive(probe.request, 1_700_000_000.0)
    assert probe.check(reply.status, reply.body) and events == []


# -- replies --------------------------------------------------------------------------------

def _reply_to(**over: str) -> dict[str, str]:
    base = {"session_webhook": "https://oapi.dingtalk.com/robot/sendBySession?session=79b4+8d4b",
            "session_webhook_expires": str(ROBOT["sessionWebhookExpiredTime"]),
            "conversation_type": "1", "conversation_id": "cide****4g=", "staff_id": "042***297",
            "robot_code": "dingappkey"}
    return {**base, **over}


@pytest.mark.asyncio
async def test_reply_on_the_session_webhook(aiohttp_server: Any) -> None:
    fake = FakeApi()
    fake.on("POST", "/robot/sendBySession", (200, {"errcode": 0, "errmsg": "ok"}))
    a = adapter(CSBOT_DINGTALK_OAPI_BASE=await serve(aiohttp_server, fake))
    a.clock = lambda: NOW
    msg = a.render("**建议回复：**\n\n1. 您好", "话术建议")
    async with session() as http:
        await a.deliver(http, event("dingtalk", _reply_to()), msg)
    [call] = fake.calls
    assert call.raw_query == "session=79b4+8d4b"  # the '+' went out as sent
    assert call.json == {"msgtype": "markdown", "markdown": {
        "title": "话术建议", "text": "### 话术建议\n\n**建议回复：**\n\n1. 您好"}}


@pytest.mark.asyncio
async def test_foreign_session_webhook_is_refused(aiohttp_server: Any) -> None:
    fake = FakeApi()
    a = adapter(CSBOT_DINGTALK_OAPI_BASE=await serve(aiohttp_server, fake))
    a.clock = lambda: NOW
    async with session() as http:
        with pytest.raises(DeliveryError) as exc:
            await a.deliver(http, event("dingtalk", _reply_to(
                session_webhook="https://evil.example/robot/sendBySession?session=1")),
                a.render("x"))
    assert exc.value.code == "foreign_webhook" and fake.calls == []


@pytest.mark.asyncio
async def test_session_webhook_error_code(aiohttp_server: Any) -> None:
    fake = FakeApi()
    fake.on("POST", "/robot/sendBySession", (500, {}), (200, {"errcode": 300001, "errmsg": "bad"}))
    a = adapter(CSBOT_DINGTALK_OAPI_BASE=await serve(aiohttp_server, fake))
    a.clock = lambda: NOW
    async with session() as http:
        with pytest.raises(DeliveryError) as exc:
            await a.deliver(http, event("dingtalk", _reply_to()), a.render("x"))
    assert exc.value.code == "300001" and len(fake.calls) == 2


@pytest.mark.asyncio
@pytest.mark.parametrize(("ctype", "path", "key", "value"), [
    ("1", "/v1.0/robot/oToMessages/batchSend", "userIds", ["042***297"]),
    ("2", "/v1.0/robot/groupMessages/send", "openConversationId", "cide****4g="),
])
async def test_expired_session_falls_back_to_openapi(aiohttp_server: Any, ctype: str, path: str,
                                                     key: str, value: Any) -> None:
    fake = FakeApi()
    fake.on("POST", "/v1.0/oauth2/accessToken", (200, {"accessToken": "AT1", "expireIn": 7200}))
    fake.on("POST", path, (503, {}), (200, {"processQueryKey": "q"}))
    base = await serve(aiohttp_server, fake)
    a = adapter(CSBOT_DINGTALK_API_BASE=base, CSBOT_DINGTALK_OAPI_BASE=base)
    a.clock = lambda: ROBOT["sessionWebhookExpiredTime"] / 1000 + 1
    msg = a.render("您好", "话术建议")
    async with session() as http:
        await a.deliver(http, event("dingtalk", _reply_to(conversation_type=ctype)), msg)
        await a.deliver(http, event("dingtalk", _reply_to(conversation_type=ctype)), msg)
    [tok] = fake.hits("/v1.0/oauth2/accessToken")
    assert tok.json == {"appKey": "dingappkey", "appSecret": SECRET}
    sends = fake.hits(path)
    assert len(sends) == 3  # one 503 retried, then a second delivery on the cached token
    assert all(c.headers["x-acs-dingtalk-access-token"] == "AT1" for c in sends)
    body = sends[-1].json
    assert body[key] == value and body["robotCode"] == "dingappkey"
    assert body["msgKey"] == "sampleMarkdown"
    assert json.loads(body["msgParam"]) == {"title": "话术建议", "text": "### 话术建议\n\n您好"}


@pytest.mark.asyncio
async def test_openapi_error_surfaces(aiohttp_server: Any) -> None:
    fake = FakeApi()
    fake.on("POST", "/v1.0/oauth2/accessToken", (200, {"accessToken": "AT1", "expireIn": 7200}))
    fake.on("POST", "/v1.0/robot/oToMessages/batchSend",
            (400, {"code": "invalidParameter.userIds", "message": "bad user"}))
    a = adapter(CSBOT_DINGTALK_API_BASE=await serve(aiohttp_server, fake))
    a.clock = lambda: 2e9
    async with session() as http:
        with pytest.raises(DeliveryError) as exc:
            await a.deliver(http, event("dingtalk", _reply_to()), a.render("x"))
    assert (exc.value.code, exc.value.status) == ("invalidParameter.userIds", 400)
