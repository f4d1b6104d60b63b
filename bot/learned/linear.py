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
import operator
import re
import sys
import zlib
from array import array
from bisect import bisect_left
from collections.abc import Collection, Iterable, Sequence
from functools import cached_property
from itertools import chain, takewhile
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from bot.dataload import DataError
from bot.understand.ngrams import BEGIN, END, padded

FORMAT: Literal["csbot-linear/2"] = "csbot-linear/2"  # what ``dump`` writes; ``load`` also reads csbot-linear/1
_BEGIN, _END = BEGIN, END
_EXTRA = "\x01"  # prefix of the extra (non-n-gram) features, e.g. the rules' verdicts


def ngrams(text: str, sizes: Sequence[int] = (1, 2, 3)) -> list[str]:
    """The distinct character n-grams of ``text`` (with begin/end marks), in first-seen order
    (shorter ones first)."""
    padded = _BEGIN + text + _END
    if tuple(sizes) == (1, 2, 3):
        # The shipped models' sizes, built in C (map over the text): a sixth of a turn's
        # scoring was this function.
        two = list(map(operator.add, padded, padded[1:]))
        return list(dict.fromkeys(chain(text, two, map(operator.add, two, padded[2:]))))
    seen: dict[str, None] = {}
    n = len(padded)
    for size in sizes:
        for i in range(n - size + 1):
            seen[padded[i:i + size]] = None
    seen.pop(_BEGIN, None)
    seen.pop(_END, None)
    return list(seen)


_SHAPE = "\x04"  # prefix of the shape features
# A message's clauses: punctuation, spaces and emoji codes end one (also the clauses whose
# intents bot.learned.understand lists).
CLAUSES = re.compile(r"[^，,。.!！?？;；~～\s、…]+")
_EMOJI = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf]")
_LENGTHS = (4, 10, 20, 40)


def shape(text: str) -> list[str]:
    """Features of a message's shape, beside its n-grams: how many clauses (a rant is long
    and many-claused, a yes is one short clause), how long, whether it asks (a "?" anywhere,
    or at the end) or exclaims, whether it holds an emoji. Grouped CV of the buyer stack:
    intent and cause +0.4 to +0.5 point each."""
    n = len(text)
    out = [f"{_SHAPE}c{min(len(CLAUSES.findall(text)), 5)}",
           f"{_SHAPE}l{bisect_left(_LENGTHS, n)}"]  # how many lengths n is above
    if "?" in text:
        out.append(f"{_SHAPE}q")
        if text.endswith("?"):
            out.append(f"{_SHAPE}qe")
    if "!" in text:
        out.append(f"{_SHAPE}x")
    if _EMOJI.search(text):
        out.append(f"{_SHAPE}e")
    return out


def keys(text: str, sizes: Sequence[int] = (1, 2, 3), with_shape: bool = False) -> list[str]:
    """A text's features that are read from the text itself: its n-grams, and its shape."""
    grams = ngrams(text, sizes)
    return grams + shape(text) if with_shape else grams


def key_set(text: str, sizes: Sequence[int] = (1, 2, 3), with_shape: bool = False) -> Collection[str]:
    """``keys`` as a set, for scoring: a text's score sums integer rows, so the order of its
    features does not matter. The set is built on the rule gate's 1- and 2-grams of the
    same message (ngrams.padded), not from scratch."""
    if tuple(sizes) != (1, 2, 3) or (with_shape and _SHAPE in text):
        return keys(text, sizes, with_shape)  # an n-gram could equal a shape feature: as keys counts it
    if with_shape:
        return padded(text).union(shape(text))
    return padded(text)


def extra(name: str) -> str:
    """The feature name of an extra signal (a rule's verdict, say), never an n-gram."""
    return _EXTRA + name


