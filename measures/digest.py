"""The week in the staff's words: one plain dict (the weekly digest) built from the stored reports, which the
通报 (.docx), the HTML report, the alert e-mail and the robot messages all render.

Every rule, status and note is labelled through zwgk.labels. Rows that cannot be judged (not evaluated, no
evidence, no data) are not listed among failures: they are grouped into one line per reason at the end, and the
summary counts only what was judged.
"""

from __future__ import annotations

import os
from collections import defaultdict
from datetime import date, timedelta
from typing import Any
from urllib.parse import quote

from measures.freshness import FAIL, NO_DATA, FreshnessReport
from measures.timeliness import NO_EVIDENCE, NOT_EVALUATED, TimelinessReport
from zwgk import labels
from zwgk import rules as rules_config
from zwgk.jsonable import jsonable
from zwgk.tables import records

NOT_JUDGED = (NOT_EVALUATED, NO_EVIDENCE, NO_DATA)


def settings() -> dict[str, Any]:
    """The circular's settings (rules file → circular), the dashboard address overridable by ZWGK_DASHBOARD_URL."""
    conf = rules_config.section("circular")
    conf["dashboard_url"] = (os.environ.get("ZWGK_DASHBOARD_URL") or conf.get("dashboard_url") or "").rstrip("/")
    return conf


def agency_url(base: str, agency: str) -> str:
    """The dashboard page of an agency."""
    return f"{base}/agencies?agency={quote(agency)}" if base and agency and not agency.startswith("(") else ""


def _url(value: Any) -> str:
    """A URL, or "" for the NaN a report table holds where a column has none."""
    return value if isinstance(value, str) else ""


def _when(value: str | None) -> str:
    """A deadline as people write it: 2026-11-13, or 2026-11-13 23:59 for an hour deadline."""
    value = value or ""
    return value[:10] if value[11:16] in ("", "23:59") else value[:16].replace("T", " ")


def _evidence(ev: list[dict[str, Any]], limit: int = 5) -> list[dict[str, str]]:
    """Evidence links with a Chinese caption (column, date, note)."""
    out = []
    for e in ev[:limit]:
        if not _url(e.get("url")):  # NaN when a column has no dated item
            continue
        caption = "，".join(str(x) for x in (e.get("column"), e.get("date"), labels.note_label(e.get("note"))) if x)
        out.append({"url": e["url"], "text": caption or e["url"]})
    return out


def _site_agency(fresh: FreshnessReport) -> dict[str, str]:
    if not len(fresh.sites):
        return {}
    return {r["site_id"]: r.get("agency") or "" for r in records(fresh.sites)}


