"""Saving sessions: JSON lines written as they happen, and a readable Markdown transcript.

The JSON lines file starts with a header (persona and rubric hashes, seed, versions) and
is appended and flushed after every event, so an interrupted session is still on disk.
The Markdown is rendered from the same events at the end, so it can be regenerated
from the JSON lines alone.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from bot.training.persona import titled
from bot.training.rubric import Labels

Event = dict[str, Any]


def dumps(event: Event) -> str:
    """One event as a JSON line (UTF-8 text kept readable, key order as built)."""
    return json.dumps(event, ensure_ascii=False)


class TranscriptFiles:
    """The two files of one session in a folder the trainee chose."""

    def __init__(self, folder: Path, persona: str, seed: int, stamp: str | None = None) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        # The wall clock only names the files; nothing inside them depends on it.
        stamp = stamp or datetime.now().strftime("%Y%m%d-%H%M%S")
        base = f"{persona}-seed{seed}-{stamp}"
        n = 1
        while (folder / f"{base}.jsonl").exists() or (folder / f"{base}.md").exists():
            n += 1
            base = f"{persona}-seed{seed}-{stamp}-{n}"
        self.jsonl = folder / f"{base}.jsonl"
        self.markdown = folder / f"{base}.md"
        self._fh: IO[str] | None = self.jsonl.open("w", encoding="utf-8", newline="\n")
        self.events: list[Event] = []

    def write(self, event: Event) -> None:
        """Append one event and flush it to disk."""
        self.events.append(event)
        if self._fh is not None:
            self._fh.write(dumps(event) + "\n")
            self._fh.flush()

    def close(self, labels: Labels) -> None:
        """Close the JSON lines file and write the Markdown transcript."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        self.markdown.write_text(render_markdown(self.events, labels), encoding="utf-8",
                                 newline="\n")


def _fmt_time(iso: str | None) -> str:
    if not iso:
        return "—"
    return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M")


def _quote(text: str) -> str:
    return text.replace("|", "｜").replace("\n", " ")


def computation_lines(card: dict[str, Any], labels: Labels) -> list[str]:
    """How the total is made, in Chinese: the same lines in the console and the Markdown."""
    c = card.get("computation")
    if not c:
        return []
    lines = [f"各阶段得分合计 {c['earned']} / {c['max']}，折合 {c['percent']} 分"]
    # past its limit a habit costs nothing more: those turns are one line, not one each
    spent: dict[str, list[int]] = {}
    for d in c["deductions"]:
        if d.get("capped") is not None and not d["points"] and not d["fails"]:
            spent.setdefault(d["code"], []).append(d["turn"])
    for d in c["deductions"]:
        turns = spent.get(d["code"], [])
        if d["turn"] in turns and d["turn"] != turns[0] and not d["points"]:
            continue
        turn = "、".join(str(t) for t in turns) if d["turn"] in turns and not d["points"] else d["turn"]
        fails = "，判不通过" if d["fails"] else ""
        points = f"扣 {d['points']} 分" if d["points"] else "不扣分"
        if d.get("capped") is not None:  # a habit costs up to a limit, then is only listed
            points += f"（这类问题最多扣 {d['capped']} 分，已扣满）"
        also = "、".join(labels.violation(code) for code in d.get("also", []))
        what = labels.violation(d["code"]) + (f"（同一句也是{also}，合并计算）" if also else "")
        if d.get("note"):
            what += f"（{d['note']}）"
        lines.append(f"第 {turn} 轮 {what}：{points}{fails}")
    if c["deductions"]:
        lines.append(f"扣分后 {c['after_deductions']} 分（最低 0 分）")
    if c["cap"] is not None and c["after_deductions"] > c["cap"]:  # said where it takes points off
        lines.append(f"有判不通过的问题，总分最多记 {c['cap']} 分")
    lines.append(f"总分 {c['total']} 分")
    if c.get("not_handled"):
        lines.append(f"不算通过：{c['not_handled']}")
    return lines


def check_line(c: dict[str, Any], stage: str) -> str:
    """One check of the scorecard: ✓ or ✗, or, for a step no scored reply got to and none broke
    (a blocked bribe the only reply), no points without a mark of fault."""
    head = f"{stage}：{c['label']}（{c['weight']} 分）"
    if not c["passed"] and not c.get("reached", True):
        return f"○ {head}：没有可以算分的回复，不得分，但不算做错"
    return f"{'✓' if c['passed'] else '✗'} {head}"


