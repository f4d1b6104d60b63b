"""Reading the YAML data files of a dialogs folder, checked against their models
(bot/datamodels.py) as they load."""

from __future__ import annotations

import re
from collections.abc import Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import yaml

if TYPE_CHECKING:
    from pydantic import BaseModel

M = TypeVar("M", bound="BaseModel")

# libyaml's loader reads the lexicons several times faster (start-up of every command).
try:
    from yaml import CSafeLoader as _Base
except ImportError:  # PyYAML built without libyaml: the same reading in pure Python
    from yaml import SafeLoader as _Base  # type: ignore[assignment]


class DuplicateKey(yaml.MarkedYAMLError):
    """A key written twice in one mapping of a data file (told by ``yaml_problem``)."""


class _Loader(_Base):
    """Every data file's loader. YAML keeps the last of a key written twice and drops the
    first without a word (a second ``causes:`` appended for a new cause wiped the bundled
    rules): here it stops the load, for every command (issue 15)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        pairs = node.value
        mapping = super().construct_mapping(node, deep)
        # Fewer keys than were written: one twice. Two lengths compared, nothing measurable
        # at start-up; a merge (<<) makes a new list, and may override a key on purpose.
        if len(mapping) < len(pairs) and node.value is pairs:
            raise DuplicateKey(problem="a key written twice", problem_mark=node.start_mark)
        return mapping


def read_yaml(raw: bytes | str) -> Any:
    """YAML text as Python data, read by libyaml where it is installed (yaml.safe_load is
    the same reading in pure Python, several times slower); raises yaml.YAMLError."""
    return yaml.load(raw, Loader=_Loader)


class DataError(ValueError):
    """A data file in dialogs/ or scripts_zh/ is missing or malformed."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem in a data file: where (file, key path, line) and what, in Chinese."""

    file: str
    key: str  # "stages[3].label"; "" for the file as a whole
    line: int | None
    message: str

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        return f"{where}：{self.key + '：' if self.key else ''}{self.message}"

    def as_json(self) -> dict[str, Any]:
        return {"file": self.file, "key": self.key, "line": self.line, "message": self.message}


