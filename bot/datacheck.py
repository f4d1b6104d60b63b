"""`csbot check`: validates a shop's copy of the data folders before it goes live.

Every file of dialogs/ against its model (bot/datamodels.py), the personas and the rubric;
every stage reachable from the initial one; every label (intent, cause, emotion, act,
guard finding) a lexicon, the script, the remedies or a template uses named in Chinese in
defaults.yaml (bot/labels.py); every template folder a stage
(or public_reply); every template rendered with sample cases, with and without the
optional case fields, and passed through the guard (no block finding). One line per
problem, with the file, the key and the line; exit 0 when clean, 3 otherwise.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from bot.cli_options import a_folder, config_option, settings
from bot.compose.templates import SHARED
from bot.dataload import DataError, DataProblems, Problem, duplicate_keys, load_yaml

FILES = ("script.yaml", "lexicon/buyer.yaml", "lexicon/agent.yaml", "guard.yaml", "policy.yaml",
         "remedies.yaml", "defaults.yaml", "normalize.yaml")
# template folders that are not stages (care: safety first; shared: templates for every stage)
EXTRA_FOLDERS = frozenset({"public_reply", "care", SHARED})


def check_folders(dialogs: Path, templates: Path, engine: Any = None) -> list[Problem]:
    """Every problem of the data folders ``dialogs`` and ``templates``. Given the ``engine``
    already loaded from them (start-up of serve, assist), the quick form: the templates are
    rendered with one full sample case only, and the personas are left to `csbot train`."""
    problems: list[Problem] = []
    data: dict[str, dict[str, Any]] = {}
    # products.yaml may be left out of a copy (the bundled one is used)
    for name in FILES + (("products.yaml",) if (dialogs / "products.yaml").is_file() else ()):
        try:
            data[name] = load_yaml(dialogs, name)
        except DataProblems as exc:
            problems += exc.problems
        except DataError as exc:
            problems.append(Problem(str(dialogs / name), "", None, str(exc)))
    if engine is None:
        problems += _training(dialogs)
        for path in sorted(dialogs.rglob("*.yaml")):
            if "corpus" not in path.relative_to(dialogs).parts:
                problems += duplicate_keys(path)
    if "defaults.yaml" in data:
        problems += _named(dialogs, templates, data)
    if not templates.is_dir():
        return [*problems, Problem(str(templates), "", None, "找不到话术模板目录")]
    if "script.yaml" in data:
        stages = {s["id"] for s in data["script.yaml"]["stages"]}
        for folder in sorted(p for p in templates.iterdir() if p.is_dir()):
            if folder.name not in stages | EXTRA_FOLDERS:
                problems.append(Problem(str(folder), "", None, f"模板目录“{folder.name}”不是脚本里的阶段"
                                        "（也不是 public_reply、care 或 shared）"))
    if not problems:  # the templates are rendered by the engine: only over sound data
        problems += _rendered(dialogs, templates, engine)
    # A broken defaults.yaml is met by every loader that reads the labels: said once.
    return list(dict.fromkeys(problems))


def _training(dialogs: Path) -> list[Problem]:
    from bot.training.persona import load_personas
    from bot.training.rubric import load_rubric

    out = []
    for load, name in ((load_personas, "personas"), (load_rubric, "rubric.yaml")):
        try:
            load(dialogs)
        except DataProblems as exc:
            out += exc.problems
        except DataError as exc:
            out.append(Problem(str(dialogs / name), "", None, str(exc)))
    return out


def _named(dialogs: Path, templates: Path, data: dict[str, dict[str, Any]]) -> list[Problem]:
    """Labels the data uses that have no Chinese name in defaults.yaml (bot/labels.py: the
    same check the engine makes when it loads)."""
    from bot.labels import Labels, problems, words

    stages = {s["id"]: s["label"] for s in data.get("script.yaml", {}).get("stages", [])}
    remedies = {k: v["label"] for k, v in data.get("remedies.yaml", {}).get("remedies", {}).items()}
    labels = Labels.of(words(dialogs), stages, remedies)
    return problems(dialogs, data, labels, templates)


def _cases() -> Iterator[tuple[str, dict[str, Any]]]:
    """Sample cases: every optional field given, none given, and the buyer without a name."""
    yield "完整案例", {"shop": "示例旗舰店", "buyer_name": "王女士", "buyer_id": "tb_wang",
                   "order_id": "123456789", "product": "纯棉T恤", "order_date": "2026-11-20",
                   "platform": "taobao", "review_rating": "中评", "review_text": "颜色和图片不一样",
                   "review_time": "2026-11-25T10:00:00", "agent": "小美"}
    yield "只有必填项", {"shop": "示例旗舰店", "buyer_name": "王女士"}
    yield "天猫、不知道买家名字", {"shop": "示例旗舰店", "buyer_name": "亲", "platform": "tmall"}


_ABSENT = object()  # a placeholder the variables lack: rendering it fails


def _rendered(dialogs: Path, templates: Path, engine: Any) -> list[Problem]:
    """Every template variant rendered with the sample cases and every cause, then guarded
    (one full case and no cause when ``engine`` is given: the quick form)."""
    import jinja2

    from bot.compose.templates import VARIANT_SEPARATOR, jinja_zh
    from bot.engine import Engine
    from bot.models import Case, Conversation, Finding

    quick = engine is not None
    if engine is None:
        try:
            engine = Engine.load(dialogs, templates)
        except DataProblems as exc:
            return exc.problems
        except DataError as exc:
            return [Problem(str(dialogs), "", None, str(exc))]
    causes: list[str | None] = [None] if quick else [None, *engine.labels.causes]
    cases = [(name, Case.model_validate(fields)) for name, fields in _cases()]
    cases = cases[:1] if quick else cases
    out: dict[tuple[str, int, str], Problem] = {}
    # Most renderings repeat a text another case or cause already gave (about 1 in 16 is
    # new with the bundled data): each distinct text is guarded once. A variant's text is a
    # function of the values of its own placeholders (as the engine's reply cache has it),
    # so it is rendered once per distinct set of them.
    blocks: dict[str, list[Finding]] = {}  # each distinct text's findings, blocks and warnings
    texts: dict[tuple[Any, ...], str] = {}
    made: dict[tuple[str, str, str | None], dict[str, Any]] = {}  # a stage's variables for a case and cause
    for (folder, key, _tone), variants in engine.templates.variants.items():
        for variant in variants:
            file, _, number = variant.id.partition("#")
            n = int(number)
            path = templates / f"{file}.j2"
            for case_name, case in cases:
                for cause in causes:
                    where = f"第 {n} 段，{case_name}，原因 {cause or '未说明'}"
                    try:
                        if (folder, case_name, cause) not in made:
                            conv = Conversation(id="check", case=case, stage=folder,
                                                script_version=engine.script.version)
                            conv.context.cause = cause
                            made[folder, case_name, cause] = engine.variables(conv)
                        variables = {**made[folder, case_name, cause], "tone": variant.tone}
                        slots = (variant.id, *[variables.get(name, _ABSENT) for name in variant.slots])
                        text = texts.get(slots) or engine.templates.render(variant, variables)
                        texts[slots] = text
                    except Exception as exc:  # any failure of a shop's template is reported
                        said = jinja_zh(str(exc))
                        if isinstance(exc, jinja2.UndefinedError):  # say which names there are
                            have = made.get((folder, case_name, cause)) or {}
                            said += f"；可用的变量：{'、'.join(sorted(have))}（见 docs/templates.md）"
                        out.setdefault((str(path), n, "render"), Problem(
                            str(path), f"{key}#{n}", _variant_line(path, n, VARIANT_SEPARATOR),
                            f"渲染失败（{where}）：{said}"))
                        continue
                    if text not in blocks:
                        blocks[text] = engine.understand.findings(text)
                    # a warning too: every agent who sent the shop's own suggestion would get it
                    for f in blocks[text]:
                        said = text[f.span[0]:f.span[1]] if f.span else text
                        verdict = "合规检查拦下（" if f.severity == "block" else "合规检查提醒（注意级，"
                        out.setdefault((str(path), n, f.code), Problem(
                            str(path), f"{key}#{n}", _variant_line(path, n, VARIANT_SEPARATOR),
                            f"{verdict}{f.code}：{f.message}）：“{said}”（{where}）"))
    return list(out.values())


def _variant_line(path: Path, n: int, separator: str) -> int | None:
    """The line where the ``n``-th variant of a template file starts."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return None
    offset = 0
    for i, part in enumerate(text.split(separator), 1):
        if i == n:
            return text.count("\n", 0, offset + len(part) - len(part.lstrip())) + 1
        offset += len(part) + len(separator)
    return None


