"""The adapter contract shared by every chat platform: requests in, events out, replies back.

The server hands an adapter the raw request (``RawRequest``); the adapter verifies it,
decrypts it, answers URL handshakes and returns the HTTP answer plus the normalised
messages (``InboundEvent``). Later the pipeline renders a reply (``render``) and hands it
back to ``deliver``, which calls the platform's API. Nothing here touches the store.
"""

from __future__ import annotations

import json
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, Protocol

from pydantic import AfterValidator, BaseModel, Field, ValidationError

if TYPE_CHECKING:  # aiohttp is only needed by deliver(); keep importing this module cheap
    import aiohttp

    from bot.labels import Labels
    from bot.models import Suggestion

log = logging.getLogger("csbot.channels")

MAX_BODY = 256 * 1024
"""Default refusal size for a callback body; platform callbacks are a few KB."""


@dataclass(frozen=True)
class RawRequest:
    """What the server hands an adapter, before any parsing."""

    method: str
    path: str
    query: Mapping[str, str]  # already URL-decoded by the server
    headers: Mapping[str, str]  # keys lower-cased
    body: bytes  # raw bytes: signatures are over these, verify before parsing


@dataclass(frozen=True)
class HttpReply:
    """The HTTP answer the platform expects (ack, handshake echo, encrypted "success"...)."""

    status: int
    body: bytes
    content_type: str

    @classmethod
    def text(cls, text: str = "", status: int = 200) -> HttpReply:
        """A plain-text answer (WeCom echo, Slack challenge, empty ack)."""
        return cls(status, text.encode("utf-8"), "text/plain; charset=utf-8")

    @classmethod
    def json(cls, obj: Any, status: int = 200) -> HttpReply:
        """A JSON answer, UTF-8 without ASCII escaping."""
        body = json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return cls(status, body, "application/json; charset=utf-8")


# The longest ids stored with a channel's name before them (agent "dingtalk:<sender>" in a
# 100-character column, "<channel>:<message id>" in 200): longer ones are refused at the
# door, the same on SQLite and PostgreSQL, instead of overflowing a column.
MAX_SENDER_ID = 80
MAX_EVENT_ID = 180
MAX_TEXT = 4000
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e\u200e\u200f"))


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("不能包含 NUL 字符")
    return value


class InboundEvent(BaseModel):
    """One normalised chat message from a platform."""

    channel: str
    chat_id: Annotated[str, Field(min_length=1, max_length=MAX_EVENT_ID), AfterValidator(_no_nul)]
    sender_id: Annotated[str, Field(min_length=1, max_length=MAX_SENDER_ID), AfterValidator(_no_nul)]
    sender_name: Annotated[str, Field(max_length=100), AfterValidator(_no_nul)] = ""
    text: Annotated[str, Field(max_length=MAX_TEXT), AfterValidator(_no_nul)]
    message_id: Annotated[str, Field(min_length=1, max_length=MAX_EVENT_ID,
                                     description="the platform's dedupe key (MsgId, msgId, event_id...)"),
                          AfterValidator(_no_nul)]
    time: datetime
    reply_to: dict[str, str] = Field(default_factory=dict,
                                     description="whatever deliver() needs to answer")

    @property
    def conversation_key(self) -> str:
        """One open case per agent and chat: channel, chat and sender together."""
        return f"{self.channel}:{self.chat_id}:{self.sender_id}"


class OutboundMessage(BaseModel):
    """A rendered reply: the text (for logs and fallbacks) and the platform API body."""

    text: str
    payload: dict[str, Any]


class ChannelError(Exception):
    """A refused callback: forged, stale, malformed or oversized. Answered with ``status``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message

    def reply(self) -> HttpReply:
        """The error body of design.md: ``{"error": {"code", "message"}}``."""
        return HttpReply.json({"error": {"code": self.code, "message": self.message}},
                              status=self.status)


class ConfigError(Exception):
    """A channel is only partly configured; the message names the missing settings."""


class DeliveryError(Exception):
    """The platform refused or failed a reply; ``code`` is the platform's own error code."""

    def __init__(self, platform: str, code: str, message: str, status: int | None = None) -> None:
        super().__init__(f"{platform} {code}: {message}")
        self.platform = platform
        self.code = code
        self.message = message
        self.status = status


# -- errors every adapter raises the same way -----------------------------------------------

def bad_signature(what: str = "签名") -> ChannelError:
    """401: the signature, token or secret header does not match."""
    return ChannelError(401, "bad_signature", f"{what}校验失败")


