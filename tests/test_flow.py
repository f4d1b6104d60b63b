"""Issue 16: a conversation that never traps or derails, and suggestions that fit the moment.

Every situation is a dialog (send, expect the stage, expect what the suggestions must and
must not say, expect the notes) and runs twice: through the turn service over a real SQLite
store (tests/dialog.py) and through `csbot assist --json` in a real subprocess.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.dialog import ServiceFlow
from tests.shared import shared_engine

ROOT = Path(__file__).resolve().parent.parent
ENGINE = shared_engine()
CASE = {"shop": "柚子家女装", "buyer_name": "周敏", "honorific": "女士", "product": "连衣裙",
        "agent": "小林"}


@dataclass
class Step:
    """One line of a dialog and what must hold after it."""

    role: str  # buyer | agent | correct | end
    text: str = ""
    stage: str | None = None
    say: tuple[str, ...] = ()  # each appears in some suggestion
    first: tuple[str, ...] = ()  # one of these appears in the first suggestion
    not_say: tuple[str, ...] = ()  # in no suggestion
    notes: tuple[str, ...] = ()  # warning codes present
    no_notes: tuple[str, ...] = ()
    remedies_say: tuple[str, ...] = ()  # in the remedy options' texts
    checked: tuple[str, ...] = ()  # checklist items done
    unchecked: tuple[str, ...] = ()
    correct: dict[str, str] = field(default_factory=dict)


@dataclass
class Situation:
    id: str
    steps: list[Step]
    case: dict[str, Any] | None = field(default_factory=lambda: dict(CASE))


B, A = "buyer", "agent"
OPEN = [Step(A, "您好，请问是周女士吗？我是柚子家女装的售后小林。", "confirm_identity"),
        Step(B, "嗯是我", "confirm_product"),
        Step(A, "您3月2号在我们店买的连衣裙还记得吗？", "confirm_product")]

# The remedy stage reached with the options on the table (an explanation, then the offer).
REMEDY = [*OPEN,
          Step(B, "记得，颜色跟图片差太多了，洗一次就掉色", "listen_apologize"),
          Step(A, "真对不起，满心期待的裙子成了这样，换谁都难受。", "explain"),
          Step(A, "这批布料的染色工艺没控制好，我们已经让工厂整改了。", "remedy"),
          Step(A, "给您换一件新的，或者退货退款，运费我们出；要是您还想留着穿，我们退您30元。", "remedy")]

SITUATIONS = [
    Situation("callback-agreed-time-holds-and-resumes", [
        Step(A, "您好，请问是周女士吗？", "confirm_identity"),
        Step(B, "在开会，晚点再说", "callback", notes=("callback_time",)),
        Step(A, "好的，那我今晚八点联系您可以吗？您先忙", "callback", say=("今晚8点",), not_say=("明天",),
             notes=("callback_agreed",), no_notes=("record_outcome",)),
        Step(B, "行，那就今晚八点", "callback", not_say=("明天", "什么时间", "什么时候")),
        Step(A, "好的，谢谢您，再见", "callback", notes=("record_outcome",), not_say=("明天",)),
        Step(B, "现在有空了，你说吧", "confirm_product", no_notes=("callback_time",)),
    ]),
    Situation("callback-resumes-when-the-buyer-carries-on", [
        *OPEN,
        Step(B, "在开会，晚点再说", "callback"),
        Step(B, "算了就现在说吧，颜色跟图片差太多了", "listen_apologize"),
    ]),
    Situation("an-ordinary-buyers-joke-about-money-is-no-extortion", [
        *OPEN,
        Step(B, "记得，颜色跟图片差太多了，洗一次就掉色", "listen_apologize"),
        Step(B, "那我要是改了评价，你们给我多少钱？", None, not_say=("钱款", "挂钩", "绑在一起")),
        Step(B, "我要换一件", None, not_say=("钱款", "挂钩", "绑在一起", "用钱", "拿钱")),
        Step(B, "好的谢谢", None, not_say=("钱款", "挂钩", "绑在一起", "用钱", "拿钱")),
    ]),
    Situation("a-clear-demand-keeps-the-hold", [
        *OPEN,
        Step(B, "转我300块，差评马上删，不然一直挂着", "malicious", notes=("malicious_evidence",)),
        Step(B, "我要换一件", "malicious"),
        Step(A, "好的，再见", "malicious", notes=("record_outcome",)),
        Step("end", "恶意", "closed"),
    ]),
    # design.md: threaten -> escalated from any active stage; a suspected extortioner who turns
    # to the platform is the supervisor's too, and the case stays suspected (no money, evidence)
    Situation("a-suspected-extortioner-who-complains-to-the-platform-is-escalated", [
        *OPEN,
        Step(B, "转我300块，差评马上删，不然一直挂着", "malicious", notes=("malicious_evidence",)),
        Step(B, "我去平台投诉你们", "escalated", notes=("takes_over", "malicious_evidence")),
        Step(A, "这件事我已经请主管接手，他今天会直接联系您。", "escalated",
             notes=("malicious_evidence",), checked=("已告诉买家由主管接手",)),
    ]),
    Situation("escalated-shows-who-takes-over", [
        *OPEN,
        Step(B, "有股怪味，我已经打12315投诉你们了", "escalated", notes=("takes_over",),
             unchecked=("已告诉买家由主管接手",)),
        Step(A, "这件事我已经请主管接手，他今天会直接联系您。", "escalated",
             checked=("已告诉买家由主管接手",)),
    ]),
    Situation("after-the-end-every-message-is-answered", [
        *OPEN,
        Step(B, "记得，颜色跟图片差太多了", "listen_apologize"),
        Step(A, "真的很抱歉，让您失望了。", "explain"),
        Step(A, "谢谢您的理解，再次抱歉，祝您生活愉快，再见！", "closed"),
        Step(B, "拜拜", "closed", say=("再见",)),
        Step(B, "/:^_^ 亲在吗", "closed", say=("在",), no_notes=("reopened",)),
        Step(B, "对了，新的那套不会也掉色吧？", "listen_apologize", notes=("reopened",)),
    ]),
    Situation("a-buyer-who-speaks-first-starts-where-the-buyer-is", [
        Step(B, "快递太慢了，等了十天才到", "listen_apologize", say=("柚子家女装", "周敏女士"),
             not_say=("用着怎么样", "穿得怎么样", "还记得吗")),
        Step(A, "真的很抱歉，让您等了这么久。", "explain", not_say=("本人", "女士吗", "对吗")),
    ]),
    Situation("safety-first", [
        *OPEN,
        Step(B, "记得，鞋底开胶了，跑步的时候差点摔了", "listen_apologize",
             first=("受伤", "没事", "伤到"), notes=("safety_first",)),
        Step(A, "人没事吧？有没有伤到？", "listen_apologize", no_notes=("safety_first",),
             not_say=("受伤", "伤到")),
    ], case={**CASE, "product": "跑鞋"}),
    Situation("damage-joins-the-remedy-and-no-request-before-it-is-under-way", [
        *OPEN,
        Step(B, "记得，洗一次就掉色，睡衣也被染了", "listen_apologize", notes=("other_damage",)),
        Step(A, "真的很抱歉，给您添麻烦了。", "explain"),
        Step(A, "这批布料的固色没做好，我们已经反馈给工厂。", "remedy", say=("睡衣", "换一套")),
        Step(A, "给您换一套新的，或者退货退款，您看哪个方便？", "remedy", not_say=("退货退款",)),
        Step(B, "换一套吧", "polite_request", say=("换一套新的", "睡衣"), not_say=("评价",)),
        Step(A, "好的，换货我马上给您安排，今天就发出。", "polite_request", say=("评价",)),
    ], case={**CASE, "product": "纯棉四件套"}),
    Situation("measure-words-and-verbs-come-from-the-product", [
        *OPEN,
        Step(B, "记得，穿了一天鞋底就开胶了", "listen_apologize"),
        Step(A, "真的很抱歉，给您添麻烦了。", "explain"),
        Step(A, "这批胶水没达标，我们已经反馈给工厂。", "remedy", say=("换一双",), not_say=("换一件",),
             remedies_say=("换一双",)),
    ], case={**CASE, "product": "跑鞋"}),
    Situation("the-remedy-named-is-the-one-the-buyer-chose", [
        *OPEN,
        Step(B, "记得，快递等了十天才到，盒子都压扁了", "listen_apologize"),
        Step(A, "非常抱歉，让您等了这么久。", "explain"),
        Step(A, "那几天仓库遇到暴雨停发，是我们没有及时通知。", "remedy"),
        Step(A, "给您退50元，或者补发，您挑一个。", "remedy"),
        Step(B, "我要退货退款", "polite_request", say=("退货退款",), not_say=("全额退款",)),
    ]),
    Situation("no-agent-name-no-buyer-name-no-order-date", [
        Step(A, "您好，在吗？", "confirm_identity", say=("这一单",),
             not_say=("小安", "亲本人", "商品这单", "前段时间")),
    ], case=None),
    Situation("the-case-keeps-its-first-cause", [
        *OPEN,
        Step(B, "记得，洗了一次就缩水了，小了一大圈", "listen_apologize"),
        Step(A, "非常抱歉，给您添麻烦了。", "explain"),
        Step(B, "你這什麼態度？", "explain", not_say=("客服", "聊天记录")),
    ]),
    Situation("a-correction-changes-the-flow", [
        *OPEN,
        Step(B, "记得，颜色跟图片差太多了", "listen_apologize"),
        Step(B, "你们客服在忙也不至于半天才回复一句话吧", None),
        Step("correct", stage="listen_apologize", correct={"intent": "抱怨"}),
        Step("correct", stage="explain", correct={"stage": "解释原因"}),
        Step("correct", stage="explain", correct={"cause": "质量问题"}, say=("质检", "工厂")),
    ]),
    Situation("the-agents-farewell-in-an-active-stage-ends-the-talk", [
        *OPEN,
        Step(B, "记得，颜色跟图片差太多了", "listen_apologize"),
        Step(A, "好的，谢谢您，再见", "closed"),
    ]),
    # -- the remedy stage and its neighbours (the flow follows every misreading, issue 13) --
    Situation("an-apology-that-retells-the-problem-is-no-explanation", [
        *OPEN,
        Step(B, "记得，颜色跟图片差太多了，洗一次就掉色", "listen_apologize"),
        # the learned model alone reads an explanation here (about 0.5): it moves nothing
        Step(A, "太抱歉了，等了好几天收到的裙子是这个样子，真的很扫兴。", "explain",
             unchecked=("已给出与原因相符的解释",)),
        Step(A, "这批布料的染色工艺没控制好，我们已经让工厂整改了。", "remedy"),
    ]),
    Situation("a-buyer-who-chooses-beside-a-complaint-chooses", [
        *REMEDY,
        # read as an exchange, a refund and a complaint at once: the refund named is the choice,
        # said back with its sum (remedies.yaml with_amount), not as a vague "退一部分货款"
        Step(B, "换货还得等一个礼拜，算了，退30吧", "polite_request", say=("退您30元",)),
        Step(A, "好的，30元已经退给您了。冒昧问一句，如果您觉得处理得还可以，愿意考虑更新一下评价吗？"
                "改不改都由您。", "polite_request", checked=("只请求一次、不附条件",)),
        Step(B, "好，我晚点去改", "closing"),
    ]),
    Situation("turning-one-option-down-to-choose-another-chooses", [
        *REMEDY,
        Step(B, "不用换了，直接退款吧", "polite_request", no_notes=("public_reply",)),
    ]),
    Situation("a-buyer-who-picks-an-option-by-its-place-chooses", [
        *REMEDY,
        Step(B, "我选第二个", "polite_request"),
    ]),
    Situation("a-buyer-who-declines-every-option-beside-a-complaint-closes", [
        *REMEDY,
        # "都不用了" beside a complaint about the dress: every option turned down, no request,
        # the public explanation instead
        Step(B, "都不用了，裙子我送我妹了，就是跟你们说一声", "closing", notes=("public_reply",),
             not_say=("评价改", "更新一下评价")),
        Step(A, "好的，尊重您的决定，谢谢您告诉我们，再次说声抱歉，欢迎再来。", "closed"),
    ]),
    Situation("a-curt-yes-confirms-who-and-skips-nothing", [
        Step(A, "您好，请问是周女士吗？我是柚子家女装的售后小林。", "confirm_identity"),
        Step(B, "是我，干嘛", "confirm_product"),
        Step(A, "您3月2号在我们店买的连衣裙还记得吗？", "confirm_product"),
        Step(B, "记得，颜色跟图片差太多了", "listen_apologize"),
    ]),
    Situation("asked-who-they-are-a-gruff-what-is-it-answers-it", [
        Step(A, "您好，请问是周女士吗？我是柚子家女装的售后小林。", "confirm_identity"),
        Step(B, "什么事啊？有话直说", "confirm_product"),
    ]),
    Situation("a-new-problem-while-closing-is-heard-and-the-review-is-not-asked-again", [
        *REMEDY,
        Step(B, "换一件新的吧", "polite_request"),
        Step(A, "好的，新裙子明天寄出。冒昧问一句，如果您觉得处理得还可以，愿意考虑更新一下评价吗？"
                "改不改都由您。", "polite_request"),
        Step(B, "好，我晚点去改", "closing"),
        Step(B, "对了，一起买的那条腰带扣子也坏了", "listen_apologize", no_notes=("reopened",)),
        Step(A, "真对不起，一下碰上两件糟心事，您肯定挺烦的。", "explain",
             unchecked=("已给出与原因相符的解释",)),
        Step(A, "腰带扣是另一家工厂做的，那批的焊点不牢，我们已经换了供应商。", "remedy"),
        Step(A, "腰带给您换一条新的，或者直接退款，您看哪个方便？", "remedy"),
        # the review was asked about once in this case: the second remedy goes straight to closing
        Step(B, "换一条吧", "closing", not_say=("更新一下评价", "修改评价", "改评")),
    ]),
    # issue 13 (flow on talk nobody wrote for it): asked why, the agent explains; asked what the
    # shop will do ("那你們打算怎麼處理？", read as a question), the suggestion gives the options with a
    # short reason. The stage waits for the agent's message, as design.md has it: that message both
    # explains and offers, and moves on to 提出补救.
    Situation("a-buyer-who-asks-what-the-shop-will-do-gets-the-options", [
        *OPEN,
        Step(B, "记得，颜色跟图片差太多了，洗一次就掉色", "listen_apologize"),
        Step(A, "真对不起，满心期待的裙子成了这样，换谁都难受。", "explain"),
        Step(B, "怎么会掉色掉成这样？", "explain", not_say=("退貨退款", "退货退款")),
        Step(B, "那你們打算怎麼處理？", "explain", remedies_say=("退",), say=("退貨退款", "改進")),
        Step(A, "这批布料的染色工艺没控制好，已经让工厂整改了。给您换一件新的，或者退货退款，运费我们出。", "remedy",
             checked=("已给出具体方案供选择",)),
    ]),
    # a request while the agent is to explain asks for the options too; it chooses once they are offered
    Situation("a-request-while-the-agent-is-to-explain-gets-the-options-first", [
        *OPEN,
        Step(B, "记得，颜色跟图片差太多了，洗一次就掉色", "listen_apologize"),
        Step(A, "真对不起，满心期待的裙子成了这样，换谁都难受。", "explain"),
        Step(B, "给我换一件新的，运费你们出", "explain", say=("给您换一件新的",), not_say=("您看哪种方便",)),
        Step(A, "好的，给您换一件新的，来回运费我们承担，快递明天上门取件。", "remedy"),
        Step(B, "行", "polite_request"),
    ]),
    # owning the fault without an apology word is neither the apology nor the explanation
    # (design.md: 抱歉、对不起… are the apology; an explanation names what went wrong)
    Situation("the-agent-who-owns-the-fault-has-not-yet-apologised-or-explained", [
        *OPEN,
        Step(B, "记得，颜色跟图片差太多了，洗一次就掉色", "listen_apologize"),
        Step(A, "是我们做得不到位", "listen_apologize", unchecked=("已道歉",)),
        Step(A, "真对不起，满心期待的裙子成了这样，换谁都难受。", "explain"),
        Step(A, "这事确实是我们做得不够好", "explain", unchecked=("已给出与原因相符的解释",)),
        Step(A, "不过页面上有色差说明的，您下单前是不是没对照一下呀", "explain", notes=("blame",),
             unchecked=("已给出与原因相符的解释", "没有指责买家")),
        Step(A, "这批布料的染色工艺没控制好，我们已经让工厂整改了。", "remedy"),
    ]),
    # the buyer has the remedy: it is done, the request says glad it arrived, and after the end
    # the same news keeps the case closed (no new round)
    Situation("the-remedy-the-buyer-received-is-done", [
        *REMEDY,
        Step(B, "换一件新的吧", "polite_request", unchecked=("方案已在办理（已寄出、已退款、已预约或买家已收到）",)),
        Step(A, "好的，我跟仓库说一声。", "polite_request"),
        Step(B, "收到了，挺好的", "polite_request", first=("收到", "办妥"),
             not_say=("已经在给您办理", "已经在处理中", "正在跟进", "马上处理"),
             checked=("方案已在办理（已寄出、已退款、已预约或买家已收到）",)),
        Step(A, "冒昧问一句，如果您觉得处理得还可以，愿意考虑更新一下评价吗？改不改都由您。", "polite_request"),
        Step(B, "可以", "closing"),
        Step(A, "谢谢您！再次为裙子的事道歉，欢迎再来。", "closed"),
        Step(B, "新的收到了 没问题", "closed", no_notes=("reopened",)),
        Step(B, "钱到了再说", "closed"),
    ]),
    Situation("a-complaint-said-as-a-goodbye-while-closing-is-the-goodbye", [
        *REMEDY,
        Step(B, "换一件新的吧", "polite_request"),
        Step(A, "好的，新裙子明天寄出。冒昧问一句，如果您觉得处理得还可以，愿意考虑更新一下评价吗？"
                "改不改都由您。", "polite_request"),
        Step(B, "评价就不改了", "closing"),
        Step(B, "就这样吧，反正也挺失望的", "closing"),
        Step(A, "理解的，再次为裙子的事道歉，谢谢您，欢迎再来。", "closed"),
    ]),
]


def _check(step: Step, sug: dict[str, Any], where: str) -> None:
    texts = [s["text"] for s in sug.get("suggestions", [])]
    if step.stage is not None:
        assert sug["stage"]["id"] == step.stage, (where, step.text, sug["stage"], sug.get("understanding"))
    for needle in step.say:
        assert any(needle in t for t in texts), (where, needle, texts)
    if step.first:
        assert texts and any(n in texts[0] for n in step.first), (where, step.first, texts)
    for needle in step.not_say:
        assert not any(needle in t for t in texts), (where, needle, texts)
    codes = [w["code"] for w in sug.get("warnings", [])]
    for code in step.notes:
        assert code in codes, (where, code, codes)
    for code in step.no_notes:
        assert code not in codes, (where, code, codes)
    for needle in step.remedies_say:
        assert any(needle in r["text"] for r in sug["remedies"]), (where, needle, sug["remedies"])
    done = {c["item"]: c["done"] for c in sug.get("checklist", [])}
    for item in step.checked:
        assert done.get(item) is True, (where, item, done)
    for item in step.unchecked:
        assert done.get(item) is False, (where, item, done)
    assert not any(w["severity"] == "block" for w in sug.get("warnings", [])
                   if w["span"] is not None and step.role != "agent"), (where, sug["warnings"])


AT = datetime(2026, 12, 5, 14, 0)


@pytest.mark.parametrize("situation", SITUATIONS, ids=[s.id for s in SITUATIONS])
def test_situation_through_the_turn_service(situation: Situation, tmp_path: Path) -> None:
    """Each dialog as the service runs it: the turn service over a real SQLite store."""
    case = situation.case or {"shop": "本店", "buyer_name": ENGINE.defaults["buyer_name"]}
    f = ServiceFlow(ENGINE, tmp_path / "dialog.db", case)
    try:
        for i, step in enumerate(situation.steps):
            if step.role == "end":
                f.close(step.text)
                assert f.conv.stage == step.stage and f.conv.outcome
                continue
            if step.role == "correct":
                f.correct(**step.correct)
            else:
                f.send(step.role, step.text, at=AT)  # type: ignore[arg-type]
                assert f.published[-1].turn == f.last.turn  # listeners got this turn, in hand
            _check(step, f.last.model_dump(mode="json"), f"service step {i + 1}")
    finally:
        f.finish()


def _lines(situation: Situation) -> list[str]:
    out = [json.dumps({"case": situation.case}, ensure_ascii=False)] if situation.case else []
    for step in situation.steps:
        if step.role == "end":
            out.append(json.dumps({"end": step.text}, ensure_ascii=False))
        elif step.role == "correct":
            out.append(json.dumps({"correct": step.correct}, ensure_ascii=False))
        else:
            out.append(json.dumps({"role": step.role, "text": step.text}, ensure_ascii=False))
    return out


def assist_json(lines: list[str]) -> tuple[int, list[dict[str, Any]]]:
    r = subprocess.run([sys.executable, "-m", "bot", "assist", "--json"], input="\n".join(lines) + "\n",
                       text=True, capture_output=True, cwd=ROOT, timeout=120, encoding="utf-8")
    return r.returncode, [json.loads(x) for x in r.stdout.splitlines()]


def test_every_situation_through_assist_json() -> None:
    """All the dialogs in one `csbot assist --json` process each (exactly one answer a line)."""
    for situation in SITUATIONS:
        lines = _lines(situation)
        code, out = assist_json(lines)
        assert code == 0 and len(out) == len(lines), (situation.id, out[-1:])
        answers = out[1:] if situation.case else out
        for i, (step, sug) in enumerate(zip(situation.steps, answers, strict=True)):
            if step.role == "end":
                assert sug["outcome"]["code"] == "malicious" and sug["stage"]["id"] == "closed"
                continue
            # assist --json reads callback times against the clock: only the parts that do
            # not depend on it are compared there
            if any("今晚" in s for s in step.say):
                step = Step(step.role, step.text, step.stage, notes=step.notes)
            _check(step, sug, f"{situation.id} json line {i + 1}")


def test_assist_json_answers_every_line_once() -> None:
    lines = ['{"role":"agent","text":"您好，请问是周女士吗？"}', "", "not json", "[1]",
             '{"role":"buyer","text":"是我"}', '{"end":"不存在的结果"}', '{"correct":{}}',
             '{"correct":{"stage":"没有这个阶段"}}', '{"role":"agent","text":"谢谢您，再见"}',
             '{"role":"buyer","text":"拜拜"}', '{"role":"buyer","text":"/:^_^ 亲在吗"}']
    code, out = assist_json(lines)
    assert code == 1 and len(out) == len(lines)
    assert [o.get("error", {}).get("code") for o in out] == [
        None, "empty", "bad_json", "invalid", None, "invalid", "invalid", "invalid", None, None, None]
    assert "空行" in out[1]["error"]["message"] and "已解决" in out[5]["error"]["message"]
    assert all("stage" in o for o in out[8:]) and out[9]["suggestions"]


def _read(text: str, intent: str, confidence: float, cause: str | None = None) -> Any:
    """A buyer message as a model might read it: the flow's contract on confidence is tested
    apart from whichever model reads the text today."""
    from bot.models import BuyerUnderstanding

    return BuyerUnderstanding(text=text, intent=intent, cause=cause, emotion="calm",  # type: ignore[arg-type]
                              confidence=confidence)


def _at_listen() -> Any:
    conv, _ = ENGINE.start(CASE)
    for role, text in (("agent", "您好，请问是周女士吗？"), ("buyer", "是我"), ("agent", "您买的连衣裙还记得吗？"),
                       ("buyer", "记得，颜色跟图片差太多了，洗一次就掉色")):
        conv, _ = ENGINE.feed(conv, role, text)  # type: ignore[arg-type]
    assert conv.stage == "listen_apologize"
    return conv


def test_a_weak_big_jump_holds_and_says_how_to_confirm() -> None:
    conv = _at_listen()
    gate = ENGINE.flow.evidence["end"]
    conv, sug = ENGINE.feed_understood(conv, _read("好吧，就这样吧", "end", gate - 0.1))
    assert conv.stage == "listen_apologize"
    note = next(w for w in sug.warnings if w.code == "maybe_end")
    assert note.message.startswith("可能：") and note.action is not None
    assert note.action.stage == "closing" and note.action.command == "/阶段 致谢结束"
    assert '"action":{"stage":"closing","command":"/阶段 致谢结束","label":"致谢结束"}' in sug.model_dump_json()
    conv, sug = ENGINE.correct(conv, stage=note.action.stage)  # the one click / the one word
    assert conv.stage == "closing" and not any(w.code.startswith("maybe_") for w in sug.warnings)
    conv, _ = ENGINE.feed_understood(_at_listen(), _read("好吧，就这样吧", "end", gate + 0.05))
    assert conv.stage == "closing"  # enough evidence: the jump is made
    # (a threat must also say where it goes: script.yaml evidence_cues)
    for intent, stage, text in (("extort", "malicious", "……"), ("threaten", "escalated", "我去平台投诉你们"),
                                ("busy", "callback", "我在开会"), ("wrong_person", "closing", "……")):
        low = ENGINE.flow.evidence[intent] - 0.05
        held, sug = ENGINE.feed_understood(_at_listen(), _read(text, intent, low))
        assert held.stage == "listen_apologize" and f"maybe_{intent}" in [w.code for w in sug.warnings]
        moved, _ = ENGINE.feed_understood(_at_listen(), _read(text, intent, 0.99))
        assert moved.stage == stage, intent


def test_a_sure_threat_that_names_nowhere_holds_and_says_how_to_confirm() -> None:
    """"那你们等着吧" names no platform, 12315 or lawyer: however sure the reading, no supervisor yet."""
    held, sug = ENGINE.feed_understood(_at_listen(), _read("那你们等着吧", "threaten", 0.99))
    assert held.stage == "listen_apologize" and "maybe_threaten" in [w.code for w in sug.warnings]


def _read_several(text: str, intents: list[tuple[str, float]], primary: str, confidence: float,
                  cause: str | None = None) -> Any:
    """A message read as several intents (text order), ``primary`` the whole message's reading."""
    from bot.models import IntentScore

    u = _read(text, primary, confidence, cause)
    return u.model_copy(update={"intents": [IntentScore(intent=i, confidence=p) for i, p in intents]})


