"""The zwgk_pipeline DAG (crawl → classify → index → events per shard of sites, then measure) run with Airflow's
dag.test() on the demo web over HTTP, the real model and the real Elasticsearch, in shards of two sites; a
second run is incremental and idempotent."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from pipeline.dag_settings import SITES_DIR
from pipeline.demo import task_results
from tests.fixtures.airflow import load_dag, task_states, task_xcom

DEMO_SITES = SITES_DIR / "demo.yaml"


def _versions(es, index: str) -> dict[str, int]:
    hits = es.search(index=index, query={"match_all": {}}, size=2000, version=True, source=False)["hits"]["hits"]
    return {h["_id"]: h["_version"] for h in hits}


def _classified(paths: str | list[str]) -> list[dict]:
    """The classified documents of every shard."""
    paths = [paths] if isinstance(paths, str) else paths
    return [json.loads(line) for p in paths for line in Path(p).read_text(encoding="utf-8").splitlines()]


def test_pipeline_dag_on_the_demo_web_then_incremental_rerun(airflow_home, es, es_prefix, demo_web, classifier,
                                                              monkeypatch):
    from index.schema import alias

    monkeypatch.setenv("ZWGK_SHARD_SITES", "2")  # the demo's 8 enabled sites: 4 shards

    dag = load_dag("zwgk_pipeline")
    conf = {"sites": str(DEMO_SITES), "site_ids": [], "base_url": str(demo_web), "as_of": demo_web.today.isoformat()}

    before = len(demo_web.requests)
    first = dag.test(run_conf=conf)
    states = task_states(first)
    assert str(first.state) == "success", states
    tasks = ("shards", "shard.crawl", "shard.classify", "shard.index", "events", "measure")
    assert {t: s for t, (s, _) in states.items()} == dict.fromkeys(tasks, "success")
    first_requests = len(demo_web.requests) - before
    shards = task_xcom(first, "shards")
    assert [s["site_ids"] for s in shards] == [["www", "sthjj"], ["scjgj", "mzj"], ["news", "sdwb"], ["bfds", "xjrb"]]

    results = task_results(first)  # each step's results combined over the shards
    crawl, classify, index = (results[t] for t in ("crawl", "classify", "index"))
    assert len(crawl["documents"]) == 4 and len(set(crawl["documents"])) == 4, "each shard in its own folder"
    assert crawl["document_count"] > 20 and crawl["snapshot_count"] > 5
    assert classify["classified"] + classify["reused"] == crawl["document_count"]
    classified = _classified(classify["documents"])
    assert all(d["kind"] for d in classified), "every document gets a kind"
    assert sum(1 for d in classified if d["topics"]) >= len(classified) // 4, "plan topics are assigned"

    # what was crawled is what is in Elasticsearch: one document per URL, every snapshot
    es.indices.refresh(index=f"{alias('documents')},{alias('snapshots')}")
    ids = {d["url"] for d in classified}
    assert index["documents"]["indexed"] == len(classified) and index["documents"]["failed"] == 0
    assert es.count(index=alias("documents"))["count"] == len(ids)
    assert es.count(index=alias("snapshots"))["count"] == crawl["snapshot_count"]
    stored = es.search(index=alias("documents"), query={"term": {"site_id": "mzj"}}, size=1)["hits"]["hits"][0]
    assert stored["_source"]["kind"] and stored["_source"]["url"].startswith(str(demo_web))

    # the events task grouped every indexed document into an event and stored each event once
    events = results["events"]
    assert events["documents"] == len(classified) and events["failed"] == 0
    es.indices.refresh(index=alias("events"))
    assert es.count(index=alias("documents"), query={"exists": {"field": "event_id"}})["count"] == len(ids)
    assert es.count(index=alias("events"))["count"] == events["new_events"] > 0

    # the measure task stored the freshness report: the demo's stale bureau (mzj) fails the weekly update
    from measures import stored

    measure = task_xcom(first, "measure")
    as_of = date.fromisoformat(measure["as_of"])
    assert measure["freshness"] == stored.MEASURES["freshness"].doc_id(as_of)
    fresh = stored.load(es, "freshness", as_of).to_dict()
    sites = {s["site_id"]: s for s in fresh["sites"]}
    assert {"www", "sthjj", "scjgj", "mzj"} <= set(sites)
    assert sites["mzj"]["status"] == "fail" and sites["www"]["status"] == "pass"
    assert stored.load(es, "timeliness", as_of) is not None

    # second run: nothing changed on the web, so nothing new is fetched, classified or rewritten
    versions, event_versions = _versions(es, alias("documents")), _versions(es, alias("events"))
    before = len(demo_web.requests)
    second = dag.test(run_conf=conf)
    assert str(second.state) == "success", task_states(second)
    results2 = task_results(second)
    crawl2, classify2, index2 = (results2[t] for t in ("crawl", "classify", "index"))
    assert crawl2["document_count"] == 0 and classify2["classified"] == 0 and index2["documents"]["indexed"] == 0
    assert results2["events"]["documents"] == 0
    assert crawl2["not_modified"] > 0
    assert len(demo_web.requests) - before < first_requests / 2
    es.indices.refresh(index=alias("documents"))
    assert _versions(es, alias("documents")) == versions
    assert _versions(es, alias("events")) == event_versions
