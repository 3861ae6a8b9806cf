"""Bulk writes of documents and column snapshots, with dead letters instead of lost records.

Every record either reaches Elasticsearch (acknowledged by a bulk response) or is written, with
its reason and the original record, to a dead-letter JSONL file under settings.dead_letter_dir().
`replay_dead_letters` re-submits such a file (`zwgk index --replay FILE`).
"""

from __future__ import annotations

import logging
import os
import threading
import uuid
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from elastic_transport import TransportError
from elasticsearch import Elasticsearch, helpers

from index import schema
from zwgk import settings, text
from zwgk.document import EVENT_FIELDS, NLP_FIELDS, ColumnSnapshot, Document, has_nlp
from zwgk.event import Event, EventLink
from zwgk.jsonl import BadLine, json_line, read_jsonl
from zwgk.prefetch import Prefetch
from zwgk.weeks import now_iso

log = logging.getLogger(__name__)

CHUNK_SIZE = 500
BULK_RETRIES = 5  # for 429 (queue full), with exponential backoff from 1 s up to 30 s


class DeadLetterError(RuntimeError):
    """The dead-letter directory cannot be written: refusing to index rather than risk losing records."""


class StoreUnavailable(RuntimeError):
    """Elasticsearch stopped answering mid-run; the report says where the unacknowledged records went."""

    def __init__(self, message: str, report: BulkReport):
        super().__init__(message)
        self.report = report


@dataclass
class BulkReport:
    indexed: int = 0
    failed: int = 0
    dead_letter_path: Path | None = None
    reasons: list[str] = field(default_factory=list)  # the first few failure reasons, for humans

    def summary(self) -> str:
        text_ = f"indexed {self.indexed}, failed {self.failed}"
        if self.dead_letter_path:
            text_ += f" → dead letters in {self.dead_letter_path}"
        return text_


class DeadLetters:
    """A JSONL file of records that could not be indexed, each with its reason; created on first use."""

    def __init__(self, kind: str, directory: Path | None = None):
        self.kind = kind
        self.directory = Path(directory or settings.dead_letter_dir())
        self.count = 0
        self.reasons: list[str] = []
        self._path: Path | None = None
        self._fh = None
        self._lock = threading.Lock()  # written from the bulk loop and the prefetch thread
        try:  # check up front: better to refuse the run than to find out when ES fails
            self.directory.mkdir(parents=True, exist_ok=True)
            probe = self.directory / f".probe-{uuid.uuid4().hex[:8]}"
            probe.write_text("")
            probe.unlink()
        except OSError as exc:
            raise DeadLetterError(
                f"dead-letter directory {self.directory} is not writable ({exc.strerror or exc}); "
                "fix its permissions or set ZWGK_DEAD_LETTER_DIR"
            ) from None

    @property
    def path(self) -> Path | None:
        return self._path

    def write(self, record: Any, reason: str, kind: str | None = None) -> None:
        """Keep one record as it was given: a dict as read, a line that was no JSON, or a Document/ColumnSnapshot
        (made a dict only here, so a record that does not fail is never converted for its dead letter)."""
        if hasattr(record, "to_dict"):
            record = record.to_dict()
        with self._lock:
            self._write(record, reason, kind)

    def _write(self, record: Any, reason: str, kind: str | None) -> None:
        if self._fh is None:
            stamp = datetime.now().strftime("%Y%m%dT%H%M%S")
            self._path = self.directory / f"{self.kind}-{stamp}-{os.getpid()}-{uuid.uuid4().hex[:4]}.jsonl"
            self._fh = open(self._path, "a", encoding="utf-8")  # noqa: SIM115 - kept open for the run
        entry = {"kind": kind or self.kind, "reason": reason, "failed_at": now_iso(), "record": record}
        self._fh.write(json_line(entry, default=str))
        self._fh.flush()
        self.count += 1
        if len(self.reasons) < 5:
            self.reasons.append(reason)

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


# --- reading the crawler's JSONL ----------------------------------------------------------------


def load_jsonl(path: str | Path, dead_letters: DeadLetters | None = None) -> Iterator[dict[str, Any]]:
    """Records of a JSON-lines file that must exist (zwgk.jsonl's rule); a bad line goes to the dead letters."""
    dead_letters = dead_letters or DeadLetters("documents")
    if not Path(path).exists():
        raise FileNotFoundError(f"no such file: {path}")

    def refuse(bad: BadLine) -> None:
        dead_letters.write({"line": bad.line}, f"{path}:{bad.lineno}: {bad.reason}")

    return read_jsonl(path, refuse)


# --- documents ----------------------------------------------------------------------------------