def _site_failures(fresh: FreshnessReport, base: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(single-veto failures, other failures): one row per site and failed rule, with evidence."""
    agencies = _site_agency(fresh)
    veto, other = [], []
    for site, result in sorted(fresh.failing(), key=lambda p: (agencies.get(p[0], ""), p[0], p[1].rule)):
        agency = agencies.get(site, "")
        row = {"site_id": site, "agency": agency, "agency_url": agency_url(base, agency), "rule": result.rule,
               "label": labels.rule_label(result.rule), "finding": labels.finding(result.rule, result.value),
               "newly_failing": result.newly_failing, "evidence": _evidence(result.evidence)}
        (veto if labels.is_single_veto(result.rule) else other).append(row)
    return veto, other


def _columns(fresh: FreshnessReport) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(stale columns, oldest first; blank columns)."""
    if not len(fresh.columns):
        return [], []
    rows = records(fresh.columns)
    stale = [{"site_id": r["site_id"], "agency": r.get("agency") or "", "column": r["column"],
              "column_type": labels.column_name(r.get("stale_rule") or r.get("column_type") or ""),
              "last_update": jsonable(r.get("last_update")) or labels.note_label("no dated item"),
              "age_days": None if r.get("age_days") != r.get("age_days") or r.get("age_days") is None
              else int(r["age_days"]),
              "url": _url(r.get("last_update_url")) or _url(r.get("list_url"))}
             for r in rows if r.get("stale")]
    stale.sort(key=lambda r: -(r["age_days"] if r["age_days"] is not None else 10**6))
    blank = [{"site_id": r["site_id"], "agency": r.get("agency") or "", "column": r["column"],
              "url": _url(r.get("list_url"))} for r in rows if r.get("blank")]
    return stale, blank


def _overdue(timely: TimelinessReport | None, base: str) -> list[dict[str, Any]]:
    """Overdue duties by agency, earliest deadline first: one row per document waiting for an answer, and one
    per agency and duty for its missed periods (2026-01、2026-02 …), not a row per month."""
    if timely is None:
        return []
    rows, periods = [], defaultdict(list)
    for o in timely.overdue():
        if "period" in o:
            periods[(o["agency"], o["rule"])].append(o)
            continue
        rows.append(_overdue_row(o, base, o.get("trigger_title") or o.get("title") or o.get("trigger_url") or "",
                                 _when(o.get("deadline")), _url(o.get("trigger_url")) or
                                 next(iter(o.get("evidence_urls") or []), "")))
    for missed in periods.values():
        names = "、".join(m["period"] for m in missed)
        need = missed[0].get("required", 1)
        rows.append(_overdue_row(missed[-1], base, f"{len(missed)}期不足{need}次：{names}", _when(missed[-1]["period_end"]),
                                 next((_url(u) for m in missed for u in m.get("evidence_urls") or [] if _url(u)), "")))
    rows.sort(key=lambda r: (r["agency"], r["deadline"], r["label"]))
    return rows


def _overdue_row(o: dict[str, Any], base: str, item: str, deadline: str, url: str) -> dict[str, Any]:
    return {"agency": labels.agency_label(o["agency"]), "agency_url": agency_url(base, o["agency"]), "rule": o["rule"],
            "label": labels.rule_label(o["rule"]), "item": item, "deadline": deadline,
            "status": labels.status_label(o.get("status")), "url": url}


def _in_week(day: str, fresh: FreshnessReport) -> bool:
    return bool(day) and fresh.week.start.isoformat() <= day[:10] <= fresh.week.end.isoformat()


def _newly(fresh: FreshnessReport, veto: list[dict[str, Any]], other: list[dict[str, Any]],
           overdue: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Items failing this week that did not last week: site rules newly failing, duties that fell due in the week."""
    rows = [{"who": r["site_id"] + (f"（{r['agency']}）" if r["agency"] else ""), "site_id": r["site_id"],
             "rule": r["rule"], "label": r["label"], "finding": r["finding"],
             "url": next((e["url"] for e in r["evidence"]), "")}
            for r in veto + other if r["newly_failing"]]
    rows += [{"who": r["agency"], "site_id": "", "rule": r["rule"], "label": r["label"],
              "finding": f"{r['item']}（时限{r['deadline']}）", "url": r["url"]}
             for r in overdue if _in_week(r["deadline"], fresh)]
    return rows


def _failures_by_agency(fresh: FreshnessReport | None, timely: TimelinessReport | None) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    if fresh is not None:
        agencies = _site_agency(fresh)
        for site, _ in fresh.failing():
            counts[agencies.get(site) or site] += 1
    if timely is not None:
        for o in timely.overdue():
            counts[o["agency"]] += 1
    return counts


def _improved(now: dict[str, int], before: dict[str, int] | None, base: str) -> list[dict[str, Any]]:
    """Agencies with fewer failing items than the week before."""
    if before is None:
        return []
    rows = [{"agency": labels.agency_label(a), "agency_url": agency_url(base, a), "before": n, "after": now.get(a, 0)}
            for a, n in before.items() if now.get(a, 0) < n]
    return sorted(rows, key=lambda r: (r["after"] - r["before"], r["agency"]))


def _not_judged(fresh: FreshnessReport, timely: TimelinessReport | None) -> list[dict[str, Any]]:
    """One line per reason for every row that cannot be judged."""
    groups: dict[tuple[str, str], set[str]] = defaultdict(set)
    for site, results in fresh.rules.items():
        for r in results:
            if r.status in NOT_JUDGED:
                groups[(labels.status_label(r.status), labels.no_data_reason(r.rule))].add(site)
    for o in timely.outcomes if timely is not None else []:
        if o.status in NOT_JUDGED:
            groups[(labels.status_label(o.status), labels.note(o.note).reason or "")].add(labels.rule_label(o.rule))
    return [{"status": status, "reason": reason, "count": len(items), "examples": sorted(items)[:3],
             "line": f"{status}：{reason}，共{len(items)}项（如{'、'.join(sorted(items)[:3])}）"}
            for (status, reason), items in sorted(groups.items())]


def _judged(timely: TimelinessReport | None) -> tuple[int, int]:
    """(agency × duty rows judged, of which failing)."""
    rows = [o for o in timely.outcomes if o.status not in NOT_JUDGED] if timely is not None else []
    return len(rows), sum(o.status == FAIL for o in rows)


def weekly_digest(fresh: FreshnessReport, timely: TimelinessReport | None, previous: tuple[Any, Any] | None = None,
                  conf: dict[str, Any] | None = None) -> dict[str, Any]:
    """The week's findings, labelled, as plain data; previous = last week's (freshness, timeliness) reports."""
    conf = conf or settings()
    base = conf.get("dashboard_url", "")
    veto, other = _site_failures(fresh, base)
    stale, blank = _columns(fresh)
    overdue = _overdue(timely, base)
    judged_sites = {s for s, rs in fresh.rules.items() if any(r.status not in NOT_JUDGED for r in rs)}
    failing_sites = {s for s, _ in fresh.failing()}
    duties, duties_failing = _judged(timely)
    newly = _newly(fresh, veto, other, overdue)
    improved = _improved(_failures_by_agency(fresh, timely), _failures_by_agency(*previous) if previous else None, base)
    not_updated = sorted({r["site_id"] for r in other if r["rule"] == "weekly_update"})
    summary = {"sites_judged": len(judged_sites), "sites_failing": len(failing_sites),
               "veto_sites": len({r["site_id"] for r in veto}), "not_updated_sites": len(not_updated),
               "stale_columns": len(stale), "blank_columns": len(blank), "duties_judged": duties,
               "duties_failing": duties_failing, "overdue_items": len(overdue), "newly_failing": len(newly),
               "improved_agencies": len(improved)}
    week = fresh.week
    period = f"{week.start.year}年{week.start.month}月{week.start.day}日至{week.end.month}月{week.end.day}日"
    text = (f"{period}，共监测政府网站{summary['sites_judged']}个，其中{summary['sites_failing']}个未达标，"
            f"{summary['veto_sites']}个触及单项否决指标，{summary['not_updated_sites']}个本周未更新；"
            f"超期未更新栏目{summary['stale_columns']}个，空白栏目{summary['blank_columns']}个。"
            f"评估时效类职责{summary['duties_judged']}项，未达标{summary['duties_failing']}项，"
            f"逾期未办事项{summary['overdue_items']}件；本周新增问题{summary['newly_failing']}项，"
            f"较上周改进的单位{summary['improved_agencies']}个。")
    as_of = fresh.as_of.isoformat()
    return {
        "week": {"label": week.label, "start": week.start.isoformat(), "end": week.end.isoformat(), "period": period},
        "as_of": as_of, "title": conf.get("title", "").format(period=period), "office": conf.get("office", ""),
        "signature": conf.get("signature", ""), "recipients": conf.get("recipients", ""),
        "report_url": base + conf.get("report_path", "").format(as_of=as_of, week=week.label) if base else "",
        "dashboard_url": base, "summary": summary, "summary_text": text,
        "veto": veto, "other_failures": other, "stale_columns": stale, "blank_columns": blank, "overdue": overdue,
        "newly_failing": newly, "improved": improved, "not_judged": _not_judged(fresh, timely),
    }


def previous_week(as_of: date) -> date:
    """The as_of whose report is the week before as_of's."""
    return as_of - timedelta(days=7)