def features(text: str, extras: Iterable[str] = (), sizes: Sequence[int] = (1, 2, 3),
             with_shape: bool = False) -> dict[str, float]:
    """The feature vector of a text: its n-grams (and shape) at 1/sqrt(count) (unit length),
    extras at 1."""
    grams = keys(text, sizes, with_shape)
    value = 1.0 / math.sqrt(len(grams)) if grams else 0.0
    out = dict.fromkeys(grams, value)
    for name in extras:
        out[extra(name)] = 1.0
    return out


class _Members:
    """The gzip members after a csbot-linear/2 file's header, each read when first needed."""

    def __init__(self, data: memoryview, path: Path) -> None:
        self.data = data
        self.path = path

    def read(self, ref: tuple[int, int], limit: int | None = None) -> bytes:
        """The member at ``ref`` (offset, length), or its first ``limit`` bytes."""
        at, size = ref
        try:
            if at < 0 or size <= 0 or at + size > len(self.data):
                raise EOFError
            member = zlib.decompressobj(wbits=31)  # one gzip member, its CRC checked
            out = member.decompress(self.data[at:at + size], limit or 0)
            if limit is None and not member.eof:
                raise EOFError
            return out
        except (zlib.error, EOFError) as exc:
            raise ModelError(f"模型文件已损坏或不是 csbot 的模型：{self.path}") from exc


class _Rows(BaseModel):
    """A vocabulary and its int16 weight rows: inline in csbot-linear/1 (the whole file one
    gzip of JSON), in gzip members of their own after the header in csbot-linear/2, so that
    a command unpacks only the tasks it scores (a buyer line never the agent's)."""

    model_config = ConfigDict(extra="forbid")

    # /1: the features, one per line, in row order; /2: (offset, length) of its member
    vocabulary: str | tuple[int, int]
    # /1: base64 of zlib of little-endian int16 rows, one per feature; /2: its member
    weights: str | tuple[int, int]
    _members: _Members | None = PrivateAttr(default=None)

    def vocabulary_text(self) -> str:
        if isinstance(self.vocabulary, str):
            return self.vocabulary
        return self._source().read(self.vocabulary).decode("utf-8")

    def vocabulary_head(self, prefix: str) -> list[str]:
        """The features at the head of the vocabulary that start with ``prefix``: of a
        csbot-linear/2 member only as much is unpacked as they take (the extras, a few
        hundred bytes of a member of up to 600 KB)."""
        if isinstance(self.vocabulary, str):
            return list(takewhile(lambda g: g.startswith(prefix), self.vocabulary.split("\n")))
        mark = prefix.encode("utf-8")
        limit = 4096
        while True:
            raw = self._source().read(self.vocabulary, limit)
            lines = raw.split(b"\n")
            whole = len(raw) < limit
            if not whole:
                lines.pop()  # perhaps cut short
            head = list(takewhile(lambda g: g.startswith(mark), lines))
            if whole or len(head) < len(lines):
                return [g.decode("utf-8") for g in head]
            limit *= 4

    def weight_bytes(self, limit: int | None = None) -> bytes:
        """The rows as little-endian int16 (only the first ``limit`` bytes when given)."""
        if limit == 0:
            return b""
        if isinstance(self.weights, str):
            packed = base64.b64decode(self.weights)
            return zlib.decompress(packed) if limit is None else zlib.decompressobj().decompress(packed, limit)
        return self._source().read(self.weights, limit)

    def _source(self) -> _Members:
        if self._members is None:
            raise ValueError("模型的权重在文件里：先用 load 读入")
        return self._members


class TaskSpec(_Rows):
    """One task of a model file, as stored (weights quantised to int16: a smaller file that
    loads in milliseconds)."""

    kind: Literal["multiclass", "multilabel"]
    classes: list[str] = Field(min_length=1)
    sizes: list[int] = Field(default=[1, 2, 3], min_length=1)
    shape: bool = False  # the message's shape (``shape``) beside the n-grams
    scale: float = Field(gt=0)  # a weight is its int16 times this
    bias: list[float]
    temperature: float = Field(default=1.0, gt=0)
    thresholds: list[float] | None = None  # multi-label: per class, on the calibrated probability
    info: dict[str, Any] = Field(default_factory=dict)


