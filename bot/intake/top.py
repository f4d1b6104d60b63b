"""A client of Taobao's open platform (TOP) for the reviews a shop received.

Requests are signed as the platform documents: every parameter but ``sign`` sorted by name,
each name followed by its value (empty values left out), then
- ``md5``: MD5 over secret + that string + secret;
- ``hmac``: HMAC-MD5 keyed with the secret over that string;
as upper-case hex. ``taobao.traderates.get`` returns at most 1,500 results for one query
(page_size up to 150, page_no up to 200 in the documentation, but no more results than
that), so a range with more is split into shorter windows until each fits; and only the last
180 days can be asked for.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any, Literal
from zoneinfo import ZoneInfo

import aiohttp

from bot.intake.records import ReviewIn

SignMethod = Literal["md5", "hmac"]
CN = ZoneInfo("Asia/Shanghai")  # the platform's timestamps and dates are GMT+8
MAX_RESULTS = 1500  # what one query can return
PAGE_SIZE = 150
MAX_PAGE_NO = 200
HISTORY = timedelta(days=180)
MIN_WINDOW = timedelta(minutes=1)
FIELDS = "tid,oid,nick,result,created,item_title,item_price,content,reply,valid_score"
_RESULTS = {"neutral": "中评", "bad": "差评"}

# The platform's common error codes, with what the shop should do (in Chinese).
_ERRORS: dict[int, str] = {
    7: "调用太频繁，被开放平台限流了：请过几分钟再试，或把定时拉取的间隔调长一些。",
    11: "应用没有调用这个接口的权限：请在开放平台控制台给应用申请评价相关接口（taobao.traderates.get）的权限。",
    15: "开放平台内部出错：请稍后重试。",
    21: "缺少 method 参数（csbot 的问题，请报告）。",
    22: "接口名称不对（csbot 的问题，请报告）。",
    25: "签名不对：请检查 CSBOT_TOP_APP_SECRET 是否是这个 AppKey 的密钥。",
    26: "缺少授权：请设置 CSBOT_TOP_SESSION（店铺授权给应用后得到的 SessionKey）。",
    27: "店铺授权（SessionKey）已过期或无效：请店铺主账号重新授权应用，把新的 SessionKey 填到 CSBOT_TOP_SESSION。",
    28: "缺少 AppKey：请设置 CSBOT_TOP_APP_KEY。",
    29: "AppKey 不对：请检查 CSBOT_TOP_APP_KEY。",
    31: "时间戳不对：请检查本机时间（与北京时间相差不能超过 10 分钟）。",
    40: "缺少必填参数（csbot 的问题，请报告）。",
    41: "参数不对：请检查 --since/--until 的日期。",
}


class TopError(Exception):
    """An error answer of the platform, or no answer; ``message`` is Chinese with what to do."""

    def __init__(self, message: str, code: int | None = None, sub_code: str | None = None) -> None:
        super().__init__(message)
        self.message, self.code, self.sub_code = message, code, sub_code


def sign(params: Mapping[str, str], secret: str, method: SignMethod = "md5") -> str:
    """The platform's signature of the parameters (all but ``sign``)."""
    text = "".join(f"{k}{v}" for k, v in sorted(params.items()) if k != "sign" and k and v)
    if method == "md5":
        return hashlib.md5((secret + text + secret).encode()).hexdigest().upper()
    return hmac.new(secret.encode(), text.encode(), hashlib.md5).hexdigest().upper()


def fmt(when: datetime) -> str:
    return when.astimezone(CN).strftime("%Y-%m-%d %H:%M:%S")


def parse_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=CN)


@dataclass(frozen=True)
class TopConfig:
    app_key: str
    secret: str
    session: str
    base: str = "https://eco.taobao.com/router/rest"
    sign_method: SignMethod = "md5"

    @classmethod
    def from_settings(cls, s: Any) -> TopConfig:
        missing = [name for name, value in (("CSBOT_TOP_APP_KEY", s.top_app_key),
                                            ("CSBOT_TOP_APP_SECRET", s.top_app_secret),
                                            ("CSBOT_TOP_SESSION", s.top_session)) if not value]
        if missing:
            raise TopError(f"没有配置开放平台：缺少 {'、'.join(missing)}（在开放平台控制台创建应用、"
                           "店铺授权后得到）")
        return cls(s.top_app_key, s.top_app_secret, s.top_session, s.top_api_base, s.top_sign_method)


