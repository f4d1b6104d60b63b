"""End to end: signed platform requests at /hooks/{channel}, the store, and a fake platform API.

Each platform class below builds requests exactly as the platform sends them (its
signature, its encryption, its JSON or XML) and knows the documented shape of the reply
csbot sends back through the platform's API. The tests drive the real application
(``build_app``) with pytest-aiohttp and a fake API server (``FakeApi``) recording every
outbound request.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import json
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlencode

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import select
from test_channels_support import ENV, Call, FakeApi, serve

from bot.channels.base import ConfigError
from bot.channels.commands import help_text, parse_command
from bot.channels.crypto import FeishuCipher, WXBizMsgCrypt
from bot.engine import Engine
from bot.models import Case, Conversation, Suggestion
from bot.server.app import HOOKS, STORE, TURNS, build_app
from bot.store import schema
from bot.store.db import Store

SHOP = "柚子家女装"
NEW = "/new 周敏 连衣裙 2026-03-02 差评 颜色不对"
BUYER = "是我，颜色跟图片差太多了"
ME = "/me 真的很抱歉，让您失望了"
SCRIPT = (NEW, BUYER, ME)
STALE = 2 * 3600  # outside every platform's window (DingTalk's is the widest: one hour)
MALFORMED = b'{"text": "\xe6\x98\xaf\xe6\x88\x91'  # cut off mid-string: neither JSON nor XML
OVERSIZED = "颜色不对" * 8000  # 96 KB of UTF-8, over the server's 64 KB body limit


def now() -> int:
    return int(time.time())


def b64_hmac(secret: str, msg: str) -> str:
    mac = hmac.new(secret.encode(), msg.encode(), hashlib.sha256).digest()
    return base64.b64encode(mac).decode()


def hex_hmac(secret: str, msg: bytes) -> str:
    return hmac.new(secret.encode(), msg, hashlib.sha256).hexdigest()


def sha1_sorted(*parts: str) -> str:
    """WXBizMsgCrypt's msg_signature, computed here independently of bot.channels."""
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


@dataclass
class Sent:
    """One HTTP request as a platform sends it to ``/hooks/{channel}``."""

    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    method: str = "POST"


@dataclass(frozen=True)
class Answer:
    """What csbot answered the platform."""

    status: int
    body: bytes
    content_type: str

    @property
    def json(self) -> Any:
        return json.loads(self.body)


# -- the platforms ----------------------------------------------------------------------------

class Platform:
    """How one platform calls csbot, and what csbot's replies must look like on its API."""

    channel: ClassVar[str]
    token_path: ClassVar[str | None] = None  # the access-token endpoint, if the platform has one
    has_timestamp: ClassVar[bool] = True
    sync: ClassVar[bool] = False  # the answer itself carries the Suggestion (generic webhook)

    def __init__(self, api: str) -> None:
        self.api = api  # the fake platform API's base URL

    def env(self) -> dict[str, str]:
        raise NotImplementedError

    def routes(self, fake: FakeApi) -> None:
        raise NotImplementedError

    def message(self, text: str, n: int, ts: int, forged: bool = False) -> Sent:
        """The ``n``-th chat message of the agent, sent at ``ts``."""
        raise NotImplementedError

    def wrap(self, payload: bytes, ts: int, forged: bool = False) -> Sent:
        """``payload`` (the platform's message document) signed and encrypted as sent."""
        raise NotImplementedError

    def retry(self, sent: Sent) -> Sent:
        """The platform's redelivery of ``sent`` (same message id)."""
        return sent

    def check_ack(self, answer: Answer, n: int) -> None:
        assert (answer.status, answer.body) == (200, b""), answer

    def replies(self, fake: FakeApi) -> list[Call]:
        """The replies sent on the platform: every call but access-token fetches."""
        return [c for c in fake.calls if c.path != self.token_path]

    def check_reply(self, call: Call, n: int) -> None:
        """The reply to message ``n`` has the documented path, auth and body shape."""
        raise NotImplementedError

    def reply_text(self, call: Call) -> str:
        raise NotImplementedError

    def check_token(self, fake: FakeApi) -> None:
        """The access token was fetched once and then cached (or never, where there is none)."""
        assert fake.hits(self.token_path or "/no-token") == []


class WeCom(Platform):
    """企业微信 application callback: WXBizMsgCrypt XML in, ``message/send`` out."""

    channel = "wecom"
    token_path = "/cgi-bin/gettoken"
    ENV = ENV["wecom"]
    CORP, USER, AGENT = ENV["CSBOT_WECOM_CORP_ID"], "ZhouXiaoAn", ENV["CSBOT_WECOM_AGENT_ID"]

    def __init__(self, api: str) -> None:
        super().__init__(api)
        self.crypt = WXBizMsgCrypt(self.ENV["CSBOT_WECOM_TOKEN"], self.ENV["CSBOT_WECOM_AES_KEY"],
                                   self.CORP)

    def env(self) -> dict[str, str]:
        return {**self.ENV, "CSBOT_WECOM_API_BASE": self.api}

    def routes(self, fake: FakeApi) -> None:
        fake.on("GET", "/cgi-bin/gettoken", (200, {"errcode": 0, "errmsg": "ok",
                                                   "access_token": "ACCESS_TOKEN_1",
                                                   "expires_in": 7200}))
        fake.on("POST", "/cgi-bin/message/send", (200, {"errcode": 0, "errmsg": "ok",
                                                        "msgid": "vcT8gGc-7dFb4bxT35ONjBDz9s"}))

    def message(self, text: str, n: int, ts: int, forged: bool = False) -> Sent:
        inner = (f"<xml><ToUserName><![CDATA[{self.CORP}]]></ToUserName>"
                 f"<FromUserName><![CDATA[{self.USER}]]></FromUserName>"
                 f"<CreateTime>{ts}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
                 f"<Content><![CDATA[{text}]]></Content><MsgId>{7330512345678900000 + n}</MsgId>"
                 f"<AgentID>{self.AGENT}</AgentID></xml>")
        return self.wrap(inner.encode(), ts, forged)

    def wrap(self, payload: bytes, ts: int, forged: bool = False) -> Sent:
        encrypt = self.crypt.encrypt(payload)
        nonce = str(secrets.randbelow(10**10))
        token = "forged" if forged else self.ENV["CSBOT_WECOM_TOKEN"]
        body = (f"<xml><ToUserName><![CDATA[{self.CORP}]]></ToUserName>"
                f"<Encrypt><![CDATA[{encrypt}]]></Encrypt>"
                f"<AgentID><![CDATA[{self.AGENT}]]></AgentID></xml>")
        query = {"msg_signature": sha1_sorted(token, str(ts), nonce, encrypt),
                 "timestamp": str(ts), "nonce": nonce}
        return Sent(body.encode(), {"Content-Type": "text/xml"}, query)

    def check_reply(self, call: Call, n: int) -> None:
        assert (call.method, call.path) == ("POST", "/cgi-bin/message/send")
        assert call.query == {"access_token": "ACCESS_TOKEN_1"}
        doc = call.json
        assert doc == {"touser": self.USER, "agentid": int(self.AGENT), "msgtype": "text",
                       "text": {"content": doc["text"]["content"]}, "safe": 0}
        assert len(doc["text"]["content"].encode()) <= 2048  # the API's limit, in bytes

    def reply_text(self, call: Call) -> str:
        return str(call.json["text"]["content"])

    def check_token(self, fake: FakeApi) -> None:
        [token] = fake.hits("/cgi-bin/gettoken")
        assert token.query == {"corpid": self.CORP, "corpsecret": self.ENV["CSBOT_WECOM_SECRET"]}


