"""One vocabulary: the dashboard, the weekly HTML report, the Excel workbook and the 通报 (.docx) show the same
Chinese label for each rule, the one zwgk.labels gives; plan rules are labelled from the plan, for any year's plan."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import docx
import openpyxl
import pytest
from fastapi.testclient import TestClient

from measures.circular import TABLES
from measures.export import write_weekly
from tests.fixtures.weekly import AS_OF, week  # noqa: F401 - shared fixture
from zwgk import labels

JS = Path(__file__).resolve().parent.parent / "dashboards" / "static" / "js"


class _RuleLabels(HTMLParser):
    """rule id → text of every element class="rule-label" data-rule=… in the HTML report."""

    def __init__(self) -> None:
        super().__init__()
        self.found: dict[str, set[str]] = {}
        self._rule: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "rule-label" in (a.get("class") or "").split():
            self._rule = a.get("data-rule")

    def handle_data(self, data):
        if self._rule:
            self.found.setdefault(self._rule, set()).add(data.strip())
            self._rule = None


@pytest.fixture(scope="module")
def shown(es, week, tmp_path_factory):  # noqa: F811
    """rule → labels as each surface shows them."""
    from dashboards import reports
    from dashboards.app import create_app

    reports.clear()
    out = tmp_path_factory.mktemp("weekly")
    files = write_weekly(week.fresh, week.timely, out, week.previous)
    parser = _RuleLabels()
    parser.feed(files["html"].read_text(encoding="utf-8"))
    document = docx.Document(str(files["docx"]))
    in_docx: dict[str, set[str]] = {}
    tables = iter(document.tables)
    for _title, key, _cols in TABLES:
        if not week.digest[key]:
            continue
        table = next(tables)
        headers = [c.text for c in table.rows[0].cells]
        col = next((headers.index(h) for h in ("指标", "职责") if h in headers), None)
        if col is None or "rule" not in week.digest[key][0]:
            continue
        for row, data in zip(table.rows[1:], week.digest[key], strict=True):
            in_docx.setdefault(data["rule"], set()).add(row.cells[col].text)
    in_dashboard: dict[str, set[str]] = {}
    with TestClient(create_app(client=es, auth_token="")) as api:
        t = api.get("/api/timeliness", params={"as_of": AS_OF.isoformat()}).json()
        for r in t["overdue"]:
            in_dashboard.setdefault(r["rule"], set()).add(r["rule_label"])
        o = api.get("/api/overview", params={"as_of": AS_OF.isoformat()}).json()
        for s in o["freshness"]["stale_sites"]:  # the overview lists these with their failing rules
            rules = [r for r in (s["failing_rules"] or "").split(", ") if r]
            for rule, label in zip(rules, (s["failing_rules_label"] or "").split("、") if rules else [], strict=True):
                in_dashboard.setdefault(rule, set()).add(label)
    in_xlsx: dict[str, set[str]] = {}
    sheet = openpyxl.load_workbook(files["xlsx"])["timeliness"]
    header = [c.value for c in sheet[1]]
    for row in sheet.iter_rows(min_row=2, values_only=True):
        in_xlsx.setdefault(row[header.index("rule")], set()).add(row[header.index("规则名称")])
    return {"html": parser.found, "docx": in_docx, "dashboard": in_dashboard, "xlsx": in_xlsx}


def test_one_label_per_rule_on_every_surface(shown):
    for surface, found in shown.items():
        assert found, surface
        for rule, texts in found.items():
            assert texts == {labels.rule_label(rule)}, (surface, rule, texts)
    both = set(shown["html"]) & set(shown["docx"]) & set(shown["dashboard"])
    assert {r for r in both if ":" in r and "@" in r} and {r for r in both if "@" not in r}  # plan and site rules


def test_the_labels_read_as_the_plan_and_the_inspection_rules_say():
    assert labels.rule_label("publish:month@2.3.1") == "按月公开实施信息（2.3.1）"
    assert labels.rule_label("interpretation:policy_published@5.1.1") == "政策文件公开后3个工作日内解读（5.1.1）"
    assert labels.finding("weekly_update", 0) == "本周未更新"
    assert labels.rule_label("stale:动态要闻") == "动态要闻栏目更新间隔不超过14天"
    assert labels.status_label("overdue") == "逾期未办" and labels.status_label("no_evidence") == "无可评估材料"
    assert labels.note_label("3 without a penalty decision date") == "3项未载明处罚决定日期"
    assert labels.note_label("no stated period (定期)") == "规划未明确公开周期（定期）"


def test_another_years_plan_is_labelled_without_editing_the_file(tmp_path):
    from zwgk.plan import load_plan
    from zwgk.settings import PACKAGED_PLAN

    other = tmp_path / "plan-2017.txt"
    other.write_text(PACKAGED_PLAN.read_text(encoding="utf-8").replace("3個工作日內", "5個工作日內"), encoding="utf-8")
    plan = load_plan(other)
    assert labels.rule_label("interpretation:policy_published@5.1.1", plan) == "政策文件公开后5个工作日内解读（5.1.1）"


def test_the_dashboard_scripts_show_the_labels_not_the_ids():
    overview = (JS / "overview.js").read_text(encoding="utf-8")
    assert "failing_rules_label" in overview and not re.search(r'key: "failing_rules"', overview)
    for name in ("agency.js", "timeliness.js"):
        assert "r.rule_label" in (JS / name).read_text(encoding="utf-8"), name
