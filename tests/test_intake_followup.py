"""A review export's 追评内容 (the buyer's follow-up review) and 商家回复 (the shop's reply
already posted) columns: `csbot import` said "没有用到的列：追评内容、追评时间、商家回复" and
dropped them. The follow-up is often where the real complaint is ("还行吧" first, "洗了一次就
缩水了" a week later): it is stored with the case, read for the cause and the queue's urgency,
and shown to the agent. A reply already posted is known: the case does not draft a second one
(a review takes one) and the queue says so."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from bot.cli import main
from tests.shared import shared_engine
from tests.test_flow import _at_remedy, _read

ENGINE = shared_engine()

# as the shop's review export writes it (GBK, Excel's CSV on a Chinese system)
EXPORT = "\n".join([
    "订单编号,子订单编号,买家昵称,宝贝名称,评价结果,评价内容,评价时间,追评内容,追评时间,商家回复",
    "3719204870001,3719204870002,小**猫,纯棉连衣裙 M码,中评,还行吧,2026-12-04 09:00:00,"
    "洗了一次就缩水了，袖子短了一大截，太失望了,2026-12-06 20:15:00,",
    "3719204870003,,阿**宝,加厚羽绒服 黑色,差评,快递太慢了，等了整整十天才到,2026-12-04 10:30:00,,,"
    "亲，实在抱歉让您久等了，我们已经换了合作快递。",
    "3719204870004,,王**,真皮短靴 37码,中评,一般,2026-12-04 11:00:00,"
    "鞋跟开胶了，再不给我处理我就去12315投诉你们,2026-12-06 08:00:00,", ""])


def _run(db: Path, *args: str) -> Any:
    r = CliRunner(env={"CSBOT_CONFIG": None, "CSBOT_DATABASE_URL": f"sqlite:///{db}", "CSBOT_SHOP": "柚子家女装"}
                  ).invoke(main, list(args))
    assert r.exit_code == 0, r.output
    return r


def _imported(tmp_path: Path) -> tuple[Path, str, dict[str, dict[str, Any]]]:
    export, db = tmp_path / "评价.csv", tmp_path / "csbot.db"
    export.write_bytes(EXPORT.encode("gbk"))
    out = _run(db, "import", str(export)).output
    items = json.loads(_run(db, "queue", "--json").output)["items"]
    return db, out, {i["order_id"]: i for i in items}


def _cases(db: Path) -> dict[str, dict[str, Any]]:
    with sqlite3.connect(db) as conn:
        states = [json.loads(s) for (s,) in conn.execute("select state from conversations")]
    return {s["case"]["order_id"]: s for s in states}


def test_the_follow_up_and_the_shop_reply_are_imported_and_shown(tmp_path: Path) -> None:
    db, out, items = _imported(tmp_path)
    assert "新开案例 3 个" in out
    assert "没有用到的列" not in out  # 追评内容, 追评时间 and 商家回复 were all dropped
    cases = _cases(db)
    dress = cases["3719204870001"]
    assert dress["case"]["review_text"] == "还行吧"
    assert dress["case"]["review_followup"] == "洗了一次就缩水了，袖子短了一大截，太失望了"
    # the review states no problem; the follow-up does: it is the case's cause, from the review
    assert (dress["context"]["cause"], dress["context"]["cause_source"]) == ("quality", "review")
    assert items["3719204870001"]["cause"]["label"] == "质量问题"
    assert "买家追评了：“洗了一次就缩水了，袖子短了一大截，太失望了”" in items["3719204870001"]["reasons"]
    # a threat in the follow-up is a threat of the case (the review alone said 一般)
    assert "评价里提到投诉或维权：请主管介入" in items["3719204870004"]["reasons"]
    assert items["3719204870004"]["urgency"] > items["3719204870001"]["urgency"]
    # the reply already posted: stored, and the queue says there is nothing to write
    coat = cases["3719204870003"]
    assert coat["case"]["shop_reply"] == "亲，实在抱歉让您久等了，我们已经换了合作快递。"
    assert "评价下已有商家回复（每条评价只能解释一次）" in items["3719204870003"]["reasons"]
    assert not any("商家回复" in r for r in items["3719204870001"]["reasons"])
    with sqlite3.connect(db) as conn:
        explained = dict(conn.execute("select order_id, explained_at is not null from intake_reviews"))
    assert explained == {"3719204870001": 0, "3719204870003": 1, "3719204870004": 0}  # csbot explain: done


def test_a_case_with_the_shops_reply_drafts_no_second_one() -> None:
    """At the end of a case whose review stays, the agent is given a public reply to post;
    when the review has the shop's reply already, they are told so instead."""
    declined = _read("算了，都不要了", "end", 0.95)
    _, sug = ENGINE.feed_understood(_at_remedy(), declined)
    assert sug.public_reply and "public_reply" in [w.code for w in sug.warnings]
    case = {"shop": "柚子家女装", "buyer_name": "周敏", "honorific": "女士", "product": "连衣裙", "agent": "小林",
            "shop_reply": "亲，给您添麻烦了，这批布料的问题我们已经反馈给工厂。"}
    _, sug = ENGINE.feed_understood(_at_remedy(case), declined)
    assert sug.public_reply is None
    notes = {w.code: w.message for w in sug.warnings}
    assert "public_reply" not in notes
    assert notes["public_reply_done"].startswith(
        "评价会保留，这条评价下已经有商家回复（每条评价只能解释一次），不用再写公开解释")