_LANE = 4  # bytes per class in a packed row: room for 65,536 n-grams' weights summed


def merge_rows(tasks: Sequence[TaskSpec]) -> tuple[str, str]:
    """The tasks' rows side by side over the union of their vocabularies (a BankSpec's
    vocabulary and weights); a task without a feature gets zeros."""
    rows: dict[str, list[int]] = {}
    widths = [len(t.classes) for t in tasks]
    for j, t in enumerate(tasks):
        flat = array("h")
        flat.frombytes(t.weight_bytes())
        if sys.byteorder == "big":
            flat.byteswap()
        k = widths[j]
        vocabulary = t.vocabulary_text()
        for i, g in enumerate(vocabulary.split("\n") if vocabulary else []):
            row = rows.setdefault(g, [0] * sum(widths))
            row[sum(widths[:j]):sum(widths[:j]) + k] = flat[i * k:(i + 1) * k]
    vocab = sorted(rows)
    merged = array("h", [w for g in vocab for w in rows[g]])
    if sys.byteorder == "big":
        merged.byteswap()
    return "\n".join(vocab), base64.b64encode(zlib.compress(merged.tobytes(), 9)).decode("ascii")


def pack(flat: array, k: int, names: Iterable[str]) -> dict[str, int]:  # type: ignore[type-arg]
    """Each feature's int16 row as one big integer of unsigned 32-bit lanes (weight + 32768).

    Adding the integers of a text's n-grams adds every lane at once inside CPython's big
    integer arithmetic; a lane never carries into the next. One turn sums a few dozen rows
    instead of looping over n-grams × classes in Python."""
    raw = flat.tobytes() if sys.byteorder == "little" else _swapped(flat)
    width = k * _LANE
    view = memoryview(_lanes(raw))
    return {g: int.from_bytes(view[j * width:(j + 1) * width], "little") for j, g in enumerate(names)}


def _lanes(raw: bytes) -> bytearray:
    """Little-endian int16 weights as unsigned 32-bit lanes holding weight + 32768."""
    wide = bytearray(len(raw) * 2)
    wide[0::4] = raw[0::2]
    wide[1::4] = raw[1::2].translate(_FLIP)  # +32768: flip the sign bit of the high byte
    return wide


# How many look-ups a table answers row by row before it packs every row into one dict.
# One line of `csbot analyze` looks up a few hundred n-grams in tables of 22,000 and 60,000
# rows: packing them all was a sixth of its start-up. Past this many (a few hundred lines),
# the dict's C look-up is the cheaper one; the service packs everything before serving.
_LAZY_LOOKUPS = 16_384


class Rows:
    """A table's packed rows (``pack``), each made when it is looked up, until the table has
    answered _LAZY_LOOKUPS look-ups: then its owner's ``packed`` becomes the whole dict."""

    __slots__ = ("_index", "_left", "_names", "_owner", "_raw", "_size")

    def __init__(self, owner: LinearTask | Bank, raw: bytes, k: int, names: list[str]) -> None:
        self._owner = owner
        self._names = names
        # csbot learn writes the vocabularies sorted: a few hundred bisections then cost
        # less than hashing 60,000 names into an index (a file that is not: the index).
        self._index = None if all(map(operator.lt, names, names[1:])) else dict(
            zip(names, range(len(names)), strict=True))
        self._raw = raw  # little-endian int16 rows
        self._size = 2 * k
        self._left = _LAZY_LOOKUPS

    def get(self, name: str) -> int | None:
        self._left -= 1
        if self._left == 0:
            self._owner.packed = self.full()
        if self._index is not None:
            i = self._index.get(name)
            if i is None:
                return None
        else:
            names = self._names
            i = bisect_left(names, name)
            if i == len(names) or names[i] != name:
                return None
        n = self._size
        return int.from_bytes(_lanes(self._raw[i * n:(i + 1) * n]), "little")

    def full(self) -> dict[str, int]:
        """Every row packed, as ``pack`` makes them."""
        view, w = memoryview(_lanes(self._raw)), self._size * 2
        return {g: int.from_bytes(view[i * w:(i + 1) * w], "little") for i, g in enumerate(self._names)}


