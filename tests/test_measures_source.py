"""scan_sources reads every matching source once, a page ahead in a thread: on the real node, a reader that stops
early leaves no thread and no open scroll behind, and the node's refusal reaches the reader."""

from __future__ import annotations

import threading
import uuid

import pytest
from elasticsearch import BadRequestError

from measures.source import composite, scan_sources


@pytest.fixture
def numbered(es):
    """An index of 23 documents numbered 0..22 (a page size of 5 leaves a short last page)."""
    index = f"zwgk-test-scan-{uuid.uuid4().hex[:8]}"
    es.indices.create(index=index, mappings={"properties": {"n": {"type": "integer"}, "label": {"type": "keyword"}}})
    es.bulk(operations=[op for n in range(23) for op in ({"index": {"_index": index}}, {"n": n, "label": f"l{n}"})],
            refresh=True)
    yield index
    es.indices.delete(index=index)


def _open_scrolls(es) -> int:
    stats = es.nodes.stats(metric="indices", index_metric="search")
    return sum(node["indices"]["search"]["scroll_current"] for node in stats["nodes"].values())


def _prefetch_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "zwgk-scan-prefetch" and t.is_alive()]


def test_every_source_once_with_only_the_fields_asked(es, numbered):
    rows = list(scan_sources(es, numbered, {"range": {"n": {"gte": 3}}}, ["n"], page=5))
    assert sorted(r["n"] for r in rows) == list(range(3, 23))
    assert all(set(r) == {"n"} for r in rows)
    assert not _prefetch_threads()


def test_a_reader_that_stops_early_leaves_no_thread_or_scroll(es, numbered):
    before = _open_scrolls(es)
    reader = scan_sources(es, numbered, {"match_all": {}}, ["n"], page=5)
    first = [next(reader) for _ in range(3)]
    assert len(first) == 3 and _prefetch_threads()  # the next page is being read ahead
    reader.close()
    assert not _prefetch_threads()
    assert _open_scrolls(es) == before


def test_the_nodes_refusal_reaches_the_reader(es, numbered):
    with pytest.raises(BadRequestError):
        list(scan_sources(es, numbered, {"range": {"n": {"gte": "not a number"}}}, ["n"], page=5))
    assert not _prefetch_threads()


@pytest.fixture
def low_bucket_limit(es):
    """The node's search.max_buckets lowered to 30 for one test (a cluster set stricter than the default)."""
    es.cluster.put_settings(transient={"search.max_buckets": 30})
    try:
        yield 30
    finally:
        es.cluster.put_settings(transient={"search.max_buckets": None})


def test_composite_pages_every_bucket_once(es, numbered):
    sources = [{"label": {"terms": {"field": "label"}}}]
    buckets = list(composite(es, numbered, sources, {"range": {"n": {"gte": 3}}}, {"top": {"max": {"field": "n"}}},
                             size=4))
    assert sorted(b["key"]["label"] for b in buckets) == sorted(f"l{n}" for n in range(3, 23))
    assert all(b["top"]["value"] == int(b["key"]["label"][1:]) for b in buckets)


def test_a_page_over_the_clusters_bucket_limit_is_asked_again_smaller(es, numbered, low_bucket_limit, caplog):
    sources = [{"label": {"terms": {"field": "label"}}}]
    # each composite bucket brings two filter buckets: 23 × 3 is over the limit of 30, pages of 5 × 3 are not
    sub = {"low": {"filter": {"range": {"n": {"lt": 12}}}}, "high": {"filter": {"range": {"n": {"gte": 12}}}}}
    with caplog.at_level("WARNING", logger="measures.source"):
        buckets = list(composite(es, numbered, sources, None, sub, size=40))
    assert sorted(b["key"]["label"] for b in buckets) == sorted(f"l{n}" for n in range(23))
    assert sum(b["low"]["doc_count"] for b in buckets) == 12 and sum(b["high"]["doc_count"] for b in buckets) == 11
    assert "search.max_buckets" in caplog.text
