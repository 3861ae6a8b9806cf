"""The bench corpus composes documents from pre-segmented pools: its index fields must equal index.store's."""

from __future__ import annotations

from bench.bench_search import Corpus
from index.store import enrich


def test_composed_documents_equal_store_enrichment():
    corpus = Corpus(seed=7, n_titles=300, n_sentences=1200)
    checked = 0
    for doc, source in corpus.documents(200):
        expected = enrich(doc)
        expected.pop("indexed_at")
        got = dict(source)
        got.pop("indexed_at")
        assert got == expected, doc.url
        checked += 1
    assert checked == 200
    assert len({s["body_tokens"] for _, s in corpus.documents(50)}) == 50  # composed, not one body repeated
