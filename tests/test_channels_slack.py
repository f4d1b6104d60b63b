"""Slack: the v0 signature with the documented sample, events, slash commands, chat.postMessage."""

from __future__ import annotations

import copy
import json
from typing import Any
from urllib.parse import urlencode

import pytest
from test_channels_support import FAST, FakeApi, event, request, serve, session, vector

from bot.channels.base import ChannelError, DeliveryError, RawRequest
from bot.channels.commands import parse_command
from bot.channels.slack import SlackAdapter, slack_signature

SIG = vector("slack-doc-signing-secret")
SECRET = SIG["inputs"]["signing_secret"]
TS = SIG["inputs"]["x_slack_request_timestamp"]
IM = vector("slack-message-im-event")["inputs"]["payload"]
VERIFY = vector("slack-doc-url-verification")["inputs"]["body"]


def adapter(**extra: str) -> SlackAdapter:
    env = {"CSBOT_SLACK_BOT_TOKEN": "xoxb-test", "CSBOT_SLACK_SIGNING_SECRET": SECRET, **extra}
    a = SlackAdapter.from_settings(env)
    assert isinstance(a, SlackAdapter)
    a.retry = FAST
    return a


def signed(body: bytes, ts: str = TS, ctype: str = "application/json",
           extra: dict[str, str] | None = None) -> RawRequest:
    return request("POST", headers={"X-Slack-Request-Timestamp": ts, "Content-Type": ctype,
                                    "X-Slack-Signature": slack_signature(SECRET, ts, body),
                                    **(extra or {})}, body=body)


def test_documented_signature() -> None:
    body = SIG["inputs"]["raw_body"].encode()
    assert slack_signature(SECRET, TS, body) == SIG["expected"]["x_slack_signature"]
    req = request("POST", headers={"X-Slack-Request-Timestamp": TS,
                                   "X-Slack-Signature": SIG["expected"]["x_slack_signature"],
                                   "Content-Type": "application/x-www-form-urlencoded"}, body=body)
    reply, [e] = adapter().receive(req, float(TS))
    assert reply.status == 200 and reply.body == b""
    assert (e.text, e.chat_id, e.sender_id, e.sender_name) == (
        "/webhook-collect", "G8PSS9T3V", "U2CERLKJA", "roadrunner")
    assert e.message_id == "398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"


@pytest.mark.parametrize(("now", "sig", "code"), [
    (float(TS) + 301, None, "stale_timestamp"),
    (float(TS) - 301, None, "stale_timestamp"),
    (float(TS), "v0=" + "0" * 64, "bad_signature"),
    (float(TS), "", "bad_signature"),
])
def test_refusals(now: float, sig: str | None, code: str) -> None:
    body = SIG["inputs"]["raw_body"].encode()
    req = request("POST", headers={
        "X-Slack-Request-Timestamp": TS, "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Signature": SIG["expected"]["x_slack_signature"] if sig is None else sig},
        body=body)
    with pytest.raises(ChannelError) as exc:
        adapter().receive(req, now)
    assert (exc.value.status, exc.value.code) == (401, code)


def test_tampered_body_is_refused() -> None:
    body = SIG["inputs"]["raw_body"].encode()
    req = request("POST", headers={"X-Slack-Request-Timestamp": TS,
                                   "X-Slack-Signature": SIG["expected"]["x_slack_signature"]},
                  body=body.replace(b"roadrunner", b"coyote"))
    with pytest.raises(ChannelError) as exc:
        adapter().receive(req, float(TS))
    assert exc.value.status == 401


def test_url_verification() -> None:
    reply, events = adapter().receive(signed(json.dumps(VERIFY).encode()), float(TS))
    assert (reply.status, reply.body, events) == (200, VERIFY["challenge"].encode(), [])
    assert reply.content_type.startswith("text/plain")


