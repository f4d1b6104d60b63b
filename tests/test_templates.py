"""Every template variant renders with sample data, passes the guard, and suggestions vary."""

from __future__ import annotations

import re
import shutil

import jinja2
import pytest

from bot.compose.templates import TemplateLibrary
from bot.datacheck import check_folders
from bot.engine import Engine
from bot.models import Case, Context, Conversation
from bot.paths import dialogs_dir, templates_dir
from tests.shared import shared_engine, talk

LIB = shared_engine().templates  # the bundled templates, parsed once for the session
SAMPLE = {
    "call": "周敏女士", "name": "周敏", "honorific": "女士", "shop": "柚子家女装", "agent": "小林",
    "product": "湖蓝色碎花连衣裙", "order_date": "3月2日", "cause": "质量问题",
    "options": "给您换一件新的，来回运费都由我们承担；或者给您办退货退款",
    "remedy": "换一件新的", "requested": "退货退款", "requested_text": "给您办退货退款，退回的运费由我们承担",
    "others": "给您换一件新的，来回运费都由我们承担",
    "listed": "换一件新的，还是退货退款",
    "what_next": "您在订单里申请退货退款，我这边马上同意，寄回后我们一收到就给您退款",
    "again": "新的这件发出前我们会单独拆开检查一遍，确认没有同样的问题再寄给您",
    "shipping": "退回的运费由我们承担，您买了运费险的话理赔会自动到账，没买也没关系，运费您先垫一下",
    "tone": "正式", "me": "售后客服小林", "unit": "件", "use": "穿",
    "callback_time": "今晚 20:00", "damaged": "睡衣", "listed_several": True,
    "these": "这两种", "these_listed": "这两种", "why": "这批货出厂检查没把好关，是我们的责任。",
    "followed": "换一件新的", "them": "她", "sum_named": "100元", "most": "50元",
    "others_than_sum": "给您换一件新的，来回运费都由我们承担；或者给您办退货退款，退回的运费由我们承担",
    "kept_back": "给您办退货退款，退回的运费由我们承担", "kept_keep": "东西您留着，我们给您退一部分货款作为补偿",
    "review_path": "手机淘宝「我的」→「评价」",
    "gift": False,
}
# the apology gift chosen (remedies.yaml gift: true): said as the composer says it
GIFT = {**SAMPLE, "remedy": "寄一份致歉小礼物", "gift": True}
VARIANTS = [v for vs in LIB.variants.values() for v in vs]
REVIEW_OK = ("polite_request", "closing", "malicious", "remedy", "public_reply")


def test_every_stage_has_default_templates_in_both_tones(engine: Engine) -> None:
    for stage in engine.script.stages:
        if stage == "closed":
            continue
        for tone in ("正式", "亲切"):
            assert LIB.variants.get((stage, "default", tone)), (stage, tone)
    for folder, key, _ in LIB.variants:
        for tone in ("正式", "亲切"):
            assert LIB.variants.get((folder, key, tone)), (folder, key, tone)


@pytest.mark.parametrize("variant", VARIANTS, ids=[v.id for v in VARIANTS])
def test_variant_renders_and_passes_the_guard(engine: Engine, variant) -> None:  # type: ignore[no-untyped-def]
    text = LIB.render(variant, SAMPLE)
    assert text and "{{" not in text and "\n" not in text
    assert not any(ch.isascii() and ch.isalpha() for ch in text), text  # Chinese only
    findings = engine.understand.agent(text).findings
    assert findings == [], (text, findings)
    folder = variant.id.split("/")[0]
    acts = engine.understand.agent(text).acts
    if folder not in REVIEW_OK:
        assert "request_review" not in acts, text