def stale(now: float, ts: float) -> ChannelError:
    """401: the timestamp is outside the accepted window (a replay or a wrong clock)."""
    return ChannelError(401, "stale_timestamp",
                        f"请求时间戳已过期或无效（相差 {abs(now - ts):.0f} 秒）")


def malformed(detail: str) -> ChannelError:
    """400: the body or query cannot be parsed."""
    return ChannelError(400, "bad_request", f"请求格式错误：{detail}")


def check_window(raw_ts: str | None, now: float, window: float, *, millis: bool = False) -> float:
    """The timestamp as seconds, or ChannelError when missing, unparsable or outside ``window``."""
    if not raw_ts:
        raise ChannelError(401, "missing_timestamp", "缺少时间戳")
    digits = raw_ts.strip()
    # ASCII digits only, and no more than a millisecond clock has (int() takes "١٢" and
    # 400-digit numbers, and float() of those overflows)
    if not (digits.isascii() and digits.isdigit() and len(digits) <= 16):
        raise ChannelError(401, "bad_timestamp", "时间戳格式错误")
    ts = float(int(digits))
    if millis:
        ts /= 1000.0
    if abs(now - ts) > window:
        raise stale(now, ts)
    return ts


def epoch_to_datetime(value: str | int | float | None) -> datetime:
    """A platform time (seconds, milliseconds or microseconds) as an aware UTC datetime."""
    try:
        v = float(value) if value is not None else 0.0
    except (ValueError, TypeError, OverflowError):
        v = 0.0
    if v > 1e14:  # microseconds (seen in Feishu contact events)
        v /= 1e6
    elif v > 1e11:  # milliseconds (DingTalk, Feishu)
        v /= 1e3
    if not 0.0 <= v < 4e9:  # nan, inf, a year past 2096: no platform's time
        v = 0.0
    return datetime.fromtimestamp(v, tz=UTC)


