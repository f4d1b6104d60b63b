"""What differs in the fast loop (docs/testing.md), kept apart from the engine's imports: the
main process of a run on workers reads it before any worker starts."""

from __future__ import annotations

# True in the fast loop (conftest.py's pytest_configure): property tests take fewer examples.
FAST_LOOP = False


def examples(n: int) -> int:
    """A property test's examples: all ``n`` in the full suite, a quarter in the fast loop
    (Hypothesis replays a failure it saved before any new example, in either)."""
    return max(n // 4, 50) if FAST_LOOP else n
