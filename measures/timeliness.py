"""Response timeliness: the plan's obligations checked per agency against the indexed documents.

Every rule comes from `load_plan().obligations()`; EVALUATORS maps an obligation's (duty, trigger)
— or, for cadences, its duty with a period — to the function that measures it, so a new plan year
or a new obligation needs no list written here. Deadlines in working days use zwgk.workdays
(Chinese public holidays and make-up workdays); hours are wall-clock from published_at.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

import pandas as pd
from elasticsearch import Elasticsearch

from measures.source import scan_sources
from zwgk import rules as rules_config
from zwgk.document import canonical_url
from zwgk.es import alias
from zwgk.labels import base_rule_id
from zwgk.settings import TIMEZONE
from zwgk.text import normalize
from zwgk.weeks import (
    period_end,
    period_label,
    period_start,
    periods_between,
    to_local,
)

log = logging.getLogger(__name__)

ON_TIME, LATE, OVERDUE, PENDING, UNKNOWN = "on_time", "late", "overdue", "pending", "unknown"
MET, MISSED, IN_PROGRESS = "met", "missed", "in_progress"
DONE, DUE_SOON = "done", "due_soon"  # items with a completion time: evidence by the date / date near, none yet
PASS, FAIL, NO_EVIDENCE, NOT_EVALUATED = "pass", "fail", "no_evidence", "not_evaluated"
ALL_AGENCIES = "*"  # an obligation on a group (各区政府, 市政府各部门): every agency that has evidence
FIELDS = ["url", "agency", "agencies", "published_at", "title", "doc_number", "interprets", "related_urls",
          "kind", "topic_ids", "site_id"]


@dataclass
class Context:
    """What every evaluator needs: the client, the report date, the window and the configuration."""

    client: Elasticsearch
    as_of: date
    since: date
    conf: dict[str, Any]
    plan_start: date | None = None  # the plan's issue date (or 1 January of its year): evidence of items counts from it
    _cache: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    memo: dict[tuple[date, int], date] = field(default_factory=dict)

    def docs(self, name: str, query: dict[str, Any], fields: list[str] = FIELDS) -> list[dict[str, Any]]:
        """Documents of a query (cached by name for the report's duration)."""
        if name not in self._cache:
            self._cache[name] = list(scan_sources(self.client, alias("documents"), query, fields))
        return self._cache[name]


@dataclass
class RuleOutcome:
    """One obligation evaluated for one agency."""

    rule: str  # duty:trigger-or-period@topic
    agency: str
    status: str  # pass | fail | no_evidence | not_evaluated
    obligation: str  # the plan sentence
    topic_id: str | None = None
    total: int = 0
    on_time: int = 0
    late: int = 0
    overdue: int = 0
    pending: int = 0
    share: float | None = None  # policies interpreted / total, or periods met / periods due
    note: str = ""
    items: list[dict[str, Any]] = field(default_factory=list)  # evidence rows

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("rule", "agency", "status", "obligation", "topic_id", "total",
                                              "on_time", "late", "overdue", "pending", "share", "note", "items")}


@dataclass
class TimelinessReport:
    as_of: date
    since: date
    outcomes: list[RuleOutcome]

    @property
    def table(self) -> pd.DataFrame:
        """One row per (agency, rule)."""
        cols = ["agency", "rule", "status", "total", "on_time", "late", "overdue", "pending", "share", "topic_id", "note",
                "obligation"]
        return pd.DataFrame([{c: getattr(o, c) for c in cols} for o in self.outcomes], columns=cols)

    @property
    def items(self) -> pd.DataFrame:
        """Every piece of evidence: trigger and response documents, deadlines, elapsed time, status."""
        rows = [{"agency": o.agency, "rule": o.rule, **i} for o in self.outcomes for i in o.items]
        return pd.DataFrame(rows)

    def for_plan(self, key: str | None) -> TimelinessReport:
        """The outcomes of one plan's duties (key from zwgk.plans; None: every plan's)."""
        if key is None:
            return self
        from zwgk.plans import plan_of

        return TimelinessReport(self.as_of, self.since, [o for o in self.outcomes if plan_of(o.topic_id) == key])

    def overdue(self) -> list[dict[str, Any]]:
        """Triggers past their deadline without a response, and missed periods."""
        return [{"agency": o.agency, "rule": o.rule, **i} for o in self.outcomes for i in o.items
                if i.get("status") in (OVERDUE, MISSED)]

    def to_dict(self) -> dict[str, Any]:
        agencies: dict[str, list[dict[str, Any]]] = {}
        for o in self.outcomes:
            agencies.setdefault(o.agency, []).append(o.to_dict())
        return {
            "as_of": self.as_of.isoformat(),
            "since": self.since.isoformat(),
            "agencies": [{"agency": a, "status": FAIL if any(r["status"] == FAIL for r in rs) else PASS, "rules": rs}
                         for a, rs in sorted(agencies.items())],
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent, default=str)