_MS = itertools.count()


class DingTalkRobot(Platform):
    """钉钉 enterprise robot in HTTP mode: signed headers, reply on the sessionWebhook."""

    channel = "dingtalk"
    ENV = ENV["dingtalk-robot"]
    SESSION = "/robot/sendBySession"
    SESSION_QUERY = "session=c5f1a2+9b2e=="  # a literal '+' must go back out as sent

    def env(self) -> dict[str, str]:
        return {**self.ENV, "CSBOT_DINGTALK_OAPI_BASE": self.api,
                "CSBOT_DINGTALK_API_BASE": self.api}

    def routes(self, fake: FakeApi) -> None:
        fake.on("POST", self.SESSION, (200, {"errcode": 0, "errmsg": "ok"}))

    def message(self, text: str, n: int, ts: int, forged: bool = False) -> Sent:
        ms = ts * 1000
        doc = {
            "conversationId": "cidQfA8NpL0BvWv0fQq2ksJ7A==", "chatbotCorpId": "dingc3f9b2",
            "chatbotUserId": "$:LWCP_v1:$bot", "msgId": f"msgHr{n}dnbPw==", "senderNick": "小安",
            "isAdmin": False, "senderStaffId": "manager4220", "senderCorpId": "dingc3f9b2",
            "sessionWebhookExpiredTime": ms + 5_400_000, "createAt": ms,
            "conversationType": "1", "senderId": "$:LWCP_v1:$xiaoan",
            "sessionWebhook": f"{self.api}{self.SESSION}?{self.SESSION_QUERY}",
            "robotCode": self.ENV["CSBOT_DINGTALK_APP_KEY"], "msgtype": "text",
            "text": {"content": text},
        }
        return self.wrap(json.dumps(doc, ensure_ascii=False).encode(), ts, forged)

    def wrap(self, payload: bytes, ts: int, forged: bool = False) -> Sent:
        # DingTalk's timestamps are milliseconds: two messages never share one (and a
        # (timestamp, sign) pair is accepted for one message only)
        ms = str(ts * 1000 + next(_MS) % 1000)
        secret = "forged" if forged else self.ENV["CSBOT_DINGTALK_APP_SECRET"]
        return Sent(payload, {"Content-Type": "application/json; charset=utf-8", "timestamp": ms,
                              "sign": b64_hmac(secret, f"{ms}\n{secret}")})

    def check_reply(self, call: Call, n: int) -> None:
        assert (call.method, call.path, call.raw_query) == ("POST", self.SESSION,
                                                            self.SESSION_QUERY)
        doc = call.json
        assert doc == {"msgtype": "markdown", "markdown": {"title": doc["markdown"]["title"],
                                                           "text": doc["markdown"]["text"]}}
        assert "x-acs-dingtalk-access-token" not in {k.lower() for k in call.headers}

    def reply_text(self, call: Call) -> str:
        return str(call.json["markdown"]["text"])


class DingTalk(DingTalkRobot):
    """钉钉 with event subscription configured as well: both modes on one URL."""

    ENV = ENV["dingtalk"]

    def __init__(self, api: str) -> None:
        super().__init__(api)
        self.crypt = WXBizMsgCrypt(self.ENV["CSBOT_DINGTALK_TOKEN"],
                                   self.ENV["CSBOT_DINGTALK_AES_KEY"],
                                   self.ENV["CSBOT_DINGTALK_APP_KEY"])

    def event(self, plain: bytes, ts: int, forged: bool = False) -> Sent:
        """An event-subscription callback (ms timestamp in the query, ``{"encrypt"}`` body)."""
        encrypt, ms, nonce = self.crypt.encrypt(plain), str(ts * 1000), secrets.token_hex(4)
        token = "forged" if forged else self.ENV["CSBOT_DINGTALK_TOKEN"]
        query = {"signature": sha1_sorted(token, ms, nonce, encrypt), "timestamp": ms,
                 "nonce": nonce}
        return Sent(json.dumps({"encrypt": encrypt}).encode(),
                    {"Content-Type": "application/json"}, query)

    def check_success(self, answer: Answer) -> None:
        """DingTalk counts an event as delivered only on this signed, encrypted "success"."""
        assert answer.status == 200 and answer.content_type == "application/json"
        doc = answer.json
        assert set(doc) == {"msg_signature", "timeStamp", "nonce", "encrypt"}
        assert doc["msg_signature"] == sha1_sorted(self.ENV["CSBOT_DINGTALK_TOKEN"],
                                                   doc["timeStamp"], doc["nonce"], doc["encrypt"])
        assert abs(int(doc["timeStamp"]) / 1000 - time.time()) < 60  # milliseconds
        assert self.crypt.decrypt(doc["encrypt"]) == b"success"


