"""What the trainee reads, worded for this buyer: the tips say 她 for a woman (王阿姨), 他 for a man,
买家 when the case does not tell; the repeat note fits whether the buyer answered the request or
not; the persona list and the first screen do not tell which kind of buyer it is (the scorecard does)."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

from click.testing import CliRunner
from rich.console import Console

from bot.cli import main
from bot.engine import Engine
from bot.paths import dialogs_dir
from bot.training.console import TrainingConsole
from bot.training.facts import gender_of
from bot.training.grader import _Words, case_words
from bot.training.persona import find_persona, load_personas
from bot.training.rubric import load_rubric
from tests.shared import play

TRAINEES = Path(__file__).parent / "data" / "trainees"
_HE = re.compile("(?<!其)他(?!人)")  # the pronoun, not 其他 / 他人


def _lines(name: str) -> list[str]:
    return [ln for ln in (TRAINEES / name).read_text(encoding="utf-8").splitlines() if ln.strip()]


def _all_tips() -> list[str]:
    r = load_rubric(dialogs_dir()).rubric
    tips = [c.tip for st in r.stages for c in st.checks]
    tips += [v.tip for v in r.violations.values()]
    tips += [t.tip for t in r.turn_tips] + [d.message for d in r.derived_violations]
    tips += [*r.next_step.values(), *r.buyer_next_step.values(), *r.pressed_steps.values()]
    tips += [*r.left_tips.values(), *(d.tip for d in r.done_steps.values()), r.praise]
    tips += [d.tip for d in r.pressed_tried.values()]
    return tips


def test_no_tip_calls_a_woman_him() -> None:
    words = case_words(find_persona(dialogs_dir(), "wrong_item_first_time").persona.case)
    for tip in _all_tips():
        said = tip.format_map(_Words(words)) if "{" in tip else tip
        assert not _HE.search(said), said


def test_tips_use_the_buyers_gender_or_none(engine: Engine) -> None:
    # 王秀兰阿姨: 她; 赵建国先生: 他
    aunt = play(engine, "wrong_item_first_time", _lines("wrong_item_first_time.good.txt")[:1], seed=3)
    tip = aunt.grader.turn_tip(aunt.turns[-1], "confirm_product")
    assert "请她回忆" in tip and tip.count("买家") <= 1 and not _HE.search(tip), tip
    man = play(engine, "poor_quality_experienced", _lines("poor_quality_experienced.good.txt")[:1], seed=3)
    tip = man.grader.turn_tip(man.turns[-1], "confirm_product")
    assert "请他回忆" in tip, tip
    # 陈静 has no honorific but her persona says `gender: female` (a mother): 她
    mum = play(engine, "size_not_fit_first_time", _lines("size_not_fit_first_time.good.txt")[:1], seed=3)
    tip = mum.grader.turn_tip(mum.turns[-1], "confirm_product")
    assert "请她回忆" in tip and not _HE.search(tip), tip
    # 林晓: no honorific, no gender: 买家, no guess either way
    lin = play(engine, "slow_delivery_first_time", _lines("slow_delivery_first_time.good.txt")[:1], seed=3)
    tip = lin.grader.turn_tip(lin.turns[-1], "confirm_product")
    assert "请买家回忆" in tip and tip.count("买家") == 1 and not _HE.search(tip) and "她" not in tip, tip


def test_gender_from_more_honorifics() -> None:
    assert gender_of("阿姨") == gender_of("大妈") == gender_of("王妈") == "female"
    assert gender_of("大爷") == gender_of("叔") == gender_of("先生") == "male"
    assert gender_of("") is None and gender_of("同学") is None


def test_the_repeat_note_fits_a_buyer_who_never_answered(engine: Engine) -> None:
    # asked twice before the buyer said yes or no: "尊重买家的决定" - there is no decision yet
    good = _lines("size_not_fit_first_time.good.txt")
    s = play(engine, "size_not_fit_first_time",
             [*good[:2], "能帮忙把评价改一下吗？", "评价能帮忙改一下吗？"], seed=3)
    last = s.turns[-1]
    assert last.context.get("review_answer") is None
    assert "repeat_request" in [n.code for n in last.notes], last.notes
    assert s.scorecard is not None
    said = [v.message for v in s.scorecard.violations if v.turn == 4]
    said += [s.grader.turn_tip(last, "listen_apologize")]
    for text in said:
        assert "尊重买家的决定" not in text, text
    assert any("由买家决定" in t or "由买家自己决定" in t for t in said), said


def test_the_list_does_not_tell_the_kind_of_buyer() -> None:
    result = CliRunner().invoke(main, ["train"])
    assert result.exit_code == 0, result.output
    for p in (pf.persona for pf in load_personas(dialogs_dir())):
        assert p.title not in result.output
        assert p.case.product in result.output
    for giveaway in ("职业差评师", "第一次", "老买家", "老顾客", "上班族", "开价"):
        assert giveaway not in result.output, giveaway
    listed = json.loads(CliRunner().invoke(main, ["train", "--json"]).output)
    bad = next(p for p in listed if p["id"] == "pro_bad_reviewer")
    assert "职业差评师" not in bad["title"] and "50克保湿面霜" in bad["title"], bad


def test_the_first_screen_hides_the_kind_and_the_scorecard_tells_it(engine: Engine,
                                                                    tmp_path: Path) -> None:
    folder = dialogs_dir()
    persona = find_persona(folder, "pro_bad_reviewer").persona
    console = Console(file=io.StringIO(), width=120, highlight=False)
    tc = TrainingConsole(console, lambda: None, tmp_path, load_rubric(folder).rubric.labels)  # type: ignore[arg-type,return-value]
    tc._intro(persona)
    screen = console.file.getvalue()  # type: ignore[attr-defined]
    assert "职业差评师" not in screen and "50克保湿面霜" in screen, screen
    s = play(engine, "pro_bad_reviewer", _lines("pro_bad_reviewer.good.txt"), seed=3)
    assert s.scorecard is not None
    tc._scorecard(s, s.scorecard)
    shown = "".join(console.file.getvalue().split())  # type: ignore[attr-defined]
    assert "这位买家是：恶意买家（自称测评博主的职业差评师" in shown, shown[-800:]


def test_the_saved_record_tells_the_kind_with_the_title(engine: Engine) -> None:
    from bot.training.transcript import render_markdown

    s = play(engine, "pro_bad_reviewer", _lines("pro_bad_reviewer.good.txt"), seed=3)
    md = render_markdown(s.events, load_rubric(dialogs_dir()).rubric.labels)
    assert "这位买家是：恶意买家（自称测评博主的职业差评师" in md, md[-1200:]
