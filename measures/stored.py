"""Measures computed once, read everywhere: the freshness and timeliness reports stored in Elasticsearch.

The measure step computes each report and stores it (alias `<prefix>-reports`), so every worker, the weekly
alert, the dashboard and `zwgk report` read the same figures. A reader computes only when nothing usable is
stored: an `--as-of` nobody measured, or a report measured under other rules, plan or measure code (each
stored report carries a digest of those inputs and is ignored when it differs).

Keys: freshness depends on the evaluated ISO week only, so it is stored per week (`freshness:2026-W47`);
timeliness counts working days up to the day itself, so it is stored per day (`timeliness:2026-11-23`).
"""

from __future__ import annotations

import base64
import hashlib
import inspect
import json
import logging
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from elasticsearch import Elasticsearch, NotFoundError

from measures import freshness as freshness_module
from measures import timeliness as timeliness_module
from measures.freshness import FreshnessReport, RuleResult, freshness_report
from measures.timeliness import RuleOutcome, TimelinessReport, timeliness_report
from zwgk import rules as rules_config
from zwgk.es import alias
from zwgk.jsonable import jsonable
from zwgk.weeks import Week, last_complete_week, now_iso

log = logging.getLogger(__name__)

Report = FreshnessReport | TimelinessReport
DATE_COLUMN = "date"  # the dtype written for object columns that hold dates (pandas keeps them as objects)


# ---------------------------------------------------------------- tables to JSON and back


def _column_type(frame: pd.DataFrame, column: str) -> str:
    dtype = str(frame[column].dtype)
    if dtype == "object" and any(isinstance(v, date) for v in frame[column].dropna()):
        return DATE_COLUMN
    return dtype


def _json_values(series: pd.Series) -> list[Any]:
    """One column as JSON-safe values, converted a column at a time (a nation's report has millions of cells)."""
    numpy_dtype = isinstance(series.dtype, np.dtype)  # not pandas' nullable ones, whose NA jsonable turns to null
    if numpy_dtype and series.dtype.kind in "biu":  # never missing: numpy gives Python ints and bools
        return series.tolist()
    if numpy_dtype and series.dtype.kind == "f":
        return [None if v != v else v for v in series.tolist()]  # NaN → null
    return [jsonable(v) for v in series.tolist()]


def frame_to_stored(frame: pd.DataFrame) -> dict[str, Any]:
    """A DataFrame as JSON: columns, their dtypes, rows (NaN → null, dates → ISO)."""
    columns = [str(c) for c in frame.columns]
    values = [_json_values(frame.iloc[:, k]) for k in range(len(columns))]
    rows = [list(row) for row in zip(*values, strict=True)] if values else [[] for _ in range(len(frame))]
    return {"columns": columns, "dtypes": [_column_type(frame, c) for c in frame.columns], "rows": rows}


def frame_from_stored(stored: dict[str, Any]) -> pd.DataFrame:
    """The DataFrame frame_to_stored wrote, with the same dtypes."""
    frame = pd.DataFrame(stored["rows"], columns=stored["columns"], dtype=object)
    for column, dtype in zip(stored["columns"], stored["dtypes"], strict=True):
        if dtype == DATE_COLUMN:
            frame[column] = [date.fromisoformat(v) if v else None for v in frame[column]]
        elif dtype != "object":
            frame[column] = frame[column].astype(dtype)
    return frame


# ---------------------------------------------------------------- reports to JSON and back


def _freshness_out(report: FreshnessReport) -> dict[str, Any]:
    return {"as_of": report.as_of.isoformat(), "week_start": report.week.start.isoformat(),
            "sites": frame_to_stored(report.sites), "columns": frame_to_stored(report.columns),
            "weekly": frame_to_stored(report.weekly),
            "rules": {site: [jsonable(r.to_dict()) for r in results] for site, results in report.rules.items()}}


def _freshness_in(body: dict[str, Any]) -> FreshnessReport:
    return FreshnessReport(as_of=date.fromisoformat(body["as_of"]), week=Week(date.fromisoformat(body["week_start"])),
                           sites=frame_from_stored(body["sites"]), columns=frame_from_stored(body["columns"]),
                           weekly=frame_from_stored(body["weekly"]),
                           rules={site: [RuleResult(**r) for r in results] for site, results in body["rules"].items()})


def _timeliness_out(report: TimelinessReport) -> dict[str, Any]:
    return {"as_of": report.as_of.isoformat(), "since": report.since.isoformat(),
            "outcomes": [jsonable(o.to_dict()) for o in report.outcomes]}


def _timeliness_in(body: dict[str, Any]) -> TimelinessReport:
    return TimelinessReport(as_of=date.fromisoformat(body["as_of"]), since=date.fromisoformat(body["since"]),
                            outcomes=[RuleOutcome(**o) for o in body["outcomes"]])


def _plan_inputs() -> str:
    from zwgk.plans import load_plans

    return json.dumps(load_plans().view().to_dict(), ensure_ascii=False, sort_keys=True)


@dataclass(frozen=True)
class Measure:
    """One stored report kind: how it is computed, keyed, written and read back."""

    name: str
    compute: Callable[[Elasticsearch, date], Report]
    module: Any  # its source is part of the inputs digest
    to_stored: Callable[[Report], dict[str, Any]]
    from_stored: Callable[[dict[str, Any]], Report]
    key: Callable[[date], str]
    extra_inputs: Callable[[], str] = lambda: ""

    def doc_id(self, as_of: date) -> str:
        return f"{self.name}:{self.key(as_of)}"

    def inputs_digest(self) -> str:
        """What the figures depend on besides the documents: the rules section, the measure's code, the plan."""
        parts = [json.dumps(rules_config.section(self.name), ensure_ascii=False, sort_keys=True, default=str),
                 inspect.getsource(self.module), self.extra_inputs()]
        return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()[:16]


