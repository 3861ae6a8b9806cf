"""Daily keyword watchlists: every saved query runs; documents new since the last run become alerts."""

from __future__ import annotations

from airflow.sdk import dag, task

from pipeline import dag_settings


@dag(
    dag_id="zwgk_watchlists",
    description="analysts' saved queries: alert on new matching documents",
    schedule=dag_settings.timetable(dag_settings.WATCHLISTS_CRON),
    start_date=dag_settings.START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=dag_settings.default_args(),
    tags=["zwgk", "alerts"],
)
def zwgk_watchlists():
    @task
    def watchlists() -> dict:
        from pipeline import steps

        return steps.watchlists_step()

    watchlists()


dag = zwgk_watchlists()
