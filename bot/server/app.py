"""The aiohttp application: conversations, messages, WebSocket pushes, lint, sidebar, health, metrics, docs."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import logging
import os
import re
import time
from collections.abc import AsyncIterator, Mapping
from datetime import date
from typing import Any

from aiohttp import WSMsgType, web

from bot.engine import Engine
from bot.models import Case, Suggestion
from bot.server import escalation, openapi, sidebar
from bot.server.api import (
    CloseIn,
    ConversationDetail,
    ConversationList,
    ConversationOut,
    CorrectionIn,
    CreateConversation,
    LintIn,
    LintOut,
    MessageIn,
)
from bot.server.errors import MAX_BODY_KEY, ApiError, errors, read_model
from bot.server.metrics import Metrics
from bot.service.turns import TurnService, shop_clock
from bot.settings import Settings
from bot.store.db import Store, TokenInfo, hash_token

log = logging.getLogger("csbot.server")

STORE: web.AppKey[Store] = web.AppKey("store", Store)
TURNS: web.AppKey[TurnService] = web.AppKey("turns", TurnService)
METRICS: web.AppKey[Metrics] = web.AppKey("metrics", Metrics)
HOOKS: web.AppKey[Any] = web.AppKey("hooks")
TOKEN: web.RequestKey[TokenInfo] = web.RequestKey("token", TokenInfo)
TOKEN_HASH: web.RequestKey[str] = web.RequestKey("token_hash", str)
_TOKEN_CHARS = re.compile(r"[\x21-\x7e]{1,512}")
ALL_SHOPS = "*"  # an admin token's shop when it sees every shop (`csbot token add --shop '*'`)
STATIC_TOKENS: web.AppKey[dict[str, TokenInfo]] = web.AppKey("static_tokens", dict)
# /sidebar is public like /docs: the page holds no data, the API calls it makes carry the token.
_PUBLIC = ("/healthz", "/metrics", "/docs", "/sidebar", "/api/v1/openapi.json", "/hooks/")
_WS_ROUTE = "/api/v1/conversations/{id}/ws"
# A token name `csbot token add` made up (agent-3fa2c1) is not a person's name.
_AUTO_NAME = re.compile(r"(agent|admin)-[0-9a-f]{6}")
# A browser cannot set an Authorization header on a WebSocket, so the watch route also takes
# the token as a subprotocol: the page offers ["csbot", "bearer.<token>"] and the server
# answers "csbot". Chosen over a ?token= query parameter because a query string lands in
# access logs (aiohttp's %r), proxy logs and browser history; the header lands in none.
WS_PROTOCOL = "csbot"
WS_BEARER = "bearer."
MAX_BODY = 64 * 1024


WATCH_QUEUE = 256  # turns waiting for one socket; a watcher further behind is dropped
WATCH_SEND_TIMEOUT = 10.0  # seconds one push may wait for a socket that reads nothing


class Watcher:
    """One WebSocket listening to a conversation: its own bounded queue and sender task, so a
    watcher that stops reading never holds up the turns it is sent (nor anyone else's)."""

    def __init__(self, ws: web.WebSocketResponse, token_hash: str, transport: Any) -> None:
        self.ws, self.token_hash, self.transport = ws, token_hash, transport
        self.queue: asyncio.Queue[str] = asyncio.Queue(maxsize=WATCH_QUEUE)
        self.task = asyncio.get_running_loop().create_task(self._send())

    async def _send(self) -> None:
        while True:
            data = await self.queue.get()
            try:
                await asyncio.wait_for(self.ws.send_str(data), WATCH_SEND_TIMEOUT)
            except asyncio.CancelledError:
                raise
            except Exception:  # gone, or not reading: it gets no more turns
                self.drop(1008, "连接过慢，已断开")
                return

    def offer(self, data: str) -> None:
        try:
            self.queue.put_nowait(data)
        except asyncio.QueueFull:
            log.warning("websocket watcher dropped: %d turns unread", self.queue.qsize())
            self.drop(1008, "连接过慢，已断开")

    def drop(self, code: int, reason: str) -> None:
        """Close the socket (its handler then removes it); cut it when it cannot be told."""
        if not self.task.done() and self.task is not asyncio.current_task():
            self.task.cancel()

        async def close() -> None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(self.ws.close(code=code, message=reason.encode()), 2)
            if self.transport is not None and not self.transport.is_closing():
                self.transport.abort()

        task = asyncio.get_running_loop().create_task(close())
        _BACKGROUND.add(task)
        task.add_done_callback(_BACKGROUND.discard)


_BACKGROUND: set[asyncio.Task[None]] = set()


class Hub:
    """WebSockets listening to each conversation in this process."""

    def __init__(self) -> None:
        self.sockets: dict[str, dict[web.WebSocketResponse, Watcher]] = {}

    def add(self, conv_id: str, ws: web.WebSocketResponse, token_hash: str = "",
            transport: Any = None) -> None:
        self.sockets.setdefault(conv_id, {})[ws] = Watcher(ws, token_hash, transport)

    def remove(self, conv_id: str, ws: web.WebSocketResponse) -> None:
        group = self.sockets.get(conv_id)
        if group is not None:
            watcher = group.pop(ws, None)
            if watcher is not None:
                watcher.task.cancel()
            if not group:
                del self.sockets[conv_id]

    def watchers(self) -> list[Watcher]:
        return [w for group in self.sockets.values() for w in group.values()]

    async def publish(self, conv_id: str, sug: Suggestion) -> None:
        """Offer a committed turn's Suggestion to the conversation's sockets (never waits)."""
        group = self.sockets.get(conv_id)
        if not group:
            return
        data = sug.model_dump_json()
        for ws, watcher in list(group.items()):
            if not ws.closed:
                watcher.offer(data)

    async def close_all(self) -> None:
        for group in list(self.sockets.values()):
            for ws, watcher in list(group.items()):
                watcher.task.cancel()
                try:  # a watcher that reads nothing does not hold up the shutdown
                    await asyncio.wait_for(ws.close(code=1001, message="服务器正在关闭".encode()), 2)
                except Exception:  # TimeoutError included
                    if watcher.transport is not None:
                        watcher.transport.abort()

    async def check_tokens(self, store: Store, static: dict[str, TokenInfo]) -> int:
        """Close the sockets whose token was revoked; how many were closed."""
        watchers = [w for w in self.watchers() if w.token_hash and w.token_hash not in static]
        if not watchers:
            return 0
        live = await store.live_token_hashes({w.token_hash for w in watchers})
        gone = [w for w in watchers if w.token_hash not in live]
        for w in gone:
            w.drop(1008, "令牌已被吊销")
        return len(gone)


HUB: web.AppKey[Hub] = web.AppKey("hub", Hub)


@web.middleware
async def auth(request: web.Request, handler: Any) -> web.StreamResponse:
    if request.path.startswith(_PUBLIC) or request.path in ("/", "/favicon.ico"):
        return await handler(request)  # type: ignore[no-any-return]
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header.startswith("Bearer ") else ""
    if not header and request.match_info.route.resource is not None \
            and request.match_info.route.resource.canonical == _WS_ROUTE:
        token = _protocol_token(request)
    if not token:
        raise ApiError(401, "unauthorized", "缺少令牌：请求头要带 Authorization: Bearer 令牌")
    if not _TOKEN_CHARS.fullmatch(token):  # a token is printable ASCII: anything else is no token
        raise ApiError(401, "unauthorized", "令牌无效或已被吊销")
    digest = hash_token(token)
    info = request.app[STATIC_TOKENS].get(digest) or await request.app[STORE].token(token, digest)
    if info is None:
        raise ApiError(401, "unauthorized", "令牌无效或已被吊销")
    request[TOKEN] = info
    request[TOKEN_HASH] = digest
    return await handler(request)  # type: ignore[no-any-return]


def _protocol_token(request: web.Request) -> str:
    """The token a browser offers as the subprotocol ``bearer.<token>`` ("" if none)."""
    for item in request.headers.get("Sec-WebSocket-Protocol", "").split(","):
        item = item.strip()
        if item.startswith(WS_BEARER):
            return item[len(WS_BEARER):]
    return ""


def _scope(request: web.Request) -> str | None:
    """The shop a token is limited to; None for an admin of every shop (shop "*"). An admin
    token made for one shop manages that shop only."""
    info = request[TOKEN]
    return None if info.role == "admin" and info.shop == ALL_SHOPS else info.shop


def _dump(model: Any, status: int = 200) -> web.Response:
    return web.Response(text=model.model_dump_json(), status=status, content_type="application/json")


async def create_conversation(request: web.Request) -> web.Response:
    body = await read_model(request, CreateConversation)
    scope = _scope(request)
    if scope is not None and body.shop != scope:
        raise ApiError(403, "forbidden", "只能为自己的店铺新建会话")
    info = request[TOKEN]
    store = request.app[STORE]
    case = Case.model_validate(body.model_dump(exclude={"tone"}))
    # The case's agent is the token's (its name), unless an admin names another one.
    if info.role != "admin" and case.agent is not None and case.agent != info.name:
        raise ApiError(403, "forbidden", "只有管理员可以把案例指派给其他客服")
    agent = (case.agent or info.name) if info.role == "admin" else info.name
    if case.agent is None and info.role == "agent" and not _AUTO_NAME.fullmatch(info.name):
        case = case.model_copy(update={"agent": info.name[:50]})  # the token's agent signs
    conv, sug, created = await request.app[TURNS].create(case, body.tone, agent=agent)
    summary, _ = await store.get(conv.id)
    return _dump(ConversationOut(conversation=summary, suggestion=sug), 201 if created else 200)


def _query_date(request: web.Request, name: str) -> date | None:
    raw = request.query.get(name)
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise ApiError(422, "invalid", f"{name}：日期格式应为 YYYY-MM-DD") from exc


def _query_int(request: web.Request, name: str, default: int, lo: int, hi: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ApiError(422, "invalid", f"{name}：应为整数") from exc
    if not lo <= value <= hi:
        raise ApiError(422, "invalid", f"{name}：应在 {lo} 到 {hi} 之间")
    return value


def _query_label(request: web.Request, kind: str) -> str | None:
    """A stage or outcome filter as its id, given as the id or the Chinese name: one that
    names nothing is refused (a misspelt stage answered an empty list, read as a fact)."""
    value = request.query.get(kind)
    if value is None:
        return None
    try:
        return request.app[TURNS].engine.labels.code(kind, value)
    except ValueError as exc:
        raise ApiError(422, "invalid", f"{kind}：{exc}") from None


async def list_conversations(request: web.Request) -> web.Response:
    known = {"stage", "outcome", "agent", "since", "until", "limit", "offset"}
    unknown = set(request.query) - known
    if unknown:
        raise ApiError(422, "invalid", f"不认识的查询参数：{'、'.join(sorted(unknown))}")
    limit = _query_int(request, "limit", 50, 1, 200)
    offset = _query_int(request, "offset", 0, 0, 10**9)
    total, items = await request.app[STORE].find(
        shop=_scope(request), stage=_query_label(request, "stage"),
        outcome=_query_label(request, "outcome"), agent=request.query.get("agent"),
        since=_query_date(request, "since"), until=_query_date(request, "until"),
        limit=limit, offset=offset)
    return _dump(ConversationList(total=total, limit=limit, offset=offset, items=items))


async def get_conversation(request: web.Request) -> web.Response:
    summary, turns = await request.app[STORE].get(request.match_info["id"], _scope(request))
    current = await request.app[TURNS].current_of(summary.conversation)  # the state just read
    return _dump(ConversationDetail(conversation=summary, turns=turns, current=current))


async def post_message(request: web.Request) -> web.Response:
    body = await read_model(request, MessageIn)
    conv_id = request.match_info["id"]
    metrics = request.app[METRICS]
    started = time.perf_counter()
    done = await request.app[TURNS].turn(
        conv_id, body.role, body.text, message_id=body.message_id, shop=_scope(request))
    if done.duplicate:
        metrics.duplicates.inc()
        return _dump(done.suggestion)
    metrics.latency.observe(time.perf_counter() - started)
    metrics.turn(body.role)
    for finding in done.suggestion.warnings:
        if finding.span is not None:
            metrics.finding(finding.code, finding.severity)
    if done.json is not None:  # already encoded for the database
        return web.Response(body=done.json, content_type="application/json", charset="utf-8")
    return _dump(done.suggestion)


async def close_conversation(request: web.Request) -> web.Response:
    store = request.app[STORE]
    body = await read_model(request, CloseIn, {"labels": request.app[TURNS].engine.labels})
    conv_id = request.match_info["id"]
    info = request[TOKEN]
    before, history = await store.get(conv_id, _scope(request))
    if not before.open and info.role != "admin" and before.agent not in (None, info.name):
        raise ApiError(403, "forbidden", "这个会话已经结束：只有负责它的客服或管理员可以登记结果")
    await request.app[TURNS].close_case(conv_id, body.outcome, _scope(request))
    # Closing is not a turn: the newest Suggestion is the one just read (its opening one
    # before any turn); the summary is read again for what the close stored.
    last = history[-1].suggestion if history else await request.app[TURNS].last_suggestion(conv_id)
    summary, _ = await store.get(conv_id)
    return _dump(ConversationOut(conversation=summary, suggestion=last))


async def correct_conversation(request: web.Request) -> web.Response:
    """An agent corrects how a buyer message was read, or the stage (issue 13.6)."""
    from bot.store.corrections import correct

    body = await read_model(request, CorrectionIn)
    try:
        sug = await correct(request.app[STORE], request.app[TURNS].engine, request.match_info["id"], turn=body.turn,
                            intent=body.intent, cause=body.cause, stage=body.stage,
                            shop=_scope(request), agent=request[TOKEN].name)
    except ValueError as exc:
        raise ApiError(422, "invalid", str(exc)) from exc
    return _dump(sug)


async def watch(request: web.Request) -> web.StreamResponse:
    conv_id = request.match_info["id"]
    await request.app[STORE].get(conv_id, _scope(request))  # 404 / 403 before the upgrade
    # Answering "csbot" (never the bearer item) is what a browser that offered it requires.
    ws = web.WebSocketResponse(heartbeat=30, protocols=(WS_PROTOCOL,))
    await ws.prepare(request)
    hub = request.app[HUB]
    hub.add(conv_id, ws, request.get(TOKEN_HASH, ""), request.transport)
    try:
        async for msg in ws:
            if msg.type == WSMsgType.ERROR:
                break
    finally:
        hub.remove(conv_id, ws)
    return ws


async def lint(request: web.Request) -> web.Response:
    """The guard's findings on a draft, so the sidebar can warn before the agent sends it.

    Nothing is stored or counted: the finding metrics count what agents said, not drafts.
    """
    body = await read_model(request, LintIn)
    store = request.app[STORE]
    context: list[str] = []
    stage: str | None = None
    name: str | None = None
    if body.conversation_id is not None:
        summary, turns = await store.get(body.conversation_id, _scope(request))
        context = [t.text for t in turns if t.role == "agent"]
        stage = summary.stage
        name = summary.case.get("buyer_name") if body.public else None
    return _dump(LintOut(findings=await request.app[TURNS].lint(body.text, context, stage, public=body.public,
                                                                 buyer_name=name)))


async def healthz(request: web.Request) -> web.Response:
    try:
        await request.app[STORE].ping()
    except Exception:
        log.exception("health check failed")
        return web.json_response({"status": "error", "database": "unreachable"}, status=503)
    return web.json_response({"status": "ok", "database": "ok"})


async def metrics_view(request: web.Request) -> web.Response:
    m = request.app[METRICS]
    m.open.set(await request.app[STORE].count_open())
    return web.Response(body=m.render(), content_type="text/plain", charset="utf-8")


async def openapi_json(_: web.Request) -> web.Response:
    return web.Response(text=json.dumps(openapi.build(), ensure_ascii=False),
                        content_type="application/json")


async def docs(_: web.Request) -> web.Response:
    page = openapi.docs_html()
    return web.Response(text=page, content_type="text/html",
                        headers={**_SIDEBAR_HEADERS, "Content-Security-Policy": page_csp(page)})


# The sidebar runs only its own inline code and talks only to this server. Its scripts are
# allowed by their SHA-256 (computed from the page as served), not by 'unsafe-inline': an
# injected <script> runs nowhere. No other site may frame it (clickjacking).
_SIDEBAR_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
    "X-Frame-Options": "DENY",
}
_INLINE_SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.S | re.I)
_CSP_CACHE: dict[str, str] = {}