class Feishu(Platform):
    """飞书 event subscription v2 with an Encrypt Key; replies with the IM API and a card."""

    channel = "feishu"
    token_path = "/open-apis/auth/v3/tenant_access_token/internal"
    ENV = ENV["feishu"]
    TENANT_TOKEN = "t-g1044ghJRUIJJ5ELPLSOOCVMRS3MIZGD4GEAFTOJ"
    OPEN_ID, CHAT = "ou_84aad35d084aa403a838cf73ee18467", "oc_5ce6d572455d361153b7cb51da133945"

    def __init__(self, api: str) -> None:
        super().__init__(api)
        self.cipher = FeishuCipher(self.ENV["CSBOT_FEISHU_ENCRYPT_KEY"])

    def env(self) -> dict[str, str]:
        return {**self.ENV, "CSBOT_FEISHU_API_BASE": self.api}

    @staticmethod
    def message_id(n: int) -> str:
        return f"om_dc13264520392913993dd051dba2{n:04d}"

    @staticmethod
    def event_id(n: int) -> str:
        return f"5e3702a84e847582be8db7fb7328{n:04d}"

    def routes(self, fake: FakeApi) -> None:
        fake.on("POST", self.token_path or "", (200, {
            "code": 0, "msg": "ok", "tenant_access_token": self.TENANT_TOKEN, "expire": 7200}))
        for n in range(1, 6):
            fake.on("POST", f"/open-apis/im/v1/messages/{self.message_id(n)}/reply",
                    (200, {"code": 0, "msg": "success", "data": {"message_id": f"om_r{n}"}}))

    def message(self, text: str, n: int, ts: int, forged: bool = False) -> Sent:
        ms = str(ts * 1000)
        doc = {
            "schema": "2.0",
            "header": {"event_id": self.event_id(n), "event_type": "im.message.receive_v1",
                       "create_time": ms, "token": self.ENV["CSBOT_FEISHU_VERIFICATION_TOKEN"],
                       "app_id": self.ENV["CSBOT_FEISHU_APP_ID"], "tenant_key": "2ca1d211f64f6438"},
            "event": {
                "sender": {"sender_id": {"union_id": "on_8ed6aa67826108097d9ee143816345",
                                         "user_id": "e33ggbyz", "open_id": self.OPEN_ID},
                           "sender_type": "user", "tenant_key": "2ca1d211f64f6438"},
                "message": {"message_id": self.message_id(n), "root_id": "", "parent_id": "",
                            "create_time": ms, "update_time": ms, "chat_id": self.CHAT,
                            "chat_type": "p2p", "message_type": "text",
                            "content": json.dumps({"text": text}, ensure_ascii=False)},
            },
        }
        return self.wrap(json.dumps(doc, ensure_ascii=False).encode(), ts, forged)

    def wrap(self, payload: bytes, ts: int, forged: bool = False) -> Sent:
        body = json.dumps({"encrypt": self.cipher.encrypt(payload)}).encode()
        nonce = secrets.token_hex(8)
        key = "forged" if forged else self.ENV["CSBOT_FEISHU_ENCRYPT_KEY"]
        sig = hashlib.sha256(f"{ts}{nonce}{key}".encode() + body).hexdigest()
        return Sent(body, {"Content-Type": "application/json; charset=utf-8",
                           "X-Lark-Request-Timestamp": str(ts), "X-Lark-Request-Nonce": nonce,
                           "X-Lark-Signature": sig})

    def check_ack(self, answer: Answer, n: int) -> None:
        assert (answer.status, answer.json) == (200, {}), answer

    def check_reply(self, call: Call, n: int) -> None:
        assert call.method == "POST"
        assert call.path == f"/open-apis/im/v1/messages/{self.message_id(n)}/reply"
        assert call.headers["Authorization"] == f"Bearer {self.TENANT_TOKEN}"
        doc = call.json
        assert set(doc) == {"msg_type", "content", "uuid"} and doc["msg_type"] == "interactive"
        assert doc["uuid"] == self.event_id(n)  # Feishu's own guard against a second reply
        card = json.loads(doc["content"])  # the card is a JSON string inside the JSON body
        assert card["header"]["title"]["tag"] == "plain_text"
        assert card["elements"][0]["tag"] == "markdown"

    def reply_text(self, call: Call) -> str:
        return str(json.loads(call.json["content"])["elements"][0]["content"])

    def check_token(self, fake: FakeApi) -> None:
        [token] = fake.hits(self.token_path or "")
        assert token.json == {"app_id": self.ENV["CSBOT_FEISHU_APP_ID"],
                              "app_secret": self.ENV["CSBOT_FEISHU_APP_SECRET"]}


class Telegram(Platform):
    """Telegram webhook with the secret-token header; replies with ``sendMessage``."""

    channel = "telegram"
    has_timestamp = False  # a shared secret header only: nothing to be stale
    ENV = ENV["telegram"]
    CHAT = 5512345678

    def env(self) -> dict[str, str]:
        return {**self.ENV, "CSBOT_TELEGRAM_API_BASE": self.api}

    @property
    def send_path(self) -> str:
        return f"/bot{self.ENV['CSBOT_TELEGRAM_BOT_TOKEN']}/sendMessage"

    def routes(self, fake: FakeApi) -> None:
        fake.on("POST", self.send_path, (200, {"ok": True, "result": {"message_id": 99}}))

    def message(self, text: str, n: int, ts: int, forged: bool = False) -> Sent:
        msg: dict[str, Any] = {
            "message_id": 40 + n, "date": ts, "text": text,
            "from": {"id": self.CHAT, "is_bot": False, "first_name": "小安",
                     "username": "xiaoan_yuzijia", "language_code": "zh-hans"},
            "chat": {"id": self.CHAT, "first_name": "小安", "username": "xiaoan_yuzijia",
                     "type": "private"},
        }
        if text.startswith("/"):
            msg["entities"] = [{"offset": 0, "length": text.find(" "), "type": "bot_command"}]
        update = {"update_id": 861234500 + n, "message": msg}
        return self.wrap(json.dumps(update, ensure_ascii=False).encode(), ts, forged)

    def wrap(self, payload: bytes, ts: int, forged: bool = False) -> Sent:
        secret = "forged" if forged else self.ENV["CSBOT_TELEGRAM_SECRET_TOKEN"]
        return Sent(payload, {"Content-Type": "application/json",
                              "X-Telegram-Bot-Api-Secret-Token": secret})

    def check_reply(self, call: Call, n: int) -> None:
        assert (call.method, call.path) == ("POST", self.send_path)
        assert call.json == {"chat_id": self.CHAT, "text": call.json["text"]}

    def reply_text(self, call: Call) -> str:
        return str(call.json["text"])