# ---------------------------------------------------------------- queries and links


def _dated(lo: date, hi: date | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"gte": lo.isoformat(), "time_zone": TIMEZONE, "format": "strict_date_optional_time"}
    if hi is not None:
        body["lt"] = hi.isoformat()
    return {"range": {"published_at": body}}


def _kind(kind: str | list[str]) -> dict[str, Any]:
    return {"terms": {"kind": [kind] if isinstance(kind, str) else kind}}


def _title_any(words: Iterable[str]) -> dict[str, Any]:
    return {"bool": {"should": [{"match_phrase": {"title": w}} for w in words], "minimum_should_match": 1}}


def _and(*q: dict[str, Any]) -> dict[str, Any]:
    return {"bool": {"filter": list(q)}}


def _agency_q(agency: str) -> dict[str, Any]:
    return {"bool": {"should": [{"term": {"agency": agency}}, {"term": {"agencies": agency}}], "minimum_should_match": 1}}


def _topic_q(topic_id: str) -> dict[str, Any]:
    return {"bool": {"should": [{"term": {"topic_ids": topic_id}}, {"prefix": {"topic_ids": topic_id + "."}}],
                     "minimum_should_match": 1}}


_TITLE_REF = re.compile(r"《([^》]+)》")


@lru_cache(maxsize=200_000)
def _norm_ref(value: str) -> str:
    """Comparable form of a link: canonical URL, or the normalised 文号 / title without brackets and spaces."""
    value = (value or "").strip()
    if value.startswith(("http://", "https://")):
        return canonical_url(value)
    m = _TITLE_REF.search(value)
    text = normalize(m.group(1) if m else value)
    return re.sub(r"[\s《》〔〕\[\]()（）]", "", text)


def _refs_of(doc: dict[str, Any]) -> set[str]:
    """Every reference by which a response document can point at this trigger document."""
    refs = {_norm_ref(doc["url"])}
    for key in ("doc_number", "title"):
        if doc.get(key):
            refs.add(_norm_ref(doc[key]))
    return refs - {""}


def _links_of(response: dict[str, Any]) -> set[str]:
    """What a response (interpretation, press conference) says it answers."""
    links = {_norm_ref(u) for u in response.get("related_urls") or []}
    if response.get("interprets"):
        links.add(_norm_ref(response["interprets"]))
    return links - {""}


