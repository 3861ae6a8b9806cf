"""Build the labelled news pairs (`python -m events.data.build_pairs`) from the items read and labelled by hand.

`items.raw.jsonl` holds real news items from the stored public pages (url, source, title and lead as the page
gives them, publish date when shown), each labelled by reading with its `story` (the same report: a repost,
a lightly edited copy, the other script, a mirror) and, where several independently written reports cover
one happening, a shared `happening`. See `pairs.md` beside this file for the rules. This script only checks,
merges and pairs:

- items.jsonl: one line per URL with id, script (traditional when OpenCC t2s changes it), topic group, and
  without the lines ../shared/holdout/check.py reports (pages kept back for independent evaluation);
- pairs.jsonl: every pair of one story ("same"), every pair of one happening but two stories ("related":
  reported apart, counted in neither precision nor recall), every pair of two stories in one topic group
  ("different", kind "near_miss": same topic, or the same template with other facts), and a fixed sample
  of pairs across topic groups ("different", kind "unrelated"); split dev/heldout by a hash of the pair.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import subprocess
import sys
from pathlib import Path

from zwgk.document import canonical_url
from zwgk.jsonl import read_jsonl, write_jsonl_atomic
from zwgk.text import to_simplified

HERE = Path(__file__).resolve().parent
# ../shared/holdout/check.py beside the repository (the main checkout or a worktree one level deeper)
HOLDOUT_CHECK = next((p / "shared" / "holdout" / "check.py" for p in Path(__file__).resolve().parents
                      if (p / "shared" / "holdout" / "check.py").exists()), Path("shared/holdout/check.py"))
HELDOUT_PERCENT = 50
UNRELATED_PER_ITEM = 2  # pairs across topic groups per item, chosen by hash (easy negatives)
# topic group of each story, by the story id's number: the near-miss negatives are pairs inside one group
TOPIC_OF = [
    ((1, 11), "state-council-meetings"), ((12, 15), "reserve-ratio"), ((16, 22), "taiwan-affairs-pressers"),
    ((23, 32), "straits-forum"), ((33, 38), "earthquakes"), ((39, 48), "taiwan-resilience-act"),
    ((49, 50), "information-office"), ((51, 62), "beijing-air-alerts"), ((63, 68), "earthquakes"),
    ((69, 76), "beijing-air-alerts"), ((77, 85), "foreign-ministry-pressers"), ((86, 91), "taiwan-affairs-pressers"), ((92, 104), "politburo-meetings"), ((105, 107), "beijing-air-alerts"), ((108, 112), "taiwan-affairs-pressers"), ((113, 120), "earthquakes"), ((121, 129), "xi-leadership"), ((130, 134), "earthquakes"), ((137, 139), "state-council-meetings"), ((140, 144), "hong-kong-covid"), ((145, 156), "mainland-covid"), ((157, 163), "earthquakes"), ((164, 169), "mainland-covid"), ((170, 170), "earthquakes"), ((171, 174), "mainland-covid"), ((175, 175), "earthquakes"),
]
FIELDS = ("id", "url", "source", "title", "lead", "published", "script", "topic", "story", "happening")


def topic_of(story: str) -> str:
    number = int("".join(ch for ch in story[1:] if ch.isdigit()))
    for (low, high), name in TOPIC_OF:
        if low <= number <= high:
            return name
    raise ValueError(f"story {story} has no topic group in TOPIC_OF")


def _hash(text: str) -> int:
    return int(hashlib.sha1(text.encode("utf-8")).hexdigest(), 16)


def reserved_lines(path: Path) -> set[int]:
    """Line numbers the holdout check lists for path (empty when the script is not there)."""
    if not HOLDOUT_CHECK.exists():
        print(f"warning: {HOLDOUT_CHECK} not found; the holdout check was skipped", file=sys.stderr)
        return set()
    out = subprocess.run([sys.executable, str(HOLDOUT_CHECK), str(path)], capture_output=True, text=True).stdout
    return {int(line.split(":")[1]) for line in out.splitlines() if line.startswith(str(path))}


def build_items(raw: Path) -> list[dict]:
    refused = reserved_lines(raw)
    items, seen = [], set()
    for lineno, row in enumerate(read_jsonl(raw), 1):
        key = canonical_url(row["url"])
        if lineno in refused or key in seen:
            continue
        seen.add(key)
        text = f"{row.get('title', '')}{row.get('lead', '')}"
        items.append({
            **row,
            "id": f"n{_hash(key) % 10**8:08d}",
            "script": "traditional" if to_simplified(text) != text else "simplified",
            "topic": topic_of(row["story"]),
            "happening": row.get("happening") or row["story"],
        })
    return [{k: item.get(k) for k in FIELDS} for item in items]


def build_pairs(items: list[dict]) -> list[dict]:
    pairs = []
    for a, b in itertools.combinations(items, 2):
        if a["story"] == b["story"]:
            label, kind = "same", "cross_script" if a["script"] != b["script"] else "repost"
        elif a["happening"] == b["happening"]:
            label, kind = "related", "same_happening"
        elif a["topic"] == b["topic"]:
            label, kind = "different", "near_miss"
        else:
            continue
        pairs.append(_pair(a, b, label, kind))
    for a in items:  # a few easy negatives per item, across topic groups, chosen by hash
        others = sorted((b for b in items if b["topic"] != a["topic"]), key=lambda b: _hash(a["id"] + b["id"]))
        pairs += [_pair(a, b, "different", "unrelated") for b in others[:UNRELATED_PER_ITEM]]
    unique = {(p["a"], p["b"]): p for p in pairs}
    return sorted(unique.values(), key=lambda p: (p["a"], p["b"]))


def _pair(a: dict, b: dict, label: str, kind: str) -> dict:
    a, b = sorted((a, b), key=lambda item: item["id"])
    split = "heldout" if _hash(a["id"] + b["id"]) % 100 < HELDOUT_PERCENT else "dev"
    return {"a": a["id"], "b": b["id"], "label": label, "kind": kind, "split": split}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m events.data.build_pairs", description=__doc__)
    parser.add_argument("--raw", type=Path, default=HERE / "items.raw.jsonl")
    parser.add_argument("--items", type=Path, default=HERE / "items.jsonl")
    parser.add_argument("--pairs", type=Path, default=HERE / "pairs.jsonl")
    args = parser.parse_args(argv)
    items = build_items(args.raw)
    pairs = build_pairs(items)
    write_jsonl_atomic(args.items, items)
    write_jsonl_atomic(args.pairs, pairs)
    counts: dict[tuple[str, str], int] = {}
    for p in pairs:
        counts[(p["label"], p["split"])] = counts.get((p["label"], p["split"]), 0) + 1
    print(f"{len(items)} items ({sum(i['script'] == 'traditional' for i in items)} traditional), {len(pairs)} pairs: "
          + ", ".join(f"{label}/{split} {n}" for (label, split), n in sorted(counts.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
