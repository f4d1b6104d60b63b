"""企业微信 (WeCom) self-built application callback: WXBizMsgCrypt in, message/send out.

GET ``?msg_signature&timestamp&nonce&echostr``: the URL check, answered with the
decrypted echostr as the raw body. POST: encrypted XML, acknowledged with an empty 200
at once (WeCom retries after 5 s); the Suggestion goes out through ``message/send`` with
an access token cached until shortly before it expires.
"""

from __future__ import annotations

import re
import secrets
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import defusedxml.ElementTree as DefusedET
from defusedxml import DefusedXmlException

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
    truncate,
)
from bot.channels.crypto import CryptoError, WXBizMsgCrypt

if TYPE_CHECKING:
    import aiohttp

API_BASE = "https://qyapi.weixin.qq.com"
WINDOW = 300.0  # WeCom documents none; its retries come within seconds
TEXT_LIMIT = 2048  # message/send text content, UTF-8 bytes
_TOKEN_ERRORS = {40014, 42001}  # invalid / expired access_token: fetch a new one once
_TRANSIENT = {-1, 45033}  # system busy, too many concurrent calls


def crypto_error(exc: CryptoError) -> ChannelError:
    """A decrypt failure as a refusal: 403 for another receiver, 400 for bad ciphertext."""
    if exc.code == "wrong_receive_id":
        return ChannelError(403, exc.code, exc.message)
    return ChannelError(400, "bad_encryption", f"解密失败：{exc.message}")


def parse_xml(data: bytes) -> dict[str, str]:
    """The child elements of a flat ``<xml>`` document; ChannelError(400) if malformed.

    defusedxml refuses any DTD, entity or external reference in whatever encoding the
    document declares (a byte filter for "<!doctype" missed it in UTF-16)."""
    try:
        root = DefusedET.fromstring(data, forbid_dtd=True)
    except DefusedXmlException:
        raise malformed("XML 不允许 DOCTYPE / ENTITY") from None
    except (ET.ParseError, ValueError):
        raise malformed("不是合法的 XML") from None
    return {child.tag: (child.text or "").strip() for child in root}


# The ciphertext of the outer document, read before anything is parsed: the signature covers
# it, so an unsigned body is refused without an XML parser ever seeing it.
_ENCRYPT = re.compile(rb"<Encrypt>\s*(?:<!\[CDATA\[([A-Za-z0-9+/=]{1,262144})\]\]>|([A-Za-z0-9+/=]{1,262144}))"
                      rb"\s*</Encrypt>")


def outer_encrypt(data: bytes) -> str:
    """The ``<Encrypt>`` value of WeCom's outer XML (base64 only), or ChannelError(400)."""
    found = _ENCRYPT.search(data)
    if found is None:
        raise malformed("缺少 Encrypt")
    return (found.group(1) or found.group(2)).decode("ascii")


def _fix_b64(value: str) -> str:
    # yarl and some proxies turn a literal '+' into a space; base64 never has spaces
    return value.replace(" ", "+")


