"""Classification quality beside the baselines on every bundled labelled set, in one run.

    python bench/bench_nlp_eval.py          # the tables of `zwgk nlp eval`, dated, with the machine's load

The sets: the plan-worded dev set (held-out split), real published pages labelled by reading (held-out
split: never fitted or calibrated on), and a second government's plan scored with no label of its own.
Rows: the classifier and the char-bigram, jieba TF-IDF, e5 and average baselines; columns: top-1,
recall@3, macro-F1, kind accuracy, off-plan left empty, on-plan abstained, docs/s. Then the tone table: real
news labelled negative / neutral / positive (held-out split), the tone head beside the lexicon baselines.
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from nlp.classify import embed_quantize, load_classifier
    from nlp.evaluate import evaluate_sets, format_table
    from nlp.evaluate_tone import evaluate_tone, format_tone_table

    results = evaluate_sets()
    tone = evaluate_tone(load_classifier().embedder)
    print(f"bench_nlp_eval: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, encoder {embed_quantize()}, "
          f"load average {os.getloadavg()[0]:.1f}")
    print("\n\n".join([format_table(r) for r in results] + [format_tone_table(tone)]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