def _rows(owner: LinearTask | Bank, spec: _Rows, k: int, error: str) -> Rows:
    """``spec``'s table, its rows packed when looked up (Rows)."""
    raw = spec.weight_bytes()
    if sys.byteorder == "big":
        flat = array("h")
        flat.frombytes(raw)
        raw = _swapped(flat)
    text = spec.vocabulary_text()
    names = text.split("\n") if text else []
    if len(raw) != 2 * k * len(names):
        raise ValueError(error)
    return Rows(owner, raw, k, names)


def _swapped(flat: array) -> bytes:  # type: ignore[type-arg]
    copy = array("h", flat)
    copy.byteswap()
    return copy.tobytes()


_FLIP = bytes((b ^ 0x80) for b in range(256))


def lanes(total: int, k: int) -> array:  # type: ignore[type-arg]
    """The k unsigned 32-bit lanes of ``total`` (a sum of packed rows); each lane is its
    weights' sum plus 32768 per row summed."""
    out = array("I")
    out.frombytes(total.to_bytes(k * _LANE, "little"))
    if sys.byteorder == "big":
        out.byteswap()
    return out


_OFFSET = 32768


class BankSpec(_Rows):
    """Several tasks' rows side by side over one vocabulary, as ``csbot learn`` merged them
    (int16, each task's columns at that task's scale), so loading needs no merging."""

    tasks: list[str] = Field(min_length=1)


