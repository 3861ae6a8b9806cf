"""时效 (/timeliness): lag distributions per duty and the overdue list, plus the evidence rows and
counts that the overview and the agency pages show (all from measures.timeliness)."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date
from typing import Any

from elasticsearch import Elasticsearch

from dashboards import reports
from dashboards.queries import plan
from zwgk.labels import rule_label, status_label, vocabulary

_PLAN_WORDS = vocabulary()["plan"]  # one vocabulary with the reports, the 通报 and the alert (zwgk/data/labels.yaml)
DUTY_LABELS: dict[str, str] = _PLAN_WORDS["duty_names"]
UNIT_LABELS: dict[str, str] = _PLAN_WORDS["units"]
TRIGGER_LABELS: dict[str, str] = _PLAN_WORDS["triggers"]
PERIOD_LABELS: dict[str, str] = _PLAN_WORDS["periods"]
DUE_LABEL: str = _PLAN_WORDS["due_family"]  # items the plan gives a completion time (obligations of kind "due")
CONCLUDED = ("on_time", "late", "overdue", "met", "missed", "done")
GOOD = ("on_time", "met", "done")
OVERDUE = ("overdue", "missed")


def _evidence_row(outcome, item: dict[str, Any]) -> dict[str, Any]:
    """One evidence row of the timeliness report in the pages' shape (trigger or period, due, done, lag)."""
    duty = outcome.rule.split(":", 1)[0]
    unit = item.get("unit")
    responses = [k[:-4] for k in item if k.endswith("_url") and k != "trigger_url"]
    done_at = next((item.get(f"{k}_at") for k in responses if item.get(f"{k}_at")), None)
    evidence = [u for u in [item.get("trigger_url"), *(item.get(f"{k}_url") for k in responses)] if u]
    evidence += [u for u in item.get("evidence_urls") or [] if u not in evidence]
    if "period" in item:
        title = f"{item['period']}：{item.get('count', 0)} / 至少 {item.get('required', 1)} 次"
        start, due = item.get("period_start"), item.get("period_end")
    elif "due_on" in item:
        title, start, due = item.get("title") or "", None, item["due_on"]
    else:
        title = item.get("trigger_title") or item.get("trigger_url") or ""
        start, due = item.get("trigger_at"), item.get("deadline")
    return {
        "duty": duty, "duty_label": DUTY_LABELS.get(duty, duty), "rule": outcome.rule,
        "rule_label": rule_label(outcome.rule), "status_label": status_label(item.get("status")),
        "family": outcome.rule.split("@", 1)[0], "agency": outcome.agency,
        "topic_id": outcome.topic_id, "title": title, "url": item.get("trigger_url") or next(iter(evidence), None),
        "start": start, "due": due, "done_at": done_at, "lag": item.get("elapsed"), "unit": unit,
        "unit_label": UNIT_LABELS.get(unit or "", unit or ""), "status": item.get("status"), "evidence": evidence[:10],
    }


def counts(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Rows per outcome and the compliance rate (good over concluded; None before anything concluded)."""
    n = {s: sum(1 for r in rows if r["status"] == s) for s in ("on_time", "late", "overdue", "pending", "met", "missed",
                                                                "in_progress", "done", "due_soon")}
    concluded = sum(1 for r in rows if r["status"] in CONCLUDED)
    good = sum(n[s] for s in GOOD)
    return {"total": len(rows), "on_time": good, "late": n["late"], "overdue": n["overdue"] + n["missed"],
            "pending": n["pending"] + n["in_progress"] + n["due_soon"], "due_soon": n["due_soon"],
            "compliance": round(good / concluded, 4) if concluded else None}


def rows(client: Elasticsearch, as_of: date, agency: str | None = None, plan_key: str | None = None) -> list[dict[str, Any]]:
    """Every evidence row of the week's timeliness report (only `agency`'s, plan `plan_key`'s when given)."""
    report = reports.timeliness(client, as_of, plan_key)
    found = []
    for outcome in report.outcomes:
        if agency and outcome.agency != agency:
            continue
        found += [_evidence_row(outcome, item) for item in outcome.items]
    return found


def _lag_bucket(lag: float, unit: str | None) -> str:
    if unit == "hours":
        for edge in (6, 12, 24, 48):
            if lag <= edge:
                return f"≤{edge}小时"
        return ">48小时"
    n = int(math.ceil(lag))
    return f"{n}天" if n < 10 else "≥10天"


def _bucket_order(label: str) -> tuple[int, float]:
    digits = "".join(ch for ch in label if ch.isdigit())
    hours = "小时" in label
    return (1 if hours else 0, float(digits or 0) + (0.5 if label.startswith((">", "≥")) else 0))


def _quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return round(ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo), 1)


def _limit_labels(plan_key: str | None = None) -> dict[str, str]:
    """Each duty family's limit in words, from the plan's obligations (the first wording of a family wins)."""
    limits: dict[str, str] = {}
    for _topic, ob in plan(plan_key).obligations():
        key = f"{ob.duty}:{ob.trigger or ob.period}"
        if ob.trigger and ob.amount:
            limits.setdefault(key, f"{TRIGGER_LABELS.get(ob.trigger, ob.trigger)} {ob.amount} {UNIT_LABELS.get(ob.unit, ob.unit)}内")
        elif ob.period:
            limits.setdefault(key, f"{PERIOD_LABELS.get(ob.period, ob.period)}至少 {ob.min_count or 1} 次")
        elif ob.kind == "due":
            limits.setdefault(f"{ob.duty}:due", f"按{DUE_LABEL}完成")
    return limits


def lags_and_overdue(client: Elasticsearch, as_of: date, plan_key: str | None = None) -> dict[str, Any]:
    """Lag distributions per duty and the overdue list (from measures.timeliness; plan `plan_key`'s only when given)."""
    report = reports.timeliness(client, as_of, plan_key)
    all_rows = rows(client, as_of, plan_key=plan_key)
    by_family: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in all_rows:
        by_family[r["family"]].append(r)
    limits = _limit_labels(plan_key)
    duties = []
    for family, items in sorted(by_family.items()):
        duty, when = family.split(":", 1)
        unit = next((r["unit"] for r in items if r["unit"]), None)
        lags = [float(r["lag"]) for r in items if r["lag"] is not None]
        hist: dict[str, int] = defaultdict(int)
        for lag in lags:
            hist[_lag_bucket(lag, unit)] += 1
        label = DUTY_LABELS.get(duty, duty) + "·" + (TRIGGER_LABELS.get(when) or PERIOD_LABELS.get(when)
                                                     or (DUE_LABEL if when == "due" else when))
        duties.append({
            "family": family, "duty": duty, "unit": unit, "label": label, "count": len(items),
            "limit_label": limits.get(family, ""), "lags": lags, "p50": _quantile(lags, 0.5),
            "p90": _quantile(lags, 0.9), "max": max(lags) if lags else None,
            "histogram": [{"bucket": b, "count": hist[b]} for b in sorted(hist, key=_bucket_order)],
            "compliance": counts(items)["compliance"],
        })
    # deadlines first (a document waits for an answer), then missed periods; the most recent first
    overdue = [r for r in all_rows if r["status"] in (*OVERDUE, "late")]
    overdue.sort(key=lambda r: r["due"] or "", reverse=True)
    overdue.sort(key=lambda r: r["family"].split(":", 1)[1] in PERIOD_LABELS)
    return {"as_of": report.as_of.isoformat(), "since": report.since.isoformat(), "summary": counts(all_rows),
            "duties": duties, "overdue": overdue[:500]}
