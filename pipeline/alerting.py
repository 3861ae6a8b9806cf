"""The weekly alert composed: the measures' reports for the week, sent through the alert stage."""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable, Iterable
from datetime import date

from elasticsearch import Elasticsearch

from alerts.channels import Attachment, Channel
from alerts.weekly import AlertOutcome, send_weekly_alert
from measures import stored
from measures.digest import previous_week, weekly_digest
from zwgk.weeks import today

log = logging.getLogger(__name__)


def weekly_reports(client: Elasticsearch, as_of: date, plan: str | None = None):
    """(freshness, timeliness) as of a date, as the measure steps stored them (computed when none is stored);
    timeliness None when its input is broken; only plan `plan`'s duties when given (zwgk.plans)."""
    fresh = stored.read(client, "freshness", as_of)
    try:
        timely = stored.read(client, "timeliness", as_of).for_plan(plan)
    except Exception:  # noqa: BLE001 - a broken timeliness input must not block the freshness alert
        log.exception("timeliness report failed; alert without overdue duties")
        timely = None
    return fresh, timely


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def weekly_contents(client: Elasticsearch, as_of: date, plan: str | None = None) -> tuple[dict, list[Attachment]]:
    """The week's digest and the files the e-mail carries: the 通报 (.docx) and the Excel workbook."""
    from measures.export import write_weekly

    fresh, timely = weekly_reports(client, as_of, plan)
    previous = weekly_reports(client, previous_week(as_of), plan)
    if timely is None:  # the alert goes out without duties; the files need both reports
        return weekly_digest(fresh, None, previous), []
    digest = weekly_digest(fresh, timely, previous)
    with tempfile.TemporaryDirectory(prefix="zwgk-weekly-") as tmp:
        files = write_weekly(fresh, timely, tmp, digest=digest)
        attachments = [Attachment(files[k].name, kind, files[k].read_bytes()) for k, kind in (("docx", DOCX),
                                                                                             ("xlsx", XLSX))]
    return digest, attachments


def run_weekly_alert(client: Elasticsearch, as_of: date | None = None, channels: Iterable[Channel] | None = None,
                     dry_run: bool = False, attempts: int | None = None, backoff: float | None = None,
                     sleep: Callable[[float], None] = time.sleep, plan: str | None = None) -> AlertOutcome:
    """The weekly alert for the last complete week before as_of (default: today in Asia/Shanghai); with a plan
    key, that plan's duties only (its own alert)."""
    as_of = as_of or today()
    return send_weekly_alert(client, as_of, lambda: weekly_contents(client, as_of, plan), channels, dry_run=dry_run,
                             attempts=attempts, backoff=backoff, sleep=sleep, plan=plan)
