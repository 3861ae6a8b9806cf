"""The weekly 通报 rendered from the stored reports of a demo-like week and read back with python-docx: every
table row is a row of the digest JSON, no rule id or English status word shows, GB/T 9704 layout; its PDF and
a picture of page 1 land in test-artifacts/ where LibreOffice is installed."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import docx
import pytest

from measures.circular import TABLES, to_pdf, write_circular
from measures.timeliness import NO_EVIDENCE, NOT_EVALUATED
from tests.fixtures.weekly import (  # noqa: F401 - week: the shared fixture
    DASHBOARD,
    assert_circular_is_the_digest,
    circular_text,
    week,
)

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@pytest.fixture(scope="module")
def circular(week, tmp_path_factory):  # noqa: F811 - the fixture imported above
    path = write_circular(json.loads(json.dumps(week.digest)), tmp_path_factory.mktemp("tongbao") / "tongbao.docx")
    return path, docx.Document(str(path))


def test_every_table_row_is_a_row_of_the_digest_in_the_staffs_words(week, circular):  # noqa: F811
    _, document = circular
    assert len([key for _, key, _ in TABLES if week.digest[key]]) >= 5
    rule_ids = {r.rule for rs in week.fresh.rules.values() for r in rs} | {o.rule for o in week.timely.outcomes}
    assert_circular_is_the_digest(document, week.digest, rule_ids)
    text = circular_text(document)
    assert "单项否决" in text and "逾期未办" in text
    assert week.digest["office"] in text and week.digest["recipients"] in text and week.digest["signature"] in text


def test_links_to_the_evidence_and_the_agency_pages(week, circular):  # noqa: F811
    _, document = circular
    targets = {r.target_ref for r in document.part.rels.values() if r.is_external}
    evidence = {e["url"] for r in week.digest["veto"] for e in r["evidence"]}
    assert evidence and evidence <= targets
    assert {r["url"] for r in week.digest["overdue"] if r["url"]} <= targets
    assert any(t.startswith(DASHBOARD + "/agencies?agency=") for t in targets)


def test_layout_of_a_government_circular(circular):  # noqa: F811
    path, document = circular
    section = document.sections[0]
    assert round(section.top_margin.mm) == 37 and round(section.left_margin.mm) == 28
    body = document.element.xml
    for font in ("仿宋_GB2312", "黑体", "方正小标宋简体"):
        assert f'w:eastAsia="{font}"' in body, font
    footer = section.footer._element.xml
    assert 'w:instr="PAGE"' in footer and "— " in section.footer.paragraphs[0].text
    assert document.paragraphs[0].runs[0].font.color.rgb is not None  # the office name in red (版头)


def test_rows_that_cannot_be_judged_are_one_line_per_reason(week):  # noqa: F811
    d = week.digest
    unjudged = [o for o in week.timely.outcomes if o.status in (NOT_EVALUATED, NO_EVIDENCE)]
    assert unjudged and len(d["not_judged"]) < len(unjudged)
    assert len({(r["status"], r["reason"]) for r in d["not_judged"]}) == len(d["not_judged"])
    timely_lines = [r for r in d["not_judged"] if r["status"] in ("暂无法评估", "无可评估材料")]
    assert sum(r["count"] for r in timely_lines) == len({(o.status, o.rule) for o in unjudged})
    # the summary counts only what was judged
    judged = [o for o in week.timely.outcomes if o.status not in (NOT_EVALUATED, NO_EVIDENCE)]
    assert d["summary"]["duties_judged"] == len(judged)
    assert d["summary"]["duties_failing"] == sum(o.status == "fail" for o in judged)
    assert not [r for r in d["veto"] + d["other_failures"] if r["rule"] in {o.rule for o in unjudged}]


def test_a_new_failure_is_newly_failing_and_an_agency_that_got_better_improved(week):  # noqa: F811
    d = week.digest
    assert {r["finding"] for r in d["newly_failing"]} >= {r["finding"] for r in d["veto"] if r["newly_failing"]}
    for r in d["improved"]:
        assert r["after"] < r["before"]


def test_single_veto_rules_are_the_inspection_ones():
    from zwgk.labels import is_single_veto

    assert not is_single_veto("weekly_update")
    assert all(is_single_veto(r) for r in ("stale:home", "stale:动态要闻", "stale_columns", "blank_columns", "unreachable"))
    assert not is_single_veto("interpretation:policy_published@5.1.1")


@pytest.mark.skipif(shutil.which("soffice") is None and shutil.which("libreoffice") is None,
                    reason="LibreOffice not installed (the PDF is optional)")
def test_pdf_and_a_picture_of_it_land_in_test_artifacts(circular):  # noqa: F811
    path, _ = circular
    ARTIFACTS.mkdir(exist_ok=True)
    pdf = to_pdf(shutil.copy(path, ARTIFACTS / "tongbao-2026-W47.docx"), ARTIFACTS)
    assert pdf is not None and pdf.read_bytes().startswith(b"%PDF")
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "4", str(pdf), str(ARTIFACTS / "tongbao-2026-W47")],
                       check=True, timeout=120)
        assert list(ARTIFACTS.glob("tongbao-2026-W47*.png"))