def _at_identity() -> Any:
    conv, _ = ENGINE.start(CASE)
    conv, _ = ENGINE.feed(conv, "agent", "周女士您好，我是柚子家女装的售后客服小林，请问是您本人吗？")
    assert conv.stage == "confirm_identity"
    return conv


def test_a_weak_primary_beside_a_sure_yes_does_not_move_the_stage() -> None:
    # "是我。我是周敏女士，称呼可别弄错。": a sure yes, and the whole message read as a complaint
    # at 0.33. The yes confirms who she is; the complaint is too weak to skip 确认商品.
    weak = ENGINE.flow.weak_primary - 0.17
    text = "是我。我是周敏女士，称呼可别弄错。"
    conv, sug = ENGINE.feed_understood(
        _at_identity(), _read_several(text, [("affirm", 0.999), ("complain", weak)], "complain", weak))
    assert conv.stage == "confirm_product" and conv.context.identity_confirmed
    assert not conv.context.problem_stated
    note = next(w for w in sug.warnings if w.code == "maybe_problem")
    assert note.message.startswith("可能：") and note.action is not None
    assert note.action.stage == "listen_apologize" and note.action.command == "/阶段 倾听致歉"
    conv, sug = ENGINE.correct(conv, stage=note.action.stage)  # the agent confirms it
    assert conv.stage == "listen_apologize" and not any(w.code.startswith("maybe_") for w in sug.warnings)
    # read surely, the same two intents make both moves (issue 13.3: "嗯，那箱根本没收到")
    conv, sug = ENGINE.feed_understood(
        _at_identity(), _read_several("嗯，那箱根本没收到", [("affirm", 0.99), ("complain", 0.87)],
                                      "complain", 0.87, "logistics"))
    assert conv.stage == "listen_apologize" and conv.context.problem_stated
    assert not any(w.code.startswith("maybe_") for w in sug.warnings)
    # at the threshold the primary is sure enough: a complaint that names a problem skips
    # 确认商品; one that names none (the honorific) is a mood and skips nothing
    at_gate = ENGINE.flow.weak_primary
    conv, _ = ENGINE.feed_understood(
        _at_identity(), _read_several(text, [("affirm", 0.999), ("complain", at_gate)], "complain",
                                      at_gate, "quality"))
    assert conv.stage == "listen_apologize"
    conv, sug = ENGINE.feed_understood(
        _at_identity(), _read_several(text, [("affirm", 0.999), ("complain", at_gate)], "complain", at_gate))
    assert conv.stage == "confirm_product" and not conv.context.problem_stated
    assert not any(w.code.startswith("maybe_") for w in sug.warnings)


