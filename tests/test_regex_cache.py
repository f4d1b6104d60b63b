"""The lexicons' compiled regexes come from a cache file once a first run wrote it: made
from the cached code, a pattern is the same pattern and matches the same."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.understand import regex_cache
from tests.conftest import DATA, read_jsonl
from tests.test_lexicon_compile import _lexicon_patterns, _naive

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh cache in its own folder (the module's state is put back afterwards)."""
    monkeypatch.setenv("CSBOT_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("CSBOT_REGEX_CACHE", raising=False)
    monkeypatch.setattr(regex_cache, "_CACHE", regex_cache._Cache())
    return tmp_path


def _files(folder: Path) -> list[Path]:
    return sorted(folder.glob("regex-*.marshal"))


def test_a_pattern_from_cached_code_is_the_pattern_re_compiles(cache: Path) -> None:
    from bot.understand.alternation import compile_lexicon, factor

    sources = [compile_lexicon(factor([_naive(a, cues) for a in alts])).pattern
               for _, alts, cues in _lexicon_patterns()]
    sources += [r"(?P<x>好)(?P=x)", r"(好|差)\1", r"[^退]款.{0,3}?$"]
    regex_cache.forget()  # written; the next cache reads the file
    regex_cache._CACHE = regex_cache._Cache()
    texts = [row["text"] for row in read_jsonl(DATA / "guard_dev.jsonl")][:300]
    for source in sources:
        cached, fresh = regex_cache.compile(source), re.compile(source)
        assert (cached.pattern, cached.flags, cached.groups, cached.groupindex) == \
            (fresh.pattern, fresh.flags, fresh.groups, fresh.groupindex)
        for text in texts:
            a, b = cached.search(text), fresh.search(text)
            assert (a and (a.span(), a.groups())) == (b and (b.span(), b.groups())), (source, text)
    assert regex_cache.hits() == len(sources) - 3  # the three made here were not in the file
    assert len(sources) > 150


def test_a_second_process_reads_what_the_first_wrote(tmp_path: Path) -> None:
    env = {**os.environ, "CSBOT_CACHE_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    env.pop("CSBOT_REGEX_CACHE", None)
    code = ("from bot.understand import regex_cache; from bot.engine import Engine; Engine.load(); "
            "print(regex_cache.hits())")

    def run() -> int:
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                             check=True, timeout=120)
        return int(out.stdout.strip())

    first = run()  # an empty cache: only patterns compiled twice in the process hit
    assert len(_files(tmp_path)) == 1
    written = _files(tmp_path)[0].stat().st_mtime_ns
    assert run() > first + 150
    assert _files(tmp_path)[0].stat().st_mtime_ns == written  # nothing new: not written again


def test_a_garbled_cache_file_is_ignored_and_written_anew(cache: Path) -> None:
    regex_cache.compile("退款")
    regex_cache.forget()
    (path,) = _files(cache)
    path.write_bytes(b"\x00not marshal at all")
    regex_cache._CACHE = regex_cache._Cache()
    assert regex_cache.compile("退款").search("我要退款") is not None
    regex_cache.forget()
    regex_cache._CACHE = regex_cache._Cache()
    regex_cache.compile("退款")
    assert regex_cache.hits() == 1


def test_the_cache_can_be_turned_off(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CSBOT_REGEX_CACHE", "0")
    assert regex_cache.compile("退款").search("退款") is not None
    regex_cache.forget()
    assert _files(cache) == []


def test_after_start_up_the_cache_holds_nothing_read_and_still_adds(cache: Path) -> None:
    for pattern in ("退款", "返现"):
        regex_cache.compile(pattern)
    regex_cache.forget()  # as Engine.load does once its models are built
    assert regex_cache._CACHE.entries == {}  # the file's megabytes are not kept
    regex_cache.compile("好评")  # compiled later: compiled, and added to the file
    regex_cache.forget()
    regex_cache._CACHE = regex_cache._Cache()
    for pattern in ("退款", "返现", "好评"):
        regex_cache.compile(pattern)
    assert regex_cache.hits() == 3
