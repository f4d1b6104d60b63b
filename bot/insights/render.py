"""The report as one self-contained HTML page (tables and inline SVG charts) or a CSV file."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from bot.insights import analytics
from bot.insights.analytics import Number, Table
from bot.insights.labels import Labels, wording
from bot.insights.records import CaseRecord, Filters

_HERE = Path(__file__).resolve().parent


@dataclass(frozen=True, slots=True)
class Report:
    """The tables of a set of cases, with what the reader needs to know about their scope."""

    tables: list[Table]
    labels: Labels
    filters: Filters
    cases: int
    generated_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    # the clock the reader's dates were read on (`csbot report`: the shop's time zone)
    zone: str = "UTC"

    @classmethod
    def of(cls, records: list[CaseRecord], labels: Labels, filters: Filters,
           stage_order: list[str] | None = None, zone: str = "UTC") -> Report:
        """The report over ``records`` (already filtered by ``filters``, on ``zone``'s clock)."""
        return cls(analytics.build(records, stage_order or []), labels, filters, len(records), zone=zone)

    def table(self, table_id: str) -> Table:
        """A table by id (``overview``, ``causes``…)."""
        return next(t for t in self.tables if t.id == table_id)


def format_value(value: Number, metric: str) -> str:
    """A value as shown: a rate as a percentage with one decimal, no value as a dash."""
    if value is None:
        return "—"
    if analytics.is_rate(metric):
        return f"{value * 100:.1f}%"
    return str(value)


def _cells(table: Table, labels: Labels) -> tuple[list[str], list[list[str]]]:
    """Header and body of a table, all in Chinese."""
    head = [labels.name("kind", table.row_kind)] + [labels.name(table.column_kind, c) for c in table.columns]
    body = []
    for row in table.rows:
        # An overview row is one metric; elsewhere the column says what the value is.
        metrics = [row.key] * len(table.columns) if table.row_kind == "metric" else list(table.columns)
        body.append([labels.name(table.row_kind, row.key)]
                    + [format_value(v, m) for v, m in zip(row.values, metrics, strict=True)])
    return head, body


def scope(report: Report) -> str:
    """The shop and the dates a report covers, in one Chinese line."""
    words, f = wording(), report.filters
    parts = [f.shop or words["all_shops"]]
    if f.since or f.until:
        parts.append(" ".join(p for p in (
            words["since"].format(date=f.since_shown or f.since.isoformat()) if f.since else "",
            words["until"].format(date=f.until_shown or f.until.isoformat()) if f.until else "") if p))
    else:
        parts.append(words["all_dates"])
    parts.append(words["case_count"].format(n=report.cases))
    return "，".join(parts)


def html(report: Report) -> str:
    """The report as one HTML page: no script, stylesheet or font from the network."""
    from bot.insights.charts import charts  # pygal: only when a page is made

    env = Environment(loader=FileSystemLoader(_HERE), autoescape=select_autoescape(["j2", "html"]),
                      auto_reload=False, keep_trailing_newline=True)
    tables = {t.id: t for t in report.tables}
    svgs = charts(tables, report.labels)
    words = wording()
    sections: list[dict[str, Any]] = []
    for t in report.tables:
        head, body = _cells(t, report.labels)
        # The SVG is pygal's, drawn from escaped labels: trusted markup in the page.
        sections.append({"id": t.id, **words["sections"][t.id], "head": head, "rows": body,
                         "charts": [Markup(svg) for svg in svgs.get(t.id, [])]})
    return env.get_template("report.html.j2").render(
        w=words, scope=scope(report), sections=sections,
        dates_note=words["dates_note"].format(zone=report.zone),
        generated=f"{report.generated_at.astimezone(ZoneInfo(report.zone)):%Y-%m-%d %H:%M}（{report.zone}）")


def csv_bytes(report: Report) -> bytes:
    """The report as one long CSV table, UTF-8 with a BOM (Excel then reads the Chinese).

    One line per value: section, row and metric in Chinese, the value, then the same three as
    ids; filter a column in Excel, or pivot on it."""
    words, labels = wording(), report.labels
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(words["csv_columns"])
    for t in report.tables:
        section = words["sections"][t.id]["title"]
        for row in t.rows:
            for column, value in zip(t.columns, row.values, strict=True):
                metric = row.key if t.row_kind == "metric" else column
                writer.writerow([cell(c) for c in (
                    section, labels.name(t.row_kind, row.key), labels.name(t.column_kind, column),
                    format_value(value, metric), t.id, row.key, column)])
    return out.getvalue().encode("utf-8-sig")


_FORMULA = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?%?")


def cell(text: str) -> str:
    """A CSV cell Excel will not run: one starting like a formula (=, +, -, @, a tab) gets a
    leading apostrophe, which Excel shows as text (an agent's name such as "=HYPERLINK(…)"
    comes from a token). A plain number such as -3 or -1.5% stays a number."""
    if text.startswith(_FORMULA) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text
