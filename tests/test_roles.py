"""Stage roles: the code reads what a stage does from script.yaml, never its id. A shop's
copy that renames stages (remedy → solution, polite_request → ask_review, malicious →
suspected, callback → call_later) in every file that names them behaves exactly as the
bundled data; a copy whose roles are broken is a Chinese error with exit 3."""

from __future__ import annotations

import json
import re
import shutil
import socket
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from bot.datacheck import check_folders
from bot.dataload import DataError, DataProblems, load_yaml
from bot.engine import Engine
from bot.models import Suggestion
from tests.conftest import DATA, PUBLIC, read_jsonl
from tests.dialog import Flow
from tests.shared import dump_yaml, edit, line_of, load_yaml_text
from tests.test_cli import ROOT, csbot

RENAME = {"remedy": "solution", "polite_request": "ask_review", "malicious": "suspected",
          "callback": "call_later"}
BACK = {new: old for old, new in RENAME.items()}
CASE = {"shop": "柚子家女装", "buyer_name": "周敏", "honorific": "女士", "product": "连衣裙"}


def _known_until_h14(problem: object) -> bool:
    # as tests/test_check.py: a guard finding on a bundled template that branch h14 fixes
    return "confirm_product/default" in str(problem) and "privacy" in str(problem)


# -- a shop's copy with renamed stages ------------------------------------------------


def _new(name: Any) -> Any:
    return RENAME.get(name, name) if isinstance(name, str) else [RENAME.get(n, n) for n in name]


def _read(path: Path) -> Any:
    return load_yaml_text(path.read_text(encoding="utf-8"))


