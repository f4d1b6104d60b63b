"""The work queue over HTTP: GET /api/v1/queue for the sidebar, assignment and contact attempts.

Shop isolation is the token's, as on every route: an agent sees and changes only their
shop's cases, an admin every shop's.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from bot.intake.contact import ContactRules, TooManyAttempts
from bot.intake.queue import QueueQuery, Taken, assign, check_contact, queue, record_attempt
from bot.intake.triage import STATUSES, QueueOut
from bot.quiet import RulesError
from bot.server.errors import ApiError, read_model
from bot.store.db import Store

RULES: web.AppKey[ContactRules] = web.AppKey("contact_rules", ContactRules)


class AssignIn(BaseModel):
    """An admin assigns a case to ``agent`` (null: nobody); an agent takes it (``agent``
    left out, or their own name)."""

    model_config = ConfigDict(extra="forbid")
    agent: str | None = Field(default=None, min_length=1, max_length=100)


class AssignOut(BaseModel):
    conversation_id: str
    assigned_to: str | None


class AttemptIn(BaseModel):
    """A contact attempt: ``contact`` (reached the buyer), ``no_answer`` (nobody answered or
    replied), ``callback`` (the agreed callback)."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["contact", "no_answer", "callback"] = "contact"
    at: datetime | None = None


class ContactOut(BaseModel):
    conversation_id: str
    attempts: int
    left: int
    warnings: list[str]


def _store(request: web.Request) -> tuple[Store, str | None, str, str]:
    from bot.server.app import STORE, TOKEN, _scope

    info = request[TOKEN]
    return request.app[STORE], _scope(request), info.name, info.role


def _flag(request: web.Request, name: str) -> bool:
    raw = request.query.get(name, "")
    if raw.lower() in ("", "0", "false", "no"):
        return False
    if raw.lower() in ("1", "true", "yes"):
        return True
    raise ApiError(422, "invalid", f"{name}：应为 1 或 0")


