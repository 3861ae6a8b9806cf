"""End-to-end pipeline benchmark: a generated demo web of N sites holding M new documents in total,
crawled → classified → indexed → measured by the same step functions the DAG runs, then run again
to show what the incremental second run costs (requests, seconds).

Default 20 sites / 500 documents; a day's volume is `--sites 200 --docs 5000`. Every site is served
from 127.0.0.1, so the crawl uses unthrottled settings (polite settings would serialise all sites on
one host); `--airflow` runs the zwgk_pipeline DAG with dag.test() instead of calling the steps.
Needs Elasticsearch (ES_URL or the project's node) and the converted model (`zwgk model prepare`).
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import yaml

DAY = date(2026, 11, 25)
FAST_CRAWL = {"AUTOTHROTTLE_ENABLED": False, "CONCURRENT_REQUESTS_PER_DOMAIN": 16, "CONCURRENT_REQUESTS": 32,
              "LOG_LEVEL": "WARNING"}


def site_data(sites: int, docs: int) -> list[dict]:
    """N synthetic sites (demo.synthetic) sharing `docs` articles as evenly as possible."""
    from demo.synthetic import synthetic_site

    per, extra = divmod(docs, sites)
    return [synthetic_site(per + (i < extra), site_id=f"bulk{i:03d}") for i in range(sites)]


def registry(data: list[dict], path: Path) -> Path:
    """The crawler's site registry for the generated sites (format of crawlers/sites/demo.yaml)."""
    sites = [{"id": d["id"], "agency": d["agency"], "name": f"{d['name']} {d['id']}", "base_url": f"/{d['id']}/",
              "home": "index.html",
              "columns": [{"name": c["name"], "type": c["name"], "list_urls": [f"{c['id']}/index.html"]}
                          for c in d["columns"]]} for d in data]
    path.write_text(yaml.safe_dump({"sites": sites}, allow_unicode=True), encoding="utf-8")
    return path


@contextlib.contextmanager
def serve_generated(data: list[dict]) -> Iterator[tuple[str, list]]:
    """Serve the generated sites like demo.server.serve_demo does (same handler: ETags, 304s, request log)."""
    from demo.render import render_routes
    from demo.server import _Handler, _Server  # serve_demo takes one synthetic site; this needs N

    server = _Server(("127.0.0.1", 0), _Handler)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    server.routes, server.hang_seconds, server.log = render_routes(DAY, base, data), 30.0, []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base, server.log
    finally:
        server.shutdown()
        server.server_close()


def run_steps(run_id: str, sites_path: Path, base: str, list_pages: int) -> dict[str, float | int]:
    """One pipeline run through pipeline.steps.iter_steps; seconds per step and counts."""
    from pipeline import steps

    run = steps.Run(run_id, sites_path, None, base, DAY, scrapy_settings={**FAST_CRAWL, "ZWGK_MAX_LIST_PAGES": list_pages})
    out: dict[str, float | int] = {}
    results: dict[str, list[dict]] = {}
    t = time.perf_counter()
    for name, _shard, result in steps.iter_steps(run):
        out[name] = out.get(name, 0.0) + time.perf_counter() - t  # summed over the shards
        results.setdefault(name, []).append(result)
        t = time.perf_counter()
    done = {name: steps.combine(rs) for name, rs in results.items()}
    crawled = done["crawl"]
    out.update(documents=crawled["document_count"], requests=crawled["requests"], not_modified=crawled["not_modified"],
               classified=done["classify"]["classified"], indexed=done["index"]["documents"]["indexed"])
    return out


def run_dag(sites_path: Path, base: str) -> dict[str, float | int]:
    """One run of the zwgk_pipeline DAG with Airflow's dag.test(); total seconds and counts."""
    from pipeline.airflow_home import ensure_airflow

    ensure_airflow(quiet=True)
    from dags.zwgk_pipeline import dag
    from pipeline.demo import task_results

    t = time.perf_counter()
    dag_run = dag.test(run_conf={"sites": str(sites_path), "site_ids": [], "base_url": base, "as_of": DAY.isoformat()})
    total = time.perf_counter() - t
    if not str(dag_run.state).endswith("success"):
        raise RuntimeError(f"DAG run {dag_run.run_id} ended {dag_run.state}")
    res = task_results(dag_run)
    return {"total": total, "documents": res["crawl"]["document_count"], "requests": res["crawl"]["requests"],
            "not_modified": res["crawl"]["not_modified"], "classified": res["classify"]["classified"],
            "indexed": res["index"]["documents"]["indexed"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_pipeline", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sites", type=int, default=20, help="generated sites (default 20; a day: 200)")
    parser.add_argument("--docs", type=int, default=500, help="new documents over all sites (default 500; a day: 5000)")
    parser.add_argument("--airflow", action="store_true", help="run the zwgk_pipeline DAG with dag.test()")
    args = parser.parse_args(argv)

    import logging
    import os

    from index.schema import drop_indices
    from zwgk.es import get_client

    logging.basicConfig(level=logging.WARNING)
    prefix = f"zwgk-bench-pipeline-{uuid.uuid4().hex[:6]}"
    os.environ["ZWGK_INDEX_PREFIX"] = prefix  # a fresh index and a fresh crawl state (per prefix)
    data = site_data(args.sites, args.docs)
    list_pages = max(d["columns"][0]["per_page"] for d in data)
    list_pages = max(len(d["columns"][0]["items"]) // list_pages + 2 for d in data)
    rows = []
    try:
        with tempfile.TemporaryDirectory() as tmp, serve_generated(data) as (base, log):
            sites_path = registry(data, Path(tmp) / "sites.yaml")
            for label in ("first run", "second run"):
                before = len(log)
                started = time.perf_counter()
                if args.airflow:
                    res = run_dag(sites_path, base)
                else:
                    res = run_steps(f"bench-{prefix}-{label.split()[0]}", sites_path, base, list_pages)
                res["total"] = time.perf_counter() - started
                res["http"] = len(log) - before
                rows.append((label, res))
    finally:
        drop_indices(get_client())

    mode = "Airflow dag.test()" if args.airflow else "pipeline.steps in-process"
    print(f"pipeline benchmark: {args.sites} generated sites, {args.docs} documents, {mode}")
    cols = ["crawl", "classify", "index", "measure", "total"] if not args.airflow else ["total"]
    print(f"{'run':<11} " + " ".join(f"{c + ' s':>10}" for c in cols)
          + f" {'docs':>6} {'requests':>9} {'304s':>6} {'docs/s':>8}")
    for label, r in rows:
        rate = r["documents"] / r["total"] if r["total"] else 0.0
        print(f"{label:<11} " + " ".join(f"{r.get(c, 0.0):>10.1f}" for c in cols)
              + f" {r['documents']:>6} {r['http']:>9} {r['not_modified']:>6} {rate:>8.1f}")
    first, second = rows[0][1], rows[1][1]
    print(f"end-to-end: {first['total'] / 60:.1f} min for {first['documents']} documents; incremental second run "
          f"{second['total']:.0f} s with {second['http']} requests ({second['http'] / max(first['http'], 1):.0%} of the first)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
