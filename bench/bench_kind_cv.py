"""Kind from text alone, cross-validated on the real pages' dev split only (held-out pages are never read).

    python bench/bench_kind_cv.py [--folds 5] [--errors]

Folds are fixed by a hash of each page's URL, so every run and every variant sees the same folds. This is
how kind features and settings are chosen; the held-out split is scored once, by `zwgk nlp eval`.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def fold_of(url: str, folds: int) -> int:
    return int(hashlib.sha1(("kind-cv|" + url).encode("utf-8")).hexdigest(), 16) % folds


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import numpy as np

    from nlp.classify import embed_max_tokens, embed_quantize
    from nlp.embed import load_embedder
    from nlp.evaluate import per_kind
    from nlp.kind import KindModel, kind_vectors, text_kinds
    from nlp.topics import DOC_ROLE, REALPAGES, doc_text, item_document, load_labelled

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--errors", action="store_true", help="print the dev pages read wrong (dev only)")
    args = parser.parse_args(argv)
    items = [it for it in load_labelled(REALPAGES, "dev") if it.get("kind")]
    assert all(it.get("split") == "dev" for it in items)
    texts = [doc_text(it.get("title", ""), it.get("body", "")) for it in items]
    embedder = load_embedder(max_length=embed_max_tokens(), quantize=embed_quantize())
    vecs = kind_vectors(*embedder.encode_with_style(texts, kind=DOC_ROLE))
    docs = [item_document({**it, "column_type": "其他"}) for it in items]
    gold = [it["kind"] for it in items]
    fold = np.array([fold_of(it["url"], args.folds) for it in items])
    pred = [""] * len(items)
    for f in range(args.folds):
        train, test = np.where(fold != f)[0], np.where(fold == f)[0]
        model = KindModel.fit([docs[i] for i in train], vecs[train], [gold[i] for i in train])
        for i, k in zip(test, text_kinds([docs[i] for i in test], vecs[test], model), strict=True):
            pred[i] = k
    acc = sum(g == p for g, p in zip(gold, pred, strict=True)) / len(gold)
    print(f"kind, {args.folds}-fold CV on {len(items)} dev real pages: accuracy {acc:.3f}")
    for k, v in per_kind(gold, pred).items():
        print(f"  {k:17s} {v['precision']:.2f}/{v['recall']:.2f} ({v['support']})")
    print("confusions (gold → predicted):", Counter((g, p) for g, p in zip(gold, pred, strict=True) if g != p).most_common(12))
    if args.errors:
        for it, g, p in zip(items, gold, pred, strict=True):
            if g != p:
                print(f"{g:>16s} → {p:16s} {it['title'][:60]} | {it.get('body', '')[:80]!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
