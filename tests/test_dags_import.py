"""The DAG folder parses cleanly, light at import, with the schedules, retries and params the issue asks for."""

from __future__ import annotations

import subprocess
import sys

import pendulum

DAG_IDS = {"zwgk_pipeline", "zwgk_weekly_alert", "zwgk_timeliness", "zwgk_watchlists", "zwgk_spikes"}
SHANGHAI = "Asia/Shanghai"


def _bag():
    from airflow.dag_processing.dagbag import DagBag

    from pipeline.airflow_home import DAGS_FOLDER

    return DagBag(dag_folder=str(DAGS_FOLDER))


def test_dagbag_has_every_dag_without_import_errors(airflow_home):
    bag = _bag()
    assert bag.import_errors == {}
    assert DAG_IDS <= set(bag.dag_ids)
    for dag_id in DAG_IDS:
        dag = bag.get_dag(dag_id)
        assert dag.catchup is False
        assert dag.max_active_runs == 1
        for task in dag.tasks:
            assert task.retries >= 1, (dag_id, task.task_id)


def test_pipeline_is_crawl_classify_index_events_measure(airflow_home):
    dag = _bag().get_dag("zwgk_pipeline")
    order = [t.task_id for t in dag.topological_sort()]
    assert order[:4] == ["shards", "shard.crawl", "shard.classify", "shard.index"]
    assert sorted(order[4:]) == ["events", "measure"]
    from pipeline import steps

    # one sequence: the DAG's tasks are the steps, the per-shard ones in the group mapped over the shards
    assert set(order[1:]) == {f"shard.{s.name}" if s.per_shard else s.name for s in steps.STEPS}
    upstream = {t.task_id: t.upstream_task_ids for t in dag.tasks}
    assert "shard.crawl" in upstream["shard.classify"] and "shard.classify" in upstream["shard.index"]
    # the steps done once wait for every shard and nothing else: two workers run them side by side
    assert all(not s.needs for s in steps.run_steps())
    assert upstream["events"] == upstream["measure"] == {"shard.index"}
    from airflow.sdk.definitions.taskgroup import MappedTaskGroup

    assert isinstance(dag.task_group.get_child_by_label("shard"), MappedTaskGroup)
    assert set(dag.params) == {"sites", "site_ids", "base_url", "as_of"}


def _next_fire(dag, after: pendulum.DateTime) -> pendulum.DateTime:
    """The first run after `after` (catchup=True here so the answer does not depend on today's date)."""
    from airflow.serialization.encoders import coerce_to_core_timetable
    from airflow.timetables.base import DataInterval, TimeRestriction

    last = DataInterval(after, after)
    info = coerce_to_core_timetable(dag.timetable).next_dagrun_info(
        last_automated_data_interval=last, restriction=TimeRestriction(earliest=None, latest=None, catchup=True)
    )
    return info.run_after.in_timezone(SHANGHAI)


def test_weekly_alert_fires_monday_0900_shanghai(airflow_home):
    dag = _bag().get_dag("zwgk_weekly_alert")
    # from a Wednesday evening in Shanghai the next run is the coming Monday 09:00 Shanghai (01:00 UTC)
    fire = _next_fire(dag, pendulum.datetime(2026, 11, 25, 20, 0, tz=SHANGHAI))
    assert (fire.date().isoformat(), fire.hour, fire.minute, fire.weekday()) == ("2026-11-30", 9, 0, 0)
    order = [t.task_id for t in dag.topological_sort()]
    assert order[-1] == "weekly_alert" and set(order) == {"freshness", "timeliness", "weekly_alert"}


def test_daily_dags_fire_daily_and_pipeline_schedule_is_configurable(airflow_home, monkeypatch):
    bag = _bag()
    start = pendulum.datetime(2026, 11, 25, 12, 0, tz=SHANGHAI)
    assert _next_fire(bag.get_dag("zwgk_timeliness"), start).isoformat() == "2026-11-26T08:00:00+08:00"
    assert _next_fire(bag.get_dag("zwgk_watchlists"), start).isoformat() == "2026-11-26T08:30:00+08:00"
    assert _next_fire(bag.get_dag("zwgk_spikes"), start).isoformat() == "2026-11-26T08:45:00+08:00"
    assert _next_fire(bag.get_dag("zwgk_pipeline"), start).isoformat() == "2026-11-25T13:00:00+08:00"

    monkeypatch.setenv("ZWGK_PIPELINE_SCHEDULE", "15 6 * * *")
    assert _next_fire(_bag().get_dag("zwgk_pipeline"), start).isoformat() == "2026-11-26T06:15:00+08:00"
    monkeypatch.setenv("ZWGK_PIPELINE_SCHEDULE", "none")
    from airflow.sdk.definitions.timetables.simple import NullTimetable

    assert isinstance(_bag().get_dag("zwgk_pipeline").timetable, NullTimetable)


def test_dag_files_import_nothing_heavy():
    """Parsing the DAGs (the scheduler does it every 30 s) must not load ES, Scrapy, torch or pandas."""
    code = (
        "import sys, dags.zwgk_pipeline, dags.zwgk_weekly_alert, dags.zwgk_timeliness, dags.zwgk_watchlists, dags.zwgk_spikes\n"
        "heavy = [m for m in ('torch', 'transformers', 'scrapy', 'elasticsearch', 'pandas', 'jieba', 'measures',"
        " 'alerts', 'nlp', 'crawlers', 'index') if m in sys.modules]\n"
        "print(heavy); sys.exit(1 if heavy else 0)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr[-2000:]


def test_ensure_airflow_migrates_once(airflow_home, monkeypatch):
    from airflow.utils import db

    from pipeline.airflow_home import MIGRATED_STAMP, ensure_airflow

    assert (airflow_home / MIGRATED_STAMP).exists()
    calls = []
    real_upgradedb = db.upgradedb

    def counting_upgradedb(*args, **kwargs):  # a spy: the real migration still runs
        calls.append(1)
        return real_upgradedb(*args, **kwargs)

    monkeypatch.setattr(db, "upgradedb", counting_upgradedb)
    assert ensure_airflow() == airflow_home
    assert calls == []  # the stamp says this Airflow version already migrated this DB
    (airflow_home / MIGRATED_STAMP).write_text("0.0|elsewhere")
    assert ensure_airflow() == airflow_home
    assert calls == [1]  # another version or DB: migrate again
