"""Escalation: an agent asks a supervisor to join a case.

The supervisor is told first, through the webhook in ``CSBOT_ESCALATION_WEBHOOK`` (a team
chat's group robot or any HTTP endpoint); only when that message was taken does the case
move to 升级处理 with "已请主管介入" ticked. Nobody is told → nothing changes, and the agent
sees why next to the button.

The body follows the receiver: WeCom and DingTalk group robots take
``{"msgtype":"text","text":{"content":…}}``, Feishu's ``{"msg_type":"text","content":{"text":…}}``,
Slack's incoming webhooks ``{"text":…}``; anything else gets plain JSON with the case's fields.
The kind is guessed from the URL's host; ``CSBOT_ESCALATION_FORMAT`` overrides the guess.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast, get_args

import aiohttp
from aiohttp import web
from yarl import URL

from bot.channels.base import ConfigError, DeliveryError
from bot.channels.outbound import RetryPolicy, call_api, failure
from bot.server.api import ConversationOut, EscalateIn
from bot.server.errors import ApiError, read_model
from bot.store.mask import mask
from bot.store.views import ConversationSummary

log = logging.getLogger("csbot.server.escalation")

Kind = Literal["json", "wecom", "dingtalk", "feishu", "slack"]
KINDS: tuple[str, ...] = get_args(Kind)
ENV_URL, ENV_KIND = "CSBOT_ESCALATION_WEBHOOK", "CSBOT_ESCALATION_FORMAT"
_HOSTS: tuple[tuple[str, Kind], ...] = (
    ("qyapi.weixin.qq.com", "wecom"), ("oapi.dingtalk.com", "dingtalk"),
    ("open.feishu.cn", "feishu"), ("open.larksuite.com", "feishu"), ("hooks.slack.com", "slack"))
# The agent is waiting on the button: a few quick tries, not the channels' patient backoff.
POLICY = RetryPolicy(attempts=3, base_delay=0.3, max_delay=2.0, timeout=5.0)


def guess_kind(url: str) -> Kind:
    host = URL(url).host or ""
    return next((kind for suffix, kind in _HOSTS if host == suffix or host.endswith("." + suffix)), "json")


@dataclass(frozen=True)
class Notifier:
    url: str
    kind: Kind

    def body(self, text: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        if self.kind in ("wecom", "dingtalk"):
            return {"msgtype": "text", "text": {"content": text}}
        if self.kind == "feishu":
            return {"msg_type": "text", "content": {"text": text}}
        if self.kind == "slack":
            return {"text": text}
        return {"event": "escalation", "text": text, **fields}

    async def send(self, http: aiohttp.ClientSession, text: str, fields: Mapping[str, Any]) -> None:
        """Deliver the notice, or raise DeliveryError (logged and counted by the outbound module)."""
        answer = await call_api(http, "POST", self.url, platform="escalation", policy=POLICY,
                                json_body=self.body(text, fields))
        if not 200 <= answer.status < 300:
            raise failure("escalation", f"http_{answer.status}", f"接收方拒绝了通知（HTTP {answer.status}）",
                          answer.status)
        data = answer.data if isinstance(answer.data, dict) else {}
        # Group robots answer 200 with their own error code in the body.
        code = data.get("errcode", data.get("code", data.get("StatusCode", 0)))
        if code not in (0, None):
            why = data.get("errmsg") or data.get("msg") or data.get("StatusMessage") or ""
            raise failure("escalation", code, f"接收方返回错误 {code} {why}".strip())


def from_env(env: Mapping[str, str]) -> Notifier | None:
    """The configured notifier; None when no webhook is set. A bad setting stops start-up."""
    url = env.get(ENV_URL, "").strip()
    kind = env.get(ENV_KIND, "").strip().lower()
    if not url:
        if kind:
            raise ConfigError(f"设置了 {ENV_KIND} 却没有设置 {ENV_URL}（主管通知的地址）")
        return None
    if URL(url).scheme not in ("http", "https") or not URL(url).host:
        raise ConfigError(f"{ENV_URL} 应为 http:// 或 https:// 开头的地址")
    if kind and kind not in KINDS:
        raise ConfigError(f"{ENV_KIND} 应为 {'、'.join(KINDS)} 之一，而不是 {kind!r}")
    return Notifier(url, cast(Kind, kind) if kind else guess_kind(url))


NOTIFIER: web.AppKey[Notifier | None] = web.AppKey("escalation")


def notice(summary: ConversationSummary, stage_label: str, agent: str,
           note: str | None) -> tuple[str, dict[str, Any]]:
    """The supervisor's message (Chinese text) and the case's fields for a plain-JSON receiver."""
    case = summary.case
    head = " · ".join(str(x) for x in (case.get("shop"), f"买家 {case.get('buyer_name')}",
                                        case.get("order_id") and f"订单 {case['order_id']}",
                                        case.get("product")) if x)
    lines = [f"【请主管介入】{head}", f"当前阶段：{stage_label}", f"客服：{agent}"]
    if case.get("review_rating"):
        lines.append(f"评价：{case['review_rating']}" + (f"（{mask(case['review_text'])}）"
                                                        if case.get("review_text") else ""))
    note = mask(note) if note else None
    if note:
        lines.append(f"客服备注：{note}")
    lines.append(f"会话编号：{summary.id}")
    fields = {"conversation_id": summary.id, "shop": case.get("shop"), "buyer_name": case.get("buyer_name"),
              "order_id": case.get("order_id"), "product": case.get("product"), "stage": summary.stage,
              "agent": agent, "note": note}
    return "\n".join(lines), fields


async def escalate(request: web.Request) -> web.Response:
    """POST /api/v1/conversations/{id}/escalate: tell the supervisor, then mark the case."""
    from bot.server.app import STORE, TOKEN, TURNS, _dump, _scope

    body = await read_model(request, EscalateIn)
    store = request.app[STORE]
    conv_id = request.match_info["id"]
    scope = _scope(request)
    summary, _ = await store.get(conv_id, scope)
    if not summary.open:
        raise ApiError(409, "closed", "这个会话已经结束，不能再升级")
    notifier = request.app[NOTIFIER]
    if notifier is None:
        # A 5xx: the request is right, this server lacks a setting; retrying will not help, so
        # the message tells the agent what to do now and the admin what to set.
        raise ApiError(503, "escalation_unavailable",
                       "没能通知主管：这个服务还没有设置主管通知渠道，案件没有改动。请直接联系主管；"
                       f"管理员在设置文件里填 escalation_webhook（或环境变量 {ENV_URL}），"
                       "填主管群机器人的地址，重启服务后生效")
    stages = request.app[TURNS].engine.script.stages
    label = stages[summary.stage].label if summary.stage in stages else summary.stage
    agent = summary.agent or request[TOKEN].name
    text, fields = notice(summary, label, agent, body.note)
    try:
        async with aiohttp.ClientSession() as http:
            await notifier.send(http, text, fields)
    except DeliveryError as exc:
        raise ApiError(502, "notify_failed",
                       f"没能通知主管：{exc.message}。案件没有改动，请稍后重试或直接联系主管") from exc
    _, sug = await request.app[TURNS].escalate(conv_id, scope)
    log.info("escalated conversation=%s via=%s", conv_id, notifier.kind)
    summary, _ = await store.get(conv_id)
    return _dump(ConversationOut(conversation=summary, suggestion=sug))