class Slack(Platform):
    """Slack: commands through the ``/csbot`` slash command, buyer text as message events."""

    channel = "slack"
    ENV = ENV["slack"]
    CHANNEL, USER = "D024BE91L", "U2147483697"

    def env(self) -> dict[str, str]:
        return {**self.ENV, "CSBOT_SLACK_API_BASE": self.api}

    def routes(self, fake: FakeApi) -> None:
        fake.on("POST", "/api/chat.postMessage",
                (200, {"ok": True, "channel": self.CHANNEL, "ts": "1503435956.000247"}))

    def message(self, text: str, n: int, ts: int, forged: bool = False) -> Sent:
        if text.startswith("/"):  # Slack's client owns a leading "/": "/csbot new …"
            form = {"token": "gIkuvaNzQIHg97ATvDxqgjtO", "team_id": "T0001",
                    "team_domain": "yuzijia", "channel_id": self.CHANNEL,
                    "channel_name": "directmessage", "user_id": self.USER, "user_name": "xiaoan",
                    "command": "/csbot", "text": text[1:], "api_app_id": "A0KRD7HC3",
                    "response_url": "https://hooks.slack.com/commands/T0001/1/XXXX",
                    "trigger_id": f"13345224609.738474920.8088930838d88f008e0{n}"}
            return self.wrap(urlencode(form).encode(), ts, forged,
                             "application/x-www-form-urlencoded")
        doc = {"token": "gIkuvaNzQIHg97ATvDxqgjtO", "team_id": "T0001", "api_app_id": "A0KRD7HC3",
               "event": {"type": "message", "channel": self.CHANNEL, "user": self.USER,
                         "text": text, "ts": f"{ts}.00010{n}", "event_ts": f"{ts}.00010{n}",
                         "channel_type": "im"},
               "type": "event_callback", "event_id": f"Ev08MFMKH{n}", "event_time": ts}
        return self.wrap(json.dumps(doc, ensure_ascii=False).encode(), ts, forged)

    def wrap(self, payload: bytes, ts: int, forged: bool = False,
             ctype: str = "application/json") -> Sent:
        secret = "forged" if forged else self.ENV["CSBOT_SLACK_SIGNING_SECRET"]
        return Sent(payload, {"Content-Type": ctype, "X-Slack-Request-Timestamp": str(ts),
                              "X-Slack-Signature": "v0=" + hex_hmac(secret, f"v0:{ts}:".encode()
                                                                    + payload)})

    def retry(self, sent: Sent) -> Sent:
        return Sent(sent.body, {**sent.headers, "X-Slack-Retry-Num": "1",
                                "X-Slack-Retry-Reason": "http_timeout"}, sent.query)

    def check_reply(self, call: Call, n: int) -> None:
        assert (call.method, call.path) == ("POST", "/api/chat.postMessage")
        assert call.headers["Authorization"] == f"Bearer {self.ENV['CSBOT_SLACK_BOT_TOKEN']}"
        assert call.json == {"channel": self.CHANNEL, "text": call.json["text"]}

    def reply_text(self, call: Call) -> str:
        return str(call.json["text"])


class Webhook(Platform):
    """The shop's own system: signed JSON in, the Suggestion JSON in the answer."""

    channel = "webhook"
    sync = True
    SECRET = ENV["webhook"]["CSBOT_WEBHOOK_SECRET"]
    CALLBACK = "/csbot/callback"

    def env(self) -> dict[str, str]:
        return {"CSBOT_WEBHOOK_SECRET": self.SECRET,
                "CSBOT_WEBHOOK_CALLBACK_URL": f"{self.api}{self.CALLBACK}"}

    def routes(self, fake: FakeApi) -> None:
        fake.on("POST", self.CALLBACK, (200, {"ok": True}))

    def message(self, text: str, n: int, ts: int, forged: bool = False, *,
                sender: str = "agent-7", chat: str = "ticket-9") -> Sent:
        doc = {"chat_id": chat, "sender_id": sender, "sender_name": "小安", "text": text,
               "message_id": f"{chat}/{sender}/m-{n}"}
        return self.wrap(json.dumps(doc, ensure_ascii=False).encode(), ts, forged)

    def wrap(self, payload: bytes, ts: int, forged: bool = False) -> Sent:
        secret = "forged" if forged else self.SECRET
        return Sent(payload, {"Content-Type": "application/json", "X-Csbot-Timestamp": str(ts),
                              "X-Csbot-Signature": hex_hmac(secret, f"{ts}.".encode() + payload)})

    def check_ack(self, answer: Answer, n: int) -> None:
        assert answer.status == 200 and answer.content_type == "application/json", answer
        sug = Suggestion.model_validate(answer.json)
        assert sug.turn == n - 1 and sug.suggestions

    def check_reply(self, call: Call, n: int) -> None:
        assert (call.method, call.path) == ("POST", self.CALLBACK)
        ts = call.headers["X-Csbot-Timestamp"]
        assert call.headers["X-Csbot-Signature"] == hex_hmac(self.SECRET,
                                                             f"{ts}.".encode() + call.body)
        doc = call.json
        assert (doc["chat_id"], doc["sender_id"], doc["message_id"]) == (
            "ticket-9", "agent-7", f"ticket-9/agent-7/m-{n}")

    def reply_text(self, call: Call) -> str:
        return str(call.json["text"])


PLATFORMS: dict[str, type[Platform]] = {
    "wecom": WeCom, "dingtalk-robot": DingTalkRobot, "dingtalk": DingTalk, "feishu": Feishu,
    "telegram": Telegram, "slack": Slack, "webhook": Webhook,
}
ALL = list(PLATFORMS)
TIMESTAMPED = [name for name, cls in PLATFORMS.items() if cls.has_timestamp]


# -- the rig: app, fake API, platform ---------------------------------------------------------

