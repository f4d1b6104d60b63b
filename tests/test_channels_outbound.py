"""The outbound helper: retries and backoff, Retry-After, errors counted, the token cache."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest
from test_channels_support import FAST, FakeApi, serve, session

from bot.channels.base import DeliveryError
from bot.channels.outbound import (
    RetryPolicy,
    TokenCache,
    call_api,
    delivery_error_counts,
    failure,
)


def test_backoff_doubles_and_is_capped() -> None:
    p = RetryPolicy(base_delay=0.5, max_delay=3.0)
    assert [p.delay(i) for i in range(4)] == [0.5, 1.0, 2.0, 3.0]
    assert p.delay(0, hinted=2.5) == 2.5  # the platform's Retry-After wins...
    assert p.delay(0, hinted=60) == 3.0  # ...within the cap


@pytest.mark.asyncio
async def test_4xx_is_returned_not_retried(aiohttp_server: Any) -> None:
    fake = FakeApi()
    fake.on("POST", "/x", (403, {"code": 1}))
    base = await serve(aiohttp_server, fake)
    async with session() as http:
        resp = await call_api(http, "POST", f"{base}/x", platform="t", policy=FAST,
                              json_body={"a": "中文"})
    assert (resp.status, resp.data) == (403, {"code": 1})
    assert fake.calls[0].body == '{"a":"中文"}'.encode()  # compact UTF-8, no ASCII escapes


@pytest.mark.asyncio
async def test_5xx_exhausts_attempts(aiohttp_server: Any) -> None:
    fake = FakeApi()
    fake.on("GET", "/x", (503, {}))
    base = await serve(aiohttp_server, fake)
    before = delivery_error_counts().get(("t5", "http_503"), 0)
    async with session() as http:
        with pytest.raises(DeliveryError) as exc:
            await call_api(http, "GET", f"{base}/x", platform="t5", policy=FAST)
    assert (exc.value.code, exc.value.status) == ("http_503", 503)
    assert len(fake.calls) == FAST.attempts
    assert delivery_error_counts()[("t5", "http_503")] == before + 1


@pytest.mark.asyncio
async def test_network_errors_are_retried() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    async with session() as http:
        with pytest.raises(DeliveryError) as exc:
            await call_api(http, "GET", f"http://127.0.0.1:{port}/x", platform="t", policy=FAST)
    assert exc.value.code == "network"


@pytest.mark.asyncio
async def test_timeout_is_a_network_error(aiohttp_server: Any) -> None:
    from aiohttp import web

    async def slow(_req: web.Request) -> web.Response:
        await asyncio.sleep(1)
        return web.Response()

    app = web.Application()
    app.router.add_get("/slow", slow)
    server = await aiohttp_server(app)
    policy = RetryPolicy(attempts=2, base_delay=0, timeout=0.05)
    async with session() as http:
        with pytest.raises(DeliveryError) as exc:
            await call_api(http, "GET", str(server.make_url("/slow")), platform="t", policy=policy)
    assert exc.value.code == "network"


@pytest.mark.asyncio
async def test_transient_platform_codes_are_retried(aiohttp_server: Any) -> None:
    fake = FakeApi()
    fake.on("POST", "/x", (200, {"errcode": -1}), (200, {"errcode": 0}))
    base = await serve(aiohttp_server, fake)
    async with session() as http:
        resp = await call_api(http, "POST", f"{base}/x", platform="t", policy=FAST,
                              transient=lambda d: d.get("errcode") == -1)
    assert resp.data == {"errcode": 0} and len(fake.calls) == 2


def test_failure_is_counted() -> None:
    before = delivery_error_counts().get(("tf", "42"), 0)
    err = failure("tf", 42, "坏了", 200)
    assert (err.platform, err.code, err.status) == ("tf", "42", 200)
    assert delivery_error_counts()[("tf", "42")] == before + 1


@pytest.mark.asyncio
async def test_token_cache_fetches_once_for_concurrent_callers() -> None:
    cache = TokenCache()
    calls = 0

    async def fetch() -> tuple[str, float]:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        return f"tok{calls}", 7200.0

    tokens = await asyncio.gather(*(cache.get(fetch) for _ in range(10)))
    assert set(tokens) == {"tok1"} and calls == 1 == cache.fetches


@pytest.mark.asyncio
async def test_token_cache_refreshes_before_expiry() -> None:
    now = [1000.0]
    cache = TokenCache(clock=lambda: now[0], margin=300)
    n = 0

    async def fetch() -> tuple[str, float]:
        nonlocal n
        n += 1
        return f"t{n}", 7200.0

    assert await cache.get(fetch) == "t1"
    now[0] += 7200 - 301  # still valid with the margin
    assert await cache.get(fetch) == "t1"
    now[0] += 2  # within five minutes of expiry: refreshed early
    assert await cache.get(fetch) == "t2"
    cache.invalidate()
    assert await cache.get(fetch) == "t3"


@pytest.mark.asyncio
async def test_short_lived_tokens_refresh_at_half_life() -> None:
    now = [0.0]
    cache = TokenCache(clock=lambda: now[0], margin=300)

    async def fetch() -> tuple[str, float]:
        return str(now[0]), 100.0

    assert await cache.get(fetch) == "0.0"
    now[0] = 49
    assert await cache.get(fetch) == "0.0"
    now[0] = 51
    assert await cache.get(fetch) == "51"