class LinearTask:
    """A trained task, ready to score."""

    def __init__(self, spec: TaskSpec) -> None:
        self.spec = spec
        self.kind = spec.kind
        self.classes = list(spec.classes)
        self.sizes = tuple(spec.sizes)
        self.shape = spec.shape
        k = self.k = len(self.classes)
        if len(spec.bias) != k:
            raise ValueError("权重的个数和词表、类别数对不上")
        self.extra_sums: dict[tuple[str, ...], list[float]] = {}
        self.scale = spec.scale
        self.bias = tuple(spec.bias)
        self._scales, self._bias = [self.scale] * k, list(self.bias)  # _score's arguments
        self.temperature = spec.temperature
        self.thresholds = list(spec.thresholds) if spec.thresholds else [0.5] * k

    def extra_row(self, key: tuple[str, ...]) -> list[float]:
        """The summed (scaled) rows of these extra features."""
        index, rows = self.extras
        add = [0.0] * self.k
        for name in key:
            i = index.get(_EXTRA + name)
            if i is not None:
                s = self.scale
                add = [a + s * w for a, w in zip(add, rows[i:i + self.k], strict=True)]
        return add

    # The weights are decoded when first needed, not at load: a task scored inside a Bank
    # reads only its extras' rows, and a buyer-only command never touches the agent's
    # tasks (decoding every stack task was a tenth of `csbot analyze`'s start-up).
    @cached_property
    def extras(self) -> tuple[dict[str, int], array]:  # type: ignore[type-arg]
        """The extra features' positions and their rows: the extras sort first (\x01
        before any text), so only the head of the vocabulary and of the weights is read."""
        names = self.spec.vocabulary_head(_EXTRA)
        rows = array("h")
        rows.frombytes(self.spec.weight_bytes(len(names) * self.k * rows.itemsize))
        if len(rows) != len(names) * self.k:
            raise ValueError("权重的个数和词表、类别数对不上")
        if sys.byteorder == "big":
            rows.byteswap()
        return {g: i * self.k for i, g in enumerate(names)}, rows

    @cached_property
    def packed(self) -> Rows | dict[str, int]:
        # Unpacked on first use: a task scored only inside a Bank never needs its own rows.
        return _rows(self, self.spec, self.k, "权重的个数和词表、类别数对不上")

    def pack_all(self) -> dict[str, int]:
        """Every row packed now (the service does it before serving: no turn packs a row)."""
        rows = self.packed
        if isinstance(rows, Rows):
            rows = self.packed = rows.full()
        return rows

    def logits(self, text: str, extras: Sequence[str] = ()) -> list[float]:
        """Raw scores, one per class (before the temperature)."""
        return _score(self, key_set(text, self.sizes, self.shape), extras, self._scales, self._bias)

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

    def __init__(self, tasks: Sequence[LinearTask], spec: BankSpec | None = None) -> None:
        self.tasks = list(tasks)
        self.sizes = self.tasks[0].sizes
        self.shape = self.tasks[0].shape
        if any(t.sizes != self.sizes or t.shape != self.shape for t in self.tasks):
            raise ValueError("合并打分的任务必须用同样的 n-gram")
        widths = [t.k for t in self.tasks]
        self.k = sum(widths)
        self.cuts = [sum(widths[:j]) for j in range(len(widths) + 1)]
        self.scales = [t.scale for t in self.tasks for _ in range(t.k)]
        self.bias = [b for t in self.tasks for b in t.bias]
        self.extra_sums: dict[tuple[str, ...], list[float]] = {}
        self.packed: Rows | dict[str, int]
        if spec is not None:  # merged by csbot learn: rows packed as they are looked up
            self.packed = _rows(self, spec, self.k, "合并权重的个数和词表、类别数对不上")
            return
        # A task without the n-gram gets zero weights: lanes at the offset, 32768.
        shifted = []
        for t, cut in zip(self.tasks, self.cuts, strict=False):
            zero = int.from_bytes(b"\x00\x80\x00\x00" * t.k, "little") << (8 * _LANE * cut)
            shifted.append(({g: v << (8 * _LANE * cut) for g, v in t.pack_all().items()}, zero))
        names: dict[str, None] = {}
        for rows, _ in shifted:
            names.update(dict.fromkeys(rows))
        self.packed = {g: sum(rows.get(g, zero) for rows, zero in shifted) for g in names}

    def pack_all(self) -> dict[str, int]:
        """Every row packed now (see LinearTask.pack_all)."""
        if isinstance(self.packed, Rows):
            self.packed = self.packed.full()
        return self.packed

    def extra_row(self, key: tuple[str, ...]) -> list[float]:
        return [w for t in self.tasks for w in t.extra_row(key)]

    def logits(self, text: str, extras: Sequence[str] = ()) -> list[list[float]]:
        """Every task's raw scores (see LinearTask.logits)."""
        out = _score(self, key_set(text, self.sizes, self.shape), extras, self.scales, self.bias)
        return [out[a:b] for a, b in zip(self.cuts, self.cuts[1:], strict=False)]

    def proba(self, text: str, extras: Sequence[str] = ()) -> list[list[float]]:
        """Every task's calibrated probabilities."""
        return [t.calibrate(z) for t, z in zip(self.tasks, self.logits(text, extras), strict=True)]


def _score(m: LinearTask | Bank, grams: Collection[str], extras: Sequence[str], scales: list[float],
           bias: list[float]) -> list[float]:
    """bias + Σ n-gram rows / sqrt(#n-grams) + Σ extra rows, each class at its scale."""
    # filter(None, …) drops the misses: a row is never 0, its weights are within ±32767
    # (train.py) and each lane holds the weight + 32768.
    hit = list(filter(None, map(m.packed.get, grams)))
    add = _extra_sum(m, extras) if extras else None
    if not hit:
        return list(bias) if add is None else [b + a for b, a in zip(bias, add, strict=True)]
    # One pass over the lanes, in the order of the sums written out: (b + f·s·w) + extra.
    f = 1.0 / math.sqrt(len(grams))
    off = len(hit) * _OFFSET
    sums = lanes(sum(hit), m.k)
    if add is None:
        return [b + f * s * (v - off) for b, s, v in zip(bias, scales, sums, strict=True)]
    return [b + f * s * (v - off) + a for b, s, v, a in zip(bias, scales, sums, add, strict=True)]