def grouped_violations(violations: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """The scorecard's violation lines: one code with the same message on several turns (a
    habit such as saying 你) is one line naming every turn ("第 2、3、5 轮"), in first-turn order;
    one with its own rewrite stays on its own line."""
    out: list[tuple[list[int], dict[str, Any]]] = []
    for v in violations:
        same = next((g for g in out if not v.get("rewrite") and not g[1].get("rewrite")
                     and g[1]["code"] == v["code"] and g[1]["message"] == v["message"]), None)
        if same is None:
            out.append(([v["turn"]], v))
        elif v["turn"] not in same[0]:
            same[0].append(v["turn"])
    return [("、".join(str(t) for t in turns), v) for turns, v in out]


def outcome_line(o: dict[str, Any], scenario: str, remedies: dict[str, str]) -> str:
    """问题解决 as the buyer answered: a remedy they took, or what was done instead."""
    if o["resolved"]:
        return f"问题解决：是（买家选了：{remedies.get(o['remedy'], o['remedy'])}）"
    why = (HANDLED if o["handled"] else NOT_HANDLED).get(scenario, NOT_HANDLED["main"])
    return f"问题解决：否（{why}）"


HANDLED = {"callback": "约好了回访时间，问题留到下次处理", "malicious": "拒绝了拿评价做交易：这种要求本来就不该满足",
            "main": "买家没有接受任何方案"}
# why nothing is solved when the scenario's goal was not met either
NOT_HANDLED = {"callback": "没有约好回访时间", "malicious": "没有明确拒绝拿评价做交易、礼貌结束",
               "main": "买家没有接受任何方案"}


def review_line(o: dict[str, Any], labels: Labels) -> str | None:
    """评价请求 as it went; none where it should not be asked and was: the violation says so."""
    if o["review_request"] == "not_applicable" and o.get("review_asked"):
        return None
    code = o["review_request"]
    # a shop's rubric from before `blocked` says it as not asked: no request reached the buyer
    said = labels.review.get(code) or (labels.review.get("not_asked") if code == "blocked" else None)
    return f"评价请求：{said or code}"


def render_markdown(events: list[Event], labels: Labels) -> str:
    """The readable transcript of a session's events."""
    head = next(e for e in events if e["type"] == "header")
    stages: dict[str, str] = head["stage_labels"]
    remedies: dict[str, str] = head["remedy_labels"]
    case = head["case"]
    v = head["versions"]
    out = [
        f"# 培训记录：{head['title']}",
        "",
        "| 项目 | 内容 |",
        "| --- | --- |",
        f"| 人设 | `{head['persona']}`，sha256 `{head['persona_sha256']}` |",
        f"| 评分标准 | 版本 {head['rubric_version']}，sha256 `{head['rubric_sha256']}` |",
        f"| 随机种子 | {head['seed']} |",
        f"| 版本 | csbot {v['csbot']} · 训练 {v['training']} · 话术 {v['script']} · "
        f"数据 sha256 `{v['data']}` |",
        "",
        "## 案件",
        "",
        f"- 店铺：{case['shop']}",
        f"- 买家：{case['buyer_name']}{case.get('honorific', '')}",
        f"- 商品：{case.get('product', '—')}（下单 {case.get('order_date', '—')}）",
        f"- 平台：{labels.platforms.get(case.get('platform', ''), '—')}；"
        f"评价：{case.get('review_rating', '—')}（{_fmt_time(case.get('review_time'))}）"
        f"「{case.get('review_text', '')}」",
        f"- 联系时间：{_fmt_time(head['contact_time'])}",
        "",
        "## 对话",
        "",
    ]
    said = tip = ""
    buyer = f"{case['buyer_name']}{case.get('honorific', '')}"
    for e in events:
        if tip and e["type"] != "buyer":  # no buyer reply came (the talk ended): the tip still shown
            out += [f"> 提示：{tip}", ""]
            tip = ""
        if e["type"] == "agent":
            said = e["text"]
            acts = "、".join(labels.acts.get(a, a) for a in e["acts"]) or "（无）"
            out += [f"**客服（第 {e['turn']} 轮）**：{said}", "",
                    f"> 阶段：{stages[e['stage_before']]} → {stages[e['stage']]} · 识别到：{acts}"]
        elif e["type"] == "coach":
            for viol in e["violations"]:
                span = viol["span"]
                quoted = f"「{said[span[0]:span[1]]}」" if span else ""
                out.append(f"> ⚠ {labels.violation(viol['code'])}{quoted}：{viol['message']}")
            tip = e["tip"] or ""  # said after the buyer's reply it is about (flushed below)
            out.append("")
        elif e["type"] == "buyer":
            band = labels.bands.get(e["band"], e["band"])
            out += [f"**买家 {buyer}**：{e['text']}（情绪：{band}，耐心 {e['patience']}）", ""]
            if tip:
                out += [f"> 提示：{tip}", ""]
                tip = ""
        elif e["type"] == "hint":
            out.append(f"*（第 {e['turn']} 轮后查看了 csbot 的建议）*")
            out += [f"> 建议：{s}" for s in e["suggestions"]] + [""]
    if tip:
        out += [f"> 提示：{tip}", ""]
    card = next((e for e in events if e["type"] == "scorecard"), None)
    if card is None:
        return "\n".join(out) + "\n"
    verdict = "通过" if card["passed"] else "未通过"
    o = card["outcome"]
    kind = labels.kinds.get(card.get("kind", ""), "")
    out += [
        f"## 评分：{card['total']} 分（{verdict}，及格线 {card['pass_mark']}）",
        "",
        *(f"- {line}" for line in computation_lines(card, labels)),
        "",
        *([f"这位买家是：{kind}（{titled(head['title'], remedies.get(o.get('remedy') or ''))}）", ""]
          if kind else []),
        "| 阶段 | 得分 | 满分 |",
        "| --- | ---: | ---: |",
    ]
    for sid, sc in card["stages"].items():
        note = "" if sc["max"] else "（本次不适用）"
        out.append(f"| {stages.get(sid, sid)}{note} | {sc['score']} | {sc['max']} |")
    out += [
        "",
        f"- 结束方式：{labels.endings.get(o['ending'], o['ending'])}"
        f"（最后阶段：{stages[o['stage']]}）",
        f"- {outcome_line(o, head['scenario'], remedies)}",
        *([f"- {line}"] if (line := review_line(o, labels)) else []),
        f"- 用了 {card['turns']} 轮",
        "",
        "### 检查项",
        "",
    ]
    out += [f"- {check_line(c, stages.get(c['stage'], c['stage']))}" for c in card["checks"]]
    out += ["", "### 违规", ""]
    if card["violations"]:
        out += [f"- 第 {turns} 轮 {labels.violation(viol['code'])}：{_quote(viol['message'])}"
                for turns, viol in grouped_violations(card["violations"])]
    else:
        out.append("- 无")
    out += ["", "### 建议", ""]
    out += [f"{i}. {tip}" for i, tip in enumerate(card["tips"], 1)]
    return "\n".join(out) + "\n"
