"""Training side of the learned models (``csbot learn``): scikit-learn's logistic regression.

Generic: any multi-class or multi-label text task given as texts and labels. Deterministic:
folds are fixed by position (near-duplicate lines kept together), the solver is
deterministic, the vocabulary is sorted, weights are rounded to float32 and the file is
written without a timestamp, so the same corpus gives the same bytes.

Each task is fitted several times on four fifths of the training lines and scored on the
fifth it did not see ("out of fold"): those predictions choose the regularisation, fit the
calibration temperature (and, multi-label, the threshold) and let the caller choose how to
combine the model with the rules, all without touching the held-out split.
"""

from __future__ import annotations

import base64
import math
import re
import sys
import zlib
from array import array
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.learned.linear import TaskSpec, extra, features, softmax

Labels = Sequence[str] | Sequence[Sequence[str]]


@dataclass
class Trained:
    """A fitted task and its out-of-fold calibrated probabilities (one list per text)."""

    spec: TaskSpec
    oof: list[list[float]]
    report: dict[str, Any] = field(default_factory=dict)


def folds(n: int, k: int = 5, groups: Sequence[int] | None = None) -> list[list[int]]:
    """k folds of ``range(n)``, no randomness: line i goes to fold i % k, or, with ``groups``
    (a group id per line), every line of a group goes to the fold of the group's first line
    (groups dealt round robin in order of first appearance)."""
    if groups is None:
        return [list(range(j, n, k)) for j in range(k)]
    order: dict[int, int] = {}
    parts: list[list[int]] = [[] for _ in range(k)]
    for i, g in enumerate(groups):
        parts[order.setdefault(g, len(order)) % k].append(i)
    return parts


_PUNCT = re.compile(r"[^\w]+")
_TRAILING = re.compile(r"[哈呢啦嘛亲呀啊吧哦滴]+$")


