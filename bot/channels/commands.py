"""The agent's team-chat commands, the same on every platform: parsing only.

``/new 买家名 商品 下单日期 [评价内容]`` (``/新建``), ``/me 文本`` (``/我``), ``/status``,
``/hint``, ``/tone 正式|亲切``, ``/end 结果``, ``/help``, ``/switch``; plain text is what the
buyer said. A full-width slash ``／`` works too, a Telegram ``/new@bot`` suffix is dropped,
and ``csbot new …`` or ``/csbot new …`` (Slack, whose client owns the leading slash) are
the same as ``/new …``. Running a command against the store is the pipeline's job.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel

from bot.labels import Labels
from bot.models import Outcome, Tone

Kind = Literal["new", "me", "buyer", "status", "hint", "tone", "end", "help", "switch", "invalid"]

ALIASES: dict[str, Kind] = {
    "new": "new", "open": "new", "新建": "new", "新案例": "new", "开始": "new",
    "me": "me", "agent": "me", "我": "me", "客服": "me",
    "buyer": "buyer", "b": "buyer", "买": "buyer", "买家": "buyer",
    "status": "status", "状态": "status", "进度": "status",
    "hint": "hint", "提示": "hint", "建议": "hint",
    "tone": "tone", "语气": "tone",
    "end": "end", "close": "end", "结束": "end", "结案": "end",
    "help": "help", "帮助": "help",
    "switch": "switch", "切换": "switch", "cases": "switch", "列表": "switch",
}

TONES: dict[str, Tone] = {
    "正式": "正式", "formal": "正式",
    "亲切": "亲切", "friendly": "亲切", "warm": "亲切", "casual": "亲切",
}

OUTCOMES: dict[str, Outcome] = {
    "已解决": "resolved", "解决": "resolved", "resolved": "resolved",
    "已改评": "review_updated", "改评": "review_updated", "已修改评价": "review_updated",
    "review_updated": "review_updated",
    "未改评": "review_kept", "不改评": "review_kept", "保留评价": "review_kept",
    "review_kept": "review_kept",
    "约定回访": "callback", "回访": "callback", "callback": "callback",
    "恶意": "malicious", "恶意买家": "malicious", "malicious": "malicious",
    "升级处理": "escalated", "升级": "escalated", "转交": "escalated", "escalated": "escalated",
    "联系不上": "unreachable", "未接通": "unreachable", "unreachable": "unreachable",
    "找错人": "wrong_person", "非本人": "wrong_person", "wrong_person": "wrong_person",
}

USAGE: dict[str, str] = {
    "new": "/new 买家名 商品 下单日期 [评价内容]，例如：/new 周敏 连衣裙 2024-05-01 差评 颜色不对",
    "me": "/me 您发给买家的话",
    "buyer": "/buyer 买家说的话",
    "tone": "/tone 正式|亲切",
    "end": "/end 结果（{outcomes}）",
}

HELP = """csbot 售后中差评沟通助手，可用命令（中英文均可，斜杠也可以用全角“／”）：
/new 买家名 商品 下单日期 [评价内容] — 开一个新案例，回复开场话术（也可用 /新建）
  例：/new 周敏 连衣裙 2024-05-01 差评 颜色和图片不一样
直接发文字 — 当作买家说的话，回复下一步建议
/me 文本 — 您（客服）发给买家的话，会做合规检查并提醒（也可用 /我）
/buyer 文本 — 明确标为买家的话，转发以“/”开头的原话时用（也可用 /买）
/status — 当前阶段和进度（也可用 /状态）
/hint — 再给一次当前阶段的建议（也可用 /提示）
/tone 正式|亲切 — 切换建议话术的语气（也可用 /语气）
/end 结果 — 结束当前案例（也可用 /结束）
  结果：{outcomes}
/switch [编号或买家名] — 不带参数列出您在本会话的案例，带参数切换过去（也可用 /切换）
/help — 显示本帮助（也可用 /帮助）
每位客服在每个会话里同一时间只有一个进行中的案例。Slack 中请用 /csbot new … 或 csbot new …。"""


class Command(BaseModel):
    """One parsed chat message: a command with its arguments, or the buyer's words."""

    kind: Kind
    text: str = ""  # me / buyer: the message itself
    buyer_name: str | None = None
    product: str | None = None
    order_date: date | None = None
    review_rating: Literal["中评", "差评"] | None = None
    review_text: str | None = None
    tone: Tone | None = None
    outcome: Outcome | None = None
    target: str | None = None  # switch: a case number or buyer name
    error: str | None = None  # invalid: what to tell the agent, in Chinese

    def case_fields(self) -> dict[str, Any]:
        """The Case fields a ``/new`` carries (the pipeline adds shop, channel and agent)."""
        fields = {"buyer_name": self.buyer_name, "product": self.product,
                  "order_date": self.order_date, "review_rating": self.review_rating,
                  "review_text": self.review_text}
        return {k: v for k, v in fields.items() if v is not None}


_COMMAND = re.compile(r"/([A-Za-z\u4e00-\u9fff]+)(?:@[\w.]+)?(.*)$", re.DOTALL)
_PREFIX = re.compile(r"/?csbot(?:@[\w.]+)?(?:\s+(.*))?$", re.DOTALL | re.IGNORECASE)
_YMD = re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?")
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")
_MD = re.compile(r"(\d{1,2})[-/.月](\d{1,2})日?")


