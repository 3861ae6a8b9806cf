"""The crash drill draws each kill within the time its stage really takes (issue 14 item 3)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from bench.crash_drill import Drill


def _drill(**durations: float) -> Drill:
    return Drill(root=Path("."), base_url="", es_port=0, smtp=None, webhook=None, sites="", model="",
                 day=date(2026, 12, 1), durations=durations)


def test_the_window_is_the_reference_time_until_a_kill_misses():
    drill = _drill(classify=300.0, index=8.0)
    assert drill.kill_window("classify") == 300.0
    drill.finished["classify"] = [52.0]
    assert drill.kill_window("classify") == 52.0
    assert drill.kill_window("index") == 8.0  # another stage's misses leave it alone


def test_the_window_follows_the_recent_misses_and_never_grows_past_the_reference():
    drill = _drill(classify=60.0)
    drill.finished["classify"] = [300.0, 300.0, 300.0, 50.0, 40.0, 45.0, 55.0, 48.0]  # the last five count
    assert drill.kill_window("classify") == 48.0
    drill.finished["classify"] = [90.0, 95.0]
    assert drill.kill_window("classify") == 60.0
