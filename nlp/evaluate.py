"""Evaluate the classifier beside its baselines on labelled sets, at the plan's section level (x.y).

Systems, all run in the same call on the same documents:
- classifier: the hybrid scorer with its head (multi-label, may abstain) and the kind rules;
- char-bigram: TF-IDF over character bigrams of each topic's text against the page (the simplest one);
- jieba-tfidf: TF-IDF over jieba words, plan and page both converted to simplified with OpenCC;
- e5: zero-shot cosine of the page to each topic's whole text;
- average: the mean of those three after z-scoring each across topics (their scales differ).
Baselines always name their best topic (they cannot abstain).

Columns (`SystemScores`):
- top-1: share of on-plan pages whose first decided topic is a gold one (abstaining counts as a miss);
- recall@3: mean share of a page's gold topics among the system's three best-ranked topics;
- macro-F1: per-topic F1 of the decided topics, averaged over the topics in the gold labels;
- kind: kind accuracy (the classifier's rules; the kind baseline is a char-bigram nearest centroid fitted
  on the real pages' dev split), with per-kind precision and recall;
- off-plan empty: share of off-plan pages given no topic; on-plan abstained: share of on-plan pages
  given none; docs/s: pages scored per second by that system alone.
Below each table, 95% intervals (`bootstrap_interval`, pages resampled with replacement): the classifier's
top-1 and kind accuracy, and its top-1 minus the best baseline's on the same resampled pages. A set of 81
on-plan pages moves top-1 by 0.012 a page; the interval says which differences the set can tell apart.
Sets are named in `nlp.data.EVAL_SETS`; `zwgk nlp eval` prints one table per set.
"""

from __future__ import annotations

import math
import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from nlp.topics import REALPAGES, KeywordScorer, char_bigrams, doc_text, item_document, load_labelled
from zwgk.document import KINDS

BASELINES = ("char-bigram", "jieba-tfidf", "e5", "average")
RESAMPLES = 2000  # bootstrap resamples per interval


def section(topic_id: str) -> str:
    """x.y of a topic id (x stays x)."""
    return ".".join(topic_id.split(".")[:2])


@dataclass
class SystemScores:
    top1: float
    recall_at_3: float
    macro_f1: float
    kind_accuracy: float | None
    off_plan_empty: float | None
    on_plan_abstained: float | None
    docs_per_s: float


def _z(x: np.ndarray) -> np.ndarray:
    return (x - x.mean(axis=1, keepdims=True)) / (x.std(axis=1, keepdims=True) + 1e-9)


def ranked_sections(scores: np.ndarray, ids: list[str]) -> list[list[str]]:
    """Per document, the plan's sections best first (a section ranks by its best leaf)."""
    out = []
    for row in scores:
        out.append(list(dict.fromkeys(section(ids[j]) for j in np.argsort(-row))))
    return out


def macro_f1(golds: list[set[str]], decided: list[list[str]]) -> tuple[float, dict]:
    """Macro-F1 over the topics present in the gold labels, and the per-topic table."""
    tp, fp, fn = Counter(), Counter(), Counter()
    for gold, pred in zip(golds, decided, strict=True):
        for t in set(pred):
            (tp if t in gold else fp)[t] += 1
        for t in gold - set(pred):
            fn[t] += 1
    per = {}
    for t in sorted({t for g in golds for t in g}, key=lambda s: [int(x) for x in s.split(".") if x.isdigit()]):
        p = tp[t] / (tp[t] + fp[t]) if tp[t] + fp[t] else 0.0
        r = tp[t] / (tp[t] + fn[t]) if tp[t] + fn[t] else 0.0
        per[t] = {"precision": round(p, 3), "recall": round(r, 3), "f1": round(2 * p * r / (p + r), 3) if p + r else 0.0,
                  "support": tp[t] + fn[t]}
    return (round(float(np.mean([v["f1"] for v in per.values()])), 4) if per else 0.0), per


def top1_hits(golds: list[set[str]], decided: list[list[str]]) -> list[bool]:
    """Per on-plan page, in order: is the first decided topic a gold one (abstaining is a miss)."""
    return [bool(d) and d[0] in g for g, d in zip(golds, decided, strict=True) if g]


def score_system(golds: list[set[str]], decided: list[list[str]], ranked: list[list[str]], seconds: float,
                 kind_accuracy: float | None = None) -> SystemScores:
    """The table's columns for one system (see the module docstring)."""
    on = [i for i, g in enumerate(golds) if g]
    off = [i for i, g in enumerate(golds) if not g]
    top1 = sum(top1_hits(golds, decided)) / max(len(on), 1)
    recall3 = sum(len(golds[i] & set(ranked[i][:3])) / len(golds[i]) for i in on) / max(len(on), 1)
    return SystemScores(
        top1=round(top1, 4), recall_at_3=round(recall3, 4), macro_f1=macro_f1(golds, decided)[0],
        kind_accuracy=kind_accuracy,
        off_plan_empty=round(sum(1 for i in off if not decided[i]) / len(off), 4) if off else None,
        on_plan_abstained=round(sum(1 for i in on if not decided[i]) / len(on), 4) if on else None,
        docs_per_s=round(len(golds) / seconds, 1) if seconds > 0 else math.inf,
    )


