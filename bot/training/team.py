"""`csbot train --report DIR`: a team lead's summary of a folder of saved training sessions.

Per trainee: the scores over time, the findings that come back most, and the personas they
fail. The same three ways out as `csbot report`: a table in the terminal, one offline HTML
page (inline SVG, no script), or one long CSV table (UTF-8 with BOM, for Excel).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from html import escape
from pathlib import Path
from typing import Any

from bot.training.persona import titled
from bot.training.rubric import Labels

UNSIGNED = "未署名"
# TranscriptFiles names a session {persona}-seed{N}-{YYYYmmdd-HHMMSS}[-n].jsonl: the wall
# clock lives in the file name only, so the transcript itself stays byte-for-byte replayable.
_STAMP = re.compile(r"-(\d{8}-\d{6})(?:-\d+)?$")


@dataclass(frozen=True, slots=True)
class Played:
    """One saved session, as the summary needs it."""

    trainee: str
    persona: str
    title: str
    kind: str
    when: datetime | None
    total: int
    passed: bool
    findings: tuple[str, ...]
    path: Path
    # the codes that failed this session (a 禁止-level finding, paying an extortioner)
    failing: frozenset[str] = frozenset()


@dataclass(slots=True)
class Trainee:
    """One trainee's sessions, oldest first."""

    name: str
    sessions: list[Played] = field(default_factory=list)

    @property
    def average(self) -> int:
        return round(sum(s.total for s in self.sessions) / len(self.sessions))

    @property
    def passed(self) -> int:
        return sum(s.passed for s in self.sessions)

    def common_findings(self, n: int = 3) -> list[tuple[str, int]]:
        """The codes found in the most sessions (a habit on every reply of one session, such
        as saying 你, is one session, not eight problems). Among equals, the codes that failed
        a session come first (a bribe is not cut behind saying 你), then first found first."""
        seen = Counter(f for s in self.sessions for f in dict.fromkeys(s.findings))
        failed = Counter(f for s in self.sessions for f in s.failing)
        order = {code: i for i, code in enumerate(seen)}
        ranked = sorted(seen, key=lambda c: (-seen[c], -failed[c], order[c]))
        return [(c, seen[c]) for c in ranked[:n]]

    def failed_personas(self) -> list[tuple[str, int, int]]:
        """(persona title, sessions failed, sessions played) for each persona failed at least once."""
        out: dict[str, list[int]] = {}
        for s in self.sessions:
            tally = out.setdefault(s.title, [0, 0])
            tally[0] += not s.passed
            tally[1] += 1
        return [(t, f, n) for t, (f, n) in out.items() if f]


