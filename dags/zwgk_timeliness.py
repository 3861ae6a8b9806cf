"""Daily response-timeliness evaluation, stored in Elasticsearch (`timeliness:<date>` in the reports index)."""

from __future__ import annotations

from airflow.sdk import Param, dag, get_current_context, task

from pipeline import dag_settings


@dag(
    dag_id="zwgk_timeliness",
    description="daily timeliness of the plan's response duties, per agency, in working days",
    schedule=dag_settings.timetable(dag_settings.TIMELINESS_CRON),
    start_date=dag_settings.START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=dag_settings.default_args(),
    params={"as_of": Param(None, type=["null", "string"], description="evaluate as of YYYY-MM-DD")},
    tags=["zwgk"],
)
def zwgk_timeliness():
    @task
    def timeliness() -> dict:
        from pipeline import steps

        return steps.timeliness_step(dag_settings.run_as_of(get_current_context()))

    timeliness()


dag = zwgk_timeliness()
