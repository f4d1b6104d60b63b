"""The guard's learned second opinion: a small linear model over character n-grams.

One-vs-rest logistic regression for the block codes (conditional_benefit, threat, privacy)
on the normalised text, with the stage as an extra feature. Pure Python and
deterministic: the same corpus gives the same model file, byte for byte.

    python -m bot.guard.learned [--corpus dialogs/corpus] [--out dialogs/guard_model.json]

trains on the corpus's train split only, picks the threshold by 5-fold cross-validation on
that split (the lowest threshold with no clean line blocked), and writes the model.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

CODES = ("conditional_benefit", "threat", "privacy")
_N = (1, 2, 3)


def features(text: str, context: Sequence[str] = (), stage: str | None = None) -> list[str]:
    """Character n-grams of the message and the stage. The previous messages are left to the
    rules: with them the model learned "an offer before, a request now" and blocked the
    compliant main path (a remedy arranged, then the one polite request)."""
    out: list[str] = []
    t = f"^{text}$"
    for n in _N:
        out += [t[i:i + n] for i in range(len(t) - n + 1)]
    if stage:
        out.append("s:" + stage)
    return out


class Model:
    """Weights per code: {code: {feature: weight}}, a bias per code and a threshold."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.weights: dict[str, dict[str, float]] = data["weights"]
        self.bias: dict[str, float] = data["bias"]
        self.threshold = float(data["threshold"])

    @classmethod
    def load(cls, path: Path) -> Model:
        from bot.dataload import DataError

        try:
            return cls(json.loads(path.read_text(encoding="utf-8")))
        except (ValueError, KeyError, TypeError) as exc:
            raise DataError(f"模型文件 {path} 无法读取（请用 python -m bot.guard.learned 重新生成）：{exc}") from exc

    def scores(self, text: str, context: Sequence[str] = (), stage: str | None = None) -> dict[str, float]:
        feats = Counter(features(text, context, stage))
        norm = 1.0 / math.sqrt(sum(v * v for v in feats.values()) or 1.0)
        out = {}
        for code, w in self.weights.items():
            z = self.bias[code] + sum(w.get(f, 0.0) * v * norm for f, v in feats.items())
            out[code] = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))
        return out

    def codes(self, text: str, context: Sequence[str] = (), stage: str | None = None) -> list[str]:
        """The block codes the model is confident about."""
        return [c for c, p in self.scores(text, context, stage).items() if p >= self.threshold]


Example = tuple[str, Sequence[str], str | None, set[str]]


def train(rows: list[Example], epochs: int = 40, rate: float = 0.5, l2: float = 1e-4) -> dict[str, Any]:
    """Logistic regression by SGD in a fixed order (sha256 of the text)."""
    order = sorted(range(len(rows)), key=lambda i: hashlib.sha256(rows[i][0].encode()).hexdigest())
    prepared: list[tuple[dict[str, float], set[str]]] = []
    for i in order:
        text, ctx, stage, codes = rows[i]
        counts = Counter(features(text, ctx, stage))
        norm = 1.0 / math.sqrt(sum(v * v for v in counts.values()) or 1.0)
        prepared.append(({f: v * norm for f, v in counts.items()}, codes))
    weights: dict[str, dict[str, float]] = {c: {} for c in CODES}
    bias = dict.fromkeys(CODES, 0.0)
    for epoch in range(epochs):
        lr = rate / (1 + epoch * 0.1)
        for feats, codes in prepared:
            for c in CODES:
                w = weights[c]
                z = bias[c] + sum(w.get(f, 0.0) * v for f, v in feats.items())
                p = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))
                g = (1.0 if c in codes else 0.0) - p
                bias[c] += lr * g
                for f, v in feats.items():
                    w[f] = w.get(f, 0.0) * (1 - lr * l2) + lr * g * v
    return {"weights": {c: {f: round(x, 4) for f, x in sorted(w.items()) if abs(x) >= 1e-3}
                        for c, w in weights.items()},
            "bias": {c: round(b, 4) for c, b in bias.items()}, "threshold": 0.5}


def pick_threshold(rows: list[Example], folds: int = 5) -> float:
    """The lowest threshold at which no clean line of a held-back fold is blocked."""
    clean_max = 0.0
    for k in range(folds):
        fit = [r for i, r in enumerate(rows) if i % folds != k]
        test = [r for i, r in enumerate(rows) if i % folds == k]
        m = Model(train(fit))
        for text, ctx, stage, codes in test:
            if not codes:
                clean_max = max(clean_max, max(m.scores(text, ctx, stage).values()))
    return round(min(0.99, clean_max + 0.02), 4)


def examples(paths: list[Path], normalize: Any) -> list[Example]:
    from bot.guard.corpus import read

    out: list[Example] = []
    for row in read(paths):
        ctx = [normalize(c).text for c in row.context or ()]
        out.append((normalize(row.text).text, ctx, row.stage, set(row.findings) & set(CODES)))
    return out


def main(argv: list[str] | None = None) -> None:
    from bot.dataload import load_yaml
    from bot.paths import dialogs_dir
    from bot.understand.normalize import Normalizer

    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", type=Path, default=Path("dialogs/corpus"))
    ap.add_argument("--out", type=Path, default=Path("dialogs/guard_model.json"))
    args = ap.parse_args(argv)
    normalize = Normalizer(load_yaml(dialogs_dir(), "normalize.yaml"))
    rows = examples([args.corpus / "train" / "guard.jsonl"], normalize)  # never the held-out half
    threshold = pick_threshold(rows)
    model = train(rows)
    model["threshold"] = threshold
    args.out.write_text(json.dumps(model, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
    print(f"{args.out}: {sum(len(w) for w in model['weights'].values())} weights, threshold {threshold}")


if __name__ == "__main__":
    main()
