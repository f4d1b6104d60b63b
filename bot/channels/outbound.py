"""Calling platform APIs: one shared session, timeouts, retries with backoff, a token cache.

Retried: network errors, timeouts, HTTP 5xx and 429, and whatever a platform marks as
transient in its JSON (WeCom ``-1`` system busy, Feishu rate limits...). Not retried:
other 4xx. Platform error codes become a DeliveryError, logged and counted.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from yarl import URL

from bot.channels.base import DeliveryError

log = logging.getLogger("csbot.channels.outbound")

_errors: Counter[tuple[str, str]] = Counter()


def delivery_error_counts() -> dict[tuple[str, str], int]:
    """(platform, code) → how many deliveries failed with it, for the metrics endpoint."""
    return dict(_errors)


def failure(platform: str, code: object, message: str, status: int | None = None) -> DeliveryError:
    """A DeliveryError for a platform error code, logged and counted."""
    err = DeliveryError(platform, str(code), message, status)
    _errors[(platform, err.code)] += 1
    log.error("delivery failed platform=%s code=%s status=%s: %s", platform, err.code, status,
              message)
    return err


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: attempts in all, exponential backoff, per-request timeout (seconds)."""

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 8.0
    timeout: float = 10.0

    def delay(self, attempt: int, hinted: float | None = None) -> float:
        """Wait before retry ``attempt`` (0-based); a platform's Retry-After wins, capped."""
        wait = self.base_delay * float(1 << attempt)
        if hinted is not None:
            wait = max(wait, hinted)
        return min(wait, self.max_delay)


@dataclass(frozen=True)
class ApiResponse:
    """A platform's final answer: HTTP status and the JSON body (None if it was not JSON)."""

    status: int
    data: Any


def _retry_after(headers: Mapping[str, str], data: Any) -> float | None:
    value = headers.get("Retry-After")
    if value is None and isinstance(data, dict):  # Telegram puts it in the body
        params = data.get("parameters")
        value = params.get("retry_after") if isinstance(params, dict) else None
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


async def call_api(
    http: aiohttp.ClientSession,
    method: str,
    url: str | URL,
    *,
    platform: str,
    policy: RetryPolicy,
    params: Mapping[str, str] | None = None,
    json_body: Any = None,
    data: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    transient: Callable[[Any], bool] | None = None,
) -> ApiResponse:
    """One API call with retries; the final non-retryable answer, or DeliveryError.

    ``json_body`` is sent as compact UTF-8 JSON; ``data`` as given (for signed bodies).
    """
    hdrs = dict(headers or {})
    if json_body is not None:
        data = json.dumps(json_body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    if data is not None:
        hdrs.setdefault("Content-Type", "application/json; charset=utf-8")
    timeout = aiohttp.ClientTimeout(total=policy.timeout)
    # log the host only: paths and queries may carry tokens (Telegram's /bot<token>/)
    where = URL(url).host if isinstance(url, str) else url.host
    last: tuple[str, str, int | None] = ("network", "未发出请求", None)
    for attempt in range(max(policy.attempts, 1)):
        hinted: float | None = None
        try:
            async with http.request(method, url, params=params, data=data, headers=hdrs,
                                    timeout=timeout) as resp:
                raw = await resp.read()
                status = resp.status
                try:
                    body: Any = json.loads(raw) if raw else None
                except (ValueError, UnicodeDecodeError):
                    body = None
                hinted = _retry_after(resp.headers, body)
        except (aiohttp.ClientError, TimeoutError) as exc:
            last = ("network", f"网络错误：{type(exc).__name__} {where}", None)
        else:
            busy = transient is not None and body is not None and transient(body)
            if status < 500 and status != 429 and not busy:
                return ApiResponse(status, body)
            last = (f"http_{status}" if not busy else "transient",
                    f"平台暂时不可用（HTTP {status}）{where}", status)
        if attempt + 1 < policy.attempts:
            wait = policy.delay(attempt, hinted)
            log.warning("retrying platform=%s after %s (attempt %d, wait %.1fs)",
                        platform, last[0], attempt + 1, wait)
            await asyncio.sleep(wait)
    raise failure(platform, last[0], last[1], last[2])


class TokenCache:
    """An access token kept until shortly before it expires; one fetch for concurrent callers."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, margin: float = 300.0) -> None:
        self._clock = clock
        self._margin = margin
        self._token: str | None = None
        self._expires = 0.0
        self._lock = asyncio.Lock()
        self.fetches = 0

    def _valid(self) -> bool:
        return self._token is not None and self._clock() < self._expires

    async def get(self, fetch: Callable[[], Awaitable[tuple[str, float]]]) -> str:
        """The cached token, or a fresh one from ``fetch() -> (token, seconds valid)``."""
        if self._valid():
            assert self._token is not None
            return self._token
        async with self._lock:
            if not self._valid():
                token, ttl = await fetch()
                self.fetches += 1
                # refresh early: never hand out a token about to expire mid-request
                early = min(self._margin, ttl / 2)
                self._token, self._expires = token, self._clock() + ttl - early
            assert self._token is not None
            return self._token

    def invalidate(self) -> None:
        """Forget the token (the platform said it is invalid or expired)."""
        self._token = None
        self._expires = 0.0
