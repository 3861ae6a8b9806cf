"""Latency of the freshness and timeliness reports on synthetic data (default 100k documents).

    python bench/bench_reports.py                 # 100k documents (+ column snapshots)
    python bench/bench_reports.py --docs 1000000  # 1M

Data goes to the index prefix `zwgk-bench-<N>` and is reused when already there (--rebuild to
regenerate). Documents are bulk-indexed with the fields the reports read (Document.to_dict() +
id, topic_ids, indexed_at); the search-only text fields (jieba tokens) are skipped to keep
generation quick — the reports never read them.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import date, datetime, timedelta
from datetime import time as dtime

AS_OF = date(2026, 11, 23)
COLUMNS = [("首页", "其他", True), ("工作动态", "动态要闻", False), ("图片新闻", "动态要闻", False),
           ("通知公告", "通知公告", False), ("公示公告", "通知公告", False), ("政策文件", "政策文件", False),
           ("政策解读", "政策解读", False), ("新闻发布", "新闻发布", False)]
KINDS = [("news", 55), ("notice", 15), ("policy", 10), ("interpretation", 8), ("penalty_notice", 8), ("press_conference", 4)]
TOPICS = ["1.2.1", "2.3.1", "3.1", "3.2", "3.4.2", "5.1.1", "5.1.2", "6.2.1"]


def _ts(d: date, rnd: random.Random) -> str:
    return datetime.combine(d, dtime(rnd.randint(8, 18), rnd.randint(0, 59))).isoformat() + "+08:00"


def _generate(n_docs: int, seed: int = 7):
    """Yield (kind, id, source) for documents, then snapshots."""
    from zwgk.agencies import load_registry
    from zwgk.document import ColumnSnapshot, Document, ListItem, TopicScore

    rnd = random.Random(seed)
    agencies = [a.name for a in load_registry().all() if not a.is_group]
    n_sites = max(20, n_docs // 1000)
    sites = [(f"site{i:04d}", agencies[i % len(agencies)]) for i in range(n_sites)]
    kinds = [k for k, w in KINDS for _ in range(w)]
    start = AS_OF - timedelta(days=730)
    newest: dict[tuple[str, str], list[tuple[str, date]]] = {}
    now = datetime.now().isoformat(timespec="seconds") + "+08:00"
    for i in range(n_docs):
        site, agency = sites[rnd.randrange(n_sites)]
        col, ctype, _ = COLUMNS[rnd.randrange(1, len(COLUMNS))]
        # a tenth of the sites stop updating news 3 weeks before as_of: stale sites for the report
        last_day = AS_OF - timedelta(days=21) if int(site[4:]) % 10 == 0 else AS_OF
        d = start + timedelta(days=int((last_day - start).days * rnd.random() ** 0.5))
        url = f"http://{site}.example/{col}/{i}.html"
        kind = kinds[rnd.randrange(len(kinds))]
        doc = Document(url=url, site_id=site, agency=agency, column=col, column_type=ctype, title=f"{col}{i}",
                       published_at=_ts(d, rnd) if rnd.random() > 0.05 else None, kind=kind,
                       doc_number=f"京{site}〔{d.year}〕{i}号" if kind == "policy" else None,
                       interprets=f"http://{site}.example/政策文件/{i - 1}.html" if kind == "interpretation" else None,
                       body=f"作出处罚决定日期：{(d - timedelta(days=rnd.randint(5, 40))).strftime('%Y年%m月%d日')}"
                       if kind == "penalty_notice" else "", topics=[TopicScore(TOPICS[i % len(TOPICS)], 0.8)],
                       fetched_at=now)
        if doc.published_at:
            newest.setdefault((site, col), []).append((url, d))
        yield "documents", doc.id, doc.to_dict() | {"id": doc.id, "topic_ids": [t.id for t in doc.topics],
                                                    "indexed_at": now}
    crawl_days = [AS_OF - timedelta(days=k) for k in range(14)] + [AS_OF - timedelta(weeks=w) for w in range(3, 9)]
    for site, agency in sites:
        for col, ctype, is_home in COLUMNS:
            listed = sorted(newest.get((site, "工作动态" if is_home else col), []), key=lambda x: x[1], reverse=True)
            for day in crawl_days:
                visible = [x for x in listed if x[1] <= day][:20]
                error = "timeout" if rnd.random() < 0.03 else None
                items = [] if error else [ListItem(title=u, url=u, list_date=d.isoformat()) for u, d in visible]
                snap = ColumnSnapshot(site_id=site, column=col, column_type=ctype, list_url=f"http://{site}.example/{col}/",
                                      crawled_at=_ts(day, rnd), agency=agency, http_status=None if error else 200,
                                      response_ms=None if error else rnd.uniform(50, 3000), error=error, items=items,
                                      item_count=len(items), newest_date=items[0].list_date if items else None,
                                      is_home=is_home)
                yield "snapshots", snap.id, snap.to_dict() | {"id": snap.id}


def _prepare(client, n_docs: int, rebuild: bool, nested: bool) -> tuple[int, int]:
    from elasticsearch import helpers
    from tqdm import tqdm

    from index import schema

    if rebuild:
        schema.drop_indices(client)
    schema.ensure_indices(client)
    have = client.count(index=schema.alias("documents"))["count"]
    if have != n_docs:
        if have:
            schema.drop_indices(client)
            schema.ensure_indices(client)
        if nested:
            from index.schema import recreate_snapshots

            recreate_snapshots(client)
        for kind in ("documents", "snapshots"):
            client.indices.put_settings(index=schema.alias(kind), settings={"refresh_interval": "-1"})
        actions = ({"_index": schema.alias(k), "_id": i, "_source": s} for k, i, s in _generate(n_docs))
        bar = tqdm(desc="indexing", unit="rec", file=sys.stderr)
        for ok, item in helpers.parallel_bulk(client, actions, chunk_size=2000, thread_count=2, raise_on_error=False):
            if not ok:
                print(item, file=sys.stderr)
            bar.update()
        bar.close()
        for kind in ("documents", "snapshots"):
            client.indices.put_settings(index=schema.alias(kind), settings={"refresh_interval": "1s"})
            client.indices.refresh(index=schema.alias(kind))
            client.options(request_timeout=600).indices.forcemerge(index=schema.alias(kind), max_num_segments=1)
    return (client.count(index=schema.alias("documents"))["count"], client.count(index=schema.alias("snapshots"))["count"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=100_000, help="synthetic documents (default 100000)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per report (default 3)")
    parser.add_argument("--rebuild", action="store_true", help="regenerate the bench indices")
    parser.add_argument("--nested-items", action="store_true",
                        help="map snapshot items as nested (aggregated in Elasticsearch) instead of stored only")
    args = parser.parse_args(argv)
    prefix = f"zwgk-bench-{args.docs}" + ("-nested" if args.nested_items else "")
    os.environ["ZWGK_INDEX_PREFIX"] = prefix

    from index import schema
    from measures import stored
    from zwgk.es import get_client

    client = get_client(request_timeout=600)
    t0 = time.perf_counter()
    n_docs, n_snaps = _prepare(client, args.docs, args.rebuild, args.nested_items)
    schema.ensure_indices(client, ("reports",))
    prep = time.perf_counter() - t0
    items = "nested" if args.nested_items else "stored only"
    print(f"data: {n_docs} documents, {n_snaps} snapshots (items {items}) in {prefix} (prepared in {prep:.1f} s)")
    # compute = what the measure step does once per run; read = what the alert, dashboard and CLI do after it
    print(f"{'report':<12} {'runs':>4} {'median s':>9} {'min s':>7} {'rows':>7} {'store s':>8} {'read s':>7} {'KB':>6}")
    for name, measure in stored.MEASURES.items():
        times, rows = [], 0
        for _ in range(args.repeat):
            t = time.perf_counter()
            report = measure.compute(client, AS_OF)
            times.append(time.perf_counter() - t)
            rows = len(report.table) if name == "timeliness" else len(report.columns)
        t = time.perf_counter()
        stored.save(client, name, report)
        store_s = time.perf_counter() - t
        reads = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            assert stored.load(client, name, AS_OF) is not None
            reads.append(time.perf_counter() - t)
        size_kb = len(stored.stored_record(client, name, AS_OF)["body"].encode("utf-8")) / 1024
        print(f"{name:<12} {args.repeat:>4} {statistics.median(times):>9.2f} {min(times):>7.2f} {rows:>7} "
              f"{store_s:>8.2f} {statistics.median(reads):>7.3f} {size_kb:>6.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