@dataclass
class Rig:
    app: web.Application
    client: TestClient[Any, Any]
    fake: FakeApi
    p: Platform

    @property
    def store(self) -> Store:
        return self.app[STORE]

    async def post(self, sent: Sent) -> Answer:
        async with self.client.request(sent.method, f"/hooks/{self.p.channel}",
                                       params=sent.query, data=sent.body,
                                       headers=sent.headers) as resp:
            return Answer(resp.status, await resp.read(), resp.content_type)

    async def say(self, text: str, n: int) -> Answer:
        """The agent's ``n``-th message, signed now; waits until its reply went out."""
        answer = await self.post(self.p.message(text, n, now()))
        await self.settle()
        return answer

    async def settle(self) -> None:
        """Wait for the background work the acknowledged callbacks started."""
        tasks = self.app[HOOKS].tasks
        while pending := [t for t in tasks if not t.done()]:
            await asyncio.gather(*pending)

    async def cases(self) -> list[dict[str, Any]]:
        _, items = await self.store.find(shop=None)
        return [i.model_dump(mode="json") for i in items]

    async def turns(self) -> list[dict[str, Any]]:
        [case] = await self.cases()
        return [t.model_dump(mode="json") for t in (await self.store.get(case["id"]))[1]]


Boot = Callable[[str], Awaitable[Rig]]


@pytest.fixture
def boot(aiohttp_client: Any, aiohttp_server: Any, tmp_path: Path, engine: Engine) -> Boot:
    async def make(name: str) -> Rig:
        fake = FakeApi()
        platform = PLATFORMS[name](await serve(aiohttp_server, fake))
        platform.routes(fake)
        app = await build_app(f"sqlite:///{tmp_path / 'db.sqlite'}", engine, env=platform.env(),
                              shop=SHOP)
        return Rig(app, await aiohttp_client(app), fake, platform)

    return make


def replayed_stages(engine: Engine, channel: str) -> list[str]:
    """The stage after each turn of the script, straight from the engine."""
    case = Case.model_validate({**parse_command(NEW).case_fields(), "shop": SHOP,
                                "channel": channel})
    conv, _ = engine.start(case)
    stages = []
    for role, text in (("buyer", BUYER), ("agent", ME.removeprefix("/me "))):
        conv, _ = engine.feed(conv, role, text)  # type: ignore[arg-type]
        stages.append(conv.stage)
    return stages


async def assert_untouched(rig: Rig, replies: int = 1) -> None:
    """The open case has no turn, and nothing went out beyond ``replies`` replies."""
    await rig.settle()
    [case] = await rig.cases()
    assert case["turns"] == 0 and await rig.turns() == []
    assert len(rig.p.replies(rig.fake)) == replies


# -- the conversation, on every platform ------------------------------------------------------

@pytest.mark.parametrize("name", ALL)
async def test_conversation_through_the_platform(boot: Boot, engine: Engine, name: str) -> None:
    rig = await boot(name)
    for n, text in enumerate(SCRIPT, 1):
        rig.p.check_ack(await rig.say(text, n), n)

    [case] = await rig.cases()
    turns = await rig.turns()
    assert [(t["turn"], t["role"]) for t in turns] == [(1, "buyer"), (2, "agent")]
    stages = replayed_stages(engine, rig.p.channel)
    assert [t["stage"] for t in turns] == stages and case["stage"] == stages[-1]
    assert case["open"] and case["shop"] == SHOP
    assert (case["case"]["buyer_name"], case["case"]["product"]) == ("周敏", "连衣裙")
    assert case["agent"].startswith(f"{rig.p.channel}:")

    replies = rig.p.replies(rig.fake)
    assert len(replies) == len(SCRIPT)  # one reply per message, in order
    for n, call in enumerate(replies, 1):
        rig.p.check_reply(call, n)
    texts = [rig.p.reply_text(call) for call in replies]
    assert "已开始案例：周敏（连衣裙）" in texts[0] and "建议回复" in texts[0]
    for text, turn in zip(texts[1:], turns, strict=True):
        assert turn["suggestion"]["suggestions"][0]["text"] in text  # the Chinese suggestion
    rig.p.check_token(rig.fake)


@pytest.mark.parametrize("name", ALL)
async def test_retries_make_no_second_turn_or_reply(boot: Boot, name: str) -> None:
    rig = await boot(name)
    for n, text in enumerate(SCRIPT, 1):
        sent = rig.p.message(text, n, now())
        first = await rig.post(sent)
        early = await rig.post(rig.p.retry(sent))  # while the first is still being worked on
        await rig.settle()
        late = await rig.post(rig.p.retry(sent))  # after the reply went out
        await rig.settle()
        assert first.status == early.status == late.status == 200
        if not (rig.p.sync and text == NEW):  # a repeated /new is answered {"ok": true}
            assert early.body == late.body == first.body  # the webhook: the same Suggestion
    assert [t["turn"] for t in await rig.turns()] == [1, 2]
    assert len(rig.p.replies(rig.fake)) == len(SCRIPT)
    rig.p.check_token(rig.fake)


# -- refusals ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ALL)
async def test_forged_signature_is_refused(boot: Boot, name: str) -> None:
    rig = await boot(name)
    await rig.say(NEW, 1)
    answer = await rig.post(rig.p.message(BUYER, 2, now(), forged=True))
    assert answer.status == 401 and answer.json["error"]["code"] == "bad_signature"
    await assert_untouched(rig)


@pytest.mark.parametrize("name", TIMESTAMPED)
async def test_stale_timestamp_is_refused(boot: Boot, name: str) -> None:
    rig = await boot(name)
    await rig.say(NEW, 1)
    answer = await rig.post(rig.p.message(BUYER, 2, now() - STALE))
    assert answer.status == 401 and answer.json["error"]["code"] == "stale_timestamp"
    await assert_untouched(rig)


@pytest.mark.parametrize("name", ALL)
async def test_malformed_body_is_refused(boot: Boot, name: str) -> None:
    rig = await boot(name)
    await rig.say(NEW, 1)
    answer = await rig.post(rig.p.wrap(MALFORMED, now()))  # correctly signed and encrypted
    assert answer.status == 400 and answer.json["error"]["code"] == "bad_request"
    await assert_untouched(rig)


