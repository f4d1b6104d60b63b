"""Run-time side of the learned models: features, scoring and the model file.

Nothing here needs numpy or scikit-learn (the trainer does): a model is a vocabulary of
character n-grams and a weight row per n-gram, scored with dict look-ups. One turn pays a
few tens of microseconds for it, and loading the shipped file takes milliseconds.

A task is multi-class (softmax over its classes; one label per text) or multi-label (one
sigmoid per class; every class above its threshold). Its probabilities are calibrated by
a temperature fitted on predictions the model did not train on.
"""

from __future__ import annotations

import base64
import gzip
import json
import math
import sys
import zlib
from array import array
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.dataload import DataError

FORMAT = "csbot-linear/1"
_BEGIN, _END = "\x02", "\x03"
_EXTRA = "\x01"  # prefix of the extra (non-n-gram) features, e.g. the rules' verdicts


def ngrams(text: str, sizes: Sequence[int] = (1, 2, 3)) -> list[str]:
    """The distinct character n-grams of ``text`` (with begin/end marks), in first-seen order."""
    padded = _BEGIN + text + _END
    seen: dict[str, None] = {}
    n = len(padded)
    for size in sizes:
        for i in range(n - size + 1):
            seen[padded[i:i + size]] = None
    seen.pop(_BEGIN, None)
    seen.pop(_END, None)
    return list(seen)


def extra(name: str) -> str:
    """The feature name of an extra signal (a rule's verdict, say), never an n-gram."""
    return _EXTRA + name


def features(text: str, extras: Iterable[str] = (), sizes: Sequence[int] = (1, 2, 3)) -> dict[str, float]:
    """The feature vector of a text: its n-grams at 1/sqrt(count) (unit length), extras at 1."""
    grams = ngrams(text, sizes)
    value = 1.0 / math.sqrt(len(grams)) if grams else 0.0
    out = dict.fromkeys(grams, value)
    for name in extras:
        out[extra(name)] = 1.0
    return out


