"""One error shape everywhere: ``{"error": {"code", "message"}}`` with a 4xx status."""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from bot.engine import ConversationClosed
from bot.store.errors import Forbidden, NeedsPerson, NotFound

log = logging.getLogger("csbot.server")
MAX_BODY_KEY = web.AppKey("max_body", int)  # the app's body limit, said in the 413
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
        elif kind == "value_error":  # our own validators' Chinese message, without pydantic's prefix
            parts.append(f"{where}：{e.get('ctx', {}).get('error', e['msg'])}")
        elif kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
            bound = e.get("ctx", {})
            parts.append(f"{where}：" + (f"不能小于 {bound['ge']}" if "ge" in bound else f"应大于 {bound['gt']}"
                                         if "gt" in bound else f"不能大于 {bound['le']}" if "le" in bound
                                         else f"应小于 {bound.get('lt')}"))
        elif kind in _KINDS:
            parts.append(f"{where}：{_KINDS[kind]}")
        else:
            parts.append(f"{where}：{e['msg']}")
    return "；".join(parts)


MAX_ID = 64  # a conversation id is a UUID (36 characters); anything far longer is no id


def _where(request: web.Request) -> str:
    # The raw (percent-encoded) path: no query string, and no byte that could forge a log line.
    return request.rel_url.raw_path[:200]


def refused(request: web.Request, status: int, code: str, message: str) -> web.Response:
    """A 4xx in the error shape, and its one log line (no body, no query, no message text)."""
    log.warning("refused %s %s: %d %s", request.method, _where(request), status, code)
    return error_response(status, code, message)


def _check_request(request: web.Request) -> None:
    """What no route accepts, whatever the database: NUL characters in the path or the
    query (PostgreSQL cannot store them, SQLite would) and over-long path ids."""
    query = request.query_string  # most requests have none: no query parsed for them
    nul_query = bool(query) and ("\x00" in query or any("\x00" in k or "\x00" in v
                                                       for k, v in request.query.items()))
    if "\x00" in request.path or nul_query:
        raise ApiError(400, "bad_request", "请求地址中不能有 NUL 字符")
    ident = request.match_info.get("id")
    if ident is not None and (len(ident) > MAX_ID or not ident.isprintable()):
        raise ApiError(404, "not_found", "没有这个会话")


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        _check_request(request)
        return await handler(request)
    except ApiError as exc:
        return refused(request, exc.status, exc.code, exc.message)
    except ValidationError as exc:
        return refused(request, 422, "invalid", describe(exc))
    except (NotFound, Forbidden):
        # Another shop's conversation is "not found" too: a 403 would tell that it exists.
        return refused(request, 404, "not_found", "没有这个会话")
    except ConversationClosed as exc:
        return refused(request, 409, "closed", str(exc))
    except NeedsPerson as exc:
        return refused(request, 409, "needs_person",
                       f"话术已修改，会话所在的阶段“{exc}”已不存在，需要人工处理")
    except web.HTTPRequestEntityTooLarge:
        limit = request.app.get(MAX_BODY_KEY)
        most = f"（最多 {limit // 1024} KB）" if limit else ""
        return refused(request, 413, "too_large", f"请求体太大{most}")
    except web.HTTPException as exc:
        if exc.status >= 400:
            code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status, "http_error")
            message = {404: "没有这个地址", 405: "不支持这个请求方法"}.get(exc.status, exc.reason)
            return refused(request, exc.status, code, message)
        raise
    except Exception as exc:
        # Never a stack trace to a client, and no message text in the log either: the
        # exception's own message may quote the request (pydantic's input_value, a driver's
        # parameters), so only its type and where it was raised are logged.
        log.error("unhandled error on %s %s: %s", request.method, _where(request), where_raised(exc))
        return error_response(500, "internal", "服务器内部错误，请稍后重试")


def where_raised(exc: BaseException) -> str:
    """An exception's type and the frames it passed through, without its message."""
    frames = traceback.extract_tb(exc.__traceback__)[-6:]
    return type(exc).__name__ + " at " + " <- ".join(
        f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} {f.name}" for f in reversed(frames))


async def read_model(request: web.Request, model: type[M], context: dict[str, Any] | None = None) -> M:
    """The request body as ``model``: a 400 for what is not JSON, a 422 for the rest
    (``context``: e.g. the engine's labels, which the body's labels must be among)."""
    raw = await _body(request)
    try:
        try:
            found = model.model_validate_json(raw, context=context)  # one pass in pydantic's own parser
        except ValidationError:
            # Whatever is wrong is told as for any other body: json's 400, or the 422.
            found = model.model_validate(_parse(raw), context=context)
    except RecursionError:
        raise ApiError(400, "bad_json", "请求体嵌套太深") from None
    # A NUL reaches a parsed string only as the escape \u0000 (JSON allows no raw control
    # character in a string) or from a body in UTF-16/32, which has NUL bytes: most bodies
    # have neither and skip the walk over the model.
    if (b"\x00" in raw or b"\\u0000" in raw) and _has_nul(found.model_dump()):
        # PostgreSQL cannot store U+0000 and SQLite would: refused the same on both.
        raise ApiError(422, "invalid", "请求体中不能有 NUL 字符（\\u0000）")
    return found


def _has_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple | set):
        return any(_has_nul(v) for v in value)
    return False


async def _body(request: web.Request) -> bytes:
    # The usual header as it is, without aiohttp parsing it into type and parameters.
    if request.headers.get("Content-Type") != "application/json" and \
            request.content_type not in ("application/json", ""):
        raise ApiError(415, "unsupported_media_type", "请求体应为 JSON（Content-Type: application/json）")
    raw = await request.read()
    if not raw:
        raise ApiError(400, "empty_body", "请求体为空")
    return raw


# json's complaints in Chinese (by how they start): the sidebar and an integrator's log show them.
_JSON_ZH = (
    ("Expecting value", "这里缺少一个值（JSON 没写完，或多了逗号）"),
    ("Expecting property name enclosed in double quotes", "键要用双引号括起来（\"role\"，不是 role 或 'role'）"),
    ("Expecting ',' delimiter", "缺少逗号"),
    ("Expecting ':' delimiter", "缺少冒号"),
    ("Unterminated string", "字符串的引号没有合上"),
    ("Invalid control character", "字符串里有没转义的控制字符（换行要写成 \\n）"),
    ("Invalid \\escape", "字符串里有不认识的转义（反斜杠 \\ 后面的字符）"),
    ("Invalid \\uXXXX escape", "字符串里的 \\u 转义不完整"),
    ("Extra data", "JSON 后面还有多余的内容（一次只能发一个 JSON 对象）"),
)


def json_problem(exc: json.JSONDecodeError | UnicodeDecodeError) -> str:
    """Why a request body is no JSON, in Chinese, where (the API and the chat callbacks)."""
    if isinstance(exc, UnicodeDecodeError):
        return f"请求体不是 UTF-8 编码（第 {exc.start + 1} 个字节）：JSON 要用 UTF-8 发送（GBK 等编码请先转换）"
    said = next((zh for en, zh in _JSON_ZH if exc.msg.startswith(en)), "格式不对")
    return f"请求体不是合法的 JSON：第 {exc.lineno} 行第 {exc.colno} 列：{said}"


def _parse(raw: bytes) -> object:
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ApiError(400, "bad_json", json_problem(exc)) from exc
    except RecursionError:
        raise ApiError(400, "bad_json", "请求体嵌套太深") from None
    except ValueError:  # an integer of more digits than Python converts (4,300)
        raise ApiError(400, "bad_json", "请求体中的数字太长") from None
