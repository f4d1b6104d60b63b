"""What `csbot assist` and `csbot --help` show at 80 and 110 columns, as a person reads it:
the console's help panel, the "可能…" note on every surface, and Chinese lines wrapped
without cutting a number, a Latin word or a command."""

from __future__ import annotations

import io
import itertools
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from rich.cells import cell_len
from rich.console import Console

from bot.channels.console import render
from bot.channels.format import format_suggestion
from bot.models import BuyerUnderstanding, Suggestion
from bot.wrap_zh import units, wrap
from tests.shared import shared_engine

ROOT = Path(__file__).resolve().parent.parent
ENGINE = shared_engine()
CASE = {"shop": "柚子家女装", "buyer_name": "周敏", "honorific": "女士", "product": "连衣裙", "agent": "小林"}
WIDTHS = (80, 110)


def _weak_end() -> Suggestion:
    """A real Suggestion with the "可能…" note: a weak "想结束" while listening."""
    conv, _ = ENGINE.start(CASE)
    for role, text in (("agent", "您好，请问是周女士吗？"), ("buyer", "是我"), ("agent", "您买的连衣裙还记得吗？"),
                       ("buyer", "记得，颜色跟图片差太多了，洗一次就掉色")):
        conv, _ = ENGINE.feed(conv, role, text)  # type: ignore[arg-type]
    weak = BuyerUnderstanding(text="算了算了", intent="end", cause=None, emotion="calm",
                              confidence=ENGINE.flow.evidence["end"] - 0.1)
    conv, sug = ENGINE.feed_understood(conv, weak)
    assert conv.stage == "listen_apologize"
    return sug


def _screen(sug: Suggestion, width: int) -> str:
    out = io.StringIO()
    render(Console(file=out, width=width, highlight=False, color_system=None), sug, ENGINE.labels)
    return out.getvalue()


def _unwrapped(screen: str) -> str:
    """The screen's text with its line breaks (and a panel's borders and padding) taken out."""
    rows = [re.sub(r"^[│ ]+|[│ ]+$", "", line) for line in screen.splitlines()]
    return "".join(rows)


@pytest.mark.parametrize("width", WIDTHS)
def test_the_help_panel_keeps_each_command_on_its_row(width: int, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "PYTHONPATH": str(ROOT), "COLUMNS": str(width)}
    r = subprocess.run([sys.executable, "-m", "bot", "assist", "--shop", "柚子家女装", "--buyer", "周敏",
                        "--product", "连衣裙", "--order-date", "", "--db", f"sqlite:///{tmp_path / 'a.db'}"],
                       input="/结束\n/quit\n", text=True, capture_output=True, env=env, cwd=ROOT, timeout=60,
                       encoding="utf-8")
    assert r.returncode == 0, r.stderr
    panel = r.stdout[:r.stdout.index("╰")].splitlines()
    rows = {m.group(1): line for line in panel if (m := re.match(r"│\s+(/\S+)", line))}
    # one example, not the whole list of outcomes (typing /结束 alone lists them)
    assert "登记结果并结束，如 /结束 已解决" in rows["/结束"]
    assert "未改评" not in r.stdout[:r.stdout.index("╰")]
    # /恢复 says both what it does on a held case and on a closed one
    assert "恢复约定回访或暂停的会话；已结束的则再联系一次" in rows["/恢复"]
    assert all(cell_len(line) <= width for line in panel)
    # typing /结束 alone lists the outcomes, its example kept whole on the line
    assert any("请写上结果，如 /结束 已解决。" in line for line in r.stdout.splitlines()), r.stdout
    for line in panel[1:]:  # a command's row, or a heading: no description wrapped to the edge
        assert line.startswith("│   ") or line.strip("│ ").endswith("："), line


@pytest.mark.parametrize("width", WIDTHS)
def test_the_consoles_maybe_note_says_how_to_confirm_once(width: int) -> None:
    text = _unwrapped(_screen(_weak_end(), width))
    note = text[text.index("【提示】可能"):]
    note = note[:note.index("。如果是") + len("。如果是，输入 /确认 转到“致谢结束”。")]
    assert note == "【提示】可能：买家想结束对话。把握不大，阶段先不变。如果是，输入 /确认 转到“致谢结束”。"
    assert "侧边栏" not in text and "）（" not in text and text.count("/确认") == 1


def test_a_chat_says_the_sidebar_confirms_and_the_api_names_no_surface() -> None:
    sug = _weak_end()
    (note,) = [w for w in sug.warnings if w.code == "maybe_end"]
    assert note.message == "可能：买家想结束对话。把握不大，阶段先不变。"  # no surface's own way here
    assert note.action is not None and note.action.label == "致谢结束"
    _, body = format_suggestion(sug, ENGINE.labels)
    line = next(x for x in body.splitlines() if "可能" in x)
    assert line == "⚠ 【提示】可能：买家想结束对话。把握不大，阶段先不变。如果是，在侧边栏点“确认”转到“致谢结束”。"
    assert "/确认" not in body and "/阶段" not in body  # a chat has no command for it


