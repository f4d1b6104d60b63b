"""Same seed and same replies give the same transcript, byte for byte, whatever PYTHONHASHSEED."""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from bot.engine import Engine
from bot.paths import dialogs_dir
from bot.training.persona import find_persona
from bot.training.rubric import load_rubric
from bot.training.session import Session, run_scripted
from bot.training.transcript import TranscriptFiles

ROOT = Path(__file__).resolve().parent.parent
TRAINEES = Path(__file__).parent / "data" / "trainees"
DIALOGS = dialogs_dir()


def _lines(name: str) -> list[str]:
    text = (TRAINEES / name).read_text(encoding="utf-8")
    return [ln for ln in text.splitlines() if ln.strip()]


def _record(
    engine: Engine, folder: Path, persona: str, seed: int, lines: list[str]
) -> tuple[bytes, bytes]:
    rubric = load_rubric(DIALOGS)
    session = Session(engine, find_persona(DIALOGS, persona), rubric, seed)
    files = TranscriptFiles(folder, persona, seed, stamp="fixed")
    session.add_sink(files.write)
    run_scripted(session, lines)
    files.close(rubric.rubric.labels)
    return files.jsonl.read_bytes(), files.markdown.read_bytes()


@pytest.mark.parametrize("persona", ["slow_delivery_first_time", "pro_bad_reviewer",
                                     "keeps_review_experienced"])
def test_same_seed_same_bytes(engine: Engine, persona: str, tmp_path: Path) -> None:
    lines = _lines(f"{persona}.poor.txt") + _lines(f"{persona}.good.txt")
    random.seed(1)  # the global generator must not matter
    first = _record(engine, tmp_path / "a", persona, 11, lines)
    random.seed(999)
    random.random()
    second = _record(engine, tmp_path / "b", persona, 11, lines)
    assert first == second
    assert b'"seed": 11' in first[0].splitlines()[0]


def test_the_seed_matters(engine: Engine, tmp_path: Path) -> None:
    lines = _lines("slow_delivery_first_time.good.txt")
    runs = {_record(engine, tmp_path / str(s), "slow_delivery_first_time", s, lines)[0]
            .split(b"\n", 1)[1] for s in range(1, 7)}
    assert len(runs) > 1, "different seeds pick different phrasings"


def test_header_pins_persona_rubric_seed_and_versions(engine: Engine, tmp_path: Path) -> None:
    jsonl, md = _record(engine, tmp_path, "busy_office_worker", 3,
                        _lines("busy_office_worker.good.txt"))
    head = json.loads(jsonl.splitlines()[0])
    persona_file = DIALOGS / "personas" / "busy_office_worker.yaml"
    assert head["type"] == "header"
    # the persona's own file, then the common part every persona shares
    common = persona_file.parent / "_common.yaml"
    assert head["persona_sha256"] == hashlib.sha256(
        persona_file.read_bytes() + common.read_bytes()).hexdigest()
    rubric_bytes = (DIALOGS / "rubric.yaml").read_bytes()
    assert head["rubric_sha256"] == hashlib.sha256(rubric_bytes).hexdigest()
    assert head["seed"] == 3
    assert set(head["versions"]) == {"csbot", "training", "script", "data"}
    assert head["persona_sha256"].encode() in md and head["versions"]["script"].encode() in md
    last = json.loads(jsonl.splitlines()[-1])
    assert last["type"] == "scorecard" and last["total"] >= 85


def _cli_run(out: Path, hashseed: str, replies: Path) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "PYTHONHASHSEED": hashseed}
    env.pop("CSBOT_DIALOGS", None)
    return subprocess.run(
        [sys.executable, "-m", "bot", "train", "--persona", "wrong_item_first_time",
         "--seed", "5", "--replies", str(replies), "--out", str(out)],
        cwd=ROOT, env=env, capture_output=True, check=True, timeout=120)


def test_byte_identical_across_processes_and_hash_seeds(tmp_path: Path) -> None:
    replies = tmp_path / "replies.txt"
    replies.write_text("\n".join(_lines("wrong_item_first_time.poor.txt")[:3]
                                 + _lines("wrong_item_first_time.good.txt")) + "\n",
                       encoding="utf-8")
    a = _cli_run(tmp_path / "a", "0", replies)
    b = _cli_run(tmp_path / "b", "4242", replies)
    assert a.stdout == b.stdout
    for ext in ("jsonl", "md"):
        (fa,) = sorted((tmp_path / "a").glob(f"*.{ext}"))
        (fb,) = sorted((tmp_path / "b").glob(f"*.{ext}"))
        assert fa.read_bytes() == fb.read_bytes(), ext
