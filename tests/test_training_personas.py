"""Personas are data: they load, cover the issue's list, and the engine reads them as meant."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from bot.dataload import DataError
from bot.engine import Engine
from bot.paths import dialogs_dir
from bot.training.persona import Persona, UnknownPersona, Utterance, find_persona, load_personas
from tests.shared import load_yaml_text

DIALOGS = dialogs_dir()
PERSONAS = [pf.persona for pf in load_personas(DIALOGS)]
BY_ID = {p.id: p for p in PERSONAS}

# The eight buyers of issue 4, by id.
REQUIRED = {
    "slow_delivery_first_time": ("first_time", "logistics"),
    "poor_quality_experienced": ("experienced", "quality"),
    "busy_office_worker": (None, None),
    "size_not_fit_first_time": (None, "size_fit"),
    "keeps_review_experienced": (None, None),
    "wrong_item_first_time": (None, "wrong_missing"),
    "traditional_chinese_buyer": (None, None),
    "pro_bad_reviewer": ("malicious", None),
}
_HAN = re.compile(r"[\u4e00-\u9fff]")


def test_the_issues_eight_buyers_are_there() -> None:
    assert len(PERSONAS) >= 8
    for pid, (kind, cause) in REQUIRED.items():
        p = BY_ID[pid]
        assert kind is None or p.kind == kind
        assert cause is None or p.goal.cause == cause
    assert {p.kind for p in PERSONAS} == {"first_time", "experienced", "malicious"}


@pytest.mark.parametrize("p", PERSONAS, ids=lambda p: p.id)
def test_persona_has_case_goal_and_temperament(p: Persona) -> None:
    assert p.id.isascii()
    assert _HAN.search(p.title), "the title is one line of Chinese"
    c = p.case
    assert c.shop and c.buyer_name and c.product and c.order_date and c.review_text
    assert c.review_rating in ("中评", "差评") and c.review_time is not None
    assert c.order_date < c.review_time.date() <= p.contact_time.date()
    assert p.patience >= 1 and p.emotion in ("calm", "upset", "angry")
    assert p.agenda and p.leave
    if p.goal.scenario == "main":
        assert p.goal.wants in p.goal.accepts
        assert p.softeners and p.hardeners
        assert any(i.kind == "remedy" for i in p.agenda)


def test_special_buyers_are_what_the_issue_says() -> None:
    assert BY_ID["busy_office_worker"].goal.scenario == "callback"
    assert BY_ID["keeps_review_experienced"].goal.review == "refuse"
    assert BY_ID["pro_bad_reviewer"].goal.scenario == "malicious"
    trad = BY_ID["traditional_chinese_buyer"]
    lines = [ln for i in trad.agenda if i.say for ln in i.say.upset + i.say.calm]
    assert any(ch in "".join(lines) for ch in "記們這還")  # written in traditional characters
    # one buyer on Tmall and one past 30 days: the review request does not apply there
    assert BY_ID["poor_quality_experienced"].case.platform == "tmall"
    assert (trad.contact_time - trad.case.review_time).days > 30  # type: ignore[operator]


def _spoken(p: Persona) -> list[tuple[str, Utterance]]:
    """The utterances that move the case forward (what the script machine must understand)."""
    out = [(f"{i.id}.say", i.say) for i in p.agenda if i.say is not None]
    out += [(f"accepts.{k}", u) for k, u in p.goal.accepts.items()]
    out += [(f"review.{k}", u) for k, u in p.goal.review_answers.items()]
    return out


@pytest.mark.parametrize("p", PERSONAS, ids=lambda p: p.id)
def test_engine_reads_every_mood_of_every_answer_as_meant(p: Persona, engine: Engine) -> None:
    # The buyer prefers phrasings the engine understands; each mood band needs one.
    for name, u in _spoken(p):
        for band in ("calm", "upset", "angry"):
            lines: list[str] = getattr(u, band)
            if not lines:
                continue
            readings = [engine.understand.buyer(ln) for ln in lines]
            ok = [r for r in readings
                  if (r.intent == u.intent or r.intent in u.also)
                  and (u.cause is None or r.cause == u.cause)]
            assert ok, f"{p.id} {name} ({band}): {[(r.text, r.intent, r.cause) for r in readings]}"


def test_a_broken_persona_names_its_file(tmp_path: Path) -> None:
    folder = tmp_path / "dialogs"
    shutil.copytree(DIALOGS, folder)
    bad = folder / "personas" / "slow_delivery_first_time.yaml"
    bad.write_text(bad.read_text(encoding="utf-8").replace("patience: 4", "patience: 0"),
                   encoding="utf-8")
    with pytest.raises(DataError, match=r"slow_delivery_first_time\.yaml"):
        load_personas(folder)


def test_unknown_persona_lists_the_known_ones() -> None:
    with pytest.raises(UnknownPersona, match="slow_delivery_first_time"):
        find_persona(DIALOGS, "nobody_here")
    with pytest.raises(UnknownPersona):
        find_persona(DIALOGS, "../rubric")


def test_the_persona_skeleton_in_the_docs_is_valid() -> None:
    doc = (Path(__file__).resolve().parent.parent / "docs" / "training.md").read_text("utf-8")
    block = doc.split("骨架：")[1].split("```yaml\n")[1].split("```")[0]
    persona = Persona.model_validate(load_yaml_text(block))
    assert persona.agenda[-1].leave
