"""The guard's learned second opinion, trained with the project's generic learner
(bot/learned: logistic regression over character n-grams, fitted with scikit-learn, scored
in plain Python).

One multi-label task over the block codes (conditional_benefit, threat, privacy) on the
normalised message. The stage and the previous messages are left to the rules: with the
messages a model learned "an offer before, a request now" and blocked the compliant main
path (a remedy arranged, then the one polite request); with the stage it read every
message in 疑似恶意 as agreeing to pay, refusals included.

Each code's threshold is set so that no clean line of the train split is blocked out of
fold (the highest out-of-fold probability of a clean line, plus a margin, at least 0.5): the model may
raise recall, never at the price of a false block it could have seen.

    python -m bot.guard.learned [--corpus dialogs/corpus] [--out dialogs/model/guard.json.gz]

trains on the corpus's train split only (deterministic: same corpus, same bytes).
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

from bot.learned.linear import LinearTask, ModelFile, dump, load

CODES = ("conditional_benefit", "threat", "privacy")
TASK = "guard"
MARGIN = 0.02
FLOOR = 0.5  # never below an even chance: the corpus's clean lines are not all the clean lines


class Model:
    """The trained task with a threshold per code."""

    def __init__(self, task: LinearTask) -> None:
        self.task = task
        self.thresholds = dict(zip(task.classes, task.thresholds, strict=True))

    @classmethod
    def load(cls, path: Path) -> Model:
        """A model file written by this module (a Chinese DataError when it is not one)."""
        from bot.dataload import DataError

        model = load(path)
        if TASK not in model.tasks:
            raise DataError(f"模型文件 {path} 里没有 {TASK} 任务（请用 python -m bot.guard.learned 重新生成）")
        return cls(LinearTask(model.tasks[TASK]))

    def scores(self, text: str) -> dict[str, float]:
        """Calibrated probability per code of one normalised message (alone: see the module doc)."""
        return dict(zip(self.task.classes, self.task.proba(text), strict=True))

    def codes(self, text: str) -> list[str]:
        """The block codes the model is confident about."""
        return [c for c, p in self.scores(text).items() if p >= self.thresholds[c]]


Example = tuple[str, str | None, set[str]]


def train(rows: list[Example], log: bool = False) -> ModelFile:
    """Fit the task; thresholds from the out-of-fold probabilities of the clean lines."""
    from bot.learned.train import train_task

    texts = [t for t, _, _ in rows]
    labels = [sorted(codes) for _, _, codes in rows]
    trained = train_task(texts, labels, kind="multilabel", classes=CODES, log=print if log else None)
    clean = [p for p, (_, _, codes) in zip(trained.oof, rows, strict=True) if not codes]
    trained.spec.thresholds = [
        round(min(0.99, max(FLOOR, max((p[j] for p in clean), default=0.5) + MARGIN)), 4)
        for j in range(len(CODES))]
    digest = hashlib.sha256("\n".join(f"{t}\t{s}\t{sorted(c)}" for t, s, c in rows).encode()).hexdigest()
    return ModelFile(version=digest[:16], tasks={TASK: trained.spec},
                     info={"trained_on": "dialogs/corpus/train/guard.jsonl", "lines": len(rows)})


def examples(paths: list[Path], normalize: object) -> list[Example]:
    from bot.guard.corpus import read

    norm = normalize  # a Normalizer: text -> Norm
    return [(norm(row.text).text, row.stage, set(row.findings) & set(CODES))  # type: ignore[operator]
            for row in read(paths)]


def main(argv: list[str] | None = None) -> None:
    from bot.dataload import load_yaml
    from bot.paths import dialogs_dir
    from bot.understand.normalize import Normalizer

    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", type=Path, default=Path("dialogs/corpus"))
    ap.add_argument("--out", type=Path, default=Path("dialogs/model/guard.json.gz"))
    args = ap.parse_args(argv)
    normalize = Normalizer(load_yaml(dialogs_dir(), "normalize.yaml"))
    rows = examples([args.corpus / "train" / "guard.jsonl"], normalize)  # never the held-out half
    model = train(rows, log=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(dump(model))
    spec = model.tasks[TASK]
    print(f"{args.out}: {spec.info.get('features')} features, thresholds {spec.thresholds}")


if __name__ == "__main__":
    main()