def page_csp(page: str) -> str:
    """The Content-Security-Policy of a page of ours: its inline scripts by hash, nothing else."""
    csp = _CSP_CACHE.get(page)
    if csp is None:
        hashes = sorted({"'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
                         for attrs, body in _INLINE_SCRIPT.findall(page)
                         if "application/json" not in attrs.lower()})
        csp = (f"default-src 'none'; script-src {' '.join(hashes) or chr(39) + 'none' + chr(39)}; "
               "style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; "
               "form-action 'none'; frame-ancestors 'none'")
        if len(_CSP_CACHE) < 16:  # one page per data folder: a handful at most
            _CSP_CACHE[page] = csp
    return csp


async def sidebar_page(request: web.Request) -> web.Response:
    engine = request.app[TURNS].engine
    page = sidebar.with_script(sidebar.page(engine.labels), engine.script)
    return web.Response(text=page, content_type="text/html",
                        headers={**_SIDEBAR_HEADERS, "Content-Security-Policy": page_csp(page)})


def static_tokens(spec: str | None) -> dict[str, TokenInfo]:
    """Tokens from settings (CSBOT_TOKENS): a JSON list of {name, role, shop, sha256}."""
    if not spec:
        return {}
    return {t["sha256"]: TokenInfo(t["name"], t["role"], t["shop"]) for t in json.loads(spec)}


