"""The staff's words for rules, statuses and notes: one vocabulary (zwgk/data/labels.yaml, ZWGK_LABELS)
for the dashboard, the reports, the weekly 通报 and the alert. English ids stay in logs and JSON keys.

Timeliness rules are labelled from the plan itself (its phrase, trigger, amount and topic id), so any
year's plan gets labels without editing the data file; freshness rules from the data file's templates
filled with the thresholds of the rules file.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from zwgk import rules as rules_config
from zwgk.plans import split_topic_id
from zwgk.settings import PACKAGE_DATA
from zwgk.text import normalize

log = logging.getLogger(__name__)


def labels_path() -> Path:
    return Path(os.environ.get("ZWGK_LABELS") or PACKAGE_DATA / "labels.yaml")


@lru_cache(maxsize=4)
def _load(path: str) -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh) or {}


def vocabulary() -> dict[str, Any]:
    """The whole labels file (cached)."""
    return _load(str(labels_path()))


def status_label(status: str | None) -> str:
    return vocabulary()["statuses"].get(status or "", status or "")


def agency_label(agency: str | None) -> str:
    return vocabulary()["agencies"].get(agency or "", agency or "")


def _word(text: str) -> str:
    """English words inside a note (policy, topic 2.3.1, timeout) in Chinese."""
    words = vocabulary().get("words") or {}
    if text in words:
        return words[text]
    for en in sorted(words, key=len, reverse=True):
        text = re.sub(rf"\b{re.escape(en)}\b", words[en], text)
    return text


@dataclass(frozen=True)
class Note:
    """A note in Chinese and the reason it stands for (rows that cannot be judged are grouped by reason)."""

    label: str
    reason: str


@lru_cache(maxsize=1024)
def note(text: str | None) -> Note:
    """A measure's note (English, as the JSON keeps it) in Chinese."""
    if not text:
        return Note("", "")
    for row in vocabulary().get("notes") or []:
        m = re.search(row["match"], text)
        if m:
            return Note(row["label"].format(*(_word(g or "") for g in m.groups())), row["reason"])
    log.warning("note without a Chinese label: %r", text)
    return Note(text, text)


def note_label(text: str | None) -> str:
    return note(text).label


# ---------------------------------------------------------------- freshness rules


def _max_age(spec: dict[str, Any]) -> str:
    if "months" in spec:
        return f"{spec['months']}个月"
    return f"{spec.get('days', '')}天"


NOT_RULES = ("columns", "column_suffix", "no_data")  # rows of the freshness section that are no rule