def test_a_sidebar_note_names_its_button() -> None:
    # the sidebar's JavaScript adds the same sentence as NoteAction.how, with its button
    page = (ROOT / "bot/server/sidebar.html").read_text(encoding="utf-8")
    assert "msg += '如果是，点“确认”' + (f.action.label ? '转到“' + f.action.label + '”' : '') + '。'" in page
    note = _weak_end().warnings[-1]
    assert note.action is not None and note.action.how("点“确认”") == "如果是，点“确认”转到“致谢结束”。"


def _closing_replies() -> list[str]:
    """The real replies with "30天" (closing, the buyer agreed to change the review)."""
    texts: list[str] = []
    for path in sorted((ROOT / "scripts_zh/closing").glob("intent-agree_review.*.j2")):
        texts += [line for line in path.read_text(encoding="utf-8").splitlines() if "30" in line]
    return [t.replace("{{ product }}", "连衣裙") for t in texts]


@pytest.mark.parametrize("width", range(40, 121, 3))
def test_a_reply_never_breaks_inside_a_number_or_a_command(width: int) -> None:
    sug = _weak_end()
    replies = _closing_replies()
    assert replies
    sug = sug.model_copy(update={"suggestions": [
        s.model_copy(update={"text": t}) for s, t in zip(sug.suggestions * 3, replies, strict=False)]})
    screen = _screen(sug, width)
    assert len(sug.suggestions) == len(replies)
    assert screen.count("30") == sum(r.count("30") for r in replies)  # no "3" / "0" across lines
    assert screen.count("/确认") == 1  # the note's command is whole too
    assert all(cell_len(line) <= width for line in screen.splitlines())


def test_wrap_breaks_where_chinese_may() -> None:
    text = "中差评在30天内可以修改一次，输入 /确认 转到“致谢结束”（taobao.traderate）。"
    widest = cell_len("（taobao.traderate）。")  # the longest run that must stay whole
    for width in range(8, 60):
        lines = wrap(text, width)
        assert "".join(lines).replace(" ", "") == text.replace(" ", "")
        assert all(cell_len(line) <= width for line in lines)
        if width < widest:
            continue  # that run is cut by cells: nothing else fits it
        assert not any(line.startswith(("，", "。", "）", "”")) for line in lines), lines
        assert not any(line.endswith(("（", "“")) for line in lines), lines
        assert all(word in "\n".join(lines) for word in ("30", "/确认", "（taobao.traderate）。")), lines
    assert units("在30天") == ["在", "30", "天"]


def _help(args: list[str], width: int) -> str:
    from bot.cli import main

    result: Any = CliRunner().invoke(main, [*args, "--help"], terminal_width=width)
    return str(result.output)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("group", [[], ["corrections"], ["db"]])
def test_command_summaries_are_whole_and_fit(group: list[str], width: int) -> None:
    text = _help(group, width)
    rows = text[text.index("命令："):].splitlines()[1:]
    assert rows and not any(row.rstrip().endswith("...") for row in rows), rows
    assert all(cell_len(line) <= width for line in text.splitlines()), text
    short = {"serve": "启动 HTTP 服务（REST、WebSocket、指标、渠道回调）。",
             "export": "把客服的更正导出为语料，每行一条 JSON。",
             "revision": "开发者用：生成下一个数据库修订文件。"}
    for name, summary in short.items():
        row = next((r for r in rows if r.split() and r.split()[0] == name), None)
        assert row is None or row.split(None, 1)[1] == summary


class _Typed(Console):
    """A console whose prompts are answered from a list, as a person would type them."""

    def __init__(self, answers: list[str]) -> None:
        super().__init__(file=io.StringIO(), width=80)
        self.answers = answers

    def input(self, prompt: Any = "", **_: Any) -> str:  # type: ignore[override]
        self.print(prompt, end="")
        return self.answers.pop(0)


def test_a_chat_line_typed_at_the_product_prompt_is_refused_not_taken_as_the_product() -> None:
    from bot.channels.console import interview

    console = _Typed(["买：你们客服在忙也不至于半天才回复一句话吧", "/帮助", "碎花连衣裙", ""])
    shop, buyer, product, _ = interview(console, "柚子家女装", "王女士", None, None, asked_date=False)
    assert (shop, buyer, product) == ("柚子家女装", "王女士", "碎花连衣裙")
    out = console.file.getvalue()  # type: ignore[attr-defined]
    assert out.count("像是对话里的一句话，不像商品名") == 2
    assert console.answers == []


def test_a_chat_line_typed_at_the_name_prompts_is_refused_not_taken_as_a_name() -> None:
    # "买：你好" was taken as the buyer's name: "您好，请问是买：你好吗？" in every suggestion.
    from bot.channels.console import interview

    console = _Typed(["我：您好", "柚子家女装", "买：你好", "王女士", "碎花连衣裙", ""])
    shop, buyer, product, _ = interview(console, None, None, None, None, asked_date=False)
    assert (shop, buyer, product) == ("柚子家女装", "王女士", "碎花连衣裙")
    out = console.file.getvalue()  # type: ignore[attr-defined]
    assert "“我：您好”像是对话里的一句话，不像店铺名。" in out
    assert "“买：你好”像是对话里的一句话，不像买家的称呼。" in out
    assert console.answers == []


