"""Build a labelled set of real published pages from labelling batches (`python -m nlp.data.build_realpages`).

Each batch is JSON lines written by a labeller who read the page (title and opening as the public-page
store gives them) and gave its plan topics and kind; see `realpages.md` beside this file for the rules.
This script only checks and merges: one line per canonical URL (and per title), topic ids that exist in
the plan the set is labelled against, kinds from zwgk.document.KINDS, a fixed split by URL hash
(`heldout` for HELDOUT_PERCENT % of pages: nothing is fitted or calibrated on those), and it refuses
lines that ../shared/holdout/check.py reports (pages kept back for independent evaluation).

    python -m nlp.data.build_realpages BATCH.jsonl [...] --out nlp/data/realpages.jsonl [--plan PLAN.txt]
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import re
import subprocess
import sys
from pathlib import Path

from zwgk.document import KINDS, canonical_url
from zwgk.jsonl import read_jsonl, write_jsonl_atomic

log = logging.getLogger(__name__)

HELDOUT_PERCENT = 45
BODY_CHARS = 600
# the shared check sits beside the repository; a worktree (/work/wt/NAME) is one level deeper than /work/main
HOLDOUT_CHECK = next((p / "shared" / "holdout" / "check.py" for p in Path(__file__).resolve().parents
                      if (p / "shared" / "holdout" / "check.py").exists()),
                     Path(__file__).resolve().parents[3] / "shared" / "holdout" / "check.py")
FIELDS = ("id", "url", "title", "body", "topics", "kind", "region", "script", "source", "query", "note",
          "labeller", "plan", "split", "origin")


def split_of(url: str, heldout_percent: int = HELDOUT_PERCENT) -> str:
    """Fixed split by a hash of the canonical URL: "heldout" or "dev"."""
    digest = int(hashlib.sha1(canonical_url(url).encode("utf-8")).hexdigest(), 16)
    return "heldout" if digest % 100 < heldout_percent else "dev"


def _title_key(title: str) -> str:
    return re.sub(r"[\s\W_]+", "", title or "")


def clean(items: list[dict], plan) -> tuple[list[dict], list[str]]:
    """Checked, de-duplicated items (first occurrence wins) and the reasons lines were dropped."""
    out, dropped, seen_urls, seen_titles = [], [], set(), set()
    for item in items:
        url, title = (item.get("url") or "").strip(), (item.get("title") or "").strip()
        if not url.startswith(("http://", "https://")) or not title:
            dropped.append(f"no url or title: {url or title!r}")
            continue
        key_url, key_title = canonical_url(url), _title_key(title)
        if key_url in seen_urls or (len(key_title) >= 8 and key_title in seen_titles):
            dropped.append(f"duplicate: {url}")
            continue
        kind = item.get("kind")
        if kind not in KINDS:
            dropped.append(f"unknown kind {kind!r}: {url}")
            continue
        topics = [str(t).strip() for t in item.get("topics") or []]
        unknown = [t for t in topics if plan.get(t) is None]
        if unknown:
            dropped.append(f"topic(s) {unknown} not in the plan: {url}")
            continue
        seen_urls.add(key_url)
        seen_titles.add(key_title)
        record = {**item, "url": url, "title": title, "body": (item.get("body") or "")[:BODY_CHARS],
                  "topics": list(dict.fromkeys(topics)), "kind": kind, "plan": plan.name,
                  "split": split_of(url), "origin": "real-page"}
        out.append(record)
    for n, record in enumerate(out, 1):
        record["id"] = f"real{n:04d}"
    return [{k: r.get(k, "") for k in FIELDS} for r in out], dropped


def reserved_lines(path: Path) -> set[int]:
    """Line numbers that the shared holdout check reports (an empty set when the script is absent)."""
    if not HOLDOUT_CHECK.exists():
        log.warning("%s not found: reserved pages were not checked", HOLDOUT_CHECK)
        return set()
    proc = subprocess.run([sys.executable, str(HOLDOUT_CHECK), str(path)], capture_output=True, text=True)
    return {int(m.group(1)) for m in re.finditer(rf"^{re.escape(str(path))}:(\d+):", proc.stdout, re.M)}


def main(argv: list[str] | None = None) -> int:
    from zwgk.plan import load_plan

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("batches", nargs="+", type=Path, help="labelled JSON-lines batches")
    parser.add_argument("--out", type=Path, required=True, help="merged set to write")
    parser.add_argument("--plan", type=Path, default=None, help="the plan the topics belong to (default: the packaged one)")
    args = parser.parse_args(argv)
    plan = load_plan(args.plan)
    items = [it for path in args.batches for it in read_jsonl(path)]
    records, dropped = clean(items, plan)
    write_jsonl_atomic(args.out, records)
    reserved = reserved_lines(args.out)
    if reserved:
        records = [r for n, r in enumerate(records, 1) if n not in reserved]
        dropped += [f"reserved for independent evaluation: line {n}" for n in sorted(reserved)]
        write_jsonl_atomic(args.out, records)
    for reason in dropped:
        print(f"dropped: {reason}", file=sys.stderr)
    held = sum(1 for r in records if r["split"] == "heldout")
    print(f"{len(records)} pages ({held} held out, {sum(1 for r in records if not r['topics'])} off plan) → {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
