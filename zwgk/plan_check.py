"""`zwgk plan check FILE`: what the parser made of a plan file, and what it left out and why.

Topics per level, agency clauses read against the bracketed text that reads like one, obligations by
duty, completion times, agencies the registry does not know, the lines skipped (with the reason) and
the lines repaired. A file that is not a plan's text gives a PlanError with a one-line message.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zwgk.plan import parse_plan, scan_brackets
from zwgk.plan_model import GENERAL_ID, Plan, PlanError, SkippedLine
from zwgk.plan_read import read_plan_text


@dataclass
class CheckReport:
    file: str
    plan: Plan
    topics_per_level: dict[int, int]
    clauses: int  # agency clauses read (one per item, brackets or own lines)
    own_line_clauses: int
    bracketed_like: int  # bracketed text that reads like a clause
    bracketed_read: int  # … of which read as a clause
    missed: list[tuple[str, str]] = field(default_factory=list)  # (topic id, bracketed text) not read
    obligations: dict[str, int] = field(default_factory=dict)  # "kind duty" → count

    @property
    def capture_rate(self) -> float | None:
        return self.bracketed_read / self.bracketed_like if self.bracketed_like else None

    @property
    def due(self) -> list[dict[str, Any]]:
        return [
            {
                "topic": o.topic_id,
                "due_on": o.due_on.isoformat() if o.due_on else None,
                "as_written": o.due_text,
                "ongoing": o.ongoing,
                "agencies": o.agencies,
            }
            for _, o in self.plan.obligations()
            if o.kind == "due"
        ]

    def to_dict(self) -> dict[str, Any]:
        p = self.plan
        return {
            "file": self.file,
            "title": p.title,
            "year": p.year,
            "region": p.region,
            "doc_number": p.doc_number,
            "issued_on": p.issued_on.isoformat() if p.issued_on else None,
            "topics": sum(self.topics_per_level.values()),
            "topics_per_level": {str(k): v for k, v in sorted(self.topics_per_level.items())},
            "leaves": len(p.leaves()),
            "clauses": {
                "read": self.clauses,
                "on_own_lines": self.own_line_clauses,
                "bracketed_clause_like": self.bracketed_like,
                "bracketed_read": self.bracketed_read,
                "capture_rate": self.capture_rate,
                "not_read": [{"topic": t, "text": text} for t, text in self.missed],
            },
            "obligations": self.obligations,
            "due": self.due,
            "general_requirements": len(p.general.obligations) if p.general else 0,
            "unresolved_agencies": p.unresolved_agencies,
            "skipped": [s.to_dict() for s in p.skipped],
            "repaired": [s.to_dict() for s in p.notes],
            "framing": [s.to_dict() for s in p.framing],
        }


def check_plan(path: str | Path, registry=None) -> CheckReport:
    """Parse a plan file and count what was read (PlanError/OSError when it is not a readable plan)."""
    plan = parse_plan(read_plan_text(path), registry)
    topics = list(plan.walk())
    if not topics:
        raise PlanError(f"{Path(path).name}: no topic found")
    like = read = 0
    missed: list[tuple[str, str]] = []
    for topic in topics:
        for line in topic.own_text.split("\n"):
            for inner, is_like, is_read in scan_brackets(line, year=plan.year):
                like += is_like
                read += is_like and is_read
                if is_like and not is_read:
                    missed.append((topic.id, inner))
    clauses = [c for t in topics for c in t.clauses]
    return CheckReport(
        file=str(path),
        plan=plan,
        topics_per_level=dict(Counter(t.level for t in topics)),
        clauses=len(clauses),
        own_line_clauses=sum(c.own_line for c in clauses),
        bracketed_like=like,
        bracketed_read=read,
        missed=missed,
        obligations=dict(sorted(Counter(f"{o.kind} {o.duty}" for _, o in plan.obligations()).items())),
    )


def _lines(title: str, rows: list[SkippedLine]) -> list[str]:
    return [f"{title} ({len(rows)}):"] + [f"  line {r.number}: {r.reason} — {r.text[:50]}" for r in rows]


def render(report: CheckReport) -> str:
    """The report as text for a person at a terminal."""
    p = report.plan
    rate = f"{report.capture_rate:.0%}" if report.capture_rate is not None else "—"
    levels = ", ".join(f"level {k}: {v}" for k, v in sorted(report.topics_per_level.items()))
    out = [
        f"{report.file}: {p.title or '(no title)'} — year {p.year or '?'}, region {p.region or '?'}, "
        f"{p.doc_number or 'no 文号'}, issued {p.issued_on.isoformat() if p.issued_on else '?'}",
        f"topics: {sum(report.topics_per_level.values())} ({levels}), {len(p.leaves())} leaves",
        f"agency clauses read: {report.clauses} ({report.own_line_clauses} on their own lines); "
        f"bracketed text that reads like a clause: {report.bracketed_like}, read as clauses: "
        f"{report.bracketed_read} ({rate})",
    ]
    out += [f"  not read as a clause: {t} ({text})" for t, text in report.missed]
    out.append("obligations: " + (", ".join(f"{k} {v}" for k, v in report.obligations.items()) or "none"))
    for due in report.due:
        when = due["due_on"] or "no date"
        ongoing = ", ongoing" if due["ongoing"] else ""
        agencies = "、".join(due["agencies"]) or "no agency"
        out.append(f"  due {when}{ongoing} ({due['as_written']}): {due['topic']} → {agencies}")
    out.append("agencies the registry does not know (kept as written): " + ("、".join(p.unresolved_agencies) or "none"))
    out += _lines("lines skipped", p.skipped)
    out += _lines("lines repaired", p.notes)
    if p.framing:
        out.append(f"framing sections, not topics (their text is the general requirements, topic {GENERAL_ID}): "
                   + "; ".join(f"line {s.number}: {s.text[:50]}" for s in p.framing))
    return "\n".join(out)
