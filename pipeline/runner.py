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
    """crawl → classify → index → measure; the same functions as the DAG's tasks, the same run folders."""
    from tqdm import tqdm

    run_id = run_id or steps.new_run_id("cli")
    run = steps.run_dir(run_id)
    sites_path = sites_path or dag_settings.default_sites_path()
    out: dict[str, Any] = {"run_id": run_id, "run_dir": str(run)}
    with tqdm(total=4, desc="pipeline", unit="step", file=sys.stderr) as bar:
        bar.set_postfix_str("crawl")
        out["crawl"] = steps.crawl_step(run, sites_path, site_ids, base_url)
        bar.update()
        bar.set_postfix_str(f"classify {out['crawl']['document_count']} docs")
        out["classify"] = steps.classify_step(out["crawl"]["documents"], run / "classified.jsonl")
        bar.update()
        bar.set_postfix_str("index")
        out["index"] = steps.index_step(out["classify"]["documents"], out["crawl"]["snapshots"])
        bar.update()
        bar.set_postfix_str("measure")
        out["measure"] = steps.measure_step(as_of)
        bar.update()
    return out


def print_summary(summary: dict[str, Any], file=sys.stdout) -> None:
    """One line per step: what was crawled, classified, indexed, and where the reports are."""
    crawl, classify, index, measure = (summary.get(k, {}) for k in ("crawl", "classify", "index", "measure"))
    docs = index.get("documents") or {}
    snaps = index.get("snapshots") or {}
    print(f"run        {summary.get('run_id')}  ({summary.get('run_dir')})", file=file)
    print(f"crawl      {crawl.get('document_count', 0)} new/changed documents, "
          f"{crawl.get('snapshot_count', 0)} column snapshots", file=file)
    print(f"classify   {classify.get('classified', 0)} classified, {classify.get('reused') or 0} reused "
          f"(model+plan {classify.get('version')})", file=file)
    print(f"index      {docs.get('indexed', 0)} documents, {snaps.get('indexed', 0)} snapshots, "
          f"{docs.get('failed', 0) + snaps.get('failed', 0)} dead letters", file=file)
    print(f"reports    {measure.get('freshness')}  {measure.get('timeliness')}", file=file)
