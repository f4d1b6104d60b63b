"""Grouped CV of feature variants of the buyer stack, on the TRAINING split only.

An experiment bench beside scripts/cv.py: the same rows, folds, augmentation and fit as
`csbot learn` (C fixed), with extra text features added by name. The held-out split is
never read.

    python scripts/cv_variants.py base skip lexnum skip+lexclass   # one line per variant
    python scripts/cv_variants.py --families emotion --c 16 base
    python scripts/cv_variants.py base --nb nbovr                   # NB-LR instead of plain LR
    python scripts/cv_variants.py base --save /tmp/cv_oof.pkl       # keep the out-of-fold logits,
    python scripts/cv_variants.py base --joint intent,cause,emotion # then read the other families' ones
    python scripts/cv_variants.py --saved --tune-bias /tmp/a.pkl /tmp/b.pkl  # average saved logits
    python scripts/cv_variants.py --emb w,doc,64,100,2,2 clu        # distributional cluster ids
    python scripts/cv_variants.py --emb w,win,64,150,2,2 base --dense 1.0  # the mean word vector
    python scripts/cv_variants.py jw jwb                            # jieba words, word bigrams
    python scripts/cv_variants.py --mask base                       # case entities masked
    python scripts/cv_variants.py --extra-train tests/data/buyer_dev.jsonl base  # more training rows

The cluster and word variants (scripts/cv_embed.py) need jieba, an experiment-only dependency:
`pip install --target /tmp/jiebalib jieba` (none of them paid, so the project does not depend on it).

The figures are in docs/understanding.md's second and third feature tables. The rules' readings are
cached in /tmp per corpus digest (reading them is most of a short run's start).
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import pickle
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bot.learned.build import SETTINGS  # noqa: E402
from bot.learned.linear import features  # noqa: E402
from bot.learned.train import _augment, _fit, _logits, _prune, _targets, folds, near_duplicate_groups  # noqa: E402
from bot.learned.understand import buyer_extras, families  # noqa: E402

TRAIN = ROOT / "dialogs" / "corpus" / "train" / "buyer.jsonl"


def load() -> dict[str, Any]:
    lexicon = (ROOT / "dialogs" / "lexicon" / "buyer.yaml").read_bytes()
    digest = hashlib.sha256(TRAIN.read_bytes() + lexicon).hexdigest()[:12]
    cache = Path(f"/tmp/cv_variants_{digest}.pkl")
    if cache.is_file():
        return pickle.loads(cache.read_bytes())
    from bot.understand.pipeline import Understander

    u = Understander(ROOT / "dialogs", mode="rules")
    rows = [json.loads(x) for x in TRAIN.read_text(encoding="utf-8").splitlines() if x.strip()]
    norm = [u.normalize(str(r["text"])).text for r in rows]
    readings = [u.buyer_model.read(u.normalize(str(r["text"]))) for r in rows]
    extras = [buyer_extras(r, c) for r, c in readings]
    data = {"rows": rows, "norm": norm, "extras": extras, "fam": families(u.labels),
            "groups": near_duplicate_groups(norm)}
    cache.write_bytes(pickle.dumps(data))
    return data


def load_extra(files: list[str], data: dict[str, Any]) -> dict[str, Any]:
    """Labelled buyer lines from outside the corpus (e.g. tests/data/buyer_dev.jsonl) that join
    every fold's training part and are never scored; one that is a near-duplicate of a corpus
    line only trains the folds that do not score that line. Never a held-out file."""
    assert not any("heldout" in f for f in files)
    key = hashlib.sha256(json.dumps(files).encode() + b"".join(Path(f).read_bytes() for f in files)
                         + pickle.dumps(data["norm"])).hexdigest()[:12]
    cache = Path(f"/tmp/cv_variants_extra_{key}.pkl")
    if cache.is_file():
        return pickle.loads(cache.read_bytes())
    from bot.understand.pipeline import Understander

    u = Understander(ROOT / "dialogs", mode="rules")
    seen = set(data["norm"])
    rows, norm, extras = [], [], []
    for f in files:
        for x in Path(f).read_text(encoding="utf-8").splitlines():
            if not x.strip():
                continue
            r = json.loads(x)
            n = u.normalize(str(r["text"]))
            if n.text in seen:
                continue
            seen.add(n.text)
            rows.append(r)
            norm.append(n.text)
            rule, cues = u.buyer_model.read(n)
            extras.append(buyer_extras(rule, cues))
    groups = near_duplicate_groups(data["norm"] + norm)
    n0 = len(data["norm"])
    out = {"rows": rows, "norm": norm, "extras": extras, "groups": groups[n0:], "corpus_groups": groups[:n0]}
    cache.write_bytes(pickle.dumps(out))
    return out


# ---- extra text features -------------------------------------------------------------
_B, _E = "\x02", "\x03"


def skip(text: str) -> list[str]:
    """Character skip-bigrams: a_b with one character between."""
    p = _B + text + _E
    return [f"\x05{p[i]}{p[i + 2]}" for i in range(len(p) - 2)]


def skip2(text: str) -> list[str]:
    """Skip-bigrams with one or two characters between."""
    p = _B + text + _E
    return skip(text) + [f"\x06{p[i]}{p[i + 3]}" for i in range(len(p) - 3)]


def _cls(ch: str) -> str:
    if ch.isdigit():
        return "D"
    if "a" <= ch <= "z":
        return "L"
    if "\u4e00" <= ch <= "\u9fff":
        return "C"
    if ch in "?？":
        return "Q"
    if ch in "!！":
        return "X"
    if ch.isspace():
        return "S"
    o = ord(ch)
    if o >= 0x1F000 or 0x2600 <= o <= 0x27BF:
        return "E"
    return "P"


def charclass(text: str) -> list[str]:
    """n-grams (2-4) of the run-length-collapsed character class string."""
    s = "".join(_cls(c) for c in text)
    s = re.sub(r"(.)\1+", r"\1", s)
    p = "^" + s + "$"
    return list({f"\x07{p[i:i + n]}" for n in (2, 3, 4) for i in range(len(p) - n + 1)})


_PARTICLES = re.compile(r"[哈呢啦嘛亲呀啊吧哦滴了的呗咯喔噢哟诶欸额嗯恩]")


def noparticle(text: str) -> list[str]:
    t = _PARTICLES.sub("", text)
    if t == text:
        return []
    p = _B + t + _E
    return list({f"\x08{p[i:i + n]}" for n in (2, 3) for i in range(len(p) - n + 1)})


_NUM = r"(\d+|[一二两三四五六七八九十几半俩仨]+)"
_CLASSES: list[tuple[str, str]] = [
    ("N", _NUM + r"(?=[次天个件回遍趟周月年小时分钟号块元单条双只包盒瓶])"),
    ("T", r"(昨天|今天|前天|明天|后天|上周|这周|下周|上个月|这个月|刚才|刚刚|早上|晚上|中午|下午|上午|半天"
          r"|一天|两天|三天|几天|一周|一个月|半个月|好几天|到现在|至今)"),
    ("P", r"(衣服|外套|裙子|裤子|鞋子|鞋|袜子|帽子|包包|背包|杯子|水杯|保温杯|被子|床单|枕头|毛巾|手机壳|耳机"
          r"|充电宝|数据线|台灯|锅|碗|茶叶|茶|零食|面膜|口红|衬衫|t恤|卫衣|毛衣|羽绒服|大衣|夹克|睡衣|内衣|拖鞋"
          r"|靴子|手表|玩具|东西|宝贝|商品|货)"),
    ("B", r"(脸|手|脚|腿|胳膊|肚子|胃|头|眼睛|皮肤|嘴|牙|脖子|腰|背|嗓子|喉咙)"),
]
_CLS_RE = [(k, re.compile(v)) for k, v in _CLASSES]
_MARKS = {"N": "\ue000", "T": "\ue001", "P": "\ue002", "B": "\ue003"}


def lexclass(text: str) -> list[str]:
    """n-grams (2-3) touching a class mark after each lexicon term is replaced by its class."""
    t = text
    for k, rx in _CLS_RE:
        t = rx.sub(_MARKS[k], t)
    if t == text:
        return []
    p = _B + t + _E
    marks = set(_MARKS.values())
    return list({f"\x0e{p[i:i + n]}" for n in (2, 3) for i in range(len(p) - n + 1)
                 if any(c in marks for c in p[i:i + n])})


def lexnum(text: str) -> list[str]:
    """Only the number class."""
    t = _CLS_RE[0][1].sub("\ue000", text)
    if t == text:
        return []
    p = _B + t + _E
    return list({f"\x0e{p[i:i + n]}" for n in (2, 3) for i in range(len(p) - n + 1) if "\ue000" in p[i:i + n]})


ADDERS: dict[str, Callable[[str], list[str]]] = {
    "skip": skip, "skip2": skip2, "charclass": charclass, "noparticle": noparticle, "lexclass": lexclass,
    "lexnum": lexnum,
}

# ---- distributional clusters (scripts/cv_embed.py) -----------------------------------
# EMB["spec"]: kind,ctx,dim,k,min_count,window (e.g. "c2,win,64,200,3,2"); set by --emb.
EMB: dict[str, Any] = {}


def _emb() -> dict[str, Any]:
    if "model" not in EMB:
        from cv_embed import build, texts

        from bot.dataload import load_yaml
        from bot.understand.normalize import Normalizer
        norm = Normalizer(load_yaml(ROOT / "dialogs", "normalize.yaml"))
        kind, ctx, dim, k, mc, win = EMB["spec"].split(",")
        EMB["model"] = build([norm(t).text for t in texts()], kind, ctx, int(dim), int(k), int(mc), int(win))
    return EMB["model"]


def _units(text: str) -> list[str]:
    kind = _emb()["kind"]
    if kind == "w":
        from cv_embed import words
        return words(text)
    two = [text[i:i + 2] for i in range(len(text) - 1)]
    return list(text) if kind == "c1" else two if kind == "c2" else list(text) + two


def clu(text: str) -> list[str]:
    """The cluster ids of the message's units (a bag)."""
    c = _emb()["cluster"]
    return list({f"\x10{c[u]}" for u in _units(text) if u in c})


