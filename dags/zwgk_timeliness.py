"""Daily response-timeliness evaluation (written to settings.home()/reports/<prefix>/<date>/timeliness.json)."""

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
        import json
        import logging
        from pathlib import Path

        from pipeline import steps

        result = steps.timeliness_step(dag_settings.run_as_of(get_current_context()))
        report = json.loads(Path(result["timeliness"]).read_text(encoding="utf-8"))
        logging.getLogger(__name__).info("timeliness %s: %s", result["as_of"], str(report)[:2000])
        return result

    timeliness()


dag = zwgk_timeliness()
