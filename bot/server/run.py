"""Serving the app on a port: aiohttp's ``run_app``, with one difference. A request that
aiohttp cannot even parse (a raw Chinese character in the address, a broken request line,
header or chunk) never reaches the middlewares; aiohttp answers it with English plain text
and logs a traceback. Here it gets the API's error shape in Chinese and one log line.

aiohttp has no setting for this (aio-libs/aiohttp#3287): the connection's ``handle_error`` is
the documented place, so the runner's server makes connections of a subclass."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import http_exceptions as hx
from aiohttp import web
from aiohttp.web_request import BaseRequest

from bot.server.errors import error_response

log = logging.getLogger("csbot.server")

# What is wrong, most specific first (BadHttpMethod is a BadStatusLine, all are BadHttpMessage).
_PROBLEMS: tuple[tuple[type[hx.HttpProcessingError], str, str], ...] = (
    (hx.InvalidURLError, "bad_url",
     "请求地址中有未编码的字符：中文、空格等要先按 UTF-8 做百分号编码（如“本店”写成 %E6%9C%AC%E5%BA%97）"),
    (hx.BadHttpMethod, "bad_method", "不是 HTTP 请求（请求方法不认识；HTTPS 请求发到了 HTTP 端口？）"),
    (hx.BadStatusLine, "bad_request_line", "请求行格式不对（应为：方法 地址 HTTP/1.1）"),
    (hx.LineTooLong, "too_long", "请求行或请求头太长（每行最多 8190 字节）"),
)
# The C parser tells a bad header, Content-Length or chunk only as a BadHttpMessage.
_OTHER = ("bad_http", "HTTP 请求格式不对，无法解析（请求头、Content-Length 或分块编码有误）")


class _Connection(web.RequestHandler):
    def handle_error(self, request: BaseRequest, status: int = 500, exc: BaseException | None = None,
                     message: str | None = None) -> web.StreamResponse:
        if not isinstance(exc, hx.HttpProcessingError) or not 400 <= status < 500:
            return super().handle_error(request, status, exc, message)  # a 500: aiohttp's own way
        if request.writer.output_size > 0:  # as aiohttp: a response already started cannot change
            raise ConnectionError("response already sent")
        code, said = next(((c, s) for kind, c, s in _PROBLEMS if isinstance(exc, kind)), _OTHER)
        # Nothing of the request itself in the log: its bytes are what could not be parsed.
        log.warning("refused an unparsable request: %d %s (%s)", status, code, type(exc).__name__)
        response = error_response(status, code, said)
        response.headers["Server"] = "csbot"  # as every other answer (app.py's server_header)
        response.force_close()  # the rest of the stream cannot be trusted either
        return response


class _Server(web.Server):
    def __call__(self) -> web.RequestHandler:
        return _Connection(self, loop=self._loop, **self._kwargs)


class _Runner(web.AppRunner):
    async def _make_server(self) -> web.Server:
        made = await super()._make_server()
        made.__class__ = _Server  # the same server (no state of its own added), other connections
        return made


def serve_forever(app: Awaitable[web.Application], *, host: str, port: int, ready: Callable[[], None],
                  **options: Any) -> None:
    """Serve until SIGINT or SIGTERM, then shut down gracefully (``options``: AppRunner's,
    e.g. shutdown_timeout, keepalive_timeout, access_log). Start-up errors propagate."""
    async def run() -> None:
        runner = _Runner(await app, handle_signals=True, **options)
        await runner.setup()
        try:
            await web.TCPSite(runner, host, port).start()
            ready()
            await asyncio.Event().wait()  # until a signal raises GracefulExit
        finally:
            await runner.cleanup()  # in-flight requests finish first (shutdown_timeout)

    loop = asyncio.new_event_loop()
    main = loop.create_task(run())
    try:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(main)
    except (web.GracefulExit, KeyboardInterrupt):
        pass
    finally:
        # As run_app: the main task's cleanup runs before the remaining tasks are cancelled,
        # so requests in flight are drained, not cut.
        if not main.done():
            main.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                loop.run_until_complete(main)
        rest = asyncio.all_tasks(loop)
        for task in rest:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*rest, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
