"""The live machine as Mermaid or Graphviz DOT text."""

from __future__ import annotations

from typing import Any


def _edges(script: Any) -> list[tuple[str, str, str]]:
    seen: dict[tuple[str, str], list[str]] = {}
    for event_name, event in script.machine.events.items():
        for source, transitions in event.transitions.items():
            for t in transitions:
                labels = seen.setdefault((source, t.dest), [])
                if event_name not in labels:
                    labels.append(event_name)
    return [(s, d, " / ".join(lbls)) for (s, d), lbls in seen.items()]


def mermaid(script: Any) -> str:
    """``stateDiagram-v2`` text with the Chinese stage labels."""
    lines = ["stateDiagram-v2"]
    for sid, stage in script.stages.items():
        lines.append(f"    {sid}: {stage.label}（{sid}）")
    lines.append(f"    [*] --> {script.initial}")
    for s, d, label in _edges(script):
        lines.append(f"    {s} --> {d}: {label}")
    lines.append(f"    {script.final} --> [*]")
    return "\n".join(lines) + "\n"


def dot(script: Any) -> str:
    """Graphviz DOT text (rendered to SVG by `dot -Tsvg`)."""
    lines = ["digraph csbot {", "  rankdir=LR;", '  node [shape=box, style=rounded, fontname="Noto Sans CJK SC"];']
    for sid, stage in script.stages.items():
        lines.append(f'  {sid} [label="{stage.label}\\n{sid}"];')
    for s, d, label in _edges(script):
        lines.append(f'  {s} -> {d} [label="{label}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"
