"""Turn hand-written lines into corpus JSONL, dropping near copies before the split.

A new line is dropped when, after csbot's normalisation, it equals or is close to (character-bigram
Jaccard >= 0.5) a line already in the corpus (either half), a dev-set line, or another new line.
The held-out half is compared by program only: a dropped line is reported with the half it
collided with, never with the held-out text. Then add the kept lines with `python -m bot.corpus split`.

Source format, one line each (`#` starts a comment):

    buyer: text|intent|cause or -|emotion[|intent,intent…]
    agent: text|act,act…[|finding,finding…]        (blame_buyer adds the blame finding)

    python scripts/corpus_new.py buyer new_buyer.jsonl src/*.txt
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.understand.pipeline import Understander  # noqa: E402

ACTS = ("greet_identify", "introduce", "confirm_product", "apologize", "empathize", "ask_detail", "explain",
        "offer_remedy", "request_review", "guide_review", "thank", "close", "blame_buyer")
CLOSE = 0.5


def parse(role: str, line: str) -> dict[str, object]:
    p = line.split("|")
    if role == "buyer":
        row: dict[str, object] = {"text": p[0], "intent": p[1], "cause": None if p[2] == "-" else p[2],
                                  "emotion": p[3]}
        if len(p) > 4 and p[4]:
            row["intents"] = p[4].split(",")
        return row
    acts = [a for a in p[1].split(",") if a]
    unknown = [a for a in acts if a not in ACTS]
    if unknown:
        raise SystemExit(f"不认识的动作 {unknown}：{line}")
    findings = [f for f in (p[2].split(",") if len(p) > 2 else []) if f]
    if "blame_buyer" in acts and "blame" not in findings:
        findings.append("blame")
    return {"text": p[0], "acts": sorted(acts, key=ACTS.index), "findings": findings}


def main(argv: list[str]) -> int:
    role, out, sources = argv[0], Path(argv[1]), argv[2:]
    u = Understander(ROOT / "dialogs", mode="rules")

    def key(text: str) -> str:
        k = re.sub(r"[^\w]+", "", u.normalize(text).text)
        return re.sub(r"[哈呢啦嘛亲呀啊吧哦滴]+$", "", k) or k or text

    def grams(text: str) -> set[str]:
        s = re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", u.normalize(text).text))
        return {s[i:i + 2] for i in range(len(s) - 1)} or {s}

    old: list[tuple[str, str]] = []
    for where, path in (("train", ROOT / "dialogs/corpus/train" / f"{role}.jsonl"),
                        ("heldout", ROOT / "dialogs/corpus/heldout" / f"{role}.jsonl"),
                        ("dev", ROOT / "tests/data" / f"{role}_dev.jsonl")):
        old += [(where, json.loads(t)["text"]) for t in path.read_text(encoding="utf-8").splitlines() if t.strip()]
    old_keys = {key(t): where for where, t in old}
    old_grams = [(where, grams(t)) for where, t in old]
    index: dict[str, list[int]] = {}
    for i, (_, g) in enumerate(old_grams):
        for b in g:
            index.setdefault(b, []).append(i)

    kept: list[dict[str, object]] = []
    kept_grams: list[tuple[str, set[str]]] = []
    dropped: list[tuple[str, str]] = []
    for src in sources:
        for line in Path(src).read_text(encoding="utf-8").splitlines():
            if not line.strip() or line.startswith("#"):
                continue
            row = parse(role, line)
            text = str(row["text"])
            g = grams(text)
            if key(text) in old_keys:
                dropped.append((text, f"规范化后与{old_keys[key(text)]}里的一句相同"))
                continue
            shared = Counter(i for b in g for i in index.get(b, ()))
            near = [old_grams[i][0] for i, n in shared.items() if n / (len(g) + len(old_grams[i][1]) - n) >= CLOSE]
            if near:
                dropped.append((text, f"与{near[0]}里的一句太像"))
                continue
            mine = [t for t, kg in kept_grams if len(g & kg) / len(g | kg) >= CLOSE]
            if mine:
                dropped.append((text, f"与新句子“{mine[0]}”太像"))
                continue
            kept_grams.append((text, g))
            kept.append(row)
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in kept), encoding="utf-8")
    print(f"保留 {len(kept)} 条，丢掉 {len(dropped)} 条")
    for text, why in dropped:
        print(f"  丢掉 {text}（{why}）")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