def clu2(text: str) -> list[str]:
    """Cluster ids and the bigrams of consecutive units' cluster ids (a word-class sequence)."""
    c = _emb()["cluster"]
    seq = [c[u] for u in _units(text) if u in c]
    kind = _emb()["kind"]
    step = 2 if kind == "c2" else 1  # bigram units overlap: the next non-overlapping one is 2 on
    out = {f"\x10{a}" for a in seq} | {f"\x11{a}_{b}" for a, b in zip(seq, seq[step:], strict=False)}
    return list(out)


def cluseq(text: str) -> list[str]:
    """Bigrams of the cluster-id sequence only (ids alone not added)."""
    c = _emb()["cluster"]
    seq = [c[u] for u in _units(text) if u in c]
    step = 2 if _emb()["kind"] == "c2" else 1
    return list({f"\x11{a}_{b}" for a, b in zip(seq, seq[step:], strict=False)})


def jw(text: str) -> list[str]:
    """jieba's words of two or more characters (shorter ones are the character n-grams)."""
    from cv_embed import words
    return list({f"\x13{w}" for w in words(text) if len(w) >= 2})


def jwb(text: str) -> list[str]:
    """jieba's word bigrams (with begin/end)."""
    from cv_embed import words
    ws = ["\x02", *words(text), "\x03"]
    return list({f"\x14{a}_{b}" for a, b in itertools.pairwise(ws)})


