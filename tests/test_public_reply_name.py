"""The buyer's real name in the shop's public reply (商家回复, read by every future buyer) is
private data: the public check finds it, a chat with the buyer may use it, and no stored copy of
a public text keeps it (the case keeps it only in buyer_name, to call the buyer by it)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.engine import Engine
from bot.server.app import STORE, build_app

REASON = ("商家回复是公开的，以后的买家都看得到：不能写出买家的全名，姓名是买家的隐私。"
          "称呼用“您”，或者只用姓加称呼（如“王女士”）。")


@pytest.mark.parametrize(("reply", "span", "rewrite"), [
    ("感谢王小明女士的反馈，配件已经为您补发。", (2, 5), "感谢王女士的反馈，配件已经为您补发。"),
    ("王小明，您好！配件已经补发，给您添麻烦了。", (0, 3), "您好！配件已经补发，给您添麻烦了。"),
    ("非常感谢王小明的耐心，配件已经补发。", (4, 7), "非常感谢您的耐心，配件已经补发。"),
    ("感謝王小明女士的反饋，配件已經補發。", (2, 5), "感謝王女士的反饋，配件已經補發。")])
def test_the_full_name_in_a_public_reply_is_a_privacy_block(engine: Engine, reply: str, span: tuple[int, int],
                                                            rewrite: str) -> None:
    (f,) = engine.understand.public_findings(reply, "王小明")
    assert (f.code, f.severity, f.span, f.message, f.rewrite) == ("privacy", "block", span, REASON, rewrite)
    assert engine.understand.findings(reply) == []  # said in the chat, to the buyer himself: fine


@pytest.mark.parametrize("reply", ["感谢王女士的反馈，配件已经为您补发。", "亲，感谢您的反馈，配件已经补发。",
                                   "感谢您的反馈，我们已经联系厂家改进做工。"])
def test_surname_and_title_or_qin_in_a_public_reply_is_fine(engine: Engine, reply: str) -> None:
    assert engine.understand.public_findings(reply, "王小明") == []


@pytest.mark.parametrize("name", ["王", "小王", "王女士", "李姐", "亲", "w**8", "tb_8812"])
def test_a_nickname_or_a_surname_is_no_full_name(engine: Engine, name: str) -> None:
    assert engine.understand.public_findings(f"感谢{name}的反馈。", name) == []


def test_the_forms_of_address_are_one_list_in_guard_yaml(engine: Engine) -> None:
    """names.py kept its own list beside guard.yaml's: "李总" and "张师傅" were no full names, but the
    rewrite knew only guard.yaml's 13 and made "感谢王小明老板的支持" into "感谢您老板的支持". One list now,
    read (and checked) with guard.yaml, for the name test, the rewrite and the stored case's mask."""
    from bot.dataload import load_yaml
    from bot.guard.names import full_name, mask_name, titles
    from bot.paths import dialogs_dir

    listed = load_yaml(dialogs_dir(None), "guard.yaml")["public_name"]["titles"]
    assert titles() == tuple(listed) and engine.understand.guard.titles == titles()
    assert {"老板", "师傅", "总", "女士"} <= set(listed)
    assert full_name("李总") is None and full_name("张师傅") is None and full_name("王小明") == "王小明"
    (f,) = engine.understand.public_findings("感谢王小明老板的支持，配件已经补发。", "王小明")
    assert f.rewrite == "感谢王老板的支持，配件已经补发。"
    assert mask_name("感谢王小明师傅", "王小明") == "感谢[姓名]师傅"


@pytest.fixture
async def client(aiohttp_client: Any, tmp_path: Path, engine: Engine) -> AsyncIterator[tuple[Any, str]]:
    app = await build_app(f"sqlite:///{tmp_path / 'csbot.db'}", engine, max_body=16 * 1024)
    token = await app[STORE].add_token("小林", "agent", "柚子家女装")
    yield await aiohttp_client(app), token


async def test_the_api_checks_a_public_reply_for_the_name_and_keeps_none_at_rest(
        client: tuple[Any, str], tmp_path: Path) -> None:
    http, token = client
    h = {"Authorization": f"Bearer {token}"}
    r = await http.post("/api/v1/conversations", headers=h, json={
        "shop": "柚子家女装", "buyer_name": "王小明", "honorific": "女士",
        "shop_reply": "感谢王小明女士的反馈，已为您补发配件。", "review_text": "配件少发了一个"})
    assert r.status == 201, await r.text()
    conv_id = (await r.json())["conversation"]["id"]
    # the chat with the buyer herself may use her name
    chat = "王小明女士您好，我是柚子家女装的售后客服小林，看到您的评价，想跟您了解一下情况。"
    r = await http.post(f"/api/v1/conversations/{conv_id}/messages", json={"role": "agent", "text": chat}, headers=h)
    assert r.status == 200
    assert not [w for w in (await r.json())["warnings"] if w["code"] == "privacy"]
    lint = await (await http.post("/api/v1/lint", json={"text": chat, "conversation_id": conv_id}, headers=h)).json()
    assert lint == {"findings": []}
    public = "感谢王小明女士的反馈，已为您补发配件，我们也会加强出库检查。"
    r = await http.post("/api/v1/lint", json={"text": public, "conversation_id": conv_id, "public": True}, headers=h)
    (f,) = (await r.json())["findings"]
    assert (f["code"], f["severity"], f["span"], f["message"]) == ("privacy", "block", [2, 5], REASON)
    assert f["rewrite"] == "感谢王女士的反馈，已为您补发配件，我们也会加强出库检查。"
    r = await http.post("/api/v1/lint", json={"text": f["rewrite"], "conversation_id": conv_id, "public": True},
                        headers=h)
    assert (await r.json()) == {"findings": []}
    with sqlite3.connect(tmp_path / "csbot.db") as db:
        (raw,) = db.execute("select state from conversations where id = ?", (conv_id,)).fetchone()
    case = json.loads(raw)["case"]
    assert case["shop_reply"] == "感谢[姓名]女士的反馈，已为您补发配件。" and case["buyer_name"] == "王小明"