def parse_json_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object, or ChannelError(400)."""
    from bot.server.errors import json_problem

    try:
        obj = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise malformed(json_problem(exc)) from None
    except (ValueError, RecursionError):  # 4,300-digit ints, deep nesting
        raise malformed("请求体中的数字太长或嵌套太深") from None
    if not isinstance(obj, dict):
        raise malformed("JSON 顶层应为对象")
    return obj


# -- text limits ----------------------------------------------------------------------------

TRUNCATED = "…（已截断）"
Unit = Literal["utf8", "utf16", "chars"]


def _measure(text: str, unit: Unit) -> int:
    if unit == "utf8":
        return len(text.encode("utf-8"))
    if unit == "utf16":
        return len(text.encode("utf-16-le")) // 2
    return len(text)


def truncate(text: str, limit: int, unit: Unit = "utf8") -> str:
    """``text`` cut to ``limit`` units (UTF-8 bytes by default), marked when cut."""
    if _measure(text, unit) <= limit:
        return text
    room = limit - _measure(TRUNCATED, unit)
    lo, hi = 0, len(text)
    while lo < hi:  # the longest prefix that fits; never splits a character
        mid = (lo + hi + 1) // 2
        if _measure(text[:mid], unit) <= room:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo] + TRUNCATED


# -- settings -------------------------------------------------------------------------------

Role = Literal["required", "secret", "optional"]


@dataclass(frozen=True)
class Setting:
    """One ``CSBOT_*`` setting of a channel.

    ``required``: the channel cannot work without it. ``secret``: verifies inbound requests;
    only a development start (``dev``) may leave it out. ``optional``: has a default.
    ``counts``: whether setting it alone means the channel is wanted (API bases do not).
    """

    env: str
    label: str
    role: Role = "required"
    counts: bool = True


@dataclass(frozen=True)
class Probe:
    """A sample request signed as the platform would send it, and how to judge the answer."""

    request: RawRequest
    description: str
    check: Callable[[int, bytes], bool]


class Memory(Protocol):
    """What an adapter may remember across requests, restarts and instances (the store)."""

    async def first_time(self, channel: str, message_id: str) -> bool: ...

    async def seen_event(self, channel: str, message_id: str) -> bool: ...


class Adapter(ABC):
    """One chat platform: verify and parse callbacks, render and deliver replies."""

    memory: Memory | None = None  # set by the service (bot/server/hooks.py)

    name: ClassVar[str]
    title: ClassVar[str]  # the platform's name for people, in Chinese
    settings: ClassVar[tuple[Setting, ...]]
    sync_reply: ClassVar[bool] = False  # True: the HTTP response itself carries the Suggestion
    max_body: ClassVar[int] = MAX_BODY
    methods: ClassVar[frozenset[str]] = frozenset({"POST"})

    def __init__(self, values: Mapping[str, str], dev: bool = False) -> None:
        from bot.channels.outbound import RetryPolicy

        self.values = dict(values)
        self.dev = dev
        self.retry = RetryPolicy()

    # -- settings ---------------------------------------------------------------------------

    @classmethod
    def from_settings(cls, env: Mapping[str, str], dev: bool = False) -> Adapter | None:
        """The adapter from ``CSBOT_*`` settings; None if none is set.

        Raises ConfigError naming what is missing when the channel is only partly set up,
        and when a verification secret is missing outside development mode.
        """
        got = {s.env: env[s.env].strip() for s in cls.settings if env.get(s.env, "").strip()}
        if not any(s.counts and s.env in got for s in cls.settings):
            return None
        missing = [s for s in cls.settings if s.role == "required" and s.env not in got]
        secrets = [s for s in cls.settings if s.role == "secret" and s.env not in got]
        if missing or (secrets and not dev):
            names = "、".join(f"{s.env}（{s.label}）" for s in missing + secrets)
            hint = "" if missing else "；开发调试时可加 --dev 跳过签名校验"
            raise ConfigError(f"{cls.title}渠道配置不完整，缺少：{names}{hint}")
        if secrets:
            log.warning("开发模式：%s 未设置 %s，不校验来源", cls.title,
                        "、".join(s.env for s in secrets))
        return cls(got, dev)

    @classmethod
    def describe(cls, env: Mapping[str, str]) -> list[tuple[Setting, bool]]:
        """Each setting of the channel and whether it is set (values never shown)."""
        return [(s, bool(env.get(s.env, "").strip())) for s in cls.settings]

    def get(self, env: str, default: str = "") -> str:
        """A configured value, or ``default``."""
        return self.values.get(env, default)

    # -- inbound ----------------------------------------------------------------------------

    def receive(self, req: RawRequest, now: float) -> tuple[HttpReply, list[InboundEvent]]:
        """Verify, decrypt and parse one callback; ChannelError (logged) when refused."""
        try:
            if req.method.upper() not in self.methods:
                raise ChannelError(405, "method_not_allowed", f"不支持的请求方法 {req.method}")
            if len(req.body) > self.max_body:
                raise ChannelError(413, "too_large",
                                   f"请求体过大（{len(req.body)} 字节，上限 {self.max_body}）")
            try:
                reply, events = self._receive(req, now)
            except ValidationError as exc:  # an event's field: NUL, too long, missing
                where = "、".join(".".join(map(str, e["loc"])) for e in exc.errors()[:3])
                raise malformed(f"字段无效：{where}") from None
            except (UnicodeError, OverflowError, RecursionError):
                # bytes in a header or field that are not text (a signature of "\xff")
                raise malformed("请求头或字段中有无效字符") from None
            # A text of only whitespace and zero-width characters is no message: no turn.
            return reply, [e for e in events if e.text.translate(_INVISIBLE).strip()]
        except ChannelError as exc:
            log.warning("channel=%s refused status=%d code=%s: %s",
                        self.name, exc.status, exc.code, exc.message)
            raise

    @abstractmethod
    def _receive(self, req: RawRequest, now: float) -> tuple[HttpReply, list[InboundEvent]]:
        """The platform-specific part of ``receive`` (method and size already checked)."""

    # -- outbound ---------------------------------------------------------------------------

    @abstractmethod
    def render(self, text: str, title: str | None = None) -> OutboundMessage:
        """The reply in the platform's format, within its size limits."""

    def render_suggestion(self, sug: Suggestion, labels: Labels) -> OutboundMessage:
        """A Suggestion rendered for this platform (one Suggestion, one message), with the
        Chinese names of the engine's ``labels``."""
        from bot.channels.format import format_suggestion

        title, text = format_suggestion(sug, labels, self.text_style)
        return self.render(text, title)

    text_style: ClassVar[Literal["plain", "markdown", "slack"]] = "plain"

    @abstractmethod
    async def deliver(self, http: aiohttp.ClientSession, event: InboundEvent,
                      msg: OutboundMessage) -> None:
        """Send ``msg`` in answer to ``event`` through the platform's API."""

    @abstractmethod
    def probe(self, now: float) -> Probe:
        """A harmless sample request, signed as the platform would, for ``channels check``."""

    def api_base(self, default: str) -> str:
        """The platform API base URL, overridable by ``CSBOT_<PLATFORM>_API_BASE``."""
        return self.get(f"CSBOT_{self.name.upper()}_API_BASE", default).rstrip("/")