def test_message_event_and_its_retry() -> None:
    body = json.dumps(IM).encode()
    _, [e] = adapter().receive(signed(body), float(TS))
    assert (e.channel, e.chat_id, e.sender_id, e.text, e.message_id) == (
        "slack", "D024BE91L", "U2147483697", "Hello hello can you hear me?", "Ev0PV52K21")
    assert e.reply_to == {"channel": "D024BE91L"}
    retry = signed(body, extra={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    _, [again] = adapter().receive(retry, float(TS))
    assert again.message_id == e.message_id  # same event_id: the pipeline's dedupe drops it


def test_mentions_threads_and_bots() -> None:
    doc = copy.deepcopy(IM)
    doc["event"].update(text="<@U0LAN0Z89> csbot new 周敏 连衣裙 2024-05-01 &lt;急&gt;",
                        thread_ts="1355517523.000001", channel_type="channel")
    _, [e] = adapter().receive(signed(json.dumps(doc).encode()), float(TS))
    assert e.text == "csbot new 周敏 连衣裙 2024-05-01 <急>"
    assert e.reply_to == {"channel": "D024BE91L", "thread_ts": "1355517523.000001"}
    assert parse_command(e.text).kind == "new"
    for change in ({"bot_id": "B1"}, {"subtype": "message_changed"}, {"type": "app_mention"}):
        d = copy.deepcopy(IM)
        d["event"].update(change)
        assert adapter().receive(signed(json.dumps(d).encode()), float(TS))[1] == []


def test_slash_command_csbot() -> None:
    form = urlencode({"command": "/csbot", "text": "new 周敏 连衣裙 2024-05-01", "user_id": "U1",
                      "user_name": "mei", "channel_id": "C1", "trigger_id": "t.1"}).encode()
    _, [e] = adapter().receive(signed(form, ctype="application/x-www-form-urlencoded"), float(TS))
    assert e.text == "/csbot new 周敏 连衣裙 2024-05-01"
    cmd = parse_command(e.text)
    assert (cmd.kind, cmd.buyer_name, cmd.product) == ("new", "周敏", "连衣裙")


def test_malformed_bodies() -> None:
    for body, ctype in ((b"{oops", "application/json"),
                        (b"command=%2Fcsbot", "application/x-www-form-urlencoded"),
                        (b"\xff\xfe", "application/x-www-form-urlencoded")):
        with pytest.raises(ChannelError) as exc:
            adapter().receive(signed(body, ctype=ctype), float(TS))
        assert exc.value.status == 400
    with pytest.raises(ChannelError) as exc:
        adapter().receive(signed(b"{}" + b" " * 300_000), float(TS))
    assert exc.value.status == 413


def test_probe_round_trip() -> None:
    a = adapter()
    probe = a.probe(1_700_000_000)
    reply, events = a.receive(probe.request, 1_700_000_000)
    assert probe.check(reply.status, reply.body) and events == []


@pytest.mark.asyncio
async def test_post_message(aiohttp_server: Any) -> None:
    fake = FakeApi()
    fake.on("POST", "/api/chat.postMessage", (200, {"ok": True, "ts": "1"}))
    a = adapter(CSBOT_SLACK_API_BASE=await serve(aiohttp_server, fake))
    async with session() as http:
        await a.deliver(http, event("slack", {"channel": "D024BE91L", "thread_ts": "9.1"}),
                        a.render("1. 您好", "话术建议"))
    [call] = fake.calls
    assert call.headers["Authorization"] == "Bearer xoxb-test"
    assert call.headers["Content-Type"] == "application/json; charset=utf-8"
    assert call.json == {"channel": "D024BE91L", "text": "*话术建议*\n1. 您好", "thread_ts": "9.1"}


@pytest.mark.asyncio
async def test_rate_limit_then_error(aiohttp_server: Any) -> None:
    fake = FakeApi()
    fake.on("POST", "/api/chat.postMessage",
            (429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "0"}),
            (200, {"ok": False, "error": "channel_not_found"}))
    a = adapter(CSBOT_SLACK_API_BASE=await serve(aiohttp_server, fake))
    async with session() as http:
        with pytest.raises(DeliveryError) as exc:
            await a.deliver(http, event("slack", {"channel": "C9"}), a.render("x"))
    assert exc.value.code == "channel_not_found" and len(fake.calls) == 2
