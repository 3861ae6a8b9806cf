"""crawl → classify → index → measure: the monitoring pipeline (hourly by default, ZWGK_PIPELINE_SCHEDULE).

One task per step of pipeline.steps.STEPS (the sequence `zwgk run` and the benchmark also run), with
files in between (settings.home()/runs/<run_id>/), so a retried task redoes only its own step and
re-indexing upserts.
"""

from __future__ import annotations

from airflow.sdk import Param, dag, get_current_context, task

from pipeline import dag_settings, steps


def _step_task(name: str):
    """The task of one step: this run's id and params → pipeline.steps.run_step, given the earlier results."""

    @task(task_id=name)
    def run_step(done: dict) -> dict:
        ctx = get_current_context()
        p = ctx["params"]
        run = steps.Run(ctx["run_id"], p["sites"], p["site_ids"], p["base_url"], dag_settings.run_as_of(ctx))
        return steps.run_step(name, run, done)

    return run_step


@dag(
    dag_id="zwgk_pipeline",
    description="crawl the agency sites, classify against the plan, index, measure freshness and timeliness",
    schedule=dag_settings.pipeline_schedule(),
    start_date=dag_settings.START_DATE,
    catchup=False,
    max_active_runs=1,  # runs share the incremental crawl state
    default_args=dag_settings.default_args(),
    params={
        "sites": Param(dag_settings.default_sites_path(), type="string", description="site registry YAML"),
        "site_ids": Param([], type="array", description="only these site ids (empty: all)"),
        "base_url": Param(None, type=["null", "string"], description="serve every site from this base URL"),
        "as_of": Param(None, type=["null", "string"], description="measure as of YYYY-MM-DD (default: run date)"),
    },
    tags=["zwgk"],
)
def zwgk_pipeline():
    results: dict = {}
    previous = None
    for step in steps.STEPS:
        current = _step_task(step.name)({name: results[name] for name in step.needs})
        if previous is not None:
            previous >> current  # the order of STEPS, also where no result is passed (measure after index)
        results[step.name] = previous = current


dag = zwgk_pipeline()
