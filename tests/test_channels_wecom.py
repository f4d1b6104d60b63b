"""WeCom: URL check and message callbacks with the official samples; message/send via a fake API."""

from __future__ import annotations

from typing import Any

import pytest
from test_channels_support import FAST, FakeApi, event, request, serve, session, vector

from bot.channels.base import ChannelError, ConfigError, DeliveryError
from bot.channels.crypto import WXBizMsgCrypt
from bot.channels.wecom import TEXT_LIMIT, WeComAdapter

DOC = vector("wecom-doc-decrypt-xml")
SAMPLE = vector("wecom-sample-decrypt-xml")


def env_of(v: dict[str, Any], **extra: str) -> dict[str, str]:
    i = v["inputs"]
    return {"CSBOT_WECOM_TOKEN": i["token"], "CSBOT_WECOM_AES_KEY": i["encoding_aes_key"],
            "CSBOT_WECOM_CORP_ID": i["receive_id"], "CSBOT_WECOM_SECRET": "corp-secret",
            "CSBOT_WECOM_AGENT_ID": "218", **extra}


def adapter(v: dict[str, Any] = DOC, **extra: str) -> WeComAdapter:
    a = WeComAdapter.from_settings(env_of(v, **extra))
    assert isinstance(a, WeComAdapter)
    a.retry = FAST
    return a


def query(v: dict[str, Any], **over: str) -> dict[str, str]:
    i = v["inputs"]
    q = {"msg_signature": i["msg_signature"], "timestamp": i["timestamp"], "nonce": i["nonce"]}
    return {**q, **over}


def xml_body(encrypt: str, to: str = "wx5823bf96d3bd56c7") -> bytes:
    return (f"<xml><ToUserName><![CDATA[{to}]]></ToUserName>\n<Encrypt><![CDATA[{encrypt}]]>"
            f"</Encrypt>\n<AgentID><![CDATA[218]]></AgentID>\n</xml>").encode()


def now_of(v: dict[str, Any]) -> float:
    return float(v["inputs"]["timestamp"])


# -- URL verification -----------------------------------------------------------------------

@pytest.mark.parametrize("vid", ["wecom-doc-verifyurl", "wecom-sample-verifyurl"])
def test_url_check_echoes_the_plaintext(vid: str) -> None:
    v = vector(vid)
    reply, events = adapter(v).receive(
        request("GET", query(v, echostr=v["inputs"]["encrypt"])), now_of(v))
    assert reply.status == 200 and events == []
    assert reply.body == v["expected"]["plaintext"].encode()  # no quotes, BOM or newline
    assert reply.content_type.startswith("text/plain")


def test_url_check_survives_plus_turned_into_space() -> None:
    v = vector("wecom-doc-verifyurl")
    echostr = v["inputs"]["encrypt"]
    assert "+" in echostr
    reply, _ = adapter(v).receive(
        request("GET", query(v, echostr=echostr.replace("+", " "))), now_of(v))
    assert reply.body == b"1616140317555161061"


@pytest.mark.parametrize(("over", "status", "code"), [
    ({"msg_signature": "0" * 40}, 401, "bad_signature"),
    ({"msg_signature": ""}, 401, "bad_signature"),
    ({"nonce": "1"}, 401, "bad_signature"),
    ({"echostr": ""}, 400, "bad_request"),
])
def test_url_check_refusals(over: dict[str, str], status: int, code: str) -> None:
    v = vector("wecom-doc-verifyurl")
    q = {**query(v, echostr=v["inputs"]["encrypt"]), **over}
    with pytest.raises(ChannelError) as exc:
        adapter(v).receive(request("GET", q), now_of(v))
    assert (exc.value.status, exc.value.code) == (status, code)


def test_url_check_stale_timestamp() -> None:
    v = vector("wecom-doc-verifyurl")
    with pytest.raises(ChannelError) as exc:
        adapter(v).receive(request("GET", query(v, echostr=v["inputs"]["encrypt"])),
                           now_of(v) + 301)
    assert (exc.value.status, exc.value.code) == (401, "stale_timestamp")