def _int(request: web.Request, name: str, default: int, lo: int, hi: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(422, "invalid", f"{name}：应为整数") from None
    if not lo <= value <= hi:
        raise ApiError(422, "invalid", f"{name}：应在 {lo} 到 {hi} 之间")
    return value


async def get_queue(request: web.Request) -> web.Response:
    known = {"q", "status", "mine", "limit", "offset"}
    unknown = set(request.query) - known
    if unknown:
        raise ApiError(422, "invalid", f"不认识的查询参数：{'、'.join(sorted(unknown))}")
    status = request.query.get("status") or None
    if status is not None and status not in STATUSES:
        raise ApiError(422, "invalid", f"status：应为 {'、'.join(STATUSES)} 之一")
    q = request.query.get("q") or None
    if q is not None and (len(q) > 100 or "\x00" in q):
        raise ApiError(422, "invalid", "q：搜索词太长或含有非法字符")
    from bot.server.app import TURNS

    store, shop, name, _ = _store(request)
    query = QueueQuery(shop=shop, q=q, status=status, me=name, mine=_flag(request, "mine"),
                       limit=_int(request, "limit", 200, 1, 1000), offset=_int(request, "offset", 0, 0, 10**9))
    total, items = await queue(store, request.app[TURNS].engine, request.app[RULES], query)
    return web.Response(text=QueueOut(items=items, total=total).model_dump_json(),
                        content_type="application/json")


def _conv_id(request: web.Request) -> str:
    cid = request.match_info["id"]
    if len(cid) > 36 or "\x00" in cid:
        raise ApiError(404, "not_found", "没有这个会话")
    return cid


async def post_assign(request: web.Request) -> web.Response:
    body = await read_model(request, AssignIn)
    store, shop, name, role = _store(request)
    cid = _conv_id(request)
    try:
        if role == "admin":
            holder = await assign(store, cid, body.agent, shop=shop)
        elif body.agent not in (None, name):
            raise ApiError(403, "forbidden", "只有管理员能把案例分配给别人；客服只能自己领取")
        else:
            holder = await assign(store, cid, None, shop=shop, by=name)
    except Taken as exc:
        raise ApiError(409, "taken", str(exc)) from None
    return web.Response(text=AssignOut(conversation_id=cid, assigned_to=holder).model_dump_json(),
                        content_type="application/json")


def _out(request: web.Request, cid: str, used: int, warnings: list[str], status: int = 200) -> web.Response:
    limit = request.app[RULES].max_attempts
    return web.Response(text=ContactOut(conversation_id=cid, attempts=used, left=max(limit - used, 0),
                                        warnings=warnings).model_dump_json(),
                        content_type="application/json", status=status)


async def get_contact(request: web.Request) -> web.Response:
    """Before contacting the buyer: attempts so far and warnings (quiet hours); 409 for a fourth."""
    store, shop, _, _ = _store(request)
    cid = _conv_id(request)
    try:
        used, warnings = await check_contact(store, request.app[RULES], cid, shop)
    except TooManyAttempts as exc:
        raise ApiError(409, "too_many_attempts", str(exc)) from None
    return _out(request, cid, used, warnings)


async def post_attempt(request: web.Request) -> web.Response:
    body = await read_model(request, AttemptIn)
    store, shop, name, _ = _store(request)
    cid = _conv_id(request)
    rules = request.app[RULES]
    at = body.at.replace(tzinfo=rules.hours.tz) if body.at and body.at.tzinfo is None else body.at  # shop time
    try:
        used, warnings = await record_attempt(store, rules, cid, body.kind, shop=shop, agent=name, at=at)
    except TooManyAttempts as exc:
        raise ApiError(409, "too_many_attempts", str(exc)) from None
    return _out(request, cid, used, warnings, 201)


def setup(app: web.Application, rules: ContactRules | None = None, settings: Any = None) -> None:
    """Mount the queue's routes; the rules come from the settings (quiet_hours … of the
    service's settings, else of CSBOT_*)."""
    if rules is None:
        from bot.server.app import TURNS
        from bot.settings import SettingsError, load_settings

        try:
            rules = ContactRules.from_settings(settings or load_settings(), app[TURNS].engine.script.max_attempts)
        except (RulesError, SettingsError) as exc:
            from bot.channels.base import ConfigError

            raise ConfigError(str(exc)) from None
    app[RULES] = rules
    app.router.add_get("/api/v1/queue", get_queue)
    app.router.add_post("/api/v1/queue/{id}/assign", post_assign)
    app.router.add_get("/api/v1/queue/{id}/contact", get_contact)
    app.router.add_post("/api/v1/queue/{id}/attempts", post_attempt)


MODELS: list[type[BaseModel]] = [QueueOut, AssignIn, AssignOut, AttemptIn, ContactOut]


def openapi_paths(ref: Any, json_of: Any, errors: Any) -> dict[str, Any]:
    """The queue's operations for bot/server/openapi.py (its helpers passed in)."""
    conv_id = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}

    def body(model: type[BaseModel]) -> dict[str, Any]:
        return {"required": True, "content": {"application/json": {"schema": ref(model)}}}

    return {
        "/api/v1/queue": {"get": {
            "summary": "待处理的中差评案例，按紧急程度排序（客服看到自己的排在前面）", "operationId": "getQueue",
            "parameters": [
                {"name": "q", "in": "query", "required": False, "schema": {"type": "string"},
                 "description": "搜索买家、订单号或商品"},
                {"name": "status", "in": "query", "required": False,
                 "schema": {"type": "string", "enum": list(STATUSES)}},
                {"name": "mine", "in": "query", "required": False, "schema": {"type": "integer", "enum": [0, 1]},
                 "description": "1：只看分配给自己的"},
                {"name": "limit", "in": "query", "required": False,
                 "schema": {"type": "integer", "minimum": 1, "maximum": 1000}},
                {"name": "offset", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 0}}],
            "responses": {"200": json_of(QueueOut, "队列"), **errors(401, 422)}}},
        "/api/v1/queue/{id}/assign": {"post": {
            "summary": "分配案例：管理员指定客服，客服自己领取", "operationId": "assignCase",
            "parameters": [conv_id], "requestBody": body(AssignIn),
            "responses": {"200": json_of(AssignOut, "分配结果"), **errors(400, 401, 403, 404, 409, 415, 422)}}},
        "/api/v1/queue/{id}/contact": {"get": {
            "summary": "联系买家之前检查：已联系次数、免打扰时段提醒；第 4 次返回 409", "operationId": "checkContact",
            "parameters": [conv_id],
            "responses": {"200": json_of(ContactOut, "可以联系（附提醒）"), **errors(401, 403, 404, 409)}}},
        "/api/v1/queue/{id}/attempts": {"post": {
            "summary": "记录一次联系（联系上、未接通、回访都算一次；每个案例最多 3 次）",
            "operationId": "recordAttempt", "parameters": [conv_id], "requestBody": body(AttemptIn),
            "responses": {"201": json_of(ContactOut, "已记录"), **errors(400, 401, 403, 404, 409, 415, 422)}}},
    }
