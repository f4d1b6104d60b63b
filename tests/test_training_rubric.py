"""The rubric is data: a lead changes weights and the pass mark without touching code."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from bot.engine import Engine
from bot.labels import bundled
from bot.paths import dialogs_dir
from bot.training.facts import (
    BUYER_GAVE_UP,
    BUYER_PRESSED,
    BUYER_WAITING,
    NAME_FACTS,
    NAMES_PROBLEM,
    OFFER_AFTER_REQUEST,
    REVIEW_REFUSED,
    TIED_TO_REMEDY,
)
from bot.training.grader import Scorecard
from bot.training.match import Match
from bot.training.persona import find_persona, load_personas
from bot.training.rubric import load_rubric
from bot.training.session import Session, run_scripted
from tests.shared import dump_yaml, load_yaml_text

ACTS, CODES = bundled().acts, bundled().codes

DIALOGS = dialogs_dir()
TRAINEES = Path(__file__).parent / "data" / "trainees"


def _lines(name: str) -> list[str]:
    return [ln for ln in (TRAINEES / name).read_text(encoding="utf-8").splitlines() if ln.strip()]


def _matches(obj: object) -> list[Match]:
    """Every Match inside a loaded model."""
    out: list[Match] = []
    if isinstance(obj, Match):
        return [obj]
    if isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            out += _matches(getattr(obj, name))
    elif isinstance(obj, dict):
        for v in obj.values():
            out += _matches(v)
    elif isinstance(obj, list):
        for v in obj:
            out += _matches(v)
    return out


def test_every_signal_and_stage_named_in_the_data_exists(engine: Engine) -> None:
    rubric = load_rubric(DIALOGS).rubric
    notes = list(engine.policy.notes)
    signals = set(ACTS) | set(CODES) | set(notes) | set(rubric.facts) | set(NAME_FACTS) \
        | {REVIEW_REFUSED, NAMES_PROBLEM, TIED_TO_REMEDY, OFFER_AFTER_REQUEST}
    stages = set(engine.script.stages)
    models: list[object] = [rubric, *(pf.persona for pf in load_personas(DIALOGS))]
    for model in models:
        # buyer_pressed is what the buyer made of a reply: known to the rubric only, a
        # persona cannot wait for its own answer
        known = signals | {BUYER_PRESSED, BUYER_WAITING, BUYER_GAVE_UP} if model is rubric else signals
        for m in _matches(model):
            for s in m.any + m.all + m.none:
                assert s in known, s
            for st in m.stage_in + m.stage_after_in:
                assert st in stages, st
    for pf in load_personas(DIALOGS):
        p = pf.persona
        for s in [*p.softeners, *p.hardeners, *(w for r in p.reactions for w in r.when)]:
            assert s in signals, (p.id, s)
        for rid in p.goal.accepts:
            assert rid in engine.remedies.remedies and rid in rubric.remedy_cues, rid
    for stage in rubric.stages:
        assert stage.id in stages
    assert set(rubric.next_step) <= stages


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "dialogs"
    shutil.copytree(DIALOGS, folder)
    return folder


def _edit_rubric(folder: Path, change: Callable[[dict[str, Any]], object]) -> None:
    path = folder / "rubric.yaml"
    data = load_yaml_text(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(dump_yaml(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _score(engine: Engine, folder: Path, persona: str, trainee: str) -> Scorecard:
    session = Session(engine, find_persona(folder, persona), load_rubric(folder), 1)
    return run_scripted(session, _lines(trainee))


def test_pass_mark_and_weights_come_from_the_file(engine: Engine, tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    before = _score(engine, folder, "keeps_review_experienced", "keeps_review_experienced.poor.txt")

    def lenient(d: dict[str, Any]) -> None:
        d["pass_mark"] = 10
        for stage in d["stages"]:
            if stage["id"] == "polite_request":
                for c in stage["checks"]:
                    c["weight"] = 0
        d["violations"]["repeat_request"]["penalty"] = 0
        d["violations"]["pressure"]["penalty"] = 0

    _edit_rubric(folder, lenient)
    after = _score(engine, folder, "keeps_review_experienced", "keeps_review_experienced.poor.txt")
    assert not before.passed and after.passed
    assert after.stages["polite_request"].max == 0
    assert after.total > before.total


def test_a_block_fails_even_if_the_lead_forgot_to_list_it(engine: Engine, tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    _edit_rubric(folder, lambda d: d["violations"].pop("conditional_benefit"))
    lines = _lines("slow_delivery_first_time.good.txt")
    lines.insert(6, "您把差评改成好评，我们就给您返20元红包。")
    persona = find_persona(folder, "slow_delivery_first_time")
    card = run_scripted(Session(engine, persona, load_rubric(folder), 1), lines)
    assert not card.passed
    assert [v.severity for v in card.violations if v.code == "conditional_benefit"] == ["block"]


def test_not_applicable_stages_leave_the_maximum(engine: Engine) -> None:
    tmall = _score(engine, DIALOGS, "poor_quality_experienced", "poor_quality_experienced.good.txt")
    late = _score(engine, DIALOGS, "traditional_chinese_buyer",
                  "traditional_chinese_buyer.good.txt")
    taobao = _score(engine, DIALOGS, "size_not_fit_first_time", "size_not_fit_first_time.good.txt")
    for card in (tmall, late):
        assert card.stages["polite_request"].max == 0
        assert card.total == 100
    assert taobao.stages["polite_request"].max > 0


def test_a_broken_rubric_is_a_data_error(tmp_path: Path) -> None:
    from bot.dataload import DataError

    folder = _copy(tmp_path)
    _edit_rubric(folder, lambda d: d["stages"][0]["checks"][0].update(some={"any": ["x"]}))
    with pytest.raises(DataError, match=r"rubric\.yaml"):
        load_rubric(folder)