def read_sessions(folder: Path) -> tuple[list[Played], list[str]]:
    """The finished sessions saved in ``folder`` (recursively), and a Chinese line for each
    file that could not be read (an unfinished session has no scorecard and is skipped)."""
    played: list[Played] = []
    problems: list[str] = []
    for path in sorted(folder.rglob("*.jsonl")):
        try:
            events = [json.loads(ln) for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
            head = next(e for e in events if e.get("type") == "header")
            card = next((e for e in events if e.get("type") == "scorecard"), None)
        except (OSError, ValueError, StopIteration) as exc:
            problems.append(f"跳过 {path.name}：不是 csbot 的练习记录（{type(exc).__name__}）")
            continue
        if card is None:
            problems.append(f"跳过 {path.name}：这次练习没有结束，没有评分")
            continue
        stamp = _STAMP.search(path.stem)
        played.append(Played(
            trainee=head.get("trainee") or UNSIGNED, persona=head["persona"], title=titled(head["title"], None),
            kind=card.get("kind") or head.get("kind", ""),
            when=datetime.strptime(stamp.group(1), "%Y%m%d-%H%M%S") if stamp else None,
            total=int(card["total"]), passed=bool(card["passed"]),
            findings=tuple(v["code"] for v in card["violations"]), path=path,
            failing=frozenset([v["code"] for v in card["violations"] if v.get("severity") == "block"]
                              + [d["code"] for d in (card.get("computation") or {}).get("deductions", [])
                                 if d.get("fails")])))
    return played, problems


def by_trainee(played: list[Played]) -> list[Trainee]:
    """Trainees by name, each with their sessions oldest first."""
    out: dict[str, Trainee] = {}
    for p in sorted(played, key=lambda p: (p.when or datetime.min, p.path.name)):
        out.setdefault(p.trainee, Trainee(p.trainee)).sessions.append(p)
    return sorted(out.values(), key=lambda t: t.name)


def _findings_text(t: Trainee, labels: Labels) -> str:
    return "、".join(f"{labels.violation(c)}×{n}" for c, n in t.common_findings()) or "无"


def _failed_text(t: Trainee, sep: str = "、") -> str:
    return sep.join(f"{title}（{f}/{n} 次未通过）" for title, f, n in t.failed_personas()) or "无"


def _scores_text(t: Trainee) -> str:
    return " → ".join(str(s.total) for s in t.sessions)


def rows(trainees: list[Trainee], labels: Labels, sep: str = "、") -> list[list[str]]:
    """One row per trainee, the same in every format (``sep`` between failed personas: the
    terminal puts each on a line of its own)."""
    return [[t.name, str(len(t.sessions)), f"{t.passed}/{len(t.sessions)}", str(t.average),
             _scores_text(t), _findings_text(t, labels), _failed_text(t, sep)] for t in trainees]


HEADER = ["学员", "练习次数", "通过", "平均分", "历次得分（按时间）", "最常见的问题", "没通过的人设"]


def csv_bytes(trainees: list[Trainee], labels: Labels) -> bytes:
    """The summary and every session as CSV, UTF-8 with a BOM."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(HEADER)
    w.writerows(_safe(r) for r in rows(trainees, labels))
    w.writerow([])
    w.writerow(["学员", "时间", "人设", "得分", "通过", "问题", "文件"])
    for t in trainees:
        for s in t.sessions:
            w.writerow(_safe([t.name, s.when.strftime("%Y-%m-%d %H:%M") if s.when else "", s.title,
                              str(s.total), "是" if s.passed else "否",
                              "、".join(labels.violation(c) for c in s.findings), s.path.name]))
    return out.getvalue().encode("utf-8-sig")


def _safe(cells: list[str]) -> list[str]:
    # A cell Excel would run as a formula (=, +, -, @) is written as text.
    return ["'" + c if c[:1] in ("=", "+", "-", "@") else c for c in cells]


def html(trainees: list[Trainee], labels: Labels, folder: Path) -> str:
    """One offline page: the summary table and each trainee's scores over time (inline SVG)."""
    parts = ["<tr>" + "".join(f'<td data-k="{k}：">{escape(c)}</td>' for k, c in zip(HEADER, r, strict=True))
             + "</tr>" for r in rows(trainees, labels)]
    charts = "".join(
        f"<figure><figcaption>{escape(t.name)}：历次得分</figcaption>{_line(t)}</figure>"
        for t in trainees)
    return _PAGE.format(
        folder=escape(str(folder)), n=sum(len(t.sessions) for t in trainees),
        head="".join(f"<th scope=\"col\">{h}</th>" for h in HEADER), rows="".join(parts), charts=charts)


def _line(t: Trainee) -> str:
    """Scores over time as a small SVG polyline, with the pass line (no script, no library)."""
    w, h, pad = 360, 120, 18
    n = len(t.sessions)
    xs = [pad + (w - 2 * pad) * (i / (n - 1) if n > 1 else 0.5) for i in range(n)]
    ys = [h - pad - (h - 2 * pad) * s.total / 100 for s in t.sessions]
    dots = "".join(f'<circle cx="{x:.0f}" cy="{y:.0f}" r="3"><title>{s.total}</title></circle>'
                   f'<text x="{x:.0f}" y="{y - 6:.0f}" text-anchor="middle">{s.total}</text>'
                   for x, y, s in zip(xs, ys, t.sessions, strict=True))
    points = " ".join(f"{x:.0f},{y:.0f}" for x, y in zip(xs, ys, strict=True))
    return (f'<svg viewBox="0 0 {w} {h}" role="img" aria-label="{escape(t.name)} 的历次得分">'
            f'<line x1="{pad}" x2="{w - pad}" y1="{h - pad}" y2="{h - pad}" class="axis"/>'
            f'<polyline points="{points}" fill="none"/>{dots}</svg>')


_PAGE = """<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>客服培训汇总</title>
<style>
  body {{ font-family: "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif; color: #222;
         margin: 0 auto; max-width: 980px; padding: 24px 16px 48px; line-height: 1.6; }}
  table {{ border-collapse: collapse; width: 100%; font-size: 14px; }}
  th, td {{ border-bottom: 1px solid #e3e3e3; padding: 6px 8px; text-align: left; vertical-align: top;
            overflow-wrap: anywhere; }}
  th {{ background: #f6f6f6; }}
  figure {{ display: inline-block; margin: 12px 12px 0 0; width: min(360px, 100%); }}
  svg {{ width: 100%; height: auto; font-size: 11px; }}
  polyline {{ stroke: #3b7dd8; stroke-width: 2; }} circle {{ fill: #3b7dd8; }} .axis {{ stroke: #ccc; }}
  @media (max-width: 600px) {{ thead {{ display: none; }} tr, td {{ display: block; }}
    td::before {{ content: attr(data-k); font-weight: 600; }} }}
</style>
</head>
<body>
<h1>客服培训汇总</h1>
<p>练习记录：{folder}，共 {n} 次练习。</p>
<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>
<h2>历次得分</h2>
{charts}
</body>
</html>
"""


def terminal(trainees: list[Trainee], labels: Labels, console: Any) -> None:
    """The summary as a table in the terminal (Rich)."""
    from rich.table import Table

    from bot.wrap_zh import Wrapped

    # Cells wrap as Chinese does: never inside a number, never a line that starts with "、".
    table = Table(title="客服培训汇总")
    for h in HEADER:
        table.add_column(Wrapped(h))
    for r in rows(trainees, labels, "\n"):
        table.add_row(*(Wrapped(c) for c in r))
    console.print(table)