_CJK_ALIASES = sorted((a for a in ALIASES if not a.isascii()), key=len, reverse=True)


def _cjk_prefix(word: str) -> str | None:
    return next((a for a in _CJK_ALIASES if word.startswith(a)), None)


def _invalid(message: str) -> Command:
    return Command(kind="invalid", error=message)


# The outcomes by their bundled names, for a caller without the engine's labels.
_BUNDLED_OUTCOMES = "已解决、已改评、未改评、约定回访、恶意、升级处理、联系不上、找错人"


def _outcomes(labels: Labels | None) -> str:
    """The outcomes a person may write after /end, by the engine's (the shop's) names."""
    return "、".join(labels.names["outcome"].values()) if labels is not None else _BUNDLED_OUTCOMES


def help_text(labels: Labels | None = None) -> str:
    """The chat's /help, with the outcomes by the engine's names."""
    return HELP.format(outcomes=_outcomes(labels))


def _usage(kind: str, why: str = "", labels: Labels | None = None) -> Command:
    return _invalid(f"{why}用法：{USAGE[kind].format(outcomes=_outcomes(labels))}")


def parse_date(token: str, today: date | None = None) -> date | None:
    """A Chinese-style order date (2024-05-01, 2024/5/1, 2024年5月1日, 20240501), or None.

    Month and day alone (5月1日, 5-1) need ``today`` for the year: the latest such date
    not after today.
    """
    s = unicodedata.normalize("NFKC", token).strip()
    try:
        if m := _YMD.fullmatch(s):
            return date(int(m[1]), int(m[2]), int(m[3]))
        if m := _COMPACT.fullmatch(s):
            return date(int(m[1]), int(m[2]), int(m[3]))
        if (m := _MD.fullmatch(s)) and today is not None:
            d = date(today.year, int(m[1]), int(m[2]))
            return d if d <= today else d.replace(year=today.year - 1)
    except ValueError:  # 2024-02-30 and the like
        return None
    return None


def _parse_new(args: str, today: date | None) -> Command:
    tokens = list(re.finditer(r"\S+", args))
    if len(tokens) < 3:
        return _usage("new", "缺少参数。")
    # the date is the first token from the third on that parses: products may contain spaces
    for i in range(2, len(tokens)):
        when = parse_date(tokens[i].group(), today)
        if when is not None:
            break
    else:
        return _usage("new", f"下单日期“{tokens[2].group()}”看不懂，请写成 2024-05-01。")
    name = tokens[0].group()
    product = " ".join(t.group() for t in tokens[1:i])
    review = args[tokens[i].end():].strip()
    rating: Literal["中评", "差评"] | None = None
    for r in ("中评", "差评"):
        if review.startswith(r):
            rating, review = r, review[len(r):].lstrip(" ：:，,\u3000")
    if len(name) > 50 or len(product) > 200 or len(review) > 2000:
        return _invalid("买家名最多 50 字、商品最多 200 字、评价内容最多 2000 字。")
    return Command(kind="new", buyer_name=name, product=product, order_date=when,
                   review_rating=rating, review_text=review or None)


def parse_command(text: str, today: date | None = None, labels: Labels | None = None) -> Command:
    """The command in one chat message; plain text is the buyer's words. ``labels``: the
    engine's, so ``/end`` also takes an outcome by the shop's own name for it."""
    s = text.strip()
    if s.startswith("／"):
        s = "/" + s[1:]
    if m := _PREFIX.match(s):
        rest = (m[1] or "").strip()
        if not rest:
            return Command(kind="help")
        if rest.startswith("／"):
            rest = "/" + rest[1:]
        s = rest if rest.startswith("/") else "/" + rest
    if not s:
        return Command(kind="help")
    m = _COMMAND.match(s)
    if m is None:  # "/:)" and other text that merely starts with a slash
        return Command(kind="buyer", text=text.strip())
    word = unicodedata.normalize("NFKC", m[1]).lower()
    glued = bool(m[2]) and not m[2][0].isspace()  # "/我您好，…" or "/status!"
    args = m[2].strip()
    kind = None if glued else ALIASES.get(word)
    if kind is None and (alias := _cjk_prefix(word)):  # Chinese needs no space after it
        kind, args = ALIASES[alias], s[1 + len(alias):].strip()
    if kind is None and glued:
        return Command(kind="buyer", text=text.strip())
    first = args.split()[0].lower() if args else ""
    if kind is None:
        return _invalid(f"未知命令 /{m[1]}。发送 /help 查看可用命令；"
                        "如要转发以“/”开头的买家原话，请用 /买 原话。")
    if kind == "new":
        return _parse_new(args, today)
    if kind in ("me", "buyer"):
        return Command(kind=kind, text=args) if args else _usage(kind)
    if kind == "tone":
        tone = TONES.get(first)
        return Command(kind="tone", tone=tone) if tone else _usage("tone")
    if kind == "end":
        outcome: str | None = OUTCOMES.get(first)
        if outcome is None and labels is not None and first:
            try:
                outcome = labels.code("outcome", args.split()[0])
            except ValueError:
                outcome = None
        return Command(kind="end", outcome=outcome) if outcome else _usage("end", labels=labels)
    if kind == "switch":
        return Command(kind="switch", target=args or None)
    return Command(kind=kind)
