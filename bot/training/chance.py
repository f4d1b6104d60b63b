"""Reproducible randomness: one generator per (seed, turn, purpose), never the global one.

Deriving each generator from a hash means a choice does not depend on how many random
numbers were drawn before it, nor on PYTHONHASHSEED or the Python version.
"""

from __future__ import annotations

import hashlib
import random


def rng(seed: int, turn: int, purpose: str) -> random.Random:
    """A generator for one decision, seeded from sha256 of ``seed:turn:purpose``."""
    digest = hashlib.sha256(f"{seed}:{turn}:{purpose}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def pick(options: list[str], seed: int, turn: int, purpose: str) -> str:
    """One of ``options`` (in their given order), chosen reproducibly."""
    if not options:
        raise ValueError("nothing to pick from")
    return options[rng(seed, turn, purpose).randrange(len(options))]
