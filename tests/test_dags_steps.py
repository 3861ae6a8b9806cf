"""pipeline.steps without Airflow: each step is idempotent and restartable, with files in between."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from pipeline import steps
from pipeline.dag_settings import SITES_DIR
from zwgk.document import Document


def _docs(n: int) -> list[Document]:
    return [
        Document(url=f"http://sthjj.example/zcwj/{i}.html", site_id="sthjj", agency="北京市生态环境局", column="政策文件",
                 column_type="政策文件", title=f"北京市生态环境局关于印发大气污染防治第{i}号方案的通知",
                 body="为持续改善空气质量，推进细颗粒物治理，制定本方案。", published_at="2026-11-20T10:00:00+08:00",
                 fetched_at="2026-11-25T10:00:00+08:00")
        for i in range(n)
    ]


def _write(path, rows) -> None:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in rows),
                    encoding="utf-8")


def test_classify_step_reuses_results_of_the_same_model_and_plan(tmp_path, classifier):
    docs = _docs(3)
    unique = uuid.uuid4().hex
    for d in docs:  # content unique to this test run, so the shared cache cannot answer for us
        d.body += unique
    src = tmp_path / "documents.jsonl"
    _write(src, [d.to_dict() for d in docs])

    first = steps.classify_step(src, tmp_path / "a.jsonl")
    assert (first["classified"], first["reused"]) == (3, 0)
    out_a = [json.loads(x) for x in (tmp_path / "a.jsonl").read_text(encoding="utf-8").splitlines()]
    assert all(d["kind"] for d in out_a)

    # a finished step is not redone (an Airflow retry after a later step failed)
    assert steps.classify_step(src, tmp_path / "a.jsonl").get("skipped") is True

    # another run with the same documents: nothing classified again, same results
    second = steps.classify_step(src, tmp_path / "b.jsonl")
    assert (second["classified"], second["reused"]) == (0, 3)
    assert (tmp_path / "b.jsonl").read_text(encoding="utf-8") == (tmp_path / "a.jsonl").read_text(encoding="utf-8")

    # an edited page is classified again; the others are not
    docs[1].body += "（修订）"
    _write(src, [d.to_dict() for d in docs])
    third = steps.classify_step(src, tmp_path / "c.jsonl")
    assert (third["classified"], third["reused"]) == (1, 2)


def test_classifier_version_follows_the_plan(tmp_path, monkeypatch):
    before = steps.classifier_version()
    other = tmp_path / "plan.txt"
    other.write_text(steps.settings.plan_path().read_text(encoding="utf-8") + "\n（修订）", encoding="utf-8")
    monkeypatch.setenv("ZWGK_PLAN", str(other))
    assert steps.classifier_version() != before


def test_a_broken_record_is_dead_lettered_not_lost(tmp_path, es, es_prefix, monkeypatch):
    from index.schema import alias

    letters = tmp_path / "dead"
    monkeypatch.setenv("ZWGK_DEAD_LETTER_DIR", str(letters))
    run = steps.run_dir(f"steps-broken-{es_prefix}")
    docs = _docs(2)
    _write(run / "classified.jsonl", [docs[0].to_dict(), "{not json", {"title": "no url"}, docs[1].to_dict()])
    with pytest.raises(steps.IndexingIncomplete) as info:
        steps.index_step(run / "classified.jsonl", run / "crawl" / "snapshots.jsonl", client=es)
    assert str(letters) in str(info.value)
    kept = [json.loads(line) for f in letters.glob("documents-*.jsonl") for line in f.read_text().splitlines()]
    assert len(kept) == 2 and all(k["reason"] for k in kept)
    es.indices.refresh(index=alias("documents"))
    assert es.count(index=alias("documents"))["count"] == 2  # the good ones are in


def test_finished_steps_are_not_redone(tmp_path, es, es_prefix, demo_web, monkeypatch):
    run = steps.run_dir(f"steps-restart-{es_prefix}")
    crawled = steps.crawl_step(run, SITES_DIR / "demo.yaml", ["sthjj"], str(demo_web))
    assert crawled["document_count"] > 0
    requests = len(demo_web.requests)
    assert steps.crawl_step(run, SITES_DIR / "demo.yaml", ["sthjj"], str(demo_web)) == crawled
    assert len(demo_web.requests) == requests  # the finished crawl is returned, not repeated

    docs = run / "classified.jsonl"
    docs.write_bytes((run / "crawl" / "documents.jsonl").read_bytes())
    report = steps.index_step(docs, crawled["snapshots"], client=es)
    assert report["documents"]["indexed"] == crawled["document_count"]
    # with Elasticsearch unreachable, the finished index step still answers from its report
    monkeypatch.setenv("ES_URL", "http://127.0.0.1:9")
    assert steps.index_step(docs, crawled["snapshots"]) == report


def test_zwgk_run_cli_runs_and_resumes(tmp_path, es, es_prefix, demo_web, classifier, capsys):
    from zwgk.cli import main

    argv = ["run", "--sites", str(SITES_DIR / "demo.yaml"), "--site", "scjgj", "--base-url", str(demo_web),
            "--as-of", demo_web.today.isoformat(), "--run-id", f"cli-{es_prefix}"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "crawl " in out and "index " in out and "dead letters" in out
    requests = len(demo_web.requests)
    assert main(argv) == 0  # resume the same run: every step already finished
    assert len(demo_web.requests) == requests


def test_a_retried_crawl_keeps_what_the_interrupted_attempt_wrote(es_prefix, demo_web):
    """The crawl state already counts an interrupted attempt's pages as seen; the retry must not drop them."""
    run = steps.run_dir(f"steps-retry-crawl-{es_prefix}")
    out = run / "crawl"
    out.mkdir(parents=True, exist_ok=True)
    earlier = _docs(1)[0]
    _write(out / "documents.jsonl", [earlier.to_dict()])  # written by attempt 1, which then died (no summary)
    crawled = steps.crawl_step(run, SITES_DIR / "demo.yaml", ["mzj"], str(demo_web))
    urls = [d["url"] for d in steps.read_jsonl(crawled["documents"])]
    assert earlier.url in urls and len(urls) == len(set(urls)) == crawled["document_count"] > 1
    assert not list((out / ".crawl").glob("earlier-*"))