ADDERS.update(clu=clu, clu2=clu2, cluseq=cluseq, jw=jw, jwb=jwb)


def dense(text: str) -> dict[str, float]:
    """The mean unit vector, scaled by KNOBS["dense"] (an L2 norm of that)."""
    import numpy as np
    v = _emb()["vec"]
    got = [v[u] for u in _units(text) if u in v]
    if not got:
        return {}
    m = np.mean(got, axis=0)
    m = m / max(float(np.linalg.norm(m)), 1e-9) * KNOBS["dense"]
    return {f"\x12{i}": float(x) for i, x in enumerate(m)}


# Case entities masked before any feature (--mask): order ids and phone numbers, the agent's
# name (客服小周), a buyer's surname before a title (张女士), shop names (…旗舰店).
_MASKS = [(re.compile(r"\d{3,}"), "\ue010"),
          (re.compile(r"(客服|我是)小[\u4e00-\u9fff](?![姐时])"), "\\1\ue011"),
          (re.compile(r"(?<![一个位这那])[赵钱孙李周吴郑王冯陈卫蒋沈韩杨朱秦许何吕张孔曹严金魏陶姜谢邹苏潘葛范彭鲁马方任袁柳"
                      r"唐薛雷贺倪汤殷罗毕郝安常于傅齐康伍余顾孟黄穆萧尹姚邵汪祁毛狄戴宋庞熊纪舒屈项祝董梁杜阮蓝闵季贾路"
                      r"江童颜郭梅盛林钟徐邱骆高夏蔡田樊胡凌霍虞万柯卢莫房缪解应宗丁宣邓杭洪包左石崔龚程邢裴陆荣翁刘叶白"
                      r"孟](先生|女士|小姐|阿姨|姐|哥)"), "\ue012\\1"),
          (re.compile(r"[\u4e00-\u9fff]{2,6}(旗舰店|专营店|专卖店)"), "\ue013")]


