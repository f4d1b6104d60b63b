"""The live machine as Mermaid or Graphviz DOT text, drawn for teaching: the main path in a
straight line, the held stages apart, edges named in Chinese (script.yaml `event_labels`).

An event that leaves every active stage for the same place (没空 → 约定回访 …) is drawn once,
from the box around the main path, instead of once per stage."""

from __future__ import annotations

import itertools
from typing import Any

_MAIN = "main"  # the id of the box around the main path


def _edges(script: Any) -> list[tuple[str, str, str]]:
    """(source, dest, label): an event from most active stages to one place is one edge from
    the main box; one from a held stage back to whichever stage it came from, one edge to it."""
    names = script.flow.event_labels
    active = set(script.active)
    many = max(2, len(active) - 3)
    pairs: set[tuple[str, str, str]] = set()  # (event, source, dest)
    for event_name, by_source in script.table.items():
        for source, transitions in by_source.items():
            for t in transitions:
                if source != t.dest:
                    pairs.add((event_name, source, t.dest))
    folded: set[tuple[str, str, str]] = set()
    for event_name in {e for e, _, _ in pairs}:
        mine = {(s, d) for e, s, d in pairs if e == event_name}
        for dest in {d for _, d in mine}:
            sources = {s for s, d in mine if d == dest}
            if len(sources & active) >= many:
                mine = {(s, d) for s, d in mine if not (d == dest and s in active)} | {(_MAIN, dest)}
        for source in {s for s, _ in mine}:
            dests = {d for s, d in mine if s == source}
            if len(dests & active) >= many:
                mine = {(s, d) for s, d in mine if not (s == source and d in active)} | {(source, _MAIN)}
        folded |= {(event_name, s, d) for s, d in mine}
    seen: dict[tuple[str, str], list[str]] = {}
    rank = _order(script)
    for event_name, s, d in sorted(folded, key=lambda x: (rank(x[1]), rank(x[2]), x[0])):
        label = names.get(event_name, event_name) + ("（回到原来的阶段）" if d == _MAIN else "")
        labels = seen.setdefault((s, d), [])
        if label not in labels:
            labels.append(label)
    return [(s, d, " / ".join(lbls)) for (s, d), lbls in seen.items()]


def _order(script: Any) -> Any:
    stages = [_MAIN, *script.stages]
    return lambda s: stages.index(s) if s in stages else len(stages)


def _main_path(script: Any) -> list[str]:
    return [script.initial, *script.main_path]


def mermaid(script: Any) -> str:
    """``stateDiagram-v2`` text with the Chinese stage labels."""
    main = _main_path(script)
    lines = ["stateDiagram-v2", "    direction LR"]
    for sid, stage in script.stages.items():
        lines.append(f"    {sid}: {stage.label}")
    lines.append(f"    state \"主流程\" as {_MAIN} {{")
    lines.append("        direction LR")
    lines.append(f"        [*] --> {script.initial}")
    main_edges = [(s, d, lbl) for s, d, lbl in _edges(script) if s in main and d in main]
    # the main path first, in its order, so that it is drawn as one line
    spine = list(itertools.pairwise(main))
    main_edges.sort(key=lambda e: spine.index((e[0], e[1])) if (e[0], e[1]) in spine else len(spine))
    for s, d, label in main_edges:
        lines.append(f"        {s} --> {d}: {label}")
    lines.append("    }")
    for s, d, label in _edges(script):
        if (s, d, label) not in main_edges:
            lines.append(f"    {s} --> {d}: {label}")
    lines.append(f"    {script.final} --> [*]")
    return "\n".join(lines) + "\n"


def dot(script: Any) -> str:
    """Graphviz DOT text (rendered to SVG by `dot -Tsvg`)."""
    main = _main_path(script)
    held = [s for s in script.stages if s not in main and s != script.final]
    lines = ["digraph csbot {", "  rankdir=LR; compound=true; newrank=true;",
             '  node [shape=box, style=rounded, fontname="Noto Sans CJK SC"];',
             '  edge [fontname="Noto Sans CJK SC", fontsize=10];',
             f'  subgraph cluster_{_MAIN} {{ label="主流程"; style=rounded; color=gray;']
    for sid in main:
        lines.append(f'    {sid} [label="{script.stages[sid].label}"];')
    lines.append("  }")
    lines.append('  subgraph cluster_held { label="暂停（等人处理）"; style="rounded,dashed"; color=gray; '
                 'rank=same;')
    for sid in held:
        lines.append(f'    {sid} [label="{script.stages[sid].label}", style="rounded,filled", '
                     f'fillcolor="#fff3e0"];')
    lines.append("  }")
    lines.append(f'  {script.final} [label="{script.stages[script.final].label}", shape=doublecircle];')
    # the spine: consecutive main stages, heavy so that they stay on one line
    for a, b in itertools.pairwise(main):
        lines.append(f"  {a} -> {b} [style=invis, weight=100];")
    anchor = main[len(main) // 2]
    for s, d, label in _edges(script):
        attrs = [f'label="{label}"']
        src, dst = s, d
        if s == _MAIN:
            src = anchor
            attrs.append(f"ltail=cluster_{_MAIN}")
        if d == _MAIN:
            dst = anchor
            attrs.append(f"lhead=cluster_{_MAIN}")
        if s in main and d in main:
            attrs.append("weight=10")
        else:
            attrs.append("weight=0")
        lines.append(f"  {src} -> {dst} [{', '.join(attrs)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"
