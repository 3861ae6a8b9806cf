"""Build nlp/data/devset.jsonl from devset_items.txt and the plan (`python -m nlp.data.build_devset`).

Origins (field `origin` of every item):
- "plan": one sentence of a plan leaf topic's own text (original traditional script), labelled with that
  topic; always in the dev split (it is the text the scorer compares against, so it would flatter held-out).
- "handwritten": written for this project, modelled on real Beijing agency pages (title + first paragraph).
- "handwritten-s2t": a handwritten item converted to traditional script with OpenCC s2t (every third one).
- "handwritten-traditional": written directly in traditional script.
- "offplan": hand-written off-plan news (sports, weather, entertainment, accidents) and site furniture,
  labelled with no topic.
Labels: plan leaf ids; an interpretation also carries 5.1.1 and a press conference 5.1.2 (the plan's
政策解读 / 新闻发布会 duties), next to the topic of its content.
Split: "heldout" for about 48 % of the non-plan items, chosen by a hash of the title (stable); "dev" otherwise.
The held-out part is never used to fit or tune anything.
Plan: every item names the plan its topic ids belong to (field `plan`: the packaged 2016 plan's title), so
a deployment reading another year's plan does not train on ids that mean other topics there.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

HERE = Path(__file__).parent
ITEMS = HERE / "devset_items.txt"
OUT = HERE / "devset.jsonl"
HELDOUT_PERCENT = 48
_CLAUSE = re.compile(r"[(（][^()（）]*(?:牽頭|牵头|落實|落实|負責|负责)[^()（）]*[)）]")


def _split_of(title: str) -> str:
    digest = int(hashlib.sha1(title.encode("utf-8")).hexdigest(), 16)
    return "heldout" if digest % 100 < HELDOUT_PERCENT else "dev"


def read_items(path: Path = ITEMS) -> list[dict]:
    """Parse the pipe-separated hand-written items."""
    from opencc import OpenCC

    s2t = OpenCC("s2t")
    items, section, n_simplified = [], None, 0
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            section = line[3:].strip()
            continue
        if not line.strip() or line.startswith("#"):
            continue
        topics, kind, column_type, doc_number, title, body = (f.strip() for f in line.split("|", 5))
        item = {
            "topics": [] if topics == "-" else topics.split(","),
            "kind": kind,
            "column_type": column_type,
            "doc_number": None if doc_number == "-" else doc_number,
            "title": title,
            "body": body,
            "source_type": "news" if section == "offplan" and kind == "news" else "site",
        }
        if section == "offplan":
            item["origin"], item["script"] = "offplan", "simplified"
        elif section == "traditional":
            item["origin"], item["script"] = "handwritten-traditional", "traditional"
        else:
            n_simplified += 1
            if n_simplified % 3 == 0:
                for key in ("title", "body", "column_type", "doc_number"):
                    if item[key]:
                        item[key] = s2t.convert(item[key])
                item["origin"], item["script"] = "handwritten-s2t", "traditional"
            else:
                item["origin"], item["script"] = "handwritten", "simplified"
        # the plan's own rule: every interpretation counts under 5.1.1, every press conference under 5.1.2
        extra = {"interpretation": "5.1.1", "press_conference": "5.1.2"}.get(kind)
        if extra and extra not in item["topics"]:
            item["topics"].append(extra)
        item["split"] = _split_of(item["title"])
        items.append(item)
    return items


def labelled_plan():
    """The plan the items are labelled against: the packaged one, whatever ZWGK_PLAN says."""
    from zwgk.plan import load_plan
    from zwgk.settings import PACKAGED_PLAN

    return load_plan(PACKAGED_PLAN)


def plan_items() -> list[dict]:
    """Up to three sentences of each plan leaf's own text, labelled with the leaf."""
    out = []
    for topic in labelled_plan().leaves():
        body = _CLAUSE.sub("", topic.own_text or topic.text)
        sentences = [s.strip() for s in re.split(r"[。\n]", body) if len(s.strip()) >= 12]
        for sentence in sentences[1:4] or sentences[:1]:  # skip the heading sentence when there are others
            out.append(
                {
                    "topics": [topic.id],
                    "kind": None,  # a plan sentence is no page: not scored for kind
                    "column_type": "其他",
                    "doc_number": None,
                    "title": sentence[:40],
                    "body": sentence,
                    "source_type": "site",
                    "origin": "plan",
                    "script": "traditional",
                    "split": "dev",
                }
            )
    return out


def build(out: Path = OUT) -> int:
    items = read_items() + plan_items()
    plan_name = labelled_plan().name
    for n, item in enumerate(items, 1):
        item["id"] = f"dev{n:04d}"
        item["url"] = f"https://devset.invalid/{item['id']}"
        item["plan"] = plan_name
    with out.open("w", encoding="utf-8") as fh:
        for item in items:
            fh.write(json.dumps(item, ensure_ascii=False) + "\n")
    return len(items)


if __name__ == "__main__":
    print(build(), "items →", OUT)
