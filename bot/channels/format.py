"""A Suggestion as one chat message: a title and a body in plain text, Markdown or Slack mrkdwn."""

from __future__ import annotations

from typing import Literal

from bot.labels import Labels
from bot.models import AgentUnderstanding, BuyerUnderstanding, Suggestion

Style = Literal["plain", "markdown", "slack"]


def _bold(text: str, style: Style) -> str:
    # the space after the closing mark: next to CJK text, Markdown and mrkdwn drop the bold
    if style == "markdown":
        return f"**{text}** "
    if style == "slack":
        return f"*{text}* "
    return text


def format_suggestion(sug: Suggestion, labels: Labels, style: Style = "plain") -> tuple[str, str]:
    """(title, body) of one Suggestion for a chat message, in Chinese (the names of the
    engine's ``labels``: a shop's own names show as they do in the sidebar and the report)."""
    title = f"话术建议 · {sug.stage.label}（{sug.progress.step}/{sug.progress.of}）"
    lines: list[str] = []
    u = sug.understanding
    if isinstance(u, BuyerUnderstanding):
        # a message that names no cause ("嗯", "好的") is about the case's: shown, not "—"
        said = u.cause or sug.case_cause
        cause = labels.name("cause", said) if said else "—"
        lines.append(f"买家：{labels.intent_of(u.intent, u.amount)}｜{labels.heading('cause')}：{cause}｜"
                     f"{labels.heading('emotion')}：{labels.name('emotion', u.emotion)}")
    elif isinstance(u, AgentUnderstanding):
        lines.append(f"{labels.heading('act')}：" + ("、".join(labels.name("act", a) for a in u.acts) or "—"))
    for w in sug.warnings:
        # a chat has no command that confirms a "可能…" note: the sidebar's button does
        how = w.action.how("在侧边栏点“确认”") if w.action is not None else ""
        lines.append(f"⚠ {_bold('【' + labels.name('severity', w.severity) + '】', style)}"
                     f"{w.message}{how}")
        if w.rewrite:
            lines.append(f"建议改为：{w.rewrite}")
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