def _freshness_rule(rule: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(the rule's row of the labels file, the values its templates take), or None for another rule."""
    conf = rules_config.section("freshness")
    rows = vocabulary()["freshness"]
    base, _, key = rule.partition(":")
    if base not in rows or base in NOT_RULES:
        return None
    values: dict[str, Any] = {
        "min_updates": (conf.get("weekly_update") or {}).get("min_updates", 1),
        "limit": conf.get(f"{base}_fail", ""),
        "share": f"{float((conf.get('unreachable') or {}).get('max_share', 0)):.0%}",
    }
    if key:
        values["column"] = column_name(key)
        values["max_age"] = _max_age((conf.get("stale") or {}).get(key) or {})
    return rows[base], values


def column_name(key: str) -> str:
    """A column type (or the home page) as the report names it: 动态要闻栏目, 首页."""
    rows = vocabulary()["freshness"]
    return rows["columns"].get(key) or (f"{key}{rows['column_suffix']}" if key else "")


def is_single_veto(rule: str) -> bool:
    """A rule whose failure alone fails the site in an inspection (单项否决)."""
    found = _freshness_rule(rule)
    return bool(found and found[0].get("veto"))


def finding(rule: str, value: Any = None) -> str:
    """What a failed rule found, in a sentence part (本周未更新, 空白栏目6个)."""
    found = _freshness_rule(rule)
    if not found:
        return rule_label(rule)
    row, values = found
    if isinstance(value, float) and value < 1:
        value = f"{value:.0%}"
    return row.get("finding", row["label"]).format(**values, value=value if value is not None else "")


def no_data_reason(rule: str) -> str:
    """Why a freshness rule could not be judged (no column of the type, no checks)."""
    found = _freshness_rule(rule)
    texts = vocabulary()["freshness"]["no_data"]
    if not found:
        return texts["default"]
    return texts.get(rule.partition(":")[0], texts["default"]).format(**found[1])


# ---------------------------------------------------------------- plan rules


def base_rule_id(ob: Any) -> str:
    """An obligation's rule id (duty:trigger-or-period@topic) as the measures key it."""
    kind = ob.trigger or ob.period or getattr(ob, "kind", None) or "unspecified"
    return f"{ob.duty}:{kind}@{ob.topic_id}"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def obligation_label(ob: Any) -> str:
    """An obligation in the plan's words: 政策文件公开后3个工作日内解读（5.1.1）, 按月公开实施信息（2.3.1）."""
    plan = vocabulary()["plan"]
    limit = int(plan.get("phrase_max", 40))
    key, local = split_topic_id(ob.topic_id or "")  # bj2016:0 → bj2016:总体要求 (several plans in force)
    topic = plan.get("topics", {}).get(local, local)
    values = {
        "topic": f"{key}:{topic}" if key else topic, "phrase": _clip(normalize(ob.phrase or ob.text or ""), limit),
        "trigger": plan["triggers"].get(ob.trigger or "", normalize(ob.trigger_text or "")),
        "amount": ob.amount or "", "unit": plan["units"].get(ob.unit or "", ""),
        "duty": plan["duties"].get(ob.duty, ob.duty),
        "title": _clip(re.split(r"[。；;，,]", normalize(ob.text or ""), maxsplit=1)[0], limit),
        "due": ob.due_text or plan.get("due_default", ""),
    }
    kind = ob.kind if ob.kind in plan["templates"] else "other"
    if kind == "deadline" and not ob.amount:
        kind = "other"
    return plan["templates"][kind].format(**values)


_PLANS: dict[int, tuple[Any, dict[str, str]]] = {}  # id(plan) → (plan, labels): plans are not hashable


def _plan_labels(plan: Any) -> dict[str, str]:
    """Rule id → label for every obligation of a plan; a topic's second rule of one kind is id#2, as measured."""
    if id(plan) in _PLANS and _PLANS[id(plan)][0] is plan:
        return _PLANS[id(plan)][1]
    out: dict[str, str] = {}
    seen: dict[str, int] = {}
    for _topic, ob in plan.obligations():
        rule = base_rule_id(ob)
        seen[rule] = seen.get(rule, 0) + 1
        out[rule if seen[rule] == 1 else f"{rule}#{seen[rule]}"] = obligation_label(ob)
    _PLANS[id(plan)] = (plan, out)
    return out


def _default_plan() -> Any:
    from zwgk.plans import load_plans

    return load_plans().view()


def rule_label(rule: str, plan: Any = None) -> str:
    """Any rule id in Chinese: a freshness rule from the labels file, a plan rule from the plan."""
    found = _freshness_rule(rule)
    if found:
        row, values = found
        return row["label"].format(**values)
    label = _plan_labels(plan or _default_plan()).get(rule)
    if label:
        return label
    duty, _, rest = rule.partition(":")  # a rule of another plan: its duty and topic at least
    names = vocabulary()["plan"]["duty_names"]
    log.warning("rule without a label in this plan: %s", rule)
    return f"{names.get(duty, duty)}（{rest.rpartition('@')[2] or rest}）"


def rule_labels(rules: list[str], plan: Any = None) -> dict[str, str]:
    """Labels of many rules (for a page's JSON)."""
    return {r: rule_label(r, plan) for r in rules}


def duty_name(duty: str) -> str:
    return vocabulary()["plan"]["duty_names"].get(duty, duty)