@pytest.mark.parametrize("name", ALL)
async def test_oversized_body_is_413(boot: Boot, name: str) -> None:
    rig = await boot(name)
    await rig.say(NEW, 1)
    answer = await rig.post(rig.p.message(OVERSIZED, 2, now()))
    assert answer.status == 413 and answer.json["error"]["code"] == "too_large"
    await assert_untouched(rig)


# -- handshakes and DingTalk event subscription -----------------------------------------------

async def test_wecom_url_check_echoes_the_plaintext(boot: Boot) -> None:
    rig = await boot("wecom")
    assert isinstance(rig.p, WeCom)
    ts, nonce, echo = str(now()), "1372623149", "1616140317555161061"
    echostr = rig.p.crypt.encrypt(echo.encode(), b"+" * 16)  # base64 with '+' in it
    assert "+" in echostr
    query = {"msg_signature": sha1_sorted(WeCom.ENV["CSBOT_WECOM_TOKEN"], ts, nonce, echostr),
             "timestamp": ts, "nonce": nonce, "echostr": echostr}
    answer = await rig.post(Sent(b"", query=query, method="GET"))
    assert (answer.status, answer.body) == (200, echo.encode())  # raw: no quotes, BOM, newline
    assert rig.fake.calls == [] and await rig.cases() == []


async def test_feishu_url_verification_answers_the_challenge(boot: Boot) -> None:
    rig = await boot("feishu")
    assert isinstance(rig.p, Feishu)
    doc = {"challenge": "ajls384kdjx98XX", "token": Feishu.ENV["CSBOT_FEISHU_VERIFICATION_TOKEN"],
           "type": "url_verification"}
    body = json.dumps({"encrypt": rig.p.cipher.encrypt(json.dumps(doc).encode())}).encode()
    answer = await rig.post(Sent(body, {"Content-Type": "application/json"}))  # sent unsigned
    assert (answer.status, answer.json) == (200, {"challenge": "ajls384kdjx98XX"})


async def test_slack_url_verification_answers_the_challenge(boot: Boot) -> None:
    rig = await boot("slack")
    body = json.dumps({"token": "Jhj5dZrVaK7ZwHHjRyZWjbDl", "type": "url_verification",
                       "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"})
    answer = await rig.post(rig.p.wrap(body.encode(), now()))
    assert answer.status == 200
    assert answer.body == b"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"


@pytest.mark.parametrize("plain", [
    b'{"EventType":"check_url"}',
    '{"EventType":"user_add_org","TimeStamp":"1700000000000","CorpId":"dingc3f9b2",'
    '"UserId":["manager4220"],"OptStaff":"小安"}'.encode(),
])
async def test_dingtalk_event_is_answered_with_encrypted_success(boot: Boot, plain: bytes) -> None:
    rig = await boot("dingtalk")
    assert isinstance(rig.p, DingTalk)
    rig.p.check_success(await rig.post(rig.p.event(plain, now())))
    assert rig.fake.calls == [] and await rig.cases() == []


async def test_dingtalk_event_refusals(boot: Boot) -> None:
    rig = await boot("dingtalk")
    assert isinstance(rig.p, DingTalk)
    check = b'{"EventType":"check_url"}'
    garbled = rig.p.event(check, now())
    encrypt = "A" * 44  # valid base64, not a ciphertext for this key
    garbled.body = json.dumps({"encrypt": encrypt}).encode()
    garbled.query["signature"] = sha1_sorted(DingTalk.ENV["CSBOT_DINGTALK_TOKEN"],
                                             garbled.query["timestamp"], garbled.query["nonce"],
                                             encrypt)
    cases = [(rig.p.event(check, now(), forged=True), 401, "bad_signature"),
             (rig.p.event(check, now() - STALE), 401, "stale_timestamp"),
             (Sent(b"{}", {"Content-Type": "application/json"}, rig.p.event(check, now()).query),
              400, "bad_request"),
             (garbled, 400, "bad_encryption")]
    for sent, status, code in cases:
        answer = await rig.post(sent)
        assert (answer.status, answer.json["error"]["code"]) == (status, code)
    assert rig.fake.calls == []


# -- settings ---------------------------------------------------------------------------------

async def test_partly_configured_channels_stop_build_app(tmp_path: Path, engine: Engine) -> None:
    env = {
        "CSBOT_WECOM_TOKEN": "t", "CSBOT_WECOM_AES_KEY": ENV["wecom"]["CSBOT_WECOM_AES_KEY"],
        "CSBOT_DINGTALK_APP_KEY": "k",
        "CSBOT_FEISHU_APP_ID": "a", "CSBOT_FEISHU_APP_SECRET": "s",
        "CSBOT_FEISHU_ENCRYPT_KEY": "e",
        "CSBOT_TELEGRAM_BOT_TOKEN": "1:A",
        "CSBOT_SLACK_BOT_TOKEN": "xoxb",
        "CSBOT_WEBHOOK_CALLBACK_URL": "https://shop.example/cb",
    }
    with pytest.raises(ConfigError) as exc:
        await build_app(f"sqlite:///{tmp_path / 'db.sqlite'}", engine, env=env, shop=SHOP)
    named = set(re.findall(r"CSBOT_[A-Z_]+", str(exc.value)))
    assert named == {"CSBOT_WECOM_CORP_ID", "CSBOT_WECOM_SECRET", "CSBOT_WECOM_AGENT_ID",
                     "CSBOT_DINGTALK_APP_SECRET", "CSBOT_FEISHU_VERIFICATION_TOKEN",
                     "CSBOT_TELEGRAM_SECRET_TOKEN", "CSBOT_SLACK_SIGNING_SECRET",
                     "CSBOT_WEBHOOK_SECRET"}


async def test_half_configured_dingtalk_events_stop_build_app(tmp_path: Path,
                                                              engine: Engine) -> None:
    env = {**ENV["dingtalk-robot"], "CSBOT_DINGTALK_TOKEN": "mryue"}
    with pytest.raises(ConfigError, match="CSBOT_DINGTALK_AES_KEY"):
        await build_app(f"sqlite:///{tmp_path / 'db.sqlite'}", engine, env=env, shop=SHOP)


