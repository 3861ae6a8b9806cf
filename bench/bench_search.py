"""Search latency with highlights and facets (p50/p95) on N synthetic documents.

    python -m bench.bench_search [--docs 20000] [--runs 200] [--repeat 1] [--url URL]
    python -m bench.bench_search --docs 1000000 --repeat 3     # the 1M target: p95 < 200 ms

The documents go once into the prefix `zwgk-bench-<20k|100k|1m…>` (kept and reused by later runs
when the count matches and the first document is stored as generated; drop it with --drop). The timed part is
index.search.search() exactly as the dashboard and `zwgk search` call it (20 hits, highlights,
5 facets) over a query mix of words, traditional script, AND, phrases, OR/NOT and 1-character
queries, each with and without filters.

The corpus is built for speed without cheating: titles and sentences come from fixed pools that are
normalised and jieba-segmented once (zwgk.text, with the project's domain words); a document is a
title plus sentences from the pools, so its title_norm/body_norm/*_tokens are the concatenation of
the pool entries' known values. That equals what index.store.enrich computes for the same
Document because every pool sentence ends in 。 or ； — jieba never joins words across non-CJK
punctuation — and every pool entry is a fixed point of zwgk.text.normalize
(tests/test_index_bench_corpus.py checks the equality on a sample). Loading uses
helpers.parallel_bulk with refresh off and async translog, then restores the template's settings
and force-merges to one segment (what a long-lived production index approaches after merges).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Iterator
from typing import Any

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

CORPUS_VERSION = 2  # part of every URL: a reused index must hold this corpus
DISTRICTS = (
    "东城区 西城区 朝阳区 海淀区 丰台区 石景山区 门头沟区 房山区 通州区 顺义区 昌平区 大兴区 怀柔区 平谷区 密云区 延庆区"
).split()
COLUMNS = [
    ("通知公告", "通知公告", "notice"), ("政策文件", "政策文件", "policy"), ("政策解读", "政策解读", "interpretation"),
    ("工作动态", "动态要闻", "news"), ("新闻发布会", "新闻发布", "press_conference"),
    ("行政处罚", "通知公告", "penalty_notice"), ("政民互动", "互动回应", "other"),
]  # fmt: skip
ADVERBS = "全面 持续 扎实 稳步 积极 切实 进一步 着力".split()
UNITS = "项 件 家 个 次 人次 万元 亿元".split()


def bench_prefix(n: int) -> str:
    """The index prefix of the n-document bench corpus, e.g. zwgk-bench-1m, zwgk-bench-100k."""
    label = f"{n // 1_000_000}m" if n % 1_000_000 == 0 else f"{n // 1000}k" if n % 1000 == 0 else str(n)
    return f"zwgk-bench-{label}"


def _dictionary_nouns(limit: int, rng: random.Random) -> list[str]:
    """Common nouns from jieba's dictionary: vocabulary breadth, so postings look like real text."""
    import jieba

    words = []
    with jieba.get_dict_file() as fh:
        for line in fh:
            parts = line.decode("utf-8").split()
            if (
                len(parts) == 3
                and parts[2] in ("n", "vn")
                and 2 <= len(parts[0]) <= 4
                and int(parts[1]) >= 200
            ):
                words.append(parts[0])
    return rng.sample(words, min(limit, len(words)))


def _plan_sentences() -> list[str]:
    """The real sentences of the work plan (traditional script; normalised later like any page)."""
    import re

    from zwgk import settings

    raw = settings.plan_path().read_text(encoding="utf-8")
    return [s + "。" for line in raw.splitlines() for s in re.split("[。；]", line) if len(s.strip()) >= 8]


