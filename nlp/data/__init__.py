"""Labelled data for the classifier and the sets `zwgk nlp eval` reports on.

- devset.jsonl: written in the plan's own words (see build_devset); flatters every system.
- realpages.jsonl: real published pages labelled by reading against the packaged plan (see
  build_realpages and realpages.md); its "heldout" split is never fitted or calibrated on.
- plans/*.txt with realpages-<plan>.jsonl: another government's plan and real pages labelled against it,
  scored with no label of that plan (the transfer head). weifang-2017 is the development plan (the transfer
  path is tuned on it and on the 2016 pages); dongcheng-2017 and sanhe-2021 (a plan whose items lie far
  apart, unlike the two economic fragments) are only evaluated. Each plan's .source says
  where its text comes from.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).parent


@dataclass(frozen=True)
class EvalSet:
    name: str
    gold: Path
    split: str | None  # None: every item
    plan: Path | None = None  # None: the packaged plan


EVAL_SETS = (
    EvalSet("plan-worded dev set (held-out split)", HERE / "devset.jsonl", "heldout"),
    EvalSet("real pages (held-out split)", HERE / "realpages.jsonl", "heldout"),
    EvalSet("development plan, zero-shot (潍坊市2017年政务公开工作要点实施方案; the transfer path's choices were made "
            "on it)", HERE / "realpages-weifang-2017.jsonl", None, HERE / "plans" / "weifang-2017.txt"),
    EvalSet("second plan, zero-shot (东城区2017年政务公开工作要点; evaluation only)", HERE / "realpages-dongcheng-2017.jsonl",
            None, HERE / "plans" / "dongcheng-2017.txt"),
    EvalSet("third plan, zero-shot (三合乡人民政府2021年度政务公开工作实施方案; evaluation only)",
            HERE / "realpages-sanhe-2021.jsonl", None, HERE / "plans" / "sanhe-2021.txt"),
)
