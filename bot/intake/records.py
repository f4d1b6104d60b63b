"""One review as the intake takes it in, from a file's row or the open platform; and how
a row's raw values become it (ratings, platforms and times as shops' exports write them)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

Rating = Literal["好评", "中评", "差评"]

# The fields a row may carry, and the header names exports use for each (compared without
# case, spaces, underscores or a trailing colon).
FIELDS: dict[str, tuple[str, ...]] = {
    "order_id": ("订单编号", "订单号", "主订单号", "主订单编号", "订单id", "tid", "order_id", "orderid", "order"),
    "sub_order_id": ("子订单", "子订单号", "子订单编号", "子订单id", "oid", "sub_order_id", "suborderid", "suborder"),
    "buyer_name": ("买家", "买家昵称", "买家会员名", "买家名称", "会员名", "nick", "buyer", "buyer_nick", "buyername"),
    "product": ("宝贝", "商品", "宝贝名称", "商品名称", "宝贝标题", "商品标题", "item_title", "itemtitle", "product",
                "title"),
    "rating": ("评价结果", "评价等级", "评价类型", "评价", "评价级别", "评分", "星级", "评价星级", "买家评分",
               "商品评分", "宝贝评分", "评价分数", "好中差评", "result", "rating", "rate", "score", "stars", "star"),
    "review_text": ("评价内容", "内容", "评论内容", "评论", "content", "review", "review_text", "comment"),
    # when the order was placed: the opening says "您3月2日买的…" (Case.order_date)
    "order_date": ("下单时间", "下单日期", "付款时间", "付款日期", "订单创建时间", "创建订单时间", "拍下时间",
                   "成交时间", "order_time", "order_date", "pay_time", "paid_at"),
    "review_time": ("评价时间", "评论时间", "时间", "created", "review_time", "created_at", "time", "date"),
    # the buyer's follow-up review (追评: often where the real complaint is) and the shop's
    # reply already posted under the review (商家回复/解释: one per review)
    "followup_text": ("追评内容", "追评", "追加评论", "追加评论内容", "追加评价", "追加评价内容", "追评文字",
                      "append_content", "followup", "followup_text"),
    "followup_time": ("追评时间", "追加评论时间", "追加评价时间", "append_time", "followup_time"),
    "shop_reply": ("商家回复", "商家回复内容", "卖家回复", "商家解释", "卖家解释", "解释内容", "掌柜回复",
                   "回复内容", "reply", "shop_reply", "seller_reply"),
    "shop": ("店铺", "店铺名", "店铺名称", "shop", "shop_name", "store"),
    "platform": ("平台", "platform", "来源平台", "店铺类型"),
}
FIELD_LABELS = {"order_id": "订单编号", "sub_order_id": "子订单", "buyer_name": "买家昵称", "product": "宝贝",
                "rating": "评价结果", "review_text": "评价内容", "order_date": "下单时间", "review_time": "评价时间",
                "followup_text": "追评内容", "followup_time": "追评时间", "shop_reply": "商家回复", "shop": "店铺",
                "platform": "平台"}
REQUIRED = ("order_id", "buyer_name", "rating")

_RATINGS = {"好评": "好评", "good": "好评", "positive": "好评", "1": "好评", "5": "好评",
            "中评": "中评", "neutral": "中评", "medium": "中评", "0": "中评", "3": "中评",
            "差评": "差评", "bad": "差评", "negative": "差评", "-1": "差评",
            # stars as 评分/星级 columns write them (a bare number is read by the file's scale)
            **{f"{n}{unit}": v for n, v in (("1", "差评"), ("2", "差评"), ("3", "中评"), ("4", "好评"),
                                            ("5", "好评")) for unit in ("星", "分", ".0")},
            **{"★" * n: v for n, v in ((1, "差评"), (2, "差评"), (3, "中评"), (4, "好评"), (5, "好评"))}}
# A row longer than its header carries cells no column names (a comma the export did not
# quote shifts the columns): the file reader puts them here and the row is refused, not cut.
EXTRA = "_extra"
_PLATFORMS = {"淘宝": "taobao", "taobao": "taobao", "c": "taobao", "tb": "taobao", "淘宝网": "taobao",
              "天猫": "tmall", "tmall": "tmall", "b": "tmall", "tm": "tmall", "天猫商城": "tmall"}
_DATE = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
                   r"(?:[\sT]+(\d{1,2})\s*[:：时]\s*(\d{1,2})(?:\s*[:：分]\s*(\d{1,2})(?:\.\d+)?)?\s*秒?)?\s*$")


def header_key(name: str) -> str:
    return re.sub(r"[\s_\-:：*]+", "", name.replace("\ufeff", "")).casefold()


ALIASES: dict[str, str] = {header_key(a): f for f, names in FIELDS.items() for a in names}
ALIASES.update({header_key(label): f for f, label in FIELD_LABELS.items()})


class RowError(ValueError):
    """A row that cannot be imported; the message says why, in Chinese."""


class ReviewIn(BaseModel):
    """A review to import: one 中评 or 差评 of one sub-order."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    shop: str = Field(min_length=1, max_length=100)
    order_id: str = Field(min_length=1, max_length=100)
    sub_order_id: str = Field(default="", max_length=100)
    buyer_name: str = Field(min_length=1, max_length=50)
    product: str | None = Field(default=None, max_length=200)
    rating: Literal["中评", "差评"]
    review_text: str | None = Field(default=None, max_length=2000)
    order_date: date | None = None
    review_time: datetime | None = None
    followup_text: str | None = Field(default=None, max_length=2000)
    followup_time: datetime | None = None
    shop_reply: str | None = Field(default=None, max_length=2000)
    platform: Literal["taobao", "tmall"] = "taobao"
    source: Literal["file", "top"] = "file"
    explained: bool = False  # the platform shows a seller's explanation already (one per review)

    @property
    def key(self) -> tuple[str, str, str]:
        return self.shop, self.order_id, self.sub_order_id


