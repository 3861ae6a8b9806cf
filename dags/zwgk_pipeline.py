"""crawl → classify → index per shard of sites, then events and measure: the monitoring pipeline (hourly by
default, ZWGK_PIPELINE_SCHEDULE).

The steps are pipeline.steps.STEPS (the sequence `zwgk run` and the benchmark also run). `shards` cuts the
registry into shards (ZWGK_SHARD_SITES sites each); the per-shard steps form a task group mapped over them
(`shard.crawl` → `shard.classify` → `shard.index`, one of each per shard, so workers take shards in parallel
and a retry redoes one shard's step); the other steps (`events`, `measure`) run once after every shard, side by side
(each reads what the shards indexed, neither what the other writes). Files go in between
(settings.home()/runs/<run_id>/<shard>/), and re-indexing upserts.
"""

from __future__ import annotations

from airflow.sdk import Param, dag, get_current_context, task, task_group

from pipeline import dag_settings, steps


def _run() -> steps.Run:
    """This DAG run as a steps.Run: its id and params."""
    ctx = get_current_context()
    p = ctx["params"]
    return steps.Run(ctx["run_id"], p["sites"], p["site_ids"], p["base_url"], dag_settings.run_as_of(ctx))


@task
def shards() -> list[dict]:
    """The run's shards (steps.plan_shards), the list the shard group is mapped over."""
    return steps.plan_shards(_run())


def _shard_task(name: str):
    """The task of one per-shard step: this run narrowed to the shard → pipeline.steps.run_step."""

    @task(task_id=name)
    def run_shard_step(shard: dict, done: dict) -> dict:
        return steps.run_step(name, _run().for_shard(shard), done)

    return run_shard_step


def _run_task(name: str):
    """The task of a step done once per run, after every shard."""

    @task(task_id=name)
    def run_step(done: dict) -> dict:
        return steps.run_step(name, _run(), done)

    return run_step


@task_group(group_id="shard")
def shard_group(shard: dict):
    """The per-shard steps of STEPS in their order, for one shard (one map index of the group)."""
    results: dict = {}
    previous = None
    for step in steps.shard_steps():
        current = _shard_task(step.name)(shard, {name: results[name] for name in step.needs})
        if previous is not None:
            previous >> current  # the order of STEPS, also where no result is passed
        results[step.name] = previous = current
    return previous


@dag(
    dag_id="zwgk_pipeline",
    description="crawl the agency sites, classify against the plan, index, group news into events, measure freshness "
    "and timeliness",
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
    shards_done = shard_group.expand(shard=shards())
    for step in steps.run_steps():
        shards_done >> _run_task(step.name)({})  # after every shard (they read what the shards indexed), in parallel


dag = zwgk_pipeline()