@pytest.mark.parametrize("variant", [v for v in VARIANTS if "gift" in v.names], ids=lambda v: v.id)
@pytest.mark.parametrize("given", ["gift", "left_out"])
def test_a_gift_is_never_named_beside_the_review_request(engine: Engine, variant, given: str) -> None:  # type: ignore[no-untyped-def]
    """The apology gift chosen: the request does not name it, and a render that leaves ``gift``
    out (a shop's own caller) falls back on the safe reading."""
    values = GIFT if given == "gift" else {k: v for k, v in GIFT.items() if k != "gift"}
    text = LIB.render(variant, values)
    assert "礼物" not in text, text
    assert engine.understand.agent(text).findings == [], text
    # the remedy itself is named when it is no gift
    assert "换一件新的" in LIB.render(variant, SAMPLE)


def test_a_missing_variable_is_an_error() -> None:
    variant = LIB.variants["opening", "default", "正式"][0]
    with pytest.raises(jinja2.UndefinedError):
        LIB.render(variant, {k: v for k, v in SAMPLE.items() if k != "shop"})


def test_suggestions_vary_and_never_repeat_the_previous_turn(engine: Engine) -> None:
    conv, sug = engine.start({"shop": "店", "buyer_name": "周敏", "honorific": "女士"})
    previous = {s.text for s in sug.suggestions}
    for text in ("您好，请问是周女士吗？", "打扰了，请问是周女士本人吗？", "您好，在吗？"):
        conv, sug = engine.feed(conv, "agent", text)
        now = {s.text for s in sug.suggestions}
        assert now and not (now & previous), (now, previous)
        previous = now


def test_tones_and_variables_appear(engine: Engine) -> None:
    _, sug = engine.start({"shop": "柚子家女装", "buyer_name": "周敏", "honorific": "女士",
                           "product": "连衣裙", "agent": "小林"}, tone="亲切")
    assert [s.tone for s in sug.suggestions] == ["亲切", "亲切", "正式"]
    assert all("柚子家女装" in s.text and "周敏女士" in s.text for s in sug.suggestions)


def test_without_a_case_no_name_is_invented(engine: Engine) -> None:
    _, sug = engine.start(None)
    assert sug.suggestions and all("是亲吗" not in s.text for s in sug.suggestions)


def test_remedy_suggestions_offer_the_cause_matched_options(engine: Engine) -> None:
    conv = Conversation(case=Case(shop="店", buyer_name="周敏"), stage="remedy",
                        context=Context(cause="size_fit", problem_stated=True))
    _, sug = engine.feed(conv, "buyer", "嗯")
    assert [r.id for r in sug.remedies][:1] == ["exchange_size"]
    assert any("尺码" in s.text for s in sug.suggestions)


def test_malicious_suggestions_never_offer_money(engine: Engine) -> None:
    import re

    for v in LIB.variants["malicious", "default", "正式"] + LIB.variants["malicious", "default", "亲切"]:
        text = LIB.render(v, SAMPLE)
        assert not re.search(r"\d|红包|转账|转给您|赔您|补偿您|打款", text), text
        assert re.search(r"不能|没办法|无法|给不了", text), text  # says no to the money


