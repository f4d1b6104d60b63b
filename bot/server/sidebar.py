"""The agent sidebar page: one static file, with the Chinese label tables filled in."""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path

from aiohttp import web

from bot.channels.format import ACT_ZH, CAUSE_ZH, EMOTION_ZH, INTENT_ZH, SEVERITY_ZH

_SLOT = "__CSBOT_LABELS__"


@cache
def _template() -> str:
    return (Path(__file__).parent / "sidebar.html").read_text(encoding="utf-8")


def labels(stages: Mapping[str, str]) -> dict[str, Mapping[str, str]]:
    """The tables the chat channels already use (and the script's own stage labels), so the
    page carries no second copy that could drift from the server's."""
    return {"intent": INTENT_ZH, "cause": CAUSE_ZH, "emotion": EMOTION_ZH, "act": ACT_ZH,
            "severity": SEVERITY_ZH, "stage": dict(stages)}


def page(stages: Mapping[str, str]) -> str:
    # JSON inside <script>: escape "<" so no label can ever close the element.
    data = json.dumps(labels(stages), ensure_ascii=False).replace("<", "\\u003c")
    return _template().replace(_SLOT, data, 1)


async def me(request: web.Request) -> web.Response:
    """GET /api/v1/me: who the token is, so the page fills in the agent's name and knows
    whether it may change it (an admin may; an agent's cases carry their own name)."""
    from bot.server.app import TOKEN

    info = request[TOKEN]
    return web.json_response({"name": info.name, "role": info.role, "shop": info.shop})