def test_a_weak_primary_with_a_stated_problem_or_alone_still_moves() -> None:
    weak = ENGINE.flow.weak_primary - 0.1
    # the cause is read apart from the intent: a named problem still moves to 倾听致歉
    conv, sug = ENGINE.feed_understood(
        _at_identity(), _read_several("是我，那箱没收到", [("affirm", 0.99), ("complain", weak)],
                                      "complain", weak, "logistics"))
    assert conv.stage == "listen_apologize" and conv.context.identity_confirmed
    assert not any(w.code == "maybe_problem" for w in sug.warnings)
    # no sure reading beside it: the best reading there is moves the stage, as before (a
    # complaint naming no problem is a mood: it answers who she is; one naming it skips ahead)
    conv, sug = ENGINE.feed_understood(_at_identity(), _read("我是周敏女士，称呼可别弄错", "complain", weak))
    assert conv.stage == "confirm_product" and not conv.context.problem_stated
    conv, sug = ENGINE.feed_understood(_at_identity(), _read("这裙子一洗就掉色", "complain", weak, "quality"))
    assert conv.stage == "listen_apologize" and conv.context.problem_stated
    # a weak secondary never moves the stage either
    conv, _ = ENGINE.feed_understood(
        _at_identity(), _read_several("是我，称呼可别弄错", [("affirm", 0.99), ("complain", weak)], "affirm", 0.99))
    assert conv.stage == "confirm_product" and not conv.context.problem_stated


