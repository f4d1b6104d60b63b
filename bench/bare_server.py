"""The baseline of bench/service.py: a bare aiohttp handler returning a small JSON document."""

from __future__ import annotations

import sys

from aiohttp import web


async def handler(request: web.Request) -> web.Response:
    await request.read()
    return web.json_response({"ok": True, "turn": 1, "stage": "explain"})


app = web.Application()
app.router.add_post("/{tail:.*}", handler)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
