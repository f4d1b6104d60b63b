"""The engine's hand-written conversation copy and reply cache keep what the generic paths give."""

from __future__ import annotations

from bot.engine import Engine, _copy
from bot.models import Case, Context, Conversation


def _conv(engine: Engine) -> Conversation:
    conv, _ = engine.start(Case(shop="小林的店", buyer_name="王", product="T恤"))
    conv, _ = engine.feed(conv, "buyer", "衣服洗一次就掉色了，睡衣也被染了")
    conv.context.causes = ["slow_reply"]
    conv.context.agent_recent = ["您好"]
    return conv


def test_copy_is_model_copy(engine: Engine) -> None:
    # _copy writes out pydantic's shallow copy: a pydantic upgrade that adds state to a
    # model (private attributes, extra fields) must fail here, not lose it silently.
    assert Conversation.__private_attributes__ == {} and Context.__private_attributes__ == {}
    assert Conversation.model_config.get("extra") != "allow" != Context.model_config.get("extra")
    conv = _conv(engine)
    ctx = conv.context
    want = conv.model_copy(update={"context": ctx.model_copy(update={
        "causes": list(ctx.causes), "last_acts": list(ctx.last_acts)}),
        "last_templates": list(conv.last_templates)})
    got = _copy(conv)
    assert got == want and got.model_dump_json() == want.model_dump_json()
    assert got.model_fields_set == want.model_fields_set
    assert got.context.model_fields_set == want.context.model_fields_set
    assert got.__pydantic_private__ is None and got.__pydantic_extra__ is None
    # the copy is apart from the original where the engine changes it, shared where it does not
    assert got.context is not ctx and got.case is conv.case
    for name in ("causes", "last_acts"):
        assert getattr(got.context, name) == getattr(ctx, name)
        assert getattr(got.context, name) is not getattr(ctx, name)
    assert got.last_templates is not conv.last_templates
    got.context.apologies += 1
    got.context.causes.append("quality")
    assert ctx.apologies == conv.context.apologies != got.context.apologies
    assert ctx.causes == ["slow_reply"]


def test_cached_replies_match_fresh_ones(engine: Engine) -> None:
    # The second Suggestion of the same moment comes from the reply cache: the same replies
    # as rendered, guarded and built afresh (the cache emptied).
    conv = _conv(engine)
    first = engine.current(conv)
    assert first.suggestions
    cached = engine.current(conv)
    engine._replies_cache.clear()
    engine._guard_cache.clear()
    fresh = engine.current(conv)
    assert cached.model_dump_json() == fresh.model_dump_json() == first.model_dump_json()
    # another buyer's name is another reply, not the cached one
    other = conv.model_copy(update={"case": conv.case.model_copy(update={"buyer_name": "李"})})
    texts = [s.text for s in engine.current(other).suggestions]
    assert all("您是王吧" in s.text for s in first.suggestions)
    assert texts and all("您是李吧" in t and "王" not in t for t in texts)