def enrich(doc: Document) -> dict[str, Any]:
    """Document.to_dict() plus the index-only fields: id, normalised text, jieba tokens, topic_ids."""
    source = doc.to_dict()
    source["id"] = doc.id
    source["title_norm"] = text.normalize(doc.title)
    source["body_norm"] = text.normalize(doc.body)
    # the whitespace analyzer does not lower-case (no whitespace tokenizer in this distribution)
    source["title_tokens"] = text.tokens_for_index(doc.title).lower()
    source["body_tokens"] = text.tokens_for_index(doc.body).lower()
    source["topic_ids"] = [t.id for t in doc.topics]
    source["indexed_at"] = now_iso()
    return _blank_dates_to_null(source, ("published_at", "fetched_at"))


def _blank_dates_to_null(source: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """An empty string means "unknown" for a date field (Document.fetched_at defaults to "")."""
    for name in names:
        if isinstance(source.get(name), str) and not source[name].strip():
            source[name] = None
    return source


def _document_action(index: str, source: dict[str, Any]) -> dict[str, Any]:
    """doc-as-upsert: a new document is stored whole; a re-crawl without NLP results keeps the old ones, and
    one not grouped yet keeps its event."""
    partial = dict(source)
    if not has_nlp(source):  # not classified yet
        for name in (*NLP_FIELDS, "topic_ids"):
            partial.pop(name, None)
    for name in EVENT_FIELDS:
        if partial.get(name) is None:
            partial.pop(name, None)
    return {"_op_type": "update", "_index": index, "_id": source["id"], "doc": partial, "upsert": source}


# --- snapshots ----------------------------------------------------------------------------------


def _snapshot_source(snap: ColumnSnapshot) -> dict[str, Any]:
    return _blank_dates_to_null({**snap.to_dict(), "id": snap.id}, ("crawled_at", "newest_date"))


def _snapshot_action(index: str, source: dict[str, Any]) -> dict[str, Any]:
    return {"_op_type": "index", "_index": index, "_id": source["id"], "_source": source}


# --- events ---------------------------------------------------------------------------------------


def _event_action(index: str, source: dict[str, Any]) -> dict[str, Any]:
    """An event's record is rebuilt whole from its documents, so it replaces the stored one (_id = event_id)."""
    return {"_op_type": "index", "_index": index, "_id": source["event_id"], "_source": source}


def _event_link_action(index: str, source: dict[str, Any]) -> dict[str, Any]:
    """A partial update of a stored document: its event and signature, nothing else touched."""
    return {"_op_type": "update", "_index": index, "_id": source["doc_id"],
            "doc": {name: source[name] for name in ("event_id", "event_minhash", "event_numbers")}}


@dataclass(frozen=True)
class RecordKind:
    """How one kind of record is written: its alias, record class, _source builder and bulk action."""

    name: str  # the dead-letter "kind", and the alias (schema.alias(name)) unless `alias_kind` names another
    record: type[Document] | type[ColumnSnapshot] | type[Event] | type[EventLink]
    to_source: Callable[[Any], dict[str, Any]]
    to_action: Callable[[str, dict[str, Any]], dict[str, Any]]
    unit: str  # for the progress bar
    alias_kind: str | None = None
    id_field: str = "id"  # the _source field that holds the _id

    @property
    def alias(self) -> str:
        return schema.alias(self.alias_kind or self.name)

    def parse(self, record: Any) -> Any:
        if isinstance(record, self.record):
            return record
        if not isinstance(record, dict):
            raise ValueError(f"not a {self.name[:-1]} record: {type(record).__name__}")
        return self.record.from_dict(record)


DOCUMENTS = RecordKind("documents", Document, enrich, _document_action, "doc")
# _id = ColumnSnapshot.id, so a re-run replaces
SNAPSHOTS = RecordKind("snapshots", ColumnSnapshot, _snapshot_source, _snapshot_action, "snapshot")
EVENTS = RecordKind("events", Event, Event.to_dict, _event_action, "event", id_field="event_id")
EVENT_LINKS = RecordKind("event_links", EventLink, EventLink.to_dict, _event_link_action, "doc", alias_kind="documents",
                         id_field="doc_id")
KINDS = {kind.name: kind for kind in (DOCUMENTS, SNAPSHOTS, EVENTS, EVENT_LINKS)}


def index_documents(client: Elasticsearch, docs: Iterable[Document | dict[str, Any]], **options: Any) -> BulkReport:
    """Upsert documents (_id = Document.id) through the documents alias (options: see index_records)."""
    return index_records(client, DOCUMENTS, docs, **options)


def index_snapshots(
    client: Elasticsearch, snapshots: Iterable[ColumnSnapshot | dict[str, Any]], **options: Any
) -> BulkReport:
    """Index column snapshots through the snapshots alias (options: see index_records)."""
    return index_records(client, SNAPSHOTS, snapshots, **options)


# --- the bulk loop -----------------------------------------------------------------------


def _reason(item: dict[str, Any]) -> str:
    error = item.get("error")
    status = item.get("status")
    if isinstance(error, dict):
        reason = f"{error.get('type')}: {error.get('reason')}"
        cause = error.get("caused_by")
        if isinstance(cause, dict) and cause.get("reason"):
            reason += f" (caused by {cause.get('type')}: {cause.get('reason')})"
    else:
        reason = str(error)
    return f"HTTP {status} {reason}"


def index_records(
    client: Elasticsearch,
    record_kind: RecordKind,
    records: Iterable[Any],
    *,
    dead_letters: DeadLetters | None = None,
    refresh: bool = False,
    progress: bool = False,
    total: int | None = None,
) -> BulkReport:
    """Write records of one kind through its alias; whatever is not acknowledged goes to dead letters."""
    kind = record_kind.name
    own_letters = dead_letters is None
    letters = dead_letters or DeadLetters(kind)
    before = letters.count
    index = record_kind.alias
    pending: dict[str, deque] = defaultdict(deque)  # _id → original records sent but not yet acknowledged
    pending_lock = threading.Lock()
    report = BulkReport()
    records = iter(records)

    def actions() -> Iterator[dict[str, Any]]:
        for record in records:  # each parsed once; the original is kept as given for its dead letter
            try:
                source = record_kind.to_source(record_kind.parse(record))
            except (TypeError, ValueError, KeyError, AttributeError) as exc:
                letters.write(record, f"invalid {kind[:-1]} record: {exc}", kind)
                continue
            with pending_lock:
                pending[source[record_kind.id_field]].append(record)
            yield record_kind.to_action(index, source)

    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=total, unit=record_kind.unit, desc=f"index {kind}", disable=None)
    # the next actions (normalise + jieba) are built while a bulk request is in flight
    prefetch = Prefetch(actions(), depth=2 * CHUNK_SIZE, name="zwgk-bulk-prefetch")
    try:
        for ok, item in helpers.streaming_bulk(
            client,
            iter(prefetch),
            chunk_size=CHUNK_SIZE,
            max_retries=BULK_RETRIES,
            initial_backoff=1,
            max_backoff=30,
            raise_on_error=False,
            raise_on_exception=False,
            yield_ok=True,
        ):
            result = next(iter(item.values()))
            with pending_lock:
                sent = pending.get(result.get("_id"))
                original = sent.popleft() if sent else None
                if sent is not None and not sent:
                    del pending[result["_id"]]
            if ok:
                report.indexed += 1
            else:
                letters.write(original if original is not None else result.get("data"), _reason(result), kind)
            if bar is not None:
                bar.update(1)
    except TransportError as exc:  # connection refused / timeouts after the client's own retries
        reason = f"Elasticsearch unavailable: {exc}"
        prefetch.close()  # built but unsent actions are in `pending`; the rest is still in `records`
        for sent in pending.values():
            for original in sent:
                letters.write(original, reason, kind)
        pending.clear()
        for record in records:  # everything not yet sent
            letters.write(record, reason, kind)
        report.failed = letters.count - before
        report.dead_letter_path = letters.path
        report.reasons = letters.reasons
        if own_letters:
            letters.close()
        raise StoreUnavailable(
            f"Elasticsearch became unavailable ({exc.__class__.__name__}); indexed {report.indexed}, "
            f"{report.failed} records written to {letters.path} — replay with `zwgk index --replay {letters.path}`",
            report,
        ) from None
    finally:
        prefetch.close()
        if bar is not None:
            bar.close()
    report.failed = letters.count - before
    report.dead_letter_path = letters.path
    report.reasons = list(letters.reasons)
    if own_letters:
        letters.close()
    if refresh:
        client.indices.refresh(index=index)
    if report.failed:
        log.warning("%s: %s", kind, report.summary())
    return report


