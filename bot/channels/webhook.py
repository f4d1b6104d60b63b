"""Generic webhook for a shop's own systems: signed JSON in, the Suggestion JSON in the response.

Request headers ``X-Csbot-Timestamp`` (Unix seconds) and ``X-Csbot-Signature`` = hex
HMAC-SHA256(secret, timestamp + "." + raw body); five-minute window. Body:
``{"chat_id","sender_id","text","message_id"}`` (+ optional ``sender_name``).
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.channels.base import (
    MAX_EVENT_ID,
    MAX_SENDER_ID,
    Adapter,
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
)
from bot.channels.crypto import hmac_sha256, same, utf8

if TYPE_CHECKING:
    import aiohttp

    from bot.labels import Labels
    from bot.models import Suggestion

WINDOW = 300.0


class WebhookMessage(BaseModel):
    """The JSON a shop's system posts."""

    model_config = ConfigDict(extra="forbid")
    chat_id: str = Field(min_length=1, max_length=MAX_EVENT_ID)
    sender_id: str = Field(min_length=1, max_length=MAX_SENDER_ID)
    sender_name: str = Field(default="", max_length=100)
    text: str = Field(min_length=1, max_length=4000)
    message_id: str = Field(min_length=1, max_length=MAX_EVENT_ID)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Csbot-Signature`` of a body."""
    return hmac_sha256(secret, utf8(timestamp) + b"." + body).hex()


class WebhookAdapter(Adapter):
    """``POST /hooks/webhook``; the HTTP response carries the Suggestion (``sync_reply``)."""

    name: ClassVar[str] = "webhook"
    title: ClassVar[str] = "通用 Webhook"
    sync_reply: ClassVar[bool] = True
    settings: ClassVar[tuple[Setting, ...]] = (
        Setting("CSBOT_WEBHOOK_SECRET", "签名密钥", "secret"),
        Setting("CSBOT_WEBHOOK_CALLBACK_URL", "异步回调地址（可选）", "optional"),
    )

    def _receive(self, req: RawRequest, now: float) -> tuple[HttpReply, list[InboundEvent]]:
        ts = req.headers.get("x-csbot-timestamp", "")
        secret = self.get("CSBOT_WEBHOOK_SECRET")
        if secret:
            given = req.headers.get("x-csbot-signature", "").strip().lower()
            given = given.removeprefix("sha256=")
            if not given or not same(sign(secret, ts, req.body), given):
                raise bad_signature()
            check_window(ts, now, WINDOW)
        obj = parse_json_object(req.body)
        try:
            msg = WebhookMessage.model_validate(obj)
        except ValidationError as exc:
            from bot.server.errors import describe  # the API's Chinese wording of the same errors

            raise malformed(describe(exc)) from None
        event = InboundEvent(
            channel=self.name, chat_id=msg.chat_id, sender_id=msg.sender_id,
            sender_name=msg.sender_name, text=msg.text, message_id=msg.message_id,
            time=epoch_to_datetime(ts if ts.isdigit() else now), reply_to={},
        )
        # the server replaces this body with the Suggestion JSON (sync_reply)
        return HttpReply.json({"ok": True}), [event]

    def render(self, text: str, title: str | None = None) -> OutboundMessage:
        """``{"title", "text"}``; the shop's system formats it itself."""
        return OutboundMessage(text=text, payload={"title": title or "", "text": text})

    def render_suggestion(self, sug: Suggestion, labels: Labels) -> OutboundMessage:
        """The Suggestion JSON itself, as the synchronous answer carries it."""
        base = super().render_suggestion(sug, labels)
        return OutboundMessage(text=base.text,
                               payload={"suggestion": sug.model_dump(mode="json")})

    async def deliver(self, http: aiohttp.ClientSession, event: InboundEvent,
                      msg: OutboundMessage) -> None:
        """POST to ``CSBOT_WEBHOOK_CALLBACK_URL`` (signed like the inbound side), if set."""
        from bot.channels.outbound import call_api, failure

        url = self.get("CSBOT_WEBHOOK_CALLBACK_URL")
        if not url:
            return  # the answer already went back in the HTTP response
        doc: dict[str, Any] = {"chat_id": event.chat_id, "sender_id": event.sender_id,
                               "message_id": event.message_id, **msg.payload}
        body = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        ts = str(int(time.time()))
        headers = {"X-Csbot-Timestamp": ts}
        if secret := self.get("CSBOT_WEBHOOK_SECRET"):
            headers["X-Csbot-Signature"] = sign(secret, ts, body)
        resp = await call_api(http, "POST", url, platform=self.name, policy=self.retry,
                              data=body, headers=headers)
        if resp.status >= 300:
            raise failure(self.name, f"http_{resp.status}", "回调地址拒绝了请求", resp.status)

    def probe(self, now: float) -> Probe:
        """A signed ``/help`` message; the answer is the help text, no case is touched."""
        ts = str(int(now))
        body = json.dumps({"chat_id": "csbot-check", "sender_id": "csbot-check",
                           "text": "/help", "message_id": f"csbot-check-{ts}"}).encode()
        headers = {"content-type": "application/json", "x-csbot-timestamp": ts}
        if secret := self.get("CSBOT_WEBHOOK_SECRET"):
            headers["x-csbot-signature"] = sign(secret, ts, body)
        req = RawRequest("POST", f"/hooks/{self.name}", {}, headers, body)
        return Probe(req, "带签名的 /help 消息", lambda status, _body: status == 200)
