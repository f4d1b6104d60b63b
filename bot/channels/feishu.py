"""飞书 / Lark event subscription v2: url_verification, Encrypt Key, ``im.message.receive_v1``.

With an Encrypt Key, bodies are ``{"encrypt": base64(iv ‖ AES-256-CBC)}`` and events carry
``X-Lark-Signature`` = sha256(timestamp + nonce + encrypt_key + raw body), checked before
anything is parsed. Feishu sends the URL check unsigned, so an unsigned body is accepted
only when it decrypts to a ``url_verification`` with the right Verification Token.
Replies go through ``im/v1/messages/:message_id/reply`` as an interactive card, with a
tenant access token cached until shortly before it expires.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

from bot.channels.base import (
    Adapter,
    ChannelError,
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
from bot.channels.crypto import CryptoError, FeishuCipher, same

if TYPE_CHECKING:
    import aiohttp

API_BASE = "https://open.feishu.cn"
WINDOW = 300.0  # Feishu documents none; its retries reuse the event_id, deduped upstream
CARD_LIMIT = 28_000  # the card JSON, UTF-8 bytes (the API refuses cards over 30 KB)
_TOKEN_ERRORS = {99991661, 99991663, 99991668}  # missing / invalid tenant_access_token
_TRANSIENT = {99991400, 230020}  # rate limited (app-wide, per chat)
_MENTION = re.compile(r"@_user_\d+")


def card(title: str, text: str) -> dict[str, Any]:
    """An interactive card: a header and one Markdown block."""
    return {
        "config": {"wide_screen_mode": True},
        "header": {"title": {"tag": "plain_text", "content": title}, "template": "blue"},
        "elements": [{"tag": "markdown", "content": text}],
    }


def _dump(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


class FeishuAdapter(Adapter):
    """Feishu / Lark bot messages over the event-subscription webhook."""

    name: ClassVar[str] = "feishu"
    title: ClassVar[str] = "飞书"
    text_style = "markdown"
    settings: ClassVar[tuple[Setting, ...]] = (
        Setting("CSBOT_FEISHU_APP_ID", "应用的 App ID"),
        Setting("CSBOT_FEISHU_APP_SECRET", "应用的 App Secret"),
        Setting("CSBOT_FEISHU_ENCRYPT_KEY", "事件订阅的 Encrypt Key", "secret"),
        Setting("CSBOT_FEISHU_VERIFICATION_TOKEN", "事件订阅的 Verification Token", "secret"),
        Setting("CSBOT_FEISHU_API_BASE", "API 地址（Lark 国际版或测试用）", "optional",
                counts=False),
    )

    def __init__(self, values: Mapping[str, str], dev: bool = False) -> None:
        from bot.channels.outbound import TokenCache

        super().__init__(values, dev)
        key = self.get("CSBOT_FEISHU_ENCRYPT_KEY")
        self.cipher = FeishuCipher(key) if key else None
        self.token = self.get("CSBOT_FEISHU_VERIFICATION_TOKEN")
        self.tokens = TokenCache()

    # -- inbound ----------------------------------------------------------------------------

    def _decrypt(self, encrypt: Any) -> dict[str, Any]:
        assert self.cipher is not None
        if not isinstance(encrypt, str) or not encrypt:
            raise malformed("缺少 encrypt")
        try:
            plain = self.cipher.decrypt(encrypt)
        except CryptoError as exc:
            raise ChannelError(400, "bad_encryption", f"解密失败：{exc.message}") from None
        return parse_json_object(plain)

    def _check_token(self, doc: dict[str, Any]) -> None:
        if not self.token:
            return  # development start without a Verification Token
        header = doc.get("header")
        given = header.get("token") if isinstance(header, dict) else doc.get("token")
        if not isinstance(given, str) or not same(given, self.token):
            raise bad_signature("Verification Token ")

    def _receive(self, req: RawRequest, now: float) -> tuple[HttpReply, list[InboundEvent]]:
        sig = req.headers.get("x-lark-signature", "")
        signed = False
        if self.cipher is not None and sig:
            ts = req.headers.get("x-lark-request-timestamp", "")
            nonce = req.headers.get("x-lark-request-nonce", "")
            if not self.cipher.verify(sig, ts, nonce, req.body):
                raise bad_signature()
            check_window(ts, now, WINDOW)
            signed = True
        outer = parse_json_object(req.body)
        doc = self._decrypt(outer.get("encrypt")) if self.cipher is not None else outer
        self._check_token(doc)
        if doc.get("type") == "url_verification":
            challenge = doc.get("challenge")
            if not isinstance(challenge, str):
                raise malformed("缺少 challenge")
            return HttpReply.json({"challenge": challenge}), []
        if self.cipher is not None and not signed:
            raise bad_signature()  # only the URL check comes unsigned
        return HttpReply.json({}), self._events(doc)

    def _events(self, doc: dict[str, Any]) -> list[InboundEvent]:
        header, event = doc.get("header"), doc.get("event")
        if doc.get("schema") != "2.0" or not isinstance(header, dict):
            return []  # v1 events (uuid/ts): nothing we act on
        if header.get("event_type") != "im.message.receive_v1" or not isinstance(event, dict):
            return []
        message, sender = event.get("message"), event.get("sender")
        if not isinstance(message, dict) or not isinstance(sender, dict):
            raise malformed("im.message.receive_v1 缺少 message 或 sender")
        if sender.get("sender_type") != "user" or message.get("message_type") != "text":
            return []  # our own app's messages, images, files...
        try:
            content = json.loads(message.get("content") or "")  # a JSON string inside JSON
            text = content["text"]
        except (ValueError, TypeError, KeyError):
            raise malformed("message.content 不是合法的文本消息 JSON") from None
        if not isinstance(text, str):
            raise malformed("message.content.text 应为字符串")
        for mention in message.get("mentions") or []:
            if isinstance(mention, dict) and isinstance(mention.get("key"), str):
                text = text.replace(mention["key"], "")
        text = _MENTION.sub("", text).strip()
        raw_ids = sender.get("sender_id")
        ids: dict[str, Any] = raw_ids if isinstance(raw_ids, dict) else {}
        user = str(ids.get("open_id") or ids.get("user_id") or "")
        event_id, message_id, chat_id = (header.get("event_id"), message.get("message_id"),
                                         message.get("chat_id"))
        if not (text and user and event_id and message_id and chat_id):
            return []
        return [InboundEvent(
            channel=self.name, chat_id=str(chat_id), sender_id=user, text=text,
            message_id=str(event_id),
            time=epoch_to_datetime(message.get("create_time") or header.get("create_time")),
            reply_to={"message_id": str(message_id), "chat_id": str(chat_id)},
        )]

    # -- outbound ---------------------------------------------------------------------------

    def render(self, text: str, title: str | None = None) -> OutboundMessage:
        """An interactive card, its JSON within Feishu's size limit."""
        head = title or "csbot"
        limit, body = CARD_LIMIT, text
        while True:  # JSON escaping makes the card larger than its text: shrink until it fits
            body = truncate(text, limit)
            content = _dump(card(head, body))
            excess = len(content.encode("utf-8")) - CARD_LIMIT
            if excess <= 0:
                break
            limit -= excess
        return OutboundMessage(text=body, payload={"msg_type": "interactive", "content": content})

    async def _fetch_token(self, http: aiohttp.ClientSession) -> tuple[str, float]:
        from bot.channels.outbound import call_api, failure

        resp = await call_api(
            http, "POST",
            f"{self.api_base(API_BASE)}/open-apis/auth/v3/tenant_access_token/internal",
            platform=self.name, policy=self.retry,
            json_body={"app_id": self.get("CSBOT_FEISHU_APP_ID"),
                       "app_secret": self.get("CSBOT_FEISHU_APP_SECRET")},
        )
        data: Any = resp.data or {}
        if data.get("code") != 0 or not data.get("tenant_access_token"):
            raise failure(self.name, data.get("code", f"http_{resp.status}"),
                          f"获取 tenant_access_token 失败：{data.get('msg', '')}", resp.status)
        return str(data["tenant_access_token"]), float(data.get("expire", 7200))

    async def deliver(self, http: aiohttp.ClientSession, event: InboundEvent,
                      msg: OutboundMessage) -> None:
        """``POST /open-apis/im/v1/messages/:message_id/reply`` with the card."""
        from bot.channels.outbound import call_api, failure

        mid = quote(event.reply_to["message_id"], safe="")
        url = f"{self.api_base(API_BASE)}/open-apis/im/v1/messages/{mid}/reply"
        # uuid: Feishu sends at most one reply per uuid within an hour, a second guard
        body = {**msg.payload, "uuid": event.message_id[:50]}
        for attempt in range(2):
            token = await self.tokens.get(lambda: self._fetch_token(http))
            resp = await call_api(http, "POST", url, platform=self.name, policy=self.retry,
                                  json_body=body, headers={"Authorization": f"Bearer {token}"},
                                  transient=lambda d: d.get("code") in _TRANSIENT)
            data: Any = resp.data or {}
            code = data.get("code", f"http_{resp.status}")
            if code == 0:
                return
            if code in _TOKEN_ERRORS and attempt == 0:
                self.tokens.invalidate()
                continue
            raise failure(self.name, code, f"回复消息失败：{data.get('msg', '')}", resp.status)

    def probe(self, now: float) -> Probe:
        """The console's URL check (``url_verification``), encrypted when a key is set."""
        challenge = secrets.token_urlsafe(16)
        doc = _dump({"challenge": challenge, "token": self.token, "type": "url_verification"})
        if self.cipher is not None:
            body = _dump({"encrypt": self.cipher.encrypt(doc.encode())}).encode()
        else:
            body = doc.encode()
        req = RawRequest("POST", f"/hooks/{self.name}", {}, {"content-type": "application/json"},
                         body)

        def check(status: int, reply: bytes) -> bool:
            try:
                return status == 200 and json.loads(reply).get("challenge") == challenge
            except (ValueError, AttributeError):
                return False

        return Probe(req, "URL 校验（url_verification）", check)
