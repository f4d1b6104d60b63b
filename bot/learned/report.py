"""``csbot eval``: rules only, model only and combined, side by side, with calibration."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from bot.evaluate import eval_agent, eval_buyer, kind_of
from bot.learned.metrics import ece, reliability
from bot.understand.pipeline import Understander

MODES = ("rules", "model", "combined")
COLUMNS = {"rules": "规则", "model": "模型", "combined": "组合"}
_ROOT = Path(__file__).resolve().parent.parent.parent


def default_sets(dialogs: Path, role: str | None, train: bool = False) -> list[Path]:
    """The held-out split of the corpus (and the train split when asked), then the older sets
    of tests/data when they are there (a source checkout)."""
    roles = [role] if role else ["buyer", "agent"]
    out = []
    for split in ("heldout", "train") if train else ("heldout",):
        out += [p for r in roles if (p := dialogs / "corpus" / split / f"{r}.jsonl").is_file()]
    data = _ROOT / "tests" / "data"
    for r in roles:
        out += [p for p in (data / f"{r}_dev.jsonl", data / "heldout" / f"{r}.jsonl") if p.is_file()]
    return out


class Comparison:
    """Three understanders over one data folder: rules, model (n-grams alone), combined."""

    def __init__(self, dialogs: Path) -> None:
        self.by_mode = {m: Understander(dialogs, m) for m in MODES}
        learned = self.by_mode["combined"].learned
        self.model = learned.describe() if learned else None

    def __call__(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        kind = kind_of(rows)
        out: dict[str, Any] = {"kind": kind, "lines": len(rows), "model_file": self.model}
        for mode, u in self.by_mode.items():
            if kind != "buyer":
                out[mode] = eval_agent(u, rows)
                continue
            preds = [u.buyer(r["text"]) for r in rows]  # read once: the scores and the calibration
            res = eval_buyer(u, rows, preds)
            conf = [p.confidence for p in preds]
            right = [p.intent == r["intent"] for p, r in zip(preds, rows, strict=True)]
            res["intent_ece"] = ece(conf, right)
            res["reliability"] = reliability(conf, right)
            multi = [(r, p) for r, p in zip(rows, preds, strict=True) if len(r.get("intents") or []) > 1]
            if multi:
                res["multi_intent_lines"] = len(multi)
                res["multi_intent_exact"] = sum(
                    [i.intent for i in p.intents] == list(r["intents"]) for r, p in multi) / len(multi)
            single = [p for r, p in zip(rows, preds, strict=True) if len(r.get("intents") or []) <= 1]
            if single:
                res["single_split_rate"] = sum(len(p.intents) > 1 for p in single) / len(single)
            out[mode] = res
        return out


_BUYER_ROWS = [
    ("intent_accuracy", "意图准确率"), ("intent_macro_f1", "意图 macro-F1"),
    ("cause_accuracy", "原因准确率"), ("cause_macro_f1", "原因 macro-F1"),
    ("emotion_accuracy", "情绪准确率"), ("emotion_macro_f1", "情绪 macro-F1"),
    ("intent_ece", "意图置信度 ECE"), ("multi_intent_exact", "多意图完全一致率"),
    ("single_split_rate", "单意图误拆率"),
]
_AGENT_ROWS = [("acts_micro_f1", "动作 micro-F1"), ("acts_macro_f1", "动作 macro-F1"),
               ("acts_exact", "动作完全一致率")]


def format_comparison(result: dict[str, Any]) -> Iterable[str]:
    """The side-by-side table and, for buyer lines, the combined reliability table."""
    kind = result["kind"]
    names = {"buyer": "买家消息", "agent": "客服消息"}
    yield f"数据集：{names.get(kind, kind)}，共 {result['lines']} 条"
    if result["model_file"] is None:
        yield "  （数据目录里没有模型文件 model/understand.json.gz：模型和组合两列同规则）"
    yield f"  {'':<18}" + "".join(f"{COLUMNS[m]:>8}" for m in MODES)
    rows = _BUYER_ROWS if kind == "buyer" else _AGENT_ROWS
    for key, label in rows:
        if key not in result["combined"]:
            continue
        pad = 18 - sum(2 if ord(ch) > 0x2000 else 1 for ch in label) + len(label)
        yield f"  {label:<{pad}}" + "".join(f"{result[m][key]:>10.3f}" for m in MODES)
    if "multi_intent_lines" in result["combined"]:
        yield f"  （多意图消息 {result['combined']['multi_intent_lines']} 条）"
    if kind == "buyer":
        yield "  可靠性表（组合，意图的置信度）：区间 / 条数 / 平均置信度 / 实际准确率"
        for row in result["combined"]["reliability"]:
            yield (f"    {row['from']:.1f}–{row['to']:.1f}  {row['n']:>5}  {row['confidence']:.3f}"
                   f"  {row['accuracy']:.3f}")


def table_row(result: dict[str, Any]) -> dict[str, Any]:
    """The figures of one data set for --json, without the per-line errors."""
    out: dict[str, Any] = {"kind": result["kind"], "lines": result["lines"]}
    for m in MODES:
        out[m] = {k: v for k, v in result[m].items() if k not in ("errors", "kind", "lines")}
    if result["model_file"] is not None:
        out["model_version"] = result["model_file"]["version"]
        out["ship"] = result["model_file"]["ship"]
    return out


__all__ = ["COLUMNS", "MODES", "Comparison", "default_sets", "format_comparison", "table_row"]
