"""The bundled Beijing 2016 plan parses exactly as it did before the parser learnt other layouts.

The snapshot (tests/fixtures/plans/beijing-2016.snapshot.json) was written by the parser of
commit f9c2196, before any change for issue 12: header, every topic (id, title, level, parent,
agencies, clauses, obligations, text) flat in walk order, the closing requirements and the
unresolved agencies. Fields added since may appear only with their empty default.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from zwgk.plan import parse_plan
from zwgk.settings import PACKAGE_DATA

SNAPSHOT = Path(__file__).parent / "fixtures" / "plans" / "beijing-2016.snapshot.json"
SHARED_COPY = Path(__file__).resolve().parents[2] / "shared" / "plan" / "beijing-2016-zwgk-workplan.txt"  # beside the clone
# keys added after the snapshot, each with the only value an old plan may give it
ADDED = {"due_on": None, "due_text": None, "ongoing": False, "region": "北京市", "skipped": []}


def _flat(plan) -> dict:
    data = plan.to_dict()
    data.pop("topics")
    data["topics"] = [t.to_dict(children=False) for t in plan.walk()]
    return json.loads(json.dumps(data, ensure_ascii=False))


def _same(now, then, where="plan"):
    """Assert now == then, allowing only ADDED keys at their default value."""
    if isinstance(then, dict):
        assert isinstance(now, dict), where
        for key in then:
            assert key in now, f"{where}.{key} is gone"
            _same(now[key], then[key], f"{where}.{key}")
        for key in now.keys() - then.keys():
            assert key in ADDED and now[key] == ADDED[key], f"{where}.{key} = {now[key]!r} is new"
    elif isinstance(then, list):
        assert isinstance(now, list) and len(now) == len(then), f"{where}: {len(now)} items, was {len(then)}"
        for i, (a, b) in enumerate(zip(now, then, strict=True)):
            _same(a, b, f"{where}[{i}]")
    else:
        assert now == then, f"{where}: {now!r}, was {then!r}"


@pytest.mark.parametrize(
    "path",
    [PACKAGE_DATA / "plan" / "beijing-2016-zwgk-workplan.txt", SHARED_COPY],
    ids=["packaged", "shared"],
)
def test_bundled_2016_plan_parses_as_before(path):
    if not path.exists():
        pytest.skip(f"{path} not on this machine")
    then = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    now = _flat(parse_plan(path.read_text(encoding="utf-8")))
    assert [t["id"] for t in now["topics"]] == [t["id"] for t in then["topics"]]
    _same(now, then)
