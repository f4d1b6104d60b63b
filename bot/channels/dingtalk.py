"""钉钉 (DingTalk): the enterprise robot in HTTP mode, and event subscription.

Robot: headers ``timestamp`` (ms) and ``sign`` = base64(HmacSHA256(appSecret,
timestamp + "\\n" + appSecret)); the reply goes to the conversation's ``sessionWebhook``
(Markdown) while it is valid, else through the robot OpenAPI with an app access token.
The sign covers only the timestamp (DingTalk's design), so a captured pair would sign any
body. Within the protocol: the window is minutes (``CSBOT_DINGTALK_MAX_SKEW_SECONDS``,
300 by default; DingTalk's documents allow an hour, its requests come at once), each
(timestamp, sign) pair is accepted for one message only (stored: it holds across
restarts and instances), a ``sessionWebhook`` must be on DingTalk's own host, and the
OpenAPI fallback sends only to a conversation whose sessionWebhook has already taken a
reply (DingTalk itself vouched for it).

Event subscription: ``?signature&timestamp&nonce`` (ms), body ``{"encrypt"}``, the
WeCom crypto with the AppKey as receive id; every event, ``check_url`` included, is
answered with the encrypted ``"success"`` map, or DingTalk counts it as failed.
"""

from __future__ import annotations

import base64
import json
import secrets
import string
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

from bot.channels.base import (
    Adapter,
    ChannelError,
    ConfigError,
    HttpReply,
    InboundEvent,
    OutboundMessage,
    Probe,
    RawRequest,
    Setting,
    bad_signature,
    check_window,
    epoch_to_datetime,
    malformed,
    parse_json_object,
    truncate,
)
from bot.channels.crypto import CryptoError, WXBizMsgCrypt, hmac_sha256, same
from bot.channels.wecom import crypto_error

if TYPE_CHECKING:
    import aiohttp

API_BASE = "https://api.dingtalk.com"  # OpenAPI (access token, robot messages)
OAPI_BASE = "https://oapi.dingtalk.com"  # where sessionWebhooks live
WINDOW = 300.0  # seconds; the robot doc allows an hour, which a captured sign would enjoy
MAX_WINDOW = 3600.0
SIGN_CHANNEL = "dingtalk-sign"  # channel_events rows of used (timestamp, sign) pairs
SEEN_CHANNEL = "dingtalk-conv"  # conversations whose sessionWebhook took a reply
TEXT_LIMIT = 5000  # markdown text, UTF-8 bytes (kept well under the platform's limit)
SESSION_MARGIN_MS = 60_000  # do not start a reply on a webhook about to expire
_ALNUM = string.ascii_letters + string.digits


def robot_sign(secret: str, timestamp: str) -> str:
    """The robot's ``sign`` header for ``timestamp`` (ms, as sent)."""
    return base64.b64encode(hmac_sha256(secret, f"{timestamp}\n{secret}")).decode()


