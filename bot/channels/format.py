"""A Suggestion as one chat message: a title and a body in plain text, Markdown or Slack mrkdwn."""

from __future__ import annotations

from typing import Literal

from bot.models import AgentUnderstanding, BuyerUnderstanding, Suggestion

Style = Literal["plain", "markdown", "slack"]

INTENT_ZH = {
    "affirm": "肯定", "deny": "否定", "wrong_person": "找错人", "busy": "没空", "complain": "抱怨",
    "ask": "询问", "want_return": "想退货", "want_exchange": "想换货", "want_refund": "想退款",
    "want_compensation": "想要补偿", "agree_review": "同意改评", "refuse_review": "拒绝改评",
    "extort": "索要好处", "threaten": "威胁投诉", "end": "想结束", "other": "其他",
}
CAUSE_ZH = {
    "quality": "质量问题", "not_as_described": "与描述不符", "size_fit": "尺码不合适",
    "logistics": "物流问题", "wrong_missing": "错发漏发", "service": "客服态度",
    "price_value": "价格不值", "counterfeit": "怀疑假货",
}
EMOTION_ZH = {"calm": "平静", "upset": "不满", "angry": "愤怒"}
ACT_ZH = {
    "greet_identify": "问候确认", "introduce": "自我介绍", "confirm_product": "确认商品",
    "apologize": "道歉", "empathize": "共情", "ask_detail": "询问细节", "explain": "解释原因",
    "offer_remedy": "提供方案", "request_review": "请求改评", "guide_review": "指导改评",
    "thank": "致谢", "close": "结束语", "blame_buyer": "指责买家",
}
SEVERITY_ZH = {"block": "禁止", "warn": "注意", "info": "提示"}


def _bold(text: str, style: Style) -> str:
    # the space after the closing mark: next to CJK text, Markdown and mrkdwn drop the bold
    if style == "markdown":
        return f"**{text}** "
    if style == "slack":
        return f"*{text}* "
    return text


def format_suggestion(sug: Suggestion, style: Style = "plain") -> tuple[str, str]:
    """(title, body) of one Suggestion for a chat message, in Chinese."""
    title = f"话术建议 · {sug.stage.label}（{sug.progress.step}/{sug.progress.of}）"
    lines: list[str] = []
    u = sug.understanding
    if isinstance(u, BuyerUnderstanding):
        cause = CAUSE_ZH.get(u.cause, u.cause) if u.cause else "—"
        lines.append(f"买家：{INTENT_ZH.get(u.intent, u.intent)}｜原因：{cause}｜"
                     f"情绪：{EMOTION_ZH.get(u.emotion, u.emotion)}")
    elif isinstance(u, AgentUnderstanding):
        lines.append("客服动作：" + ("、".join(ACT_ZH.get(a, a) for a in u.acts) or "—"))
    for w in sug.warnings:
        lines.append(f"⚠ {_bold('【' + SEVERITY_ZH.get(w.severity, w.severity) + '】', style)}"
                     f"{w.message}")
    if sug.suggestions:
        lines.append(_bold("建议回复：", style))
        for i, s in enumerate(sug.suggestions, 1):
            lines.append(f"{i}. {s.text}")
    if sug.remedies:
        lines.append(_bold("可选补救：", style) + "；".join(r.label for r in sug.remedies))
    if sug.public_reply:
        lines.append(_bold("评价解释（公开回复）：", style) + sug.public_reply)
    if sug.checklist:
        lines.append(_bold("检查项：", style) + "  ".join(
            ("☑ " if c.done else "☐ ") + c.item for c in sug.checklist))
    sep = "\n\n" if style == "markdown" else "\n"  # Markdown needs blank lines between blocks
    return title, sep.join(lines)
