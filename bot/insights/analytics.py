"""Pure functions from case records to tables: no database, no wording, only ids and numbers.

A table's rows are keyed by ids of one kind (cause, remedy, stage, outcome, code, severity,
agent, metric); its columns are metric ids, or ids of another kind for a cross table. The
Chinese names are put on at rendering (bot/insights/labels.py). An empty key means "not
recorded" (no cause named, no remedy chosen, no outcome, no agent).

A rate is a float in [0, 1], or None when nothing was there to count (no closed case);
columns and metric rows whose id ends in ``rate`` or ``share`` hold rates.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from bot.insights.records import CaseRecord

Number = int | float | None
BLOCK = "block"  # the guard's severity of what must not be sent


@dataclass(frozen=True, slots=True)
class Row:
    """One row of a table: its key and one value per column."""

    key: str
    values: tuple[Number, ...]


@dataclass(frozen=True, slots=True)
class Table:
    """A titled table of numbers, keyed by ids (see the module docstring)."""

    id: str
    row_kind: str
    columns: tuple[str, ...]
    rows: tuple[Row, ...]
    column_kind: str = "metric"

    def value(self, key: str, column: str) -> Number:
        """The value at a row key and a column id (0 for a row that is not there)."""
        i = self.columns.index(column)
        for row in self.rows:
            if row.key == key:
                return row.values[i]
        return 0

    def column(self, column: str) -> dict[str, Number]:
        """One column as {row key: value}, in row order."""
        i = self.columns.index(column)
        return {row.key: row.values[i] for row in self.rows}


def is_rate(metric: str) -> bool:
    """Whether a metric id names a share (rendered as a percentage)."""
    return metric.endswith(("rate", "share"))


def rate(part: int, whole: int) -> float | None:
    """``part / whole``, or None when there is nothing to divide."""
    return part / whole if whole else None


def _order(counts: Counter[str], order: Sequence[str] = ()) -> list[str]:
    # Keys in the given order, else most cases first; "not recorded" always last.
    if order:
        known = [k for k in order if counts.get(k)]
        rest = sorted(k for k in counts if counts[k] and k not in order and k)
    else:
        known = sorted((k for k in counts if k and counts[k]), key=lambda k: (-counts[k], k))
        rest = []
    return known + rest + ([""] if counts.get("") else [])


def _closed(records: Iterable[CaseRecord]) -> list[CaseRecord]:
    return [r for r in records if not r.is_open]


def _outcome_stats(group: list[CaseRecord]) -> tuple[int, int, float | None]:
    closed = [r for r in group if not r.is_open]
    resolved = sum(r.resolved for r in closed)
    return len(closed), resolved, rate(resolved, len(closed))


def _review_stats(group: list[CaseRecord]) -> tuple[int, float | None]:
    """Closed cases whose review changed, and their share of the closed ones (apart from the
    resolution: a buyer whose problem was solved may well keep the review)."""
    closed = [r for r in group if not r.is_open]
    updated = sum(r.review_updated for r in closed)
    return updated, rate(updated, len(closed))


def _grouped(records: Sequence[CaseRecord], key: Callable[[CaseRecord], str]) -> dict[str, list[CaseRecord]]:
    groups: dict[str, list[CaseRecord]] = {}
    for r in records:
        groups.setdefault(key(r), []).append(r)
    return groups


def overview(records: Sequence[CaseRecord]) -> Table:
    """Cases, open and closed, resolution and review-updated rates (over closed cases),
    and the guard's findings."""
    closed, resolved, resolution = _outcome_stats(list(records))
    updated, updated_rate = _review_stats(list(records))
    findings = [f for r in records for f in r.findings]
    block = [f for f in findings if f.severity == BLOCK]
    block_cases = sum(any(f.severity == BLOCK for f in r.findings) for r in records)
    metrics: list[tuple[str, Number]] = [
        ("cases", len(records)), ("open", len(records) - closed), ("closed", closed),
        ("resolved", resolved), ("resolution_rate", resolution),
        ("review_updated", updated), ("review_updated_rate", updated_rate),
        ("findings", len(findings)), ("block_findings", len(block)), ("block_cases", block_cases),
    ]
    return Table("overview", "metric", ("value",), tuple(Row(k, (v,)) for k, v in metrics))


def _per_group(table_id: str, kind: str, records: Sequence[CaseRecord],
               key: Callable[[CaseRecord], str], share: bool) -> Table:
    groups = _grouped(records, key)
    counts = Counter({k: len(v) for k, v in groups.items()})
    rows = []
    for k in _order(counts):
        closed, resolved, resolution = _outcome_stats(groups[k])
        values: tuple[Number, ...] = (len(groups[k]),)
        if share:
            values += (rate(len(groups[k]), len(records)),)
        rows.append(Row(k, (*values, closed, resolved, resolution, *_review_stats(groups[k]))))
    columns: tuple[str, ...] = ("cases", "share", "closed", "resolved", "resolution_rate") if share else (
        "cases", "closed", "resolved", "resolution_rate")
    columns += ("review_updated", "review_updated_rate")
    return Table(table_id, kind, columns, tuple(rows))


CAUSE_SOURCES = (("review", "from_review"), ("talk", "from_talk"), ("correction", "corrected"))


