"""The pipeline's steps as plain functions with files in between, so each step is idempotent and restartable.

`STEPS` is their one order (crawl → classify → index per shard of sites, then events and measure once over
all, independent of each other), and `Run` one run's folder and parameters: the zwgk_pipeline DAG maps the per-shard steps over
`plan_shards` and makes one task for each other step, `zwgk run` and the pipeline benchmark go through `iter_steps`
(shard after shard; the index step takes the classify step's Documents from memory, a `Handoff`, the files
being written all the same). A run works in settings.home()/runs/<run_id>/, each shard in its own folder:

    shards.json                                             ← plan_shards (the sites of each shard, fixed once)
    <shard>/crawl/documents.jsonl, <shard>/crawl/snapshots.jsonl   ← crawl_step (Scrapy in a child process)
    <shard>/classified.jsonl                                ← classify_step (nlp fields filled)
    <shard>/index.json                                      ← index_step (what was indexed, dead letters)
    events.json                                             ← events_step (the run's documents grouped into events)

A step whose output is complete (written atomically, marked done) returns it without redoing the work,
so an Airflow retry or a second `zwgk run --run-id X` picks up where the first stopped. Every return
value is a plain JSON-able dict (Airflow passes it on as an XCom). Shards running at once share only
Elasticsearch, the crawl state (SQLite, which serialises their writes) and the classify cache (appends
under a file lock).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zwgk import settings
from zwgk.document import Document
from zwgk.jsonable import jsonable
from zwgk.jsonl import count_rows, read_jsonl, write_jsonl
from zwgk.weeks import today

if TYPE_CHECKING:
    from index.store import DeadLetters

log = logging.getLogger(__name__)


class StepError(RuntimeError):
    """A step could not finish; the message says what to do (Airflow retries the task)."""


class IndexingIncomplete(StepError):
    """Some documents or snapshots were not indexed; they are in the dead-letter file."""


# --- run directories ------------------------------------------------------------------------------


def runs_dir() -> Path:
    return settings.home() / "runs"


def run_dir(run_id: str) -> Path:
    """settings.home()/runs/<run_id>/ with the run id made safe as a folder name."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", run_id).strip("_") or "run"
    path = runs_dir() / safe
    path.mkdir(parents=True, exist_ok=True)
    return path


def new_run_id(prefix: str = "cli") -> str:
    return f"{prefix}__{datetime.now().strftime('%Y%m%dT%H%M%S%f')}"


def _done_marker(path: Path) -> Path:
    return path.with_name(path.name + ".done")


def _is_done(path: Path, stamp: str = "") -> bool:
    marker = _done_marker(path)
    return path.exists() and marker.exists() and marker.read_text() == stamp


def _mark_done(path: Path, stamp: str = "") -> None:
    _done_marker(path).write_text(stamp)


def parse_as_of(value: str | date | None) -> date:
    """A date from 'YYYY-MM-DD' / a date / None (today in Asia/Shanghai)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if value:
        return date.fromisoformat(str(value)[:10])
    return today()


# --- crawl ----------------------------------------------------------------------------------------


def crawl_state_dir() -> Path:
    """Incremental crawl state shared by every run (what was already fetched, ETags, list fingerprints).

    One per index prefix: the state says what the index already holds, so a fresh prefix crawls in full.
    """
    return settings.home() / "crawl-state" / settings.index_prefix()


def crawl_step(
    run_dir: str | Path,
    sites_path: str | Path,
    site_ids: list[str] | None = None,
    base_url: str | None = None,
    scrapy_settings: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Crawl the sites into <run_dir>/crawl/ (documents.jsonl, snapshots.jsonl); done once per run.

    scrapy_settings override crawlers/settings.py (e.g. {"DOWNLOAD_TIMEOUT": 5}).
    """
    from crawlers.run import crawl

    run = Path(run_dir)
    out = run / "crawl"
    out.mkdir(parents=True, exist_ok=True)
    summary_path = out / "summary.json"
    if _is_done(summary_path):
        return json.loads(summary_path.read_text())
    # an interrupted attempt's records stay in the files: crawl() keeps what its output already holds
    result = crawl(sites_path, site_ids=site_ids or None, out_dir=out, state_dir=crawl_state_dir(), base_url=base_url,
                   settings=scrapy_settings)
    if result.returncode != 0:
        raise StepError(f"the crawl exited with status {result.returncode}; see {result.log_path}")
    summary = {
        "documents": str(result.documents_path),
        "snapshots": str(result.snapshots_path),
        "document_count": count_rows(Path(result.documents_path)),
        "snapshot_count": count_rows(Path(result.snapshots_path)),
        "requests": result.requests,
        "not_modified": result.not_modified,
        "errors": result.errors,
        "log": str(result.log_path) if result.log_path else None,
    }
    summary_path.write_text(json.dumps(summary, ensure_ascii=False, indent=1))
    _mark_done(summary_path)
    log.info("crawl: %d documents, %d column snapshots, %d requests (%d not modified), %d errors",
             summary["document_count"], summary["snapshot_count"], summary["requests"], summary["not_modified"],
             summary["errors"])
    return summary


