"""A plan's own labels, a few at a time: its head fitted on n of its real pages against the transfer head (n = 0).

    python bench/bench_fewshot.py [--seeds 3] [--test 45] [--sizes 20 40]

For each bundled plan other than the packaged one (nlp.data.EVAL_SETS: Weifang, the development plan, and
Dongcheng), the pages labelled against it are ordered by a seeded hash of the URL; the last --test pages are
scored, and the head learns from the first n of the rest (n = 0: no label of the plan, the transfer head; the
largest size: all the rest). This is the path `zwgk nlp sample` + ZWGK_LABELLED gives a user. Rows: mean over
seeds of top-1, off-plan left empty and on-plan abstained on the same test pages, beside char-bigram top-1.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import pandas as pd

    from nlp.classify import Classifier, load_classifier
    from nlp.data import EVAL_SETS
    from nlp.evaluate import evaluate
    from zwgk.jsonl import read_jsonl, write_jsonl
    from zwgk.plan import load_plan

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--test", type=int, default=45, help="pages scored per seed")
    parser.add_argument("--sizes", type=int, nargs="+", default=[20, 40], help="labelled pages the head learns from")
    args = parser.parse_args(argv)
    base = load_classifier()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for spec in [s for s in EVAL_SETS if s.plan is not None]:
            plan = load_plan(spec.plan)
            items = list(read_jsonl(spec.gold))
            for seed in range(args.seeds):
                order = sorted(items, key=lambda it: hashlib.sha1(f"{seed}|{it['url']}".encode()).hexdigest())
                test, rest = order[-args.test:], order[:-args.test]
                gold = Path(tmp) / f"{spec.plan.stem}-{seed}.jsonl"  # the pages scored; the head gets its own
                write_jsonl(gold, [{**it, "split": "heldout"} for it in test])
                for n in [0, *[s for s in args.sizes if s < len(rest)], len(rest)]:
                    train = [{**it, "split": "dev"} for it in rest[:n]]
                    clf = Classifier(plan=plan, registry=base.registry, embedder=base.embedder, labelled=train)
                    result = evaluate(gold, "heldout", classifier=clf)
                    c, b = result["systems"]["classifier"], result["systems"]["char-bigram"]
                    rows.append({"plan": plan.name[:8], "labelled": n, "seed": seed, "on plan": result["on_plan"],
                                 "top-1": c["top1"], "char-bigram top-1": b["top1"], "off-plan empty": c["off_plan_empty"],
                                 "on-plan abstained": c["on_plan_abstained"]})
                    print(json.dumps(rows[-1], ensure_ascii=False), flush=True)
    table = pd.DataFrame(rows)
    last = table.groupby("plan")["labelled"].transform("max")
    table["labelled"] = table["labelled"].where(table["labelled"] < last, "all the rest")
    print(f"\nmean over {args.seeds} seeds, {args.test} test pages each:")
    print(table.drop(columns="seed").groupby(["plan", "labelled"], sort=False).mean().round(3).to_string())
    return 0


if __name__ == "__main__":
    sys.exit(main())