def test_a_weak_big_jump_keeps_the_sure_yes_beside_it() -> None:
    # "是我。另外我是周女士，别叫错了。" read wrong_person at 0.39 beside a sure "是我": the big
    # jump holds (evidence gate) and the yes still confirms who she is.
    low = ENGINE.flow.evidence["wrong_person"] - 0.2
    conv, sug = ENGINE.feed_understood(
        _at_identity(), _read_several("是我。另外我是周女士，别叫错了。",
                                      [("affirm", 0.999), ("wrong_person", low)], "wrong_person", low))
    assert conv.stage == "confirm_product" and conv.context.identity_confirmed
    assert "maybe_wrong_person" in [w.code for w in sug.warnings]


def test_malicious_on_weak_evidence_returns_a_clear_demand_keeps_it() -> None:
    weak = (ENGINE.flow.evidence["extort"] + ENGINE.flow.firm_extort) / 2
    conv, sug = ENGINE.feed_understood(_at_listen(), _read("改了评价你们给多少钱", "extort", weak))
    assert conv.stage == "malicious" and not conv.context.firm
    done = {c.item: c.done for c in sug.checklist}
    assert not any(done.values()), done  # nothing ticked before anyone did it
    conv, sug = ENGINE.feed(conv, "agent", "颜色的问题我们按正常售后给您处理，换货、退货都可以。")
    done = {c.item: c.done for c in sug.checklist}
    assert done["已回复且没答应给钱或任何交换"] and not done["30 天内向平台投诉恶意评价"]
    conv, sug = ENGINE.feed(conv, "buyer", "我要换一件")
    assert conv.stage == "listen_apologize"  # the talk carried on normally
    assert not any(w in s.text for s in sug.suggestions for w in ("钱款", "挂钩", "绑在一起", "拿钱"))
    firm, _ = ENGINE.feed_understood(_at_listen(), _read("转我300，不然差评一直挂着", "extort", 0.99))
    assert firm.stage == "malicious" and firm.context.firm
    firm, _ = ENGINE.feed(firm, "buyer", "我要换一件")
    assert firm.stage == "malicious"
    again, _ = ENGINE.feed_understood(_at_listen(), _read("改了评价给多少钱", "extort", weak))
    again, _ = ENGINE.feed_understood(again, _read("给我200就改", "extort", weak))
    assert again.stage == "malicious" and again.context.firm  # a second demand
    again, _ = ENGINE.feed(again, "buyer", "我要换一件")
    assert again.stage == "malicious"


def test_only_a_clear_demand_is_an_extortion_that_bars_the_review_request() -> None:
    """Every entry into 疑似恶意 set Context.extorted, a weak reading too: a buyer who came back
    to the main path (design.md) was never asked about the review and got the "extorted" note."""
    weak = (ENGINE.flow.evidence["extort"] + ENGINE.flow.firm_extort) / 2
    conv, _ = ENGINE.feed_understood(_at_listen(), _read("改了评价你们给多少钱", "extort", weak))
    assert conv.stage == "malicious" and conv.context.suspected and not conv.context.extorted
    conv, sug = ENGINE.feed(conv, "buyer", "我要换一件")
    assert conv.stage == "listen_apologize" and not conv.context.extorted
    assert "extorted" not in [w.code for w in sug.warnings]
    firm, _ = ENGINE.feed_understood(_at_listen(), _read("转我300，不然差评一直挂着", "extort", 0.99))
    assert firm.context.extorted
    again, _ = ENGINE.feed_understood(_at_listen(), _read("改了评价给多少钱", "extort", weak))
    again, _ = ENGINE.feed_understood(again, _read("给我200就改", "extort", weak))
    assert again.context.firm and again.context.extorted  # a second demand