def mask(text: str) -> str:
    for rx, to in _MASKS:
        text = rx.sub(to, text)
    return text


KNOBS: dict[str, Any] = {"xval": 1.0, "npow": 0.5, "dropw": 1.0, "drop": "all"}


def make_x(text: str, extras: list[str], adds: list[str], separate: bool) -> dict[str, float]:
    if KNOBS.get("mask"):
        text = mask(text)
    x = features(text, extras, with_shape=True)
    if KNOBS["xval"] != 1.0 or KNOBS["npow"] != 0.5:
        n = sum(1 for g in x if not g.startswith("\x01"))
        x = {g: (KNOBS["xval"] if g.startswith("\x01") else n ** -KNOBS["npow"]) for g in x}
    if KNOBS.get("dense"):
        x.update(dense(text))
    more = [k for a in adds for k in ADDERS[a](text)]
    if not more:
        return x
    if separate:  # the extra block at its own unit length
        v = 1.0 / len(more) ** 0.5
        x.update(dict.fromkeys(more, v))
        return x
    grams = [g for g in x if not g.startswith("\x01")]
    allg = list(dict.fromkeys(grams + more))
    v = 1.0 / len(allg) ** 0.5
    out = dict.fromkeys(allg, v)
    out.update({g: 1.0 for g in x if g.startswith("\x01")})
    return out


def augment(xs: list[dict[str, float]], ys: list[int]) -> tuple[list[dict[str, float]], list[int]]:
    mode = KNOBS["drop"]
    if mode == "all":
        return _augment(xs, ys, True)
    keep = {"noverdicts": ("\x01si:", "\x01sc:", "\x01se:", "\x01hi:", "\x01hc:", "\x01he:"),
            "nocues": ("\x01ri:", "\x01rc:", "\x01re:")}
    out, oy = list(xs), list(ys)
    for m in mode.split("+"):
        if m == "all":
            out += [{g: v for g, v in x.items() if not g.startswith("\x01")} for x in xs]
        elif m == "ngrams":
            out += [{g: v for g, v in x.items() if g.startswith("\x01")} for x in xs]
        else:  # drop the other kind of extras, keep these
            out += [{g: v for g, v in x.items() if not g.startswith("\x01") or g.startswith(keep[m])} for x in xs]
        oy += ys
    return out, oy


def nb_fit(xs: list[dict[str, float]], ys: list[int], classes: tuple[str, ...], c: float, min_count: int,
           balance: float, mode: str, alpha: float = 1.0) -> tuple[list[str], list[list[float]], list[float]]:
    """NB-LR (Wang & Manning 2012): features scaled by naive Bayes log-count ratios.

    nbovr: one binary logistic regression per class on x * r_c; logit_c = (w_c * r_c) . x + b_c.
    nbscale: one multinomial fit on x * s, s = max_c |r_c| (a class-free scale), weights w * s.
    Either way the run-time model stays linear in x: the scaling folds into the weights."""
    import numpy as np
    from scipy.sparse import diags
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    from bot.learned.train import _matrix, _vocab, class_weights

    vocab = _vocab(xs, min_count)
    x = _matrix(xs, {g: i for i, g in enumerate(vocab)})
    xb = (x > 0).astype(np.float64)
    y = np.array(ys)
    k = len(classes)
    r = np.zeros((k, len(vocab)))
    for j in range(k):
        pos = np.asarray(xb[y == j].sum(axis=0)).ravel() + alpha
        neg = np.asarray(xb[y != j].sum(axis=0)).ravel() + alpha
        r[j] = np.log(pos / pos.sum()) - np.log(neg / neg.sum())
    cols: list[np.ndarray] = []
    bias: list[float] = []
    with threadpool_limits(1):
        if mode == "nbovr":
            for j in range(k):
                yy = (y == j).astype(int)
                if yy.sum() == 0:
                    cols.append(np.zeros(len(vocab)))
                    bias.append(-30.0)
                    continue
                lr = LogisticRegression(C=c, solver="newton-cg", max_iter=500)
                lr.fit(x @ diags(r[j]), yy)
                cols.append(lr.coef_[0] * r[j])
                bias.append(float(lr.intercept_[0]))
        else:
            s = np.abs(r).max(axis=0) if mode == "nbscale" else np.sqrt(np.abs(r).max(axis=0))
            lr = LogisticRegression(C=c, solver="newton-cg", max_iter=500, class_weight=class_weights(ys, balance))
            lr.fit(x @ diags(s), ys)
            present = sorted(set(ys))
            by = dict(zip(present, zip(lr.coef_, lr.intercept_, strict=True), strict=True))
            for j in range(k):
                w, b = by.get(j, (np.zeros(len(vocab)), -30.0))
                cols.append(w * s)
                bias.append(float(b))
    rows = np.array(cols).T.tolist()
    return vocab, rows, bias


