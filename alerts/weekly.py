"""The weekly freshness alert (Monday 09:00 Asia/Shanghai): stale sites and columns, newly failing
rules and overdue duties, sent once per week and channel.

The reports it is built from come from the measures stage; `pipeline.alerting` passes them in."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from elasticsearch import Elasticsearch

from alerts.channels import AlertMessage, Channel, channels_from_env
from alerts.delivery import FAILED, SENT, Delivery, _get, deliver, retry_failed, save_record
from zwgk import rules as rules_config
from zwgk.weeks import last_complete_week, now_iso

log = logging.getLogger(__name__)
MAX_LINES = 40  # per section; the rest is counted, the full lists are in the reports


@dataclass
class AlertOutcome:
    week: str
    key: str
    message: AlertMessage
    deliveries: list[Delivery] = field(default_factory=list)  # this week's channels
    retried: list[Delivery] = field(default_factory=list)  # earlier failed deliveries sent again
    dry_run: bool = False

    @property
    def sent(self) -> list[str]:
        return [d.channel for d in self.deliveries if d.status == SENT]

    @property
    def failed(self) -> list[str]:
        return [d.channel for d in self.deliveries if d.status == FAILED]

    def to_dict(self) -> dict[str, Any]:
        return {"week": self.week, "key": self.key, "subject": self.message.subject, "dry_run": self.dry_run,
                "deliveries": [d.to_dict() for d in self.deliveries], "retried": [d.to_dict() for d in self.retried]}


def _section(title: str, lines: list[str]) -> tuple[str, str]:
    """(markdown, text) of a list section, clipped to MAX_LINES."""
    shown = lines[:MAX_LINES]
    if len(lines) > MAX_LINES:
        shown.append(f"…及另外 {len(lines) - MAX_LINES} 项")
    if not shown:
        shown = ["无"]
    md = f"### {title}\n" + "\n".join(f"- {line}" for line in shown)
    return md, f"{title}\n" + "\n".join(f"  - {line}" for line in shown)


def build_weekly_alert(fresh: Any, timely: Any | None = None) -> AlertMessage:
    """The alert text (markdown and plain) and its data from the two reports (measures' FreshnessReport and
    TimelinessReport; the alert without overdue duties when timely is None)."""
    failing_sites = sorted({s for s, _ in fresh.failing()})
    site_lines = []
    for site in failing_sites:
        rules = [r for r in fresh.rules[site] if r.status == "fail"]
        agency = fresh.sites.loc[fresh.sites.site_id == site, "agency"]
        name = f"{site}（{agency.iloc[0]}）" if len(agency) and agency.iloc[0] else site
        site_lines.append(f"{name}: " + "、".join(f"{r.rule}={r.value}" for r in rules))
    col_lines = []
    stale = fresh.stale_columns()
    for rec in stale.to_dict("records") if len(stale) else []:
        last = rec["last_update"].isoformat() if rec.get("last_update") else "无带日期的更新"
        url = rec.get("last_update_url") or rec.get("list_url") or ""
        col_lines.append(f"{rec['site_id']} / {rec['column']}: 最后更新 {last}"
                         + (f"（{rec['age_days']} 天）" if rec.get("age_days") is not None else "") + f" {url}")
    new_lines = [f"{s}: {r.rule}" + (f" {r.evidence[0].get('url', '')}" if r.evidence else "")
                 for s, r in fresh.newly_failing()]
    overdue = timely.overdue() if timely else []
    due_lines = [f"{o['agency']} {o['rule']}: " + (f"{o.get('trigger_url')} 截止 {o.get('deadline')}" if o.get("trigger_url")
                                                  else f"{o.get('period')} {o.get('count')}/{o.get('required')}")
                 for o in overdue]
    week = fresh.week
    subject = (f"[政务公开监测] {week.label} 网站更新周报：{len(failing_sites)} 个网站不合格，"
               f"{len(col_lines)} 个栏目超期未更新，{len(overdue)} 项逾期")
    parts = [_section("不合格网站", site_lines), _section("超期未更新栏目", col_lines),
             _section("本周新增不合格项", new_lines), _section("逾期未办（时效）", due_lines)]
    head = f"统计周：{week.label}（{week.start} 至 {week.end}，Asia/Shanghai）"
    markdown = f"## {subject}\n{head}\n\n" + "\n\n".join(md for md, _ in parts)
    text = f"{subject}\n{head}\n\n" + "\n\n".join(t for _, t in parts)
    data = {"week": week.label, "failing_sites": failing_sites, "stale_columns": len(col_lines),
            "newly_failing": [{"site_id": s, "rule": r.rule} for s, r in fresh.newly_failing()],
            "overdue": len(overdue)}
    return AlertMessage(subject=subject, text=text, markdown=markdown, data=data)


Reports = Callable[[], tuple[Any, Any | None]]  # () -> (freshness report, timeliness report or None)


def send_weekly_alert(client: Elasticsearch, as_of: date, reports: Reports, channels: Iterable[Channel] | None = None,
                      dry_run: bool = False, attempts: int | None = None, backoff: float | None = None,
                      sleep: Callable[[float], None] = time.sleep) -> AlertOutcome:
    """Build, record and send the alert for the last complete week before as_of; idempotent per week+channel.

    Earlier deliveries recorded as failed are retried first. A week's alert text is fixed by its
    first run (stored in the alert record) so every channel and every retry sends the same message;
    `reports` is called only when the week has no stored message yet.
    """
    conf = rules_config.section("alerts").get("delivery") or {}
    attempts = int(attempts if attempts is not None else conf.get("attempts", 3))
    backoff = float(backoff if backoff is not None else conf.get("backoff_seconds", 2))
    channels = list(channels if channels is not None else channels_from_env(timeout=float(conf.get("timeout_seconds", 10))))
    week = last_complete_week(as_of).label
    key = f"weekly:{week}"
    stored = _get(client, key)
    if stored and stored.get("message"):
        message = AlertMessage.from_dict(json.loads(stored["message"]))
    else:
        message = build_weekly_alert(*reports())
        if not dry_run:
            save_record(client, key, {"type": "alert", "kind": "weekly", "key": key, "week": week, "status": "built",
                                      "subject": message.subject, "created_at": now_iso(),
                                      "message": json.dumps(message.to_dict(), ensure_ascii=False)})
    outcome = AlertOutcome(week=week, key=key, message=message, dry_run=dry_run)
    if not dry_run:
        outcome.retried = retry_failed(client, channels, attempts, backoff, exclude_keys={key}, sleep=sleep)
    outcome.deliveries = deliver(client, key, "weekly", message, channels, attempts, backoff, dry_run=dry_run,
                                 extra={"week": week}, sleep=sleep)
    log.info("weekly alert %s: sent %s, failed %s", week, outcome.sent, outcome.failed)
    return outcome
