"""Pages of a crawl picked for a user to label against their plan (`zwgk nlp sample`).

A plan without labels of its own is scored by the transfer head (about 0.7 top-1 on two other governments'
plans); a few dozen of its own pages labelled by reading give it a head of its own (bench/bench_fewshot.py).
The sample spreads over the topics the classifier now gives first, and over the pages it leaves without a topic
(the off-plan threshold needs those), so that each of the plan's items gets pages to learn from. It writes the
labelled sets' fields with "topics" and "kind" null: a labeller fills them in by reading (a list of topic ids,
[] for a page about none), and ZWGK_LABELLED then points the classifier at the file. Lines still null teach
nothing. A share of the pages is marked "heldout" by a hash of the URL, for `zwgk nlp eval --gold FILE --split
heldout`: never fitted on.
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from itertools import zip_longest
from pathlib import Path

from tqdm import tqdm

from nlp.data.build_realpages import BODY_CHARS, split_of  # what a labeller reads, as in the bundled sets
from zwgk.document import Document
from zwgk.jsonl import read_jsonl, write_jsonl_atomic

log = logging.getLogger(__name__)

CLASSIFY_CHUNK = 256  # documents per progress step (as `zwgk classify`)


def _order(url: str) -> str:
    return hashlib.sha1(url.encode("utf-8")).hexdigest()


def pick(first_topics: list[str | None], urls: list[str], n: int) -> list[int]:
    """Indices of n documents taken in turn from each group of the same first topic (None: no topic), each
    group in a fixed order by URL hash: every topic the classifier now sees gets pages before any gets many."""
    groups: dict[str | None, list[int]] = defaultdict(list)
    for i, topic in enumerate(first_topics):
        groups[topic].append(i)
    queues = [sorted(idx, key=lambda i: _order(urls[i])) for _, idx in sorted(groups.items(), key=lambda kv: str(kv[0]))]
    turns = [i for row in zip_longest(*queues) for i in row if i is not None]
    return turns[:n]


def sample_file(in_path: Path, out_path: Path, plan_path: Path | None, n: int, heldout_percent: int) -> int:
    """Write n documents of in_path as lines to label against the plan; the number written."""
    from nlp.classify import Classifier
    from nlp.topics import user_labelled
    from zwgk.plan import load_plan

    plan = load_plan(plan_path)
    docs, seen = [], {it.get("url") for it in user_labelled()}  # a second round skips pages labelled already
    for row in read_jsonl(in_path):
        try:
            doc = Document.from_dict(row)
        except (ValueError, TypeError) as exc:
            log.warning("%s: a line that is no Document skipped (%s)", in_path, exc)
            continue
        if doc.url not in seen and (doc.title or doc.body):
            seen.add(doc.url)
            docs.append(doc)
    if not docs:
        raise ValueError(f"{in_path}: no documents to sample")
    classifier = Classifier(plan=plan)  # the plan's own labels where there are some, else the transfer head
    with tqdm(total=len(docs), unit="doc", desc="classify") as bar:  # a crawl's worth takes minutes
        for start in range(0, len(docs), CLASSIFY_CHUNK):
            bar.update(len(classifier.classify(docs[start : start + CLASSIFY_CHUNK])))
    chosen = pick([d.topics[0].id if d.topics else None for d in docs], [d.url for d in docs], n)
    rows = [{"id": f"label{k + 1:04d}", "url": docs[i].url, "title": docs[i].title,
             "body": (docs[i].body or "")[:BODY_CHARS], "plan": plan.name,
             "split": split_of(docs[i].url, heldout_percent), "topics": None, "kind": None, "note": ""}
            for k, i in enumerate(chosen)]
    return write_jsonl_atomic(out_path, rows)