def test_the_assist_help_lines_up_its_descriptions() -> None:
    # "/语气 正式|亲切（/tone）" had one space too many: its description started a cell late.
    from bot.channels.console import HELP

    starts = set()
    for line in HELP.splitlines():
        if line.startswith("  /") and "）" in line:
            head = re.match(r"^(.*?）\s+)", line)
            assert head is not None
            starts.add(cell_len(head.group(1)))
    assert len(starts) == 1, starts


@pytest.mark.parametrize("width", (60, 80, 100, 110))
def test_the_stage_bar_is_one_line_and_marks_where_the_case_is(width: int) -> None:
    # The stage and the main path stay on the screen's first line at every width: spaced
    # arrows where they fit, then tight ones, then the steps around the current one.
    sug = _weak_end()
    first, second = _screen(sug, width).splitlines()[:2]
    assert first.startswith("阶段：倾听致歉") and cell_len(first) <= width
    assert "→" not in second and "致谢结束" not in second  # no step wrapped onto the next line
    assert "确认商品" in first and "解释原因" in first  # the steps before and after are shown
    if width >= 100:
        assert "确认身份 → 确认商品 → 倾听致歉" in first and first.endswith("致谢结束")


def test_the_record_outcome_note_names_each_surfaces_own_way() -> None:
    # The sidebar records an outcome with its list, a chat in the sidebar: the note itself
    # names no console command; the console adds its /结束.
    conv, _ = ENGINE.start(CASE)
    for role, text in (("agent", "您好，请问是周女士吗？"), ("buyer", "在开会，晚点再说"),
                       ("agent", "好的，那我今晚八点联系您可以吗？"), ("agent", "好的，谢谢您，再见")):
        conv, sug = ENGINE.feed(conv, role, text)  # type: ignore[arg-type]
    (note,) = [w for w in sug.warnings if w.code == "record_outcome"]
    assert "/" not in note.message and "登记结果" in note.message
    assert "/结束 <结果>" in _unwrapped(_screen(sug, 80))
    assert "/结束" not in "".join(format_suggestion(sug, ENGINE.labels))


def _all_commands() -> list[list[str]]:
    import click

    from bot.cli import main

    out: list[list[str]] = []
    for name, cmd in main.commands.items():
        out.append([name])
        if isinstance(cmd, click.Group):
            out += [[name, sub] for sub in cmd.commands]
    return out


@pytest.mark.parametrize("width", WIDTHS)
def test_a_commands_description_is_wrapped_to_the_terminal_not_to_the_source(width: int) -> None:
    # A docstring line broken mid-sentence in the source left "列给出" alone on a line: a
    # line inside a paragraph (not its last) that ends mid-sentence fills most of the width.
    bad = []
    for args in _all_commands():
        text = _help(args, width)
        head = text.split("选项：")[0]
        for para in head.split("\n\n")[1:]:
            lines = [ln for ln in para.splitlines() if ln.strip()]
            bad += [(args, a) for a, _ in itertools.pairwise(lines)
                    if cell_len(a) < width * 0.6 and not re.search("[。！？：]$", a.rstrip())
                    and "  " not in a.strip()]  # an example table's aligned row is its own line
    assert not bad, bad


def test_a_maybe_label_names_no_stage_so_a_renamed_stage_leaves_none_stale() -> None:
    # "说出了问题（倾听致歉）": after a shop renamed the stage 倾听道歉 the note read
    # "可能：买家说出了问题（倾听致歉）…转到“倾听道歉”". Every surface names the stage itself.
    stages = [st.label for st in ENGINE.script.stages.values()]
    for event, m in ENGINE.flow.maybe.items():
        assert not any(label in m.label for label in stages), (event, m.label)


def test_a_chat_line_typed_at_the_date_prompt_is_told_as_such() -> None:
    """It was "看不懂这个日期：“买：…”", as if the date were wrong rather than the line early."""
    from bot.channels.console import interview

    console = _Typed(["买：裙子起球了", ""])
    _, _, _, day = interview(console, "柚子家女装", "王女士", "碎花连衣裙", None, asked_date=False)
    out = console.file.getvalue()  # type: ignore[attr-defined]
    assert day is None and "“买：裙子起球了”像是对话里的一句话，不像下单日期" in out and "看不懂" not in out


def test_piped_input_that_ends_at_a_question_is_said_not_a_silent_exit_0(tmp_path: Path) -> None:
    """Lines piped into `csbot assist` without --order-date were all eaten as date answers,
    nothing was saved, and the exit code was 0."""
    from click.testing import CliRunner

    from bot.cli import main

    db = tmp_path / "a.db"
    r = CliRunner().invoke(main, ["assist", "--db", f"sqlite:///{db}", "--shop", "柚子家", "--buyer", "周",
                                  "--product", "裙子"], input="买：裙子起球了\n我：抱歉\n")
    assert r.exit_code == 2, r.output
    assert "输入已经结束，案例信息还没有填完" in r.output and "--order-date" in r.output