def near_duplicate_groups(texts: Sequence[str], jaccard: float = 0.5) -> list[int]:
    """A group id per (normalised) text: lines equal but for punctuation, emoji and trailing
    particles, or whose character bigrams overlap by ``jaccard`` or more, share a group.

    A corpus keeps variants of a line (traditional, a typo, a particle); with them in
    different folds, out-of-fold scores read like in-sample ones and choose too little
    regularisation and too confident a temperature."""
    parent = list(range(len(texts)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    by_key: dict[str, int] = {}
    index: dict[str, list[int]] = {}
    grams: list[set[str]] = []
    for i, text in enumerate(texts):
        bare = _PUNCT.sub("", text)
        key = _TRAILING.sub("", bare) or bare or text
        mine = {bare[j:j + 2] for j in range(len(bare) - 1)} or {bare}
        grams.append(mine)
        near = [by_key[key]] if key in by_key else []
        by_key.setdefault(key, i)
        shared: Counter[int] = Counter(j for g in mine for j in index.get(g, ()))
        near += [j for j, c in shared.items() if c / (len(mine) + len(grams[j]) - c) >= jaccard]
        for j in near:
            a, b = find(i), find(j)
            if a != b:
                parent[max(a, b)] = min(a, b)
        for g in mine:
            index.setdefault(g, []).append(i)
    return [find(i) for i in range(len(texts))]


def train_task(
    texts: Sequence[str], labels: Labels, *, kind: str, classes: Sequence[str],
    extras: Sequence[Sequence[str]] | None = None, grid: Sequence[float] = (4.0, 16.0, 64.0),
    min_count: int = 2, prune: float = 0.2, sizes: Sequence[int] = (1, 2, 3), k: int = 5,
    log: Callable[[str], None] | None = None, extras_dropout: bool = False,
    groups: Sequence[int] | None = None, balance: float = 0.0, with_shape: bool = False,
) -> Trained:
    """Fit one task: choose C on out-of-fold predictions, calibrate, refit on every line.

    ``extras_dropout``: every line is also learnt without its extras, so the n-grams carry
    the task on their own too and the extras (the rules' verdicts, written while looking at
    the training lines) cannot take all the weight. ``groups``: a group id per text (near
    duplicates), kept in one fold. ``with_shape``: the message's shape (linear.shape) beside
    the n-grams. ``balance`` (multi-class): each class weighted by
    (lines / (classes x its lines)) ** balance, 0 = unweighted, 1 = scikit-learn's "balanced"."""
    n = len(texts)
    if n < k * 2:
        raise ValueError(f"训练数据太少（{n} 条），至少要 {k * 2} 条")
    xs = [features(t, e, sizes, with_shape) for t, e in zip(texts, extras or [()] * n, strict=True)]
    ys = _targets(labels, kind, classes)
    parts = folds(n, k, groups)
    best: tuple[float, float, list[list[float]]] | None = None
    tried: dict[str, float] = {}
    for c in grid:
        logits = _out_of_fold(xs, ys, kind, classes, c, min_count, parts, extras_dropout, prune, balance)
        score = _score(logits, ys, kind)
        tried[f"{c:g}"] = round(score, 4)
        if log:
            log(f"  C={c:g}: 交叉验证得分 {score:.4f}")
        if best is None or score > best[0] + 1e-9:
            best = (score, c, logits)
    assert best is not None
    _, c, logits = best
    temperature = fit_temperature(logits, ys, kind)
    oof = [_calibrate(z, temperature, kind) for z in logits]
    thresholds = None
    if kind == "multilabel":
        thresholds = fit_thresholds(oof, ys, fit_threshold(oof, ys))
    vocab, rows, bias = _fit(*_augment(xs, ys, extras_dropout), kind, classes, c, min_count, balance)
    vocab, rows = _prune(vocab, rows, prune)
    top = max((abs(w) for row in rows for w in row), default=0.0) or 1.0
    scale = float(f"{top / 32767:.6g}") * 1.000001  # rounding never overflows int16
    flat = array("h", [round(w / scale) for row in rows for w in row])
    if sys.byteorder == "big":
        flat.byteswap()
    spec = TaskSpec(
        kind=kind,  # type: ignore[arg-type]
        classes=list(classes), sizes=list(sizes), shape=with_shape, vocabulary="\n".join(vocab),
        weights=base64.b64encode(zlib.compress(flat.tobytes(), 9)).decode("ascii"), scale=scale,
        bias=[_round(b) for b in bias], temperature=_round(temperature), thresholds=thresholds,
        info={"C": c, "cv": tried, "lines": n, "features": len(vocab)},
    )
    return Trained(spec, oof, {"C": c, "cv": tried, "temperature": spec.temperature})


def _augment(xs: Sequence[dict[str, float]], ys: list[Any], dropout: bool) -> tuple[
        list[dict[str, float]], list[Any]]:
    if not dropout:
        return list(xs), list(ys)
    mark = extra("")
    bare = [{g: v for g, v in x.items() if not g.startswith(mark)} for x in xs]
    return [*xs, *bare], [*ys, *ys]


def _round(x: float) -> float:
    return float(f"{x:.6g}")


def _targets(labels: Labels, kind: str, classes: Sequence[str]) -> list[Any]:
    index = {c: i for i, c in enumerate(classes)}
    if kind == "multiclass":
        return [index[str(y)] for y in labels]
    return [{index[a] for a in y} for y in labels]


def _matrix(xs: Sequence[dict[str, float]], vocab: dict[str, int]) -> Any:
    from scipy.sparse import csr_matrix

    data: list[float] = []
    cols: list[int] = []
    ptr = [0]
    for x in xs:
        for g, v in x.items():
            j = vocab.get(g)
            if j is not None:
                cols.append(j)
                data.append(v)
        ptr.append(len(cols))
    return csr_matrix((data, cols, ptr), shape=(len(xs), len(vocab)))


def _vocab(xs: Sequence[dict[str, float]], min_count: int) -> list[str]:
    count: Counter[str] = Counter(g for x in xs for g in x)
    return sorted(g for g, c in count.items() if c >= min_count or g.startswith(extra("")))


def _fit(
    xs: Sequence[dict[str, float]], ys: list[Any], kind: str, classes: Sequence[str], c: float,
    min_count: int, balance: float = 0.0,
) -> tuple[list[str], list[list[float]], list[float]]:
    """Weights (one row of len(classes) per feature) and biases fitted on these lines."""
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):  # BLAS threads only fight over small problems (and other jobs)
        return _fit_one(xs, ys, kind, classes, c, min_count, LogisticRegression, balance)


def _fit_one(
    xs: Sequence[dict[str, float]], ys: list[Any], kind: str, classes: Sequence[str], c: float,
    min_count: int, LogisticRegression: Any, balance: float = 0.0,
) -> tuple[list[str], list[list[float]], list[float]]:
    vocab = _vocab(xs, min_count)
    x = _matrix(xs, {g: i for i, g in enumerate(vocab)})
    k = len(classes)
    cols: list[list[float]] = []
    bias: list[float] = []
    if kind == "multiclass":
        present = sorted(set(ys))
        lr = LogisticRegression(C=c, solver="newton-cg", max_iter=500, class_weight=class_weights(ys, balance))
        lr.fit(x, ys)
        coef = lr.coef_.tolist()
        inter = lr.intercept_.tolist()
        if len(present) == 2:  # scikit-learn keeps one row for two classes: logits (0, w)
            coef = [[0.0] * len(vocab), coef[0]]
            inter = [0.0, inter[0]]
        by_class = dict(zip(present, zip(coef, inter, strict=True), strict=True))
        for j in range(k):
            w, b = by_class.get(j, ([0.0] * len(vocab), -30.0))  # a class never seen: never chosen
            cols.append(list(w))
            bias.append(b)
    else:
        for j in range(k):
            y = [int(j in s) for s in ys]
            if 0 < sum(y) < len(y):
                lr = LogisticRegression(C=c, solver="newton-cg", max_iter=500)
                lr.fit(x, y)
                cols.append(lr.coef_[0].tolist())
                bias.append(float(lr.intercept_[0]))
            else:
                cols.append([0.0] * len(vocab))
                bias.append(30.0 if sum(y) else -30.0)
    rows = [list(r) for r in zip(*cols, strict=True)] if vocab else []
    return vocab, rows, bias


def class_weights(ys: Sequence[int], balance: float) -> dict[int, float] | None:
    """Rare classes weighted up, (lines / (classes x class lines)) ** balance: the big
    `complain` class otherwise swallows short replies and chit-chat (grouped CV)."""
    if not balance:
        return None
    count = Counter(ys)
    return {k: (len(ys) / (len(count) * n)) ** balance for k, n in sorted(count.items())}


def _prune(vocab: list[str], rows: list[list[float]], prune: float) -> tuple[list[str], list[list[float]]]:
    """Features whose weights are all small dropped (a smaller file, a faster start)."""
    out_v: list[str] = []
    out_r: list[list[float]] = []
    for g, row in zip(vocab, rows, strict=True):
        if max(abs(w) for w in row) >= prune:
            out_v.append(g)
            out_r.append(row)
    return out_v, out_r


def _logits(xs: Sequence[dict[str, float]], vocab: list[str], rows: list[list[float]],
            bias: list[float]) -> list[list[float]]:
    table = dict(zip(vocab, rows, strict=True))
    out = []
    for x in xs:
        z = list(bias)
        for g, v in x.items():
            r = table.get(g)
            if r is not None:
                z = [a + v * w for a, w in zip(z, r, strict=True)]
        out.append(z)
    return out


def _out_of_fold(
    xs: Sequence[dict[str, float]], ys: list[Any], kind: str, classes: Sequence[str], c: float,
    min_count: int, parts: list[list[int]], dropout: bool = False, prune: float = 0.0,
    balance: float = 0.0,
) -> list[list[float]]:
    logits: list[list[float]] = [[] for _ in xs]
    for part in parts:
        held = set(part)
        train = [i for i in range(len(xs)) if i not in held]
        txs, tys = _augment([xs[i] for i in train], [ys[i] for i in train], dropout)
        vocab, rows, bias = _fit(txs, tys, kind, classes, c, min_count, balance)
        vocab, rows = _prune(vocab, rows, prune)
        for i, z in zip(part, _logits([xs[i] for i in part], vocab, rows, bias), strict=True):
            logits[i] = z
    return logits


def _calibrate(z: list[float], t: float, kind: str) -> list[float]:
    if kind == "multilabel":
        return [1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, v / t)))) for v in z]
    return softmax([v / t for v in z])


