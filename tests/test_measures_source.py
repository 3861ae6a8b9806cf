"""scan_sources reads every matching source once, a page ahead in a thread: on the real node, a reader that stops
early leaves no thread and no open scroll behind, and the node's refusal reaches the reader."""

from __future__ import annotations

import threading
import uuid

import pytest
from elasticsearch import BadRequestError

from measures.source import scan_sources


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