def test_safety_cues_put_the_person_first() -> None:
    for line in ("用的时候烫手，差点烫伤", "孩子吃了一口就吐了", "插上电就漏电", "跑步的时候差点摔了"):
        conv, _ = ENGINE.start(CASE)
        for role, text in (("agent", "您好，请问是周女士吗？"), ("buyer", "是我"),
                           ("agent", "您买的东西还记得吗？")):
            conv, _ = ENGINE.feed(conv, role, text)  # type: ignore[arg-type]
        conv, sug = ENGINE.feed(conv, "buyer", line)
        first = sug.suggestions[0].text
        assert any(w in first for w in ("受伤", "没事", "伤到", "身体")), (line, first)


def test_callback_time_is_stored_as_an_iso_datetime() -> None:
    conv, _ = ENGINE.start(CASE)
    conv, _ = ENGINE.feed(conv, "agent", "您好，请问是周女士吗？", at=AT)
    conv, _ = ENGINE.feed(conv, "buyer", "在开会，晚点再说", at=AT)
    conv, _ = ENGINE.feed(conv, "buyer", "明天下午三点吧", at=AT)
    assert conv.stage == "callback" and conv.context.callback_at == "2026-12-06T15:00"
    conv, sug = ENGINE.feed(conv, "agent", "好的", at=AT)
    assert all("明天下午3点" in s.text or "今晚" not in s.text for s in sug.suggestions)


def test_the_case_keeps_its_first_cause_and_adds_the_rest() -> None:
    conv, _ = ENGINE.start(CASE)
    for role, text in (("agent", "您好，请问是周女士吗？"), ("buyer", "是我"),
                       ("agent", "您买的连衣裙还记得吗？"), ("buyer", "记得，洗了一次就缩水了，小了一大圈"),
                       ("agent", "非常抱歉。"), ("buyer", "你這什麼態度？")):
        conv, _ = ENGINE.feed(conv, role, text)  # type: ignore[arg-type]
    first = conv.context.cause
    assert first not in (None, "service") and conv.context.causes == ["service"]
    conv, _ = ENGINE.feed(conv, "buyer", "不是缩水，其实是颜色跟图片不一样")
    assert conv.context.cause == "not_as_described"  # the buyer corrected it


def test_a_held_case_ends_when_its_outcome_is_recorded() -> None:
    conv, _ = ENGINE.start(CASE)
    conv, _ = ENGINE.feed(conv, "agent", "您好，请问是周女士吗？")
    conv, _ = ENGINE.feed(conv, "buyer", "在开会，晚点再说")
    assert conv.stage == "callback"
    conv = ENGINE.close(conv, "callback")
    assert conv.stage == "closed" and conv.outcome == "callback"


def test_heldout_flow_dialogs_stage_agreement() -> None:
    """tests/data/heldout/dialogs.jsonl: eight dialogs of issue 16's situations, written and
    frozen before csbot first ran on them (first run: 0.897 of turns, 1.00 final stage; the
    misses are agent explanations and a buyer complaint that the understanding does not
    read, issue 13). Every line is answered, also after the end."""
    from bot.replay import eval_dialogs
    from tests.conftest import DATA, read_jsonl

    dialogs = read_jsonl(DATA / "heldout" / "dialogs.jsonl")
    r = eval_dialogs(ENGINE, dialogs)
    print(f"held-out flow dialogs: stage agreement {r['stage_accuracy']:.3f}, "
          f"final stage {r['final_stage_accuracy']:.3f}")
    assert r["stage_accuracy"] >= 0.85 and r["final_stage_accuracy"] >= 0.85


def test_heldout_dialogs_written_blind_stage_agreement() -> None:
    """tests/data/heldout/dialogs_b.jsonl: sixteen dialogs (182 turns) written from design.md's
    stage rules alone, by a writer who saw neither csbot's code nor its data, and frozen before
    csbot ran on them (first run 0.950 of turns, 15 of 16 final stages right, before and after
    the remedy-choice and mood rework of the flow). Never read to write rules."""
    from bot.replay import eval_dialogs
    from tests.conftest import DATA, read_jsonl

    r = eval_dialogs(ENGINE, read_jsonl(DATA / "heldout" / "dialogs_b.jsonl"))
    print(f"blind held-out dialogs: stage agreement {r['stage_accuracy']:.3f}, "
          f"final stage {r['final_stage_accuracy']:.3f}")
    assert r["stage_accuracy"] >= 0.90 and r["final_stage_accuracy"] >= 0.85


def test_the_agent_may_contact_a_closed_case_again_within_three_attempts() -> None:
    conv, _ = ENGINE.start(CASE)
    conv, _ = ENGINE.feed(conv, "agent", "您好，请问是周女士吗？")
    conv, _ = ENGINE.feed(conv, "buyer", "你们打错了，我刚换的这个号")
    conv, _ = ENGINE.feed(conv, "agent", "抱歉打扰到您了，祝您生活愉快。")
    assert conv.stage == "closed"
    for attempt in (2, 3):
        conv, sug = ENGINE.resume(conv)
        assert conv.stage == "opening" and conv.context.attempts == attempt and sug.suggestions
        conv = ENGINE.close(conv, "unreachable")
    with pytest.raises(ValueError, match="3 次"):
        ENGINE.resume(conv)


def test_the_damaged_thing_is_named_without_its_owner() -> None:
    """"把我睡衣也染了" names 睡衣: the note and the remedy read "买家的睡衣…", not "买家的把我睡衣…"."""
    for text, thing in (("洗了一次还掉色，把我睡衣也染了", "睡衣"), ("睡衣也被染了", "睡衣"),
                        ("把我的沙发弄脏了", "沙发")):
        assert ENGINE.flow.damaged(ENGINE.understand.normalize(text).text) == thing, text


def test_a_parcel_crushed_on_the_way_is_resent_not_swapped_for_a_wrong_one() -> None:
    # Logistics offered the wrong-item remedy: "补发正确的商品，发错的不用寄回" for a crushed cup.
    conv, _ = ENGINE.start({"shop": "柚子家", "buyer_name": "亲", "product": "保温杯"})
    for role, text in (("agent", "亲您好，我是柚子家售后"), ("buyer", "杯子收到的时候被快递压扁了"),
                       ("agent", "实在抱歉，让您收到压坏的杯子，换谁都会生气"),
                       ("agent", "这次是运输途中挤压导致的，我们已经跟快递反馈，也会加固包装")):
        conv, sug = ENGINE.feed(conv, role, text)  # type: ignore[arg-type]
    assert conv.stage == "remedy" and conv.context.cause == "logistics"
    assert sug.remedies[0].label == "补发一份新的（运费我们出）"
    texts = " ".join(s.text for s in sug.suggestions)
    assert "补发一只新的" in texts and "发错" not in texts and "正确的商品" not in texts


# -- the remedy stage, closing and the moods around them: the flow's contract, apart from any model

def _to_the_options(complaint: str, apology: str, explanation: str, offer: str,
                    case: dict[str, Any] | None = None) -> Any:
    """A case played through identity and product to the agent's offer of the options."""
    conv, _ = ENGINE.start(case or CASE)
    for role, text in (("agent", "您好，请问是周女士吗？"), ("buyer", "是我"), ("agent", "您买的连衣裙还记得吗？"),
                       ("buyer", complaint), ("agent", apology), ("agent", explanation), ("agent", offer)):
        conv, _ = ENGINE.feed(conv, role, text)  # type: ignore[arg-type]
    return conv


def _at_remedy(case: dict[str, Any] | None = None) -> Any:
    """The options are on the table (offered once)."""
    conv = _to_the_options("记得，颜色跟图片差太多了，洗一次就掉色", "真对不起，满心期待的裙子成了这样，换谁都难受。",
                           "这批布料的染色工艺没控制好，我们已经让工厂整改了。",
                           "给您换一件新的，或者退货退款，运费我们出；要是您还想留着穿，我们退您30元。", case)
    assert conv.stage == "remedy" and conv.context.remedies_offered == 1
    return conv


