"""SVG charts of the report's tables (pygal), made to sit inline in one offline HTML page."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pygal
from pygal.style import Style

from bot.insights.analytics import Table
from bot.insights.labels import Labels, wording

_STYLE = Style(
    # Chinese first: the SVG's text is drawn with the reader's fonts.
    font_family='"PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC", sans-serif',
    background="white", plot_background="white", foreground="#333", foreground_strong="#111",
    foreground_subtle="#ccc", colors=("#3b7dd8", "#e8833a", "#4caf7a", "#d9534f", "#8e6fc1",
                                      "#c9a227", "#5bc0de", "#999999", "#f28cb1"),
    title_font_size=16, label_font_size=13, major_label_font_size=13, value_font_size=12,
    legend_font_size=13, tooltip_font_size=12,
)


def _tag(node: Any) -> str:
    return node.tag.rsplit("}", 1)[-1] if isinstance(node.tag, str) else ""


def _classes(node: Any) -> list[str]:
    return str(node.get("class", "")).split()


def _without_scripts_or_guides(root: Any) -> Any:
    # pygal writes its configuration for the tooltip script into every chart; with no
    # tooltip script loaded it is dead code, and the page carries no script at all.
    # Every bar carries its value, so the dashed guide lines only cross the labels; in a
    # horizontal chart pygal's own stylesheet shows them whatever show_x_guides and
    # show_y_guides say, so they are taken out here. The axis line at zero stays. The
    # category labels' tooltips (pygal formats the category's index as a value: "1%") go too.
    for parent in list(root.iter()):
        for child in list(parent):
            if (_tag(child) == "script" or (_tag(child) == "path" and "guide" in _classes(child))
                    or (_tag(child) == "title" and "guides" in _classes(parent))):
                parent.remove(child)
    return root


_GAP = 5  # pixels between a bar's end and its value


def _values_after_bars(root: Any) -> Any:
    # pygal centres a value on its bar: a short bar's value then sits on the axis line, and a
    # long one's on the bar's colour. Each value goes just after the end of its bar instead,
    # on white (margin_right leaves room for the longest).
    bars = [n for n in root.iter() if _tag(n) == "rect" and "reactive" in _classes(n)]
    values = [n for n in root.iter() if _tag(n) == "text" and "value" in _classes(n)]
    for bar, value in zip(bars, values, strict=True):
        value.set("x", f"{float(bar.get('x', 0)) + float(bar.get('width', 0)) + _GAP:.2f}")
        value.set("text-anchor", "start")
    return root


# No tooltip script from a CDN (pygal's default) and no XML declaration: the SVG goes
# inside the HTML page, which must work offline. Values are printed on the chart instead.
_BASE: dict[str, Any] = {"js": [], "disable_xml_declaration": True, "style": _STYLE, "width": 720,
                         "print_values": True, "legend_at_bottom": True, "margin": 12}


def _chart(kind: Any, **config: Any) -> Any:
    """A pygal chart of ``kind`` with the report's settings."""
    chart = kind(**_BASE, **config)
    chart.add_xml_filter(_without_scripts_or_guides)
    return chart


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value:.0f}%"


