"""Scoring csbot's understanding against a labelled data set (``csbot eval``)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from bot.models import BuyerUnderstanding
from bot.understand.pipeline import Understander

PRF = tuple[float, float, float]


def prf(gold: list[set[str]], pred: list[set[str]]) -> dict[str, PRF]:
    """Per-label precision, recall, F1 over aligned lists of label sets."""
    c: Counter[tuple[str, str]] = Counter()
    for g, p in zip(gold, pred, strict=True):
        for x in g | p:
            c[x, "tp" if x in g and x in p else "fn" if x in g else "fp"] += 1
    out: dict[str, PRF] = {}
    for x in sorted({k for k, _ in c}):
        tp, fp, fn = c[x, "tp"], c[x, "fp"], c[x, "fn"]
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        out[x] = (prec, rec, 2 * prec * rec / (prec + rec) if prec + rec else 0.0)
    return out


def micro_f1(gold: list[set[str]], pred: list[set[str]]) -> float:
    """Micro-averaged F1: counts summed over all labels first."""
    tp = sum(len(g & p) for g, p in zip(gold, pred, strict=True))
    fp = sum(len(p - g) for g, p in zip(gold, pred, strict=True))
    fn = sum(len(g - p) for g, p in zip(gold, pred, strict=True))
    return 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The objects of a JSON-lines file."""
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def kind_of(rows: list[dict[str, Any]]) -> str:
    """Which data set this is: buyer, agent, guard or dialogs."""
    first = rows[0]
    if "turns" in first:
        return "dialogs"
    if "intent" in first:
        return "buyer"
    return "agent" if "acts" in first else "guard"


def eval_buyer(u: Understander, rows: list[dict[str, Any]],
               preds: list[BuyerUnderstanding] | None = None) -> dict[str, Any]:
    """Accuracy and F1 of ``u`` on labelled buyer lines (``preds``: its readings of them,
    when the caller has them already)."""
    if preds is None:
        preds = [u.buyer(r["text"]) for r in rows]
    out: dict[str, Any] = {"kind": "buyer", "lines": len(rows)}
    errors = []
    for field in ("intent", "cause", "emotion"):
        gold = [str(r[field]) for r in rows]
        pred = [str(getattr(p, field)) for p in preds]
        out[f"{field}_accuracy"] = sum(g == p for g, p in zip(gold, pred, strict=True)) / len(rows)
        per = prf([{g} for g in gold], [{p} for p in pred])
        out[f"{field}_macro_f1"] = sum(f for _, _, f in per.values()) / len(per)
        out[f"{field}_labels"] = per
    for r, p in zip(rows, preds, strict=True):
        if (r["intent"], r["cause"], r["emotion"]) != (p.intent, p.cause, p.emotion):
            errors.append({"text": r["text"], "gold": [r["intent"], r["cause"], r["emotion"]],
                           "pred": [p.intent, p.cause, p.emotion]})
    out["errors"] = errors
    return out


def eval_agent(u: Understander, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Acts and guard findings of ``u`` on labelled agent or guard lines. A guard line is read
    with its ``context`` (the agent's earlier messages) and ``stage``, and the block figures are
    bot.guard.corpus's (``python -m bot.guard.corpus`` prints the same ones)."""
    from bot.guard.corpus import GuardLine, tally

    lines = [GuardLine.model_validate(r) for r in rows]
    preds = [u.agent(line.text, *line.situation()) for line in lines]
    has_acts = "acts" in rows[0]
    out: dict[str, Any] = {"kind": "agent" if has_acts else "guard", "lines": len(rows)}
    errors = []
    fields = ["acts", "findings"] if has_acts else ["findings"]
    for field in fields:
        gold = [set(r[field]) for r in rows]
        pred: list[set[str]] = [set(p.acts) if field == "acts" else {f.code for f in p.findings}
                                for p in preds]
        out[f"{field}_micro_f1"] = micro_f1(gold, pred)
        per = prf(gold, pred)
        out[f"{field}_macro_f1"] = sum(f for _, _, f in per.values()) / len(per) if per else 1.0
        out[f"{field}_exact"] = sum(g == p for g, p in zip(gold, pred, strict=True)) / len(rows)
        out[f"{field}_labels"] = per
        for r, g, p in zip(rows, gold, pred, strict=True):
            if g != p:
                errors.append({"text": r["text"], "field": field, "gold": sorted(g), "pred": sorted(p)})
    clean = [p for r, p in zip(rows, preds, strict=True) if not r["findings"]]
    out["false_alarm_rate"] = sum(bool(p.findings) for p in clean) / len(clean) if clean else 0.0
    guard = tally(lines, [p.findings for p in preds])
    out["block_recall"] = guard["block_recall"] if guard["block_recall"] is not None else 1.0
    out["clean_blocked"] = guard["clean_blocked"] if guard["clean_blocked"] is not None else 0.0
    out["errors"] = errors
    return out


def evaluate(u: Understander, rows: list[dict[str, Any]], engine: Any = None) -> dict[str, Any]:
    """Score one data set's rows; dialogs need an engine to replay them."""
    kind = kind_of(rows)
    if kind == "buyer":
        return eval_buyer(u, rows)
    if kind == "dialogs":
        from bot.replay import eval_dialogs

        return eval_dialogs(engine, rows)
    return eval_agent(u, rows)


def format_report(result: dict[str, Any], show_errors: int = 0) -> Iterable[str]:
    """The report as Chinese text lines."""
    kind = result["kind"]
    names = {"buyer": "买家消息", "agent": "客服消息", "guard": "快捷短语", "dialogs": "整段对话"}
    yield f"数据集：{names[kind]}，共 {result['lines']} 条"
    for key, label in [
        ("intent_accuracy", "意图准确率"), ("intent_macro_f1", "意图 macro-F1"),
        ("cause_accuracy", "原因准确率"), ("cause_macro_f1", "原因 macro-F1"),
        ("emotion_accuracy", "情绪准确率"), ("emotion_macro_f1", "情绪 macro-F1"),
        ("acts_micro_f1", "动作 micro-F1"), ("acts_macro_f1", "动作 macro-F1"),
        ("acts_exact", "动作完全一致率"), ("findings_micro_f1", "合规 micro-F1"),
        ("findings_macro_f1", "合规 macro-F1"), ("findings_exact", "合规完全一致率"),
        ("false_alarm_rate", "干净句误报率"), ("block_recall", "拦截级召回率"),
        ("clean_blocked", "干净句被拦率"),
        ("stage_accuracy", "阶段一致率（逐轮）"), ("final_stage_accuracy", "最终阶段正确的对话占比"),
    ]:
        if key in result:
            yield f"  {label}：{result[key]:.3f}"
    for field, label in [("intent", "意图"), ("cause", "原因"), ("emotion", "情绪"),
                         ("acts", "动作"), ("findings", "合规")]:
        per = result.get(f"{field}_labels")
        if not per:
            continue
        yield f"  {label}逐项（精确率 / 召回率 / F1）："
        for name, (p, r, f) in per.items():
            yield f"    {name:<20} {p:.2f} / {r:.2f} / {f:.2f}"
    for err in result.get("errors", [])[:show_errors]:
        yield "  ✗ " + json.dumps(err, ensure_ascii=False)
