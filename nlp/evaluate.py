"""Evaluate the classifier on a labelled JSON-lines file, at the plan's subsection level (x.y).

Reports per-topic precision/recall/F1, macro-F1, top-1 accuracy (the best predicted topic is one of the
gold topics; documents with gold topics only), the off-plan rate (off-plan documents given no topic), kind
accuracy, and baselines side by side, all from the same run:
- keyword: TF-IDF over jieba tokens of each topic's text, plan and page both converted to simplified;
- e5: zero-shot cosine of the page to each topic's whole text;
- average: the mean of the two after z-scoring each across topics (their scales differ);
- classifier: the hybrid scorer with its trained head (multi-label, may abstain); `top1_ranked` is its
  top-1 when it is not allowed to abstain, comparable with the baselines.
Baselines always name their single best topic (they cannot abstain).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np

from nlp.topics import doc_text, item_document, load_labelled


def subsection(topic_id: str) -> str:
    return ".".join(topic_id.split(".")[:2])


def _z(x: np.ndarray) -> np.ndarray:
    return (x - x.mean(axis=1, keepdims=True)) / (x.std(axis=1, keepdims=True) + 1e-9)


def _prf(golds: list[set[str]], preds: list[list[str]]) -> dict:
    """Per-topic P/R/F1 and macro-F1 over topics present in the gold labels."""
    tp, fp, fn = defaultdict(int), defaultdict(int), defaultdict(int)
    for gold, pred in zip(golds, preds, strict=True):
        pset = set(pred)
        for t in pset:
            (tp if t in gold else fp)[t] += 1
        for t in gold - pset:
            fn[t] += 1
    per = {}
    for t in sorted({t for g in golds for t in g}, key=lambda s: [int(x) for x in s.split(".")]):
        p = tp[t] / (tp[t] + fp[t]) if tp[t] + fp[t] else 0.0
        r = tp[t] / (tp[t] + fn[t]) if tp[t] + fn[t] else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        per[t] = {"precision": round(p, 3), "recall": round(r, 3), "f1": round(f, 3), "support": tp[t] + fn[t]}
    macro = float(np.mean([v["f1"] for v in per.values()])) if per else 0.0
    return {"per_topic": per, "macro_f1": round(macro, 4)}


def _top1(golds: list[set[str]], preds: list[list[str]]) -> float:
    pairs = [(g, p) for g, p in zip(golds, preds, strict=True) if g]
    return round(sum(1 for g, p in pairs if p and p[0] in g) / max(len(pairs), 1), 4)


def evaluate(gold_path: Path, split: str | None = None, classifier=None) -> dict:
    """All metrics for one labelled file (optionally one split)."""
    from nlp.classify import load_classifier

    classifier = classifier or load_classifier()
    if not Path(gold_path).exists():
        raise ValueError(f"{gold_path}: no such file")
    items = load_labelled(Path(gold_path), split, plan=classifier.plan)
    if not items:
        raise ValueError(f"{gold_path}: no labelled items for the plan in use ({classifier.plan.name})"
                         + (f" in split {split!r}" if split else "") + '; a file\'s "plan" field names the plan '
                         "its topic ids belong to (ZWGK_PLAN selects the plan)")
    docs = classifier.classify([item_document(it) for it in items])
    golds = [{subsection(t) for t in it.get("topics") or []} for it in items]
    scorer = classifier.topics
    texts = [doc_text(it.get("title", ""), it.get("body", "")) for it in items]
    embs = scorer.embed_docs(texts)
    raw = scorer.raw_scores(texts, embs)
    probs = scorer.probabilities(texts, embs, [d.kind for d in docs], [d.agencies for d in docs])
    ids = scorer.topics.ids
    systems: dict[str, list[list[str]]] = {
        "keyword": [[subsection(ids[j])] for j in raw["kw"].argmax(axis=1)],
        "e5": [[subsection(ids[j])] for j in raw["emb_full"].argmax(axis=1)],
        "average": [[subsection(ids[j])] for j in (_z(raw["kw"]) + _z(raw["emb_full"])).argmax(axis=1)],
        "classifier": [list(dict.fromkeys(subsection(t.id) for t in d.topics)) for d in docs],
    }
    result: dict = {"gold": str(gold_path), "split": split or "all", "documents": len(items),
                    "with_topics": sum(1 for g in golds if g), "systems": {}}
    off = [i for i, g in enumerate(golds) if not g]
    for name, preds in systems.items():
        entry = {"top1": _top1(golds, preds), **_prf(golds, preds)}
        entry["off_plan_empty"] = round(sum(1 for i in off if not preds[i]) / len(off), 4) if off else None
        result["systems"][name] = entry
    ranked = [[subsection(ids[j])] for j in probs.argmax(axis=1)]
    result["systems"]["classifier"]["top1_ranked"] = _top1(golds, ranked)  # without abstaining
    kinds = [(it.get("kind"), d.kind) for it, d in zip(items, docs, strict=True) if it.get("kind")]
    result["kind_accuracy"] = round(sum(1 for g, p in kinds if g == p) / max(len(kinds), 1), 4)
    result["kind_documents"] = len(kinds)
    # the same rules without the column type (pages found outside a typed column, e.g. news feeds)
    from nlp.kind import classify_kind

    blind = [(it["kind"], classify_kind(item_document({**it, "column_type": "其他"}))) for it in items
             if it.get("kind")]
    result["kind_accuracy_without_column"] = round(sum(1 for g, p in blind if g == p) / max(len(blind), 1), 4)
    by_script = defaultdict(list)
    for it, g, p in zip(items, golds, systems["classifier"], strict=True):
        if g:
            by_script[it.get("script", "?")].append(bool(p) and p[0] in g)
    result["classifier_top1_by_script"] = {k: round(sum(v) / len(v), 4) for k, v in sorted(by_script.items())}
    return result


def format_table(result: dict) -> str:
    """Per-topic F1 of every system side by side, then the summary rows."""
    import pandas as pd

    systems = result["systems"]
    topics = list(systems["classifier"]["per_topic"])
    rows = []
    for t in topics:
        row = {"topic": t, "support": systems["classifier"]["per_topic"][t]["support"]}
        c = systems["classifier"]["per_topic"][t]
        row.update({"P": c["precision"], "R": c["recall"], "F1": c["f1"]})
        for name in ("keyword", "e5", "average"):
            row[f"F1 {name}"] = systems[name]["per_topic"].get(t, {}).get("f1", 0.0)
        rows.append(row)
    table = pd.DataFrame(rows).set_index("topic")
    summary = pd.DataFrame(
        {name: {"top-1": s["top1"], "macro-F1": s["macro_f1"], "off-plan empty": s["off_plan_empty"]}
         for name, s in systems.items()}
    )
    lines = [
        f"gold {result['gold']} split={result['split']}: {result['documents']} documents "
        f"({result['with_topics']} with topics)",
        table.to_string(),
        "",
        summary.to_string(),
        "",
        f"classifier top-1 without abstaining {result['systems']['classifier']['top1_ranked']:.4f}; "
        f"kind accuracy {result['kind_accuracy']:.3f} on {result['kind_documents']} documents "
        f"({result['kind_accuracy_without_column']:.3f} without column type); "
        f"classifier top-1 by script {result['classifier_top1_by_script']}",
    ]
    return "\n".join(lines)
