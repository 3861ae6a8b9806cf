"""The evaluation's arithmetic on a tiny set, the labelled sets' shape, and that no held-out page reaches
fitting. The figures themselves live in `zwgk nlp eval` / bench output (bench/RESULTS.md), not here."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nlp.evaluate import bootstrap_interval, macro_f1, per_kind, ranked_sections, score_system, section
from nlp.topics import DEVSET, REALPAGES


def test_scores_on_a_tiny_set_by_hand():
    golds = [{"3.1"}, {"1.2", "5.1"}, {"4.3"}, set(), set()]
    decided = [["3.1"], ["5.1", "1.2"], [], ["2.1"], []]
    ranked = [["3.1", "1.2", "2.1"], ["5.1", "2.1", "6.1"], ["2.1", "4.3", "3.1"], ["2.1"], ["6.1"]]
    s = score_system(golds, decided, ranked, seconds=2.0, kind_accuracy=0.5)
    assert s.top1 == pytest.approx(2 / 3, abs=1e-4)  # the abstained 4.3 page is a miss
    assert s.recall_at_3 == pytest.approx((1 + 0.5 + 1) / 3, abs=1e-4)
    assert s.off_plan_empty == 0.5 and s.on_plan_abstained == pytest.approx(1 / 3, abs=1e-4)
    assert s.docs_per_s == 2.5 and s.kind_accuracy == 0.5
    # per topic: 3.1 P1 R1; 1.2 P1 R1; 5.1 P1 R1; 4.3 P0 R0 → macro over gold topics = 3/4
    macro, per = macro_f1(golds, decided)
    assert macro == 0.75 and per["4.3"]["f1"] == 0.0 and set(per) == {"1.2", "3.1", "4.3", "5.1"}


def test_sections_rank_by_their_best_leaf():
    ids = ["1.2.1", "1.2.2", "3.1", "5.1.1"]
    assert ranked_sections(np.array([[0.1, 0.9, 0.5, 0.2]]), ids) == [["1.2", "3.1", "5.1"]]
    assert section("5.1.2") == "5.1" and section("4.3") == "4.3"


def test_per_kind_precision_and_recall():
    out = per_kind(["policy", "policy", "news"], ["policy", "news", "news"])
    assert out["policy"] == {"precision": 1.0, "recall": 0.5, "support": 2}
    assert out["news"] == {"precision": 0.5, "recall": 1.0, "support": 1}


def test_bootstrap_intervals_by_hand():
    assert bootstrap_interval([1] * 10) == (1.0, 1.0)
    assert bootstrap_interval([0, 1] * 50, [0, 1] * 50) == (0.0, 0.0)  # the same hits on the same pages
    lo, hi = bootstrap_interval([1] * 60 + [0] * 40)  # 0.6 of 100 pages: about ±1.96·√(0.24/100) = ±0.096
    assert lo < 0.6 < hi and 0.15 < hi - lo < 0.23
    lo, hi = bootstrap_interval([1] * 100, [1] * 60 + [0] * 40)  # paired: 1.0 - 0.6, the same spread
    assert 0.28 < lo < 0.4 < hi < 0.52
    assert bootstrap_interval([1] * 60 + [0] * 40, seed=1) != (lo, hi)  # resampled, not a formula
    assert bootstrap_interval([]) is None
    with pytest.raises(ValueError, match="differ in length"):
        bootstrap_interval([1, 0], [1])


def _rows(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_real_pages_set_shape():
    from nlp.data.build_realpages import split_of

    items = _rows(REALPAGES)
    assert len(items) >= 600
    assert all(it["origin"] == "real-page" and it["url"].startswith("http") for it in items)
    assert all(it["split"] == split_of(it["url"]) for it in items)  # the split is the URL hash, fixed
    assert sum(it["split"] == "heldout" for it in items) / len(items) >= 0.40
    assert sum(not it["topics"] for it in items) >= 100
    assert {it["script"] for it in items} == {"simplified", "traditional"}


def test_no_held_out_page_reaches_fitting(classifier, monkeypatch):
    """Every document the topic head and the kind model learn from is from a dev split."""
    from nlp import classify, topics

    held = {json.dumps([it["title"], it["body"]], ensure_ascii=False)
            for path in (REALPAGES, DEVSET) for it in _rows(path) if it["split"] == "heldout"}
    assert held
    seen: list[dict] = []
    real_load = topics.load_labelled

    def spy(*args, **kwargs):
        out = real_load(*args, **kwargs)
        seen.extend(out)
        return out

    monkeypatch.setattr(topics, "load_labelled", spy)
    monkeypatch.setattr(classify, "load_labelled", spy)
    classify.Classifier(plan=classifier.plan, registry=classifier.registry, embedder=classifier.embedder)
    assert len(seen) >= 300
    assert not [it for it in seen if json.dumps([it["title"], it["body"]], ensure_ascii=False) in held]


@pytest.mark.slow
def test_eval_cli_prints_one_table_per_set(classifier, capsys):
    from zwgk.cli import main

    assert main(["nlp", "eval", "--gold", str(DEVSET), "--split", "heldout"]) == 0
    table = capsys.readouterr().out
    for word in ("top-1", "recall@3", "macro-F1", "off-plan empty", "on-plan abstained", "docs/s",
                 "char-bigram", "jieba-tfidf", "e5", "average", "classifier", "95% intervals"):
        assert word in table
    assert main(["nlp", "eval", "--gold", str(DEVSET), "--split", "heldout", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result["systems"]) == {"classifier", "char-bigram", "jieba-tfidf", "e5", "average"}
    spans = result["intervals"]
    lo, hi = spans["top1"]
    assert lo <= result["systems"]["classifier"]["top1"] <= hi
    best = spans["best_baseline"]
    assert result["systems"][best]["top1"] == max(result["systems"][b]["top1"] for b in result["systems"] if b != "classifier")
    lo, hi = spans["top1_minus_best_baseline"]
    assert lo <= result["systems"]["classifier"]["top1"] - result["systems"][best]["top1"] <= hi
    assert main(["nlp", "eval", "--gold", str(DEVSET), "--plan", "/nonexistent/plan.txt"]) == 2


def test_a_plan_without_labels_is_scored_without_reading_its_labels(classifier, monkeypatch):
    """The no-label path: the classifier for another plan learns only from pages labelled for the packaged
    plan (the transfer head), never from the pages labelled against the new plan (the eval's gold), and
    its decisions do not depend on those labels."""
    from nlp.classify import Classifier
    from nlp.data import EVAL_SETS
    from nlp.topics import PLAN_FEATURES, TopicScorer, item_document
    from zwgk.plan import load_plan

    seen: list[dict] = []
    real_fit = TopicScorer._fit_cached

    def spy(self, labelled, cols):
        seen.extend(labelled)
        return real_fit(self, labelled, cols)

    monkeypatch.setattr(TopicScorer, "_fit_cached", spy)
    others = [spec for spec in EVAL_SETS if spec.plan is not None]
    assert len(others) >= 2  # the development plan and the second plan
    for spec in others:
        plan = load_plan(spec.plan)
        gold = _rows(spec.gold)
        assert len(gold) >= 100 and all(it["plan"] == plan.name for it in gold)
        runner = Classifier(plan=plan, registry=classifier.registry, embedder=classifier.embedder)
        assert runner.topics.head is not None and runner.topics.head.cols == PLAN_FEATURES
        assert runner.topics.lab_embs is None  # no centroid or neighbour of this plan's pages
        # a page may also be in the packaged plan's set (7 Dongcheng pages are), labelled for that plan:
        # what must never reach fitting is a label made against the new plan
        labels = {(it["url"], it["plan"]) for it in gold}
        assert seen and not [it for it in seen if (it.get("url"), it.get("plan")) in labels]
        # the same pages with their labels swapped around get the same topics
        sample = gold[:12]
        shuffled = [{**it, "topics": gold[(i + 5) % len(gold)]["topics"], "kind": "news"} for i, it in enumerate(sample)]
        a = runner.classify([item_document(it) for it in sample])
        b = runner.classify([item_document(it) for it in shuffled])
        assert [[t.id for t in d.topics] for d in a] == [[t.id for t in d.topics] for d in b]
    assert {it.get("plan") for it in seen} == {classifier.plan.name}  # the packaged plan's labels only

