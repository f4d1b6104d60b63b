"""The OpenAPI 3.1 document, generated from the pydantic models of bot.server.api."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from bot import __version__
from bot.models import Suggestion
from bot.server.api import (
    CloseIn,
    ConversationDetail,
    ConversationList,
    ConversationOut,
    CorrectionIn,
    CreateConversation,
    ErrorOut,
    EscalateIn,
    LintIn,
    LintOut,
    MeOut,
    MessageIn,
    ToneIn,
)

_REF = "#/components/schemas/{model}"


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": _REF.format(model=model.__name__)}


def _json(model: type[BaseModel], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(model)}}}


def _errors(*codes: int) -> dict[str, Any]:
    text = {400: "请求体不是合法的 JSON", 401: "缺少或无效的令牌", 403: "无权访问",
            404: "没有这个会话", 409: "会话已结束或需要人工处理", 413: "请求体太大",
            415: "不是 JSON", 422: "字段不对"}
    return {str(c): _json(ErrorOut, text[c]) for c in codes}


def build() -> dict[str, Any]:
    """The whole document."""
    models: list[type[BaseModel]] = [CreateConversation, MessageIn, CloseIn, CorrectionIn, EscalateIn, ToneIn,
                                     LintIn, ConversationOut, ConversationDetail, ConversationList, Suggestion,
                                     LintOut, MeOut, ErrorOut]
    from bot.server import queue as work_queue  # the intake's routes

    models += work_queue.MODELS
    _, top = models_json_schema([(m, "validation") for m in models], ref_template=_REF)
    schemas = top.get("$defs", {})
    conv_id = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
    auth: list[dict[str, list[str]]] = [{"bearer": []}]
    write_errors = _errors(400, 401, 403, 404, 409, 413, 415, 422)
    # OpenAPI has no scheme for a WebSocket subprotocol: an apiKey in the header is the closest.
    ws_protocol = {"type": "apiKey", "in": "header", "name": "Sec-WebSocket-Protocol",
                   "description": "浏览器不能给 WebSocket 设置 Authorization 请求头，所以只有这个地址"
                                  "也接受子协议里的令牌：new WebSocket(url, ['csbot', 'bearer.' + 令牌])，"
                                  "服务器回应子协议 csbot。令牌不放在查询参数里，免得进访问日志。"}
    return {
        "openapi": "3.1.0",
        "info": {"title": "csbot 售后中差评沟通助手 API", "version": __version__},
        "components": {"schemas": schemas,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"},
                                           "wsProtocol": ws_protocol}},
        "security": auth,
        "paths": {
            "/api/v1/conversations": {
                "post": {"summary": "用案件信息新建会话，返回第一条建议", "operationId": "createConversation",
                         "requestBody": {"required": True, "content": {"application/json": {
                             "schema": _ref(CreateConversation)}}},
                         "responses": {"201": _json(ConversationOut, "新建的会话"),
                                       "200": _json(ConversationOut, "同一店铺、买家、订单已有打开的会话"),
                                       **_errors(400, 401, 403, 413, 415, 422)}},
                "get": {"summary": "会话列表", "operationId": "listConversations",
                        "parameters": [
                            {"name": n, "in": "query", "required": False, "schema": s}
                            for n, s in [("stage", {"type": "string"}), ("outcome", {"type": "string"}),
                                         ("agent", {"type": "string"}),
                                         ("since", {"type": "string", "format": "date"}),
                                         ("until", {"type": "string", "format": "date"}),
                                         ("limit", {"type": "integer", "minimum": 1, "maximum": 200}),
                                         ("offset", {"type": "integer", "minimum": 0})]],
                        "responses": {"200": _json(ConversationList, "会话列表"), **_errors(401, 422)}},
            },
            "/api/v1/conversations/{id}": {
                "get": {"summary": "会话及其所有轮次", "operationId": "getConversation",
                        "parameters": [conv_id],
                        "responses": {"200": _json(ConversationDetail, "会话"), **_errors(401, 403, 404)}},
            },
            "/api/v1/conversations/{id}/messages": {
                "post": {"summary": "添加一条消息，返回这一轮的建议", "operationId": "postMessage",
                         "parameters": [conv_id],
                         "requestBody": {"required": True, "content": {"application/json": {
                             "schema": _ref(MessageIn)}}},
                         "responses": {"200": _json(Suggestion, "这一轮的建议"), **write_errors}},
            },
            "/api/v1/conversations/{id}/close": {
                "post": {"summary": "结束会话并记录结果", "operationId": "closeConversation",
                         "parameters": [conv_id],
                         "requestBody": {"required": True, "content": {"application/json": {
                             "schema": _ref(CloseIn)}}},
                         "responses": {"200": _json(ConversationOut, "已结束的会话"), **write_errors}},
            },
            "/api/v1/conversations/{id}/escalate": {
                "post": {"summary": "请主管介入：先通过配置的渠道（CSBOT_ESCALATION_WEBHOOK）通知主管，"
                                    "通知送达后案件进入“升级处理”，勾上“已请主管介入”",
                         "operationId": "escalateConversation", "parameters": [conv_id],
                         "requestBody": {"required": True, "content": {"application/json": {
                             "schema": _ref(EscalateIn)}}},
                         "responses": {"200": _json(ConversationOut, "已通知主管的会话"), **write_errors,
                                       "502": _json(ErrorOut, "通知没有送达，案件没有改动"),
                                       "503": _json(ErrorOut, "没有配置主管通知渠道")}},
            },
            "/api/v1/conversations/{id}/complaint": {
                "post": {"summary": "客服已向平台投诉恶意评价：勾上疑似恶意案件的“30 天内向平台投诉恶意评价”；不算一轮",
                         "operationId": "complaintFiled", "parameters": [conv_id],
                         "responses": {"200": _json(ConversationOut, "会话和当前的建议"), **write_errors}},
            },
            "/api/v1/conversations/{id}/tone": {
                "post": {"summary": "改用正式或亲切的语气（之后的建议），返回当前的建议；不算一轮",
                         "operationId": "setTone", "parameters": [conv_id],
                         "requestBody": {"required": True, "content": {"application/json": {
                             "schema": _ref(ToneIn)}}},
                         "responses": {"200": _json(ConversationOut, "会话和当前的建议"), **write_errors}},
            },
            "/api/v1/me": {
                "get": {"summary": "当前令牌的名字、角色和店铺（侧边栏用来填客服名字）", "operationId": "me",
                        "responses": {"200": _json(MeOut, "令牌的名字、角色和店铺"), **_errors(401)}},
            },
            "/api/v1/conversations/{id}/corrections": {
                "post": {"summary": "更正买家消息的意图、原因或会话阶段，返回更正后的建议",
                         "operationId": "correctConversation",
                         "description": "intent、cause、stage 可以写代码，也可以写中文名（如 投诉、质量问题、"
                                        "解释原因）；turn 默认是最新一条买家消息。会话从更正后的状态继续，"
                                        "更正连同原文保存，可用 csbot corrections export 导出为语料。",
                         "parameters": [conv_id],
                         "requestBody": {"required": True, "content": {"application/json": {
                             "schema": _ref(CorrectionIn)}}},
                         "responses": {"200": _json(Suggestion, "更正后的建议"), **write_errors}},
            },
            "/api/v1/conversations/{id}/ws": {
                "get": {"summary": "WebSocket：推送每一轮的建议", "operationId": "watchConversation",
                        "description": "令牌放在 Authorization 请求头里，或者（浏览器）放在子协议"
                                       " bearer.<令牌> 里，同时提供子协议 csbot。",
                        "security": [{"bearer": []}, {"wsProtocol": []}],
                        "parameters": [conv_id, {
                            "name": "Sec-WebSocket-Protocol", "in": "header", "required": False,
                            "description": "浏览器用：csbot, bearer.<令牌>（没有 Authorization 请求头时读取）",
                            "schema": {"type": "string"}}],
                        "responses": {"101": {"description": "切换到 WebSocket"}, **_errors(401, 403, 404)}},
            },
            "/api/v1/lint": {
                "post": {"summary": "检查客服草稿是否合规（发出之前），返回合规检查的结果",
                         "operationId": "lint",
                         "requestBody": {"required": True, "content": {"application/json": {
                             "schema": _ref(LintIn)}}},
                         "responses": {"200": _json(LintOut, "检查结果；没有问题时 findings 为空"),
                                       **_errors(400, 401, 413, 415, 422)}},
            },
            **work_queue.openapi_paths(_ref, _json, _errors),
            "/sidebar": {"get": {"summary": "客服侧边栏页面（页面本身不含数据，接口调用要带令牌）",
                                 "security": [], "operationId": "sidebar",
                                 "responses": {"200": {"description": "HTML 页面",
                                                       "content": {"text/html": {}}}}}},
            "/docs": {"get": {"summary": "阅读本文档的页面", "security": [], "operationId": "docs",
                              "responses": {"200": {"description": "HTML 页面",
                                                    "content": {"text/html": {}}}}}},
            "/api/v1/openapi.json": {"get": {"summary": "本文档（OpenAPI 3.1）", "security": [],
                                             "operationId": "openapi",
                                             "responses": {"200": {"description": "OpenAPI 文档"}}}},
            "/healthz": {"get": {"summary": "存活检查（含数据库）", "security": [],
                                 "operationId": "healthz",
                                 "responses": {"200": {"description": "正常"},
                                               "503": {"description": "数据库不可用"}}}},
            "/metrics": {"get": {"summary": "Prometheus 指标", "security": [], "operationId": "metrics",
                                 "responses": {"200": {"description": "Prometheus 文本"}}}},
        },
    }


def docs_html() -> str:
    """The page at /docs: it reads /api/v1/openapi.json and lists operations and schemas."""
    return (Path(__file__).parent / "docs.html").read_text(encoding="utf-8")
