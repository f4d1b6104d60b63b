"""Grouped cross-validation of the buyer model on the TRAINING split only (and probe files).

With interleaved folds (line i → fold i % 5) a line and its traditional / typo / particle
variant usually sit in different folds and the score flatters the model (0.965 where the
held-out split read 0.889). Here near-duplicates are grouped first (same normalised key, or character-bigram
Jaccard ≥ 0.5) and a whole group goes to one fold, which is closer to what lines written by
someone else look like. The held-out split is never read.

    python scripts/cv.py                       # grouped 5-fold CV of model and stack, per family
    python scripts/cv.py --probe probe.jsonl   # fit on all training lines, score the probe file
    python scripts/cv.py --errors 40           # and print that many CV misses per family

Uses the trainer's own grouping and fitting code (bot/learned/train.py, which `csbot learn`
now folds by as well), so the figures follow its features and settings; one C (``--c``) to
keep it quick.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.learned.build import SETTINGS  # noqa: E402
from bot.learned.linear import features  # noqa: E402
from bot.learned.train import _augment, _fit, _logits, _prune, _targets, folds, near_duplicate_groups  # noqa: E402
from bot.learned.understand import buyer_extras, families  # noqa: E402
from bot.understand.pipeline import Understander  # noqa: E402


def read(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def predict(train_x: list[dict[str, float]], train_y: list[int], test_x: list[dict[str, float]],
            classes: tuple[str, ...], c: float, dropout: bool, balance: float = 0.0) -> list[int]:
    txs, tys = _augment(train_x, train_y, dropout)
    vocab, rows, bias = _fit(txs, tys, "multiclass", classes, c, 2, balance)
    vocab, rows = _prune(vocab, rows, 0.2)
    return [max(range(len(z)), key=z.__getitem__) for z in _logits(test_x, vocab, rows, bias)]


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
    args = ap.parse_args()
    balance = dict(SETTINGS["balance"])
    if args.balance:
        balance.update({k: float(v) for k, v in (kv.split("=") for kv in args.balance.split(","))})

    u = Understander(ROOT / "dialogs", mode="rules")
    rows = read(args.corpus)
    norm = [u.normalize(str(r["text"])).text for r in rows]
    readings = [u.buyer_model.read(u.normalize(str(r["text"]))) for r in rows]
    rules = [r for r, _ in readings]
    gids = near_duplicate_groups(norm)
    parts = folds(len(norm), args.k, gids)
    print(f"训练行 {len(rows)}，近重复分组 {len(set(gids))} 组")
    probes = [(p, read(p)) for p in args.probe]
    for family in args.families.split(","):
        classes = families(u.labels)[family]
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
            for part in parts:
                held = set(part)
                tr = [i for i in range(len(rows)) if i not in held]
                out = predict([xs[i] for i in tr], [gold[i] for i in tr], [xs[i] for i in part], classes,
                              args.c, variant == "stack", balance.get(family, 0.0))
                for i, p in zip(part, out, strict=True):
                    pred[i] = p
            report(variant, gold, pred, classes)
            if variant == "stack" and args.errors:
                bad = [i for i in range(len(rows)) if pred[i] != gold[i]]
                for i in bad[: args.errors]:
                    print(f"    ✗ {rows[i]['text']}  金标 {classes[gold[i]]} 预测 {classes[pred[i]]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
