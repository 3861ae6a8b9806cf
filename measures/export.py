"""Report files: table / JSON / CSV / Excel for one report, and the weekly HTML + Excel with both."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from measures.digest import NOT_JUDGED
from measures.freshness import FreshnessReport
from measures.timeliness import TimelinessReport
from zwgk import labels
from zwgk.tables import records

FORMATS = ("table", "json", "csv", "xlsx")


def _flat(frame: pd.DataFrame) -> pd.DataFrame:
    """Lists and dicts as text, dates as ISO strings: what CSV and Excel cells can hold."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object:
            out[col] = out[col].map(lambda v: json.dumps(v, ensure_ascii=False, default=str) if isinstance(v, (list, dict))
                                    else (v.isoformat() if hasattr(v, "isoformat") else v))
    return out


# id column → (its Chinese column, how to label a value): spreadsheets carry both, ids for filters, words for people
LABELLED = {"rule": ("规则名称", labels.rule_label), "status": ("结果", labels.status_label),
            "note": ("说明", labels.note_label), "agency": ("单位", labels.agency_label),
            "failing_rules": ("未达标指标", lambda v: "、".join(labels.rule_label(r) for r in str(v or "").split(", ") if r))}


def labelled(frame: pd.DataFrame) -> pd.DataFrame:
    """The table with a Chinese column after each id column (rule, status, note, agency, failing_rules)."""
    out = frame.copy()
    for column, (name, label) in LABELLED.items():
        if column in out.columns and name not in out.columns:
            out.insert(out.columns.get_loc(column) + 1, name, [label(v) if isinstance(v, str) else v for v in out[column]])
    return out


def sheets(report: FreshnessReport | TimelinessReport) -> dict[str, pd.DataFrame]:
    """The report's tables by sheet name, with the vocabulary's labels beside the ids."""
    if isinstance(report, FreshnessReport):
        return {"sites": labelled(report.sites), "columns": report.columns, "weekly": report.weekly}
    return {"timeliness": labelled(report.table), "evidence": labelled(report.items)}


def render(report: FreshnessReport | TimelinessReport, fmt: str, out: str | Path | None = None) -> str | None:
    """Write (or return, for table/json/csv without --out) the report in one format."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    if fmt == "xlsx":
        if not out:
            raise ValueError("--format xlsx needs --out FILE")
        write_excel(sheets(report), out)
        return None
    if fmt == "json":
        text = report.to_json()
    elif fmt == "csv":
        text = _flat(report.table).to_csv(index=False)
    else:
        with pd.option_context("display.max_rows", 500, "display.max_columns", 40, "display.width", 200):
            shown = report.table.drop(columns=["obligation"], errors="ignore")  # the sentence is in json/csv
            text = _flat(shown).to_string(index=False) if len(shown) else "(no rows)"
    if out:
        Path(out).write_text(text + ("\n" if not text.endswith("\n") else ""), encoding="utf-8")
        return None
    return text


def write_excel(tables: dict[str, pd.DataFrame], path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, frame in tables.items():
            _flat(frame).to_excel(writer, sheet_name=name[:31], index=False)
            sheet = writer.sheets[name[:31]]
            sheet.freeze_panes = "A2"
            for col in sheet.columns:  # readable widths, capped
                width = max((len(str(c.value)) for c in col[:200] if c.value is not None), default=8)
                sheet.column_dimensions[col[0].column_letter].width = min(60, max(8, width + 2))
    return path


def digest_sheets(digest: dict[str, Any]) -> dict[str, pd.DataFrame]:
    """The 通报's tables as sheets, in the staff's words (the same columns and rows as the .docx)."""
    from measures.circular import TABLES

    return {title: pd.DataFrame([[str(n)] + [c.text(r) for c in cols] for n, r in enumerate(digest[key], 1)],
                                columns=["序号", *(c.header for c in cols)])
            for title, key, cols in TABLES}


def _label_filters() -> dict[str, Any]:
    """Jinja filters naming rules, statuses and notes as zwgk.labels does everywhere else."""
    return {"rule_label": labels.rule_label, "status_label": labels.status_label, "note_label": labels.note_label,
            "finding": lambda rule, value=None: labels.finding(rule, value), "agency_label": labels.agency_label}


def write_weekly(fresh: FreshnessReport, timely: TimelinessReport, out_dir: str | Path,
                 previous: tuple[Any, Any] | None = None, digest: dict[str, Any] | None = None) -> dict[str, Path]:
    """weekly-<week>.html, .xlsx (the 通报's tables first, then the reports' own) and the 通报 .docx."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    from measures.circular import write_circular
    from measures.digest import weekly_digest

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    digest = digest or weekly_digest(fresh, timely, previous)
    env = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=select_autoescape(["html"]))
    env.filters.update(_label_filters())
    context: dict[str, Any] = {
        "fresh": fresh.to_dict(), "week": fresh.week, "as_of": fresh.as_of, "digest": digest,
        "stale": records(_flat(fresh.stale_columns())) if len(fresh.columns) else [],
        "newly": [{"site_id": s, "rule": r.rule} for s, r in fresh.newly_failing()],
        "timely": [t for t in records(_flat(timely.table)) if t["status"] not in NOT_JUDGED],
        "overdue": timely.overdue(),
    }
    html_path = out / f"weekly-{fresh.week.label}.html"
    html_path.write_text(env.get_template("weekly.html").render(**context), encoding="utf-8")
    xlsx_path = write_excel({**digest_sheets(digest), **{f"freshness_{k}": v for k, v in sheets(fresh).items()},
                             **{f"timeliness_{k}" if k != "timeliness" else k: v for k, v in sheets(timely).items()}},
                            out / f"weekly-{fresh.week.label}.xlsx")
    docx_path = write_circular(digest, out / f"tongbao-{fresh.week.label}.docx")
    return {"html": html_path, "xlsx": xlsx_path, "docx": docx_path}