@pytest.mark.parametrize("env", [{}, ENV["webhook"]], ids=["nothing", "webhook-only"])
async def test_unconfigured_channels_are_not_mounted(aiohttp_client: Any, tmp_path: Path,
                                                     engine: Engine, env: dict[str, str]) -> None:
    app = await build_app(f"sqlite:///{tmp_path / 'db.sqlite'}", engine, env=env, shop=SHOP)
    client = await aiohttp_client(app)
    mounted = {"webhook"} if env else set()
    for name in ("wecom", "dingtalk", "feishu", "telegram", "slack", "webhook"):
        resp = await client.post(f"/hooks/{name}", data=b"{}")
        if name in mounted:
            assert resp.status == 401  # mounted: the unsigned request is refused
        else:
            assert resp.status == 404
            assert (await resp.json())["error"]["code"] == "unknown_channel"


# -- the other commands, through the synchronous webhook --------------------------------------

class Desk:
    """An agent at the shop's own system, posting to the webhook and reading the answers."""

    def __init__(self, rig: Rig, sender: str = "agent-7", chat: str = "ticket-9") -> None:
        self.rig, self.sender, self.chat = rig, sender, chat
        self.n = 0

    async def say(self, text: str) -> Any:
        """The JSON answer: a Suggestion for a turn or /new, ``{"reply": …}`` for a command."""
        assert isinstance(self.rig.p, Webhook)
        self.n += 1
        sent = self.rig.p.message(text, self.n, now(), sender=self.sender, chat=self.chat)
        answer = await self.rig.post(sent)
        await self.rig.settle()
        assert answer.status == 200, answer
        return answer.json

    async def reply(self, text: str) -> str:
        doc = await self.say(text)
        assert set(doc) == {"reply"}, doc
        return str(doc["reply"])


async def tone_of(store: Store, conv_id: str) -> str:
    c = schema.conversations.c
    async with store.db.connect() as conn:
        state = (await conn.execute(select(c.state).where(c.id == conv_id))).scalar_one()
    return Conversation.model_validate_json(state).tone


async def test_commands_through_the_webhook(boot: Boot) -> None:
    rig = await boot("webhook")
    desk = Desk(rig)
    assert (await desk.reply("/status")).startswith("还没有进行中的案例")
    assert (await desk.say(NEW))["stage"]["id"] == "opening"
    assert await desk.reply("/status") == "当前案例：周敏，阶段：开场，已进行 0 轮。"
    sug = await desk.say(BUYER)
    assert sug["turn"] == 1
    label = sug["stage"]["label"]
    assert await desk.reply("/状态") == f"当前案例：周敏，阶段：{label}，已进行 1 轮。"
    hint = await desk.say("/hint")  # the current Suggestion again, as JSON
    assert hint["turn"] == 1 and hint["suggestions"] == sug["suggestions"]

    [zhou] = await rig.cases()
    assert await tone_of(rig.store, zhou["id"]) == "正式"
    assert await desk.reply("/tone 亲切") == "之后的建议改用“亲切”语气。"
    assert await tone_of(rig.store, zhou["id"]) == "亲切"
    assert (await desk.reply("/tone 随便")).startswith("用法：/tone")

    assert await desk.reply("/help") == help_text()
    assert await desk.reply("/帮助") == help_text()


async def test_one_open_case_per_agent_and_chat_and_switch(boot: Boot) -> None:
    rig = await boot("webhook")
    desk = Desk(rig)
    await desk.say(NEW)
    await desk.say("/new 李娜 牛仔外套 2026-03-05 中评 有线头")
    by_name = {c["case"]["buyer_name"]: c for c in await rig.cases()}
    assert set(by_name) == {"周敏", "李娜"} and all(c["open"] for c in by_name.values())

    label = (await desk.say(BUYER))["stage"]["label"]  # to the newest case, the current one
    assert await desk.reply("/status") == f"当前案例：李娜，阶段：{label}，已进行 1 轮。"
    assert await desk.reply("/switch") == (
        "您进行中的案例：\n1. 李娜（牛仔外套）  ← 当前\n2. 周敏（连衣裙）\n发 /switch 编号 切换。")
    assert await desk.reply("/switch 周敏") == "已切换到：周敏。"
    assert (await desk.reply("/status")).startswith("当前案例：周敏，")
    assert await desk.reply("/切换 1") == "已切换到：李娜。"
    assert await desk.reply("/switch 王五") == "没有找到“王五”，发 /switch 查看您的案例。"
    assert await desk.reply("/switch 2") == "已切换到：周敏。"

    # another agent in the same chat, and the same agent in another chat, have no case
    assert (await Desk(rig, sender="agent-8").reply("/status")).startswith("还没有进行中的案例")
    assert (await Desk(rig, chat="ticket-10").reply("/hint")).startswith("还没有进行中的案例")

    assert await desk.reply("/end 已解决") == "案例已结束，结果：已解决。"
    zhou, _ = await rig.store.get(by_name["周敏"]["id"])
    assert (zhou.open, zhou.outcome, zhou.turns) == (False, "resolved", 0)
    # Every message is answered after the end too (issue 16): the buyer's new complaint
    # opens a new round of the same case.
    again = await desk.say(BUYER)
    assert again["stage"]["id"] != "closed" and again["suggestions"]
    listing = await desk.reply("/switch")
    assert "周敏" in listing and "李娜（牛仔外套）" in listing
    assert await desk.reply("/switch 李娜") == "已切换到：李娜。"
    li, turns = await rig.store.get(by_name["李娜"]["id"])
    assert li.open and [t.turn for t in turns] == [1]


# -- hardening (issue 17) ---------------------------------------------------------------------

@pytest.mark.parametrize("name", ALL)
async def test_a_plain_text_answer_goes_out_once_per_message(boot: Boot, name: str) -> None:
    # No open case yet: the answer is a text, and the platform's retry must not get it again.
    rig = await boot(name)
    sent = rig.p.message(BUYER, 1, now())
    first = await rig.post(sent)
    await rig.settle()
    again = await rig.post(rig.p.retry(sent))
    await rig.settle()
    assert first.status == again.status == 200
    if not rig.p.sync:
        assert len(rig.p.replies(rig.fake)) == 1
    assert await rig.cases() == []