MEASURES: dict[str, Measure] = {
    "freshness": Measure("freshness", freshness_report, freshness_module, _freshness_out, _freshness_in,
                         key=lambda as_of: last_complete_week(as_of).label),
    "timeliness": Measure("timeliness", timeliness_report, timeliness_module, _timeliness_out, _timeliness_in,
                          key=lambda as_of: as_of.isoformat(), extra_inputs=_plan_inputs),
}


def _measure(name: str) -> Measure:
    if name not in MEASURES:
        raise ValueError(f"unknown report {name!r}; one of {', '.join(MEASURES)}")
    return MEASURES[name]


# ---------------------------------------------------------------- store, load, read


PART_CHARS = 8 * 2**20  # a body above this is stored packed, in parts of this many characters


def save(client: Elasticsearch, name: str, report: Report) -> str:
    """Store a computed report (replacing the one of the same key); its document id.

    A nation-sized report does not fit one document: 294,000 columns make a 354 MB body, which Elasticsearch
    refuses (429, indexing pressure; and 100 MB is its default request limit). A body above PART_CHARS is
    zlib-packed and written as part documents first, then the record naming them with a token, so a reader
    never joins parts of two saves: a save cut off between them leaves a record whose token the parts lack."""
    measure = _measure(name)
    doc_id = measure.doc_id(report.as_of)
    body = json.dumps(measure.to_stored(report), ensure_ascii=False)
    record = {"name": name, "key": measure.key(report.as_of), "as_of": report.as_of.isoformat(),
              "computed_at": now_iso(), "inputs": measure.inputs_digest()}
    if len(body) <= PART_CHARS:
        record["body"] = body
    else:
        packed = base64.b64encode(zlib.compress(body.encode("utf-8"), 6)).decode("ascii")
        token = uuid.uuid4().hex
        chunks = [packed[k:k + PART_CHARS] for k in range(0, len(packed), PART_CHARS)]
        for k, chunk in enumerate(chunks):  # one request each: a bulk of them would meet the same limits
            client.index(index=alias("reports"), id=_part_id(doc_id, k),
                         document={"part_of": doc_id, "part": k, "token": token, "chunk": chunk})
        record.update(packing="zlib+base64", parts=len(chunks), token=token)
        log.info("%s report %s: %.0f MB of JSON stored as %d packed parts", name, doc_id, len(body) / 2**20, len(chunks))
    client.index(index=alias("reports"), id=doc_id, refresh="wait_for", document=record)
    log.info("stored %s report %s", name, doc_id)
    return doc_id


def _part_id(doc_id: str, k: int) -> str:
    return f"{doc_id}#part{k}"


def _unpacked(client: Elasticsearch, doc_id: str, record: dict[str, Any]) -> str | None:
    """The body of a record stored in parts; None when a part is missing or from another save."""
    chunks = []
    for k in range(int(record["parts"])):
        try:
            part = client.get(index=alias("reports"), id=_part_id(doc_id, k)).body["_source"]
        except NotFoundError:
            part = {}
        if part.get("token") != record.get("token"):
            log.warning("stored report %s: part %d is missing or from another save; computing instead", doc_id, k)
            return None
        chunks.append(part.get("chunk") or "")
    try:
        return zlib.decompress(base64.b64decode("".join(chunks))).decode("utf-8")
    except (ValueError, zlib.error) as exc:  # damaged parts (base64, zlib or UTF-8): recompute, as for a missing one
        log.warning("stored report %s: its parts do not unpack (%s); computing instead", doc_id, exc)
        return None


def stored_record(client: Elasticsearch, name: str, as_of: date) -> dict[str, Any] | None:
    """The stored record (name, key, as_of, computed_at, inputs, body: the report's JSON, joined from its parts
    when it was stored packed) or None."""
    doc_id = _measure(name).doc_id(as_of)
    try:
        record = client.get(index=alias("reports"), id=doc_id).body["_source"]
    except NotFoundError:  # no such report, or no reports index yet
        return None
    if record.get("parts"):
        body = _unpacked(client, doc_id, record)
        if body is None:
            return None
        record["body"] = body
    return record


def load(client: Elasticsearch, name: str, as_of: date) -> Report | None:
    """The stored report for as_of, or None when none is stored or it was measured under other inputs."""
    measure = _measure(name)
    record = stored_record(client, name, as_of)
    if record is None:
        return None
    if record.get("inputs") != measure.inputs_digest():
        log.info("stored %s report %s was measured under other rules, plan or code; computing", name,
                 measure.doc_id(as_of))
        return None
    report = measure.from_stored(json.loads(record["body"]))
    # a freshness report stands for its whole week: answer with the date that was asked for
    return replace(report, as_of=as_of) if report.as_of != as_of else report


def compute_and_save(client: Elasticsearch, name: str, as_of: date) -> tuple[Report, str]:
    """The measure step: compute once and store for every reader; (report, stored id)."""
    from zwgk.gcpause import cyclic_gc_paused

    with cyclic_gc_paused():  # hundreds of thousands of columns' rows: see zwgk/gcpause.py
        report = _measure(name).compute(client, as_of)
        return report, save(client, name, report)


def read(client: Elasticsearch, name: str, as_of: date) -> Report:
    """The stored report for as_of; computed (not stored) when there is none."""
    report = load(client, name, as_of)
    if report is None:
        report = _measure(name).compute(client, as_of)
    return report


__all__ = ["MEASURES", "compute_and_save", "frame_from_stored", "frame_to_stored", "load", "read", "save",
           "stored_record"]