class DataProblems(DataError):
    """A data file that loads but does not hold what its model says."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def load_yaml(folder: Path, name: str) -> dict[str, Any]:
    """Load ``folder/name`` as a YAML mapping, checked against its model when it has one,
    with errors that name the file, the key and the line."""
    path = folder / name
    try:
        with path.open(encoding="utf-8") as fh:
            data = yaml.load(fh, Loader=_Loader)
    except FileNotFoundError as exc:
        raise DataError(f"缺少数据文件：{path}") from exc
    except yaml.YAMLError as exc:
        raise yaml_problem(path, exc) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"无法读取数据文件：{path}：{exc}") from exc
    return validate(path, name, data)


def parse_yaml(folder: Path, name: str, raw: bytes) -> dict[str, Any]:
    """``load_yaml`` of bytes already read from ``folder/name``."""
    path = folder / name
    try:
        data = yaml.load(raw, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise yaml_problem(path, exc) from exc
    return validate(path, name, data)


def validate(path: Path, name: str, data: Any) -> dict[str, Any]:
    """``data`` (read from ``path``) if it holds what the model of ``name`` says; a
    DataProblems listing every problem otherwise. Files without a model: a mapping."""
    if not isinstance(data, dict):
        raise DataProblems([Problem(str(path), "", 1, "数据文件应为映射（key: value）")])
    problems = check(path, name, data)
    if problems:
        raise DataProblems(problems)
    return data


def check(path: Path, name: str, data: dict[str, Any]) -> list[Problem]:
    """The problems of one loaded file against its model (none for a file without one)."""
    from pydantic import ValidationError

    from bot.datamodels import MODELS, references

    model = MODELS.get(name)
    if model is None:
        return []
    try:
        parsed = model.model_validate(data)
    except ValidationError as exc:
        return invalid(path, exc).problems
    return _located(path, list(references(name, parsed)))


def validated(path: Path, model: type[M], data: Any, context: dict[str, Any] | None = None) -> M:
    """``data`` read from ``path`` as ``model`` (a file read outside ``load_yaml``: personas,
    the rubric, products); a DataProblems naming the file, the key and the line otherwise."""
    from pydantic import ValidationError

    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        raise invalid(path, exc) from exc


def invalid(path: Path, exc: Any) -> DataProblems:
    """A pydantic ValidationError on the data of ``path`` as Chinese problems at their lines."""
    return DataProblems(_located(path, [(tuple(e["loc"]), message_of(e)) for e in exc.errors()]))


def _located(path: Path, found: list[tuple[tuple[str | int, ...], str]]) -> list[Problem]:
    if not found:
        return []
    lines = _Lines(path)
    return [Problem(str(path), _key(loc), lines.of(loc), msg) for loc, msg in found]


# -- Chinese messages ------------------------------------------------------------------

_TYPES = {
    "string_type": "应为文本", "int_type": "应为整数", "int_parsing": "应为整数",
    "int_from_float": "应为整数", "float_type": "应为数字", "float_parsing": "应为数字",
    "bool_type": "应为 true 或 false", "bool_parsing": "应为 true 或 false",
    "list_type": "应为列表", "dict_type": "应为映射（key: value）", "tuple_type": "应为列表",
    "model_type": "应为映射（key: value）", "model_attributes_type": "应为映射（key: value）",
}

_BOUNDS = {"greater_than_equal": ("ge", "不小于"), "less_than_equal": ("le", "不大于"),
           "greater_than": ("gt", "大于"), "less_than": ("lt", "小于")}


def message_of(e: Any) -> str:
    """One pydantic error (an item of ``ValidationError.errors()``) in Chinese."""
    kind, ctx = e["type"], e.get("ctx") or {}
    got = _shown(e.get("input"))
    if kind == "missing":
        return "缺少必填的键"
    if kind == "extra_forbidden":
        key = str(e["loc"][-1]) if e.get("loc") else ""
        if key[:1].isspace():  # a full-width space (the IME's) before the key: not indentation to YAML
            return "行首是全角空格“\u3000”：缩进要用半角空格（中文输入法下切到半角）"
        return "不认识这个键（拼写错了？）"
    if kind == "literal_error":
        expected = str(ctx.get("expected", "")).replace(" or ", ", ").replace(", ", "、")
        return f"应为以下之一：{expected}，实际是 {got}"
    if kind in ("string_too_short", "too_short"):
        return "不能为空"
    if kind in _BOUNDS:
        key, said = _BOUNDS[kind]
        bound = ctx.get(key)
        shown = f"{bound:g}" if isinstance(bound, float) else str(bound)  # 0, not 0.0
        return f"应{said} {shown}，实际是 {got}"
    if kind == "finite_number":
        return f"应为有限的数字，实际是 {got}"
    if kind in ("too_long",):
        return f"项数不对，实际是 {got}"
    if kind in _TYPES:
        return f"{_TYPES[kind]}，实际是 {got}"
    if kind == "value_error":  # a model's own check: its message is already Chinese
        return str(ctx.get("error", e.get("msg", kind)))
    return f"{e.get('msg', kind)}（{got}）"


def _shown(value: Any) -> str:
    if value is None:  # "key:" with nothing after it
        return "空的（冒号后面什么也没写）"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = repr(value)
    text = text if len(text) <= 40 else text[:37] + "…"
    if isinstance(value, str) and _FULL_WIDTH_KEY.match(value):
        text += "（键后面的冒号是全角的“：”？要用半角的“:”）"
    return text


# How pydantic names the member of a union it tried, or a mapping's key: not keys of the file.
_TAG = re.compile(r"(str|int|float|bool|none|(list|dict|tuple|literal|set)\[.*\]|\[key\]|function-\w+\[.*\])",
                  re.IGNORECASE)


def _is_tag(part: str | int) -> bool:
    return isinstance(part, str) and _TAG.fullmatch(part) is not None


def _key(loc: tuple[str | int, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not _is_tag(part):
            out += ("." if out else "") + str(part)
    return out


# The parser's usual complaints, in Chinese (by how they start); its own words follow in
# brackets, to search for, and stand alone for the rare ones not here.
_YAML_ZH = (
    ("mapping values are not allowed", "这里不能有冒号“:”（值里有冒号时，给整个值加上引号）"),
    ("found character", "这个字符不能放在这里：Tab 缩进请改用空格；以 @ 或 ` 开头的值要加引号"),
    ("found a tab character", "这一行用了 Tab 缩进：请改用空格"),
    ("but found another document", "文件中间有一行 ---：一个数据文件只能有一份数据，删掉这一行"),
    ("did not find expected alphabetic or numeric character",
     "& 或 * 后面要跟名字：值以 & 或 * 开头时给整个值加上引号"),
    ("could not find expected ':'", "缺少冒号“:”"),
    ("did not find expected key", "这里应该是一个键：缩进没对齐？"),
    ("did not find expected ',' or '}'", "花括号 {…} 里缺少逗号或右花括号 }"),
    ("did not find expected ',' or ']'", "方括号 […] 里缺少逗号或右方括号 ]"),
    ("did not find expected '-' indicator", "列表的这一项缩进没对齐（每项以 - 开头）"),
    ("did not find expected node content", "这里缺少内容"),
    ("expected <block end>", "缩进没对齐"),
    ("found unexpected end of stream", "文件结束了，引号或括号还没有合上"),
    ("found unknown escape character", "双引号里有不认识的转义（反斜杠 \\ 后面的字符）：改用单引号，或写成两个反斜杠"),
    ("found undefined alias", "引用了没有定义的锚点（*名字）"),
)


def _yaml_zh(problem: str) -> str:
    for english, chinese in _YAML_ZH:
        if problem.startswith(english):
            return f"{chinese}（YAML：{problem}）"
    return problem


# A key followed by the full-width colon a Chinese input method types: no key to YAML.
_FULL_WIDTH_KEY = re.compile(r"\s*(?:-\s+)?[A-Za-z_][A-Za-z0-9_.-]*\s*：")


def yaml_problem(path: Path, exc: yaml.YAMLError) -> DataProblems:
    """A YAML syntax error as a problem at its line, said in Chinese when the parser's words
    are among the usual ones. Two slips the parser notices only later are told where they
    are: a key with a full-width colon, a key indented further than the one before it."""
    mark = getattr(exc, "problem_mark", None)
    words = getattr(exc, "problem", None) or str(exc)
    if isinstance(exc, DuplicateKey):  # every key written twice, as `csbot check` says them
        return DataProblems(duplicate_keys(path) or [Problem(
            str(path), "", int(mark.line) + 1 if mark else None,
            "这个映射里有两个键读出来是同一个（例如 yes 和 true）：YAML 只留后一个，前一个会被丢掉；把两处合成一个")])
    if mark is None:
        return DataProblems([Problem(str(path), "", None,
                                     f"数据文件格式错误（不是合法的 YAML）：{_yaml_zh(words)}")])
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        lines = []
    line, column = int(mark.line) + 1, int(mark.column) + 1
    slip = _slip(lines, line, words)
    if slip is not None:
        line, said = slip
        return DataProblems([Problem(str(path), "", line,
                                     f"数据文件格式错误（不是合法的 YAML）：{said}（YAML：{words}）")])
    return DataProblems([Problem(str(path), "", line,
                                 f"数据文件格式错误（不是合法的 YAML），第 {column} 列：{_yaml_zh(words)}")])


def _slip(lines: list[str], line: int, words: str) -> tuple[int, str] | None:
    """(line, what) of a full-width colon after a key at or before ``line``, or of ``line``
    indented past the line above it (a sibling key, not a child): None for neither."""
    for n in range(min(line, len(lines)), 0, -1):
        if _FULL_WIDTH_KEY.match(lines[n - 1]):
            return n, "键后面的冒号是全角的“：”，要改成半角的“:”，后面再加一个空格（中文输入法下切到英文标点）"
    if words.startswith("mapping values are not allowed") and 1 < line <= len(lines):
        above = next((ln for ln in reversed(lines[:line - 1]) if ln.strip() and not ln.lstrip().startswith("#")), "")
        here, there = _indent(lines[line - 1]), _indent(above)
        if here > there and not above.split(" #")[0].rstrip().endswith(":"):
            return line, f"这一行比上一行多缩进了 {here - there} 格：同一层的键要左对齐"
    return None


def _indent(text: str) -> int:
    return len(text) - len(text.lstrip(" "))


def duplicate_keys(path: Path) -> list[Problem]:
    """Keys written twice in one mapping of ``path``: YAML keeps the last and drops the
    first without a word (a second ``causes:`` appended for a new cause wiped the bundled
    rules). A file that does not parse is left to its loader."""
    try:
        root = yaml.compose(path.read_text(encoding="utf-8"), Loader=_Loader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return []
    out: list[Problem] = []
    todo: list[tuple[Any, str]] = [(root, "")]
    while todo:
        node, where = todo.pop()
        if isinstance(node, yaml.SequenceNode):
            todo += [(v, f"{where}[{i}]") for i, v in enumerate(node.value)]
        elif isinstance(node, yaml.MappingNode):
            seen: dict[str, int] = {}
            for k, v in node.value:
                key = str(k.value) if isinstance(k, yaml.ScalarNode) else ""
                here = f"{where}.{key}" if where else key
                line = int(k.start_mark.line) + 1
                if key and key in seen:
                    out.append(Problem(str(path), here, line,
                                       f"这个键写了两次（第 {seen[key]} 行和第 {line} 行）：YAML 只留后一个，"
                                       "前一个下面的内容会被整个丢掉；把两处合成一个"))
                seen.setdefault(key, line)
                todo.append((v, here))
    return sorted(out, key=lambda p: p.line or 0)


class _Lines:
    """Line numbers of keys, from the file's YAML node tree (read only when a problem is
    reported: loading keeps libyaml's fast path)."""

    def __init__(self, path: Path) -> None:
        try:
            self.root: Any = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            self.root = None

    def of(self, loc: tuple[str | int, ...]) -> int | None:
        node = self.root
        if node is None:
            return None
        line: int = node.start_mark.line + 1
        for part in loc:
            if isinstance(node, yaml.MappingNode):
                for k, v in node.value:
                    if isinstance(k, yaml.ScalarNode) and k.value == str(part):
                        line, node = int(k.start_mark.line) + 1, v
                        break
                else:
                    if isinstance(part, int) or _is_tag(part):
                        continue
                    return line  # a missing key: the line of the mapping that lacks it
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
                if part >= len(node.value):
                    return line
                node = node.value[part]
                line = int(node.start_mark.line) + 1
            elif _is_tag(part):
                continue
            else:
                return line
        return line