class WeComAdapter(Adapter):
    """WeCom application messages (企业微信自建应用 接收消息)."""

    name: ClassVar[str] = "wecom"
    title: ClassVar[str] = "企业微信"
    methods: ClassVar[frozenset[str]] = frozenset({"GET", "POST"})
    settings: ClassVar[tuple[Setting, ...]] = (
        Setting("CSBOT_WECOM_TOKEN", "接收消息的 Token"),
        Setting("CSBOT_WECOM_AES_KEY", "接收消息的 EncodingAESKey（43 个字符）"),
        Setting("CSBOT_WECOM_CORP_ID", "企业 ID（CorpID）"),
        Setting("CSBOT_WECOM_SECRET", "应用的 Secret"),
        Setting("CSBOT_WECOM_AGENT_ID", "应用的 AgentId"),
        Setting("CSBOT_WECOM_API_BASE", "API 地址（测试或代理用）", "optional", counts=False),
    )

    def __init__(self, values: Mapping[str, str], dev: bool = False) -> None:
        from bot.channels.outbound import TokenCache

        super().__init__(values, dev)
        try:
            self.crypt = WXBizMsgCrypt(self.get("CSBOT_WECOM_TOKEN"),
                                       self.get("CSBOT_WECOM_AES_KEY"),
                                       self.get("CSBOT_WECOM_CORP_ID"))
        except ValueError as exc:
            raise ConfigError(f"CSBOT_WECOM_AES_KEY 无效：{exc}") from None
        try:
            self.agent_id = int(self.get("CSBOT_WECOM_AGENT_ID"))
        except ValueError:
            raise ConfigError("CSBOT_WECOM_AGENT_ID 应为数字") from None
        self.tokens = TokenCache()

    # -- inbound ----------------------------------------------------------------------------

    def _decrypt(self, encrypt: str) -> bytes:
        try:
            return self.crypt.decrypt(encrypt)
        except CryptoError as exc:
            raise crypto_error(exc) from None

    def _receive(self, req: RawRequest, now: float) -> tuple[HttpReply, list[InboundEvent]]:
        q = req.query
        sig, ts, nonce = q.get("msg_signature", ""), q.get("timestamp", ""), q.get("nonce", "")
        if req.method.upper() == "GET":
            echostr = _fix_b64(q.get("echostr", ""))
            if not echostr:
                raise malformed("缺少 echostr")
            if not sig or not self.crypt.verify(sig, ts, nonce, echostr):
                raise bad_signature()
            check_window(ts, now, WINDOW)
            # the raw message, no quotes, BOM or newline
            return HttpReply(200, self._decrypt(echostr), "text/plain; charset=utf-8"), []
        encrypt = outer_encrypt(req.body)
        if not sig or not self.crypt.verify(sig, ts, nonce, encrypt):
            raise bad_signature()
        check_window(ts, now, WINDOW)
        if parse_xml(req.body).get("Encrypt", "") != encrypt:  # signed, and well-formed too
            raise malformed("Encrypt 不一致")
        msg = parse_xml(self._decrypt(encrypt))
        if msg.get("MsgType") != "text" or not msg.get("Content"):
            return HttpReply.text(""), []  # events, images, voice...: acknowledged, no turn
        user = msg.get("FromUserName", "")
        if not user or not msg.get("MsgId"):
            raise malformed("消息缺少 FromUserName 或 MsgId")
        event = InboundEvent(
            channel=self.name, chat_id=user, sender_id=user, text=msg["Content"],
            message_id=msg["MsgId"], time=epoch_to_datetime(msg.get("CreateTime")),
            reply_to={"touser": user},
        )
        return HttpReply.text(""), [event]

    # -- outbound ---------------------------------------------------------------------------

    def render(self, text: str, title: str | None = None) -> OutboundMessage:
        """A text message (shown in WeCom and in WeChat), at most 2048 UTF-8 bytes."""
        content = truncate(f"{title}\n{text}" if title else text, TEXT_LIMIT)
        return OutboundMessage(text=content,
                               payload={"msgtype": "text", "text": {"content": content}})

    async def _fetch_token(self, http: aiohttp.ClientSession) -> tuple[str, float]:
        from bot.channels.outbound import call_api, failure

        resp = await call_api(
            http, "GET", f"{self.api_base(API_BASE)}/cgi-bin/gettoken", platform=self.name,
            policy=self.retry, transient=lambda d: d.get("errcode") in _TRANSIENT,
            params={"corpid": self.get("CSBOT_WECOM_CORP_ID"),
                    "corpsecret": self.get("CSBOT_WECOM_SECRET")},
        )
        data: Any = resp.data or {}
        if resp.status != 200 or data.get("errcode", 0) != 0 or not data.get("access_token"):
            raise failure(self.name, data.get("errcode", f"http_{resp.status}"),
                          f"获取 access_token 失败：{data.get('errmsg', '')}", resp.status)
        return str(data["access_token"]), float(data.get("expires_in", 7200))

    async def deliver(self, http: aiohttp.ClientSession, event: InboundEvent,
                      msg: OutboundMessage) -> None:
        """``POST /cgi-bin/message/send?access_token=…`` to the user who wrote."""
        from bot.channels.outbound import call_api, failure

        body = {"touser": event.reply_to["touser"], "agentid": self.agent_id, **msg.payload,
                "safe": 0}
        for attempt in range(2):
            token = await self.tokens.get(lambda: self._fetch_token(http))
            resp = await call_api(
                http, "POST", f"{self.api_base(API_BASE)}/cgi-bin/message/send",
                platform=self.name, policy=self.retry, params={"access_token": token},
                json_body=body, transient=lambda d: d.get("errcode") in _TRANSIENT,
            )
            data: Any = resp.data or {}
            code = data.get("errcode", 0 if resp.status == 200 else f"http_{resp.status}")
            if code == 0:
                return
            if code in _TOKEN_ERRORS and attempt == 0:
                self.tokens.invalidate()
                continue
            raise failure(self.name, code, f"发送消息失败：{data.get('errmsg', '')}", resp.status)

    def probe(self, now: float) -> Probe:
        """The console's URL check: GET with an encrypted echostr, expecting it back."""
        echo = str(secrets.randbelow(10**18))
        ts, nonce = str(int(now)), str(secrets.randbelow(10**9))
        enc = self.crypt.encrypt(echo.encode())
        query = {"msg_signature": self.crypt.signature(ts, nonce, enc), "timestamp": ts,
                 "nonce": nonce, "echostr": enc}
        req = RawRequest("GET", f"/hooks/{self.name}", query, {}, b"")
        return Probe(req, "URL 校验（GET echostr）",
                     lambda status, body: status == 200 and body == echo.encode())