@pytest.mark.parametrize("name", ALL)
async def test_a_command_that_failed_is_handled_on_the_retry(boot: Boot, name: str,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    rig = await boot(name)
    turns = rig.app[TURNS]
    real, calls = turns.create, []

    async def fails_once(*args: Any, **kw: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionResetError("数据库连接断了")  # injected: the database went away once
        return await real(*args, **kw)

    monkeypatch.setattr(turns, "create", fails_once)
    sent = rig.p.message(NEW, 1, now())
    await rig.post(sent)
    await rig.settle()
    assert await rig.cases() == []
    await rig.post(rig.p.retry(sent))  # the platform retries: this time the case is opened
    await rig.settle()
    [case] = await rig.cases()
    assert case["case"]["buyer_name"] == "周敏"
    if not rig.p.sync:
        texts = [rig.p.reply_text(c) for c in rig.p.replies(rig.fake)]
        assert len(texts) == 2 and "出错" in texts[0] and "已开始案例" in texts[1]


async def test_a_dingtalk_sign_signs_one_message_only(boot: Boot, aiohttp_client: Any,
                                                      engine: Engine) -> None:
    rig = await boot("dingtalk-robot")
    first = rig.p.message(NEW, 1, now())
    assert (await rig.post(first)).status == 200
    await rig.settle()
    assert (await rig.post(rig.p.retry(first))).status == 200  # DingTalk's own retry
    # the captured headers over another body: refused, nothing happens
    forged = Sent(rig.p.message(BUYER, 2, now()).body, first.headers)
    answer = await rig.post(forged)
    assert (answer.status, answer.json["error"]["code"]) == (401, "replayed_signature")
    await rig.settle()
    [case] = await rig.cases()
    assert case["turns"] == 0 and len(rig.p.replies(rig.fake)) == 1
    # the pair is stored: a restarted service refuses it too
    db = rig.store.writer.engine.url.database  # type: ignore[union-attr]
    again = await build_app(f"sqlite:///{db}", engine, env=rig.p.env(), shop=SHOP)
    client = await aiohttp_client(again)
    async with client.post("/hooks/dingtalk", data=forged.body, headers=forged.headers) as resp:
        assert resp.status == 401


async def test_dingtalk_window_is_minutes_and_configurable(boot: Boot) -> None:
    rig = await boot("dingtalk-robot")
    answer = await rig.post(rig.p.message(NEW, 1, now() - 50 * 60))  # 50 minutes old
    assert (answer.status, answer.json["error"]["code"]) == (401, "stale_timestamp")
    from bot.channels.dingtalk import DingTalkAdapter

    adapter = DingTalkAdapter.from_settings({**rig.p.env(), "CSBOT_DINGTALK_MAX_SKEW_SECONDS": "60"})
    assert adapter is not None and adapter.window == 60  # type: ignore[attr-defined]
    for bad in ("soon", "0", "86400"):
        with pytest.raises(ConfigError, match="CSBOT_DINGTALK_MAX_SKEW_SECONDS"):
            DingTalkAdapter.from_settings({**rig.p.env(), "CSBOT_DINGTALK_MAX_SKEW_SECONDS": bad})


async def test_dingtalk_openapi_only_to_a_conversation_dingtalk_vouched_for(boot: Boot) -> None:
    # A body naming a group and an expired sessionWebhook: nothing goes out through the
    # OpenAPI to a conversation that never took a reply on its own sessionWebhook.
    rig = await boot("dingtalk-robot")
    rig.fake.on("POST", "/v1.0/oauth2/accessToken", (200, {"accessToken": "at", "expireIn": 7200}))
    rig.fake.on("POST", "/v1.0/robot/groupMessages/send", (200, {"processQueryKey": "k"}))
    doc = json.loads(rig.p.message(NEW, 1, now()).body)
    doc.update(conversationType="2", conversationId="cidSomeoneElsesGroup==",
               sessionWebhookExpiredTime=1000, text={"content": "/help"})

    async def send(msg_id: str, expires: int) -> list[Call]:
        doc.update(msgId=msg_id, sessionWebhookExpiredTime=expires)
        await rig.post(rig.p.wrap(json.dumps(doc, ensure_ascii=False).encode(), now()))
        await rig.settle()
        return [c for c in rig.fake.calls if "groupMessages" in c.path]

    assert await send("msgUnknown1", 1000) == []
    # a reply through the group's own sessionWebhook vouches for it; then the fallback may
    later = int(time.time() * 1000) + 5_400_000
    assert await send("msgVouched1", later) == []
    assert await rig.store.seen_event("dingtalk-conv", "2:cidSomeoneElsesGroup==")
    assert len(await send("msgExpired1", 1000)) == 1


@pytest.mark.parametrize("name", TIMESTAMPED)
async def test_a_signed_400_digit_timestamp_is_a_4xx(boot: Boot, name: str) -> None:
    rig = await boot(name)
    sent = rig.p.message(NEW, 1, 10**400)
    answer = await rig.post(sent)
    assert 400 <= answer.status < 500 and set(answer.json["error"]) == {"code", "message"}


@pytest.mark.parametrize("name", ALL)
async def test_zero_width_text_makes_no_turn(boot: Boot, name: str) -> None:
    rig = await boot(name)
    await rig.say(NEW, 1)
    await rig.say("\u200b\u200d\ufeff", 2)
    assert await rig.turns() == []


@pytest.mark.parametrize("name", ["slack", "webhook"])
async def test_new_answers_and_stores_masked_fields(boot: Boot, name: str) -> None:
    rig = await boot(name)
    review = "寄到浙江省杭州市西湖区文三路90号，电话13912345678"
    answer = await rig.say(f"/new 李雷13812345678 连衣裙 2026-03-02 差评 {review}", 1)
    [case] = await rig.cases()
    stored = json.dumps(case, ensure_ascii=False)
    assert "13812345678" not in stored and "13912345678" not in stored and "文三路90号" not in stored
    assert case["case"]["buyer_name"] == "李雷[手机号]"
    shown = answer.body.decode() if rig.p.sync else rig.p.reply_text(rig.p.replies(rig.fake)[0])
    assert "李雷[手机号]" in shown and "13812345678" not in shown