# -- message callbacks ----------------------------------------------------------------------

@pytest.mark.parametrize(("v", "text", "msg_id", "user"), [
    (DOC, "hello", "4561255354251345929", "mycreate"),
    (SAMPLE, "你好", "1456453720", "ChenJiaShun"),
])
def test_message_callback(v: dict[str, Any], text: str, msg_id: str, user: str) -> None:
    reply, events = adapter(v).receive(
        request("POST", query(v), body=xml_body(v["inputs"]["encrypt"])), now_of(v))
    assert (reply.status, reply.body) == (200, b"")  # ack now, reply through the API
    [e] = events
    assert (e.channel, e.text, e.message_id, e.sender_id, e.chat_id) == (
        "wecom", text, msg_id, user, user)
    assert e.reply_to == {"touser": user}
    assert e.time.timestamp() == now_of(v)


def test_wrong_receive_id_is_403() -> None:
    a = adapter(DOC, CSBOT_WECOM_CORP_ID="ww_other_corp")
    with pytest.raises(ChannelError) as exc:
        a.receive(request("POST", query(DOC), body=xml_body(DOC["inputs"]["encrypt"])),
                  now_of(DOC))
    assert (exc.value.status, exc.value.code) == (403, "wrong_receive_id")


def _signed(a: WeComAdapter, encrypt: str, ts: str = "1409659813") -> dict[str, str]:
    return {"msg_signature": a.crypt.signature(ts, "n1", encrypt), "timestamp": ts, "nonce": "n1"}


def test_bad_padding_with_valid_signature_is_400() -> None:
    a = adapter()
    good = DOC["inputs"]["encrypt"]
    broken = good[:-24] + "AAAAAAAAAAAAAAAAAAAAAA=="  # last block garbled
    with pytest.raises(ChannelError) as exc:
        a.receive(request("POST", _signed(a, broken), body=xml_body(broken)), now_of(DOC))
    assert (exc.value.status, exc.value.code) == (400, "bad_encryption")


@pytest.mark.parametrize("body", [
    b"<xml><Encrypt>unterminated",
    b"not xml at all",
    b"<xml><ToUserName>x</ToUserName></xml>",  # no Encrypt
    b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><xml><Encrypt>&a;</Encrypt></xml>',
    "<xml><Encrypt>é</Encrypt>".encode("latin-1"),
])
def test_malformed_xml_is_400(body: bytes) -> None:
    with pytest.raises(ChannelError) as exc:
        adapter().receive(request("POST", query(DOC), body=body), now_of(DOC))
    assert exc.value.status == 400


def test_tampered_signature_and_stale_post() -> None:
    body = xml_body(DOC["inputs"]["encrypt"])
    with pytest.raises(ChannelError) as exc:
        adapter().receive(request("POST", query(DOC, msg_signature="f" * 40), body=body),
                          now_of(DOC))
    assert exc.value.status == 401
    with pytest.raises(ChannelError) as exc:
        adapter().receive(request("POST", query(DOC), body=body), now_of(DOC) - 3600)
    assert (exc.value.status, exc.value.code) == (401, "stale_timestamp")


def test_oversized_and_wrong_method() -> None:
    with pytest.raises(ChannelError) as exc:
        adapter().receive(request("POST", query(DOC), body=b"<xml>" + b" " * 300_000),
                          now_of(DOC))
    assert exc.value.status == 413
    with pytest.raises(ChannelError) as exc:
        adapter().receive(request("PUT", query(DOC)), now_of(DOC))
    assert exc.value.status == 405


def test_events_are_acknowledged_without_a_turn() -> None:
    a = adapter()
    inner = (b"<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName><FromUserName>"
             b"<![CDATA[mycreate]]></FromUserName><CreateTime>1409659813</CreateTime><MsgType>"
             b"<![CDATA[event]]></MsgType><Event><![CDATA[enter_agent]]></Event></xml>")
    enc = a.crypt.encrypt(inner)
    reply, events = a.receive(request("POST", _signed(a, enc), body=xml_body(enc)), now_of(DOC))
    assert reply.status == 200 and events == []


