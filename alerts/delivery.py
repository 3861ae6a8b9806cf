"""Exactly-once-per-key delivery of alert messages, recorded in Elasticsearch (alias "alerts").

Each (alert key, channel) has one delivery record, `_id` = "{key}|{channel}". A record with status
"sent" is never sent again; a failed send is retried with exponential backoff, then recorded as
"failed" with the error and the message itself, and `retry_failed` (called by every run) sends it
again later — nothing is lost. If Elasticsearch cannot take the record, it goes to a dead-letter
JSONL file under settings.dead_letter_dir() instead.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from elasticsearch import ApiError, Elasticsearch, NotFoundError, TransportError

from alerts.channels import AlertMessage, Channel, DeliveryError
from zwgk import settings
from zwgk.es import alias
from zwgk.jsonl import BadLine, read_jsonl, write_jsonl
from zwgk.weeks import now_iso

log = logging.getLogger(__name__)

SENT, FAILED, DRY_RUN, SKIPPED = "sent", "failed", "dry_run", "already_sent"
# what an alert kind records beside the delivery (deliver's `extra`), kept when a failed send is retried
EXTRA_FIELDS = ("week", "watchlist", "agency", "day", "event_ids", "evidence_urls")


@dataclass
class Delivery:
    key: str
    channel: str
    status: str  # sent | failed | already_sent | dry_run
    attempts: int = 0  # attempts made in this run
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def record_id(key: str, channel: str) -> str:
    return f"{key}|{channel}"


def _get(client: Elasticsearch, rid: str) -> dict[str, Any] | None:
    try:
        return client.get(index=alias("alerts"), id=rid).body["_source"]
    except NotFoundError:
        return None


def _dead_letter_path():
    return settings.dead_letter_dir() / "alerts.jsonl"


def _dead_letter(record: dict[str, Any], reason: str) -> None:
    path = _dead_letter_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    write_jsonl(path, [{"kind": "alerts", "index": alias("alerts"), "reason": reason, "failed_at": now_iso(),
                        "record": record}], append=True)


def replay_dead_letters(client: Elasticsearch) -> int:
    """Put alert records that Elasticsearch could not take earlier back into it; the file is removed
    once all are stored (a record that still fails stays in the file)."""
    path = _dead_letter_path()
    if not path.exists():
        return 0
    unreadable: list[BadLine] = []  # a line cut short by a killed process stays in the file as it stands
    entries = list(read_jsonl(path, unreadable.append))
    mine = [e for e in entries if e.get("index", alias("alerts")) == alias("alerts")]
    others = [e for e in entries if e not in mine]  # another deployment's (index prefix's) records stay
    path.unlink()
    if others or unreadable:
        write_jsonl(path, others, append=True)
        with open(path, "a", encoding="utf-8") as fh:
            fh.writelines(bad.line + "\n" for bad in unreadable)
    stored = 0
    for entry in mine:
        record = dict(entry["record"])
        rid = record.pop("_id")
        current = _get(client, rid)
        if current and current.get("status") == SENT and record.get("status") != SENT:
            continue  # never downgrade a delivery that was sent
        save_record(client, rid, record)  # back into the file if Elasticsearch refuses again
        stored += 1
    return stored


def save_record(client: Elasticsearch, rid: str, record: dict[str, Any]) -> None:
    """Write a record (visible to the next read); to the dead-letter file when Elasticsearch refuses."""
    try:
        client.index(index=alias("alerts"), id=rid, document=record, refresh="wait_for")
    except (ApiError, TransportError) as exc:
        log.error("alert record %s not stored in Elasticsearch (%s); written to dead letters", rid, exc)
        _dead_letter(record | {"_id": rid}, str(exc))


def send_with_retry(channel: Channel, message: AlertMessage, attempts: int, backoff: float,
                    sleep: Callable[[float], None] = time.sleep) -> tuple[bool, int, str | None]:
    """Try up to `attempts` times, waiting backoff·2^(n-1) between tries; (ok, tries, last error)."""
    error = None
    for n in range(1, max(1, attempts) + 1):
        try:
            channel.send(message)
            return True, n, None
        except DeliveryError as exc:
            error = str(exc)
            log.warning("%s: attempt %d/%d failed: %s", channel.name, n, attempts, error)
            if n < attempts:
                sleep(backoff * 2 ** (n - 1))
    return False, max(1, attempts), error


def deliver(client: Elasticsearch, key: str, kind: str, message: AlertMessage, channels: Iterable[Channel],
            attempts: int = 3, backoff: float = 2.0, dry_run: bool = False, extra: dict[str, Any] | None = None,
            sleep: Callable[[float], None] = time.sleep) -> list[Delivery]:
    """Send `message` once per channel for `key`; channels already marked sent are skipped."""
    if not dry_run:
        replay_dead_letters(client)  # a "sent" kept in the file while Elasticsearch was down still counts
    out = []
    for channel in channels:
        rid = record_id(key, channel.name)
        previous = _get(client, rid)
        if previous and previous.get("status") == SENT:
            out.append(Delivery(key, channel.name, SKIPPED))
            continue
        if dry_run:
            out.append(Delivery(key, channel.name, DRY_RUN))
            continue
        stored = AlertMessage.from_dict(json.loads(previous["message"])) if previous and previous.get("message") else message
        ok, tries, error = send_with_retry(channel, stored, attempts, backoff, sleep)
        record = {
            "type": "delivery", "key": key, "kind": kind, "channel": channel.name, "dedupe_key": rid,
            "status": SENT if ok else FAILED, "attempts": int((previous or {}).get("attempts") or 0) + tries,
            "error": error, "subject": stored.subject, "message": json.dumps(stored.to_dict(), ensure_ascii=False),
            "created_at": (previous or {}).get("created_at") or now_iso(), "last_attempt_at": now_iso(),
            "sent_at": now_iso() if ok else None, **(extra or {}),
        }
        save_record(client, rid, record)
        out.append(Delivery(key, channel.name, SENT if ok else FAILED, tries, error))
    return out


def failed_records(client: Elasticsearch, limit: int = 500) -> list[dict[str, Any]]:
    """Delivery records still marked failed (oldest first)."""
    try:
        resp = client.search(index=alias("alerts"), size=limit, ignore_unavailable=True,
                             query={"bool": {"filter": [{"term": {"type": "delivery"}}, {"term": {"status": FAILED}}]}},
                             sort=[{"created_at": "asc"}])
    except NotFoundError:
        return []
    return [h["_source"] for h in resp.body["hits"]["hits"]]


def retry_failed(client: Elasticsearch, channels: Iterable[Channel], attempts: int = 3, backoff: float = 2.0,
                 exclude_keys: Iterable[str] = (), sleep: Callable[[float], None] = time.sleep) -> list[Delivery]:
    """Send again every failed delivery whose channel is configured (their stored message, unchanged)."""
    by_name = {c.name: c for c in channels}
    skip = set(exclude_keys)
    out = []
    for rec in failed_records(client):
        channel = by_name.get(rec.get("channel"))
        if channel is None or rec["key"] in skip:
            continue
        message = AlertMessage.from_dict(json.loads(rec["message"]))
        extra = {k: rec[k] for k in EXTRA_FIELDS if k in rec}
        out += deliver(client, rec["key"], rec.get("kind", ""), message, [channel], attempts, backoff,
                       extra=extra, sleep=sleep)
    return out
