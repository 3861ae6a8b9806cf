"""Search latency with highlights and facets (p50/p95) on N synthetic documents.

    python -m bench.bench_search [--docs 20000] [--runs 200] [--url URL]

The documents go once into the prefix `zwgk-bench-search-<N>` (kept and reused by later runs; drop
it with --drop). Loading enriches in a process pool and bulk-indexes; the timed part is
index.search.search() exactly as the dashboard and `zwgk search` call it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from multiprocessing import Pool

QUERIES = {
    "one word": ["政务公开", "食品安全", "养老服务", "轨道交通", "舆情"],
    "traditional": ["政務公開", "權力清單", "應急預案", "義務教育"],
    "two words": ["大气污染防治 应急预案", "营商环境 简政放权", "社会救助 就业创业"],
    "phrase": ['"推进政务公开"', '"京津冀协同发展"', '"重污染天气"'],
    "boolean": [
        "(食品安全 OR 药品监管) -新闻发布会",
        "财政预算 AND NOT 决算公开",
        "疫情防控 OR 公共卫生 OR 医疗卫生",
    ],
    "1 char": ["水", "药"],
}
FILTERS = [
    {},
    {"agency": "北京市生态环境局"},
    {"kind": "policy", "since": "2020-01-01"},
    {"sort": "time"},
    {"column_type": "政策解读", "topic": "3"},
]


def _enrich(doc):
    from index.store import enrich

    return enrich(doc)


def load(client, n: int) -> float:
    """Index n synthetic documents into the current prefix unless already there; returns seconds spent."""
    from elasticsearch import helpers

    from bench.bench_index import synthetic_documents
    from index import schema

    schema.ensure_indices(client)
    index = schema.alias("documents")
    if client.count(index=index)["count"] == n:
        return 0.0
    started = time.perf_counter()
    with Pool(os.cpu_count() or 2) as pool:
        sources = pool.imap(_enrich, synthetic_documents(n), chunksize=200)
        actions = ({"_index": index, "_id": s["id"], "_source": s} for s in sources)
        results = helpers.streaming_bulk(
            client, actions, chunk_size=1000, max_retries=5, raise_on_error=False
        )
        failed = 0
        for done, (ok, _item) in enumerate(results, 1):
            failed += not ok
            if done % 20000 == 0:
                print(f"  loaded {done:,}/{n:,}", file=sys.stderr, flush=True)
    if failed:
        raise RuntimeError(f"{failed} synthetic documents failed to index")
    client.indices.refresh(index=index)
    client.options(request_timeout=3600).indices.forcemerge(index=index, max_num_segments=1)
    return time.perf_counter() - started


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench_search", description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=20000, help="synthetic documents (default 20000)")
    parser.add_argument("--runs", type=int, default=200, help="timed searches (default 200)")
    parser.add_argument("--url", help="Elasticsearch URL (default ES_URL or the project's node)")
    parser.add_argument("--drop", action="store_true", help="delete the bench indices afterwards")
    args = parser.parse_args(argv)

    from index import schema
    from index.client import get_client
    from index.search import SearchRequest, search

    os.environ["ZWGK_INDEX_PREFIX"] = f"zwgk-bench-search-{args.docs}"
    client = get_client(args.url, request_timeout=300)
    load_s = load(client, args.docs)

    cases = [(cat, q, f) for cat, qs in QUERIES.items() for q in qs for f in FILTERS]
    for _cat, q, f in cases[:20]:  # warm caches and jieba
        search(client, SearchRequest(query=q, **f))
    by_cat: dict[str, list[float]] = {}
    took: list[float] = []
    hits = 0
    for i in range(args.runs):
        cat, q, f = cases[i % len(cases)]
        t = time.perf_counter()
        result = search(client, SearchRequest(query=q, size=20, **f))
        by_cat.setdefault(cat, []).append((time.perf_counter() - t) * 1000)
        took.append(result.took_ms)
        hits += result.total
    if args.drop:
        schema.drop_indices(client)

    everything = [v for vs in by_cat.values() for v in vs]
    print(f"search with highlights + 5 facets, 20 hits/page: {args.docs:,} documents, {args.runs} searches"
          + (f" (loaded in {load_s:.0f} s)" if load_s else " (index reused)"))  # fmt: skip
    print(f"{'queries':<14} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    print("-" * 47)
    for cat, values in [*by_cat.items(), ("all", everything)]:
        print(
            f"{cat:<14} {len(values):>5} {statistics.median(values):>8.1f} {_pct(values, 0.95):>8.1f} {max(values):>8.1f}"
        )
    print(
        f"ES-side took: p50 {statistics.median(took):.0f} ms, p95 {_pct(took, 0.95):.0f} ms; mean hits {hits / args.runs:,.0f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