def cv(data: dict[str, Any], family: str, adds: list[str], c: float, separate: bool, min_count: int,
       prune: float, balance: float | None, k: int = 5, nb: str = "") -> float:
    classes = data["fam"][family]
    rows = data["rows"]
    gold = _targets([str(r[family]) if r[family] is not None else "none" for r in rows], "multiclass", classes)
    xs = [make_x(t, e, adds, separate) for t, e in zip(data["norm"], data["extras"], strict=True)]
    bal = SETTINGS["balance"].get(family, 0.0) if balance is None else balance
    if KNOBS.get("joint"):
        oofs = pickle.loads(Path("/tmp/cv_oof.pkl").read_bytes())
        for fam in KNOBS["joint"].split(","):
            if fam == family:
                continue
            cl = data["fam"][fam]
            for x, z in zip(xs, oofs[fam], strict=True):
                if KNOBS.get("jprob"):
                    from bot.learned.linear import softmax
                    for j, q in enumerate(softmax(z)):
                        x[f"\x01p{fam[0]}:{cl[j]}"] = q
                else:
                    x[f"\x01m{fam[0]}:{cl[max(range(len(z)), key=z.__getitem__)]}"] = 1.0
    right = 0
    logits: list[list[float]] = [[] for _ in rows]
    ext = data.get("extra")
    if ext:
        egold = _targets([str(r[family]) if r.get(family) is not None else "none" for r in ext["rows"]],
                         "multiclass", classes)
        exs = [make_x(t, e, adds, separate) for t, e in zip(ext["norm"], ext["extras"], strict=True)]
    for part in folds(len(rows), k, data["groups"]):
        held = set(part)
        tr = [i for i in range(len(rows)) if i not in held]
        trx, tryy = [xs[i] for i in tr], [gold[i] for i in tr]
        if ext:
            bad = {ext["corpus_groups"][i] for i in part}
            use = [j for j, g in enumerate(ext["groups"]) if g not in bad]
            trx += [exs[j] for j in use]
            tryy += [egold[j] for j in use]
        txs, tys = augment(trx, tryy)
        if nb:
            vocab, wrows, bias = nb_fit(txs, tys, classes, c, min_count, bal, nb)
        else:
            vocab, wrows, bias = _fit(txs, tys, "multiclass", classes, c, min_count, bal)
        vocab, wrows = _prune(vocab, wrows, prune)
        for i, z in zip(part, _logits([xs[i] for i in part], vocab, wrows, bias), strict=True):
            logits[i] = z
            right += max(range(len(z)), key=z.__getitem__) == gold[i]
    if KNOBS.get("save"):
        store = pickle.loads(Path(KNOBS["save"]).read_bytes()) if Path(KNOBS["save"]).is_file() else {}
        store[family] = logits
        Path(KNOBS["save"]).write_bytes(pickle.dumps(store))
    return right / len(rows)


def _acc(logits: list[list[float]], gold: list[int], off: list[float]) -> float:
    right = 0
    for z, g in zip(logits, gold, strict=True):
        zz = [a + b for a, b in zip(z, off, strict=True)]
        right += max(range(len(zz)), key=zz.__getitem__) == g
    return right / len(gold)


def _tune_bias(logits: list[list[float]], gold: list[int], k: int) -> list[float]:
    """Per-class offsets (−1.5…1.5) that maximise accuracy, two coordinate sweeps."""
    off = [0.0] * k
    best = _acc(logits, gold, off)
    for _ in range(2):
        for j in range(k):
            for step in range(-15, 16):
                o = list(off)
                o[j] = step / 10
                a = _acc(logits, gold, o)
                if a > best + 1e-9:
                    best, off = a, o
    return off


