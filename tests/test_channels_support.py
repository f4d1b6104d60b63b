"""Shared helpers for the channel tests: the copied platform vectors and a fake platform API."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bot.channels.base import InboundEvent, RawRequest
from bot.channels.outbound import RetryPolicy

VECTORS_FILE = Path(__file__).parent / "data" / "platform_vectors.json"
FAST = RetryPolicy(attempts=3, base_delay=0.0, max_delay=0.0, timeout=5.0)

# complete settings per platform ("dingtalk-robot": robot mode without event subscription)
ENV = {
    "wecom": {"CSBOT_WECOM_TOKEN": "QDG6eK",
              "CSBOT_WECOM_AES_KEY": "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C",
              "CSBOT_WECOM_CORP_ID": "wx5823bf96d3bd56c7", "CSBOT_WECOM_SECRET": "s",
              "CSBOT_WECOM_AGENT_ID": "218"},
    "dingtalk": {"CSBOT_DINGTALK_APP_KEY": "ding6ccabc44d2c8d38b", "CSBOT_DINGTALK_APP_SECRET": "s",
                 "CSBOT_DINGTALK_TOKEN": "mryue",
                 "CSBOT_DINGTALK_AES_KEY": "Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7"},
    "dingtalk-robot": {"CSBOT_DINGTALK_APP_KEY": "k", "CSBOT_DINGTALK_APP_SECRET": "s"},
    "feishu": {"CSBOT_FEISHU_APP_ID": "a", "CSBOT_FEISHU_APP_SECRET": "s",
               "CSBOT_FEISHU_ENCRYPT_KEY": "kudryavka", "CSBOT_FEISHU_VERIFICATION_TOKEN": "v"},
    "telegram": {"CSBOT_TELEGRAM_BOT_TOKEN": "1:A",
                 "CSBOT_TELEGRAM_SECRET_TOKEN": "example_Secret-123"},
    "slack": {"CSBOT_SLACK_BOT_TOKEN": "xoxb", "CSBOT_SLACK_SIGNING_SECRET": "8f742231b10e8888"},
    "webhook": {"CSBOT_WEBHOOK_SECRET": "shop-secret"},
}


def vectors(platform: str | None = None) -> dict[str, dict[str, Any]]:
    """The official sample values copied from the shared platform notes, by id."""
    data = json.loads(VECTORS_FILE.read_text(encoding="utf-8"))
    return {v["id"]: v for v in data["vectors"] if platform in (None, v["platform"])}


def vector(vid: str) -> dict[str, Any]:
    return vectors()[vid]


def request(method: str = "POST", query: dict[str, str] | None = None,
            headers: dict[str, str] | None = None, body: bytes = b"",
            path: str = "/hooks/x") -> RawRequest:
    return RawRequest(method, path, query or {}, {k.lower(): v for k, v in (headers or {}).items()},
                      body)


def event(channel: str, reply_to: dict[str, str], message_id: str = "m1") -> InboundEvent:
    return InboundEvent(channel=channel, chat_id="c", sender_id="u", text="hi",
                        message_id=message_id, time=datetime.now(UTC), reply_to=reply_to)


@dataclass
class Call:
    """One request the fake platform received."""

    method: str
    path: str
    query: dict[str, str]
    raw_query: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class FakeApi:
    """A scripted platform API: queued (status, JSON) answers per route; the last one repeats."""

    calls: list[Call] = field(default_factory=list)
    routes: dict[tuple[str, str], list[tuple[int, Any, dict[str, str]]]] = field(
        default_factory=lambda: defaultdict(list))

    def on(self, method: str, path: str, *answers: tuple[int, Any] | tuple[int, Any, dict[str, str]]
           ) -> None:
        for a in answers:
            self.routes[(method, path)].append((a[0], a[1], a[2] if len(a) > 2 else {}))

    def hits(self, path: str) -> list[Call]:
        return [c for c in self.calls if c.path == path]

    async def handle(self, req: web.Request) -> web.Response:
        body = await req.read()
        self.calls.append(Call(req.method, req.path, dict(req.query), req.rel_url.raw_query_string,
                               dict(req.headers), body))
        queue = self.routes.get((req.method, req.path))
        if not queue:
            return web.json_response({"error": "no route"}, status=404)
        status, payload, headers = queue.pop(0) if len(queue) > 1 else queue[0]
        return web.json_response(payload, status=status, headers=headers)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        return app


async def serve(aiohttp_server: Any, fake: FakeApi) -> str:
    """Start ``fake`` and return its base URL (no trailing slash)."""
    server = await aiohttp_server(fake.app())
    return str(server.make_url("")).rstrip("/")


def session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession()


def test_vectors_copied() -> None:
    """The tests carry their own copy of every VERIFIED vector they use."""
    verified = [v for v in vectors().values() if v["status"] == "VERIFIED"]
    assert {v["platform"] for v in verified} == {"wecom", "dingtalk", "feishu", "slack"}
    assert len(verified) == 11
