"""A team lead's slips in a copy of dialogs/ and scripts_zh/, as `csbot check` tells them:
in Chinese, at the line the slip is on (not where the parser gave up), with the parser's own
words in brackets to search for."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bot.datacheck import check_folders
from bot.dataload import DataProblems, read_yaml, validate, yaml_problem
from tests.shared import edit, line_of

ENGLISH = re.compile(r"[A-Za-z']+ [A-Za-z']+")  # a parser's sentence; one name alone (Tab, buyer) is fine


def _said(path: Path, text: str) -> tuple[int | None, str]:
    path.write_text(text, encoding="utf-8")
    with pytest.raises(yaml.YAMLError) as err:
        read_yaml(text)
    (p,) = yaml_problem(path, err.value).problems
    return p.line, p.message


def _chinese_before_the_parsers_words(message: str) -> bool:
    """No English outside the brackets that quote the parser (（YAML：…）, （Jinja：…）)."""
    return not ENGLISH.search(re.sub(r"（(YAML|Jinja)：.*?）$", "", message))


@pytest.mark.parametrize(("text", "line", "said"), [
    # the IME's full-width colon after a key: libyaml complains a line or two later
    ("cause_names:\n  quality: 质量问题\n  packaging：包装问题\n  logistics: 物流问题\n", 3, "全角"),
    ("a: 1\nb：2\nc: 3\n", 2, "全角"),
    # a key indented one step too far reads as "no colon allowed here"
    ("cause_names:\n  quality: 质量问题\n   logistics: 物流问题\n", 3, "缩进"),
    # a tab among spaces: libyaml's own words were the whole message
    ("cause_names:\n  quality: 质量问题\n\t logistics: 物流问题\n", 3, "Tab"),
    ("stages:\n  - a\n\t- b\n", 3, "Tab"),
    ("a: 1\n---\nb: 2\n", 2, "---"),
])
def test_a_yaml_slip_is_told_in_chinese_where_it_is(tmp_path: Path, text: str, line: int, said: str) -> None:
    got_line, message = _said(tmp_path / "defaults.yaml", text)
    assert got_line == line, message
    assert said in message and _chinese_before_the_parsers_words(message), message


def test_a_value_left_empty_is_said_so_not_as_none(tmp_path: Path) -> None:
    path = tmp_path / "defaults.yaml"
    data = read_yaml("cause_names:\n  quality:\n")
    with pytest.raises(DataProblems) as err:
        validate(path, "defaults.yaml", data)
    (p,) = [p for p in err.value.problems if p.key == "cause_names.quality"]
    assert "None" not in p.message and "空" in p.message, p.message


def test_a_line_indented_with_a_full_width_space_is_named(tmp_path: Path) -> None:
    path = tmp_path / "defaults.yaml"
    data = read_yaml("cause_names:\n  quality: 质量问题\n\u3000packaging: 包装问题\n")
    with pytest.raises(DataProblems) as err:
        validate(path, "defaults.yaml", data)
    assert any("全角空格" in p.message for p in err.value.problems), err.value.problems


def test_a_key_written_twice_is_reported_not_silently_dropped(shop: tuple[Path, Path]) -> None:
    # A lead appends a second `causes:` for the new cause at the end of buyer.yaml: YAML keeps
    # the last one, and every bundled cause rule went without a word.
    buyer = shop[0] / "lexicon/buyer.yaml"
    with buyer.open("a", encoding="utf-8") as fh:
        fh.write('\ncauses:\n  packaging:\n    - any: ["包装(破|烂)了"]\n')
    problems = [p for p in check_folders(*shop) if "写了两次" in p.message]
    assert len(problems) == 1, check_folders(*shop)
    (p,) = problems
    last = sum(1 for _ in buyer.open(encoding="utf-8")) - 2
    assert (p.file, p.key, p.line) == (str(buyer), "causes", last)
    assert f"第 {line_of(buyer, 'causes:')} 行" in p.message


def _twice(shop: tuple[Path, Path], name: str, key: str, more: str) -> tuple[Path, str]:
    """``more`` (a second ``key:``) appended to ``name``, and what every command says of it."""
    path = shop[0] / name
    first = line_of(path, f"{key}:")
    with path.open("a", encoding="utf-8") as fh:
        fh.write(more)
    last = sum(1 for _ in path.open(encoding="utf-8")) - more.count("\n") + 2
    return path, f"{path}:{last}：{key}：这个键写了两次（第 {first} 行和第 {last} 行）"


@pytest.mark.parametrize("command", [
    ["assist", "--shop", "柚子家女装", "--buyer", "周敏", "--templates", "{templates}"],
    ["analyze", "--role", "buyer"],
    ["train", "--persona", "busy_office_worker", "--templates", "{templates}"],
    ["serve", "--db", "sqlite:///{tmp}/没有这个文件夹/c.db", "--templates", "{templates}"],  # no server if it loads
])
def test_a_key_written_twice_stops_every_command_that_loads_the_data(
        shop: tuple[Path, Path], command: list[str]) -> None:
    # Issue 15: data is checked when it loads. Only `csbot check` told it; serve, assist,
    # analyze and train ran without the first `causes:` and its bundled rules.
    from click.testing import CliRunner

    from bot.cli import main

    _, said = _twice(shop, "lexicon/buyer.yaml", "causes", '\ncauses:\n  logistics:\n    - any: ["快递(太慢|好慢)"]\n')
    args = [a.format(tmp=shop[0].parent, templates=shop[1]) for a in command]
    r = CliRunner(env={"CSBOT_CONFIG": None}).invoke(main, [*args, "--dialogs", str(shop[0])], input="")
    assert r.exit_code == 3 and "数据错误" in r.output and said in r.output, r.output
    assert "Traceback" not in r.output


@pytest.mark.parametrize(("name", "key", "more"), [
    ("script.yaml", "version", "\nversion: 9\n"),  # read by the engine from bytes
    ("personas/busy_office_worker.yaml", "title", "\ntitle: 又一个标题\n"),  # read by the trainer
])
def test_a_key_written_twice_is_refused_by_each_reader(shop: tuple[Path, Path], name: str, key: str,
                                                        more: str) -> None:
    from bot.engine import Engine
    from bot.training.persona import load_personas

    _, said = _twice(shop, name, key, more)
    with pytest.raises(DataProblems) as err:
        load_personas(shop[0]) if name.startswith("personas/") else Engine.load(*shop)
    assert said in str(err.value), err.value


@pytest.mark.parametrize(("variant", "said"), [
    ("{{ call }，您好", "}"),
    ("{% if call %}{{ call }}，您好", "endif"),
    ("{{ call | upper2 }}，您好", "upper2"),
    ("{{ call shop }}，您好", "shop"),
])
def test_a_template_syntax_error_is_said_in_chinese(shop: tuple[Path, Path], variant: str, said: str) -> None:
    path = shop[1] / "listen_apologize/default.formal.j2"
    first = path.read_text(encoding="utf-8").split("{# --- #}")[0].strip()
    edit(path, first, variant)
    (p,) = check_folders(*shop)
    assert p.file == str(path) and p.line == 1
    assert said in p.message and _chinese_before_the_parsers_words(p.message), p.message


def test_a_template_variable_that_does_not_exist_names_the_ones_that_do(shop: tuple[Path, Path]) -> None:
    # "{{ buyer }}" for the buyer's name: Jinja's "'buyer' is undefined" was the whole message
    path = shop[1] / "listen_apologize/default.formal.j2"
    first = path.read_text(encoding="utf-8").split("{# --- #}")[0].strip()
    edit(path, first, "{{ buyer }}，" + first)
    (p,) = check_folders(*shop)
    assert p.file == str(path) and "“buyer”" in p.message and "call" in p.message and "shop" in p.message
    assert _chinese_before_the_parsers_words(p.message), p.message