def _nll(logits: list[list[float]], ys: list[Any], t: float, kind: str) -> float:
    total = 0.0
    for z, y in zip(logits, ys, strict=True):
        p = _calibrate(z, t, kind)
        if kind == "multiclass":
            total -= math.log(max(p[y], 1e-12))
        else:
            total -= sum(math.log(max(q if j in y else 1.0 - q, 1e-12)) for j, q in enumerate(p))
    return total


def fit_temperature(logits: list[list[float]], ys: list[Any], kind: str) -> float:
    """The temperature that minimises the out-of-fold negative log-likelihood (golden section)."""
    lo, hi = math.log(0.05), math.log(20.0)
    g = (math.sqrt(5) - 1) / 2
    a, b = hi - g * (hi - lo), lo + g * (hi - lo)
    fa, fb = _nll(logits, ys, math.exp(a), kind), _nll(logits, ys, math.exp(b), kind)
    for _ in range(40):
        if fa < fb:
            hi, b, fb = b, a, fa
            a = hi - g * (hi - lo)
            fa = _nll(logits, ys, math.exp(a), kind)
        else:
            lo, a, fa = a, b, fb
            b = lo + g * (hi - lo)
            fb = _nll(logits, ys, math.exp(b), kind)
    return math.exp((lo + hi) / 2)


