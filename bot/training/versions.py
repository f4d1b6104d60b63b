"""Digests that pin a transcript to the data it was produced with."""

from __future__ import annotations

import hashlib
from pathlib import Path


def data_digest(dialogs: Path) -> str:
    """sha256 of the engine's data files (lexicons, guard, script…), personas and rubric aside.

    Those two have their own hashes in the header; the rest decides how the engine reads
    the trainee's replies, so a score is reproducible only with the same digest.
    """
    h = hashlib.sha256()
    for p in sorted(dialogs.rglob("*.yaml"), key=lambda q: q.relative_to(dialogs).as_posix()):
        rel = p.relative_to(dialogs).as_posix()
        if rel == "rubric.yaml" or rel.startswith("personas/"):
            continue
        h.update(rel.encode())
        h.update(b"\0")
        h.update(p.read_bytes())
    return h.hexdigest()
