"""Grouped cross-validation of the buyer model on the TRAINING split only (and probe files).

With interleaved folds (line i → fold i % 5) a line and its traditional / typo / particle
variant usually sit in different folds and the score flatters the model (0.965 where the
held-out split read 0.889). Here near-duplicates are grouped first (same normalised key, or character-bigram
Jaccard ≥ 0.5) and a whole group goes to one fold, which is closer to what lines written by
someone else look like. The held-out split is never read.

    python scripts/cv.py                       # grouped 5-fold CV of model and stack, per family
    python scripts/cv.py --probe probe.jsonl   # fit on all training lines, score the probe file
    python scripts/cv.py --errors 40           # and print that many CV misses per family
    python scripts/cv.py --oof oof.jsonl       # each line's out-of-fold reading and its probability (label audits)
    python scripts/cv.py --role agent --errors 40   # agent acts (stack, one C), misses per act

Uses the trainer's own grouping and fitting code (bot/learned/train.py, which `csbot learn`
now folds by as well), so the figures follow its features and settings; one C (``--c``) to
keep it quick.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.learned.build import SETTINGS  # noqa: E402
from bot.learned.linear import features  # noqa: E402
from bot.learned.metrics import micro_f1  # noqa: E402
from bot.learned.train import (  # noqa: E402
    _augment,
    _fit,
    _logits,
    _prune,
    _targets,
    folds,
    near_duplicate_groups,
    train_task,
)
from bot.learned.understand import agent_extras, buyer_extras, families  # noqa: E402
from bot.understand.pipeline import Understander  # noqa: E402


def read(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def predict_proba(train_x: list[dict[str, float]], train_y: list[int], test_x: list[dict[str, float]],
                  classes: tuple[str, ...], c: float, dropout: bool, balance: float = 0.0) -> list[list[float]]:
    """Softmax of the logits (temperature 1: enough to rank how sure a miss is)."""
    txs, tys = _augment(train_x, train_y, dropout)
    vocab, rows, bias = _fit(txs, tys, "multiclass", classes, c, SETTINGS["min_count"], balance)
    vocab, rows = _prune(vocab, rows, SETTINGS["prune"])
    out = []
    for z in _logits(test_x, vocab, rows, bias):
        top = max(z)
        e = [math.exp(a - top) for a in z]
        out.append([a / sum(e) for a in e])
    return out


def predict(train_x: list[dict[str, float]], train_y: list[int], test_x: list[dict[str, float]],
            classes: tuple[str, ...], c: float, dropout: bool, balance: float = 0.0) -> list[int]:
    return [max(range(len(p)), key=p.__getitem__)
            for p in predict_proba(train_x, train_y, test_x, classes, c, dropout, balance)]


def report(name: str, gold: list[int], pred: list[int], classes: tuple[str, ...]) -> None:
    right = sum(g == p for g, p in zip(gold, pred, strict=True))
    print(f"  {name}: {right / len(gold):.3f} ({len(gold)} 条)")
    per = []
    for j, c in enumerate(classes):
        n = sum(g == j for g in gold)
        if n:
            r = sum(g == j and p == j for g, p in zip(gold, pred, strict=True)) / n
            said = sum(p == j for p in pred)
            prec = sum(g == j and p == j for g, p in zip(gold, pred, strict=True)) / said if said else 0.0
            per.append(f"{c} R{r:.2f}/P{prec:.2f}({n})")
    print("    " + "  ".join(per))
    conf = Counter((classes[g], classes[p]) for g, p in zip(gold, pred, strict=True) if g != p)
    print("    最常见混淆：" + "  ".join(f"{a}→{b}×{n}" for (a, b), n in conf.most_common(8)))


def main() -> int:
    ap = argparse.ArgumentParser(description="训练集上的分组交叉验证（不读留出集）")
    ap.add_argument("--corpus", type=Path, default=ROOT / "dialogs" / "corpus" / "train" / "buyer.jsonl")
    ap.add_argument("--probe", type=Path, action="append", default=[], help="只打分的探针文件")
    ap.add_argument("--c", type=float, default=64.0)
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--errors", type=int, default=0)
    ap.add_argument("--balance", default=None,
                    help="类别加权的幂，如 intent=0.5,cause=0（默认取 csbot learn 的设置）")
    ap.add_argument("--families", default="intent,cause,emotion")
    ap.add_argument("--variants", default="model,stack")
    ap.add_argument("--score-first", type=int, default=0,
                    help="也只对前 N 行打分（新行追加在文件末尾：看旧行在加入新行后的变化）")
    ap.add_argument("--role", choices=("buyer", "agent"), default="buyer")
    ap.add_argument("--oof", type=Path, default=None,
                    help="把叠加模型每行的折外预测写成 JSONL（金标、预测、两者的概率），用来查标签")
    args = ap.parse_args()
    if args.role == "agent":
        return agent_cv(args)
    balance = dict(SETTINGS["balance"])
    if args.balance:
        balance.update({k: float(v) for k, v in (kv.split("=") for kv in args.balance.split(","))})

    u = Understander(ROOT / "dialogs", mode="rules")
    fam = families(u.labels)
    rows = read(args.corpus)
    norm = [u.normalize(str(r["text"])).text for r in rows]
    readings = [u.buyer_model.read(u.normalize(str(r["text"]))) for r in rows]
    rules = [r for r, _ in readings]
    gids = near_duplicate_groups(norm)
    parts = folds(len(norm), args.k, gids)
    print(f"训练行 {len(rows)}，近重复分组 {len(set(gids))} 组")
    probes = [(p, read(p)) for p in args.probe]
    oof: dict[str, list[dict[str, object]]] = {}
    for family in args.families.split(","):
        classes = fam[family]
        gold = _targets([str(r[family]) if r[family] is not None else "none" for r in rows], "multiclass", classes)
        print(f"== {family}")
        said = [classes.index(str(getattr(r, family)) if getattr(r, family) is not None else "none") for r in rules]
        if not probes:
            report("rules", gold, said, classes)
        for variant in args.variants.split(","):
            ex = [buyer_extras(r, c) if variant == "stack" else [] for r, c in readings]
            shaped = bool(SETTINGS["shape"]) and variant == "stack"  # as csbot learn does
            xs = [features(t, e, with_shape=shaped) for t, e in zip(norm, ex, strict=True)]
            if probes:
                for path, prow in probes:
                    pn = [u.normalize(str(r["text"])) for r in prow]
                    pread = [u.buyer_model.read(n) for n in pn]
                    pr = [r for r, _ in pread]
                    px = [features(n.text, buyer_extras(r, c) if variant == "stack" else [],
                                   with_shape=shaped)
                          for n, (r, c) in zip(pn, pread, strict=True)]
                    pg = _targets([str(r[family]) if r[family] is not None else "none" for r in prow],
                                  "multiclass", classes)
                    pp = predict(xs, gold, px, classes, args.c, variant == "stack", balance.get(family, 0.0))
                    report(f"{variant} on {path.name}", pg, pp, classes)
                    if variant == "stack":
                        report(f"rules on {path.name}", pg,
                               [classes.index(str(getattr(r, family)) if getattr(r, family) is not None else "none")
                                for r in pr], classes)
                    for g, p, r in list(zip(pg, pp, prow, strict=True)):
                        if g != p and args.errors:
                            print(f"    ✗ {r['text']}  金标 {classes[g]} 预测 {classes[p]}")
                continue
            pred = [0] * len(rows)
            proba: list[list[float]] = [[] for _ in rows]
            for part in parts:
                held = set(part)
                tr = [i for i in range(len(rows)) if i not in held]
                out = predict_proba([xs[i] for i in tr], [gold[i] for i in tr], [xs[i] for i in part], classes,
                                    args.c, variant == "stack", balance.get(family, 0.0))
                for i, p in zip(part, out, strict=True):
                    pred[i] = max(range(len(p)), key=p.__getitem__)
                    proba[i] = p
            if variant == "stack" and args.oof:
                oof.setdefault(family, [
                    {"gold": classes[gold[i]], "pred": classes[pred[i]],
                     "p_pred": round(proba[i][pred[i]], 4), "p_gold": round(proba[i][gold[i]], 4)}
                    for i in range(len(rows))])
            report(variant, gold, pred, classes)
            if args.score_first:
                n = args.score_first
                report(f"{variant}（前 {n} 行）", gold[:n], pred[:n], classes)
            if variant == "stack" and args.errors:
                bad = [i for i in range(len(rows)) if pred[i] != gold[i]]
                for i in bad[: args.errors]:
                    print(f"    ✗ {rows[i]['text']}  金标 {classes[gold[i]]} 预测 {classes[pred[i]]}")
    if args.oof and oof:
        with args.oof.open("w", encoding="utf-8") as f:
            for i, r in enumerate(rows):
                f.write(json.dumps({"line": i + 1, "text": r["text"], **{k: v[i] for k, v in oof.items()}},
                                   ensure_ascii=False) + "\n")
    return 0


def agent_cv(args: argparse.Namespace) -> int:
    """Grouped CV of the agent acts' stack (one C; the per-act floors of `csbot learn` left out)."""
    u = Understander(ROOT / "dialogs", mode="rules")
    classes = families(u.labels)["acts"]
    path = ROOT / "dialogs" / "corpus" / "train" / "agent.jsonl" if args.corpus.name == "buyer.jsonl" else args.corpus
    rows = read(path)
    texts = [u.normalize(str(r["text"])).text for r in rows]
    said = [set(u.agent_model(u.normalize(str(r["text"])))) for r in rows]
    gold = [set(r["acts"]) for r in rows]  # type: ignore[call-overload]
    t = train_task(texts, [sorted(g) for g in gold], kind="multilabel", classes=classes,
                   extras=[agent_extras(a) for a in said], extras_dropout=True,
                   groups=near_duplicate_groups(texts), grid=(args.c,),
                   min_count=SETTINGS["min_count"], prune=SETTINGS["prune"])
    th = t.spec.thresholds or [0.5] * len(classes)
    if args.probe:  # fitted on every training line, scored on the probe files
        from bot.learned.linear import LinearTask
        task = LinearTask(t.spec)
        for p in args.probe:
            prow = read(p)
            pg = [set(r["acts"]) for r in prow]  # type: ignore[call-overload]
            pn = [u.normalize(str(r["text"])) for r in prow]
            pp = [{c for c, _ in task.predict(n.text, agent_extras(u.agent_model(n)))} for n in pn]
            print(f"{p.name}：{len(prow)} 条，stack micro-F1 {micro_f1(pg, pp):.3f}")
            for c in classes:
                fp = sum(c in q and c not in g for g, q in zip(pg, pp, strict=True))
                fn = sum(c in g and c not in q for g, q in zip(pg, pp, strict=True))
                if fp or fn:
                    print(f"  {c}: 多报 {fp}  漏报 {fn}")
            if args.errors:
                for r, g, q in zip(prow, pg, pp, strict=True):
                    if g != q:
                        print(f"    ✗ {r['text']}  金标 {sorted(g)} 预测 {sorted(q)}")
        return 0
    pred = [{c for c, q, x in zip(classes, p, th, strict=True) if q >= x} for p in t.oof]
    print(f"客服行 {len(rows)}：rules micro-F1 {micro_f1(gold, said):.3f}，stack {micro_f1(gold, pred):.3f}")
    if args.score_first:
        n = args.score_first
        print(f"  前 {n} 行：stack micro-F1 {micro_f1(gold[:n], pred[:n]):.3f}")
    for c in classes:
        tp = sum(c in g and c in p for g, p in zip(gold, pred, strict=True))
        fp = sum(c not in g and c in p for g, p in zip(gold, pred, strict=True))
        fn = sum(c in g and c not in p for g, p in zip(gold, pred, strict=True))
        print(f"  {c}: F1 {2 * tp / max(1, 2 * tp + fp + fn):.3f}  多报 {fp}  漏报 {fn}  ({tp + fn} 条)")
        if args.errors:
            for r, g, p in zip(rows, gold, pred, strict=True):
                if (c in g) != (c in p):
                    print(f"    {'多报' if c in p else '漏报'} {r['text']}  金标 {sorted(g)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
