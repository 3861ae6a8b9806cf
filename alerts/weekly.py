"""The weekly alert (Monday 09:00 Asia/Shanghai): failing sites, stale columns, newly failing items and overdue
duties in the staff's words, sent once per week and channel: e-mail as HTML with a plain-text part and the
通报 (.docx) and Excel attached, robots as markdown within their size limits with a link to the full report.

It renders the week's digest (measures.digest), which `pipeline.alerting` builds and passes in with the files."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from elasticsearch import Elasticsearch

from alerts.channels import ROBOT_BUDGET, AlertMessage, Attachment, Channel, channels_from_env
from alerts.delivery import FAILED, SENT, Delivery, _get, deliver, retry_failed, save_record
from zwgk import rules as rules_config
from zwgk.weeks import last_complete_week, now_iso

log = logging.getLogger(__name__)
TOP_ITEMS = 10  # rows per section in the e-mail and the robots; the attached 通报 and Excel have them all
ROBOT_TOPS = (10, 5, 3, 1, 0)  # rows per section tried, largest first, until the robot markdown fits its budget


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


def _lines(digest: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """The alert's sections as (title, one line per row), most serious first; lines carry their evidence URL."""
    def site(r: dict[str, Any]) -> str:
        return r["site_id"] + (f"（{r['agency']}）" if r["agency"] else "")

    def url(u: str) -> str:
        return f" {u}" if u else ""

    failing = digest["veto"] + digest["other_failures"]
    return [
        ("不合格网站", [f"{site(r)}：{r['finding']}" + url(next((e["url"] for e in r["evidence"]), ""))
                   for r in failing]),
        ("超期未更新栏目", [f"{r['site_id']} / {r['column']}：最后更新 {r['last_update']}"
                       + (f"（{r['age_days']} 天）" if r["age_days"] is not None else "") + url(r["url"])
                       for r in digest["stale_columns"]]),
        ("本周新增问题", [f"{r['who']}：{r['finding']}" + url(r["url"]) for r in digest["newly_failing"]]),
        ("逾期未办", [f"{r['agency']}：{r['label']}，{r['item']}，时限 {r['deadline']}" + url(r["url"])
                  for r in digest["overdue"]]),
        ("较上周改进", [f"{r['agency']}：问题由 {r['before']} 项减至 {r['after']} 项" for r in digest["improved"]]),
        ("暂无法评估", [r["line"] for r in digest["not_judged"]]),
    ]


def _shown(lines: list[str], top: int) -> list[str]:
    """At most `top` lines, then how many more there are; "无" for an empty section."""
    if not lines:
        return ["无"]
    return lines[:top] + ([f"…及另外 {len(lines) - top} 项，详见附件《通报》"] if len(lines) > top else [])


def _text(subject: str, head: str, sections: list[tuple[str, list[str]]], digest: dict[str, Any]) -> str:
    parts = [f"{title}\n" + "\n".join(f"  - {line}" for line in _shown(lines, TOP_ITEMS)) for title, lines in sections]
    link = f"\n\n完整报告：{digest['report_url']}" if digest.get("report_url") else ""
    return f"{subject}\n{head}\n{digest['summary_text']}\n\n" + "\n\n".join(parts) + link


def _markdown(subject: str, head: str, sections: list[tuple[str, list[str]]], digest: dict[str, Any]) -> str:
    """Robot markdown within ROBOT_BUDGET bytes: fewer rows per section until it fits, the report link always last."""
    link = f"\n\n[查看完整报告]({digest['report_url']})" if digest.get("report_url") else ""
    for top in ROBOT_TOPS:
        body = "\n\n".join(f"### {title}\n" + "\n".join(f"- {line}" for line in _shown(lines, top))
                            for title, lines in sections if top or lines)
        md = f"## {subject}\n{head}\n\n{digest['summary_text']}\n\n{body}{link}"
        if len(md.encode("utf-8")) <= ROBOT_BUDGET:
            return md
    return f"## {subject}\n{head}{link}"


def _html(subject: str, head: str, digest: dict[str, Any]) -> str:
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=select_autoescape(["html"]))
    return env.get_template("weekly_email.html").render(subject=subject, head=head, d=digest, top=TOP_ITEMS)


def build_weekly_alert(digest: dict[str, Any], attachments: Iterable[Attachment] = ()) -> AlertMessage:
    """The alert from the week's digest (measures.digest.weekly_digest): plain text, HTML with the top rows as tables
    and links, robot markdown within its limits, structured data, and the 通报/Excel files attached."""
    s, week = digest["summary"], digest["week"]
    subject = (f"[政务公开监测] {week['label']} 周报：{s['sites_failing']} 个网站不合格（{s['veto_sites']} 个触及单项否决），"
               f"{s['stale_columns']} 个栏目超期未更新，{s['overdue_items']} 项逾期未办")
    head = f"统计周：{week['label']}（{week['start']} 至 {week['end']}）"
    sections = _lines(digest)
    files = list(attachments)
    data = {"week": week["label"], "summary": s,
            "failing_sites": sorted({r["site_id"] for r in digest["veto"] + digest["other_failures"]}),
            "stale_columns": s["stale_columns"], "overdue": s["overdue_items"],
            "newly_failing": [{"site_id": r["site_id"], "rule": r["rule"], "who": r["who"], "label": r["label"]}
                              for r in digest["newly_failing"]],  # site_id: the dashboard's alert history
            "report_url": digest.get("report_url", ""), "attachments": [a.filename for a in files]}
    return AlertMessage(subject=subject, text=_text(subject, head, sections, digest),
                        markdown=_markdown(subject, head, sections, digest), data=data,
                        html=_html(subject, head, digest), attachments=files)


Contents = Callable[[], tuple[dict[str, Any], list[Attachment]]]  # () -> (the week's digest, files to attach)


def send_weekly_alert(client: Elasticsearch, as_of: date, contents: Contents, channels: Iterable[Channel] | None = None,
                      dry_run: bool = False, attempts: int | None = None, backoff: float | None = None,
                      sleep: Callable[[float], None] = time.sleep, plan: str | None = None) -> AlertOutcome:
    """Build, record and send the alert for the last complete week before as_of; idempotent per week+channel
    (and per plan: one plan's alert, zwgk.plans, is its own, weekly:<plan>:<week>).

    Earlier deliveries recorded as failed are retried first. A week's alert text is fixed by its
    first run (stored in the alert record) so every channel and every retry sends the same message;
    `contents` is called only when the week has no stored message yet.
    """
    conf = rules_config.section("alerts").get("delivery") or {}
    attempts = int(attempts if attempts is not None else conf.get("attempts", 3))
    backoff = float(backoff if backoff is not None else conf.get("backoff_seconds", 2))
    channels = list(channels if channels is not None else channels_from_env(timeout=float(conf.get("timeout_seconds", 10))))
    week = last_complete_week(as_of).label
    key = f"weekly:{plan}:{week}" if plan else f"weekly:{week}"
    stored = _get(client, key)
    if stored and stored.get("message"):
        message = AlertMessage.from_dict(json.loads(stored["message"]))
    else:
        message = build_weekly_alert(*contents())
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