def _cjk_room(names: Sequence[str]) -> int:
    # pygal sizes the label column as if every character were half as wide as it is high;
    # a Chinese character is as wide as it is high, so the other half is added as margin.
    wide = max((sum(ch > "\u2e80" for ch in n) for n in names), default=0)
    return int(_BASE["margin"] + wide * _STYLE.label_font_size // 2)


def tick_step(top: float) -> int:
    """A round step (1, 2, 5, 10, 20, 50…) giving at most ten ticks up to ``top``: a reader
    counts 0, 50, 100…, not 0, 36, 72…"""
    scale = 1
    while True:
        for step in (scale, 2 * scale, 5 * scale):
            if top <= 10 * step:
                return step
        scale *= 10


def _whole_ticks(chart: Any, top: float) -> None:
    # Counts: whole-number ticks, not pygal's 0.2, 0.4…
    step = tick_step(top)
    chart.y_labels = list(range(0, -(-int(top) // step) * step + 1, step))


def _height(rows: int) -> int:
    return 110 + 34 * max(rows, 1)


def _bars(title: str, names: Sequence[str], values: Sequence[float], *, percent: bool = False) -> str:
    # Horizontal bars draw the first label at the bottom: reverse, so the biggest is on top.
    # The right margin holds a value after the longest bar ("100%", "1234").
    chart = _chart(pygal.HorizontalBar, title=title, show_legend=False, height=_height(len(names)),
                   margin_left=_cjk_room(names), margin_right=_GAP + 3 * _STYLE.value_font_size,
                   **({"range": (0, 100), "value_formatter": _percent} if percent else {}))
    chart.add_xml_filter(_values_after_bars)
    if not percent:
        _whole_ticks(chart, max(values, default=0))
    chart.x_labels = list(reversed(names))
    chart.add(title, list(reversed(values)))
    return str(chart.render(is_unicode=True))


def cause_chart(causes: Table, labels: Labels) -> str:
    """Cases per cause (bar)."""
    names = [labels.name("cause", r.key) for r in causes.rows]
    return _bars(wording()["charts"]["causes"], names, [float(r.values[0] or 0) for r in causes.rows])


def rate_chart(table: Table, labels: Labels, title_key: str) -> str | None:
    """The resolution rate of each row that has closed cases (bar, in %); None if no row has."""
    rates = [(labels.name(table.row_kind, key), value) for key, value in
             table.column("resolution_rate").items() if value is not None]
    if not rates:
        return None
    return _bars(wording()["charts"][title_key], [n for n, _ in rates],
                 [float(v) * 100 for _, v in rates], percent=True)


def outcome_chart(outcomes: Table, labels: Labels) -> str | None:
    """How closed cases ended (pie); None without closed cases."""
    if not outcomes.rows:
        return None
    chart = _chart(pygal.Pie, title=wording()["charts"]["outcomes"], height=380, inner_radius=0.4)
    for row in outcomes.rows:
        chart.add(labels.name("outcome", row.key), row.values[0])
    return str(chart.render(is_unicode=True))


def stage_chart(stages: Table, labels: Labels, metric_names: dict[str, str]) -> str | None:
    """Where open and unresolved cases stop (stacked bars); None if no case stopped."""
    if not stages.rows:
        return None
    names = [labels.name("stage", r.key) for r in reversed(stages.rows)]
    chart = _chart(pygal.HorizontalStackedBar, title=wording()["charts"]["stages"],
                   height=_height(len(stages.rows)), margin_left=_cjk_room(names),
                   print_zeroes=False)  # a stage with no open case has no bar to label
    chart.x_labels = names
    for column in ("open", "unresolved"):
        chart.add(metric_names[column], [stages.value(r.key, column) or None for r in reversed(stages.rows)])
    _whole_ticks(chart, max(float(r.values[2] or 0) for r in stages.rows))
    return str(chart.render(is_unicode=True))


def finding_chart(findings: Table, labels: Labels) -> str | None:
    """The guard's findings per code (bar); None without findings."""
    if not findings.rows:
        return None
    names = [labels.name("code", r.key) for r in findings.rows]
    return _bars(wording()["charts"]["findings"], names, [float(r.values[0] or 0) for r in findings.rows])


def charts(tables: dict[str, Table], labels: Labels) -> dict[str, list[str]]:
    """The SVG charts of each section, by section (table) id."""
    metric_names = labels.names["metric"]
    made: dict[str, list[str | None]] = {
        "causes": [cause_chart(tables["causes"], labels), rate_chart(tables["causes"], labels, "cause_rates")],
        "outcomes": [outcome_chart(tables["outcomes"], labels)],
        "remedies": [rate_chart(tables["remedies"], labels, "remedy_rates")],
        "stages": [stage_chart(tables["stages"], labels, metric_names)],
        "findings": [finding_chart(tables["findings"], labels)],
    }
    return {section: [svg for svg in svgs if svg] for section, svgs in made.items()}