class DingTalkAdapter(Adapter):
    """DingTalk robot messages and event-subscription callbacks on one URL."""

    name: ClassVar[str] = "dingtalk"
    title: ClassVar[str] = "钉钉"
    text_style = "markdown"
    settings: ClassVar[tuple[Setting, ...]] = (
        Setting("CSBOT_DINGTALK_APP_KEY", "应用的 AppKey（Client ID）"),
        Setting("CSBOT_DINGTALK_APP_SECRET", "应用的 AppSecret（Client Secret）", "secret"),
        Setting("CSBOT_DINGTALK_TOKEN", "事件订阅的签名 Token（可选）", "optional"),
        Setting("CSBOT_DINGTALK_AES_KEY", "事件订阅的加密 aes_key（可选）", "optional"),
        Setting("CSBOT_DINGTALK_API_BASE", "OpenAPI 地址（测试或代理用）", "optional",
                counts=False),
        Setting("CSBOT_DINGTALK_OAPI_BASE", "sessionWebhook 地址（测试或代理用）", "optional",
                counts=False),
        Setting("CSBOT_DINGTALK_MAX_SKEW_SECONDS", "机器人签名时间戳允许的偏差（秒，默认 300）",
                "optional", counts=False),
    )

    def __init__(self, values: Mapping[str, str], dev: bool = False) -> None:
        from bot.channels.outbound import TokenCache

        super().__init__(values, dev)
        token, aes = self.get("CSBOT_DINGTALK_TOKEN"), self.get("CSBOT_DINGTALK_AES_KEY")
        self.crypt: WXBizMsgCrypt | None = None
        if bool(token) != bool(aes):
            missing = "CSBOT_DINGTALK_AES_KEY" if token else "CSBOT_DINGTALK_TOKEN"
            raise ConfigError(f"钉钉事件订阅配置不完整，缺少：{missing}")
        if token:
            try:
                self.crypt = WXBizMsgCrypt(token, aes, self.get("CSBOT_DINGTALK_APP_KEY"))
            except ValueError as exc:
                raise ConfigError(f"CSBOT_DINGTALK_AES_KEY 无效：{exc}") from None
        self.tokens = TokenCache()
        self.clock = time.time  # for the sessionWebhook expiry; tests move it
        skew = self.get("CSBOT_DINGTALK_MAX_SKEW_SECONDS", str(WINDOW))
        try:
            self.window = float(skew)
        except ValueError:
            raise ConfigError("CSBOT_DINGTALK_MAX_SKEW_SECONDS 应为秒数（如 300）") from None
        if not 1 <= self.window <= MAX_WINDOW:
            raise ConfigError(f"CSBOT_DINGTALK_MAX_SKEW_SECONDS 应在 1 到 {MAX_WINDOW:.0f} 秒之间")

    # -- inbound ----------------------------------------------------------------------------

    def _receive(self, req: RawRequest, now: float) -> tuple[HttpReply, list[InboundEvent]]:
        if "signature" in req.query or "msg_signature" in req.query:
            return self._event(req, now), []
        return self._robot(req, now)

    def _robot(self, req: RawRequest, now: float) -> tuple[HttpReply, list[InboundEvent]]:
        ts, sign = req.headers.get("timestamp", ""), req.headers.get("sign", "")
        secret = self.get("CSBOT_DINGTALK_APP_SECRET")
        if secret:
            if not ts or not sign or not same(robot_sign(secret, ts), sign.strip()):
                raise bad_signature()
            check_window(ts, now, self.window, millis=True)
        body = parse_json_object(req.body)
        if body.get("msgtype") != "text":
            return HttpReply.text(""), []  # pictures, files, audio: acknowledged, no turn
        text_obj = body.get("text")
        text = text_obj.get("content") if isinstance(text_obj, dict) else None
        fields = ("msgId", "conversationId", "senderId")
        if not isinstance(text, str) or not all(isinstance(body.get(f), str) for f in fields):
            raise malformed("缺少 text.content、msgId、conversationId 或 senderId")
        text = text.strip()  # group messages start with the space the @ left behind
        if not text:
            return HttpReply.text(""), []
        staff = str(body.get("senderStaffId") or "")
        event = InboundEvent(
            channel=self.name, chat_id=body["conversationId"], sender_id=staff or body["senderId"],
            sender_name=str(body.get("senderNick") or ""), text=text, message_id=body["msgId"],
            time=epoch_to_datetime(body.get("createAt")),
            reply_to={
                "session_webhook": str(body.get("sessionWebhook") or ""),
                "session_webhook_expires": str(body.get("sessionWebhookExpiredTime") or 0),
                "conversation_type": str(body.get("conversationType") or "1"),
                "conversation_id": body["conversationId"],
                "staff_id": staff,
                "robot_code": str(body.get("robotCode") or self.get("CSBOT_DINGTALK_APP_KEY")),
                # the service accepts this pair for this one message only (Hooks.fresh)
                **({"sign_pair": f"{ts.strip()}:{sign.strip()}"} if secret else {}),
            },
        )
        return HttpReply.text(""), [event]

    def _event(self, req: RawRequest, now: float) -> HttpReply:
        if self.crypt is None:
            raise ChannelError(403, "not_configured",
                               "未配置钉钉事件订阅（CSBOT_DINGTALK_TOKEN、CSBOT_DINGTALK_AES_KEY）")
        q = req.query
        sig = q.get("signature") or q.get("msg_signature") or ""
        ts = q.get("timestamp") or q.get("timeStamp") or ""
        nonce = q.get("nonce", "")
        encrypt = parse_json_object(req.body).get("encrypt")
        if not isinstance(encrypt, str) or not encrypt:
            raise malformed("缺少 encrypt")
        if not self.crypt.verify(sig, ts, nonce, encrypt):
            raise bad_signature()
        check_window(ts, now, self.window, millis=True)
        try:
            plain = self.crypt.decrypt(encrypt)
        except CryptoError as exc:
            raise crypto_error(exc) from None
        parse_json_object(plain)  # check_url and other events: nothing for the pipeline
        return self.success_reply(now)

    def success_reply(self, now: float) -> HttpReply:
        """The encrypted ``"success"`` map DingTalk requires as every event's answer."""
        assert self.crypt is not None
        ts = str(int(now * 1000))
        nonce = "".join(secrets.choice(_ALNUM) for _ in range(8))
        enc = self.crypt.encrypt(b"success")
        return HttpReply.json({"msg_signature": self.crypt.signature(ts, nonce, enc),
                               "timeStamp": ts, "nonce": nonce, "encrypt": enc})

    # -- outbound ---------------------------------------------------------------------------

    def render(self, text: str, title: str | None = None) -> OutboundMessage:
        """A Markdown message; the title shows in the notification and the chat list."""
        head = title or "csbot"
        body = truncate(f"### {title}\n\n{text}" if title else text, TEXT_LIMIT)
        return OutboundMessage(text=body, payload={"msgtype": "markdown",
                                                   "markdown": {"title": head, "text": body}})

    def _session_url(self, webhook: str) -> Any:
        """The sessionWebhook on DingTalk's host (or the configured base); None if foreign."""
        from yarl import URL

        base = self.get("CSBOT_DINGTALK_OAPI_BASE", OAPI_BASE).rstrip("/")
        parts, own, official = urlsplit(webhook), urlsplit(base), urlsplit(OAPI_BASE)
        origin = (parts.scheme, parts.netloc)
        if origin not in {(own.scheme, own.netloc), (official.scheme, official.netloc)}:
            return None
        query = f"?{parts.query}" if parts.query else ""
        # encoded=True: the query goes out exactly as DingTalk wrote it, never re-quoted
        return URL(f"{base}{parts.path}{query}", encoded=True)

    async def deliver(self, http: aiohttp.ClientSession, event: InboundEvent,
                      msg: OutboundMessage) -> None:
        """Reply on the sessionWebhook while valid, else through the robot OpenAPI."""
        from bot.channels.outbound import call_api, failure

        r = event.reply_to
        expires = int(r.get("session_webhook_expires") or 0)
        webhook = r.get("session_webhook", "")
        if webhook and self.clock() * 1000 < expires - SESSION_MARGIN_MS:
            url = self._session_url(webhook)
            if url is None:
                raise failure(self.name, "foreign_webhook", "sessionWebhook 不是钉钉的地址，已拒绝")
            resp = await call_api(http, "POST", url, platform=self.name, policy=self.retry,
                                  json_body=msg.payload,
                                  transient=lambda d: d.get("errcode") in {-1, 130101})
            data: Any = resp.data or {}
            code = data.get("errcode", 0 if resp.status == 200 else f"http_{resp.status}")
            if code != 0:
                raise failure(self.name, code, f"回复失败：{data.get('errmsg', '')}", resp.status)
            if self.memory is not None:  # DingTalk took a reply here: a real conversation
                await self.memory.first_time(SEEN_CHANNEL, self._seen_key(event))
            return
        if self.memory is not None and not await self.memory.seen_event(SEEN_CHANNEL, self._seen_key(event)):
            # The body names where to send and its sign does not cover it: never to a
            # conversation DingTalk has not shown us through its own sessionWebhook.
            raise failure(self.name, "unknown_conversation",
                          "会话已过期，且这个会话从未通过 sessionWebhook 回复过，不经 OpenAPI 发送")
        await self._openapi_send(http, event, msg)

    @staticmethod
    def _seen_key(event: InboundEvent) -> str:
        r = event.reply_to
        who = r.get("conversation_id", "") if r.get("conversation_type") == "2" else r.get("staff_id", "")
        return f"{r.get('conversation_type', '1')}:{who}"[:200]

    async def _fetch_token(self, http: aiohttp.ClientSession) -> tuple[str, float]:
        from bot.channels.outbound import call_api, failure

        resp = await call_api(
            http, "POST", f"{self.api_base(API_BASE)}/v1.0/oauth2/accessToken",
            platform=self.name, policy=self.retry,
            json_body={"appKey": self.get("CSBOT_DINGTALK_APP_KEY"),
                       "appSecret": self.get("CSBOT_DINGTALK_APP_SECRET")},
        )
        data: Any = resp.data or {}
        if resp.status != 200 or not data.get("accessToken"):
            raise failure(self.name, data.get("code", f"http_{resp.status}"),
                          f"获取 accessToken 失败：{data.get('message', '')}", resp.status)
        return str(data["accessToken"]), float(data.get("expireIn", 7200))

    async def _openapi_send(self, http: aiohttp.ClientSession, event: InboundEvent,
                            msg: OutboundMessage) -> None:
        from bot.channels.outbound import call_api, failure

        r = event.reply_to
        md = msg.payload["markdown"]
        body: dict[str, Any] = {
            "robotCode": r.get("robot_code") or self.get("CSBOT_DINGTALK_APP_KEY"),
            "msgKey": "sampleMarkdown",
            "msgParam": json.dumps({"title": md["title"], "text": md["text"]}, ensure_ascii=False),
        }
        if r.get("conversation_type") == "2":
            path = "/v1.0/robot/groupMessages/send"
            body["openConversationId"] = r["conversation_id"]
        else:
            path = "/v1.0/robot/oToMessages/batchSend"
            if not r.get("staff_id"):
                raise failure(self.name, "no_staff_id", "会话已过期且缺少 senderStaffId，无法回复")
            body["userIds"] = [r["staff_id"]]
        for attempt in range(2):
            token = await self.tokens.get(lambda: self._fetch_token(http))
            resp = await call_api(http, "POST", f"{self.api_base(API_BASE)}{path}",
                                  platform=self.name, policy=self.retry, json_body=body,
                                  headers={"x-acs-dingtalk-access-token": token})
            if resp.status == 200:
                return
            data: Any = resp.data or {}
            if resp.status == 401 and attempt == 0:  # token revoked or expired early
                self.tokens.invalidate()
                continue
            raise failure(self.name, data.get("code", f"http_{resp.status}"),
                          f"发送消息失败：{data.get('message', '')}", resp.status)

    def probe(self, now: float) -> Probe:
        """check_url when event subscription is set, else a signed non-text robot message."""
        if self.crypt is not None:
            ts, nonce = str(int(now * 1000)), "".join(secrets.choice(_ALNUM) for _ in range(8))
            enc = self.crypt.encrypt(b'{"EventType":"check_url"}')
            query = {"signature": self.crypt.signature(ts, nonce, enc), "timestamp": ts,
                     "nonce": nonce}
            body = json.dumps({"encrypt": enc}).encode()
            req = RawRequest("POST", f"/hooks/{self.name}", query,
                             {"content-type": "application/json"}, body)
            return Probe(req, "事件订阅 check_url（应答加密的 success）", self._is_success)
        ts = str(int(now * 1000))
        headers = {"content-type": "application/json", "timestamp": ts}
        if secret := self.get("CSBOT_DINGTALK_APP_SECRET"):
            headers["sign"] = robot_sign(secret, ts)
        body = json.dumps({"msgtype": "picture", "msgId": f"csbot-check-{ts}",
                           "conversationId": "csbot-check", "senderId": "csbot-check",
                           "content": {"downloadCode": "csbot-check"}}).encode()
        req = RawRequest("POST", f"/hooks/{self.name}", {}, headers, body)
        return Probe(req, "机器人消息签名（图片消息，不产生对话）",
                     lambda status, _body: status == 200)

    def _is_success(self, status: int, body: bytes) -> bool:
        """Whether ``body`` is a correctly signed, encrypted ``"success"``."""
        if status != 200 or self.crypt is None:
            return False
        try:
            doc = json.loads(body)
            ok = self.crypt.verify(doc["msg_signature"], doc["timeStamp"], doc["nonce"],
                                   doc["encrypt"])
            return ok and self.crypt.decrypt(doc["encrypt"]) == b"success"
        except (ValueError, KeyError, TypeError, CryptoError):
            return False
