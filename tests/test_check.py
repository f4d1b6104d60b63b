"""Data checked when it loads, and `csbot check` on a shop's copy: each kind of broken copy
gets its Chinese message with the file, the key and the line, and exit 3 (from `csbot check`
and from `csbot serve` start-up); the bundled data passes."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from bot.datacheck import check_folders
from bot.dataload import DataProblems, load_yaml
from tests.shared import dump_yaml, edit, line_of, load_yaml_text
from tests.test_cli import ROOT, csbot


def _known_until_h14(problem: object) -> bool:
    # main's guard reads "前段时间…买了" (the default order date) as purchase history; the
    # guard of branch h14 no longer does. Drop this filter once h14 is merged.
    return "confirm_product/default" in str(problem) and "privacy" in str(problem)


def test_the_bundled_data_passes() -> None:
    problems = check_folders(ROOT / "dialogs", ROOT / "scripts_zh")
    assert [p for p in problems if not _known_until_h14(p)] == []


def _problems(shop: tuple[Path, Path]) -> list[str]:
    return [str(p) for p in check_folders(*shop) if not _known_until_h14(p)]


def test_a_stage_without_a_label_names_the_file_key_and_line(shop: tuple[Path, Path]) -> None:
    script = shop[0] / "script.yaml"
    edit(script, "{id: explain, label: 解释原因, main: true,", "{id: explain, main: true,")
    with pytest.raises(DataProblems) as err:
        load_yaml(shop[0], "script.yaml")
    (p,) = err.value.problems
    assert (p.key, p.line, p.message) == ("stages[4].label", line_of(script, "id: explain,"),
                                          "缺少必填的键")
    assert f"script.yaml:{p.line}：stages[4].label：缺少必填的键" in str(p)


def test_a_misspelt_optional_key_is_an_error_not_its_default(shop: tuple[Path, Path]) -> None:
    remedies = shop[0] / "remedies.yaml"
    edit(remedies, "    intents: [want_refund]\n", "    intent: [want_refund]\n")
    (p,) = check_folders(*shop)
    assert p.key == "remedies.refund.intent" and "不认识这个键" in p.message
    assert p.line == line_of(remedies, "intent: [want_refund]")


def test_an_unreachable_stage(shop: tuple[Path, Path]) -> None:
    edit(shop[0] / "script.yaml", "  - {id: closed, label: 已结束,",
          "  - {id: review_later, label: 稍后再问, main: false, checklist: []}\n  - {id: closed, label: 已结束,")
    (p,) = _problems(shop)
    assert "stages[8].id" in p and "“review_later”从开始阶段“opening”走不到" in p


def test_a_cause_without_a_chinese_name(shop: tuple[Path, Path]) -> None:
    buyer = shop[0] / "lexicon/buyer.yaml"
    spec = load_yaml_text(buyer.read_text(encoding="utf-8"))
    spec["causes"]["packaging"] = [{"any": ["包装破了", "盒子压扁"]}]
    buyer.write_text(dump_yaml(spec, allow_unicode=True), encoding="utf-8")
    # one problem, where the label is used; the message says where its name goes (the
    # spoken form, cause_labels, is optional: the short name stands in)
    (p,) = _problems(shop)
    assert p.startswith(f"{buyer}:{line_of(buyer, 'packaging:')}：causes.packaging：")
    assert "原因“packaging”没有中文名" in p and "defaults.yaml 的 cause_names" in p


def test_a_template_with_a_conditional_benefit(shop: tuple[Path, Path]) -> None:
    closing = shop[1] / "closing/default.formal.j2"
    closing.write_text(closing.read_text(encoding="utf-8").rstrip("\n")
                       + "\n{# --- #}\n{{ call }}，给个好评就返现 5 元哦。\n", encoding="utf-8")
    (p, *_) = _problems(shop)
    assert "closing/default.formal.j2:" in p and "conditional_benefit" in p and "返现" in p
    assert p.startswith(f"{closing}:{line_of(closing, '返现')}：")


def test_a_broken_yaml_file(shop: tuple[Path, Path]) -> None:
    edit(shop[0] / "policy.yaml", "  late_contact:\n", "  late_contact: {\n")
    (p,) = check_folders(*shop)
    assert "policy.yaml" in p.file and "数据文件格式错误（不是合法的 YAML）" in p.message
    assert p.line is not None and p.line >= line_of(shop[0] / "policy.yaml", "late_contact")


def test_quiet_hours_left_in_an_older_policy_yaml_are_sent_to_the_settings(shop: tuple[Path, Path]) -> None:
    """policy.yaml's quiet_hours (naive hours, no time zone) are gone: the settings' quiet_hours
    in the shop's time zone are the only ones, so a copy that still has them is told where to go."""
    policy = shop[0] / "policy.yaml"
    policy.write_text(policy.read_text(encoding="utf-8") + "quiet_hours: {start: 22, end: 7}\n", encoding="utf-8")
    (p,) = _problems(shop)
    assert "policy.yaml" in p and "quiet_hours" in p and "在设置里写 quiet_hours" in p, p