class Corpus:
    """Pools of titles and sentences, normalised and segmented once; documents are composed from them."""

    def __init__(self, seed: int = 2016, n_titles: int = 20000, n_sentences: int = 30000):
        from bench.bench_index import ENDINGS, FILLER, TERMS, VERBS
        from zwgk import text
        from zwgk.agencies import load_registry
        from zwgk.plan import load_plan

        rng = random.Random(seed)
        self.seed = seed
        self.agencies = [(a.id, a.name) for a in load_registry().all()]
        self.topic_ids = [t.id for t in load_plan().walk()]
        nouns = _dictionary_nouns(5000, rng)
        names = [name for _, name in self.agencies]
        filler = [s + "。" for s in FILLER.split("。") if s]

        def sentence() -> str:
            r = rng.random()
            a, b = rng.sample(TERMS, 2)
            n1, n2 = rng.choice(nouns), rng.choice(nouns)
            if r < 0.3:
                return f"{rng.choice(VERBS)}{a}工作，{rng.choice(ADVERBS)}推动{b}和{n1}{n2}。"
            if r < 0.5:
                return f"{rng.choice(DISTRICTS)}{rng.choice(VERBS)}{n1}{a}，共{rng.randint(2, 999)}{rng.choice(UNITS)}。"
            if r < 0.65:
                return f"{rng.choice(names)}围绕{a}{rng.choice(VERBS)}{n1}，{n2}{rng.choice(ADVERBS)}改善；"
            if r < 0.8:
                y, m = rng.randint(2016, 2026), rng.randint(1, 12)
                return f"截至{y}年{m}月，全市{n1}{b}完成率达{rng.randint(50, 100)}%，{n2}同比增长{rng.randint(1, 30)}%。"
            return f"{n1}{rng.choice(['、', '和'])}{n2}是{a}的重要内容，要{rng.choice(ADVERBS)}{rng.choice(VERBS)}{b}。"

        raw_sentences = _plan_sentences() + filler
        raw_sentences += [sentence() for _ in range(n_sentences - len(raw_sentences))]
        raw_titles = [
            f"{rng.choice(names) if rng.random() < 0.4 else ''}{rng.choice(VERBS)}{t[0]}"
            f"{rng.choice(['和', '与', '', rng.choice(nouns)])}{t[1]}{rng.choice(ENDINGS)}"
            for t in (rng.sample(TERMS, 2) for _ in range(n_titles))
        ]
        self.sentences = self._pool(raw_sentences, text)
        self.titles = self._pool(raw_titles, text)

    @staticmethod
    def _pool(raw: list[str], text) -> list[tuple[str, str]]:
        """(normalised text, lower-cased space-joined jieba tokens); only fixed points of normalize."""
        pool = []
        for s in dict.fromkeys(text.normalize(s) for s in raw):
            if s and text.normalize(s) == s:
                pool.append((s, text.tokens_for_index(s).lower()))
        return pool

    def documents(self, n: int, indexed_at: str = "2026-11-26T00:00:00+08:00") -> Iterator[tuple[Any, dict]]:
        """(Document, the _source index.store.enrich would build for it) for documents 0..n-1, reproducible."""
        from zwgk.document import Document, TopicScore

        rng = random.Random(self.seed * 7919 + n)
        sentences, titles, topic_ids, agencies = self.sentences, self.titles, self.topic_ids, self.agencies
        for i in range(n):
            site_id, agency = rng.choice(agencies)
            column, column_type, kind = rng.choice(COLUMNS)
            title, title_tokens = rng.choice(titles)
            paragraphs = []
            for _ in range(
                rng.randint(2, 6)
            ):  # 2-6 paragraphs of 1-5 sentences: ~50-1200 characters, ~320 on average
                picked = [rng.choice(sentences) for _ in range(rng.randint(1, 5))]
                paragraphs.append(("".join(s for s, _ in picked), " ".join(t for _, t in picked)))
            body = "\n".join(p for p, _ in paragraphs)
            day = rng.randint(0, 3650)
            published = None
            if rng.random() > 0.02:  # 2 % undated, as the crawler reports when no date is trustworthy
                year, doy = 2016 + day // 365, day % 365
                published = f"{year}-{doy // 31 + 1:02d}-{doy % 28 + 1:02d}T{rng.randint(8, 18):02d}:{i % 60:02d}:00+08:00"
            topics = [TopicScore(t, round(rng.random(), 3)) for t in rng.sample(topic_ids, rng.randint(0, 2))]
            doc = Document(
                url=f"http://{site_id}.beijing.gov.cn/zwgk/{column_type}/c{CORPUS_VERSION}/{i}.html",
                site_id=site_id, agency=agency, column=column, column_type=column_type, title=title,
                published_at=published, date_source="meta" if published else None, body=body,
                doc_number=f"京{site_id}发〔{2016 + day // 365}〕{i % 97 + 1}号" if kind == "policy" else None,
                fetched_at="2026-11-01T12:00:00+08:00", topics=topics, kind=kind,
                agencies=[agency] if rng.random() < 0.5 else [agency, rng.choice(agencies)[1]],
            )  # fmt: skip
            source = doc.to_dict()
            source["id"] = doc.id
            source["title_norm"] = title
            source["body_norm"] = " ".join(p for p, _ in paragraphs)  # normalize folds the newlines
            source["title_tokens"] = title_tokens
            source["body_tokens"] = " ".join(t for _, t in paragraphs)
            source["topic_ids"] = [t.id for t in topics]
            source["indexed_at"] = indexed_at
            yield doc, source


