"""The record contract in the core: JSON lines read by one rule, and a Document that owns its NLP fields."""

from __future__ import annotations

import logging

from zwgk.document import NLP_FIELDS, Document, TopicScore, has_nlp
from zwgk.jsonl import read_jsonl, write_jsonl


def test_read_jsonl_hands_every_bad_line_on_and_goes_on(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_bytes(b'{"a": 1}\n\n{broken\n[1, 2]\n{"b": "\xff"}\n{"c": 3')
    bad = []
    rows = list(read_jsonl(path, bad.append))
    assert rows == [{"a": 1}, {"b": "\ufffd"}]
    assert [(b.lineno, b.reason.split(" (")[0], b.line) for b in bad] == [
        (3, "invalid JSON", "{broken"), (4, "not a JSON object", "[1, 2]"), (6, "invalid JSON", '{"c": 3')]
    assert list(read_jsonl(tmp_path / "missing.jsonl")) == []


def test_read_jsonl_logs_bad_lines_by_default(tmp_path, caplog):
    path = tmp_path / "rows.jsonl"
    path.write_text('{"a": 1}\nnot json\n', encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="zwgk.jsonl"):
        assert list(read_jsonl(path)) == [{"a": 1}]
    assert f"{path}:2: skipped a broken line" in caplog.text


def test_write_jsonl_rewrites_atomically_or_appends(tmp_path):
    path = tmp_path / "out.jsonl"
    assert write_jsonl(path, [{"t": "政务公开"}]) == 1
    assert write_jsonl(path, [{"n": 2}], append=True) == 1
    assert path.read_text(encoding="utf-8") == '{"t": "政务公开"}\n{"n": 2}\n'
    assert write_jsonl(path, [{"n": 3}]) == 1 and list(read_jsonl(path)) == [{"n": 3}]
    assert not (tmp_path / "out.jsonl.tmp").exists()


def test_document_takes_over_the_nlp_fields_of_a_classified_record():
    crawled = Document(url="https://a.invalid/1", title="关于开展检查的通知", body="正文")
    assert not has_nlp(crawled.to_dict())
    classified = Document(url="https://a.invalid/1", title="changed", topics=[TopicScore("3.1", 0.8)],
                          kind="notice", agencies=["北京市生态环境局"], sentiment="neutral", sentiment_score=0.1, interprets=None)
    nlp = classified.nlp_fields()
    assert set(nlp) == set(NLP_FIELDS) and nlp["topics"] == [{"id": "3.1", "score": 0.8}]

    merged = Document.from_dict(crawled.to_dict()).merge_nlp(nlp)
    assert merged.title == "关于开展检查的通知" and merged.topics == [TopicScore("3.1", 0.8)]
    assert merged.to_dict() == {**crawled.to_dict(), **nlp}
    assert Document.from_dict(crawled.to_dict()).merge_nlp(classified).to_dict() == merged.to_dict()
    assert has_nlp(merged.to_dict())

    partial = Document.from_dict(merged.to_dict()).merge_nlp({"kind": "policy", "title": "ignored"})
    assert (partial.kind, partial.topics, partial.title) == ("policy", merged.topics, merged.title)


def test_read_jsonl_numbered_gives_each_object_its_line(tmp_path):
    from zwgk.jsonl import count_rows, read_jsonl_numbered

    path = tmp_path / "rows.jsonl"
    path.write_text('{"a": 1}\n\nnot json\n{"b": 2}\n', encoding="utf-8")
    bad = []
    assert list(read_jsonl_numbered(path, bad.append)) == [(1, {"a": 1}), (4, {"b": 2})]
    assert [b.lineno for b in bad] == [3] and count_rows(path) == 3 and count_rows(tmp_path / "none") == 0


def test_a_record_from_before_the_tone_label_keeps_its_score():
    """Before 2026-12 `sentiment` held the lexicon's number; it is read as `sentiment_score`, the label empty."""
    old = {"url": "https://a.invalid/2", "source_type": "news", "sentiment": 0.42}
    doc = Document.from_dict(old)
    assert (doc.sentiment, doc.sentiment_score) == (None, 0.42)
    assert Document.from_dict(doc.to_dict()).to_dict() == doc.to_dict()
    labelled = Document.from_dict({**old, "sentiment": "negative", "sentiment_score": 0.42})
    assert (labelled.sentiment, labelled.sentiment_score) == ("negative", 0.42)
