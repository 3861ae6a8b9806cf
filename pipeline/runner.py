"""`zwgk run`: the pipeline's steps once, in this process, with a stage counter on stderr."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Any

from pipeline import dag_settings, steps


def run_pipeline(
    sites_path: str | Path | None = None,
    site_ids: list[str] | None = None,
    base_url: str | None = None,
    as_of: str | date | None = None,
    run_id: str | None = None,
) -> dict[str, Any]:
    """Every step of steps.STEPS in order, shard after shard (the DAG's tasks, the same run folders); each
    step's result combined over the shards."""
    from tqdm import tqdm

    run = steps.Run(run_id or steps.new_run_id("cli"), sites_path or dag_settings.default_sites_path(), site_ids,
                    base_url, as_of)
    out: dict[str, Any] = {"run_id": run.run_id, "run_dir": str(run.dir)}
    results: dict[str, list[dict[str, Any]]] = {}
    total = len(steps.plan_shards(run)) * len(steps.shard_steps()) + len(steps.run_steps())
    with tqdm(total=total, desc="pipeline", unit="step", file=sys.stderr) as bar:
        for name, shard, result in steps.iter_steps(run):
            results.setdefault(name, []).append(result)
            bar.update()
            bar.set_postfix_str(f"{shard} {name}" if shard else name)
    out.update({name: steps.combine(rs) for name, rs in results.items()})
    return out


def print_summary(summary: dict[str, Any], file=None) -> None:
    """One line per step: what was crawled, classified, indexed, and where the reports are."""
    file = file or sys.stdout  # looked up per call: a default bound at import outlives a swapped stdout
    crawl, classify, index, events, measure = (summary.get(k, {}) for k in ("crawl", "classify", "index", "events",
                                                                            "measure"))
    docs = index.get("documents") or {}
    snaps = index.get("snapshots") or {}
    print(f"run        {summary.get('run_id')}  ({summary.get('run_dir')})", file=file)
    print(f"crawl      {crawl.get('document_count', 0)} new/changed documents, "
          f"{crawl.get('snapshot_count', 0)} column snapshots", file=file)
    print(f"classify   {classify.get('classified', 0)} classified, {classify.get('reused') or 0} reused "
          f"(model+plan {classify.get('version')})", file=file)
    print(f"index      {docs.get('indexed', 0)} documents, {snaps.get('indexed', 0)} snapshots, "
          f"{docs.get('failed', 0) + snaps.get('failed', 0)} dead letters", file=file)
    print(f"events     {events.get('new_events', 0)} new events, {events.get('joined', 0)} documents joined one, "
          f"{events.get('events_written', 0)} event records written", file=file)
    print(f"reports    {measure.get('freshness')}  {measure.get('timeliness')}", file=file)
