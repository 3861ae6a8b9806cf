"""What every DAG shares: retries, start date, timetables, and reading a run's context into step arguments.

Light on purpose (DAG files import it at parse time): no Airflow model, Elasticsearch or model imports.
Environment:
  ZWGK_PIPELINE_SCHEDULE  cron of the crawl → classify → index → measure DAG (default hourly; "none": manual)
  ZWGK_TASK_RETRIES       retries per task (default 2)
  ZWGK_RETRY_DELAY        seconds before a retry (default 120; the tests use 1)
  ZWGK_SITES              the site registry the pipeline crawls (default crawlers/sites/beijing.yaml)
  ZWGK_SHARD_SITES        sites per shard: the pipeline crawls, classifies and indexes each shard as its own
                          tasks (a retry redoes one shard; workers take shards in parallel), default 25
"""

from __future__ import annotations

import os
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from zwgk import settings

TZ = ZoneInfo(settings.TIMEZONE)
START_DATE = datetime(2026, 1, 1, tzinfo=TZ)
SITES_DIR = Path(__file__).resolve().parent.parent / "crawlers" / "sites"

PIPELINE_CRON = "0 * * * *"  # hourly: the crawl is incremental, so a quiet hour costs a few list pages
WEEKLY_ALERT_CRON = "0 9 * * 1"  # Monday 09:00 Asia/Shanghai
TIMELINESS_CRON = "0 8 * * *"  # daily 08:00, before the working day
WATCHLISTS_CRON = "30 8 * * *"  # daily 08:30
SPIKES_CRON = "45 8 * * *"  # daily 08:45: yesterday's negative news against each agency's baseline
SHARD_SITES = 25  # a shard's crawl is a few minutes for a city's sites; 14,000 sites make 560 tasks per step


def default_args() -> dict:
    """Retries with backoff: a step is idempotent, so a retry redoes only what did not finish."""
    return {
        "owner": "zwgk",
        "retries": int(os.environ.get("ZWGK_TASK_RETRIES", "2")),
        "retry_delay": timedelta(seconds=float(os.environ.get("ZWGK_RETRY_DELAY", "120"))),
        "retry_exponential_backoff": float(os.environ.get("ZWGK_RETRY_DELAY", "120")) >= 60,
    }


def shard_sites() -> int:
    """Sites per shard (read when a run plans its shards, not when the DAG is parsed)."""
    return max(1, int(os.environ.get("ZWGK_SHARD_SITES", str(SHARD_SITES))))


def timetable(cron: str | None):
    """A cron in Asia/Shanghai (fires at the stated wall-clock time, no catch-up), or None for manual only."""
    if not cron or cron.strip().lower() in ("none", "manual", "off"):
        return None
    from airflow.sdk import CronTriggerTimetable

    return CronTriggerTimetable(cron, timezone=settings.TIMEZONE)


def pipeline_schedule():
    return timetable(os.environ.get("ZWGK_PIPELINE_SCHEDULE", PIPELINE_CRON))


def default_sites_path() -> str:
    """The registry the scheduled pipeline crawls: ZWGK_SITES, else the real Beijing sites, else the demo."""
    env = os.environ.get("ZWGK_SITES")
    if env:
        return env
    real = SITES_DIR / "beijing.yaml"
    return str(real if real.exists() else SITES_DIR / "demo.yaml")


def run_as_of(context) -> date:
    """The day a run measures: params.as_of if given, else the run's logical date (or run_after) in Shanghai."""
    params = context.get("params") or {}
    if params.get("as_of"):
        return date.fromisoformat(str(params["as_of"])[:10])
    when = context.get("logical_date") or context["dag_run"].run_after
    return when.astimezone(TZ).date()
