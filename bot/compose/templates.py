"""The template library of ``scripts_zh/``: read and checked once, rendered per turn."""

from __future__ import annotations

import re
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import jinja2.meta

from bot.dataload import DataError, DataProblems, Problem

VARIANT_SEPARATOR = "{# --- #}"
# The folder of templates that serve every stage ("叫你们店长来" reads the same anywhere); a
# stage folder's own file of the same key wins, so a shop overrides one stage by adding it there.
SHARED = "shared"
TONES = {"formal": "正式", "warm": "亲切"}
TONE_FILES = {v: k for k, v in TONES.items()}
VARIABLES = ("call", "name", "honorific", "shop", "agent", "product", "order_date", "cause",
             "options", "remedy", "requested", "requested_text", "others", "listed", "what_next", "again",
             "shipping", "damaged", "listed_several", "these", "these_listed", "why", "followed", "them",
             "sum_named", "most", "others_than_sum", "kept_back", "kept_keep", "review_path", "tone",
             "gift")
# Values a render falls back on when the caller leaves them out, each the safe reading: a shop's
# render that does not say whether the remedy is a gift never names it beside the review request
# (a gift beside a review request is tied whatever disclaimer follows).
SAFE_DEFAULTS: dict[str, Any] = {"gift": True}


@dataclass(frozen=True, slots=True)
class Variant:
    id: str
    tone: str
    source: str
    env: jinja2.Environment = field(compare=False, repr=False)
    names: frozenset[str] = frozenset()  # the variables it reads (jinja2.meta)
    slots: tuple[str, ...] = ()  # the same, sorted: what a rendering of it depends on
    _compiled: list[jinja2.Template] = field(default_factory=list, compare=False, repr=False)

    @property
    def template(self) -> jinja2.Template:
        """Jinja's template, compiled when first rendered: its Python code is most of a
        load's template cost, and most variants are never rendered in a process."""
        if not self._compiled:
            self._compiled.append(self.env.from_string(self.source))
        return self._compiled[0]


# Jinja's usual complaints, in Chinese (by a pattern over its words); its own words follow
# in brackets, to search for.
_JINJA_ZH: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(p), zh) for p, zh in (
    (r"unexpected '\}'", "多了一个“}}”或少了一个“{{”：变量写成 {{{{ 名字 }}}}，两边各两个花括号"),
    (r"Unexpected end of template.*'(end\w+)'", "模板结束了，{{% if %}} 或 {{% for %}} 还没有对应的 {{% {0} %}}"),
    (r"unexpected end of template", "模板结束了，括号还没有合上"),
    (r"No filter named '(\w+)'", "没有叫“{0}”的过滤器（| 后面的名字）"),
    (r"No test named '(\w+)'", "没有叫“{0}”的判断（is 后面的名字）"),
    (r"expected token 'end of print statement', got '(.+?)'",
     "{{{{ … }}}} 里只能写一个变量名，这里多了“{0}”（两个变量要分开写：{{{{ a }}}}{{{{ b }}}}）"),
    (r"Encountered unknown tag '(\w+)'",
     "不认识的标签 {{% {0} %}}（能用的有 if、elif、else、endif、for、endfor、set）"),
    (r"unexpected char '(.)'", "这里不能有“{0}”"),
    (r"'(\w+)' is undefined", "模板用了不存在的变量“{0}”"),
    (r"unexpected '(.+?)'", "这里不该有“{0}”"),
))


def jinja_zh(message: str) -> str:
    """One of Jinja's messages in Chinese, its own words in brackets after."""
    for pattern, chinese in _JINJA_ZH:
        m = pattern.search(message)
        if m:
            return f"{chinese.format(*m.groups())}（Jinja：{message}）"
    return f"模板出错（Jinja：{message}）"


