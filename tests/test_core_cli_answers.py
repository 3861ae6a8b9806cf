"""Issue 14: every `zwgk` command answers bad paths, dates, amounts and closed pipes with one line on stderr and
a non-zero exit (2 for usage errors), never a traceback; no command writes over its own input; relative paths
mean the caller's working directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from zwgk.cli import main
from zwgk.document import Document

REPO = Path(__file__).resolve().parent.parent
CALENDAR_ENDS = ("0001-01-01", "9999-12-31")


def _answers(capsys, argv: list[str], words: str, code: int = 2) -> None:
    """`zwgk argv` exits `code` with one stderr line containing `words`."""
    try:
        rc = main(argv)
    except SystemExit as exc:  # argparse's own usage errors
        rc = exc.code
    err = capsys.readouterr().err.strip()
    assert rc == code, (argv, rc, err)
    assert len(err.splitlines()) == 1 and words in err and "Traceback" not in err, (argv, err)


def _unwritable(tmp_path: Path) -> Path:
    """A place this user cannot write under: a read-only folder, or for root (whom chmod does not stop) a path
    under a file."""
    if os.geteuid() != 0:
        readonly = tmp_path / "ro"
        readonly.mkdir(mode=0o500)
        return readonly / "sub" / "out"
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    return blocker / "out"


def test_index_answers_directories_and_missing_files(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for argv, words in (
        (["--in", str(tmp_path)], "not a file"),
        (["--replay", str(tmp_path)], "not a file"),
        (["--snapshots", str(tmp_path)], "not a file"),
        (["--in", "missing.jsonl"], "missing.jsonl: no such file"),
        (["--replay", str(tmp_path / "gone.jsonl")], "no such file"),
    ):
        _answers(capsys, ["index", *argv], words)


def test_index_reads_a_relative_path_from_the_callers_directory(es, es_prefix, tmp_path, monkeypatch):
    monkeypatch.setenv("ZWGK_DEAD_LETTER_DIR", str(tmp_path / "dead"))
    (tmp_path / "docs.jsonl").write_text(Document(url="https://t.invalid/rel", title="标题").to_json() + "\n",
                                         encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["index", "--in", "docs.jsonl"]) == 0
    assert es.count(index=f"{es_prefix}-documents")["count"] == 1


def test_report_answers_calendar_ends_and_unwritable_out(tmp_path, capsys):
    for name in ("freshness", "timeliness", "weekly"):
        out = ["--out", str(tmp_path / "w")] if name == "weekly" else []
        for value in CALENDAR_ENDS:
            _answers(capsys, ["report", name, "--as-of", value, *out], "is outside 1900-01-01")
        _answers(capsys, ["report", name, "--as-of", "23/11/2026", *out], "not a date")
    blocked = _unwritable(tmp_path)
    _answers(capsys, ["report", "freshness", "--format", "csv", "--out", str(blocked / "f.csv")], "cannot write")
    _answers(capsys, ["report", "timeliness", "--format", "xlsx", "--out", str(blocked / "t.xlsx")], "cannot write")
    _answers(capsys, ["report", "freshness", "--out", str(tmp_path)], "is a directory")
    _answers(capsys, ["report", "weekly", "--out", str(blocked)], "cannot write")
    a_file = tmp_path / "a.txt"
    a_file.write_text("keep", encoding="utf-8")
    _answers(capsys, ["report", "weekly", "--out", str(a_file)], "not a directory")
    assert a_file.read_text(encoding="utf-8") == "keep"


def test_alert_weekly_answers_calendar_ends(capsys):
    for value in CALENDAR_ENDS:
        _answers(capsys, ["alert", "weekly", "--as-of", value, "--dry-run"], "is outside")


def test_alert_spikes_answers_calendar_ends(capsys):
    for value in CALENDAR_ENDS:
        _answers(capsys, ["alert", "spikes", "--day", value, "--dry-run"], "is outside")


def test_deadline_answers_calendar_ends_and_out_of_range_amounts(capsys):
    for argv, words in (
        (["9999-12-31", "--workdays", "5"], "outside 1900-01-01"),
        (["0001-01-01", "--workdays", "5"], "outside 1900-01-01"),
        (["9999-12-31T23:00", "--hours", "2"], "outside 1900-01-01"),
        (["2026-09-30", "--workdays", "-5"], "-5 is outside 0"),
        (["2026-09-30", "--days", "-1"], "is outside 0"),
        (["2026-09-30", "--days", "99999999999"], "is outside 0"),
        (["2026-09-30", "--hours", "nan"], "not a finite number"),
        (["2026-09-30", "--hours", "inf"], "not a finite number"),
        (["2026-09-30", "--hours=-inf"], "not a finite number"),
        (["2026-09-30", "--hours", "1e300"], "is outside 0"),
        (["2026-09-30", "--workdays", "3.5"], "not a whole number"),
        (["30/09/2026", "--workdays", "3"], "not a date"),
    ):
        _answers(capsys, ["deadline", *argv], words)
    assert main(["deadline", "2999-12-31", "--days", "3660"]) == 0  # the range's end still computes
    assert "due 3010-01-08" in capsys.readouterr().out


def test_crawl_answers_bad_paths_and_writes_relative_out_in_the_callers_directory(demo_web, tmp_path, capsys,
                                                                                   monkeypatch):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    _answers(capsys, ["crawl", "--sites", "missing.yaml"], "missing.yaml: no such file")
    _answers(capsys, ["crawl", "--out", str(_unwritable(tmp_path))], "cannot write")
    _answers(capsys, ["crawl", "--sites", "."], ".: not a file")
    argv = ["crawl", "--url", f"{demo_web}/mzj/hdhy/index.html", "--agency", "市民政局", "--out", "rel/mzj.jsonl",
            "--state-dir", "state", "-s", "AUTOTHROTTLE_START_DELAY=0.02"]
    assert main(argv) == 0
    assert len((elsewhere / "rel" / "mzj.jsonl").read_text(encoding="utf-8").splitlines()) == 2
    assert (elsewhere / "state" / "crawl-state.sqlite").is_file()
    assert not (REPO / "rel").exists() and not (REPO / "state").exists()


def test_an_unexpected_error_is_one_line_and_the_traceback_is_for_verbose(capsys, monkeypatch):
    import zwgk.plans

    monkeypatch.setattr(zwgk.plans, "load_plans", lambda paths=None: (_ for _ in ()).throw(RuntimeError("boom\nline 2")))
    _answers(capsys, ["topics"], "RuntimeError: boom line 2 (-v shows the traceback)", code=1)
    with pytest.raises(RuntimeError):
        main(["-v", "topics"])


@pytest.mark.parametrize("argv", [["es", "status"], ["topics", "--text"], ["--help"]])
def test_a_closed_stdout_pipe_ends_quietly(es, argv):
    """`zwgk es status | head`: the reader is gone before the first write."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "zwgk.cli", *argv], cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) in (0, 141), err
    assert "Traceback" not in err and "BrokenPipe" not in err, err


@pytest.mark.parametrize(("argv", "words"), [
    (["nlp", "eval", "--gold", "."], ".: not a file"),
    (["nlp", "eval", "--gold", "gold.jsonl", "--plan", "missing.txt"], "missing.txt: no such file"),
    (["classify", "--in", "a.jsonl", "--out", "b.jsonl", "--batch-size", "0"], "0 is outside 1"),
    (["run", "--as-of", "9999-12-31"], "is outside"),
    (["run", "--sites", "missing.yaml"], "missing.yaml: no such file"),
    (["demo", "--no-serve", "--as-of", "0001-01-01"], "is outside"),
    (["demo", "--no-serve", "--port", "70000"], "70000 is outside 1"),
    (["dashboard", "--port", "-1"], "-1 is outside 1"),
    (["dashboard", "--port", "0"], "0 is outside 1"),
    (["search", "x", "--size", "1000"], "page size"),
    (["plan", "check", "."], "cannot read"),
])
def test_other_commands_answer_bad_input_before_any_work(argv, words, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _answers(capsys, argv, words, code=1 if argv[0] == "plan" else 2)
