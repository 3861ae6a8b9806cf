"""Pages a user labels against their own plan (ZWGK_LABELLED, `zwgk nlp sample`): the plan gets a head of its own
fitted on their dev lines only; lines not labelled yet, lines naming no plan and held-out lines teach nothing."""

from __future__ import annotations

import json

import pytest

from nlp.data import HERE

WEIFANG_PLAN = HERE / "plans" / "weifang-2017.txt"
WEIFANG_PAGES = HERE / "realpages-weifang-2017.jsonl"


def _pages() -> list[dict]:
    return [json.loads(line) for line in WEIFANG_PAGES.read_text(encoding="utf-8").splitlines() if line.strip()]


def _write(path, rows) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def test_pages_a_user_labelled_give_their_plan_its_own_head(classifier, tmp_path, monkeypatch, caplog):
    import logging

    from nlp.classify import Classifier
    from nlp.topics import FEATURES, PLAN_FEATURES, doc_text
    from zwgk.plan import load_plan

    pages = _pages()
    dev = [{**p, "split": "dev"} for p in pages[:40]]
    held = [{**p, "split": "heldout"} for p in pages[40:50]]
    unlabelled = [{**p, "split": "dev", "topics": None} for p in pages[50:55]]
    no_plan = [{k: v for k, v in p.items() if k != "plan"} | {"split": "dev"} for p in pages[55:60]]
    slip = [{**pages[60], "split": "dev", "topics": ["9.9"]}]  # an id the plan has not: warned, not learnt
    path = tmp_path / "mine.jsonl"
    _write(path, dev + held + unlabelled + no_plan + slip)
    monkeypatch.setenv("ZWGK_LABELLED", str(path))

    with caplog.at_level(logging.WARNING, logger="nlp.topics"):
        scorer = Classifier(plan=load_plan(WEIFANG_PLAN), registry=classifier.registry,
                            embedder=classifier.embedder).topics
    assert "name topic ids 潍坊市2017年政务公开工作要点实施方案 has not (9.9)" in caplog.text
    assert "10 of 61 lines name no plan or have no topics list" in caplog.text
    assert scorer.head is not None and scorer.head.cols == tuple(range(len(FEATURES))) != PLAN_FEATURES
    learnt = set(scorer.lab_texts)
    assert learnt == {doc_text(p.get("title", ""), p.get("body", "")) for p in dev}
    assert scorer.lab_y.sum() == sum(len(p["topics"]) for p in dev)  # every topic id of the plan's, none lost


def test_too_few_labelled_pages_keep_the_transfer_head(classifier, tmp_path, monkeypatch, caplog):
    import logging

    from nlp.classify import Classifier
    from nlp.topics import MIN_LABELLED, PLAN_FEATURES
    from zwgk.plan import load_plan

    path = tmp_path / "few.jsonl"
    _write(path, [{**p, "split": "dev"} for p in _pages()[: MIN_LABELLED - 10]])
    monkeypatch.setenv("ZWGK_LABELLED", str(path))
    with caplog.at_level(logging.WARNING, logger="nlp.topics"):
        scorer = Classifier(plan=load_plan(WEIFANG_PLAN), registry=classifier.registry,
                            embedder=classifier.embedder).topics
    assert scorer.head.cols == PLAN_FEATURES and scorer.lab_embs is None
    assert f"{MIN_LABELLED - 10} labelled documents of 潍坊市2017年政务公开工作要点实施方案, fewer than" in caplog.text


def test_a_missing_labelled_file_is_a_clear_error(monkeypatch, tmp_path):
    from nlp.topics import user_labelled

    monkeypatch.setenv("ZWGK_LABELLED", str(tmp_path / "nowhere.jsonl"))
    with pytest.raises(ValueError, match="ZWGK_LABELLED names .*nowhere.jsonl: no such file"):
        user_labelled()


def test_pick_gives_every_first_topic_pages_before_any_gets_many():
    from nlp.sample import pick

    firsts = ["1.1"] * 6 + ["1.2"] * 2 + [None] * 3 + ["1.3"]
    urls = [f"https://example.gov.cn/{i}.html" for i in range(len(firsts))]
    chosen = pick(firsts, urls, 6)
    assert len(set(chosen)) == 6
    assert {firsts[i] for i in chosen[:4]} == {"1.1", "1.2", "1.3", None}
    assert sum(firsts[i] == "1.1" for i in chosen) == 2  # not four of the largest group
    assert pick(firsts, urls, 50) == pick(firsts, urls, 50) and len(pick(firsts, urls, 50)) == len(firsts)


def test_sample_cli_writes_pages_to_label_and_skips_labelled_ones(classifier, tmp_path, monkeypatch, capsys):
    from zwgk.cli import main
    from zwgk.plan import load_plan

    pages = _pages()[:14]
    docs = tmp_path / "documents.jsonl"
    _write(docs, [{"url": p["url"], "title": p["title"], "body": p["body"], "source_type": "site"} for p in pages]
           + [{"title": "a line that is no document"}])
    (tmp_path / "bad.jsonl").write_text("{not json\n", encoding="utf-8")
    labelled = tmp_path / "labelled.jsonl"
    _write(labelled, [{**p, "split": "dev"} for p in pages[:4]])
    monkeypatch.setenv("ZWGK_LABELLED", str(labelled))
    out = tmp_path / "to-label.jsonl"

    assert main(["nlp", "sample", "--in", str(docs), "--out", str(out), "--plan", str(WEIFANG_PLAN), "-n", "8"]) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 8 and len({r["id"] for r in rows}) == 8
    assert not {r["url"] for r in rows} & {p["url"] for p in pages[:4]}
    assert all(r["topics"] is None and r["kind"] is None and r["split"] in ("dev", "heldout") for r in rows)
    assert {r["plan"] for r in rows} == {load_plan(WEIFANG_PLAN).name}
    assert main(["nlp", "sample", "--in", str(tmp_path / "bad.jsonl"), "--out", str(tmp_path / "x.jsonl"),
                 "--plan", str(WEIFANG_PLAN)]) == 2
    assert "no documents to sample" in capsys.readouterr().err