def test_jinja_is_the_only_renderer(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Issue 15: no second renderer beside Jinja (a plain {{ name }} variant was filled in by
    hand). Every variant, plain or not, renders through jinja2.Template.render."""
    folder = tmp_path / "opening"
    folder.mkdir()
    (folder / "default.formal.j2").write_text(
        "{% if product %}您好，关于{{ product }}{% endif %}\n{# --- #}\n{{ shop | length }}个字的店\n"
        "{# --- #}\n{{shop}}的{{ agent }}为您服务", encoding="utf-8")
    (folder / "default.warm.j2").write_text("亲，{{ call }}", encoding="utf-8")
    lib = TemplateLibrary(tmp_path)
    logic, filtered, plain = lib.variants["opening", "default", "正式"]
    assert (logic.slots, filtered.slots, plain.slots) == (("product",), ("shop",), ("agent", "shop"))
    rendered: list[str] = []
    real = jinja2.Template.render
    monkeypatch.setattr(jinja2.Template, "render",
                        lambda self, *a, **kw: rendered.append(real(self, *a, **kw)) or rendered[-1])
    assert lib.render(logic, SAMPLE) == "您好，关于湖蓝色碎花连衣裙"
    assert lib.render(filtered, SAMPLE) == "5个字的店"
    assert lib.render(plain, SAMPLE) == "柚子家女装的小林为您服务"
    assert len(rendered) == 3
    with pytest.raises(jinja2.UndefinedError, match="'agent' is undefined"):
        lib.render(plain, {k: v for k, v in SAMPLE.items() if k != "agent"})


# Without an order date (and without a product name) the engine renders its defaults
# ("您前段时间在我们店买的商品"): the order itself, never private data (issue 14).
NO_DATE = {**SAMPLE, "order_date": shared_engine().defaults["order_date"], "product": "商品"}


@pytest.mark.parametrize("variant", VARIANTS, ids=[v.id for v in VARIANTS])
def test_variant_without_an_order_date_passes_the_guard(engine: Engine, variant) -> None:  # type: ignore[no-untyped-def]
    text = LIB.render(variant, NO_DATE)
    assert engine.understand.agent(text).findings == [], text


@pytest.mark.parametrize("stage", ["remedy", "polite_request", "closing", "malicious"])
def test_after_block_templates_correct_the_tie(engine: Engine, stage: str) -> None:
    for tone in ("正式", "亲切"):
        for v in LIB.variants[stage, "after_block", tone]:
            text = LIB.render(v, SAMPLE)
            assert engine.understand.findings(text) == []
            assert any(w in text for w in ("跟评价", "两回事", "不附带任何条件", "不能用钱", "不能答应")), text


@pytest.mark.parametrize("product,unit,use", [("赣南脐橙10斤装", "箱", "吃"), ("海南金钻凤梨", "箱", "吃"),
                                              ("NFC鲜榨橙汁", "盒", "喝"), ("羽绒服", "件", "穿")])
def test_fresh_food_is_eaten_and_comes_by_the_box(engine: Engine, product: str, unit: str, use: str) -> None:
    assert engine.products.words(product) == (unit, use)


def test_the_opening_asks_how_the_fruit_tastes_not_how_it_works(engine: Engine) -> None:
    _, sug = engine.start({"shop": "鲜果速递", "buyer_name": "阿强", "product": "赣南脐橙10斤装"})
    texts = [s.text for s in sug.suggestions]
    assert any("吃" in t for t in texts) and not any("用得" in t or "用着" in t for t in texts), texts


def test_a_parcel_stuck_on_the_way_is_not_explained_by_its_packaging(engine: Engine) -> None:
    # A logistics problem may be a delay, a loss or damage: the explanation and the public
    # reply fit all three (following up with the courier), not only a crushed box.
    conv = Conversation(case=Case(shop="鲜果速递", buyer_name="阿强", product="脐橙"), stage="listen_apologize",
                        context=Context(cause="logistics", problem_stated=True))
    seen: set[str] = set()
    for turn in range(4):
        conv.turn = turn
        _, sug = engine.feed(conv, "agent", "真对不起，让您等了这么久，换谁都着急。")
        assert sug.stage.id == "explain"
        seen |= {s.text for s in sug.suggestions}
    for tone in ("正式", "亲切"):
        seen |= {LIB.render(v, SAMPLE) for v in LIB.variants["public_reply", "cause-logistics", tone]}
    assert len(seen) >= 8 and not any(re.search("包装|加固|加厚|结实", t) for t in seen), seen


def test_a_suspected_extortion_gets_a_public_reply_that_admits_no_fault(engine: Engine) -> None:
    # The review only claims a fault; the buyer asked money to remove it. The draft under the
    # review says it was handled by the platform's rules, admits no defect and accuses no
    # one; it stays the same draft while the agent talks on.
    conv, _ = engine.start({"shop": "柚子家女装", "buyer_name": "王丽", "product": "真丝衬衫"})
    conv, _ = engine.feed(conv, "agent", "王女士您好，我是柚子家女装的售后客服，您买的真丝衬衫穿着怎么样？")
    conv, first = engine.feed(conv, "buyer", "差评是我给的，转我200块我就删，不然我天天去刷差评")
    conv, later = engine.feed(conv, "agent", "抱歉，我们不能用钱换评价，商品有问题我们照常按规则处理。")
    assert first.stage.id == later.stage.id == "malicious"
    assert first.public_reply and first.public_reply == later.public_reply
    assert not re.search("改进|整改|抽检|查明|质检|抱歉|敲诈|恶意|骗", first.public_reply), first.public_reply


def test_a_small_pool_repeats_rather_than_leave_the_agents_tone_out(engine: Engine) -> None:
    # After a blocked offer the correction (after_block: two variants a tone) is still what
    # to send when the buyer writes again: the agent's tone keeps its two suggestions.
    conv, _ = engine.start({"shop": "柚子家女装", "buyer_name": "王丽", "product": "真丝衬衫"})
    conv, _ = engine.feed(conv, "agent", "王女士您好，我是柚子家女装的售后客服，您买的真丝衬衫穿着怎么样？")
    conv, _ = engine.feed(conv, "buyer", "差评是我给的，转我200块我就删，不然我天天去刷差评")
    conv, blocked = engine.feed(conv, "agent", "给您补偿30元红包，您把差评删了就行")
    assert any(w.severity == "block" for w in blocked.warnings)
    conv, again = engine.feed(conv, "buyer", "不给钱是吧？那我再多写几条")
    tones = [s.tone for s in again.suggestions]
    assert tones.count("正式") == 2 and "亲切" in tones, tones


def test_a_busy_buyer_is_not_put_off_to_tomorrow_only(engine: Engine) -> None:
    # "晚点再说" usually means later today: a suggestion that names tomorrow offers today too.
    for tone in ("正式", "亲切"):
        for v in LIB.variants["callback", "intent-busy", tone]:
            text = LIB.render(v, SAMPLE)
            assert "明天" not in text or re.search("今天|今晚", text), text


def test_a_shared_template_serves_every_stage_and_a_stage_folder_of_its_own_wins(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """scripts_zh/shared/ holds what reads the same in any stage ("你直接打电话吧"); a shop that
    writes its own file of the key in one stage folder gets it there, and the shared one elsewhere."""
    root = tmp_path / "scripts_zh"
    shutil.copytree(templates_dir(), root)
    own = "不好意思，我们这边只在旺旺上沟通，您打几个字就好，我都能看懂。"
    for tone in ("formal", "warm"):
        (root / "confirm_product" / f"call.{tone}.j2").write_text(own, encoding="utf-8")
    shop = Engine.load(None, root)
    assert check_folders(dialogs_dir(), root, shop) == []  # the shop's file is checked like any other
    lines = [("agent", "您好，请问是蒋先生吗？我是步履鞋业的售后客服。"), ("buyer", "是我 你直接打电话吧 我打字慢")]
    case = {"shop": "步履鞋业", "buyer_name": "蒋", "honorific": "先生", "product": "白色板鞋"}
    for engine, folder in ((shop, "confirm_product"), (shared_engine(), "shared")):
        conv, sug = talk(engine, case, lines)
        assert conv.stage == "confirm_product"
        assert sug.suggestions and all(s.template.startswith(f"{folder}/call.") for s in sug.suggestions)
        assert (sug.suggestions[0].text == own) == (folder == "confirm_product")
    # a stage without a file of its own still gets the shared one
    assert shop.templates.pick_key("explain", ["call", "default"]) == "call"
    assert {v.id.split(".")[0] for v in shop.templates.pool("explain", "call", "正式")} == {"shared/call"}