# --- classify -------------------------------------------------------------------------------------


def classifier_version() -> str:
    """Model, head, settings, labels and plan identity: a document classified under the same version is
    not classified again (the nlp stage owns what goes into it)."""
    from nlp.classify import classifier_version as nlp_version

    return nlp_version()


def _content_key(doc: Document) -> str:
    """Doc id + content hash: an edited page is classified again."""
    h = hashlib.sha1(f"{doc.title}\n{doc.body}\n{doc.column}".encode())
    return f"{doc.id}:{h.hexdigest()[:16]}"


def classify_cache_path(version: str) -> Path:
    path = settings.home() / "classify-cache" / f"{version}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


# A file a step wrote → its records as they stand in memory (a row that is no Document stays a dict). Only
# iter_steps passes one along: there the index step takes the classify step's Documents instead of reading
# classified.jsonl back and parsing it again. The file is written all the same (an Airflow task, a retry or a
# later `zwgk run --run-id` reads it).
Handoff = dict[Path, list[Document | dict[str, Any]]]


def classify_step(docs_path: str | Path, out_path: str | Path, handoff: Handoff | None = None) -> dict[str, Any]:
    """Classify the crawled documents into out_path, reusing earlier results of the same model+plan version;
    with a handoff, also leave them there for the index step of this process."""
    docs_path, out_path = Path(docs_path), Path(out_path)
    version = classifier_version()
    if _is_done(out_path, version):
        return {"documents": str(out_path), "classified": 0, "reused": None, "version": version, "skipped": True}

    cache_path = classify_cache_path(version)
    cache = {row["key"]: row["nlp"] for row in read_jsonl(cache_path) if "key" in row}
    rows = _read_documents(docs_path)
    docs = [d for d in rows if isinstance(d, Document)]
    todo: list[Document] = []
    for doc in docs:
        key = _content_key(doc)
        if key in cache:
            doc.merge_nlp(cache[key])  # the only merge: a fresh result is already in its Document
        else:
            todo.append(doc)
    if todo:
        _classify_and_cache(todo, cache_path)
        log.info("classify: %d documents classified, %d reused", len(todo), len(docs) - len(todo))

    n = write_jsonl(out_path, (d.to_dict() if isinstance(d, Document) else d for d in rows))
    _mark_done(out_path, version)
    if handoff is not None:
        handoff[out_path] = rows
    return {"documents": str(out_path), "classified": len(todo), "reused": n - len(todo), "version": version}


def _read_documents(path: Path) -> list[Document | dict[str, Any]]:
    """The crawled records, each made a Document once; a record that does not parse passes through as it is
    (the index step dead-letters it)."""
    rows: list[Document | dict[str, Any]] = []
    for row in read_jsonl(path):
        try:
            rows.append(Document.from_dict(row))
        except (TypeError, ValueError) as exc:
            log.warning("%s: a document that does not parse goes on unclassified (%s)", path, exc)
            rows.append(row)
    return rows