def _write(path: Path, data: Any) -> None:
    path.write_text(dump_yaml(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _rename_conditions(node: Any) -> Any:
    """stage_in / stage_after_in lists anywhere in a rubric or a persona."""
    if isinstance(node, dict):
        return {k: _new(v) if k in ("stage_in", "stage_after_in") else _rename_conditions(v)
                for k, v in node.items()}
    if isinstance(node, list):
        return [_rename_conditions(v) for v in node]
    return node


def rename_stages(dialogs: Path, templates: Path) -> None:
    """Rename the stages of RENAME everywhere a shop's copy names them."""
    path = dialogs / "script.yaml"
    s = _read(path)
    for st in s["stages"]:
        st["id"] = _new(st["id"])
    s["initial"], s["final"] = _new(s["initial"]), _new(s["final"])
    s["holding"], s["active"] = _new(s["holding"]), _new(s["active"])
    for t in s["transitions"]:
        t["source"], t["dest"] = _new(t["source"]), _new(t["dest"])
    for m in s["maybe"].values():
        m["stage"] = _new(m["stage"])
    s["next_step"] = {_new(k): {**v, "folder": _new(v["folder"])} for k, v in s["next_step"].items()}
    s["renamed"] = dict(RENAME)  # open conversations follow the new names
    _write(path, s)
    path = dialogs / "rubric.yaml"
    r = _rename_conditions(_read(path))
    for st in r["stages"]:
        st["id"] = _new(st["id"])
    r["next_step"] = {_new(k): v for k, v in r["next_step"].items()}
    r["pressed_in_stage"] = {_new(k): v for k, v in r.get("pressed_in_stage", {}).items()}
    _write(path, r)
    for persona in (dialogs / "personas").glob("*.yaml"):
        _write(persona, _rename_conditions(_read(persona)))
    path = dialogs / "guard.yaml"
    g = _read(path)
    g["ties"]["agree_stages"] = _new(g["ties"]["agree_stages"])
    _write(path, g)
    for old, new in RENAME.items():
        (templates / old).rename(templates / new)
    left = [str(p) for p in dialogs.rglob("*.yaml")
            if re.search(r"\bpolite_request\b", p.read_text(encoding="utf-8").split("\nrenamed:")[0])]
    assert not left, left  # an id no other name shares: none left anywhere


def _copy_to(folder: Path) -> tuple[Path, Path]:
    dialogs, templates = folder / "dialogs", folder / "scripts_zh"
    shutil.copytree(ROOT / "dialogs", dialogs, ignore=shutil.ignore_patterns("corpus"))
    shutil.copytree(ROOT / "scripts_zh", templates)
    return dialogs, templates


@pytest.fixture
def copy(tmp_path: Path) -> tuple[Path, Path]:
    return _copy_to(tmp_path)


@pytest.fixture(scope="module")
def renamed_copy(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """One renamed copy for the module: the tests read it and never change it."""
    folders = _copy_to(tmp_path_factory.mktemp("renamed"))
    rename_stages(*folders)
    return folders


@pytest.fixture(scope="module")
def renamed(renamed_copy: tuple[Path, Path]) -> Engine:
    return Engine.load(*renamed_copy)


def test_the_renamed_copy_shows_remedies_and_warns_an_early_request(renamed: Engine) -> None:
    assert set(RENAME.values()) <= set(renamed.script.stages) and "remedy" not in renamed.script.stages
    g = Flow(renamed, CASE)
    g.agent("您好，请问是周女士吗？").buyer("嗯是我").agent("您能先把差评改一下吗？")
    g.expect_warning("early_request")
    f = Flow(renamed, CASE)
    f.agent("您好，请问是周女士吗？我是柚子家女装的售后小林。").expect("confirm_identity")
    f.buyer("嗯是我").agent("您3月2号在我们店买的那条连衣裙还记得吗？")
    f.buyer("记得，颜色跟图片差太多了，发灰").expect("listen_apologize")
    f.agent("真的很抱歉，让您失望了，换成我也会不开心。").expect("explain")
    f.agent("主图调色调得太鲜了，是我们的问题，这周就换成实拍图。").expect("solution")
    assert f.last.remedies and f.last.stage.label == "提出补救"
    assert f.last.suggestions and all(s.template.startswith("solution/") for s in f.last.suggestions)
    f.agent("给您换一件，来回运费我们出；或者退货退款，您看哪个方便？").expect("solution")
    g.agent("您3月2号在我们店买的那条连衣裙还记得吗？").buyer("记得，颜色跟图片差太多了，发灰")
    g.agent("真的很抱歉，让您失望了。").agent("主图调色调得太鲜了，是我们的问题。").expect("solution")
    g.agent("给您换一件，或者退货退款，您看哪个方便？")
    g.agent("您能把差评改一下吗？").expect("solution").expect_warning("early_request")  # none chosen yet
    f.buyer("那就换一件吧").expect("ask_review")
    assert f.conv.context.remedy_chosen == "exchange"
    # before the remedy is under way, the suggestions arrange it (no review request yet)
    assert f.last.suggestions and all(s.template.startswith("ask_review/arrange.") for s in f.last.suggestions)
    f.agent("好的，已经安排了。想问问您，如果觉得处理得还行，愿意考虑更新一下评价吗？改不改由您决定。")
    f.expect("ask_review").expect_no_warning("early_request")
    assert f.last.suggestions == []  # asked once: wait for the answer
    f.buyer("行，我一会儿去改").expect("closing")
    assert f.conv.context.review_answer == "agree_review"
    f.agent("再次为色差的事说声抱歉，谢谢您的理解，欢迎常来，祝您生活愉快！").expect("closed")


def test_the_renamed_holds_keep_their_notes_and_rules(renamed: Engine) -> None:
    f = Flow(renamed, CASE)
    f.agent("您好，请问是周女士吗？").buyer("在开会，晚点再说").expect("call_later")
    f.expect_warning("callback_time")
    f.agent("好的，那我晚上八点再联系您可以吗？").expect("call_later")
    assert f.conv.context.offers_time
    conv, sug = renamed.resume(f.conv)
    assert conv.context.attempts == 2 and sug.suggestions[0].template.startswith("opening/resume")
    g = Flow(renamed, CASE)
    g.agent("您好，请问是孙先生吗？").buyer("是").agent("您买的茶叶还记得吗？")
    g.buyer("转我300块，差评马上删，不然一直挂着").expect("suspected")
    g.expect_warning("malicious_evidence")
    assert g.last.remedies and g.last.public_reply
    g.agent("麻烦您考虑改一下评价").expect_warning("request_malicious").expect("suspected")


def _same(sug: Suggestion) -> str:
    """A Suggestion of the renamed copy in the bundled names (ids, template folders)."""
    text = sug.model_dump_json()
    return re.sub(r'(?<=")(' + "|".join(BACK) + r')(?=["/])', lambda m: BACK[m.group(1)], text)


def test_renaming_changes_nothing_but_the_names(engine: Engine, renamed: Engine) -> None:
    """Every turn of the development dialogs gives the same Suggestion, names mapped back."""
    dialogs = read_jsonl(DATA / "dialogs_dev.jsonl") + read_jsonl(PUBLIC / "dialogs_dev.jsonl")
    seen: set[str] = set()
    for d in dialogs:
        a, _ = engine.start(d.get("case"))
        b, _ = renamed.start(d.get("case"))
        at = datetime.fromisoformat(d["at"]) if d.get("at") else None
        for turn in d["turns"]:
            a, sa = engine.feed(a, turn["role"], turn["text"], at=at)
            b, sb = renamed.feed(b, turn["role"], turn["text"], at=at)
            assert _same(sb) == sa.model_dump_json(), (d["id"], turn["text"])
            seen.add(a.stage)
    assert {"remedy", "polite_request", "malicious", "callback"} <= seen  # the renamed ones ran


@pytest.mark.parametrize("persona", ["busy_office_worker", "pro_bad_reviewer", "poor_quality_experienced"])
def test_a_trainee_scores_the_same_on_the_renamed_copy(engine: Engine, renamed: Engine, persona: str) -> None:
    """The rubric and the personas name stages too: renamed with the script, a scripted
    trainee gets the same scorecard, stage for stage."""
    from bot.training.persona import find_persona
    from bot.training.rubric import load_rubric
    from bot.training.session import Session, run_scripted

    cards = []
    for e in (engine, renamed):
        lines = (DATA / "trainees" / f"{persona}.good.txt").read_text(encoding="utf-8").split("\n")
        session = Session(e, find_persona(e.dialogs, persona), load_rubric(e.dialogs), 1)
        cards.append(run_scripted(session, [x.strip() for x in lines if x.strip()]).model_dump(mode="json"))
    assert cards[1]["total"] >= 85
    assert re.sub(r'(?<=")(' + "|".join(BACK) + r')(?=")', lambda m: BACK[m.group(1)],
                  json.dumps(cards[1], ensure_ascii=False)) == json.dumps(cards[0], ensure_ascii=False)


def test_csbot_check_passes_the_renamed_copy(renamed_copy: tuple[Path, Path]) -> None:
    assert [p for p in check_folders(*renamed_copy) if not _known_until_h14(p)] == []


def _without_roles(dialogs: Path) -> None:
    s = _read(dialogs / "script.yaml")
    for st in s["stages"]:
        st.pop("roles", None)
    _write(dialogs / "script.yaml", s)


def test_a_copy_from_before_roles_takes_the_bundled_ones(copy: tuple[Path, Path]) -> None:
    _without_roles(copy[0])
    e = Engine.load(*copy)
    assert e.script.stage_with("offers_remedy") == "remedy"
    assert e.script.has_role("explain", "shows_remedies")
    assert check_folders(*copy, engine=e) == []
    rename_stages(*copy)  # renamed without roles: the code cannot know what a stage does
    _without_roles(copy[0])
    with pytest.raises(DataError, match="solution、ask_review、call_later、suspected 不是内置的阶段名"):
        Engine.load(*copy)


# -- broken roles ---------------------------------------------------------------------


BROKEN = {
    "unknown_role": ("roles: [asks_review]", "roles: [asks_reveiw]",
                     "stages[6].roles[0]：不认识这个角色：asks_reveiw"),
    "missing_role": ("roles: [offers_remedy, handles_problem, shows_remedies]",
                     "roles: [handles_problem, shows_remedies]", "stages：没有阶段标着角色 offers_remedy"),
    "twice": ("roles: [closes]", "roles: [closes, asks_review]",
              "stages[7].roles[1]：角色 asks_review 只能标在一个阶段上，已经标在“polite_request”上"),
    "no_label": ("{id: explain, label: 解释原因, main: true,", "{id: explain, main: true,",
                 "stages[4].label：缺少必填的键"),
}


@pytest.mark.parametrize("kind", list(BROKEN))
def test_broken_roles_name_the_file_key_and_line(copy: tuple[Path, Path], kind: str) -> None:
    old, new, message = BROKEN[kind]
    script = copy[0] / "script.yaml"
    edit(script, old, new)
    with pytest.raises(DataProblems) as err:
        load_yaml(copy[0], "script.yaml")
    (p,) = err.value.problems
    line = line_of(script, "stages:") if kind == "missing_role" else line_of(script, new)
    assert str(p).startswith(f"{script}:{line}：{message}"), str(p)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.process
@pytest.mark.parametrize("kind", ["unknown_role", "missing_role", "no_label"])
def test_check_and_serve_stop_a_copy_with_broken_roles(copy: tuple[Path, Path], kind: str) -> None:
    message = BROKEN[kind][2]
    dialogs, templates = copy
    rename_stages(dialogs, templates)  # broken on top of a renamed copy (its YAML written anew)
    s = _read(dialogs / "script.yaml")
    i, key, value = {"unknown_role": (6, "roles", ["asks_reveiw"]),
                     "missing_role": (5, "roles", ["handles_problem", "shows_remedies"]),
                     "no_label": (4, "label", None)}[kind]
    if value is None:
        del s["stages"][i][key]
    else:
        s["stages"][i][key] = value
    _write(dialogs / "script.yaml", s)
    args = ("--dialogs", str(dialogs), "--templates", str(templates))
    r = csbot("check", *args)
    assert r.returncode == 3 and message in r.stdout and "Traceback" not in r.stderr, (r.stdout, r.stderr)
    out = json.loads(csbot("check", "--json", *args).stdout)
    assert out["ok"] is False and out["problems"][0]["line"] > 1
    r = csbot("serve", "--db", f"sqlite:///{dialogs.parent / 'x.db'}", "--port", str(_free_port()), *args)
    assert r.returncode == 3 and message in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert "数据错误" in r.stderr


# -- the words built from case fields are data (defaults.yaml `phrases`) ----------------


def test_a_shops_phrases_reach_the_suggestions_and_older_copies_take_the_bundled_ones(
        copy: tuple[Path, Path]) -> None:
    path = copy[0] / "defaults.yaml"
    words = _read(path)
    words["phrases"] = {"me": "客服专员{agent}", "damage_options": "；您{thing}的损失也由我们承担"}
    del words["defaults"]["shop"]
    _write(path, words)
    e = Engine.load(*copy)
    f = Flow(e, {**CASE, "agent": "小林"})
    assert e.variables(f.conv)["me"] == "客服专员小林" and e.variables(f.conv)["order_date"] == "前段时间"
    f.buyer("洗了一次就掉色，把我睡衣也染了")
    assert e.variables(f.conv)["options"].endswith("；您睡衣的损失也由我们承担")
    assert e.start()[0].case.shop == "本店"  # from the bundled defaults
    words["phrases"]["damage_remedy"] = "（{item}的损失照赔）"
    _write(path, words)
    with pytest.raises(DataProblems) as err:
        load_yaml(copy[0], "defaults.yaml")
    (p,) = err.value.problems
    assert p.key == "phrases.damage_remedy" and p.line == line_of(path, "damage_remedy")
    assert "占位符不对：“（{item}的损失照赔）”（这里能用的占位符：{thing}）" in p.message
