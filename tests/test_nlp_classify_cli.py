"""`zwgk classify` round trip on a JSON-lines file; bad lines are kept with their line number."""

from __future__ import annotations

import json

from zwgk.cli import main
from zwgk.document import Document


def test_classify_cli_round_trip(classifier, tmp_path):
    good = [
        Document(url="https://t.invalid/1", title="市民政局公开城乡低保对象情况", body="本月低保对象人数及资金支出。",
                 column_type="通知公告", agency="市民政局"),
        Document(url="https://t.invalid/2", title="《北京市临时救助实施办法》解读", body="一、出台背景。",
                 column_type="政策解读"),
        Document(url="https://t.invalid/3", title="北京国安2比1战胜上海申花", body="中超联赛第28轮。",
                 source_type="news"),
    ]
    src = tmp_path / "documents.jsonl"
    lines = [good[0].to_json(), "{not json", good[1].to_json(), "", json.dumps({"title": "no url"}),
             good[2].to_json()]
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "classified.jsonl"

    rc = main(["classify", "--in", str(src), "--out", str(out)])

    assert rc == 1  # some lines were bad
    docs = [Document.from_dict(json.loads(line)) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [d.url for d in docs] == [d.url for d in good]
    assert docs[0].kind == "notice" and docs[0].topics[0].id == "3.2"
    assert docs[0].agencies == ["北京市民政局"]
    assert docs[1].kind == "interpretation" and docs[1].interprets == "《北京市临时救助实施办法》"
    assert docs[2].topics == [] and docs[2].sentiment is not None and docs[2].sentiment_score is not None
    errors = [json.loads(line) for line in (tmp_path / "classified.jsonl.errors.jsonl").read_text().splitlines()]
    assert [e["line"] for e in errors] == [2, 5]
    assert errors[0]["raw"] == "{not json"


def test_classify_cli_clean_file_has_no_errors_file(classifier, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(Document(url="https://t.invalid/9", title="本周网站更新情况").to_json() + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert main(["classify", "--in", str(src), "--out", str(out)]) == 0
    assert len(out.read_text().splitlines()) == 1
    assert not (tmp_path / "out.jsonl.errors.jsonl").exists()


def test_classifier_version_is_stable_and_tracks_settings(monkeypatch):
    from nlp.classify import classifier_version

    first = classifier_version()
    assert first == classifier_version() and len(first) == 16
    monkeypatch.setenv("ZWGK_EMBED_MAX_TOKENS", "32")
    assert classifier_version() != first


def test_classify_cli_answers_bad_paths_in_one_line_before_loading_the_model(tmp_path, capsys, monkeypatch):
    """Missing input, a directory, its own input as --out, an unwritable place: one line, exit 2, and
    the input is never truncated (the model is not even loaded: load_classifier would fail here)."""
    import nlp.classify

    monkeypatch.setattr(nlp.classify, "load_classifier", lambda: (_ for _ in ()).throw(AssertionError("loaded")))
    src = tmp_path / "docs.jsonl"
    src.write_text(Document(url="https://t.invalid/1", title="标题").to_json() + "\n", encoding="utf-8")
    before = src.read_bytes()
    readonly = tmp_path / "ro"
    readonly.mkdir(mode=0o500)
    cases = [
        (["--in", str(tmp_path / "missing.jsonl"), "--out", str(tmp_path / "o.jsonl")], "no such file"),
        (["--in", str(tmp_path), "--out", str(tmp_path / "o.jsonl")], "not a file"),
        (["--in", str(src), "--out", str(tmp_path)], "is a directory"),
        (["--in", str(src), "--out", str(src)], "is the input file"),
    ]
    import os

    if os.geteuid() != 0:  # root writes anywhere, so the unwritable case only means something for others
        cases.append((["--in", str(src), "--out", str(readonly / "sub" / "o.jsonl")], "cannot write"))
    for argv, words in cases:
        assert main(["classify", *argv]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and words in err and "Traceback" not in err, err
    assert src.read_bytes() == before