def test_a_request_beside_another_reading_chooses_an_option() -> None:
    # the whole message a complaint, the refund a clause of it ("重做还要等半个月，算了，退三成吧")
    conv, _ = ENGINE.feed_understood(_at_remedy(), _read_several(
        "重做还要等半个月，算了，退三成吧", [("complain", 0.9), ("want_refund", 0.87)], "complain", 0.9,
        "logistics"))
    assert conv.stage == "polite_request" and conv.context.remedy_chosen == "partial_refund"
    # a weak request beside a sure complaint that moves nothing here: the request is still the
    # best reading that moves ("退40吧，除毛球器也要": want_refund 0.41, complain 0.84)
    conv, _ = ENGINE.feed_understood(_at_remedy(), _read_several(
        "退40吧，另外再送个除毛球器", [("want_refund", 0.41), ("complain", 0.84)], "want_refund", 0.41))
    assert conv.stage == "polite_request" and conv.context.remedy_chosen == "partial_refund"
    # turning one option down to choose another chooses ("不用换了，直接退款吧")
    conv, _ = ENGINE.feed_understood(_at_remedy(), _read_several(
        "不用换了，直接退款吧", [("deny", 1.0), ("want_refund", 0.99)], "want_refund", 0.99))
    assert conv.stage == "polite_request" and not conv.context.all_declined
    # on Tmall (the review cannot change) the choice closes, without the request
    conv, _ = ENGINE.feed_understood(_at_remedy({**CASE, "platform": "tmall"}), _read_several(
        "退30吧，裙子我还挺喜欢", [("want_refund", 0.76), ("other", 0.51)], "other", 0.51))
    assert conv.stage == "closing" and conv.context.remedy_chosen == "partial_refund"


def test_a_no_beside_a_complaint_declines_every_option() -> None:
    conv, sug = ENGINE.feed_understood(_at_remedy(), _read_several(
        "都不用了，凑合穿吧，我就是想反映一下", [("deny", 1.0), ("complain", 0.85)], "complain", 0.85, "quality"))
    assert conv.stage == "closing" and conv.context.all_declined and conv.context.remedy_chosen is None
    assert sug.public_reply  # no request: the public explanation instead
    # the complaint in the same message opens no new round
    assert conv.context.rounds == 1
    # read the other way round (the no primary, the refund beside it), choosing still wins
    conv, _ = ENGINE.feed_understood(_at_remedy(), _read_several(
        "不用换了，直接退款吧", [("deny", 1.0), ("want_refund", 0.9)], "deny", 1.0))
    assert conv.stage == "polite_request" and not conv.context.all_declined
    # 直接退款 rather than the exchange: the money back, which this cause gives as 退货退款
    # (remedies.yaml `instead`; only "东西不寄回", "仅退款" hold to a refund it does not offer)
    assert conv.context.remedy_chosen == "return_refund"
    # wanting to stop while the options are shown turns them all down
    conv, sug = ENGINE.feed_understood(_at_remedy(), _read("算了，都不要了", "end", 0.95))
    assert conv.stage == "closing" and conv.context.all_declined and sug.public_reply


def test_an_option_picked_by_its_cue_or_place_is_chosen_a_question_or_a_no_is_not() -> None:
    for text in ("那还是退15吧，橘色夏天涂也还行", "我选第二个", "第一种吧"):
        conv, _ = ENGINE.feed_understood(_at_remedy(), _read_several(
            text, [("ask", 0.73), ("complain", 0.47)], "complain", 0.47))
        assert conv.stage == "polite_request", text
    for text in ("退款的话多久能到账？", "不用退了，我再想想", "换货要几天"):
        conv, _ = ENGINE.feed_understood(_at_remedy(), _read(text, "other", 0.6))
        assert conv.stage == "remedy", text
    # the option turned down is not the one chosen ("退款" is a longer cue than "换")
    conv, _ = ENGINE.feed_understood(_at_remedy(), _read("不用退款了，换一件吧", "want_exchange", 0.95))
    assert conv.stage == "polite_request" and conv.context.remedy_chosen == "exchange"
    # a reply that states a problem is no pick, even if it names an option's cue
    conv, _ = ENGINE.feed_understood(_at_remedy(), _read("新的也一样会掉色吧", "complain", 0.9, "quality"))
    assert conv.stage == "remedy"


def test_a_curt_or_sarcastic_yes_confirms_who_and_stops_there() -> None:
    # "是我，干嘛": a sure yes, and a clause read as a complaint naming no problem
    conv, _ = ENGINE.feed_understood(_at_identity(), _read_several(
        "是我，干嘛", [("affirm", 0.997), ("complain", 0.83)], "affirm", 0.997))
    assert conv.stage == "confirm_product" and not conv.context.problem_stated
    # "是，你们还知道找我？": the complaint primary, still no problem named
    conv, _ = ENGINE.feed_understood(_at_identity(), _read_several(
        "是，你们还知道找我？", [("affirm", 0.999), ("complain", 0.62)], "complain", 0.62))
    assert conv.stage == "confirm_product" and not conv.context.problem_stated
    # the same read with the late contact as its cause (service): still a mood, not the problem
    conv, _ = ENGINE.feed_understood(_at_identity(), _read_several(
        "是，你们还知道找我？", [("affirm", 0.999), ("complain", 0.66)], "complain", 0.66, "service"))
    assert conv.stage == "confirm_product" and not conv.context.problem_stated
    # a service problem said outright is the problem
    conv, _ = ENGINE.feed_understood(_at_identity(), _read_several(
        "是，你们客服上次直接挂我电话", [("affirm", 0.999), ("complain", 0.9)], "complain", 0.9, "service"))
    assert conv.stage == "listen_apologize" and conv.context.problem_stated
    # "什么事啊？你直接说吧" read as a complaint alone: it answers who she is
    conv, _ = ENGINE.feed_understood(_at_identity(), _read("什么事啊？你直接说吧", "complain", 0.84))
    assert conv.stage == "confirm_product"
    # asked about the order, the same mood shows she recalls it
    conv, _ = ENGINE.feed(conv, "agent", "您3月2号在我们店买的连衣裙还记得吗？")
    conv, _ = ENGINE.feed_understood(conv, _read("你们还好意思问？", "complain", 0.9))
    assert conv.stage == "listen_apologize" and not conv.context.problem_stated
    # the problem named is the problem stated, mood or not
    conv, _ = ENGINE.feed_understood(conv, _read("洗一次就掉色，气死了", "complain", 0.95, "quality"))
    assert conv.context.problem_stated


def _at_closing() -> Any:
    conv, _ = ENGINE.feed_understood(_at_remedy(), _read("换一件新的吧", "want_exchange", 0.99))
    conv, _ = ENGINE.feed(conv, "agent", "好的，新裙子明天寄出。冒昧问一句，如果您觉得处理得还可以，"
                                         "愿意考虑更新一下评价吗？改不改都由您。")
    conv, _ = ENGINE.feed_understood(conv, _read("好，我晚点去改", "agree_review", 0.99))
    assert conv.stage == "closing" and conv.context.review_requests == 1
    return conv


def test_a_new_problem_while_closing_is_a_new_round_and_the_review_is_asked_once() -> None:
    conv, sug = ENGINE.feed_understood(_at_closing(), _read_several(
        "对了，一起买的腰带扣子也坏了", [("affirm", 0.73), ("complain", 0.98)], "complain", 0.98, "quality"))
    assert conv.stage == "listen_apologize" and conv.context.rounds == 2
    assert conv.context.explanations == 0 and conv.context.remedy_chosen is None
    for text in ("真对不起，一下碰上两件糟心事，您肯定挺烦的。", "腰带扣那批的焊点不牢，我们已经换了供应商。",
                 "腰带给您换一条新的，或者直接退款，您看哪个方便？"):
        conv, sug = ENGINE.feed(conv, "agent", text)
    assert conv.stage == "remedy"
    conv, sug = ENGINE.feed_understood(conv, _read("换一条吧", "want_exchange", 0.99))
    assert conv.stage == "closing" and conv.context.remedy_chosen == "exchange"
    assert not any("评价" in s.text for s in sug.suggestions)
    conv, sug = ENGINE.feed(conv, "agent", "再次为评价的事打扰您，麻烦您考虑一下改评价")
    assert "repeat_request" in [w.code for w in sug.warnings]


