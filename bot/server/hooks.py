"""Platform callbacks at ``/hooks/{channel}``: verify, acknowledge fast, then run the agent's
command through the same store, lock and dedupe as the HTTP API, and reply on the platform."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

from bot.channels.base import Adapter, ChannelError, DeliveryError, InboundEvent, RawRequest
from bot.channels.commands import Command, help_text, parse_command
from bot.channels.format import format_suggestion
from bot.engine import ConversationClosed
from bot.models import Case, Role, Suggestion
from bot.server.errors import error_response, refused, where_raised
from bot.server.metrics import Metrics
from bot.service.turns import TurnService
from bot.store.db import Store
from bot.store.errors import Forbidden, NeedsPerson, NotFound
from bot.store.views import ConversationSummary

log = logging.getLogger("csbot.channels")
def _dumps(obj: Any) -> str:
    import json

    return json.dumps(obj, ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class Answer:
    """What an event gets: a Suggestion (in the platform's format) or a text, or nothing."""

    text: str | None = None  # with a suggestion: a line put before it
    suggestion: Suggestion | None = None
    deliver: bool = True  # False for a platform's retry of an event already answered


class Hooks:
    """Mounted adapters and the background work they start."""

    def __init__(self, store: Store, turns: TurnService, metrics: Metrics, adapters: dict[str, Adapter],
                 shop: str) -> None:
        self.store, self.turns, self.metrics, self.adapters, self.shop = store, turns, metrics, adapters, shop
        self.http: aiohttp.ClientSession | None = None
        self.tasks: set[asyncio.Task[Any]] = set()
        for adapter in adapters.values():
            adapter.memory = store  # used signatures, conversations seen (across instances)

    async def start(self, _: web.Application) -> None:
        # One shared client session for every platform API call.
        self.http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15))

    async def stop(self, _: web.Application) -> None:
        if self.tasks:  # deliver what was acknowledged before shutting down
            await asyncio.wait(self.tasks, timeout=10)
        if self.http is not None:
            await self.http.close()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        adapter = self.adapters.get(request.match_info["channel"])
        if adapter is None:
            return refused(request, 404, "unknown_channel", "没有启用这个渠道")
        raw = RawRequest(method=request.method, path=request.path, query=dict(request.query),
                         headers={k.lower(): v for k, v in request.headers.items()},
                         body=await request.read())
        try:
            reply, events = adapter.receive(raw, time.time())
        except ChannelError as exc:
            self.metrics.channel_errors.labels(adapter.name, exc.code).inc()
            r = exc.reply()
            return web.Response(status=r.status, body=r.body, content_type=r.content_type.split(";")[0])
        replayed = await self.fresh(adapter, events)
        if replayed is not None:
            return replayed
        if adapter.sync_reply and events:
            # The shop's own system gets the answer in the response: the Suggestion of a
            # turn (the stored one for a retry), or the reply text of a command.
            out = await self.run(adapter, events[0], deliver=False)
            if out.deliver:  # and to the optional callback URL, in the background
                self._spawn(self.deliver(adapter, events[0], out))
            if out.suggestion is not None:
                return web.Response(text=out.suggestion.model_dump_json(), content_type="application/json")
            if out.text is not None:
                return web.json_response({"reply": out.text}, dumps=_dumps)
        else:
            for event in events:  # acknowledge now; the platform retries slow answers
                self._spawn(self.run(adapter, event))
        return web.Response(status=reply.status, body=reply.body,
                            content_type=reply.content_type.split(";")[0])

    async def fresh(self, adapter: Adapter, events: list[InboundEvent]) -> web.Response | None:
        """A signature that covers no body (DingTalk's robot) is good for one message: a
        second message under the same pair is a replay (401); the same message again is
        the platform's retry."""
        for event in events:
            pair = event.reply_to.get("sign_pair")
            if not pair:
                continue
            owner = hashlib.sha256(event.message_id.encode()).hexdigest()[:32]
            if not await self.store.claim(f"{adapter.name}#sign"[:20], pair, owner):
                log.warning("channel=%s refused status=401 code=replayed_signature", adapter.name)
                self.metrics.channel_errors.labels(adapter.name, "replayed_signature").inc()
                return error_response(401, "replayed_signature", "签名已被使用过（疑似重放的请求）")
        return None

    def _spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def run(self, adapter: Adapter, event: InboundEvent, deliver: bool = True) -> Answer:
        """Run one event and, unless it is a platform retry, deliver its answer."""
        try:
            out = await self.execute(adapter.name, event, parse_command(event.text, labels=self.turns.engine.labels))
        except Exception as exc:
            # One line, no message text: the exception's own message may quote it.
            log.error("channel %s: an event failed: %s", adapter.name, where_raised(exc))
            out = Answer(text="处理这条消息时出错了，请稍后再试。", deliver=await self._failed(adapter.name, event))
        if out.deliver and deliver:
            await self.deliver(adapter, event, out)
        return out

    async def _failed(self, channel: str, event: InboundEvent) -> bool:
        """After an event failed: forget that it was seen, so the platform's retry is handled
        (a command recorded as seen and then failed was never retried); and whether to tell
        the error (once per event, not once per retry)."""
        try:
            await self.store.forget_event(channel, event.message_id)
            return await self.store.first_time(channel, event.message_id + "#error")
        except Exception as exc:  # the database itself is away: say so, once is all we can
            log.error("channel %s: recording a failed event failed: %s", channel, type(exc).__name__)
            return True

    async def _once(self, channel: str, event: InboundEvent, text: str) -> Answer:
        """A plain-text answer to a message, sent once: a platform's retry of the same
        message gets no second one (a turn's retry is deduped by its stored answer)."""
        return Answer(text=text, deliver=await self.store.first_time(channel, event.message_id))

    async def deliver(self, adapter: Adapter, event: InboundEvent, out: Answer) -> None:
        assert self.http is not None
        # A Suggestion goes out in the platform's own format (Markdown, card); text as text.
        if out.suggestion is not None:
            title, body = format_suggestion(out.suggestion, self.turns.engine.labels, adapter.text_style)
            msg = adapter.render(f"{out.text}\n{body}" if out.text else body, title)
        else:
            msg = adapter.render(out.text or "", "csbot 售后助手")
        try:
            await adapter.deliver(self.http, event, msg)
        except DeliveryError as exc:
            self.metrics.channel_errors.labels(adapter.name, exc.code).inc()
            log.warning("channel %s: delivery failed: %s %s", adapter.name, exc.code, exc)

    async def execute(self, channel: str, event: InboundEvent, cmd: Command) -> Answer:
        """What to answer an event with (nothing to deliver for a platform retry)."""
        agent_id = f"{channel}:{event.sender_id}"
        turn_id = f"{channel}:{event.message_id}"
        if cmd.kind in ("buyer", "me"):
            conv_id = await self.store.active_case(channel, event.chat_id, agent_id)
            if conv_id is None:
                return await self._once(channel, event, "还没有进行中的案例，请先用 /new 买家名 商品 下单日期 开一个。")
            role: Role = "agent" if cmd.kind == "me" else "buyer"
            try:
                done = await self.turns.turn(conv_id, role, cmd.text, message_id=turn_id)
            except ConversationClosed:
                return await self._once(channel, event, "这个案例已经结束了，可以用 /new 开新案例，或用 /switch 切换。")
            except NeedsPerson:
                return await self._once(channel, event, "话术已修改，这个案例需要人工处理。")
            if not done.duplicate:
                self.metrics.turn(role)
            return Answer(suggestion=done.suggestion, deliver=not done.duplicate)
        if not await self.store.first_time(channel, event.message_id):
            return Answer(deliver=False)
        if cmd.kind == "invalid":
            return Answer(text=cmd.error or "没看懂这条命令，发 /help 查看用法。")
        if cmd.kind == "help":
            return Answer(text=help_text(self.turns.engine.labels))
        if cmd.kind == "new":
            case = Case.model_validate({**cmd.case_fields(), "shop": self.shop, "channel": channel,
                                        "agent": event.sender_name or None})
            conv, sug, _ = await self.turns.create(case, agent=agent_id)
            await self.store.set_active_case(channel, event.chat_id, agent_id, conv.id)
            shown = conv.case  # as stored: masked
            return Answer(text=f"已开始案例：{shown.buyer_name}（{shown.product or '商品未填'}）", suggestion=sug)
        if cmd.kind == "switch":
            return Answer(text=await self._switch(channel, event, agent_id, cmd.target))
        conv_id = await self.store.active_case(channel, event.chat_id, agent_id)
        if conv_id is None:
            return Answer(text="还没有进行中的案例，请先用 /new 开一个。")
        if cmd.kind == "hint":
            return Answer(suggestion=await self.turns.last_suggestion(conv_id))
        try:
            return Answer(text=await self._on_case(conv_id, cmd))
        except (NotFound, Forbidden):
            return Answer(text="找不到这个案例。")
        except ConversationClosed:
            return Answer(text="这个案例已经结束了。")

    async def _on_case(self, conv_id: str, cmd: Command) -> str:
        if cmd.kind == "status":
            summary, _ = await self.store.get(conv_id)
            label = self.turns.engine.script.stages[summary.stage].label
            return f"当前案例：{summary.case['buyer_name']}，阶段：{label}，已进行 {summary.turns} 轮。"
        if cmd.kind == "tone" and cmd.tone:
            await self.turns.set_tone(conv_id, cmd.tone)
            return f"之后的建议改用“{cmd.tone}”语气。"
        if cmd.kind == "end" and cmd.outcome:
            await self.turns.close_case(conv_id, cmd.outcome)
            outcome = self.turns.engine.labels.name("outcome", cmd.outcome)
            return f"案例已结束，结果：{outcome}。"
        return "没看懂这条命令，发 /help 查看用法。"

    async def _switch(self, channel: str, event: InboundEvent, agent_id: str, target: str | None) -> str:
        _, items = await self.store.find(shop=None, agent=agent_id, limit=50)
        open_items = [i for i in items if i.open]
        if not open_items:
            return "您没有进行中的案例。"
        if not target:
            current = await self.store.active_case(channel, event.chat_id, agent_id)
            lines = [f"{n}. {i.case['buyer_name']}（{i.case.get('product') or '商品未填'}）"
                     + ("  ← 当前" if i.id == current else "")
                     for n, i in enumerate(open_items, 1)]
            return "您进行中的案例：\n" + "\n".join(lines) + "\n发 /switch 编号 切换。"
        chosen: ConversationSummary | None = None
        if target.isdigit() and 1 <= int(target) <= len(open_items):
            chosen = open_items[int(target) - 1]
        else:
            chosen = next((i for i in open_items if i.case["buyer_name"] == target), None)
        if chosen is None:
            return f"没有找到“{target}”，发 /switch 查看您的案例。"
        await self.store.set_active_case(channel, event.chat_id, agent_id, chosen.id)
        return f"已切换到：{chosen.case['buyer_name']}。"