def _match_responses(triggers: list[dict[str, Any]], responses: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """trigger url → its earliest linked response (by interprets/related_urls, or the trigger's related_urls)."""
    by_ref: dict[str, list[dict[str, Any]]] = {}
    for r in responses:
        for link in _links_of(r):
            by_ref.setdefault(link, []).append(r)
    by_url = {_norm_ref(r["url"]): r for r in responses}
    out = {}
    for t in triggers:
        cands = [r for ref in _refs_of(t) for r in by_ref.get(ref, [])]
        cands += [by_url[_norm_ref(u)] for u in t.get("related_urls") or [] if _norm_ref(u) in by_url]
        cands = [r for r in cands if to_local(r.get("published_at")) and to_local(r["published_at"]) >= to_local(t["published_at"])]
        if cands:
            out[t["url"]] = min(cands, key=lambda r: to_local(r["published_at"]))
    return out


# ---------------------------------------------------------------- agencies of an obligation


_FIELD_LIST = re.compile(r"((?:[\u4e00-\u9fff]{2,4}、)+[\u4e00-\u9fff]{2,4})等[^。；;]*?部门")
_DEPARTMENT_FORMS = ("市{}委", "市{}局", "市{}办", "北京市{}委员会", "北京市{}局")


def named_departments(text: str) -> list[str]:
    """Departments a sentence names by field ("发展改革、教育、环保、民政等…职能部门"), resolved in the registry."""
    from zwgk.agencies import load_registry

    registry = load_registry()
    m = _FIELD_LIST.search(normalize(text or ""))
    if not m:
        return []
    out: list[str] = []
    for word in m.group(1).split("、"):
        agency = next((a for form in _DEPARTMENT_FORMS if (a := registry.resolve(form.format(word)))
                       and not a.is_group), None)
        if agency and agency.name not in out:
            out.append(agency.name)
    return out


def _agency_scope(obligation: Any, concrete_first: bool = False) -> list[str]:
    """Canonical names of the agencies an obligation binds: the departments its sentence names, else its
    clause's agencies. A group (各区政府, 市政府各部门) or an unresolved name widens the scope to
    [ALL_AGENCIES] — unless concrete_first (cadences: the named lead agencies are the ones measured)."""
    from zwgk.agencies import load_registry

    named = named_departments(getattr(obligation, "text", ""))
    if named:
        return named
    registry = load_registry()
    names: list[str] = []
    wide = False
    for raw in getattr(obligation, "agencies", None) or []:
        agency = registry.resolve(raw)
        if agency is None or agency.is_group:
            wide = True
        elif agency.name not in names:
            names.append(agency.name)
    if names and (concrete_first or not wide):
        return names
    return [ALL_AGENCIES]


def _doc_agency(doc: dict[str, Any]) -> str:
    return doc.get("agency") or next(iter(doc.get("agencies") or []), "") or doc.get("site_id") or "(unknown)"


def _in_scope(doc: dict[str, Any], scope: list[str]) -> bool:
    if scope == [ALL_AGENCIES]:
        return True
    return doc.get("agency") in scope or bool(set(doc.get("agencies") or []) & set(scope))


def _rule_id(ob: Any) -> str:
    return getattr(ob, "rule_id", None) or base_rule_id(ob)


class _Renamed:
    """An obligation seen through a distinct rule id."""

    def __init__(self, ob: Any, rule_id: str):
        self._ob, self.rule_id = ob, rule_id

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ob, name)


def _outcome(ob: Any, agency: str, items: list[dict[str, Any]], note: str = "", share: float | None = None) -> RuleOutcome:
    counts = {s: sum(1 for i in items if i["status"] == s) for s in (ON_TIME, LATE, OVERDUE, PENDING)}
    missed = sum(1 for i in items if i["status"] in (MISSED,))
    bad = counts[LATE] + counts[OVERDUE] + missed
    status = FAIL if bad else PASS
    return RuleOutcome(rule=_rule_id(ob), agency=agency, status=status, obligation=ob.text, topic_id=ob.topic_id,
                       total=len(items), on_time=counts[ON_TIME] + sum(1 for i in items if i["status"] in (MET, DONE)),
                       late=counts[LATE], overdue=counts[OVERDUE] + missed, pending=counts[PENDING] + sum(
                           1 for i in items if i["status"] in (IN_PROGRESS, DUE_SOON)), share=share, note=note,
                       items=items)


def _no_evidence(ob: Any, note: str, scope: list[str]) -> list[RuleOutcome]:
    return [RuleOutcome(rule=_rule_id(ob), agency=a if a != ALL_AGENCIES else "(all)", status=NO_EVIDENCE,
                        obligation=ob.text, topic_id=ob.topic_id, note=note) for a in scope]


# ---------------------------------------------------------------- deadlines


def _deadline(start: datetime, ob: Any, memo: dict[tuple[date, int], date] | None = None) -> datetime:
    """When the response is due: end of the nth working day after start, or start + n hours/days."""
    from zwgk.workdays import add_workdays

    memo = {} if memo is None else memo  # per report: thousands of triggers share a few hundred dates
    amount = int(ob.amount or 0)
    unit = ob.unit or "working_days"
    if unit == "hours":
        return start + timedelta(hours=amount)
    if unit == "days":
        return _end_of_day(start.date() + timedelta(days=amount), start)
    key = (start.date(), amount)
    if key not in memo:
        memo[key] = add_workdays(start.date(), amount)
    return _end_of_day(memo[key], start)


def _end_of_day(d: date, like: datetime) -> datetime:
    return datetime.combine(d + timedelta(days=1), datetime.min.time(), like.tzinfo) - timedelta(microseconds=1)


def _elapsed(start: datetime, end: datetime, ob: Any) -> float:
    """Elapsed time in the obligation's unit (working days counted after the start day)."""
    if ob.unit == "hours":
        return round((end - start).total_seconds() / 3600, 1)
    if ob.unit == "days":
        return float((end.date() - start.date()).days)
    from zwgk.workdays import workdays_between

    return float(workdays_between(start.date(), end.date()))