def causes(records: Sequence[CaseRecord]) -> Table:
    """Why buyers complain: cases per cause (share of all cases) and how many were resolved;
    then where each case's cause came from (its review, the talk, a correction)."""
    table = _per_group("causes", "cause", records, lambda r: r.cause, share=True)
    by_cause = _grouped(records, lambda r: r.cause)
    rows = tuple(Row(row.key, (*row.values, *(
        sum(r.cause_source == source for r in by_cause[row.key]) if row.key else None
        for source, _ in CAUSE_SOURCES))) for row in table.rows)
    return Table(table.id, table.row_kind, (*table.columns, *(m for _, m in CAUSE_SOURCES)), rows)


def remedies(records: Sequence[CaseRecord]) -> Table:
    """What resolves them: cases per remedy the buyer chose, and the resolution rate."""
    return _per_group("remedies", "remedy", records, lambda r: r.remedy, share=False)


def outcomes(records: Sequence[CaseRecord]) -> Table:
    """How closed cases ended: cases per outcome and their share of closed cases."""
    closed = _closed(records)
    counts = Counter(r.outcome for r in closed)
    return Table("outcomes", "outcome", ("cases", "share"), tuple(
        Row(k, (counts[k], rate(counts[k], len(closed)))) for k in _order(counts)))


def cause_outcomes(records: Sequence[CaseRecord]) -> Table:
    """Per cause, how its closed cases ended (a cause x outcome table of case counts)."""
    closed = _closed(records)
    columns = _order(Counter(r.outcome for r in closed))
    groups = _grouped(closed, lambda r: r.cause)
    rows = []
    for k in _order(Counter({k: len(v) for k, v in groups.items()})):
        counts = Counter(r.outcome for r in groups[k])
        rows.append(Row(k, tuple(counts[o] for o in columns)))
    return Table("cause_outcomes", "cause", tuple(columns), tuple(rows), column_kind="outcome")


def stages(records: Sequence[CaseRecord], order: Sequence[str] = ()) -> Table:
    """Where cases stop: open cases by their stage now, closed unresolved ones by the stage
    they were closed from. ``order``: the script's stages, for rows in script order."""
    still_open = Counter(r.stage for r in records if r.is_open)
    unresolved = Counter(r.last_stage for r in records if not r.is_open and not r.resolved)
    total = still_open + unresolved
    return Table("stages", "stage", ("open", "unresolved", "stopped"), tuple(
        Row(k, (still_open[k], unresolved[k], total[k])) for k in _order(total, order)))


def severities(records: Sequence[CaseRecord]) -> Table:
    """The guard's findings per severity: how many, and in how many cases."""
    return _findings_by("severities", "severity", records, lambda code, severity: severity)


def findings(records: Sequence[CaseRecord]) -> Table:
    """The guard's findings per code: how many, in how many cases, by how many agents."""
    return _findings_by("findings", "code", records, lambda code, severity: code)


def _findings_by(table_id: str, kind: str, records: Sequence[CaseRecord],
                 key: Callable[[str, str], str]) -> Table:
    hits: Counter[str] = Counter()
    cases: dict[str, set[str]] = {}
    agents: dict[str, set[str]] = {}
    for r in records:
        for f in r.findings:
            k = key(f.code, f.severity)
            hits[k] += 1
            cases.setdefault(k, set()).add(r.id)
            agents.setdefault(k, set()).add(r.agent)
    return Table(table_id, kind, ("findings", "cases", "agents"), tuple(
        Row(k, (hits[k], len(cases[k]), len(agents[k]))) for k in _order(hits)))


def agents(records: Sequence[CaseRecord]) -> Table:
    """Per agent: cases, closed, resolved, resolution rate, findings and block findings."""
    groups = _grouped(records, lambda r: r.agent)
    rows = []
    for k in _order(Counter({k: len(v) for k, v in groups.items()})):
        group = groups[k]
        closed, resolved, resolution = _outcome_stats(group)
        found = [f for r in group for f in r.findings]
        rows.append(Row(k, (len(group), closed, resolved, resolution, len(found),
                            sum(f.severity == BLOCK for f in found))))
    return Table("agents", "agent", ("cases", "closed", "resolved", "resolution_rate", "findings",
                                     "block_findings"), tuple(rows))


def agent_codes(records: Sequence[CaseRecord]) -> Table:
    """Per agent, the guard's findings per code (an agent x code table)."""
    per_agent: dict[str, Counter[str]] = {}
    for r in records:
        for f in r.findings:
            per_agent.setdefault(r.agent, Counter())[f.code] += 1
    columns = _order(sum(per_agent.values(), Counter()))
    totals = Counter({a: sum(c.values()) for a, c in per_agent.items()})
    return Table("agent_codes", "agent", tuple(columns), tuple(
        Row(a, tuple(per_agent[a][c] for c in columns)) for a in _order(totals)), column_kind="code")


def build(records: Sequence[CaseRecord], stage_order: Sequence[str] = ()) -> list[Table]:
    """Every table of the report, in reading order."""
    return [overview(records), causes(records), outcomes(records), cause_outcomes(records),
            remedies(records), stages(records, stage_order), severities(records), findings(records),
            agents(records), agent_codes(records)]
