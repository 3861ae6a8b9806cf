"""Grouping documents into events as they arrive: MinHash LSH finds earlier documents whose story is likely
the same; the estimated Jaccard similarity of the wording and the agreement of the figures decide, and a
document joins the event of its closest match.

The index holds the documents of a sliding window (WINDOW_DAYS before the newest one seen): a news story's
reposts come within days, and the window keeps memory and cost per document flat however many documents
the store holds. State is a document's (id, event id, fingerprint, time); a later run rebuilds it from what the
documents index stores (events/state.py), so a repost arriving a day later joins the event.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
from datasketch import MinHashLSH

from events.signature import NUM_PERM, Fingerprint, pairs_agreement

JOIN_THRESHOLD = 0.30  # estimated Jaccard of title+lead 3-shingles to join an event (chosen on the dev pairs)
NUMBERS_THRESHOLD = 0.40  # agreement of the stated figures, when both state enough (chosen on the dev pairs)
LSH_THRESHOLD = 0.20  # the LSH's own threshold, below JOIN_THRESHOLD so near-threshold matches are candidates
WINDOW_DAYS = 7
# an event's newest members that a new document is compared with: a story every site reposts (thousands of copies
# in a day) would otherwise make each new copy compare with all earlier ones, quadratic in the event's size;
# its newest copies carry the story as well as any (a 3,000-copy burst: 26.7 → 1.3 ms CPU a copy, bench/RESULTS.md)
EVENT_REPRESENTATIVES = 32


def joins(text: float, numbers: float | None, join_threshold: float = JOIN_THRESHOLD,
          numbers_threshold: float = NUMBERS_THRESHOLD) -> bool:
    """The same-story rule: wording close enough, and the figures agreeing when both state enough of them."""
    return text >= join_threshold and (numbers is None or numbers >= numbers_threshold)


def event_id_for(doc_id: str) -> str:
    """An event's id, derived from its first document's id (so a re-run gives the same id)."""
    return f"ev-{doc_id[:24]}"


@dataclass(frozen=True)
class Member:
    """What the index keeps of a document: its event and the number pairs its story states (its MinHash and time
    are a row of the index's Candidates while it is a candidate; its time orders the eviction heap)."""

    doc_id: str
    event_id: str
    number_pairs: frozenset[str]


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _micros(at: datetime) -> int:
    """A time as whole microseconds since the epoch (exact, so the window's edge is the datetimes' own)."""
    return (at - _EPOCH) // _MICROSECOND


class Candidates:
    """The MinHash values and times of the documents in the LSH, a row each in one array (a freed row is reused),
    so that a query's candidates are scored and kept to the window in array operations: a story the LSH pairs
    with thousands of window documents (sites sharing a template) cost 20 ms of CPU a document compared pair by
    pair."""

    def __init__(self, width: int = NUM_PERM, capacity: int = 1024):
        self.values = np.zeros((capacity, width), dtype=np.uint64)
        self.times = np.zeros(capacity, dtype=np.int64)
        self.row: dict[str, int] = {}
        self._free: list[int] = []

    def put(self, doc_id: str, fp: Fingerprint, at: datetime) -> None:
        if self._free:
            r = self._free.pop()
        else:
            r = len(self.row)
            if r == len(self.times):  # full: twice the rows
                self.values = np.concatenate([self.values, np.zeros_like(self.values)])
                self.times = np.concatenate([self.times, np.zeros_like(self.times)])
        self.values[r], self.times[r], self.row[doc_id] = fp.minhash.hashvalues, _micros(at), r

    def drop(self, doc_id: str) -> None:
        self._free.append(self.row.pop(doc_id))

    def scores(self, keys: list[str], fp: Fingerprint) -> tuple[np.ndarray, np.ndarray]:
        """(estimated Jaccard similarity with fp, time in microseconds) of each key's document: the same
        estimate as Fingerprint.text_similarity (the share of equal MinHash values)."""
        rows = np.fromiter(map(self.row.__getitem__, keys), dtype=np.intp, count=len(keys))
        mine = fp.minhash.hashvalues
        return np.count_nonzero(self.values[rows] == mine, axis=1) / np.float64(len(mine)), self.times[rows]


class EventIndex:
    """Documents of the window, by LSH band; assign() gives a new document its event."""

    def __init__(self, join_threshold: float = JOIN_THRESHOLD, numbers_threshold: float = NUMBERS_THRESHOLD,
                 lsh_threshold: float = LSH_THRESHOLD, window_days: float = WINDOW_DAYS,
                 representatives: int = EVENT_REPRESENTATIVES):
        self.join_threshold = join_threshold
        self.numbers_threshold = numbers_threshold
        self.window = timedelta(days=window_days)
        self.lsh = MinHashLSH(threshold=lsh_threshold, num_perm=NUM_PERM)
        self.candidates = Candidates()  # the LSH's documents as arrays
        self.members: dict[str, Member] = {}
        self.representatives = representatives
        self._in_lsh: dict[str, deque[str]] = {}  # event id → its members in the LSH, oldest first
        self._by_time: list[tuple[datetime, str]] = []  # heap: the oldest member leaves first
        self.newest: datetime | None = None

    def __len__(self) -> int:
        return len(self.members)

    def event_of(self, doc_id: str) -> str | None:
        member = self.members.get(doc_id)
        return member.event_id if member else None

    def add(self, doc_id: str, event_id: str, fp: Fingerprint, at: datetime) -> None:
        """Put a document whose event is known (loaded from the store) into the index."""
        if doc_id in self.members or (self.newest is not None and at < self.newest - self.window):
            return
        self.members[doc_id] = Member(doc_id, event_id, fp.number_pairs)
        self.lsh.insert(doc_id, fp.minhash, check_duplication=False)
        self.candidates.put(doc_id, fp, at)
        in_lsh = self._in_lsh.setdefault(event_id, deque())
        in_lsh.append(doc_id)
        if len(in_lsh) > self.representatives:  # the event's oldest copy stays a member, no longer a candidate
            self._leave_lsh(in_lsh.popleft())
        heapq.heappush(self._by_time, (at, doc_id))
        if self.newest is None or at > self.newest:
            self.newest = at
            self._evict()

    def match(self, fp: Fingerprint, at: datetime | None = None) -> tuple[str, float] | None:
        """(event id, similarity) of the closest document in the window that carries the same story."""
        keys = list(self.lsh.query(fp.minhash))
        scores, times = self.candidates.scores(keys, fp)
        close = scores >= self.join_threshold  # most candidates stop here, before the figures are compared
        if at is not None:  # a story of another week is no candidate (the index holds a week around the newest)
            close &= np.abs(times - _micros(at)) <= self.window // _MICROSECOND
        found = []
        for k in np.flatnonzero(close):
            score, member = float(scores[k]), self.members[keys[k]]
            if joins(score, pairs_agreement(fp.number_pairs, member.number_pairs), self.join_threshold,
                     self.numbers_threshold):
                found.append((score, member.event_id))
        if not found:
            return None
        # ties go to the smaller event id, so the answer does not depend on the LSH's bucket order
        score, event_id = min(found, key=lambda f: (-f[0], f[1]))
        return event_id, score

    def assign(self, doc_id: str, fp: Fingerprint | None, at: datetime) -> str:
        """The document's event: the one it already has, else its closest match's, else a new one of its own."""
        known = self.event_of(doc_id)
        if known is not None:
            return known
        if fp is None:  # no text to compare: an event of one
            return event_id_for(doc_id)
        found = self.match(fp, at)
        event_id = found[0] if found else event_id_for(doc_id)
        self.add(doc_id, event_id, fp, at)
        return event_id

    def _evict(self) -> None:
        """Drop the documents older than the window before the newest one."""
        assert self.newest is not None
        cutoff = self.newest - self.window
        while self._by_time and self._by_time[0][0] < cutoff:
            _, doc_id = heapq.heappop(self._by_time)
            member = self.members.pop(doc_id, None)
            if member is None:
                continue
            in_lsh = self._in_lsh.get(member.event_id)
            if in_lsh is not None and doc_id in in_lsh:
                in_lsh.remove(doc_id)
                self._leave_lsh(doc_id)
                if not in_lsh:
                    del self._in_lsh[member.event_id]

    def _leave_lsh(self, doc_id: str) -> None:
        """The document is no candidate any more (its event has newer copies, or it left the window)."""
        self.lsh.remove(doc_id)
        self.candidates.drop(doc_id)


def arrival_order(items: Iterable[tuple[str, datetime, object]]) -> Iterator[tuple[str, datetime, object]]:
    """(doc id, time, payload) sorted by time then id: one batch is grouped the same way on every run."""
    return iter(sorted(items, key=lambda item: (item[1], item[0])))