def test_a_template_folder_that_is_no_stage(shop: tuple[Path, Path]) -> None:
    (shop[1] / "explian").mkdir()
    (p,) = _problems(shop)
    assert "“explian”不是脚本里的阶段" in p


# -- the commands ---------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.process
def test_csbot_check_and_serve_stop_a_broken_copy_with_exit_3(shop: tuple[Path, Path]) -> None:
    dialogs, templates = shop
    r = csbot("check", "--dialogs", str(dialogs), "--templates", str(templates))
    bundled_ok = r.returncode
    edit(dialogs / "script.yaml", "{id: explain, label: 解释原因, main: true,", "{id: explain, main: true,")
    args = ("--dialogs", str(dialogs), "--templates", str(templates))
    r = csbot("check", *args)
    assert r.returncode == 3 and "stages[4].label：缺少必填的键" in r.stdout, (bundled_ok, r.stdout)
    assert "Traceback" not in r.stderr
    r = csbot("check", "--json", *args)
    out = json.loads(r.stdout)
    assert r.returncode == 3 and out["ok"] is False
    assert out["problems"][0]["key"] == "stages[4].label" and out["problems"][0]["line"] > 1
    r = csbot("serve", "--db", f"sqlite:///{dialogs.parent / 'x.db'}", "--port", str(_free_port()), *args)
    assert r.returncode == 3 and "stages[4].label" in r.stderr and "Traceback" not in r.stderr
    r = csbot("analyze", "--role", "buyer", "--dialogs", str(dialogs), stdin="你好\n")
    assert r.returncode != 3  # analyze reads the lexicons, not the script
    r = csbot("assist", "--json", *args, stdin="")
    assert r.returncode == 3 and "stages[4].label" in r.stderr


@pytest.mark.process
def test_serve_stops_at_a_template_that_ties_a_benefit_to_the_review(shop: tuple[Path, Path]) -> None:
    dialogs, templates = shop
    closing = templates / "closing/default.formal.j2"
    closing.write_text(closing.read_text(encoding="utf-8").rstrip("\n")
                       + "\n{# --- #}\n{{ call }}，给个好评就返现 5 元哦。\n", encoding="utf-8")
    args = ("--dialogs", str(dialogs), "--templates", str(templates))
    r = csbot("serve", "--db", f"sqlite:///{dialogs.parent / 'x.db'}", "--port", str(_free_port()), *args)
    assert r.returncode == 3 and "conditional_benefit" in r.stderr
    assert csbot("check", *args).returncode == 3


@pytest.mark.process
def test_analyze_and_lint_stop_at_a_misspelt_lexicon_key(shop: tuple[Path, Path]) -> None:
    dialogs, _ = shop
    guard = dialogs / "guard.yaml"
    spec = load_yaml_text(guard.read_text(encoding="utf-8"))
    spec["codes"]["privacy"]["rules"].append({"any": ["加我微信"], "wieght": 2})
    guard.write_text(dump_yaml(spec, allow_unicode=True), encoding="utf-8")
    for cmd in (["lint", "-"], ["analyze", "--role", "agent"]):
        r = csbot(*cmd, "--dialogs", str(dialogs), stdin="加我微信聊吧\n")
        assert r.returncode == 3 and "wieght" in r.stderr and "不认识这个键" in r.stderr, (cmd, r.stderr)


def test_an_older_copy_without_a_name_mapping_takes_the_bundled_names(shop: tuple[Path, Path]) -> None:
    defaults = shop[0] / "defaults.yaml"
    words = load_yaml_text(defaults.read_text(encoding="utf-8"))
    del words["outcome_labels"]
    words["cause_names"] = {"quality": "做工"}  # renamed one; the rest come bundled
    defaults.write_text(dump_yaml(words, allow_unicode=True), encoding="utf-8")
    assert _problems(shop) == []