def _count_conversions(monkeypatch) -> list[str]:
    """Spy on Document: every from_dict, to_dict and merge_nlp call is appended by name (also from the
    index step's prefetch thread: list.append is atomic)."""
    calls: list[str] = []
    from_dict, to_dict, merge_nlp = Document.from_dict.__func__, Document.to_dict, Document.merge_nlp

    def counted(name, fn):
        def spy(*args, **kwargs):
            calls.append(name)
            return fn(*args, **kwargs)

        return spy

    monkeypatch.setattr(Document, "from_dict", classmethod(counted("from_dict", from_dict)))
    monkeypatch.setattr(Document, "to_dict", counted("to_dict", to_dict))
    monkeypatch.setattr(Document, "merge_nlp", counted("merge_nlp", merge_nlp))
    return calls


def _tally(calls: list[str]) -> tuple[int, int, int]:
    """(from_dict, to_dict, merge_nlp) calls since the last tally."""
    counts = tuple(calls.count(name) for name in ("from_dict", "to_dict", "merge_nlp"))
    calls.clear()
    return counts


def test_a_document_changes_shape_once_per_boundary(tmp_path, es, es_prefix, classifier, monkeypatch):
    """classify: file → Document → file, a fresh result never round-tripped through the cache's dict (only a
    reused one is merged); index: each line parsed once, made the ES source once; in one process (iter_steps'
    handoff) the index step takes the classify step's Documents, so nothing is parsed back."""
    from index.schema import alias

    monkeypatch.setenv("ZWGK_DEAD_LETTER_DIR", str(tmp_path / "dead"))
    docs = _docs(3)
    unique = uuid.uuid4().hex
    for d in docs:  # not in the shared classify cache yet
        d.body += unique
    src = tmp_path / "documents.jsonl"
    _write(src, [d.to_dict() for d in docs])
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
    calls = _count_conversions(monkeypatch)

    steps.classify_step(src, tmp_path / "a" / "classified.jsonl")
    assert _tally(calls) == (3, 3, 0)  # read once, written once, no merge of what was just classified
    steps.classify_step(src, tmp_path / "b" / "classified.jsonl")
    assert _tally(calls) == (3, 3, 3)  # reused from the cache: merged
    steps.index_step(tmp_path / "a" / "classified.jsonl", tmp_path / "none.jsonl", client=es)
    assert _tally(calls) == (3, 3, 0)  # each line parsed once, one ES source each

    # one process, as `zwgk run` and the bench: the crawl's lines are the only ones parsed
    run = steps.Run(f"steps-handoff-{es_prefix}", SITES_DIR / "demo.yaml")
    done = {"crawl": {"documents": str(src), "snapshots": str(tmp_path / "none.jsonl")}}
    handoff: steps.Handoff = {}
    done["classify"] = steps.run_step("classify", run, done, handoff)
    assert steps.run_step("index", run, done, handoff)["documents"]["indexed"] == 3
    assert _tally(calls) == (3, 6, 3)  # to_dict: once for classified.jsonl, once for Elasticsearch
    assert handoff == {}

    # what was indexed from memory is what the file says
    written = {row["url"]: row for row in steps.read_jsonl(run.classified_path)}
    es.indices.refresh(index=alias("documents"))
    for doc in docs:
        stored = es.get(index=alias("documents"), id=doc.id)["_source"]
        assert Document.from_dict(stored) == Document.from_dict(written[doc.url])