def _variant(vid: str, tone: str, source: str, env: jinja2.Environment) -> Variant:
    """One variant, its syntax checked (raises jinja2.TemplateSyntaxError)."""
    names = jinja2.meta.find_undeclared_variables(env.parse(source))
    return Variant(vid, tone, source, env, frozenset(names), tuple(sorted(names)))


class TemplateLibrary:
    """Every ``<folder>/<key>.<tone>.j2`` file, split into variants checked when it loads."""

    def __init__(self, root: Path) -> None:
        if not root.is_dir():
            raise DataError(f"找不到话术模板目录：{root}")
        self.env = jinja2.Environment(
            undefined=jinja2.StrictUndefined, autoescape=False, auto_reload=False,
            keep_trailing_newline=False,
        )
        self.variants: dict[tuple[str, str, str], list[Variant]] = {}
        for path in sorted(root.glob("*/*.j2")):
            key, _, tone_file = path.stem.rpartition(".")
            if tone_file not in TONES or not key:
                raise DataError(f"模板文件名应为 <key>.formal.j2 或 <key>.warm.j2：{path}")
            folder = path.parent.name
            raw = path.read_text(encoding="utf-8").split(VARIANT_SEPARATOR)
            compiled = []
            for i, p in enumerate(raw):
                if not p.strip():
                    continue
                try:
                    compiled.append(_variant(f"{folder}/{key}.{tone_file}#{i + 1}", TONES[tone_file],
                                             p.strip(), self.env))
                except jinja2.TemplateSyntaxError as exc:
                    # the file's line: where the variant's text starts, plus the error's line in it
                    start = sum(r.count("\n") for r in raw[:i]) + p[:len(p) - len(p.lstrip())].count("\n")
                    line = start + (exc.lineno or 1)
                    raise DataProblems([Problem(str(path), f"{key}#{i + 1}", line,
                                                f"模板语法错误：{jinja_zh(exc.message or str(exc))}")]) from exc
            self.variants[folder, key, TONES[tone_file]] = compiled
        self._keys: dict[str, set[str]] = {}
        for folder, key, _ in self.variants:
            self._keys.setdefault(folder, set()).add(key)

    def folders(self) -> set[str]:
        return set(self._keys)

    def home(self, folder: str, key: str) -> str | None:
        """The folder whose ``key`` serves ``folder``: its own, else the shared one, else None."""
        if key in self._keys.get(folder, ()):
            return folder
        return SHARED if key in self._keys.get(SHARED, ()) else None

    def pick_key(self, folder: str, candidates: list[str]) -> str | None:
        """The first candidate key that has templates for ``folder`` (its own or shared)."""
        return next((k for k in candidates if self.home(folder, k)), None)

    def pool(self, folder: str, key: str, tone: str) -> list[Variant]:
        """The variants of ``key`` in ``tone`` that serve ``folder``."""
        home = self.home(folder, key)
        return self.variants.get((home, key, tone), []) if home else []

    def size(self, folder: str, key: str, tone: str) -> int:
        """How many variants ``key`` has for ``folder`` in ``tone``."""
        return len(self.pool(folder, key, tone))

    def choose(
        self, folder: str, key: str, tone: str, count: int, seed: int, avoid: AbstractSet[str]
    ) -> list[Variant]:
        """Up to ``count`` variants, rotating with ``seed`` and skipping ``avoid`` (shown last
        turn); when that skips them all, the pool again: a tone is never left empty."""
        pool = self.pool(folder, key, tone)
        if not pool:
            return []
        start = seed % len(pool)
        ordered = pool[start:] + pool[:start]
        fresh = [v for v in ordered if v.id not in avoid]
        return (fresh or ordered)[:count]

    @staticmethod
    def render(variant: Variant, variables: dict[str, Any]) -> str:
        """Render one variant with Jinja (the only renderer); a missing variable raises
        (StrictUndefined). What costs is kept by the caller: the engine keeps each reply
        by its variant and the values of ``variant.slots``."""
        return " ".join(variant.template.render(**{**SAFE_DEFAULTS, **variables}).split())
