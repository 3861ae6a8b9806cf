"""Measures computed once, read everywhere: reports stored in the real Elasticsearch, read back whole by the
alert, the dashboard and `zwgk report`, recomputed only when nothing usable is stored."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest

from alerts.weekly import build_weekly_alert
from measures import stored
from measures.digest import weekly_digest
from tests.fixtures.measures import index_records
from tests.fixtures.weekly import index_known_week
from tests.test_measures_freshness import AS_OF, _fresh_site
from zwgk.jsonable import jsonable


def _as_json(report) -> dict:
    """A report as its JSON says it (a computed report's missing evidence is NaN, a stored one's None)."""
    return jsonable(report.to_dict())


@pytest.fixture
def measured(es, es_prefix):
    """Freshness and timeliness data with known answers, indexed; both reports computed and stored."""
    index_known_week(es)
    fresh, fresh_id = stored.compute_and_save(es, "freshness", AS_OF)
    timely, timely_id = stored.compute_and_save(es, "timeliness", AS_OF)
    assert (fresh_id, timely_id) == ("freshness:2026-W47", "timeliness:2026-11-23")
    return fresh, timely


def _wipe_documents_and_snapshots(es) -> None:
    """Take the measured data away, so a report recomputed now differs from the stored one."""
    from index import schema

    for kind in ("documents", "snapshots"):  # this distribution has no delete-by-query: drop and recreate
        es.indices.delete(index=schema.current_index(es, kind))
    schema.ensure_indices(es, ("documents", "snapshots"))


def test_a_stored_report_reads_back_whole(es, measured):
    fresh, timely = measured
    back = stored.load(es, "freshness", AS_OF)
    for name in ("sites", "columns", "weekly"):
        pd.testing.assert_frame_equal(getattr(back, name), getattr(fresh, name))
    assert _as_json(back) == _as_json(fresh) and back.week == fresh.week
    assert back.failing() and [(s, r.rule) for s, r in back.newly_failing()] == \
        [(s, r.rule) for s, r in fresh.newly_failing()]
    back_t = stored.load(es, "timeliness", AS_OF)
    assert back_t.to_dict() == timely.to_dict() and back_t.overdue() == timely.overdue() and back_t.overdue()
    pd.testing.assert_frame_equal(back_t.table, timely.table)
    # the alert built from the stored reports says exactly what the one built from computed reports says
    assert build_weekly_alert(weekly_digest(back, back_t)).to_dict() == build_weekly_alert(weekly_digest(fresh, timely)).to_dict()


def test_a_report_too_big_for_one_document_is_stored_in_parts(es, es_prefix, monkeypatch):
    """Above PART_CHARS the body is packed into part documents (a nation-sized freshness report is 354 MB of
    JSON, which Elasticsearch refuses as one document); it reads back whole, and a record whose parts come
    from another save is not used."""
    from zwgk.es import alias

    index_known_week(es)
    monkeypatch.setattr(stored, "PART_CHARS", 500)
    fresh, doc_id = stored.compute_and_save(es, "freshness", AS_OF)
    record = es.get(index=alias("reports"), id=doc_id)["_source"]
    assert record["parts"] > 1 and "body" not in record
    back = stored.load(es, "freshness", AS_OF)
    pd.testing.assert_frame_equal(back.columns, fresh.columns)
    assert _as_json(back) == _as_json(fresh)
    # a damaged part with the right token: not unpackable, so not used (the reader computes)
    es.index(index=alias("reports"), id=f"{doc_id}#part0", refresh="wait_for",
             document={"part_of": doc_id, "part": 0, "token": record["token"], "chunk": "!!not base64!!"})
    assert stored.stored_record(es, "freshness", AS_OF) is None
    # a save cut off after its parts: the record still names the earlier save's token
    es.index(index=alias("reports"), id=f"{doc_id}#part0", refresh="wait_for",
             document={"part_of": doc_id, "part": 0, "token": "another-save", "chunk": "x"})
    assert stored.stored_record(es, "freshness", AS_OF) is None and stored.load(es, "freshness", AS_OF) is None


def test_readers_take_the_stored_report_not_a_recomputed_one(es, measured):
    from dashboards import reports as dashboard_reports
    from pipeline.alerting import weekly_reports

    fresh, timely = measured
    _wipe_documents_and_snapshots(es)
    assert len(stored.MEASURES["freshness"].compute(es, AS_OF).sites) == 0  # recomputing would lose every site
    alert_fresh, alert_timely = weekly_reports(es, AS_OF)
    assert _as_json(alert_fresh) == _as_json(fresh) and alert_timely.to_dict() == timely.to_dict()
    dashboard_reports.clear()
    assert _as_json(dashboard_reports.freshness(es, AS_OF)) == _as_json(fresh)
    assert dashboard_reports.timeliness(es, AS_OF).to_dict() == timely.to_dict()


def test_freshness_is_stored_per_week_and_timeliness_per_day(es, measured):
    fresh, _ = measured
    saturday = AS_OF + timedelta(days=5)  # 2026-11-28: the same last complete week (W47)
    same_week = stored.load(es, "freshness", saturday)
    assert same_week is not None and same_week.as_of == saturday
    assert _as_json(same_week) | {"as_of": None} == _as_json(fresh) | {"as_of": None}
    assert stored.load(es, "freshness", AS_OF + timedelta(days=7)) is None  # the next week: not measured
    assert stored.load(es, "timeliness", AS_OF + timedelta(days=1)) is None  # a day later counts differently


def test_without_a_stored_report_readers_compute(es, es_prefix):
    index_records(es, *_fresh_site())
    day = date(2026, 11, 23)
    assert stored.load(es, "freshness", day) is None
    report = stored.read(es, "freshness", day)
    assert set(report.sites.site_id) == {"fresh"}
    assert stored.stored_record(es, "freshness", day) is None  # reading stores nothing: the measure step does


def test_a_report_measured_under_other_rules_is_not_used(es, measured, tmp_path, monkeypatch):
    from zwgk import settings

    rules = settings.rules_path().read_text(encoding="utf-8")
    changed = tmp_path / "rules.yaml"
    changed.write_text(rules.replace("weeks_shown: 8", "weeks_shown: 5", 1), encoding="utf-8")
    assert changed.read_text(encoding="utf-8") != rules
    monkeypatch.setenv("ZWGK_RULES", str(changed))
    assert stored.load(es, "freshness", AS_OF) is None  # thresholds changed: the stored figures no longer hold
    assert stored.load(es, "timeliness", AS_OF) is not None  # its own section and plan did not change
    monkeypatch.delenv("ZWGK_RULES")
    assert stored.load(es, "freshness", AS_OF) is not None


def test_the_report_cli_prints_the_stored_figures(es, measured, capsys):
    from measures.cli import _build

    fresh, _ = measured
    _wipe_documents_and_snapshots(es)
    assert _as_json(_build("freshness", es, AS_OF)) == _as_json(fresh)


def test_unknown_report_names_are_refused(es):
    with pytest.raises(ValueError, match="unknown report"):
        stored.load(es, "budget", AS_OF)


def test_tables_convert_a_column_at_a_time_with_the_values_pandas_gives():
    """records() and frame_to_stored() build rows from whole columns (a nation's column table has 294,000 rows);
    they must give what pandas' own per-cell conversion gives: numpy ints and NaN, nullable NA, dates, NaT."""
    from measures.stored import frame_from_stored, frame_to_stored
    from zwgk.tables import records

    frame = pd.DataFrame({
        "site_id": ["a", None], "checks": [3, 0], "share": [0.5, float("nan")], "stale": [True, False],
        "items": pd.array([12, None], dtype="Int64"), "last_update": [date(2026, 11, 20), None],
        "crawled": pd.to_datetime(["2026-11-20T08:00:00", None]),
    })
    assert repr(records(frame)) == repr(frame.to_dict("records"))
    assert records(pd.DataFrame(index=[0, 1])) == [{}, {}]
    stored_frame = frame_to_stored(frame)
    assert stored_frame["rows"] == jsonable([list(row) for row in frame.itertuples(index=False, name=None)])
    assert stored_frame["rows"][1] == [None, 0, None, False, None, None, None]
    back = frame_from_stored(stored_frame)
    assert back["last_update"].tolist() == [date(2026, 11, 20), None] and back["checks"].tolist() == [3, 0]