def make_app(
    store: Store, engine: Engine, *, tokens: str | None = None, max_body: int = MAX_BODY, dev: bool = False,
    env: Mapping[str, str] | None = None, shop: str = "本店", timezone: str = "Asia/Shanghai",
    settings: Settings | None = None,
) -> web.Application:
    """The application over an opened store and a loaded engine; channels are mounted from
    ``env`` (CSBOT_*), the queue's contact rules come from ``settings`` (default: CSBOT_*)."""
    from bot.channels.registry import load_adapters
    from bot.server.hooks import Hooks

    adapters = load_adapters(os.environ if env is None else env, dev)  # ConfigError stops start-up
    app = web.Application(middlewares=[errors, auth], client_max_size=max_body)
    app[STORE] = store
    app[MAX_BODY_KEY] = max_body
    app[TURNS] = turns = TurnService.over(store, engine, shop_clock(timezone))
    app[METRICS] = Metrics()
    app[HUB] = Hub()
    app[STATIC_TOKENS] = static_tokens(tokens)
    # The router tries the routes under one prefix in this order: the busiest one first.
    app.router.add_post("/api/v1/conversations/{id}/messages", post_message)
    app.router.add_post("/api/v1/conversations", create_conversation)
    app.router.add_get("/api/v1/conversations", list_conversations)
    app.router.add_get("/api/v1/conversations/{id}", get_conversation)
    app.router.add_post("/api/v1/conversations/{id}/close", close_conversation)
    app.router.add_post("/api/v1/conversations/{id}/escalate", escalation.escalate)
    app[escalation.NOTIFIER] = escalation.from_env(os.environ if env is None else env)
    app.router.add_get("/api/v1/me", sidebar.me)
    app.router.add_post("/api/v1/conversations/{id}/tone", sidebar.set_tone)
    app.router.add_post("/api/v1/conversations/{id}/complaint", sidebar.complaint)
    app.router.add_post("/api/v1/conversations/{id}/corrections", correct_conversation)
    app.router.add_get(_WS_ROUTE, watch)
    app.router.add_post("/api/v1/lint", lint)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics_view)
    app.router.add_get("/api/v1/openapi.json", openapi_json)
    app.router.add_get("/docs", docs)
    app.router.add_get("/sidebar", sidebar_page)
    from bot.server import queue as work_queue  # the intake's queue and contact rules (bot/intake)

    work_queue.setup(app, settings=settings)
    hooks = Hooks(store, turns, app[METRICS], adapters, shop)
    app[HOOKS] = hooks
    app.router.add_route("*", "/hooks/{channel}", hooks.handle)
    app.on_startup.append(hooks.start)
    app.on_cleanup.insert(0, hooks.stop)

    async def listen(app: web.Application) -> None:
        hub = app[HUB]
        turns.subscribe(hub.publish)  # this process's turns: the Suggestion in hand

        async def elsewhere(conv_id: str, turn: int) -> None:
            # Another instance's turn (PostgreSQL): read here only when someone watches.
            if conv_id in hub.sockets:
                sug = await store.suggestion(conv_id, turn)
                if sug is not None:
                    await hub.publish(conv_id, sug)

        await store.listen(elsewhere)

    async def shutdown(app: web.Application) -> None:
        await app[HUB].close_all()

    async def revocations(app: web.Application) -> AsyncIterator[None]:
        # A revoked token's open sockets are closed within the token cache time: their
        # tokens are looked up again (not from the cache) every half of it.
        every = max(store.token_ttl / 2, 0.5)

        async def run() -> None:
            while True:
                await asyncio.sleep(every)
                try:
                    await app[HUB].check_tokens(store, app[STATIC_TOKENS])
                except Exception as exc:  # the database away for a moment: try again next time
                    log.warning("checking the tokens of open websockets failed: %s", type(exc).__name__)

        task = asyncio.get_running_loop().create_task(run())
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def server_header(_: web.Request, response: web.StreamResponse) -> None:
        response.headers["Server"] = "csbot"  # not aiohttp's and Python's versions

    app.cleanup_ctx.append(revocations)
    app.on_response_prepare.append(server_header)

    async def cleanup(app: web.Application) -> None:
        app[TURNS].shutdown()
        await app[STORE].close()  # the writer finishes what it acknowledged

    app.on_startup.append(listen)
    app.on_shutdown.append(shutdown)
    app.on_cleanup.append(cleanup)
    return app


async def serve_app(s: Settings, engine: Engine, *, dev: bool = False) -> web.Application:
    """The service as `csbot serve` builds it: every part from the one settings model
    (CSBOT_* and the --config file alike)."""
    from bot.channels.base import ConfigError

    try:
        return await build_app(s.database_url, engine, tokens=s.tokens, dev=dev or s.dev, shop=s.shop,
                               max_body=s.max_body, synchronous=s.sqlite_synchronous,
                               token_ttl=s.token_cache_seconds, env=s.channel_env(),
                               timezone=s.shop_timezone, settings=s)
    except ConfigError as exc:  # the adapters speak of CSBOT_*: name the file's key where it was
        raise ConfigError(s.explain(str(exc))) from exc


async def build_app(
    database_url: str, engine: Engine | None = None, *, synchronous: str = "FULL",
    token_ttl: float = 10.0, **kw: Any
) -> web.Application:
    """Open the store and build the application (for `csbot serve` and tests)."""
    engine = engine or Engine.load()
    store = await Store.open(database_url, synchronous=synchronous, token_ttl=token_ttl)
    try:
        return make_app(store, engine, **kw)
    except Exception:  # a channel's settings are incomplete: do not leave the store open
        await store.close()
        raise