def bootstrap_interval(hits, minus=None, resamples: int = RESAMPLES, level: float = 0.95,
                       seed: int = 2016) -> tuple[float, float] | None:
    """Percentile bootstrap interval of the share of pages a system got right (`hits`, one 0/1 per page),
    the pages resampled with replacement; with `minus` (another system's hits on the same pages), of the
    difference between the two shares, both read on each resample's pages (paired). None without pages."""
    a = np.asarray(hits, dtype=np.float64)
    b = np.zeros_like(a) if minus is None else np.asarray(minus, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"paired hits differ in length: {a.shape} and {b.shape}")
    if not len(a):
        return None
    rows = np.random.default_rng(seed).integers(0, len(a), size=(resamples, len(a)))
    stats = a[rows].mean(axis=1) - b[rows].mean(axis=1)
    lo, hi = np.quantile(stats, [(1 - level) / 2, (1 + level) / 2])
    return round(float(lo), 4), round(float(hi), 4)


def per_kind(gold: list[str], pred: list[str]) -> dict[str, dict]:
    """Precision, recall and support per gold kind."""
    out = {}
    for k in KINDS:
        tp = sum(1 for g, p in zip(gold, pred, strict=True) if g == k and p == k)
        n_pred, n_gold = pred.count(k), gold.count(k)
        if n_gold or n_pred:
            out[k] = {"precision": round(tp / n_pred, 3) if n_pred else 0.0,
                      "recall": round(tp / n_gold, 3) if n_gold else 0.0, "support": n_gold}
    return out


class KindBaseline:
    """Nearest kind centroid over char-bigram TF-IDF of title + opening, fitted on labelled pages."""

    def __init__(self, items: list[dict]):
        texts_by_kind = defaultdict(list)
        for it in items:
            if it.get("kind") in KINDS:
                texts_by_kind[it["kind"]].append(doc_text(it.get("title", ""), it.get("body", "")))
        self.kinds = sorted(texts_by_kind)
        self.scorer = KeywordScorer([" ".join(texts_by_kind[k]) for k in self.kinds], analyzer=char_bigrams)

    def predict(self, texts: list[str]) -> list[str]:
        return [self.kinds[j] for j in self.scorer.scores(texts).argmax(axis=1)] if self.kinds else ["news"] * len(texts)


def evaluate(gold_path: Path, split: str | None = None, classifier=None, kind_items: list[dict] | None = None) -> dict:
    """Every system's scores on one labelled file (optionally one split), labelled for the classifier's plan."""
    from nlp.classify import load_classifier

    classifier = classifier or load_classifier()
    if not Path(gold_path).exists():
        raise ValueError(f"{gold_path}: no such file")
    items = load_labelled(Path(gold_path), split, plan=classifier.plan)
    if not items:
        raise ValueError(f"{gold_path}: no labelled items for the plan in use ({classifier.plan.name})"
                         + (f" in split {split!r}" if split else "") + '; a file\'s "plan" field names the plan '
                         "its topic ids belong to (ZWGK_PLAN selects the plan)")
    golds = [{section(t) for t in it.get("topics") or []} for it in items]
    texts = [doc_text(it.get("title", ""), it.get("body", "")) for it in items]
    scorer = classifier.topics
    ids = scorer.topics.ids

    t0 = time.perf_counter()
    docs = classifier.classify([item_document(it) for it in items])
    classify_s = time.perf_counter() - t0

    raw, seconds = {}, {}
    for name, fn in (("char-bigram", scorer.bigrams.scores), ("jieba-tfidf", scorer.keywords.scores)):
        t0 = time.perf_counter()
        raw[name] = fn(texts)
        seconds[name] = time.perf_counter() - t0
    t0 = time.perf_counter()
    embs = scorer.embed_docs(texts)  # timed as the e5 baseline's cost; the classifier's ranking reuses them
    raw["e5"] = embs @ scorer.topic_full.T
    seconds["e5"] = time.perf_counter() - t0
    probs = scorer.probabilities(texts, embs, [d.kind for d in docs], [d.agencies for d in docs])
    raw["average"] = sum(_z(raw[name]) for name in ("char-bigram", "jieba-tfidf", "e5")) / 3
    seconds["average"] = sum(seconds[name] for name in ("char-bigram", "jieba-tfidf", "e5"))

    gold_kinds = [it.get("kind") for it in items]
    has_kind = [i for i, k in enumerate(gold_kinds) if k]
    pred_kinds = [docs[i].kind for i in has_kind]
    base = KindBaseline(kind_items if kind_items is not None else load_labelled(REALPAGES, "dev"))
    base_kinds = base.predict([texts[i] for i in has_kind])
    gk = [gold_kinds[i] for i in has_kind]

    def kind_hits(pred: list[str]) -> list[bool]:
        return [g == p for g, p in zip(gk, pred, strict=True)]

    def accuracy(pred: list[str]) -> float | None:
        return round(sum(kind_hits(pred)) / len(gk), 4) if gk else None

    decided = [list(dict.fromkeys(section(t.id) for t in d.topics)) for d in docs]
    systems = {"classifier": score_system(golds, decided, ranked_sections(probs, ids), classify_s,
                                          accuracy(pred_kinds))}
    hits = {"classifier": top1_hits(golds, decided)}
    for name in BASELINES:
        ranked = ranked_sections(raw[name], ids)
        firsts = [r[:1] for r in ranked]
        systems[name] = score_system(golds, firsts, ranked, seconds[name],
                                     accuracy(base_kinds) if name == "char-bigram" else None)
        hits[name] = top1_hits(golds, firsts)
    best = max(BASELINES, key=lambda name: systems[name].top1)
    return {
        "gold": str(gold_path), "split": split or "all", "plan": classifier.plan.name,
        "documents": len(items), "on_plan": sum(1 for g in golds if g), "off_plan": sum(1 for g in golds if not g),
        "systems": {name: asdict(s) for name, s in systems.items()},
        "per_topic": macro_f1(golds, decided)[1],
        "kinds": {"classifier": per_kind(gk, pred_kinds), "char-bigram centroid": per_kind(gk, base_kinds)},
        "classifier_top1_by_script": _top1_by(items, golds, decided, "script"),
        "intervals": {
            "top1": bootstrap_interval(hits["classifier"]),
            "best_baseline": best,
            "top1_minus_best_baseline": bootstrap_interval(hits["classifier"], hits[best]),
            "kind": bootstrap_interval(kind_hits(pred_kinds)),
        },
        "errors": [{"title": it.get("title"), "gold": sorted(g), "decided": d, "gold_kind": it.get("kind"),
                    "kind": doc.kind} for it, g, d, doc in zip(items, golds, decided, docs, strict=True)
                   if (g and (not d or d[0] not in g)) or (not g and d) or (it.get("kind") and it["kind"] != doc.kind)],
    }