def _judge(ctx: Context, ob: Any, trigger: dict[str, Any], start: datetime | None, response: dict[str, Any] | None,
           response_key: str = "response") -> dict[str, Any]:
    """One trigger's evidence row: dates, deadline, elapsed, status."""
    row: dict[str, Any] = {"trigger_url": trigger["url"], "trigger_title": trigger.get("title", ""),
                           "trigger_at": start.isoformat() if start else None}
    if start is None:
        row["status"] = UNKNOWN
        return row
    due = _deadline(start, ob, ctx.memo)
    row["deadline"] = due.isoformat(timespec="minutes")
    as_of_end = _end_of_day(ctx.as_of, due)
    when = to_local(response["published_at"]) if response else None
    if response and when:
        row[f"{response_key}_url"] = response["url"]
        row[f"{response_key}_at"] = when.isoformat()
        row["elapsed"] = _elapsed(start, when, ob)
        row["unit"] = ob.unit
        row["status"] = ON_TIME if when <= due else LATE
    else:
        row["status"] = OVERDUE if as_of_end > due else PENDING
    return row


# ---------------------------------------------------------------- evaluators (one per kind of obligation)


def _respond_to_triggers(ctx: Context, ob: Any, triggers: list[dict[str, Any]], responses: list[dict[str, Any]],
                         link: Callable[[list[dict[str, Any]], list[dict[str, Any]]], dict[str, dict[str, Any]]],
                         start_of: Callable[[dict[str, Any]], datetime | None], key: str, what: str) -> list[RuleOutcome]:
    scope = _agency_scope(ob)
    triggers = [t for t in triggers if _in_scope(t, scope)]
    if not triggers:
        return _no_evidence(ob, f"no {what} documents found since {ctx.since}", scope)
    matched = link(triggers, responses)
    by_agency: dict[str, list[dict[str, Any]]] = {}
    for t in triggers:
        by_agency.setdefault(_doc_agency(t), []).append(_judge(ctx, ob, t, start_of(t), matched.get(t["url"]), key))
    out = []
    for agency, rows in sorted(by_agency.items()):
        rows.sort(key=lambda r: r.get("trigger_at") or "")
        answered = sum(1 for r in rows if r["status"] in (ON_TIME, LATE))
        unknown = sum(1 for r in rows if r["status"] == UNKNOWN)
        note = f"{unknown} without a {what} date" if unknown else ""
        out.append(_outcome(ob, agency, rows, note=note, share=round(answered / len(rows), 4)))
    return out


def _published(doc: dict[str, Any]) -> datetime | None:
    return to_local(doc.get("published_at"))


def eval_policy_interpretation(ctx: Context, ob: Any) -> list[RuleOutcome]:
    """Policy → its interpretation (linked by interprets / related_urls / 文号) within the deadline."""
    policies = ctx.docs("policies", _and(_kind("policy"), _dated(ctx.since, ctx.as_of + timedelta(days=1))))
    interps = ctx.docs("interpretations", _and(_kind("interpretation"), _dated(ctx.since)))
    return _respond_to_triggers(ctx, ob, policies, interps, _match_responses, _published, "interpretation", "policy")


def eval_meeting_interpretation(ctx: Context, ob: Any) -> list[RuleOutcome]:
    """Decisions of executive/office meetings (recognised by title keywords) → public interpretation."""
    words = ctx.conf.get("meeting_decision_keywords") or []
    decisions = ctx.docs("meetings", _and(_title_any(words), {"bool": {"must_not": [_kind("interpretation")]}},
                                          _dated(ctx.since, ctx.as_of + timedelta(days=1))))
    interps = ctx.docs("interpretations", _and(_kind("interpretation"), _dated(ctx.since)))
    return _respond_to_triggers(ctx, ob, decisions, interps, _match_responses, _published, "interpretation",
                                "meeting decision")


