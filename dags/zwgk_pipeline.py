"""crawl → classify → index → measure: the monitoring pipeline (hourly by default, ZWGK_PIPELINE_SCHEDULE).

Each task calls one function of pipeline.steps with files in between (settings.home()/runs/<run_id>/),
so a retried task redoes only its own step and re-indexing upserts.
"""

from __future__ import annotations

from airflow.sdk import Param, dag, get_current_context, task

from pipeline import dag_settings


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
    @task
    def crawl() -> dict:
        from pipeline import steps

        ctx = get_current_context()
        p = ctx["params"]
        return steps.crawl_step(steps.run_dir(ctx["run_id"]), p["sites"], p["site_ids"], p["base_url"])

    @task
    def classify(crawled: dict) -> dict:
        from pathlib import Path

        from pipeline import steps

        return steps.classify_step(crawled["documents"], Path(crawled["documents"]).parent.parent / "classified.jsonl")

    @task
    def index(classified: dict, crawled: dict) -> dict:
        from pipeline import steps

        return steps.index_step(classified["documents"], crawled["snapshots"])

    @task
    def measure(indexed: dict) -> dict:
        from pipeline import steps

        return steps.measure_step(dag_settings.run_as_of(get_current_context()))

    crawled = crawl()
    measure(index(classify(crawled), crawled))


dag = zwgk_pipeline()