def _extra_sum(m: LinearTask | Bank, extras: Sequence[str]) -> list[float]:
    """Each extra counts 1; a combination of them is summed once, then remembered."""
    key = tuple(extras)
    add = m.extra_sums.get(key)
    if add is None:
        add = m.extra_row(key)
        if len(m.extra_sums) < 4096:
            m.extra_sums[key] = add
    return add


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

    format: Literal["csbot-linear/1", "csbot-linear/2"] = FORMAT
    version: str  # a digest of the training data and settings: same corpus, same version
    tasks: dict[str, TaskSpec]
    banks: dict[str, BankSpec] = Field(default_factory=dict)
    info: dict[str, Any] = Field(default_factory=dict)


class ModelError(DataError):
    """A model file is missing, not a csbot model, or damaged."""


def dump(model: ModelFile) -> bytes:
    """The file's bytes (csbot-linear/2): a gzip member of sorted JSON, each vocabulary and
    weight table replaced by the (offset, length) of its own gzip member after it, in the
    order of the sorted names; gzip without a timestamp (same model, same bytes)."""
    members: list[bytes] = []
    size = 0

    def member(data: bytes) -> list[int]:
        nonlocal size
        members.append(gzip.compress(data, compresslevel=9, mtime=0))
        size += len(members[-1])
        return [size - len(members[-1]), len(members[-1])]

    head = model.model_dump(mode="json")
    head["format"] = FORMAT
    for group, specs in (("banks", model.banks), ("tasks", model.tasks)):
        for name in sorted(specs):
            head[group][name]["vocabulary"] = member(specs[name].vocabulary_text().encode("utf-8"))
            head[group][name]["weights"] = member(specs[name].weight_bytes())
    raw = json.dumps(head, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return gzip.compress(raw, compresslevel=9, mtime=0) + b"".join(members)


def load(path: Path, data: bytes | None = None) -> ModelFile:
    """Read and check a model file (``data``: its bytes, already read); a damaged one is a
    Chinese error, not a traceback. A csbot-linear/2 file's weights are unpacked task by
    task, when first used."""
    try:
        if data is None:
            data = path.read_bytes()
        header = zlib.decompressobj(wbits=31)  # the first gzip member: all of a /1 file
        raw = header.decompress(data)
        if not header.eof:
            raise EOFError
        model = ModelFile.model_validate_json(raw)
        specs: list[_Rows] = [*model.tasks.values(), *model.banks.values()]
        inline = model.format == "csbot-linear/1"
        if inline != all(isinstance(s.vocabulary, str) and isinstance(s.weights, str) for s in specs) or (
                inline and header.unused_data):
            raise ValueError("the rows do not match the format")
        # A view of ``data``, not the decompressor's copy of the members: the file is held
        # once (Learned.from_folder keeps the bytes to recognise the same model).
        members = _Members(memoryview(data)[len(data) - len(header.unused_data):], path)
        for spec in specs:
            spec._members = members
        return model
    except FileNotFoundError as exc:
        raise ModelError(f"缺少模型文件：{path}（先运行 csbot learn）") from exc
    except (OSError, EOFError, ValidationError, ValueError, zlib.error) as exc:
        raise ModelError(f"模型文件已损坏或不是 csbot 的模型：{path}") from exc


def tasks(model: ModelFile) -> dict[str, LinearTask]:
    """Every task of a model file, ready to score."""
    return {name: LinearTask(spec) for name, spec in model.tasks.items()}


__all__ = ["CLAUSES", "FORMAT", "Bank", "BankSpec", "LinearTask", "ModelError", "ModelFile", "TaskSpec", "dump",
           "extra", "features", "key_set", "keys", "load", "merge_rows", "ngrams", "shape", "softmax", "tasks"]
