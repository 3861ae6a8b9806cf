"""`zwgk plan check FILE [--json]`: what a plan file parses to, and a one-line error for what is not a plan."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from zwgk.cli import main

PLANS = Path(__file__).parent / "fixtures" / "plans"


def test_check_reports_topics_clauses_duties_and_skipped_lines(capsys):
    assert main(["plan", "check", str(PLANS / "madeup-stray.txt")]) == 0
    out = capsys.readouterr().out
    assert "topics: 6 (level 1: 2, level 2: 4), 4 leaves" in out
    assert "agency clauses read: 4 (0 on their own lines)" in out
    assert "bracketed text that reads like a clause: 4, read as clauses: 4 (100%)" in out
    assert "deadline penalty_disclosure 1" in out and "due publish 1" in out
    assert "due 2031-12-31 (2031年12月底前): 2.1 → 县发展改革局" in out
    assert "县城管执法局" in out.split("does not know")[1].split("\n")[0]
    assert "line 12: page number — - 2 -" in out
    assert "line 19: attachment list (附件)" in out
    assert "line 1: stray characters '??' removed at the start" in out


def test_check_json(capsys):
    assert main(["plan", "check", str(PLANS / "beijing-tasks-2016-2020.txt"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["topics"] == 4 and report["topics_per_level"] == {"1": 1, "2": 3}
    assert report["clauses"]["read"] == 3 and report["clauses"]["on_own_lines"] == 3
    assert [d["due_on"] for d in report["due"]] == ["2018-12-31", "2018-12-31", "2017-12-31"]
    assert report["due"][1]["ongoing"] is True
    assert report["unresolved_agencies"] == ["市人大常委会法制办"]
    assert {s["reason"] for s in report["skipped"]} >= {"web page furniture"}
    assert report["obligations"] == {"due inspection": 1, "due publish": 2}


def test_check_lists_brackets_that_look_like_clauses_but_were_not_read(tmp_path, capsys):
    plan = tmp_path / "plan.txt"
    plan.write_text("一、推进公开\n1.公开财政信息(市财政局负责的部分除外)以便监督。(市财政局负责落实)\n", encoding="utf-8")
    assert main(["plan", "check", str(plan)]) == 0
    out = capsys.readouterr().out
    assert "bracketed text that reads like a clause: 2, read as clauses: 1 (50%)" in out
    assert "not read as a clause: 1.1 (市财政局负责的部分除外)" in out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"  \n\n", "is empty"),
        (b"<!DOCTYPE html><html><body><p>\xe4\xb8\x80\xe3\x80\x81x</p></body></html>", "is an HTML page"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "is a PDF"),
        (b"PK\x03\x04\x14\x00", "is a zip archive"),
        ("Café résumé 1. item".encode("latin-1"), "wrong encoding"),
        ("这是一篇普通的新闻稿。没有编号。".encode(), "no numbered section"),
        (b"\x00\x01\x02binary", "is binary"),
    ],
    ids=["empty", "blank", "html", "pdf", "zip", "latin-1", "no-outline", "binary"],
)
def test_not_a_plan_is_one_clear_line(tmp_path, capsys, content, message):
    path = tmp_path / "input.txt"
    path.write_bytes(content)
    assert main(["plan", "check", str(path)]) == 1
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if " INFO " not in line]
    assert len(lines) == 1 and message in lines[0] and lines[0].startswith("zwgk plan check: "), lines
    assert "Traceback" not in captured.err and captured.out == ""


def test_missing_file_and_directory(tmp_path, capsys):
    assert main(["plan", "check", str(tmp_path / "missing.txt")]) == 1
    assert main(["plan", "check", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "No such file" in err and "Is a directory" in err and "Traceback" not in err


def test_utf16_with_bom_reads(tmp_path, capsys):
    path = tmp_path / "plan.txt"
    path.write_bytes("一、推进公开\n（一）公开财政信息。（市财政局负责落实）\n".encode("utf-16"))
    assert main(["plan", "check", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["clauses"]["read"] == 1
