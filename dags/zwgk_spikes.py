"""Daily negative-news spikes: each agency's negative news of the day before against its own 28-day baseline;
a spike is alerted once per channel (measures/spikes.py, pipeline/spike_alerts.py)."""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import Param, dag, get_current_context, task

from pipeline import dag_settings


@dag(
    dag_id="zwgk_spikes",
    description="negative-news spikes per agency against its rolling baseline, alerted once",
    schedule=dag_settings.timetable(dag_settings.SPIKES_CRON),
    start_date=dag_settings.START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=dag_settings.default_args(),
    params={"day": Param(None, type=["null", "string"], description="the day to check, YYYY-MM-DD "
                                                                       "(default: the day before the run)")},
    tags=["zwgk", "alerts"],
)
def zwgk_spikes():
    @task
    def spikes() -> dict:
        from pipeline import steps

        context = get_current_context()
        day = (context.get("params") or {}).get("day") or dag_settings.run_as_of(context) - timedelta(days=1)
        return steps.spikes_step(day)

    spikes()


dag = zwgk_spikes()
