"""Same-story precision and recall on the labelled real news pairs (events/data/pairs.jsonl), beside the simplest
baseline: two items are one story when their normalised titles are equal (and not empty).

The method is the one the pipeline runs (events/cluster.py EventIndex): each item's fingerprint of title +
lead (events/signature.py); two items are joined when the LSH returns one as a candidate for the other, the
estimated Jaccard similarity of the wording reaches the text threshold, the stated numbers agree (when both
state enough) and the two were published within the index's window (WINDOW_DAYS; an item without a full date is taken as inside it). "text only" is the wording
alone, without numbers or window. Thresholds are chosen on the dev pairs only (`choose_thresholds`); the
held-out pairs report. "related" pairs (one happening, independently written reports) count in neither
precision nor recall; how many of them the method joins is reported apart.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from events.cluster import JOIN_THRESHOLD, NUMBERS_THRESHOLD, WINDOW_DAYS, EventIndex, joins
from events.signature import Fingerprint, fingerprint
from zwgk.jsonl import read_jsonl
from zwgk.text import normalize

DATA = Path(__file__).resolve().parent / "data"
# text thresholds 0.30 … 0.90: below 0.3 two texts share too little wording to be called near-duplicates, and
# an LSH that must find such pairs returns a large part of the window as candidates
GRID = [round(0.05 * k, 2) for k in range(6, 19)]
NUMBER_GRID = [0.0, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]  # number-agreement thresholds (0: figures not checked)


@dataclass
class Scores:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    related_joined: int = 0
    related: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"precision": round(self.precision, 4), "recall": round(self.recall, 4), "f1": round(self.f1, 4),
                "tp": self.tp, "fp": self.fp, "fn": self.fn, "tn": self.tn,
                "related_joined": self.related_joined, "related": self.related}


def load(items_path: Path = DATA / "items.jsonl", pairs_path: Path = DATA / "pairs.jsonl"
         ) -> tuple[dict[str, dict], list[dict]]:
    items = {row["id"]: row for row in read_jsonl(items_path)}
    if not items:
        raise ValueError(f"{items_path}: no items (build them with python -m events.data.build_pairs)")
    return items, list(read_jsonl(pairs_path))


def score(pairs: list[dict], same: Callable[[str, str], bool]) -> Scores:
    s = Scores()
    for p in pairs:
        joined = same(p["a"], p["b"])
        if p["label"] == "related":
            s.related += 1
            s.related_joined += joined
        elif p["label"] == "same":
            s.tp += joined
            s.fn += not joined
        else:
            s.fp += joined
            s.tn += not joined
    return s


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text or "")
    except ValueError:
        return None


class Judge:
    """The pipeline's same-story decision over the labelled items, with the thresholds as parameters."""

    def __init__(self, items: dict[str, dict]):
        self.fps: dict[str, Fingerprint | None] = {
            i: fingerprint(it.get("title") or "", it.get("lead") or "") for i, it in items.items()}
        self.days = {i: _day(it.get("published")) for i, it in items.items()}
        lsh = EventIndex().lsh  # the pipeline's LSH parameters: a pair it never proposes is never joined
        for i, fp in self.fps.items():
            if fp is not None:
                lsh.insert(i, fp.minhash)
        self.candidates = {i: set(lsh.query(fp.minhash)) if fp is not None else set() for i, fp in self.fps.items()}
        self._measured: dict[tuple[str, str], tuple[bool, float, float | None]] = {}

    def text(self, a: str, b: str) -> float:
        fa, fb = self.fps[a], self.fps[b]
        return fa.text_similarity(fb) if fa is not None and fb is not None else 0.0

    def in_window(self, a: str, b: str) -> bool:
        da, db = self.days[a], self.days[b]
        return da is None or db is None or abs((da - db).days) <= WINDOW_DAYS

    def measures(self, a: str, b: str) -> tuple[bool, float, float | None]:
        """(the pipeline could compare them: LSH candidates within the window, text similarity, number
        agreement), computed once per pair."""
        key = (a, b) if a < b else (b, a)
        if key not in self._measured:
            fa, fb = self.fps[a], self.fps[b]
            if fa is None or fb is None:
                self._measured[key] = (False, 0.0, None)
            else:
                self._measured[key] = (b in self.candidates[a] and self.in_window(a, b), fa.text_similarity(fb),
                                       fa.number_agreement(fb))
        return self._measured[key]

    def method(self, text_threshold: float, numbers_threshold: float) -> Callable[[str, str], bool]:
        """The pipeline's same-story rule (cluster.joins) with these thresholds, for pairs the LSH proposes
        within the window."""
        def same(a: str, b: str) -> bool:
            comparable, text, numbers = self.measures(a, b)
            return comparable and joins(text, numbers, text_threshold, numbers_threshold)
        return same

    def text_only(self, threshold: float) -> Callable[[str, str], bool]:
        return lambda a, b: self.measures(a, b)[1] >= threshold


def title_baseline(items: dict[str, dict]) -> Callable[[str, str], bool]:
    titles = {i: normalize(it.get("title") or "") for i, it in items.items()}
    return lambda a, b: bool(titles[a]) and titles[a] == titles[b]