def _top1_by(items, golds, decided, field: str) -> dict[str, float]:
    groups = defaultdict(list)
    for it, g, d in zip(items, golds, decided, strict=True):
        if g:
            groups[it.get(field) or "?"].append(bool(d) and d[0] in g)
    return {k: round(sum(v) / len(v), 4) for k, v in sorted(groups.items())}


def evaluate_sets(classifier=None, sets=None) -> list[dict]:
    """`evaluate` on each bundled set (nlp.data.EVAL_SETS), each under the plan it is labelled against:
    the packaged plan's classifier, or one built for another plan with the same loaded model."""
    from nlp.classify import Classifier, load_classifier
    from nlp.data import EVAL_SETS
    from zwgk.plan import load_plan

    classifier = classifier or load_classifier()
    results = []
    for spec in sets or EVAL_SETS:
        runner = classifier
        if spec.plan is not None:
            runner = Classifier(plan=load_plan(spec.plan), registry=classifier.registry, embedder=classifier.embedder)
        result = evaluate(spec.gold, spec.split, classifier=runner)
        result["set"] = spec.name
        results.append(result)
    return results


COLUMNS = {"top1": "top-1", "recall_at_3": "recall@3", "macro_f1": "macro-F1", "kind_accuracy": "kind",
           "off_plan_empty": "off-plan empty", "on_plan_abstained": "on-plan abstained", "docs_per_s": "docs/s"}


def format_table(result: dict) -> str:
    """One set's systems as rows, then the classifier's per-kind precision and recall."""
    import pandas as pd

    table = pd.DataFrame(result["systems"]).T.rename(columns=COLUMNS)
    kinds = pd.DataFrame({name: {k: f"{v['precision']:.2f}/{v['recall']:.2f} ({v['support']})" for k, v in per.items()}
                          for name, per in result["kinds"].items()})
    return "\n".join([
        f"{result.get('set', result['gold'])}: {result['gold']} split={result['split']}, plan {result['plan']}, "
        f"{result['documents']} documents ({result['on_plan']} on plan, {result['off_plan']} off plan)",
        table.to_string(na_rep="—"),
        "kind precision/recall (support):",
        kinds.to_string(na_rep="—"),
        f"classifier top-1 by script: {result['classifier_top1_by_script']}",
        _format_intervals(result),
    ])


def _format_intervals(result: dict) -> str:
    spans = result.get("intervals") or {}

    def span(key: str, signed: bool = False) -> str:
        pair = spans.get(key)
        return "—" if pair is None else "–".join(f"{v:+.3f}" if signed else f"{v:.3f}" for v in pair)

    return (f"95% intervals (bootstrap over pages, {RESAMPLES} resamples): classifier top-1 {span('top1')}, "
            f"minus the best baseline ({spans.get('best_baseline', '—')}) {span('top1_minus_best_baseline', True)}; "
            f"kind {span('kind')}")
