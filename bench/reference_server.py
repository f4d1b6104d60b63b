"""The issue's reference point for bench/service.py: pydantic + Jinja2 + one FSM step per
request, without storage and without understanding the message.

Issue 7 set the service target (0.4 × a bare handler) beside this pipeline's 0.43×. It is
measured in the same run as csbot, so the README can say how far csbot, which also
understands the message, guards the replies and commits every turn, is from it.
"""

from __future__ import annotations

import itertools
import sys
from typing import Literal

from aiohttp import web
from jinja2 import Environment
from pydantic import BaseModel, Field
from transitions import Machine

STAGES = ["confirm_identity", "confirm_product", "listen_apologize", "explain", "remedy",
          "polite_request", "closing"]
REPLIES = Environment(autoescape=False).from_string(
    "{{ name }}您好，关于您在{{ shop }}买的{{ product }}，{{ line }}")
LINES = ["真的很抱歉给您添麻烦了。", "我们马上为您处理。", "您看这样安排可以吗？"]


class MessageIn(BaseModel):
    role: Literal["agent", "buyer"]
    text: str = Field(min_length=1, max_length=2000)


class Reply(BaseModel):
    text: str
    tone: str


class Answer(BaseModel):
    turn: int
    role: str
    stage: str
    suggestions: list[Reply]


class Conversation:
    """What the FSM steps: the machine is shared, the conversation is plain data."""

    def __init__(self, state: str) -> None:
        self.state = state


MACHINE = Machine(model=None, states=STAGES, initial=STAGES[0], auto_transitions=False)
for a, b in itertools.pairwise(STAGES):
    MACHINE.add_transition("message", a, b)
MACHINE.add_transition("message", STAGES[-1], STAGES[-1])
TURNS = [0]


async def handler(request: web.Request) -> web.Response:
    body = MessageIn.model_validate_json(await request.read())
    TURNS[0] += 1
    conv = Conversation(STAGES[TURNS[0] % len(STAGES)])
    MACHINE.add_model(conv, initial=conv.state)
    conv.message()  # type: ignore[attr-defined]  # the trigger transitions adds
    MACHINE.remove_model(conv)
    replies = [Reply(text=REPLIES.render(name="周女士", shop="柚子家女装", product="连衣裙", line=line),
                     tone="正式") for line in LINES]
    answer = Answer(turn=TURNS[0], role=body.role, stage=conv.state, suggestions=replies)
    return web.Response(text=answer.model_dump_json(), content_type="application/json")


app = web.Application()
app.router.add_post("/{tail:.*}", handler)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