def test_settings() -> None:
    assert WeComAdapter.from_settings({}) is None
    assert WeComAdapter.from_settings({"CSBOT_WECOM_API_BASE": "http://x"}) is None
    with pytest.raises(ConfigError) as exc:
        WeComAdapter.from_settings({"CSBOT_WECOM_TOKEN": "t"})
    assert "CSBOT_WECOM_AES_KEY" in str(exc.value) and "CSBOT_WECOM_AGENT_ID" in str(exc.value)
    with pytest.raises(ConfigError):
        WeComAdapter.from_settings(env_of(DOC, CSBOT_WECOM_AES_KEY="tooshort"))
    with pytest.raises(ConfigError):
        WeComAdapter.from_settings(env_of(DOC, CSBOT_WECOM_AGENT_ID="abc"))


def test_probe_round_trip() -> None:
    a = adapter()
    probe = a.probe(1_700_000_000.0)
    reply, events = a.receive(probe.request, 1_700_000_000.0)
    assert probe.check(reply.status, reply.body) and events == []


def test_render_respects_the_byte_limit() -> None:
    msg = adapter().render("很" * 1000, "话术建议")
    content = msg.payload["text"]["content"]
    assert len(content.encode("utf-8")) <= TEXT_LIMIT
    assert content.startswith("话术建议\n") and content.endswith("（已截断）")
    assert msg.payload["msgtype"] == "text"


# -- message/send through a fake API ------------------------------------------------------

def _fake(*send: tuple[int, Any]) -> FakeApi:
    fake = FakeApi()
    fake.on("GET", "/cgi-bin/gettoken",
            (200, {"errcode": 0, "errmsg": "ok", "access_token": "TOKEN1", "expires_in": 7200}),
            (200, {"errcode": 0, "errmsg": "ok", "access_token": "TOKEN2", "expires_in": 7200}))
    fake.on("POST", "/cgi-bin/message/send", *(send or [(200, {"errcode": 0, "errmsg": "ok"})]))
    return fake


@pytest.mark.asyncio
async def test_deliver_sends_the_documented_request(aiohttp_server: Any) -> None:
    fake = _fake()
    a = adapter(CSBOT_WECOM_API_BASE=await serve(aiohttp_server, fake))
    msg = a.render("建议回复：您好", "话术建议")
    async with session() as http:
        await a.deliver(http, event("wecom", {"touser": "mycreate"}), msg)
        await a.deliver(http, event("wecom", {"touser": "mycreate"}, "m2"), msg)
    [tok] = fake.hits("/cgi-bin/gettoken")  # fetched once, then cached
    assert tok.query == {"corpid": "wx5823bf96d3bd56c7", "corpsecret": "corp-secret"}
    sends = fake.hits("/cgi-bin/message/send")
    assert len(sends) == 2
    assert sends[0].query == {"access_token": "TOKEN1"}
    assert sends[0].headers["Content-Type"] == "application/json; charset=utf-8"
    assert sends[0].json == {"touser": "mycreate", "msgtype": "text", "agentid": 218,
                             "text": {"content": "话术建议\n建议回复：您好"}, "safe": 0}


@pytest.mark.asyncio
async def test_deliver_retries_5xx_and_busy(aiohttp_server: Any) -> None:
    fake = _fake((502, {}), (200, {"errcode": -1, "errmsg": "system busy"}),
                 (200, {"errcode": 0, "errmsg": "ok"}))
    a = adapter(CSBOT_WECOM_API_BASE=await serve(aiohttp_server, fake))
    async with session() as http:
        await a.deliver(http, event("wecom", {"touser": "u"}), a.render("x"))
    assert len(fake.hits("/cgi-bin/message/send")) == 3


