"""The agent sidebar page: one static file, with the Chinese label tables filled in."""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from bot.labels import Labels

if TYPE_CHECKING:
    from bot.script.machine import Script

_SLOT = "__CSBOT_LABELS__"


@cache
def _template() -> str:
    return (Path(__file__).parent / "sidebar.html").read_text(encoding="utf-8")


def labels(names: Labels) -> dict[str, Mapping[str, str]]:
    """The engine's label names (the ones chat cards and the report show), so the page
    carries no second copy that could drift from the server's."""
    return dict(names.table())


def page(names: Labels) -> str:
    # JSON inside <script>: escape "<" so no label can ever close the element.
    data = json.dumps(labels(names), ensure_ascii=False).replace("<", "\\u003c")
    return _template().replace(_SLOT, data, 1)


def with_script(page: str, script: Script) -> str:
    """The page with the script's stages by role, so its code names no stage id."""
    data = {"initial": script.initial, "final": script.final,
            "callback": list(script.stages_with("schedules_callback")),
            "suspected": list(script.stages_with("suspects_extortion"))}
    return page.replace("__CSBOT_SCRIPT__", json.dumps(data, ensure_ascii=False).replace("<", "\\u003c"), 1)


async def me(request: web.Request) -> web.Response:
    """GET /api/v1/me: who the token is, so the page fills in the agent's name and knows
    whether it may change it (an admin may; an agent's cases carry their own name)."""
    from bot.server.api import MeOut
    from bot.server.app import TOKEN, _dump

    info = request[TOKEN]
    return _dump(MeOut(name=info.name, role=info.role, shop=info.shop))  # UTF-8, as every other route


async def set_tone(request: web.Request) -> web.Response:
    """POST /api/v1/conversations/{id}/tone: the suggestions from now on in 正式 or 亲切 (not a turn)."""
    from bot.server.api import ConversationOut, ToneIn
    from bot.server.app import STORE, TURNS, _dump, _scope
    from bot.server.errors import read_model

    body = await read_model(request, ToneIn)
    conv_id = request.match_info["id"]
    sug = await request.app[TURNS].set_tone(conv_id, body.tone, _scope(request))
    summary, _ = await request.app[STORE].get(conv_id)
    return _dump(ConversationOut(conversation=summary, suggestion=sug))


async def complaint(request: web.Request) -> web.Response:
    """POST /api/v1/conversations/{id}/complaint: the agent filed the 恶意评价 complaint with
    the platform; ticks "30 天内向平台投诉恶意评价" (not a turn)."""
    from bot.engine import NotSuspected
    from bot.server.api import ConversationOut
    from bot.server.app import STORE, TURNS, _dump, _scope
    from bot.server.errors import ApiError

    conv_id = request.match_info["id"]
    try:
        _, sug = await request.app[TURNS].complaint_filed(conv_id, _scope(request))
    except NotSuspected as exc:
        raise ApiError(409, "not_malicious", str(exc)) from None
    summary, _ = await request.app[STORE].get(conv_id)
    return _dump(ConversationOut(conversation=summary, suggestion=sug))