def test_a_complaint_said_as_a_goodbye_while_closing_or_after_the_end_is_the_goodbye() -> None:
    bye = _read_several("就这样吧，反正也挺失望的", [("end", 0.9), ("complain", 0.98)], "complain", 0.98,
                        "quality")
    conv, _ = ENGINE.feed_understood(_at_closing(), bye)
    assert conv.stage == "closing" and conv.context.rounds == 1
    conv, _ = ENGINE.feed(conv, "agent", "再次为裙子的事道歉，谢谢您，欢迎再来。")
    assert conv.stage == "closed"
    conv, _ = ENGINE.feed_understood(conv, bye)
    assert conv.stage == "closed" and conv.context.rounds == 1
    # a mood naming no problem while closing opens nothing either, nor the old problem said again
    conv, _ = ENGINE.feed_understood(_at_closing(), _read("唉，你们啊", "complain", 0.8))
    assert conv.stage == "closing"
    conv, _ = ENGINE.feed_understood(_at_closing(), _read("好的，不过颜色真的差太多了", "complain", 0.9,
                                                          "not_as_described"))
    assert conv.stage == "closing" and conv.context.rounds == 1
    # another cause is another problem, said as one or not
    conv, _ = ENGINE.feed_understood(_at_closing(), _read("你们之前那个客服态度也太差了", "complain", 0.9,
                                                          "service"))
    assert conv.stage == "listen_apologize" and conv.context.rounds == 2
    assert conv.context.cause == "not_as_described" and conv.context.causes == ["service"]


def test_an_act_the_model_alone_reads_moves_the_stage_only_when_sure() -> None:
    """script.yaml `act_evidence`: the learned model's probability of an act the rules did not read."""
    text = "对不起，这条裙子颜色和页面不一样，给您添堵了。"  # an apology that retells the problem
    au, alone = ENGINE.understand.agent_read(text)
    assert "explain" in au.acts and 0 < alone["explain"] < ENGINE.flow.act_evidence["explain"]
    conv, _ = ENGINE.feed_understood(_at_identity(), _read("是我", "affirm", 0.99))
    conv, _ = ENGINE.feed_understood(conv, _read("记得，颜色差太多了", "complain", 0.99, "not_as_described"))
    assert conv.stage == "listen_apologize"
    after, sug = ENGINE.feed(conv, "agent", text)
    assert after.stage == "explain" and after.context.explanations == 0
    assert "explain" in sug.understanding.acts  # type: ignore[union-attr]  # still shown as read
    # as the message's only move the same reading still moves the stage (an explanation the
    # rules miss, in a message of its own, is what the model is there for)
    moved, _ = ENGINE.feed(after, "agent", text)
    assert moved.stage == "remedy" and moved.context.explanations == 1
    saved = dict(ENGINE.flow.act_evidence)
    try:  # without the bar the same reading skips the explanation
        ENGINE.flow.act_evidence.clear()
        after, _ = ENGINE.feed(conv, "agent", text)
        assert after.stage == "remedy" and after.context.explanations == 1
    finally:
        ENGINE.flow.act_evidence.update(saved)


# -- a choice said outright, an offer still asked, a suspected case that escalates

def test_a_question_about_an_option_chooses_nothing_a_request_for_it_does() -> None:
    """script.yaml `events.tentative` with cues.asks_about, read the real way."""
    conv, _ = ENGINE.feed(_at_remedy(), "buyer", "换新的会不会还掉色啊？")
    assert conv.stage == "remedy" and conv.context.remedy_chosen is None
    conv, _ = ENGINE.feed(conv, "agent", "新的是另一批布料，固色重新做过，不会再掉色的。")
    conv, _ = ENGINE.feed(conv, "buyer", "那就换新的吧")
    assert conv.stage == "polite_request" and conv.context.remedy_chosen == "exchange"
    # apart from the model: a request read surely, asked about or asked for
    for text, stage in (("换的新的还会掉色吗", "remedy"), ("退货的话运费谁出？", "remedy"),
                        ("能换一件新的吗？", "polite_request"), ("换一件吧，要是还掉色再说", "polite_request")):
        conv, _ = ENGINE.feed_understood(_at_remedy(), _read(text, "want_exchange", 0.95))
        assert conv.stage == stage, text


def _waiting_for_the_parcel() -> Any:
    conv = _to_the_options("记得，等了十天了还没到", "真对不起，让您等了这么久，换谁都着急。",
                           "这几天中转站压件了，您的包裹卡在了中转站。",
                           "我们这边马上帮您催快递，或者直接给您补发一件，您看哪个方便？")
    assert conv.stage == "remedy"
    return conv


def test_a_choice_under_a_condition_chooses_nothing_yet() -> None:
    conv, _ = ENGINE.feed(_waiting_for_the_parcel(), "buyer", "明天再不到就退钱")
    assert conv.stage == "remedy" and conv.context.remedy_chosen is None
    for text in ("要是明天还不到，我就退款", "后天之前收不到的话就退货"):
        conv, _ = ENGINE.feed_understood(_waiting_for_the_parcel(), _read(text, "want_refund", 0.97))
        assert conv.stage == "remedy" and conv.context.remedy_chosen is None, text
    # said outright, the refund is chosen
    for text in ("不等了，直接退款吧", "这样的话就直接退款吧"):
        conv, _ = ENGINE.feed_understood(_waiting_for_the_parcel(), _read(text, "want_refund", 0.97))
        assert conv.stage == "polite_request" and conv.context.remedy_chosen == "refund", text


def test_an_offer_that_asks_the_buyer_is_not_under_way_until_it_is_done() -> None:
    conv, _ = ENGINE.feed(_at_remedy(), "buyer", "换一件吧")
    assert conv.stage == "polite_request"
    for text in ("给您换一件新的，运费我们出，可以吗？", "那我们给您换一件新的，您看行吗？"):
        after, sug = ENGINE.feed(conv, "agent", text)
        assert not after.context.remedy_underway, text
        item = next(i for i in sug.checklist if i.item.startswith("方案已在办理"))
        assert not item.done, text
    after, sug = ENGINE.feed(conv, "agent", "好的，新裙子已经给您安排了，今天就寄出。")
    assert after.context.remedy_underway
    # done, and then a polite question: under way
    after, _ = ENGINE.feed(conv, "agent", "新的已经寄出了，单号发您了，您看可以吗？")
    assert after.context.remedy_underway


def test_a_suspected_case_that_escalates_stays_suspected() -> None:
    conv, _ = ENGINE.feed(_at_remedy(), "buyer", "转我300块，差评马上删，不然一直挂着")
    assert conv.stage == "malicious"
    conv, sug = ENGINE.feed(conv, "buyer", "不给钱我就去12315投诉你们")
    assert conv.stage == "escalated" and conv.context.suspected
    assert sug.public_reply and "malicious_evidence" in [w.code for w in sug.warnings]
    conv, sug = ENGINE.complaint_filed(conv)  # the 恶意评价 complaint is still the agent's to file
    assert conv.context.complaint_filed
    _, sug = ENGINE.feed(conv, "agent", "麻烦您考虑一下改评价")
    assert "request_malicious" in [w.code for w in sug.warnings]
    # a person resumes it: back where the talk was, no longer held
    conv, sug = ENGINE.resume(conv)
    assert conv.stage == "remedy" and "malicious_evidence" not in [w.code for w in sug.warnings]


def test_asking_what_the_shop_will_do_gets_the_options_whatever_the_intent() -> None:
    # the cue decides, not the intent the message is read as (a question, a complaint, other)
    for intent in ("ask", "complain", "other"):
        conv, _ = ENGINE.feed(_at_listen(), "agent", "真对不起，满心期待的裙子成了这样，换谁都难受。")
        assert conv.stage == "explain"
        after, sug = ENGINE.feed_understood(conv, _read("那现在咋整", intent, 0.9))
        assert after.stage == "explain" and sug.suggestions, intent
        assert all(s.template.startswith("explain/remedy_asked") for s in sug.suggestions), intent
        for why in ("怎么搞的，怎么弄成这样", "快递怎么弄丢的"):  # asking why asks for the explanation
            after, sug = ENGINE.feed_understood(conv, _read(why, intent, 0.9))
            assert not any("remedy_asked" in s.template for s in sug.suggestions), (intent, why)
    # before the apology the apology still comes first
    after, sug = ENGINE.feed_understood(_at_listen(), _read("那你们打算怎么处理", "ask", 0.9))
    assert after.stage == "listen_apologize"
    assert not any("remedy_asked" in s.template for s in sug.suggestions)