def choose_thresholds(pairs: list[dict], judge: Judge, min_precision: float = 0.95) -> tuple[float, float]:
    """The dev (text, numbers) thresholds with the best recall among those with precision ≥ min_precision
    (ties: the stricter pair); the best F1 when none reaches it."""
    scored = [((t, u), score(pairs, judge.method(t, u))) for t in GRID for u in NUMBER_GRID]
    ok = [(s.recall, t, u) for (t, u), s in scored if s.precision >= min_precision]
    if ok:
        _, t, u = max(ok)
        return t, u
    _, t, u = max((s.f1, t, u) for (t, u), s in scored)
    return t, u


def choose_text_threshold(pairs: list[dict], judge: Judge, min_precision: float = 0.95) -> float:
    """Like choose_thresholds for the wording alone."""
    scored = [(t, score(pairs, judge.text_only(t))) for t in GRID]
    ok = [(s.recall, t) for t, s in scored if s.precision >= min_precision]
    return max(ok)[1] if ok else max((s.f1, t) for t, s in scored)[1]


def evaluate(items_path: Path = DATA / "items.jsonl", pairs_path: Path = DATA / "pairs.jsonl") -> dict[str, Any]:
    """Scores per split: the method at the dev-chosen and at the shipped thresholds, the wording alone, and the
    title baseline."""
    items, pairs = load(items_path, pairs_path)
    started = time.perf_counter()
    judge = Judge(items)
    elapsed = time.perf_counter() - started
    dev = [p for p in pairs if p["split"] == "dev"]
    chosen = choose_thresholds(dev, judge)
    text_chosen = choose_text_threshold(dev, judge)
    methods = {
        "method_dev_chosen": judge.method(*chosen),
        "method_shipped": judge.method(JOIN_THRESHOLD, NUMBERS_THRESHOLD),
        "text_only_dev_chosen": judge.text_only(text_chosen),
        "title_exact_baseline": title_baseline(items),
    }
    out: dict[str, Any] = {
        "items": len(items), "pairs": len(pairs),
        "traditional_items": sum(1 for it in items.values() if it.get("script") == "traditional"),
        "chosen": {"text": chosen[0], "numbers": chosen[1], "text_only": text_chosen},
        "shipped": {"text": JOIN_THRESHOLD, "numbers": NUMBERS_THRESHOLD, "window_days": WINDOW_DAYS},
        "fingerprint_ms_per_item": round(1000 * elapsed / len(items), 3), "splits": {}}
    out["lead_sensitivity"] = lead_sensitivity(items, pairs)
    for split in ("dev", "heldout"):
        part = [p for p in pairs if p["split"] == split]
        out["splits"][split] = {
            "pairs": {label: sum(1 for p in part if p["label"] == label) for label in ("same", "different", "related")},
            "cross_script_same": sum(1 for p in part if p["kind"] == "cross_script"),
            **{name: score(part, same).to_dict() for name, same in methods.items()},
        }
    return out


def lead_sensitivity(items: dict[str, dict], pairs: list[dict], leads: tuple[int, ...] = (120, 200, 300)
                     ) -> list[dict[str, Any]]:
    """For each lead length: the dev-chosen thresholds and the held-out scores (how much the choice matters)."""
    from events import signature

    dev = [p for p in pairs if p["split"] == "dev"]
    held = [p for p in pairs if p["split"] == "heldout"]
    shipped, rows = signature.LEAD_CHARS, []
    try:
        for lead in leads:
            signature.LEAD_CHARS = lead
            judge = Judge(items)
            t, u = choose_thresholds(dev, judge)
            rows.append({"lead_chars": lead, "text": t, "numbers": u,
                         "dev": score(dev, judge.method(t, u)).to_dict(),
                         "heldout": score(held, judge.method(t, u)).to_dict()})
    finally:
        signature.LEAD_CHARS = shipped
    return rows


def format_table(result: dict[str, Any]) -> str:
    chosen, shipped = result["chosen"], result["shipped"]
    lines = [f"{result['items']} items ({result['traditional_items']} traditional script), {result['pairs']} pairs; "
             f"chosen on dev: text ≥ {chosen['text']}, numbers ≥ {chosen['numbers']} (text only ≥ {chosen['text_only']}); "
             f"shipped: text ≥ {shipped['text']}, numbers ≥ {shipped['numbers']}, window {shipped['window_days']} days"]
    for split, body in result["splits"].items():
        counts = body["pairs"]
        lines.append(f"\n{split}: {counts['same']} same ({body['cross_script_same']} across scripts), "
                     f"{counts['different']} different, {counts['related']} related (not scored)")
        lines.append(f"  {'method':<22}{'precision':>10}{'recall':>8}{'F1':>8}{'tp':>5}{'fp':>5}{'fn':>5}  related joined")
        for name in ("method_dev_chosen", "method_shipped", "text_only_dev_chosen", "title_exact_baseline"):
            s = body[name]
            lines.append(f"  {name:<22}{s['precision']:>10.3f}{s['recall']:>8.3f}{s['f1']:>8.3f}{s['tp']:>5}{s['fp']:>5}"
                         f"{s['fn']:>5}  {s['related_joined']}/{s['related']}")
    lines.append("\nlead length (thresholds chosen on dev for each): held-out precision / recall")
    for row in result.get("lead_sensitivity", []):
        h = row["heldout"]
        lines.append(f"  {row['lead_chars']:>4} chars: text ≥ {row['text']}, numbers ≥ {row['numbers']}: "
                     f"{h['precision']:.3f} / {h['recall']:.3f}")
    return "\n".join(lines)
