"""One error shape everywhere: ``{"error": {"code", "message"}}`` with a 4xx status."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from bot.engine import ConversationClosed
from bot.store.turns import Forbidden, NeedsPerson, NotFound

log = logging.getLogger("csbot.server")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
M = TypeVar("M", bound=BaseModel)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def error_response(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status,
                             dumps=lambda o: json.dumps(o, ensure_ascii=False))


# The usual type errors in Chinese (the sidebar shows these messages to an agent as they are).
_KINDS = {"string_type": "应为字符串", "int_type": "应为整数", "int_parsing": "应为整数",
          "bool_type": "应为 true 或 false", "bool_parsing": "应为 true 或 false",
          "model_type": "应为 JSON 对象", "dict_type": "应为 JSON 对象",
          "model_attributes_type": "应为 JSON 对象", "list_type": "应为数组",
          "date_type": "日期格式应为 YYYY-MM-DD", "date_parsing": "日期格式应为 YYYY-MM-DD",
          "date_from_datetime_parsing": "日期格式应为 YYYY-MM-DD",
          "datetime_type": "时间格式应为 ISO 8601（如 2026-03-02T10:00:00+08:00）",
          "datetime_parsing": "时间格式应为 ISO 8601（如 2026-03-02T10:00:00+08:00）",
          "datetime_from_date_parsing": "时间格式应为 ISO 8601（如 2026-03-02T10:00:00+08:00）"}


def describe(exc: ValidationError) -> str:
    """A Chinese summary of what is wrong in a request body."""
    parts = []
    for e in exc.errors()[:5]:
        where = ".".join(str(x) for x in e["loc"]) or "请求体"
        kind = e["type"]
        if kind == "extra_forbidden":
            parts.append(f"{where}：不认识的字段")
        elif kind == "missing":
            parts.append(f"{where}：缺少必填字段")
        elif kind in ("string_too_short",):
            parts.append(f"{where}：不能为空")
        elif kind in ("string_too_long",):
            parts.append(f"{where}：太长了（最多 {e.get('ctx', {}).get('max_length')} 个字符）")
        elif kind == "literal_error":
            expected = str(e.get("ctx", {}).get("expected", "")).replace(" or ", ", ").replace(", ", "、")
            parts.append(f"{where}：应为 {expected} 之一")
        elif kind in _KINDS:
            parts.append(f"{where}：{_KINDS[kind]}")
        else:
            parts.append(f"{where}：{e['msg']}")
    return "；".join(parts)


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as exc:
        return error_response(exc.status, exc.code, exc.message)
    except ValidationError as exc:
        return error_response(422, "invalid", describe(exc))
    except NotFound:
        return error_response(404, "not_found", "没有这个会话")
    except Forbidden:
        return error_response(403, "forbidden", "这个会话不属于您的店铺")
    except ConversationClosed as exc:
        return error_response(409, "closed", str(exc))
    except NeedsPerson as exc:
        return error_response(409, "needs_person",
                              f"话术已修改，会话所在的阶段“{exc}”已不存在，需要人工处理")
    except web.HTTPRequestEntityTooLarge:
        return error_response(413, "too_large", "请求体太大")
    except web.HTTPException as exc:
        if exc.status >= 400:
            code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status, "http_error")
            message = {404: "没有这个地址", 405: "不支持这个请求方法"}.get(exc.status, exc.reason)
            return error_response(exc.status, code, message)
        raise
    except Exception:
        # Never a stack trace to a client, and no message text in the log either.
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "internal", "服务器内部错误，请稍后重试")


async def read_model(request: web.Request, model: type[M]) -> M:
    """The request body as ``model``: a 400 for what is not JSON, a 422 for the rest."""
    raw = await _body(request)
    try:
        return model.model_validate_json(raw)  # one pass in pydantic's own parser
    except ValidationError:
        # Whatever is wrong is told as for any other body: json's 400, or the 422.
        return model.model_validate(_parse(raw))


async def _body(request: web.Request) -> bytes:
    if request.content_type not in ("application/json", ""):
        raise ApiError(415, "unsupported_media_type", "请求体应为 JSON（Content-Type: application/json）")
    raw = await request.read()
    if not raw:
        raise ApiError(400, "empty_body", "请求体为空")
    return raw


def _parse(raw: bytes) -> object:
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ApiError(400, "bad_json", f"请求体不是合法的 JSON：{getattr(exc, 'msg', exc)}") from exc
