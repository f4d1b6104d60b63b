"""The lexicons' compiled regexes, kept on disk between runs.

Compiling the lexicons was most of a command's start-up (`csbot lint` spent 130 ms of its
guard's 185 ms in ``re.compile``): ``re`` parses tens of kilobytes of alternations and
generates their code again in every process. That code depends only on the pattern and on
the regex engine, so it is kept in a file under the user's cache folder, one per engine
(``_sre.MAGIC``) and Python version. A pattern found there is made from its code at once;
one that is not is compiled as ``re`` would and added to the file (when start-up is done,
or when the process ends).

The file holds plain lists, dicts and strings written with ``marshal``, which runs nothing
when read; a file that cannot be read is ignored and written anew. ``CSBOT_CACHE_DIR`` moves
the folder, ``CSBOT_REGEX_CACHE=0`` turns the cache off (then this is ``re.compile``).
"""

from __future__ import annotations

import _sre  # type: ignore[import-not-found]
import atexit
import contextlib
import marshal
import os
import re
import re._compiler as sre_compile  # type: ignore[import-not-found]
import re._parser as sre_parse  # type: ignore[import-not-found]
import sys
import tempfile
from pathlib import Path
from typing import Any

_MAX_ENTRIES = 4096  # past this, only what this process used is kept
# (flags, code, groups, groupindex, indexgroup): the arguments re gives _sre.compile
_Entry = tuple[int, list[int], int, dict[str, int], tuple[str | None, ...]]


class _Cache:
    def __init__(self) -> None:
        self.entries: dict[str, _Entry] | None = None  # read on first use, emptied by forget()
        self.new: dict[str, _Entry] = {}
        self.used: set[str] = set()
        self.hits = 0

    @property
    def path(self) -> Path:
        root = os.environ.get("CSBOT_CACHE_DIR") or os.path.join(
            os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "csbot")
        return Path(root) / f"regex-{sys.implementation.cache_tag}-{_sre.MAGIC}.marshal"

    def read(self) -> dict[str, _Entry]:
        with contextlib.suppress(OSError, ValueError, EOFError, TypeError):
            data = marshal.loads(self.path.read_bytes())
            if isinstance(data, dict):
                return data
        return {}

    def lookup(self, pattern: str) -> _Entry | None:
        if self.entries is None:
            self.entries = self.read()
        self.used.add(pattern)
        return self.new.get(pattern) or self.entries.get(pattern)

    def save(self) -> None:
        if not self.new:
            return
        entries = {**self.read(), **self.new}  # what other processes wrote meanwhile stays
        if len(entries) > _MAX_ENTRIES:
            entries = {k: v for k, v in entries.items() if k in self.used}
        path = self.path
        with contextlib.suppress(OSError):
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".regex-")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(marshal.dumps(entries))
                os.replace(tmp, path)  # whole or not at all, whoever else writes it
            finally:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
        self.new = {}


_CACHE = _Cache()
atexit.register(_CACHE.save)


def compile(pattern: str) -> re.Pattern[str]:  # re's own name, on purpose
    """``re.compile(pattern)``, from the cached code when there is some."""
    if os.environ.get("CSBOT_REGEX_CACHE") == "0":
        return re.compile(pattern)
    entry = _CACHE.lookup(pattern)
    if entry is not None:
        try:
            compiled = _sre.compile(pattern, *entry)
        except Exception:  # a stale or garbled entry: compile it again
            pass
        else:
            _CACHE.hits += 1
            return compiled  # type: ignore[no-any-return]
    entry = _CACHE.new[pattern] = _entry(pattern)
    return _sre.compile(pattern, *entry)  # type: ignore[no-any-return]


def forget() -> None:
    """Write what this process added and free the cache's memory (once start-up is done;
    a long-running process would otherwise keep megabytes of code it has used)."""
    _CACHE.save()
    _CACHE.entries = {}  # not read again: what is compiled later is compiled and added
    _CACHE.used.clear()


def _entry(pattern: str) -> _Entry:
    # What re._compiler.compile hands _sre.compile (the same in Python 3.11, 3.12 and 3.13,
    # checked; each version has its own file, and an entry _sre.compile refuses is compiled afresh).
    parsed: Any = sre_parse.parse(pattern, 0)
    code = sre_compile._code(parsed, 0)
    groupindex = dict(parsed.state.groupdict)
    indexgroup: list[str | None] = [None] * parsed.state.groups
    for name, i in groupindex.items():
        indexgroup[i] = name
    # Plain ints: re's opcodes are an int subclass, which marshal does not write.
    return (int(parsed.state.flags), [int(c) for c in code], parsed.state.groups - 1,
            {k: int(v) for k, v in groupindex.items()}, tuple(indexgroup))


def hits() -> int:
    """How many patterns this process made from cached code."""
    return _CACHE.hits


__all__ = ["compile", "forget", "hits"]