def test_a_key_with_brackets_keeps_its_name_and_line(shop: tuple[Path, Path]) -> None:
    normalize = shop[0] / "normalize.yaml"
    edit(normalize, '"[微笑]": "😊"', '"[微笑]": ["😊"]')
    (p,) = check_folders(*shop)
    assert (p.key, p.line) == ("emoticons.[微笑]", line_of(normalize, '"[微笑]"'))
    assert "应为文本" in p.message


# -- the files read outside the engine: personas, rubric, products; template syntax ---------


@pytest.mark.parametrize(("rel", "old", "new", "key"), [
    ("personas/busy_office_worker.yaml", "mood_cap: 2", "mood_cp: 2", "mood_cp"),
    ("personas/busy_office_worker.yaml", "  scenario: callback", "  scenaro: callback", "goal.scenaro"),
    ("rubric.yaml", "fail_on_block: true", "fail_on_blok: true", "fail_on_blok"),
    ("products.yaml", "default: {unit: 个, use: 用}", "default: {unit: 个, use: 用, uses: 用}", "default.uses"),
])
def test_a_misspelt_key_in_a_training_or_product_file(shop: tuple[Path, Path], rel: str, old: str,
                                                      new: str, key: str) -> None:
    path = shop[0] / rel
    edit(path, old, new)
    found = [p for p in check_folders(*shop) if not _known_until_h14(p)]
    assert [(p.file, p.key, p.line, p.message) for p in found] == [
        (str(path), key, line_of(path, new.strip().split(":")[0] if "uses" not in new else "default:"),
         "不认识这个键（拼写错了？）")]


def test_a_broken_persona_yaml_names_its_line(shop: tuple[Path, Path]) -> None:
    path = shop[0] / "personas/busy_office_worker.yaml"
    edit(path, "patience: 2", "patience: 2\n  - x: [")
    (p,) = check_folders(*shop)
    assert p.file == str(path) and "数据文件格式错误（不是合法的 YAML）" in p.message
    assert p.line is not None and p.line >= line_of(path, "patience: 2")


def test_a_template_syntax_error_names_the_file_and_line(shop: tuple[Path, Path]) -> None:
    path = shop[1] / "explain/cause-logistics.formal.j2"
    second = path.read_text(encoding="utf-8").split("{# --- #}")[1].strip()
    edit(path, second, "{{ name " + second)
    (p,) = check_folders(*shop)
    assert (p.file, p.line) == (str(path), line_of(path, "{{ name "))
    assert p.key == "cause-logistics#2" and p.message.startswith("模板语法错误")


def test_a_no_goods_cause_the_options_lack(shop: tuple[Path, Path]) -> None:
    """remedies.yaml no_goods_causes names causes of by_cause: a misspelt one would silently never
    hide the options that need the goods."""
    remedies = shop[0] / "remedies.yaml"
    edit(remedies, "no_goods_causes: [logistics]", "no_goods_causes: [logistic]")
    problems = _problems(shop)
    assert any("no_goods_causes[0]" in p and "by_cause 里没有这个原因：logistic" in p for p in problems), problems


def test_a_remedy_the_buyer_cannot_name_is_a_problem(shop: tuple[Path, Path]) -> None:
    """A new remedy without `choose` loaded and was offered, but a buyer's "补发一个吧" was read as
    the built-in 补发一份新的: the shop's option could never be chosen, nor counted in the report."""
    remedies = shop[0] / "remedies.yaml"
    edit(remedies, "remedies:\n", "remedies:\n  repack:\n    label: 重新包装补发\n"
                                  "    text: 给您重新包装好补发一{{ unit }}\n    short: 重新包装补发一{{ unit }}\n")
    (p,) = _problems(shop)
    assert p.startswith(f"{remedies}:{line_of(remedies, 'repack:')}：remedies.repack：")
    assert "没有写 choose" in p and "补发" in p


def test_a_template_the_guard_would_warn_about_is_a_problem(shop: tuple[Path, Path]) -> None:
    """A lead's warm closing line "我们小店就靠这点业绩了，评价的事拜托您啦" passed the check (only
    blocks were reported), and every agent who sent the shop's own suggestion got 道德绑架."""
    closing = shop[1] / "closing/default.warm.j2"
    closing.write_text(closing.read_text(encoding="utf-8").rstrip("\n")
                       + "\n{# --- #}\n亲，我们小店就靠这点业绩了，评价的事拜托您啦～\n", encoding="utf-8")
    (p,) = _problems(shop)
    assert p.startswith(f"{closing}:{line_of(closing, '业绩')}：")
    assert "合规检查提醒（注意级，guilt_trip" in p and "就靠这点业绩" in p