def _match_press(triggers: list[dict[str, Any]], pressers: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """An emergency's press conference: linked explicitly, else the first one by an agency concerned after it."""
    out = _match_responses(triggers, pressers)
    for t in triggers:
        if t["url"] in out:
            continue
        start = _published(t)
        concerned = {t.get("agency")} | set(t.get("agencies") or [])
        concerned.discard("")
        cands = [p for p in pressers if _published(p) and _published(p) >= start
                 and ({p.get("agency")} | set(p.get("agencies") or [])) & concerned]
        if cands:
            out[t["url"]] = min(cands, key=_published)
    return out


def eval_emergency_press(ctx: Context, ob: Any) -> list[RuleOutcome]:
    """Major emergency (title keywords) → press conference by an agency concerned within the hours allowed."""
    words = ctx.conf.get("emergency_keywords") or []
    events = ctx.docs("emergencies", _and(_title_any(words), {"bool": {"must_not": [_kind("press_conference")]}},
                                          _dated(ctx.since, ctx.as_of + timedelta(days=1))))
    pressers = ctx.docs("press", _and(_kind("press_conference"), _dated(ctx.since)))
    return _respond_to_triggers(ctx, ob, events, pressers, _match_press, _published, "press_conference", "emergency")


def penalty_decision_date(doc: dict[str, Any], patterns: Iterable[str]) -> date | None:
    """The date the penalty was decided, stated in the notice (作出处罚决定日期 …); None when not stated."""
    text = normalize(f"{doc.get('title') or ''}\n{doc.get('body') or ''}")
    for pattern in patterns:
        m = re.search(pattern, text)
        if m:
            try:
                return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                continue
    return None


def eval_penalty_disclosure(ctx: Context, ob: Any) -> list[RuleOutcome]:
    """Penalty notice published within the working days allowed after the decision date it states."""
    patterns = ctx.conf.get("penalty_decision_patterns") or []
    notices = ctx.docs("penalties", _and(_kind("penalty_notice"), _dated(ctx.since, ctx.as_of + timedelta(days=1))),
                       FIELDS + ["body"])
    decided = {n["url"]: penalty_decision_date(n, patterns) for n in notices}
    tz = to_local(ctx.as_of.isoformat()).tzinfo

    def start_of(n: dict[str, Any]) -> datetime | None:
        d = decided[n["url"]]
        return datetime.combine(d, datetime.min.time(), tz) if d else None

    def itself(triggers, _responses):  # the notice is its own disclosure
        return {t["url"]: t for t in triggers}

    return _respond_to_triggers(ctx, ob, notices, [], itself, start_of, "disclosure", "penalty decision")


def _count_by_period(ctx: Context, ob: Any, base: dict[str, Any], agency: str) -> tuple[dict[date, int], dict[date, list[str]]]:
    """Documents per period (monthly date_histogram rolled up), with example URLs, for one agency or all."""
    query = _and(base, _dated(ctx.since, ctx.as_of + timedelta(days=1)))
    if agency != ALL_AGENCIES:
        query["bool"]["filter"].append(_agency_q(agency))
    resp = ctx.client.search(index=alias("documents"), size=0, query=query, ignore_unavailable=True, aggs={
        "m": {"date_histogram": {"field": "published_at", "calendar_interval": "month", "time_zone": TIMEZONE},
              "aggs": {"ex": {"top_hits": {"size": 3, "sort": [{"published_at": "asc"}], "_source": ["url"]}}}}})
    counts: dict[date, int] = {}
    urls: dict[date, list[str]] = {}
    for b in (resp.body.get("aggregations") or {}).get("m", {}).get("buckets", []):
        start = period_start(to_local(b["key_as_string"]).date(), ob.period)
        counts[start] = counts.get(start, 0) + b["doc_count"]
        urls.setdefault(start, []).extend(h["_source"]["url"] for h in b["ex"]["hits"]["hits"])
    return counts, urls


def _coverage_start(ctx: Context, agency: str) -> date | None:
    """The oldest publish date of any document of this agency (of all, for ALL_AGENCIES) in the window.

    Crawls see list pages only as far back as they reach, so a period that ended before that date is
    not judged: missing evidence there is not a missed duty."""
    query = _dated(ctx.since, ctx.as_of + timedelta(days=1))
    if agency != ALL_AGENCIES:
        query = _and(query, _agency_q(agency))
    resp = ctx.client.search(index=alias("documents"), size=0, query=query, ignore_unavailable=True,
                             aggs={"oldest": {"min": {"field": "published_at"}}})
    oldest = ((resp.body.get("aggregations") or {}).get("oldest") or {}).get("value_as_string")
    return to_local(oldest).date() if oldest else None


def _periods(ctx: Context, ob: Any, base: dict[str, Any], what: str) -> list[RuleOutcome]:
    """A cadence: at least min_count documents per period for each responsible agency."""
    scope = _agency_scope(ob, concrete_first=True)
    need = int(getattr(ob, "min_count", None) or 1)
    first = max(ctx.since, date(ctx.as_of.year, 1, 1))
    out = []
    for agency in scope:
        counts, urls = _count_by_period(ctx, ob, base, agency)
        if agency == ALL_AGENCIES and not counts:
            out += _no_evidence(ob, f"no {what} documents found since {first}", [agency])
            continue
        covered = _coverage_start(ctx, agency)
        if covered is None:
            out += _no_evidence(ob, f"no documents of {agency} crawled since {first}", [agency])
            continue
        rows = []
        for start in periods_between(first, ctx.as_of, ob.period):
            end = period_end(start, ob.period)
            n = counts.get(start, 0)
            if end < covered:  # over before the oldest item we saw from this agency: no evidence either way
                continue
            status = MET if n >= need else (IN_PROGRESS if end > ctx.as_of else MISSED)
            rows.append({"period": period_label(start, ob.period), "period_start": start.isoformat(),
                         "period_end": end.isoformat(), "count": n, "required": need, "status": status,
                         "evidence_urls": urls.get(start, [])})
        due = [r for r in rows if r["status"] != IN_PROGRESS]
        share = round(sum(r["status"] == MET for r in due) / len(due), 4) if due else None
        out.append(_outcome(ob, agency if agency != ALL_AGENCIES else "(all)", rows, share=share))
    return out


def eval_press_conference_count(ctx: Context, ob: Any) -> list[RuleOutcome]:
    """At least min_count press conferences per period by each named department."""
    return _periods(ctx, ob, _kind("press_conference"), "press conference")


def eval_periodic_publication(ctx: Context, ob: Any) -> list[RuleOutcome]:
    """A document of the obligation's topic from the responsible agency in every period."""
    if not ob.topic_id:
        return _no_evidence(ob, "obligation has no topic to match documents", _agency_scope(ob))
    return _periods(ctx, ob, _topic_q(ob.topic_id), f"topic {ob.topic_id}")


def _due_row(ctx: Context, ob: Any, evidence: list[dict[str, Any]]) -> dict[str, Any]:
    """One item's row: done (evidence by the due date), late, overdue, due soon or pending, with its evidence."""
    evidence = sorted((d for d in evidence if _published(d)), key=_published)
    by_then = [d for d in evidence if _published(d).date() <= ob.due_on]
    if by_then:
        status = DONE
    elif evidence:
        status = LATE
    elif ctx.as_of > ob.due_on:
        status = OVERDUE
    elif (ob.due_on - ctx.as_of).days <= int(ctx.conf.get("due_soon_days", 30)):
        status = DUE_SOON
    else:
        status = PENDING
    first = (by_then or evidence or [None])[0]
    row: dict[str, Any] = {"title": re.split(r"(?<=[。；;])", ob.text, maxsplit=1)[0][:80], "due_on": ob.due_on.isoformat(),
                           "due_text": ob.due_text, "deadline": ob.due_on.isoformat(), "status": status,
                           "evidence": [{"url": d["url"], "title": d.get("title", ""), "agency": _doc_agency(d),
                                         "published_at": _published(d).isoformat()} for d in evidence[:10]],
                           "evidence_urls": [d["url"] for d in evidence[:10]]}
    if first is not None:
        row["evidence_url"], row["evidence_at"] = first["url"], _published(first).isoformat()
    return row


def eval_due_item(ctx: Context, ob: Any) -> list[RuleOutcome]:
    """An item with a completion time: documents of its topic from its agencies published by the due date."""
    scope = _agency_scope(ob, concrete_first=True)
    if ob.due_on is None:
        note = f"{ob.due_text or 'ongoing'}: no due date to judge"
        return [RuleOutcome(rule=_rule_id(ob), agency=a if a != ALL_AGENCIES else "(all)", status=NOT_EVALUATED,
                            obligation=ob.text, topic_id=ob.topic_id, note=note) for a in scope]
    if not ob.topic_id or ob.topic_id == "0":
        return _no_evidence(ob, "item has no topic to match documents", scope)
    start = ctx.plan_start or ctx.since
    docs = ctx.docs(f"topic:{ob.topic_id}@{start}", _and(_topic_q(ob.topic_id), _dated(start, ctx.as_of + timedelta(days=1))))
    if scope != [ALL_AGENCIES]:
        return [_outcome(ob, a, [_due_row(ctx, ob, [d for d in docs if _in_scope(d, [a])])]) for a in scope]
    by_agency: dict[str, list[dict[str, Any]]] = {}
    for d in docs:  # a group (各区政府): every agency that shows evidence, else the group as a whole
        by_agency.setdefault(_doc_agency(d), []).append(d)
    if not by_agency:
        return [_outcome(ob, "(all)", [_due_row(ctx, ob, [])])]
    return [_outcome(ob, a, [_due_row(ctx, ob, ds)]) for a, ds in sorted(by_agency.items())]


def eval_elsewhere(measure: str) -> Callable[[Context, Any], list[RuleOutcome]]:
    def note(ctx: Context, ob: Any) -> list[RuleOutcome]:
        return [RuleOutcome(rule=_rule_id(ob), agency="(all)", status=NOT_EVALUATED, obligation=ob.text,
                            topic_id=ob.topic_id, note=f"measured by the {measure} report")]

    return note


# (duty, trigger) → evaluator; cadences (trigger None) by (duty, "period"), then ("*", "period");
# items with a completion time (kind "due") by (duty, "due"), then ("*", "due").
EVALUATORS: dict[tuple[str, str], Callable[[Context, Any], list[RuleOutcome]]] = {
    ("interpretation", "policy_published"): eval_policy_interpretation,
    ("interpretation", "meeting_decision"): eval_meeting_interpretation,
    ("press_conference", "major_emergency"): eval_emergency_press,
    ("penalty_disclosure", "penalty_decision"): eval_penalty_disclosure,
    ("press_conference", "period"): eval_press_conference_count,
    ("website_update", "period"): eval_elsewhere("freshness"),
    ("*", "period"): eval_periodic_publication,
    ("*", "due"): eval_due_item,
}
PERIODS = ("month", "quarter", "half_year", "year")


def evaluator_for(ob: Any) -> Callable[[Context, Any], list[RuleOutcome]] | None:
    """The evaluator of an obligation, or None when the documents cannot show it."""
    if getattr(ob, "kind", None) == "due":
        return EVALUATORS.get((ob.duty, "due")) or EVALUATORS[("*", "due")]
    if ob.trigger:
        return EVALUATORS.get((ob.duty, ob.trigger))
    if ob.period in PERIODS or ob.period == "week":
        return EVALUATORS.get((ob.duty, "period")) or (EVALUATORS[("*", "period")] if ob.period in PERIODS else None)
    return None


def timeliness_report(client: Elasticsearch, as_of: date | None = None, plan: Any = None,
                      rules_path: str | None = None) -> TimelinessReport:
    """Evaluate every measurable obligation of the plan up to as_of."""
    from zwgk.plans import load_plans
    from zwgk.weeks import today

    as_of = as_of or today()
    conf = rules_config.section("timeliness", rules_path)
    since = as_of - timedelta(days=int(conf.get("window_days", 365)))
    plan = plan or load_plans().view()  # every plan in force, as one
    ctx = Context(client=client, as_of=as_of, since=since, conf=conf)
    outcomes: list[RuleOutcome] = []
    for part in getattr(plan, "parts", [plan]):  # several plans in force (zwgk.plans): each from its own start
        start = part.issued_on or (date(part.year, 1, 1) if part.year else None)
        outcomes += _evaluate_plan(replace(ctx, plan_start=start), part)  # one document cache for all
    return TimelinessReport(as_of=as_of, since=since, outcomes=outcomes)


def _evaluate_plan(ctx: Context, plan: Any) -> list[RuleOutcome]:
    outcomes: list[RuleOutcome] = []
    seen: dict[str, int] = {}
    for _topic, ob in plan.obligations():
        rule = _rule_id(ob)
        seen[rule] = seen.get(rule, 0) + 1
        if seen[rule] > 1:  # several sentences of one topic with the same duty: keep their rules apart
            ob = _Renamed(ob, f"{rule}#{seen[rule]}")
        evaluate = evaluator_for(ob)
        if evaluate is None:
            outcomes.append(RuleOutcome(rule=_rule_id(ob), agency="(all)", status=NOT_EVALUATED, obligation=ob.text,
                                        topic_id=ob.topic_id, note="no stated period (定期)" if not (ob.trigger or ob.period)
                                        else "no measure for this duty"))
            continue
        outcomes.extend(evaluate(ctx, ob))
    return outcomes