# A bare 1 is 好评 on the 1/0/-1 scale some exports use, and the worst review on a star scale:
# a file whose ratings include 2 to 5 (never on the 1/0/-1 scale) is read in stars, so that its
# 1-star reviews open cases instead of passing as 好评.
_STARS = {"1": "差评", "2": "差评", "3": "中评", "4": "好评", "5": "好评"}


def star_scale(ratings: Iterable[object]) -> bool:
    """Whether a file's ratings are stars (see _STARS)."""
    return any(_cell(r) in ("2", "3", "4", "5") for r in ratings if r is not None)  # 3.0 from Excel too


def rating_of(raw: str, stars: bool = False) -> str:
    key = raw.strip().casefold()
    value = (_STARS.get(key) if stars else None) or _RATINGS.get(key)
    if value is None:
        raise RowError(f"评价结果“{raw.strip()[:20]}”看不懂（应为 好评/中评/差评 或 good/neutral/bad）")
    return value


def platform_of(raw: str) -> str:
    value = _PLATFORMS.get(raw.strip().casefold())
    if value is None:
        raise RowError(f"平台“{raw.strip()[:20]}”看不懂（应为 淘宝 或 天猫）")
    return value


def time_of(raw: object, tz: tzinfo, label: str = "评价时间") -> datetime:
    """A review time: a datetime (from Excel) or text such as 2026-03-02 10:15:00,
    2026/3/2 10:15 or 2026年3月2日; without a zone it is the shop's local time."""
    if isinstance(raw, datetime):
        value = raw
    else:
        text = str(raw).strip()
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            m = _DATE.match(text)
            if m is None:
                raise RowError(f"{label}“{text[:30]}”看不懂（应写成 2026-03-02 10:15:00）") from None
            try:
                y, mo, d, h, mi, sec = (int(g) if g is not None else 0 for g in m.groups())
                value = datetime(y, mo, d, h, mi, sec)
            except ValueError:
                raise RowError(f"{label}“{text[:30]}”不是有效的日期") from None
    return value if value.tzinfo else value.replace(tzinfo=tz)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