def _classify_and_cache(todo: list[Document], cache_path: Path) -> None:
    """Fill the NLP fields of todo in place and append them to the classify cache for later runs."""
    from nlp.classify import load_classifier

    # one call: the classifier links interpretations to policies across the whole batch
    load_classifier().classify(todo)
    rows = [{"key": _content_key(doc), "nlp": doc.nlp_fields()} for doc in todo]
    with _locked(cache_path):  # shards classifying at once append to the same cache: one writer at a time
        write_jsonl(cache_path, rows, append=True)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock on <path>.lock across processes (an Airflow worker's tasks, two workers on one host)."""
    import fcntl

    with path.with_name(path.name + ".lock").open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


# --- index ----------------------------------------------------------------------------------------


def _client():
    from zwgk.es import get_client

    return get_client()


def index_step(docs_path: str | Path, snapshots_path: str | Path, client=None,
               handoff: Handoff | None = None) -> dict[str, Any]:
    """Upsert documents and column snapshots; raise IndexingIncomplete (after dead-lettering) if any failed.

    Upserts by id make a retry safe: Airflow re-runs the whole step and nothing is duplicated. ES going
    down mid-step raises index.store.StoreUnavailable (records in the dead letters), so the task retries.
    A file's records found in the handoff (classify_step of this process) are indexed as they stand in
    memory instead of being read back from the file.
    """
    docs_path, snapshots_path = Path(docs_path), Path(snapshots_path)
    report_path = docs_path.parent / "index.json"
    if _is_done(report_path):
        return json.loads(report_path.read_text())
    from index.schema import ensure_indices
    from index.store import DeadLetters, index_documents, index_snapshots

    client = client or _client()
    ensure_indices(client)
    reports = {}
    for kind, path, index_fn in (("documents", docs_path, index_documents), ("snapshots", snapshots_path, index_snapshots)):
        letters = DeadLetters(kind)  # raises DeadLetterError up front when the directory is not writable
        try:
            reports[kind] = index_fn(client, _records(path, letters, handoff), dead_letters=letters, refresh=True)
        finally:
            letters.close()
    report = {kind: jsonable(rep) for kind, rep in reports.items()}
    report["dead_letters"] = [str(rep.dead_letter_path) for rep in reports.values() if rep.failed]
    for kind, rep in reports.items():
        if rep.failed:
            log.warning("index %s: %s", kind, rep.summary())
    if report["dead_letters"]:
        raise IndexingIncomplete(
            f"{reports['documents'].failed} documents and {reports['snapshots'].failed} snapshots were not indexed "
            f"(kept in {', '.join(report['dead_letters'])}); the task's retry re-indexes them, or "
            "`zwgk index --replay FILE`"
        )
    report_path.write_text(json.dumps(report, ensure_ascii=False, indent=1))
    _mark_done(report_path)
    log.info("index: %d documents, %d snapshots", reports["documents"].indexed, reports["snapshots"].indexed)
    return report


def _records(path: Path, letters: DeadLetters, handoff: Handoff | None) -> Iterable[Document | dict[str, Any]]:
    """What index_step indexes from path: the records a step of this process left in the handoff, else the
    file's lines (a bad line goes to the dead letters; no file, no records)."""
    from index.store import load_jsonl

    if handoff is not None and path in handoff:
        return handoff.pop(path)
    return load_jsonl(path, letters) if path.exists() else iter(())


# --- events ---------------------------------------------------------------------------------------


class EventsIncomplete(StepError):
    """Some event links or records were not stored; they are in the dead-letter files."""


def events_step(run: Run, client=None) -> dict[str, Any]:
    """Group the run's documents into events (pipeline/events.py), once every shard is indexed.

    One batch over all shards, in arrival order: shards indexed at once on different workers cannot each start
    an event for the same story, the outcome does not depend on the shards' order, and the window is read
    from the store once per run, not once per shard. A retry or a re-run is safe: documents keep their events
    and unchanged event records are not rewritten.
    """
    report_path = run.dir / "events.json"
    if _is_done(report_path):
        return json.loads(report_path.read_text())
    from pipeline.events import build_events_in_order, documents_in_arrival_order

    docs = documents_in_arrival_order(run.for_shard(s).classified_path for s in plan_shards(run))
    report = build_events_in_order(client or _client(), docs).to_dict()
    if report["failed"]:
        raise EventsIncomplete(f"{report['failed']} event links or records were not stored (kept in "
                               f"{', '.join(report['dead_letters'])}); the task's retry groups them again")
    report_path.write_text(json.dumps(report, ensure_ascii=False, indent=1))
    _mark_done(report_path)
    return report


# --- measures and alerts --------------------------------------------------------------------------


def _measure(name: str, as_of: str | date | None, client) -> dict[str, Any]:
    """Compute one report and store it in Elasticsearch, where the alert, the dashboard and `zwgk report` read it."""
    from index.schema import ensure_indices
    from measures import stored

    client = client or _client()
    ensure_indices(client, ("reports",))  # a deployment older than the reports index gets it here
    day = parse_as_of(as_of)
    _report, doc_id = stored.compute_and_save(client, name, day)
    return {"as_of": day.isoformat(), name: doc_id}


def freshness_step(as_of: str | date | None = None, client=None) -> dict[str, Any]:
    """Weekly website freshness as of a date, stored as `freshness:<week>` (replaced on a re-run: idempotent)."""
    return _measure("freshness", as_of, client)


def timeliness_step(as_of: str | date | None = None, client=None) -> dict[str, Any]:
    """Response timeliness as of a date, stored as `timeliness:<date>` (replaced on a re-run: idempotent)."""
    return _measure("timeliness", as_of, client)


def measure_step(as_of: str | date | None = None, client=None) -> dict[str, Any]:
    """Both measures as of a date, each stored once for every reader."""
    client = client or _client()
    return {**freshness_step(as_of, client), **timeliness_step(as_of, client)}


def alert_step(as_of: str | date | None = None, client=None) -> dict[str, Any]:
    """The weekly alert for the week of as_of (the weekly alert is idempotent per week: nothing sent twice)."""
    from pipeline.alerting import run_weekly_alert

    day = parse_as_of(as_of)
    outcome = run_weekly_alert(client or _client(), day)
    message = getattr(outcome, "message", None)
    return {
        "as_of": day.isoformat(),
        "outcome": outcome.to_dict() if hasattr(outcome, "to_dict") else jsonable(outcome),
        "text": getattr(message, "text", ""),
        "sent": list(getattr(outcome, "sent", [])),
        "failed": list(getattr(outcome, "failed", [])),
    }


def watchlists_step(client=None) -> dict[str, Any]:
    """Run every saved watchlist query; documents new since its last check are sent as one alert each."""
    from pipeline.watchlists import run_watchlists

    runs = run_watchlists(client or _client())
    return {
        "watchlists": [
            {"name": r.name, "new": len(r.new), "urls": [d.get("url") for d in r.new][:50], "error": r.error,
             "deliveries": [d.to_dict() for d in r.deliveries]}
            for r in runs
        ]
    }


def spikes_step(day: date | str | None = None, client=None) -> dict[str, Any]:
    """Alert each agency's negative-news spike of `day` (default: yesterday in Beijing) once per channel."""
    from pipeline.spike_alerts import run_spike_alerts

    runs = run_spike_alerts(client or _client(), parse_as_of(day) if day else None)
    return {"spikes": [r.spike.to_dict() | {"deliveries": [d.to_dict() for d in r.deliveries]} for r in runs]}


# --- the sequence ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """One pipeline run: its id (which names its folder, run_dir(run_id)) and what it was asked to do; with a
    shard, the part of the run that crawls, classifies and indexes that shard's sites (`Run.for_shard`)."""

    run_id: str
    sites_path: str | Path
    site_ids: list[str] | None = None
    base_url: str | None = None
    as_of: str | date | None = None  # the day measured (None: today in Asia/Shanghai)
    scrapy_settings: dict[str, Any] | None = None  # overrides of crawlers/settings.py
    shard: str | None = None  # this shard's name (its sub-folder), None for the whole run

    @property
    def dir(self) -> Path:
        """settings.home()/runs/<run_id>/[<shard>/]: crawl/ (documents, snapshots, summary), classified.jsonl,
        index.json. Each shard has its own, so shards running at once share no file."""
        path = run_dir(self.run_id)
        if self.shard:
            path = path / self.shard
            path.mkdir(exist_ok=True)
        return path

    @property
    def classified_path(self) -> Path:
        return self.dir / "classified.jsonl"

    def for_shard(self, shard: dict[str, Any]) -> Run:
        """This run narrowed to one shard of plan_shards: its sites (from the shard's own slice of the registry
        where plan_shards wrote one), its sub-folder."""
        return replace(self, site_ids=list(shard["site_ids"]), shard=shard["name"],
                       sites_path=shard.get("sites_path") or self.sites_path)


def plan_shards(run: Run, size: int | None = None) -> list[dict[str, Any]]:
    """The run's sites cut into shards of `size` (default ZWGK_SHARD_SITES): [{"name", "site_ids", "sites_path"}, …].

    Written once to <run>/shards.json, with each shard's entries of the registry in <run>/<shard>/sites.json,
    so a retry or a resumed run gets the same shards and sites even if the registry or the setting changed
    meanwhile, and a shard reads its own few hundred sites, not the whole registry (a 14,000-site YAML
    registry takes half a minute to read)."""
    path = run.dir / "shards.json"
    if _is_done(path):
        return json.loads(path.read_text())
    from crawlers.sites import parse_sites, read_registry, select_sites
    from pipeline.dag_settings import shard_sites

    raw = read_registry(Path(run.sites_path))
    entries = raw.get("sites") if isinstance(raw, dict) else raw
    chosen = select_sites(parse_sites(raw, base_url=run.base_url, source=str(run.sites_path), resolve=False),
                          run.site_ids)  # validated here, once: a bad registry fails the plan, not 28 shards
    by_id = {str(e.get("id")): e for e in entries}
    ids = [s.id for s in chosen]
    size = size or shard_sites()
    shards = []
    for k in range(0, len(ids), size):
        name = f"shard-{k // size:04d}"
        slice_path = run_dir(run.run_id) / name / "sites.json"
        slice_path.parent.mkdir(parents=True, exist_ok=True)
        slice_path.write_text(json.dumps({"sites": [by_id[i] for i in ids[k:k + size]]}, ensure_ascii=False),
                              encoding="utf-8")
        shards.append({"name": name, "site_ids": ids[k:k + size], "sites_path": str(slice_path)})
    path.write_text(json.dumps(shards, ensure_ascii=False, indent=1))
    _mark_done(path)
    log.info("%d sites in %d shards of up to %d", len(ids), len(shards), size)
    return shards


@dataclass(frozen=True)
class Step:
    """One step of the pipeline: its name (the DAG's task id), the earlier steps whose results it reads,
    what it does with the run, those results and the handoff (None unless the steps share a process), and
    whether it works on one shard (crawl, classify, index: once per shard) or once on the whole run."""

    name: str
    needs: tuple[str, ...]
    run: Callable[[Run, dict[str, dict[str, Any]], Handoff | None], dict[str, Any]]
    per_shard: bool = True


STEPS = (
    Step("crawl", (), lambda run, done, handoff: crawl_step(run.dir, run.sites_path, run.site_ids, run.base_url,
                                                            scrapy_settings=run.scrapy_settings)),
    Step("classify", ("crawl",),
         lambda run, done, handoff: classify_step(done["crawl"]["documents"], run.classified_path, handoff)),
    Step("index", ("crawl", "classify"),
         lambda run, done, handoff: index_step(done["classify"]["documents"], done["crawl"]["snapshots"],
                                               handoff=handoff)),
    Step("events", (), lambda run, done, handoff: events_step(run), per_shard=False),
    Step("measure", (), lambda run, done, handoff: measure_step(run.as_of), per_shard=False),
)  # per shard, each runs after the one before it; the steps done once run after every shard (they read what the
# shards' index steps stored) and need nothing of each other, so the DAG runs them side by side (events and the
# measure: the measure reads no field the events step writes); iter_steps runs them in this order


def shard_steps() -> tuple[Step, ...]:
    return tuple(s for s in STEPS if s.per_shard)


def run_steps() -> tuple[Step, ...]:
    return tuple(s for s in STEPS if not s.per_shard)


def run_step(name: str, run: Run, done: dict[str, dict[str, Any]], handoff: Handoff | None = None) -> dict[str, Any]:
    """Run the step called name, given the results of the steps it needs (the DAG's task body: no handoff,
    each task reads the files the earlier ones wrote). A per-shard step gets the run of its shard."""
    step = {s.name: s for s in STEPS}[name]
    return step.run(run, {n: done[n] for n in step.needs}, handoff)


def iter_steps(run: Run) -> Iterator[tuple[str, str | None, dict[str, Any]]]:
    """Every step in this process: the per-shard steps shard after shard, then the others, yielding
    (step name, shard name or None, result) as each finishes (`zwgk run`, the bench). One handoff per
    shard, so its index step takes its classify step's Documents from memory."""
    for shard in plan_shards(run):
        shard_run, done, handoff = run.for_shard(shard), {}, {}
        for step in shard_steps():
            done[step.name] = run_step(step.name, shard_run, done, handoff)
            yield step.name, shard["name"], done[step.name]
    done = {}
    for step in run_steps():
        done[step.name] = run_step(step.name, run, done)
        yield step.name, None, done[step.name]


def combine(results: list[dict[str, Any]]) -> dict[str, Any]:
    """The shards' results of one step as one: numbers added, lists joined, other values kept when they agree
    and listed when they do not (e.g. each shard's file)."""
    if len(results) == 1:
        return results[0]
    keys = dict.fromkeys(k for r in results for k in r)
    return {k: _merged([r[k] for r in results if r.get(k) is not None]) for k in keys}


def _merged(values: list[Any]) -> Any:
    if not values:
        return None
    if all(isinstance(v, dict) for v in values):
        return combine(values)
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return sum(values)
    if all(isinstance(v, list) for v in values):
        return [x for v in values for x in v]
    return values[0] if all(v == values[0] for v in values) else values