def saved(data: dict[str, Any], files: list[str], bias: bool) -> None:
    """Saved out-of-fold logits: the average of several files, or (bias) per-class offsets
    tuned on four folds' logits and scored on the fifth."""
    oofs = [pickle.loads(Path(f).read_bytes()) for f in files]
    parts = folds(len(data["rows"]), 5, data["groups"])
    for fam in ("intent", "cause", "emotion"):
        if not all(fam in o for o in oofs):
            continue
        classes = data["fam"][fam]
        gold = _targets([str(r[fam]) if r[fam] is not None else "none" for r in data["rows"]], "multiclass", classes)
        zero = [0.0] * len(classes)
        logits = [[sum(v) / len(v) for v in zip(*zs, strict=True)] for zs in zip(*(o[fam] for o in oofs), strict=True)]
        each = " ".join(f"{_acc(o[fam], gold, zero):.4f}" for o in oofs)
        line = f"{fam}: {each} → 平均 {_acc(logits, gold, zero):.4f}"
        if bias:
            right = 0.0
            for part in parts:
                held = set(part)
                tr = [i for i in range(len(gold)) if i not in held]
                off = _tune_bias([logits[i] for i in tr], [gold[i] for i in tr], len(classes))
                right += _acc([logits[i] for i in part], [gold[i] for i in part], off) * len(part)
            line += f"，调偏置（嵌套）{right / len(gold):.4f}"
        print(line)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("variants", nargs="+", help="base, or adders joined by +, e.g. skip+lexclass")
    ap.add_argument("--families", default="intent,cause,emotion")
    ap.add_argument("--c", type=float, default=64.0)
    ap.add_argument("--min-count", type=int, default=SETTINGS["min_count"])
    ap.add_argument("--prune", type=float, default=SETTINGS["prune"])
    ap.add_argument("--balance", type=float, default=None)
    ap.add_argument("--separate", action="store_true")
    ap.add_argument("--save", default="")
    ap.add_argument("--saved", action="store_true", help="variants are files of saved logits: average them")
    ap.add_argument("--tune-bias", action="store_true", help="with --saved: per-class offsets, nested")
    ap.add_argument("--joint", default="")
    ap.add_argument("--jprob", action="store_true")
    ap.add_argument("--xval", type=float, default=1.0)
    ap.add_argument("--npow", type=float, default=0.5)
    ap.add_argument("--drop", default="all", help="all | all+nocues | all+noverdicts | all+ngrams")
    ap.add_argument("--nb", default="", help="nbovr | nbscale | nbsqrt")
    ap.add_argument("--mask", action="store_true", help="mask case entities before the features")
    ap.add_argument("--extra-train", default="", help="comma-separated labelled buyer files, never held out")
    ap.add_argument("--emb", default="c2,win,64,200,3,2", help="kind,ctx,dim,k,min_count,window")
    ap.add_argument("--dense", type=float, default=0.0, help="add the mean unit vector at this norm")
    args = ap.parse_args()
    data = load()
    if args.extra_train:
        data["extra"] = load_extra(args.extra_train.split(","), data)
        print(f"extra rows: {len(data['extra']['rows'])}", flush=True)
    if args.saved:
        saved(data, args.variants, args.tune_bias)
        return 0
    EMB["spec"] = args.emb
    KNOBS.update(mask=args.mask, dense=args.dense)
    KNOBS.update(save=args.save, joint=args.joint, jprob=args.jprob, xval=args.xval, npow=args.npow, drop=args.drop)
    for v in args.variants:
        adds = [] if v == "base" else v.split("+")
        out = []
        for f in args.families.split(","):
            acc = cv(data, f, adds, args.c, args.separate, args.min_count, args.prune, args.balance, nb=args.nb)
            out.append(f"{f} {acc:.4f}")
        joint = args.joint + ("p" if args.jprob else "")
        emb = f" emb={args.emb} dense={args.dense}" if args.dense or any(a.startswith("clu") for a in adds) else ""
        emb += " mask" if args.mask else ""
        print(f"{v:<24}{emb} {args.nb} x={args.xval} p={args.npow} d={args.drop} j={joint} C={args.c:g} "
              f"mc={args.min_count} prune={args.prune} sep={args.separate}  " + "  ".join(out), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