_SCIENTIFIC = re.compile(r"^\s*\d(?:\.\d+)?[eE]\+?\d+\s*$")


def _whole_number(value: object, label: str) -> None:
    """An order number Excel turned into a number has lost its last digits (it keeps 15):
    such a row cannot be matched to its order, so it is refused with what to do."""
    lost = (isinstance(value, float) and abs(value) >= 1e15) or \
        (isinstance(value, str) and _SCIENTIFIC.match(value) is not None)
    if lost:
        raise RowError(f"{label}被 Excel 存成了数字（{str(value).strip()[:24]}），后几位已经丢失："
                       "请把这一列设成“文本”后重新导出")


def review_of(row: dict[str, object], *, shop: str, platform: str, tz: tzinfo,
              now: datetime | None = None, stars: bool = False) -> ReviewIn | None:
    """The review in a row of canonical fields; None for a 好评 (no case); RowError for a bad row.
    ``stars``: the file's ratings are stars (star_scale)."""
    extra = row.get(EXTRA)
    if isinstance(extra, list) and extra:
        shown = "、".join(f"“{str(c).strip()[:20]}”" for c in extra[:3]) + ("……" if len(extra) > 3 else "")
        raise RowError(f"这一行比表头多 {len(extra)} 格（{shown}）：可能是某格内容里有逗号却没加引号，"
                       "列已错位；请改好这一行后重新导入")
    for f in REQUIRED:
        if not _cell(row.get(f)):
            raise RowError(f"缺少{FIELD_LABELS[f]}")
    rating = rating_of(_cell(row["rating"]), stars)
    if rating == "好评":
        return None
    when = row.get("review_time")
    review_time = time_of(when, tz) if when not in (None, "") else None
    if review_time is not None and review_time > (now or datetime.now(UTC)) + timedelta(days=1):
        raise RowError(f"评价时间 {review_time:%Y-%m-%d %H:%M} 在将来")
    when = row.get("order_date")
    order_date = time_of(when, tz, FIELD_LABELS["order_date"]).date() if when not in (None, "") else None
    for f in ("order_id", "sub_order_id"):
        _whole_number(row.get(f), FIELD_LABELS[f])
    order_id = _cell(row["order_id"])
    if "\x00" in order_id or not re.fullmatch(r"[\w\-]+", order_id):
        raise RowError(f"订单编号“{order_id[:30]}”里有不该有的字符")
    text = _cell(row.get("review_text")) or None
    followup = _cell(row.get("followup_text")) or None
    reply = _cell(row.get("shop_reply")) or None
    when = row.get("followup_time")
    followup_time = time_of(when, tz) if followup and when not in (None, "") else None
    try:
        return ReviewIn(
            shop=_cell(row.get("shop")) or shop, order_id=order_id,
            sub_order_id=_cell(row.get("sub_order_id")), buyer_name=_cell(row["buyer_name"]),
            product=_cell(row.get("product")) or None, rating=rating,  # type: ignore[arg-type]
            review_text=text.replace("\x00", "") if text else None, review_time=review_time, order_date=order_date,
            followup_text=followup.replace("\x00", "") if followup else None, followup_time=followup_time,
            shop_reply=reply.replace("\x00", "") if reply else None, explained=reply is not None,
            platform=platform_of(_cell(row["platform"])) if _cell(row.get("platform")) else platform,  # type: ignore[arg-type]
        )
    except ValidationError as exc:
        raise RowError(_why(exc)) from None


def _why(exc: ValidationError) -> str:
    parts = []
    for e in exc.errors()[:3]:
        field = FIELD_LABELS.get(str(e["loc"][0]), str(e["loc"][0])) if e["loc"] else "这一行"
        if e["type"] == "string_too_long":
            parts.append(f"{field}太长（最多 {e.get('ctx', {}).get('max_length')} 个字）")
        elif e["type"] == "string_too_short":
            parts.append(f"缺少{field}")
        else:
            parts.append(f"{field}不对")
    return "；".join(parts)
