"""Which acts of a trainee reply the flow took, as against a maybe.

The learned model alone can read an act at low probability ("…发成菊花茶了，实在对不起" as an
offer at 0.43). Below script.yaml ``act_evidence`` the engine lets such an act neither move
the stage a second time nor count; the grader and the buyer score what the flow accepted, so
such an act is left out of the turn's facts too.
"""

from __future__ import annotations

from bot.engine import COUNTERS, Engine
from bot.models import Conversation


def unaccepted_acts(engine: Engine, text: str, before: Conversation, after: Conversation) -> set[str]:
    """Acts the model alone read below the flow's evidence bar that the flow did not count."""
    evidence = engine.flow.act_evidence
    if not evidence:
        return set()
    _, alone = engine.understand.agent_read(text, before.context.agent_recent, before.stage)
    out: set[str] = set()
    for act, p in alone.items():
        counter = COUNTERS.get(act)
        if p >= evidence.get(act, 0.0) or counter is None:
            continue
        if getattr(after.context, counter) <= getattr(before.context, counter):
            out.add(act)
    return out