def _stored_equals(client, index: str, source: dict) -> bool:
    """Whether the index holds this corpus: its first document is stored with the same text fields."""
    from elasticsearch import NotFoundError

    try:
        stored = client.get(index=index, id=source["id"])["_source"]
    except NotFoundError:
        return False
    return all(stored.get(f) == source[f] for f in ("title", "body_tokens", "topic_ids", "published_at"))


def load(client, n: int, corpus: Corpus | None = None) -> float:
    """Index n synthetic documents into the current prefix unless already there; returns seconds spent."""
    from elasticsearch import helpers

    from index import schema

    schema.ensure_indices(client)
    index = schema.alias("documents")
    corpus = corpus or Corpus()
    docs = corpus.documents(n)
    first_doc, first_source = next(docs)
    count = client.count(index=index)["count"]
    if count == n and _stored_equals(client, index, first_source):
        return 0.0
    if count:  # another corpus or a half-finished load: start clean
        schema.drop_indices(client)
        schema.ensure_indices(client)
    name = schema.current_index(client, "documents")
    client.indices.put_settings(
        index=name, settings={"index": {"refresh_interval": "-1", "translog.durability": "async"}}
    )
    started = time.perf_counter()

    def actions():
        yield {"_index": name, "_id": first_source["id"], "_source": first_source}
        for _, source in docs:
            yield {"_index": name, "_id": source["id"], "_source": source}

    failed = done = 0
    try:
        for ok, _item in helpers.parallel_bulk(
            client, actions(), thread_count=2, chunk_size=1000, queue_size=4, raise_on_error=False
        ):
            failed += not ok
            done += 1
            if done % 50000 == 0:
                rate = done / (time.perf_counter() - started)
                print(f"  loaded {done:,}/{n:,} ({rate:,.0f} docs/s)", file=sys.stderr, flush=True)
    finally:
        template = schema.template_body("documents")["template"]["settings"]
        client.indices.put_settings(
            index=name,
            settings={
                "index": {"refresh_interval": template["refresh_interval"], "translog.durability": "request"}
            },
        )
    if failed:
        raise RuntimeError(f"{failed} synthetic documents failed to index")
    client.indices.refresh(index=name)
    print(f"  indexed {n:,} in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    return time.perf_counter() - started


def merge(client, segments: int) -> float:
    """Force-merge the documents index to at most `segments` segments (0: leave the natural merges); seconds."""
    from index import schema

    if segments <= 0:
        return 0.0
    started = time.perf_counter()
    name = schema.current_index(client, "documents")
    client.options(request_timeout=7200).indices.forcemerge(index=name, max_num_segments=segments)
    return time.perf_counter() - started


def segment_count(client) -> int:
    from index import schema

    stats = client.indices.segments(index=schema.alias("documents"))
    return sum(len(shard["segments"]) for idx in stats["indices"].values() for s in idx["shards"].values()
               for shard in s)  # fmt: skip


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def timed_searches(client, runs: int) -> tuple[dict[str, list[float]], list[float], int]:
    """Run `runs` searches of the query × filter mix; client-side ms per category, ES took ms, total hits."""
    from index.search import SearchRequest, search

    cases = [(cat, q, f) for cat, qs in QUERIES.items() for q in qs for f in FILTERS]
    by_cat: dict[str, list[float]] = {}
    took: list[float] = []
    hits = 0
    for i in range(runs):
        cat, q, f = cases[i % len(cases)]
        t = time.perf_counter()
        result = search(client, SearchRequest(query=q, size=20, **f))
        by_cat.setdefault(cat, []).append((time.perf_counter() - t) * 1000)
        took.append(result.took_ms)
        hits += result.total
    return by_cat, took, hits


def median_table(rounds: list[dict[str, list[float]]], label: str) -> list[str]:
    """Rows of p50/p95/max per category: the median over the rounds of each round's value."""
    cats = [*rounds[0], "all"]
    lines = [f"{label:<22} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}", "-" * 56]
    for cat in cats:
        per_round = [r[cat] if cat != "all" else [v for vs in r.values() for v in vs] for r in rounds]
        p50 = statistics.median(statistics.median(v) for v in per_round)
        p95 = statistics.median(_pct(v, 0.95) for v in per_round)
        top = statistics.median(max(v) for v in per_round)
        lines.append(f"{cat:<22} {sum(map(len, per_round)):>6} {p50:>8.1f} {p95:>8.1f} {top:>8.1f}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench_search", description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=20000, help="synthetic documents (default 20000)")
    parser.add_argument("--runs", type=int, default=200, help="timed searches per round (default 200)")
    parser.add_argument(
        "--repeat", type=int, default=1, help="rounds; the table shows the median (default 1)"
    )
    parser.add_argument(
        "--segments",
        type=int,
        default=1,
        help="force-merge to this many segments first (default 1; 0 = leave)",
    )
    parser.add_argument("--url", help="Elasticsearch URL (default ES_URL or the project's node)")
    parser.add_argument("--drop", action="store_true", help="delete the bench indices afterwards")
    args = parser.parse_args(argv)

    from index import schema
    from zwgk.es import get_client

    os.environ["ZWGK_INDEX_PREFIX"] = bench_prefix(args.docs)
    client = get_client(args.url, request_timeout=300)
    load_s = load(client, args.docs)
    merge_s = merge(client, args.segments)
    timed_searches(client, 20)  # warm caches and jieba
    rounds, took, hits, loads = [], [], 0, [os.getloadavg()[0]]
    for _ in range(args.repeat):
        # every round starts without cached facet counts: no round profits from the previous one
        client.indices.clear_cache(index=schema.alias("documents"), request=True)
        by_cat, round_took, round_hits = timed_searches(client, args.runs)
        rounds.append(by_cat)
        took += round_took
        hits += round_hits
        loads.append(os.getloadavg()[0])
    segments = segment_count(client)
    if args.drop:
        schema.drop_indices(client)

    print(f"search with highlights + 5 facets, 20 hits/page: {args.docs:,} documents in {segments} segments, "
          f"{args.repeat} x {args.runs} searches"
          + (f" (loaded in {load_s:.0f} s" if load_s else " (index reused")
          + (f", merged in {merge_s:.0f} s)" if merge_s > 1 else ")")
          + f"; load average {min(loads):.1f}-{max(loads):.1f} on {os.cpu_count()} CPUs")  # fmt: skip
    for line in median_table(rounds, "queries"):
        print(line)
    print(
        f"ES-side took: p50 {statistics.median(took):.0f} ms, p95 {_pct(took, 0.95):.0f} ms; "
        f"mean hits {hits / (args.runs * args.repeat):,.0f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