def test_a_typed_in_case_reads_its_follow_up() -> None:
    conv, _ = ENGINE.start({"shop": "柚子家女装", "buyer_name": "周敏", "review_text": "一般般",
                            "review_followup": "快递太慢了，等了整整十天才到"})
    assert (conv.context.cause, conv.context.cause_source) == ("logistics", "review")
    # a review and a follow-up naming different problems: the review's first, the follow-up's beside it
    conv, _ = ENGINE.start({"shop": "柚子家女装", "buyer_name": "周敏", "review_text": "快递太慢了，等了整整十天才到",
                            "review_followup": "衣服洗一次就缩水了，袖子短了一大截"})
    assert (conv.context.cause, conv.context.causes) == ("logistics", ["quality"])


def _explain(db: Path, *args: str, top: bool) -> Any:
    env = {"CSBOT_CONFIG": None, "CSBOT_DATABASE_URL": f"sqlite:///{db}", "CSBOT_SHOP": "柚子家女装"}
    if top:  # configured, but nothing listens there: any call to the platform would fail (exit 3)
        env |= {"CSBOT_TOP_APP_KEY": "k", "CSBOT_TOP_APP_SECRET": "s", "CSBOT_TOP_SESSION": "x",
                "CSBOT_TOP_API_BASE": "http://127.0.0.1:9/router/rest"}
    return CliRunner(env=env).invoke(main, ["explain", *args], input="y\n")


def test_explain_shows_the_reply_already_posted_and_drafts_none(tmp_path: Path) -> None:
    """`csbot explain` on a case imported with its 商家回复 said only "这个案例的评价已经解释过了"
    (and, with no open-platform settings, only that those were missing): the agent never saw what
    the review already says. It shows the reply posted, drafts no second one and posts nothing."""
    db, _, items = _imported(tmp_path)
    coat = items["3719204870003"]["conversation_id"][:8]
    reply = "亲，实在抱歉让您久等了，我们已经换了合作快递。"
    for top in (False, True):
        for args in ((coat,), (coat, "--text", "亲，给您添麻烦了，我们已经换了快递。", "--yes")):
            r = _explain(db, *args, top=top)
            assert r.exit_code == 1, (top, args, r.output)
            assert f"这条评价下已经有商家回复：\n{reply}" in r.output, r.output
            assert "每条评价只能解释一次，不会再起草或发布第二条" in r.output, r.output
            assert "将要发布" not in r.output and "没有配置开放平台" not in r.output, r.output
    # a review with no reply yet still gets its draft shown (the platform is then called)
    dress = items["3719204870001"]["conversation_id"][:8]
    r = _explain(db, dress, "--text", "亲，给您添麻烦了，这批布料的问题我们已经反馈给工厂。", top=False)
    assert r.exit_code == 3 and "没有配置开放平台" in r.output and "已经有商家回复" not in r.output, r.output