@click.command()
@click.option("--dialogs", type=click.Path(path_type=Path), default=None, callback=a_folder, metavar="目录",
              envvar="CSBOT_DIALOGS", help="店铺自己的 dialogs 数据目录（默认用内置的）")
@click.option("--templates", type=click.Path(path_type=Path), default=None, callback=a_folder, metavar="目录",
              envvar="CSBOT_TEMPLATES", help="店铺自己的 scripts_zh 话术模板目录")
@click.option("--json", "as_json", is_flag=True, help="输出一个 JSON 对象，供程序读取")
@config_option
def check(dialogs: Path | None, templates: Path | None, as_json: bool, config: Path | None) -> None:
    """检查店铺的数据目录：每个文件的格式、阶段能否走到、标签的中文名、话术模板能否渲染且合规。

    没有问题时退出码为 0，有问题时为 3（每个问题一行：文件、键、行号）。
    """
    from bot.paths import dialogs_dir, templates_dir

    # The folders csbot serve would use: the options, else CSBOT_DIALOGS / the --config file's
    # `dialogs` (a lead who keeps them in the file checks what the service will load).
    s = settings(config, dialogs=dialogs, templates=templates)
    d, t = dialogs_dir(s.dialogs), templates_dir(s.templates)
    problems = check_folders(d, t)
    if as_json:
        click.echo(json.dumps({"ok": not problems, "dialogs": str(d), "templates": str(t),
                               "problems": [p.as_json() for p in problems]}, ensure_ascii=False))
    else:
        for p in problems:
            click.echo(str(p))
        click.echo(f"发现 {len(problems)} 个问题。" if problems else f"数据检查通过：{d}，{t}",
                   err=bool(problems))
    sys.exit(3 if problems else 0)
