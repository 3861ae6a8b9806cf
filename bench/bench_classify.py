"""Classification throughput and memory on title + first 256 characters, on 2 CPU cores.

    python bench/bench_classify.py               # 1000 documents
    python bench/bench_classify.py --docs 10000  # more
    python bench/bench_classify.py --repeat 5     # more timed passes (median reported)

Documents are the dev set's titles and bodies, cycled and varied (a counter in the title, bodies padded
with the next item's text to 256 characters), so the tokenizer and jieba caches see new strings.
Prints model load time, docs/s for `Classifier.classify` (wall clock: the median of --repeat passes with
their range; and CPU-time based: docs per CPU second x threads, the rate on an otherwise idle 2-core box —
on a shared machine wall clock understates it), peak RSS (getrusage) and the Python-heap peak during
classification (tracemalloc, measured on a separate small pass since it slows Python code).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def make_docs(n: int):
    from nlp.topics import DEVSET
    from zwgk.document import Document
    from zwgk.jsonl import read_jsonl

    items = list(read_jsonl(DEVSET))
    docs = []
    for i in range(n):
        item, nxt = items[i % len(items)], items[(i + 1) % len(items)]
        body = (item["body"] + nxt["body"] + item["body"])[:256]
        docs.append(Document(url=f"https://bench.invalid/{i}", title=f"{item['title']}（{i}）", body=body,
                             column_type=item.get("column_type") or "其他",
                             source_type=item.get("source_type") or "site"))
    return docs


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=1000, help="documents to classify (default 1000)")
    parser.add_argument("--threads", type=int, default=2, help="encoder threads (default 2, the target box)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="timed passes; the median is reported, since shared machines vary (default 3)")
    args = parser.parse_args(argv)
    os.environ["ZWGK_TORCH_THREADS"] = str(args.threads)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from nlp.classify import embed_max_tokens, embed_quantize, load_classifier

    t0 = time.perf_counter()
    classifier = load_classifier()
    load_s = time.perf_counter() - t0
    classifier.classify(make_docs(32))  # warm-up: first-call allocations, jieba dictionary

    rates, cpu_rates = [], []
    for _ in range(args.repeat):  # fresh documents each pass (same text, so the same work)
        docs = make_docs(args.docs)
        cpu0 = _cpu_seconds()
        t0 = time.perf_counter()
        classifier.classify(docs)
        rates.append(args.docs / (time.perf_counter() - t0))
        cpu_rates.append(args.docs / (_cpu_seconds() - cpu0) * args.threads)
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    small = make_docs(200)
    tracemalloc.start()
    classifier.classify(small)
    _, heap_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    with_topic = sum(1 for d in docs if d.topics)
    rows = [
        ("documents", f"{args.docs}"),
        ("encoder threads / cpus", f"{args.threads} / {os.cpu_count()}"),
        ("encoder tokens per doc, int8", f"{embed_max_tokens()}, {embed_quantize()}"),
        ("model + head load (s)", f"{load_s:.1f}"),
        ("passes", f"{args.repeat}"),
        ("docs/s (wall clock), median", f"{statistics.median(rates):.1f}  (passes {min(rates):.1f}–{max(rates):.1f})"),
        ("docs/s if the cores were ours", f"{statistics.median(cpu_rates):.1f}"),
        ("peak RSS (MB)", f"{peak_rss_mb:.0f}"),
        ("python heap peak, 200 docs (MB)", f"{heap_peak / 2**20:.1f}"),
        ("docs given a topic", f"{with_topic / len(docs):.0%}"),
        ("load average (1 min)", f"{os.getloadavg()[0]:.1f}"),
    ]
    width = max(len(k) for k, _ in rows)
    print("bench_classify: Classifier.classify on title + first 256 chars")
    for key, value in rows:
        print(f"  {key:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