@pytest.mark.asyncio
async def test_expired_token_is_fetched_again(aiohttp_server: Any) -> None:
    fake = _fake((200, {"errcode": 42001, "errmsg": "access_token expired"}),
                 (200, {"errcode": 0, "errmsg": "ok"}))
    a = adapter(CSBOT_WECOM_API_BASE=await serve(aiohttp_server, fake))
    async with session() as http:
        await a.deliver(http, event("wecom", {"touser": "u"}), a.render("x"))
    assert [c.query["access_token"] for c in fake.hits("/cgi-bin/message/send")] == [
        "TOKEN1", "TOKEN2"]


@pytest.mark.asyncio
async def test_platform_error_code_surfaces(aiohttp_server: Any) -> None:
    fake = _fake((200, {"errcode": 81013, "errmsg": "user & party & tag all invalid"}))
    a = adapter(CSBOT_WECOM_API_BASE=await serve(aiohttp_server, fake))
    async with session() as http:
        with pytest.raises(DeliveryError) as exc:
            await a.deliver(http, event("wecom", {"touser": "u"}), a.render("x"))
    assert (exc.value.platform, exc.value.code) == ("wecom", "81013")
    assert len(fake.hits("/cgi-bin/message/send")) == 1  # not retried


@pytest.mark.asyncio
async def test_token_error_surfaces(aiohttp_server: Any) -> None:
    fake = FakeApi()
    fake.on("GET", "/cgi-bin/gettoken", (200, {"errcode": 40001, "errmsg": "invalid credential"}))
    a = adapter(CSBOT_WECOM_API_BASE=await serve(aiohttp_server, fake))
    async with session() as http:
        with pytest.raises(DeliveryError) as exc:
            await a.deliver(http, event("wecom", {"touser": "u"}), a.render("x"))
    assert exc.value.code == "40001"


def test_crypt_type() -> None:
    assert isinstance(adapter().crypt, WXBizMsgCrypt)


# -- hardening (issue 17): the signature before any XML parser -------------------------------

LAUGHS = ('<?xml version="1.0" encoding="UTF-16"?>\n<!DOCTYPE xml [<!ENTITY a "哈哈哈哈哈哈哈哈">'
          + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(4))
          + ']>\n<xml><ToUserName>&e;</ToUserName><Encrypt><![CDATA[{enc}]]></Encrypt></xml>')


def test_an_unsigned_body_never_reaches_an_xml_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    import bot.channels.wecom as wecom

    parsed: list[bytes] = []
    real = wecom.parse_xml
    monkeypatch.setattr(wecom, "parse_xml", lambda data: parsed.append(data) or real(data))
    body = LAUGHS.replace("{enc}", "QUJD").encode("utf-16")  # 80,000 characters once expanded
    with pytest.raises(ChannelError) as exc:
        adapter().receive(request("POST", query(DOC, msg_signature="0" * 40), body=body), now_of(DOC))
    assert 400 <= exc.value.status < 500 and parsed == []
    with pytest.raises(ChannelError):  # nor does a plain unsigned one
        adapter().receive(request("POST", query(DOC, msg_signature="0" * 40),
                                  body=xml_body(DOC["inputs"]["encrypt"])), now_of(DOC))
    assert parsed == []


def test_entities_are_refused_in_any_encoding_even_when_signed() -> None:
    a = adapter()
    enc = a.crypt.encrypt(b"<xml><MsgType>text</MsgType><Content>hi</Content><FromUserName>u</FromUserName>"
                          b"<MsgId>1</MsgId></xml>")
    ts, nonce = DOC["inputs"]["timestamp"], DOC["inputs"]["nonce"]
    q = {"msg_signature": a.crypt.signature(ts, nonce, enc), "timestamp": ts, "nonce": nonce}
    for encoding in ("utf-8", "utf-16"):
        doc = LAUGHS.replace("{enc}", enc)
        body = doc.encode(encoding) if encoding == "utf-16" else doc.replace('encoding="UTF-16"', "").encode()
        with pytest.raises(ChannelError) as exc:
            a.receive(request("POST", q, body=body), now_of(DOC))
        assert exc.value.status == 400, encoding
    # the signed message without a DTD goes through
    _, [e] = a.receive(request("POST", q, body=xml_body(enc)), now_of(DOC))
    assert e.text == "hi"
