"""Small scoring helpers shared by ``csbot learn`` and ``csbot eval`` (pure Python)."""

from __future__ import annotations

from collections.abc import Sequence


def accuracy(gold: Sequence[str], pred: Sequence[str]) -> float:
    return sum(g == p for g, p in zip(gold, pred, strict=True)) / len(gold) if gold else 0.0


def macro_f1(gold: Sequence[str], pred: Sequence[str]) -> float:
    """Mean F1 over the labels that occur in gold or prediction."""
    labels = sorted(set(gold) | set(pred))
    out = []
    for x in labels:
        tp = sum(g == x and p == x for g, p in zip(gold, pred, strict=True))
        fp = sum(g != x and p == x for g, p in zip(gold, pred, strict=True))
        fn = sum(g == x and p != x for g, p in zip(gold, pred, strict=True))
        out.append(2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0)
    return sum(out) / len(out) if out else 0.0


def micro_f1(gold: Sequence[set[str]], pred: Sequence[set[str]]) -> float:
    tp = sum(len(g & p) for g, p in zip(gold, pred, strict=True))
    fp = sum(len(p - g) for g, p in zip(gold, pred, strict=True))
    fn = sum(len(g - p) for g, p in zip(gold, pred, strict=True))
    return 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0


def reliability(confidence: Sequence[float], right: Sequence[bool], bins: int = 10) -> list[dict[str, float]]:
    """Equal-width bins of the reported confidence: how many, mean confidence, how many right."""
    table = []
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        idx = [i for i, c in enumerate(confidence) if lo <= c < hi or (b == bins - 1 and c == 1.0)]
        if not idx:
            continue
        table.append({"from": lo, "to": hi, "n": len(idx),
                      "confidence": sum(confidence[i] for i in idx) / len(idx),
                      "accuracy": sum(right[i] for i in idx) / len(idx)})
    return table


def ece(confidence: Sequence[float], right: Sequence[bool], bins: int = 10) -> float:
    """Expected calibration error: the bins' |accuracy − confidence| weighted by their size."""
    n = len(confidence)
    if not n:
        return 0.0
    return sum(row["n"] / n * abs(row["accuracy"] - row["confidence"]) for row in reliability(confidence, right, bins))


__all__ = ["accuracy", "ece", "macro_f1", "micro_f1", "reliability"]