def test_shards_are_planned_once_per_run_and_their_results_combine(monkeypatch):
    """plan_shards cuts the enabled sites by ZWGK_SHARD_SITES and keeps the cut for the run (a retry or a
    resumed run sees the same shards); each shard works in its own folder; combine adds the shards up."""
    run = steps.Run(f"steps-shards-{uuid.uuid4().hex[:8]}", SITES_DIR / "demo.yaml", base_url="http://demo.example")
    monkeypatch.setenv("ZWGK_SHARD_SITES", "2")
    shards = steps.plan_shards(run)
    assert [s["site_ids"] for s in shards] == [["www", "sthjj"], ["scjgj", "mzj"], ["news", "sdwb"], ["bfds", "xjrb"]]
    monkeypatch.setenv("ZWGK_SHARD_SITES", "10")
    assert steps.plan_shards(run) == shards  # fixed in shards.json
    dirs = {run.for_shard(s).dir for s in shards}
    assert len(dirs) == 4 and all(d.parent == run.dir for d in dirs)
    # each shard reads its own slice of the registry, which loads as just its sites (the relative base URLs
    # still anchored at the run's)
    from crawlers.sites import load_sites

    second = run.for_shard(shards[1])
    assert Path(second.sites_path).parent == second.dir
    sliced = load_sites(second.sites_path, base_url=run.base_url, resolve=False)
    assert [s.id for s in sliced] == ["scjgj", "mzj"] and sliced[0].base_url.startswith("http://demo.example")
    assert [(s.name, s.per_shard) for s in steps.STEPS] == [
        ("crawl", True), ("classify", True), ("index", True), ("events", False), ("measure", False)]

    a = {"document_count": 3, "documents": "a.jsonl", "version": "v", "errors": 0, "index": {"indexed": 2}}
    b = {"document_count": 4, "documents": "b.jsonl", "version": "v", "errors": 1, "index": {"indexed": 5}}
    assert steps.combine([a, b]) == {"document_count": 7, "documents": ["a.jsonl", "b.jsonl"], "version": "v",
                                     "errors": 1, "index": {"indexed": 7}}