class TopClient:
    """Calls on one aiohttp session; ``now`` is injectable for tests."""

    def __init__(self, config: TopConfig, session: aiohttp.ClientSession,
                 now: Any = None) -> None:
        self.config, self.http = config, session
        self.now = now or (lambda: datetime.now(CN))
        self.calls = 0

    async def call(self, method: str, **business: Any) -> dict[str, Any]:
        params = {"method": method, "app_key": self.config.app_key, "session": self.config.session,
                  "timestamp": fmt(self.now()), "format": "json", "v": "2.0",
                  "sign_method": self.config.sign_method, "simplify": "false"}
        params.update({k: str(v) for k, v in business.items() if v is not None})
        params["sign"] = sign(params, self.config.secret, self.config.sign_method)
        self.calls += 1
        try:
            async with self.http.post(self.config.base, data=params,
                                      timeout=aiohttp.ClientTimeout(total=30)) as resp:
                if resp.status >= 500:
                    raise TopError(f"开放平台暂时不可用（HTTP {resp.status}）：请稍后重试。")
                body = await resp.json(content_type=None)
        except aiohttp.ClientError as exc:
            raise TopError(f"连不上开放平台（{self.config.base}）：{exc}；请检查网络或 CSBOT_TOP_API_BASE。") from None
        except TimeoutError:
            raise TopError("开放平台 30 秒没有回应：请稍后重试。") from None
        except ValueError:
            raise TopError("开放平台的回应不是 JSON：请检查 CSBOT_TOP_API_BASE。") from None
        if not isinstance(body, dict):
            raise TopError("开放平台的回应看不懂。")
        err = body.get("error_response")
        if isinstance(err, dict):
            raise _error(err)
        key = method.removeprefix("taobao.").replace(".", "_") + "_response"
        out = body.get(key)
        if not isinstance(out, dict):
            raise TopError("开放平台的回应里没有结果。")
        return out

    async def _page(self, result: str, start: datetime, end: datetime,
                    page_no: int) -> tuple[int, list[dict[str, Any]]]:
        out = await self.call("taobao.traderates.get", fields=FIELDS, rate_type="get", role="buyer",
                              result=result, start_date=fmt(start), end_date=fmt(end), page_no=page_no,
                              page_size=PAGE_SIZE)
        rates = ((out.get("trade_rates") or {}).get("trade_rate")) or []
        return int(out.get("total_results") or 0), [r for r in rates if isinstance(r, dict)]

    async def rates(self, start: datetime, end: datetime) -> AsyncIterator[dict[str, Any]]:
        """Every 中评 and 差评 received between ``start`` and ``end`` (split into windows of at
        most 1,500 results each), as the platform's dicts."""
        seen: set[tuple[str, str]] = set()  # a window's end is the next one's start: both include it
        for result in _RESULTS:
            async for rate in self._window(result, start, end):
                key = (str(rate.get("tid")), str(rate.get("oid")))
                if key not in seen:
                    seen.add(key)
                    yield rate

    async def _window(self, result: str, start: datetime, end: datetime) -> AsyncIterator[dict[str, Any]]:
        total, first = await self._page(result, start, end, 1)
        if total > MAX_RESULTS and end - start > MIN_WINDOW:
            middle = start + (end - start) / 2
            async for r in self._window(result, start, middle):
                yield r
            async for r in self._window(result, middle, end):
                yield r
            return
        for r in first:
            yield r
        pages = min(-(-min(total, MAX_RESULTS) // PAGE_SIZE), MAX_PAGE_NO)
        for page_no in range(2, pages + 1):
            _, rates = await self._page(result, start, end, page_no)
            for r in rates:
                yield r

    async def explain(self, tid: str, oid: str, reply: str) -> None:
        """Post the seller's public explanation of a review (the platform takes one per review)."""
        out = await self.call("taobao.traderate.explain.add", tid=tid, oid=oid, reply=reply)
        if out.get("is_success") is False:
            raise TopError("开放平台没有接受这条解释（可能已经解释过一次）。")


def _error(err: dict[str, Any]) -> TopError:
    try:
        code: int | None = int(err.get("code"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        code = None
    sub_code = str(err.get("sub_code") or "") or None
    detail = str(err.get("sub_msg") or err.get("msg") or "")[:200]
    if sub_code and "session" in sub_code.lower() and code != 27:
        code = 27 if "invalid" in sub_code.lower() or "expire" in sub_code.lower() else code
    text = _ERRORS.get(code or 0, "开放平台返回了错误：请按下面的说明检查设置，或稍后重试。")
    return TopError(f"{text}（错误码 {code}{'，' + sub_code if sub_code else ''}：{detail}）", code, sub_code)


def clamp(since: datetime, until: datetime, now: datetime) -> tuple[datetime, datetime, bool]:
    """The range the platform can answer (the last 180 days, not the future); whether it was cut."""
    earliest = now - HISTORY + timedelta(minutes=5)
    until = min(until, now)
    cut = since < earliest
    return max(since, earliest), until, cut


def review_of_rate(rate: dict[str, Any], *, shop: str, platform: str, tz: tzinfo = CN) -> ReviewIn | None:
    """A platform rate as a review to import (None for a 好评 or a rate without an order)."""
    rating = _RESULTS.get(str(rate.get("result") or ""))
    tid, nick = str(rate.get("tid") or ""), str(rate.get("nick") or "").strip()
    if rating is None or not tid or not nick:
        return None
    created = rate.get("created")
    return ReviewIn(shop=shop, order_id=tid, sub_order_id=str(rate.get("oid") or ""), buyer_name=nick[:50],
                    product=(str(rate.get("item_title") or "") or None) and str(rate["item_title"])[:200],
                    rating=rating,  # type: ignore[arg-type]
                    review_text=(str(rate.get("content") or "").replace("\x00", "")[:2000] or None),
                    review_time=parse_time(str(created)).astimezone(tz) if created else None,
                    platform=platform,  # type: ignore[arg-type]
                    shop_reply=str(rate.get("reply") or "").replace("\x00", "").strip()[:2000] or None,
                    source="top", explained=bool(str(rate.get("reply") or "").strip()))