class TaskSpec(BaseModel):
    """One task of a model file, as stored (weights quantised to int16: a smaller file that
    loads in milliseconds)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["multiclass", "multilabel"]
    classes: list[str] = Field(min_length=1)
    sizes: list[int] = Field(default=[1, 2, 3], min_length=1)
    vocabulary: str  # the features, one per line, in row order
    weights: str  # base64 of zlib of little-endian int16 rows, len(classes) per feature
    scale: float = Field(gt=0)  # a weight is its int16 times this
    bias: list[float]
    temperature: float = Field(default=1.0, gt=0)
    thresholds: list[float] | None = None  # multi-label: per class, on the calibrated probability
    info: dict[str, Any] = Field(default_factory=dict)


_LANE = 4  # bytes per class in a packed row: room for 65,536 n-grams' weights summed


def pack(flat: array, k: int, names: Iterable[str]) -> dict[str, int]:  # type: ignore[type-arg]
    """Each feature's int16 row as one big integer of unsigned 32-bit lanes (weight + 32768).

    Adding the integers of a text's n-grams adds every lane at once inside CPython's big
    integer arithmetic; a lane never carries into the next. One turn sums a few dozen rows
    instead of looping over n-grams × classes in Python."""
    raw = flat.tobytes() if sys.byteorder == "little" else _swapped(flat)
    wide = bytearray(len(raw) * 2)
    wide[0::4] = raw[0::2]
    wide[1::4] = raw[1::2].translate(_FLIP)  # +32768: flip the sign bit of the high byte
    width = k * _LANE
    return {g: int.from_bytes(wide[j * width:(j + 1) * width], "little") for j, g in enumerate(names)}


def _swapped(flat: array) -> bytes:  # type: ignore[type-arg]
    copy = array("h", flat)
    copy.byteswap()
    return copy.tobytes()


_FLIP = bytes((b ^ 0x80) for b in range(256))


def unpack(total: int, hits: int, k: int) -> list[int]:
    """The k lane sums of ``total`` (the sum of ``hits`` packed rows), back to signed ints."""
    lanes = array("I")
    lanes.frombytes(total.to_bytes(k * _LANE, "little"))
    if sys.byteorder == "big":
        lanes.byteswap()
    off = hits * 32768
    return [v - off for v in lanes]


class LinearTask:
    """A trained task, ready to score."""

    def __init__(self, spec: TaskSpec) -> None:
        self.spec = spec
        self.kind = spec.kind
        self.classes = list(spec.classes)
        self.sizes = tuple(spec.sizes)
        k = self.k = len(self.classes)
        flat = array("h")
        flat.frombytes(zlib.decompress(base64.b64decode(spec.weights)))
        if sys.byteorder == "big":
            flat.byteswap()
        vocab = spec.vocabulary.split("\n") if spec.vocabulary else []
        if len(flat) != k * len(vocab) or len(spec.bias) != k:
            raise ValueError("权重的个数和词表、类别数对不上")
        self.flat = flat
        self.index: dict[str, int] = {g: i * k for i, g in enumerate(vocab)}
        self.packed = pack(flat, k, vocab)
        self.extra_sums: dict[tuple[str, ...], list[float]] = {}
        self.scale = spec.scale
        self.bias = tuple(spec.bias)
        self.temperature = spec.temperature
        self.thresholds = list(spec.thresholds) if spec.thresholds else [0.5] * k

    def logits(self, text: str, extras: Sequence[str] = ()) -> list[float]:
        """Raw scores, one per class (before the temperature)."""
        return _score(self, ngrams(text, self.sizes), extras, [self.scale] * self.k, list(self.bias))

    def proba(self, text: str, extras: Sequence[str] = ()) -> list[float]:
        """Calibrated probabilities: a softmax (multi-class) or one sigmoid per class."""
        return self.calibrate(self.logits(text, extras))

    def calibrate(self, logits: list[float]) -> list[float]:
        t = self.temperature
        if self.kind == "multilabel":
            return [_sigmoid(z / t) for z in logits]
        return softmax([z / t for z in logits])

    def predict(self, text: str, extras: Sequence[str] = ()) -> list[tuple[str, float]]:
        """Multi-class: the best class and its probability. Multi-label: every class at or
        above its threshold, in class order, with its probability."""
        p = self.proba(text, extras)
        if self.kind == "multilabel":
            return [(c, q) for c, q, t in zip(self.classes, p, self.thresholds, strict=True) if q >= t]
        best = max(range(len(p)), key=p.__getitem__)
        return [(self.classes[best], p[best])]


class Bank:
    """Several tasks over the same n-grams scored in one pass: one look-up per n-gram for
    all of them (the buyer's intent, cause and emotion), merged once at load time."""

    def __init__(self, tasks: Sequence[LinearTask]) -> None:
        self.tasks = list(tasks)
        self.sizes = self.tasks[0].sizes
        if any(t.sizes != self.sizes for t in self.tasks):
            raise ValueError("合并打分的任务必须用同样的 n-gram")
        widths = [t.k for t in self.tasks]
        self.k = sum(widths)
        self.cuts = [sum(widths[:j]) for j in range(len(widths) + 1)]
        names: dict[str, None] = {}
        for t in self.tasks:
            names.update(dict.fromkeys(t.index))
        zeros = [array("h", bytes(2 * w)) for w in widths]
        flat = array("h")
        for g in names:
            for t, z in zip(self.tasks, zeros, strict=True):
                i = t.index.get(g)
                flat.extend(z if i is None else t.flat[i:i + t.k])
        self.flat = flat
        self.index = {g: j * self.k for j, g in enumerate(names)}
        self.packed = pack(flat, self.k, names)
        self.extra_sums: dict[tuple[str, ...], list[float]] = {}
        self.scales = [t.scale for t in self.tasks for _ in range(t.k)]
        self.bias = [b for t in self.tasks for b in t.bias]

    def logits(self, text: str, extras: Sequence[str] = ()) -> list[list[float]]:
        """Every task's raw scores (see LinearTask.logits)."""
        out = _score(self, ngrams(text, self.sizes), extras, self.scales, self.bias)
        return [out[a:b] for a, b in zip(self.cuts, self.cuts[1:], strict=False)]

    def proba(self, text: str, extras: Sequence[str] = ()) -> list[list[float]]:
        """Every task's calibrated probabilities."""
        return [t.calibrate(z) for t, z in zip(self.tasks, self.logits(text, extras), strict=True)]


def _score(m: LinearTask | Bank, grams: list[str], extras: Sequence[str], scales: list[float],
           bias: list[float]) -> list[float]:
    """bias + Σ n-gram rows / sqrt(#n-grams) + Σ extra rows, each class at its scale."""
    packed = m.packed
    hit = [r for g in grams if (r := packed.get(g)) is not None]
    out = bias
    if hit:
        f = 1.0 / math.sqrt(len(grams))
        out = [b + f * s * v for b, s, v in zip(bias, scales, unpack(sum(hit), len(hit), m.k), strict=True)]
    if extras:  # each extra counts 1; a combination of them is summed once, then remembered
        key = tuple(extras)
        add = m.extra_sums.get(key)
        if add is None:
            add = [0.0] * m.k
            for name in key:
                i = m.index.get(_EXTRA + name)
                if i is not None:
                    add = [a + s * w for a, s, w in zip(add, scales, m.flat[i:i + m.k], strict=True)]
            if len(m.extra_sums) < 4096:
                m.extra_sums[key] = add
        out = [a + b for a, b in zip(out, add, strict=True)]
    return out


def softmax(z: list[float]) -> list[float]:
    m = max(z)
    e = [math.exp(v - m) for v in z]
    s = sum(e)
    return [v / s for v in e]


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


class ModelFile(BaseModel):
    """A versioned file of named tasks (``dialogs/model/understand.json.gz``)."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["csbot-linear/1"] = "csbot-linear/1"
    version: str  # a digest of the training data and settings: same corpus, same version
    tasks: dict[str, TaskSpec]
    info: dict[str, Any] = Field(default_factory=dict)


class ModelError(DataError):
    """A model file is missing, not a csbot model, or damaged."""


def dump(model: ModelFile) -> bytes:
    """The file's bytes: sorted JSON, gzip without a timestamp (same model, same bytes)."""
    raw = json.dumps(model.model_dump(mode="json"), ensure_ascii=False, sort_keys=True,
                     separators=(",", ":")).encode("utf-8")
    return gzip.compress(raw, compresslevel=9, mtime=0)


def load(path: Path) -> ModelFile:
    """Read and check a model file; a damaged one is a Chinese error, not a traceback."""
    try:
        raw = gzip.decompress(path.read_bytes())
        return ModelFile.model_validate_json(raw)
    except FileNotFoundError as exc:
        raise ModelError(f"缺少模型文件：{path}（先运行 csbot learn）") from exc
    except (OSError, EOFError, ValidationError, ValueError) as exc:
        raise ModelError(f"模型文件已损坏或不是 csbot 的模型：{path}") from exc


def tasks(model: ModelFile) -> dict[str, LinearTask]:
    """Every task of a model file, ready to score."""
    return {name: LinearTask(spec) for name, spec in model.tasks.items()}


__all__ = ["FORMAT", "Bank", "LinearTask", "ModelError", "ModelFile", "TaskSpec", "dump", "extra", "features",
           "load", "ngrams", "softmax", "tasks"]