# --- replay -------------------------------------------------------------------------------------


def replay_dead_letters(client: Elasticsearch, path: str | Path, *, refresh: bool = False) -> BulkReport:
    """Re-submit a dead-letter file; what fails again goes to a new dead-letter file.

    A fully replayed file is renamed to `*.replayed` so it is not replayed twice. A line that is not JSON
    (a process killed mid-write) is carried into the new file as it stands, with its line number.
    """
    path = Path(path)
    letters = DeadLetters("replay")
    by_kind: dict[str, list[Any]] = defaultdict(list)

    def carry(bad: BadLine) -> None:
        letters.write(bad.line, f"unreadable line {bad.lineno} of {path.name}: {bad.reason}", "unreadable")

    if not path.exists():
        raise FileNotFoundError(f"no such file: {path}")
    for entry in read_jsonl(path, carry):
        by_kind[entry.get("kind", "documents")].append(entry.get("record"))
    total = BulkReport()
    for kind, records in by_kind.items():
        if kind not in KINDS:  # kept, not dropped: the file is then not marked replayed
            for record in records:
                letters.write(record, f"unknown record kind {kind!r}", kind)
            continue
        report = index_records(client, KINDS[kind], records, dead_letters=letters, refresh=refresh)
        total.indexed += report.indexed
    letters.close()
    total.failed = letters.count
    total.dead_letter_path = letters.path
    total.reasons = letters.reasons
    if total.failed == 0:
        path.rename(path.with_suffix(path.suffix + ".replayed"))
    return total