def test_a_remedy_received_counts_only_when_one_was_chosen_and_said_as_done() -> None:
    conv = _at_remedy()
    after, _ = ENGINE.feed_understood(conv, _read("收到了", "other", 0.9))
    assert not after.context.remedy_received  # nothing chosen yet: "收到了" is no remedy done
    chosen, _ = ENGINE.feed(conv, "buyer", "换一件吧")
    for text in ("到了我就去改", "收到了吗", "快到了", "收不到的话再说", "收到了，但是还是掉色"):
        after, _ = ENGINE.feed_understood(chosen, _read(text, "other", 0.9))
        assert not after.context.remedy_received and not after.context.remedy_underway, text
    after, _ = ENGINE.feed_understood(chosen, _read("新的收到了", "other", 0.9))
    assert after.context.remedy_received and after.context.remedy_underway


def test_a_buyer_who_declined_every_option_may_choose_one_after_all() -> None:
    conv, _ = ENGINE.feed_understood(_at_remedy(), _read("算了不用了", "deny", 1.0))
    assert conv.stage == "closing" and conv.context.all_declined
    after, sug = ENGINE.feed_understood(conv, _read("诶等下，还是换一件吧，我女儿要穿", "want_exchange", 0.9))
    assert after.stage == "polite_request" and not after.context.all_declined
    assert after.context.remedy_chosen == "exchange"
    assert any("换一件" in s.text for s in sug.suggestions)  # arranged first, the request after
    # a bare goodbye or thanks after declining changes nothing
    after, _ = ENGINE.feed_understood(conv, _read("好的，谢谢", "end", 0.9))
    assert after.stage == "closing" and after.context.all_declined
    # on Tmall the review cannot change: the remedy is chosen, the talk stays in 致谢结束
    tmall, _ = ENGINE.feed_understood(_at_remedy({**CASE, "platform": "tmall"}), _read("算了不用了", "deny", 1.0))
    after, _ = ENGINE.feed_understood(tmall, _read("诶等下，还是换一件吧", "want_exchange", 0.9))
    assert after.stage == "closing" and after.context.remedy_chosen == "exchange"
    assert not after.context.all_declined


def test_a_name_typed_with_its_honorific_is_not_greeted_twice() -> None:
    """A lead types the buyer as "李女士" and also picks 女士: the greeting says 李女士 once."""
    from bot.models import Case

    case = Case(shop="暖居家纺旗舰店", buyer_name="李女士", honorific="女士", product="四件套")
    _conv, sug = ENGINE.start(case)
    texts = [s.text for s in sug.suggestions]
    assert any("李女士" in t for t in texts), texts
    assert not any("女士女士" in t for t in texts), texts
    assert Case(shop="店", buyer_name="女士", honorific="女士").buyer_name == "女士"


@pytest.mark.parametrize(("name", "title"), [("王女士", "王女士"), ("王", "王女士")])
def test_an_honorific_typed_with_the_name_is_not_greeted_twice(name: str, title: str) -> None:
    """A lead types the whole call "王女士" as the honorific too (csbot assist --buyer 王女士
    --honorific 王女士): the greeting says 王女士 once, not "王女士王女士" or "王王女士"."""
    from bot.models import Case

    case = Case(shop="小鹿童装旗舰店", buyer_name=name, honorific=title, product="儿童羽绒服")
    _conv, sug = ENGINE.start(case)
    texts = [s.text for s in sug.suggestions]
    assert all("王女士" in t for t in texts), texts
    assert not any("王女士王" in t or "王王" in t for t in texts), texts


@pytest.mark.parametrize("title", ["王姐", "姐"])
def test_a_name_with_its_title_and_another_honorific_is_greeted_by_the_honorific(title: str) -> None:
    """csbot assist --buyer 王女士 --honorific 王姐 greeted "请问是王女士王姐吗？": the call the
    lead picked is said once, "王姐"."""
    from bot.models import Case

    case = Case(shop="小熊家居", buyer_name="王女士", honorific=title, product="记忆棉枕头")
    _conv, sug = ENGINE.start(case)
    texts = [s.text for s in sug.suggestions]
    assert all("王姐" in t for t in texts), texts
    assert not any("女士" in t for t in texts), texts


@pytest.mark.parametrize("waved_off", ["道歉有什么用", "說這些有啥用啊", "光道歉有用吗，东西怎么办",
                                       "对不起能当饭吃吗"])
def test_an_apology_waved_off_gets_what_will_be_done(waved_off: str) -> None:
    """"道歉有什么用" after the apology is a complaint that asks for action, not a question
    about apologies: the next suggestion offers the remedies, each unconditional."""
    from bot.models import Case

    conv, _ = ENGINE.start(Case(shop="暖居家纺旗舰店", buyer_name="李", honorific="女士", product="四件套"))
    for role, text in (("agent", "您好，请问是李女士吗？我是暖居家纺旗舰店的售后客服小雅。"), ("buyer", "是我 什么事"),
                       ("agent", "就是您11月25日买的四件套，还记得吗？"),
                       ("buyer", "洗了一次就起球 还掉色 气死了 你们这是什么质量"),
                       ("agent", "真的非常抱歉，给您添麻烦了，这确实让人很窝火。")):
        conv, _ = ENGINE.feed(conv, role, text)  # type: ignore[arg-type]
    conv, sug = ENGINE.feed(conv, "buyer", waved_off)
    assert sug.understanding is not None and sug.understanding.intent == "complain"  # type: ignore[union-attr]
    assert sug.understanding.emotion in ("upset", "angry")  # type: ignore[union-attr]
    texts = [s.text for s in sug.suggestions]
    # (a buyer writing 繁體 is answered in 繁體)
    assert all(("换" in t or "換" in t) and "退" in t for t in texts), texts
    assert not any(w in t for t in texts for w in ("评价", "評價", "好评", "好評")), texts


@pytest.mark.parametrize("choice", ["换吧 还是33码", "换新的吧，一样33码", "換吧，還要33碼"])
def test_an_exchange_in_the_same_size_is_a_plain_exchange(choice: str) -> None:
    """On a quality case "换吧 还是33码" keeps the size: the arrangement is a new pair, not
    "换成合适的尺码" (remedies.yaml exchange_size's size cue skips a size said as the same)."""
    from bot.models import Case

    conv, _ = ENGINE.start(Case(shop="小鹿童鞋", buyer_name="王", honorific="先生", product="儿童运动鞋"))
    for role, text in (("agent", "王先生您好，我是小鹿童鞋的售后阿敏，想跟您了解下儿童运动鞋的情况。"),
                       ("buyer", "嗯 鞋底开胶了 孩子才穿了一周"),
                       ("agent", "实在抱歉，孩子穿一周就开胶，换谁都着急。"),
                       ("buyer", "就是 质量太差了"),
                       ("agent", "这批鞋的胶水粘性不够，是我们选料的问题。给您换一双新的，或者直接退款，"
                                 "运费都我们出，您看哪个方便？")):
        conv, _ = ENGINE.feed(conv, role, text)  # type: ignore[arg-type]
    conv, sug = ENGINE.feed(conv, "buyer", choice)
    assert conv.context.remedy_chosen == "exchange"
    texts = [s.text for s in sug.suggestions]
    assert all("尺码" not in t and "尺碼" not in t for t in texts), texts


@pytest.mark.parametrize("back", ["不好意思昨天带娃睡着了", "抱歉刚才在开会没看到", "不好意思 我没看到",
                                  "sorry 昨晚手机没电了"])
def test_sorry_for_being_away_is_no_answer(back: str) -> None:
    """A buyer back after a silence says sorry for it: chat, not a no to the options."""
    assert ENGINE.understand.buyer(back).intent == "other"


@pytest.mark.parametrize("hurry", ["是，快说，我在上班", "是我 有话快说", "嗯 长话短说"])
def test_a_yes_in_a_hurry_is_no_callback(hurry: str) -> None:
    """"是，快说，我在上班" is free now, however busy it sounds: the order is confirmed next."""
    from bot.models import Case

    conv, _ = ENGINE.start(Case(shop="数码优选", buyer_name="陈", honorific="先生", product="手机"))
    conv, _ = ENGINE.feed(conv, "agent", "陈先生您好，我是数码优选的售后客服，请问是陈先生本人吗？")
    conv, _ = ENGINE.feed(conv, "buyer", hurry)
    assert conv.stage == "confirm_product", conv.stage


def test_a_normal_phenomenon_explained_is_an_explanation() -> None:
    """"汝窑开片是烧制时釉面自然形成的纹路" explains, though the agent goes on to own a crack."""
    text = "汝窑开片是烧制时釉面自然形成的纹路，不过您说的如果是摸得到的裂缝，那就是我们验货没做好。"
    assert "explain" in ENGINE.understand.agent(text).acts
