"""Slack Events API and slash commands: v0 signing secret, url_verification, chat.postMessage.

``X-Slack-Signature`` = "v0=" + hex HMAC-SHA256(signing secret, "v0:" + timestamp + ":" +
raw body), five-minute window. Retries (``X-Slack-Retry-Num``) carry the same
``event_id`` and are deduped upstream. Slack's client owns a leading ``/``, so commands
also arrive as the ``/csbot new …`` slash command or as plain ``csbot new …``.
"""

from __future__ import annotations

import json
import re
import secrets
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import parse_qs

from bot.channels.base import (
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
    truncate,
)
from bot.channels.crypto import hmac_sha256, same, utf8

if TYPE_CHECKING:
    import aiohttp

API_BASE = "https://slack.com"
WINDOW = 300.0
TEXT_LIMIT = 4000  # characters; Slack truncates at 40 000 and advises 4 000
_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")


def slack_signature(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Slack-Signature`` of a request."""
    return "v0=" + hmac_sha256(secret, b"v0:" + utf8(timestamp) + b":" + body).hex()


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


class SlackAdapter(Adapter):
    """Slack app messages (``message.im`` / ``message.channels``) and slash commands."""

    name: ClassVar[str] = "slack"
    title: ClassVar[str] = "Slack"
    text_style = "slack"
    settings: ClassVar[tuple[Setting, ...]] = (
        Setting("CSBOT_SLACK_BOT_TOKEN", "Bot User OAuth Token（xoxb-…）"),
        Setting("CSBOT_SLACK_SIGNING_SECRET", "Signing Secret", "secret"),
        Setting("CSBOT_SLACK_API_BASE", "Web API 地址（测试用）", "optional", counts=False),
    )

    def _receive(self, req: RawRequest, now: float) -> tuple[HttpReply, list[InboundEvent]]:
        ts = req.headers.get("x-slack-request-timestamp", "")
        secret = self.get("CSBOT_SLACK_SIGNING_SECRET")
        if secret:
            given = req.headers.get("x-slack-signature", "")
            if not given or not ts or not same(slack_signature(secret, ts, req.body), given):
                raise bad_signature()
            check_window(ts, now, WINDOW)
        ctype = req.headers.get("content-type", "")
        if ctype.startswith("application/x-www-form-urlencoded"):
            return self._form(req, ts or str(int(now)))
        doc = parse_json_object(req.body)
        kind = doc.get("type")
        if kind == "url_verification":
            challenge = doc.get("challenge")
            if not isinstance(challenge, str):
                raise malformed("缺少 challenge")
            return HttpReply.text(challenge), []
        if kind != "event_callback":
            return HttpReply.text(""), []
        return HttpReply.text(""), self._message(doc)

    def _message(self, doc: dict[str, Any]) -> list[InboundEvent]:
        event = doc.get("event")
        if not isinstance(event, dict) or event.get("type") != "message":
            return []  # app_mention duplicates a message event: subscribe to message.* only
        if event.get("subtype") or event.get("bot_id"):
            return []  # edits, joins, and bot messages, our own replies included
        text, user, channel = event.get("text"), event.get("user"), event.get("channel")
        event_id = doc.get("event_id")
        if not all(isinstance(v, str) and v for v in (text, user, channel, event_id)):
            raise malformed("message 事件缺少 text、user、channel 或 event_id")
        assert isinstance(text, str) and isinstance(channel, str)
        clean = _unescape(_MENTION.sub("", text)).strip()
        if not clean:
            return []
        reply_to = {"channel": channel}
        if isinstance(event.get("thread_ts"), str):
            reply_to["thread_ts"] = event["thread_ts"]
        return [InboundEvent(
            channel=self.name, chat_id=channel, sender_id=str(user), text=clean,
            message_id=str(event_id),
            time=epoch_to_datetime(doc.get("event_time") or event.get("ts")),
            reply_to=reply_to,
        )]

    def _form(self, req: RawRequest, ts: str) -> tuple[HttpReply, list[InboundEvent]]:
        try:
            pairs = parse_qs(req.body.decode("utf-8"), keep_blank_values=True,
                             strict_parsing=True)
            form = {k: v[0] for k, v in pairs.items()}
        except (UnicodeDecodeError, ValueError):
            raise malformed("表单格式错误") from None
        command = form.get("command")
        if not command:
            return HttpReply.text(""), []  # interactive payloads and the like
        for field in ("user_id", "channel_id", "trigger_id"):
            if not form.get(field):
                raise malformed(f"斜杠命令缺少 {field}")
        # "/csbot new …" → the parser's csbot prefix; "/new …" registered directly works too
        text = f"{command} {form.get('text', '')}".strip()
        event = InboundEvent(
            channel=self.name, chat_id=form["channel_id"], sender_id=form["user_id"],
            sender_name=form.get("user_name", ""), text=text, message_id=form["trigger_id"],
            time=epoch_to_datetime(ts), reply_to={"channel": form["channel_id"]},
        )
        return HttpReply.text(""), [event]  # an empty 200 shows nothing; the reply follows

    def render(self, text: str, title: str | None = None) -> OutboundMessage:
        """mrkdwn text with the title in bold, within 4000 characters."""
        content = truncate(f"*{title}*\n{text}" if title else text, TEXT_LIMIT, unit="chars")
        return OutboundMessage(text=content, payload={"text": content})

    async def deliver(self, http: aiohttp.ClientSession, event: InboundEvent,
                      msg: OutboundMessage) -> None:
        """``POST /api/chat.postMessage`` into the channel (and thread) it came from."""
        from bot.channels.outbound import call_api, failure

        body: dict[str, Any] = {"channel": event.reply_to["channel"], **msg.payload}
        if "thread_ts" in event.reply_to:
            body["thread_ts"] = event.reply_to["thread_ts"]
        resp = await call_api(
            http, "POST", f"{self.api_base(API_BASE)}/api/chat.postMessage", platform=self.name,
            policy=self.retry, json_body=body,
            headers={"Authorization": f"Bearer {self.get('CSBOT_SLACK_BOT_TOKEN')}"},
        )
        data: Any = resp.data or {}
        if not data.get("ok"):
            raise failure(self.name, data.get("error", f"http_{resp.status}"),
                          "chat.postMessage 失败", resp.status)

    def probe(self, now: float) -> Probe:
        """A signed ``url_verification``, expecting the challenge back."""
        challenge = secrets.token_urlsafe(24)
        ts = str(int(now))
        body = json.dumps({"token": "csbot-check", "challenge": challenge,
                           "type": "url_verification"}).encode()
        headers = {"content-type": "application/json", "x-slack-request-timestamp": ts}
        if secret := self.get("CSBOT_SLACK_SIGNING_SECRET"):
            headers["x-slack-signature"] = slack_signature(secret, ts, body)
        req = RawRequest("POST", f"/hooks/{self.name}", {}, headers, body)
        return Probe(req, "带签名的 url_verification",
                     lambda status, reply: status == 200 and reply == challenge.encode())
