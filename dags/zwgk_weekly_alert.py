"""Monday 09:00 Asia/Shanghai: freshness and timeliness reports, then the weekly alert (email + webhooks).

The weekly alert records every alert in Elasticsearch and sends nothing twice for the same week, so a retry
or a manual re-run of the same week is safe.
"""

from __future__ import annotations

from airflow.sdk import Param, dag, get_current_context, task

from pipeline import dag_settings


@dag(
    dag_id="zwgk_weekly_alert",
    description="weekly website freshness + timeliness alert to monitoring staff",
    schedule=dag_settings.timetable(dag_settings.WEEKLY_ALERT_CRON),
    start_date=dag_settings.START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=dag_settings.default_args(),
    params={"as_of": Param(None, type=["null", "string"], description="the week of YYYY-MM-DD (default: run date)")},
    tags=["zwgk", "alerts"],
)
def zwgk_weekly_alert():
    @task
    def freshness() -> dict:
        from pipeline import steps

        return steps.freshness_step(dag_settings.run_as_of(get_current_context()))

    @task
    def timeliness() -> dict:
        from pipeline import steps

        return steps.timeliness_step(dag_settings.run_as_of(get_current_context()))

    @task
    def weekly_alert(fresh: dict, timely: dict) -> dict:
        from pipeline import steps

        return steps.alert_step(fresh["as_of"])

    weekly_alert(freshness(), timeliness())


dag = zwgk_weekly_alert()
