"""The aiohttp application: conversations, messages, WebSocket pushes, lint, sidebar, health, metrics, docs."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
import weakref
from collections.abc import Mapping
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
    CreateConversation,
    LintIn,
    LintOut,
    MessageIn,
)
from bot.server.errors import ApiError, errors, read_model
from bot.server.metrics import Metrics
from bot.store.db import Store, TokenInfo, hash_token
from bot.store.turns import Duplicate

log = logging.getLogger("csbot.server")

STORE: web.AppKey[Store] = web.AppKey("store", Store)
METRICS: web.AppKey[Metrics] = web.AppKey("metrics", Metrics)
HOOKS: web.AppKey[Any] = web.AppKey("hooks")
TOKEN: web.RequestKey[TokenInfo] = web.RequestKey("token", TokenInfo)
STATIC_TOKENS: web.AppKey[dict[str, TokenInfo]] = web.AppKey("static_tokens", dict)
# /sidebar is public like /docs: the page holds no data, the API calls it makes carry the token.
_PUBLIC = ("/healthz", "/metrics", "/docs", "/sidebar", "/api/v1/openapi.json", "/hooks/")
_WS_ROUTE = "/api/v1/conversations/{id}/ws"
# A browser cannot set an Authorization header on a WebSocket, so the watch route also takes
# the token as a subprotocol: the page offers ["csbot", "bearer.<token>"] and the server
# answers "csbot". Chosen over a ?token= query parameter because a query string lands in
# access logs (aiohttp's %r), proxy logs and browser history; the header lands in none.
WS_PROTOCOL = "csbot"
WS_BEARER = "bearer."
MAX_BODY = 64 * 1024


class Hub:
    """WebSockets listening to each conversation in this process."""

    def __init__(self) -> None:
        self.sockets: dict[str, weakref.WeakSet[web.WebSocketResponse]] = {}

    def add(self, conv_id: str, ws: web.WebSocketResponse) -> None:
        self.sockets.setdefault(conv_id, weakref.WeakSet()).add(ws)

    def remove(self, conv_id: str, ws: web.WebSocketResponse) -> None:
        group = self.sockets.get(conv_id)
        if group is not None:
            group.discard(ws)
            if not group:
                del self.sockets[conv_id]

    async def publish(self, conv_id: str, sug: Suggestion) -> None:
        group = self.sockets.get(conv_id)
        if not group:
            return
        data = sug.model_dump_json()
        await asyncio.gather(*(ws.send_str(data) for ws in list(group) if not ws.closed),
                             return_exceptions=True)

    async def close_all(self) -> None:
        for group in list(self.sockets.values()):
            for ws in list(group):
                await ws.close(code=1001, message="服务器正在关闭".encode())


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
    digest = hash_token(token)
    info = request.app[STATIC_TOKENS].get(digest) or await request.app[STORE].token(token, digest)
    if info is None:
        raise ApiError(401, "unauthorized", "令牌无效或已被吊销")
    request[TOKEN] = info
    return await handler(request)  # type: ignore[no-any-return]


def _protocol_token(request: web.Request) -> str:
    """The token a browser offers as the subprotocol ``bearer.<token>`` ("" if none)."""
    for item in request.headers.get("Sec-WebSocket-Protocol", "").split(","):
        item = item.strip()
        if item.startswith(WS_BEARER):
            return item[len(WS_BEARER):]
    return ""


def _scope(request: web.Request) -> str | None:
    """The shop an agent is limited to; None for an admin."""
    info = request[TOKEN]
    return None if info.role == "admin" else info.shop


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
    conv, sug, created = await store.create(case, body.tone, agent=case.agent or info.name)
    summary, _ = await store.get(conv.id)
    return _dump(ConversationOut.model_validate({"conversation": summary, "suggestion": sug}),
                 201 if created else 200)


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


async def list_conversations(request: web.Request) -> web.Response:
    known = {"stage", "outcome", "agent", "since", "until", "limit", "offset"}
    unknown = set(request.query) - known
    if unknown:
        raise ApiError(422, "invalid", f"不认识的查询参数：{'、'.join(sorted(unknown))}")
    limit = _query_int(request, "limit", 50, 1, 200)
    offset = _query_int(request, "offset", 0, 0, 10**9)
    total, items = await request.app[STORE].find(
        shop=_scope(request), stage=request.query.get("stage"),
        outcome=request.query.get("outcome"), agent=request.query.get("agent"),
        since=_query_date(request, "since"), until=_query_date(request, "until"),
        limit=limit, offset=offset)
    return _dump(ConversationList(total=total, limit=limit, offset=offset, items=items))  # type: ignore[arg-type]


async def get_conversation(request: web.Request) -> web.Response:
    summary, turns = await request.app[STORE].get(request.match_info["id"], _scope(request))
    current = await request.app[STORE].current(summary["id"])
    return _dump(ConversationDetail.model_validate({"conversation": summary, "turns": turns, "current": current}))


async def post_message(request: web.Request) -> web.Response:
    body = await read_model(request, MessageIn)
    conv_id = request.match_info["id"]
    metrics = request.app[METRICS]
    started = time.perf_counter()
    done = await request.app[STORE].post_turn(
        conv_id, body.role, body.text, message_id=body.message_id, shop=_scope(request))
    if isinstance(done, Duplicate):
        metrics.duplicates.inc()
        return web.Response(text=done.stored, content_type="application/json")
    metrics.latency.observe(time.perf_counter() - started)
    metrics.turn(body.role)
    for code, severity in done.findings:
        metrics.finding(code, severity)
    # The answer is sent as the store made it (listeners get it through its turn notifications).
    return web.Response(text=done.answer, content_type="application/json")


async def close_conversation(request: web.Request) -> web.Response:
    body = await read_model(request, CloseIn)
    store = request.app[STORE]
    conv_id = request.match_info["id"]
    info = request[TOKEN]
    before, _ = await store.get(conv_id, _scope(request))
    if not before["open"] and info.role != "admin" and before["agent"] not in (None, info.name):
        raise ApiError(403, "forbidden", "这个会话已经结束：只有负责它的客服或管理员可以登记结果")
    conv = await store.close_case(conv_id, body.outcome, _scope(request))
    summary, turns = await store.get(conv_id)
    last = turns[-1]["suggestion"] if turns else store.csbot.start(conv.case)[1].model_dump(mode="json")
    return _dump(ConversationOut.model_validate({"conversation": summary, "suggestion": last}))


async def watch(request: web.Request) -> web.StreamResponse:
    conv_id = request.match_info["id"]
    await request.app[STORE].get(conv_id, _scope(request))  # 404 / 403 before the upgrade
    # Answering "csbot" (never the bearer item) is what a browser that offered it requires.
    ws = web.WebSocketResponse(heartbeat=30, protocols=(WS_PROTOCOL,))
    await ws.prepare(request)
    hub = request.app[HUB]
    hub.add(conv_id, ws)
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
    found = request.app[STORE].csbot.understand.findings(body.text)
    return _dump(LintOut(findings=found))


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
    return web.Response(text=openapi.docs_html(), content_type="text/html")


# The sidebar runs only its own inline code and talks only to this server.
_SIDEBAR_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                               "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


async def sidebar_page(request: web.Request) -> web.Response:
    stages = {sid: st.label for sid, st in request.app[STORE].csbot.script.stages.items()}
    outcomes = sidebar.outcome_labels(request.app[STORE].csbot.dialogs)
    return web.Response(text=sidebar.page(stages, outcomes), content_type="text/html", headers=_SIDEBAR_HEADERS)


def static_tokens(spec: str | None) -> dict[str, TokenInfo]:
    """Tokens from settings (CSBOT_TOKENS): a JSON list of {name, role, shop, sha256}."""
    if not spec:
        return {}
    return {t["sha256"]: TokenInfo(t["name"], t["role"], t["shop"]) for t in json.loads(spec)}


def make_app(
    store: Store, *, tokens: str | None = None, max_body: int = MAX_BODY, dev: bool = False,
    env: Mapping[str, str] | None = None, shop: str = "本店",
) -> web.Application:
    """The application over an opened store; channels are mounted from ``env`` (CSBOT_*)."""
    from bot.channels.registry import load_adapters
    from bot.server.hooks import Hooks

    adapters = load_adapters(os.environ if env is None else env, dev)  # ConfigError stops start-up
    app = web.Application(middlewares=[errors, auth], client_max_size=max_body)
    app[STORE] = store
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
    app.router.add_get(_WS_ROUTE, watch)
    app.router.add_post("/api/v1/lint", lint)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics_view)
    app.router.add_get("/api/v1/openapi.json", openapi_json)
    app.router.add_get("/docs", docs)
    app.router.add_get("/sidebar", sidebar_page)
    hooks = Hooks(store, app[METRICS], adapters, shop)
    app[HOOKS] = hooks
    app.router.add_route("*", "/hooks/{channel}", hooks.handle)
    app.on_startup.append(hooks.start)
    app.on_cleanup.insert(0, hooks.stop)

    async def listen(app: web.Application) -> None:
        hub = app[HUB]

        async def pushed(conv_id: str, turn: int) -> None:
            if conv_id in hub.sockets:
                sug = await store.suggestion(conv_id, turn)
                if sug is not None:
                    await hub.publish(conv_id, sug)

        await store.listen(pushed)

    async def shutdown(app: web.Application) -> None:
        await app[HUB].close_all()

    async def cleanup(app: web.Application) -> None:
        await app[STORE].close()  # the writer finishes what it acknowledged

    app.on_startup.append(listen)
    app.on_shutdown.append(shutdown)
    app.on_cleanup.append(cleanup)
    return app


async def build_app(
    database_url: str, engine: Engine | None = None, *, synchronous: str = "FULL",
    workers: int = 0, token_ttl: float = 10.0, **kw: Any
) -> web.Application:
    """Open the store and build the application (for `csbot serve` and tests)."""
    store = await Store.open(database_url, engine or Engine.load(), synchronous=synchronous,
                             workers=workers, token_ttl=token_ttl)
    try:
        return make_app(store, **kw)
    except Exception:  # a channel's settings are incomplete: do not leave the store open
        await store.close()
        raise