def fit_threshold(proba: list[list[float]], ys: list[set[int]]) -> float:
    """The one probability threshold that maximises micro-F1 out of fold (0.2–0.8)."""
    best_t, best_f = 0.5, -1.0
    for step in range(20, 81, 2):
        t = step / 100
        tp = fp = fn = 0
        for p, y in zip(proba, ys, strict=True):
            pred = {j for j, q in enumerate(p) if q >= t}
            tp += len(pred & y)
            fp += len(pred - y)
            fn += len(y - pred)
        f = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0
        if f > best_f + 1e-12:
            best_t, best_f = t, f
    return best_t


def _label_counts(proba: list[list[float]], ys: list[set[int]], j: int, t: float) -> tuple[int, int, int]:
    """Label j's true positives, false positives and misses at threshold t."""
    tp = fp = fn = 0
    for p, y in zip(proba, ys, strict=True):
        hit = p[j] >= t
        if j in y:
            tp, fn = tp + hit, fn + (not hit)
        else:
            fp += hit
    return tp, fp, fn


def fit_thresholds(proba: list[list[float]], ys: list[set[int]], start: float) -> list[float]:
    """One threshold per label, from the shared one: each label in turn takes the threshold
    (0.2–0.8) that maximises micro-F1 out of fold with the others fixed. A label the model
    over-reads on short lines (explain on "我们这边会记录的") needs more than one that is rare
    and clear-cut; one shared number made both wrong."""
    n = len(proba[0]) if proba else 0
    th = [start] * n
    now = [_label_counts(proba, ys, j, start) for j in range(n)]
    for j in range(n):
        rest = [sum(c[k] for i, c in enumerate(now) if i != j) for k in range(3)]
        best_f = -1.0
        for step in range(20, 81, 5):
            counts = _label_counts(proba, ys, j, step / 100)
            tp, fp, fn = (r + c for r, c in zip(rest, counts, strict=True))
            f = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0
            if f > best_f + 1e-12:
                best_f, th[j], now[j] = f, step / 100, counts
    return th


def _score(logits: list[list[float]], ys: list[Any], kind: str) -> float:
    """Accuracy (multi-class) or micro-F1 at 0 logit (multi-label)."""
    if kind == "multiclass":
        right = sum(max(range(len(z)), key=z.__getitem__) == y for z, y in zip(logits, ys, strict=True))
        return float(right) / len(ys)
    tp = fp = fn = 0
    for z, y in zip(logits, ys, strict=True):
        pred = {j for j, v in enumerate(z) if v >= 0}
        tp += len(pred & y)
        fp += len(pred - y)
        fn += len(y - pred)
    return float(2 * tp / (2 * tp + fp + fn)) if tp + fp + fn else 1.0


__all__ = ["Trained", "fit_temperature", "fit_threshold", "fit_thresholds", "folds", "near_duplicate_groups",
           "train_task"]
