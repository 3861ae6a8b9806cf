"""The plans in force: one work plan, or a city's and its districts' plans watched together.

`load_plans()` reads every file `settings.plan_paths()` names (env ZWGK_PLAN: one file, several separated
by os.pathsep, or a folder) into one `PlanSet`; every stage reads it, none keeps a copy. Each plan gets a
short stable key from the place it is issued for and its year (bj2016, dc2017; zwgk/data/plan_keys.yaml).

Topic ids are namespaced by plan (`bj2016:3.1`) whenever more than one plan is in force, since "3.1" of the
city's plan is another topic than "3.1" of a district's. With a single plan the ids stay bare ("3.1"): the
demo, the labelled pages, the classify cache, the stored reports and the alert history all carry bare ids,
and a lone plan has nothing to be told apart from. `split_topic_id` reads both forms.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from zwgk import settings
from zwgk.plan_header import places_of
from zwgk.plan_model import Plan, PlanError

SEPARATOR = ":"
KEYS_PATH = settings.PACKAGE_DATA / "plan_keys.yaml"
CITY, DISTRICT, OTHER, EVERYWHERE = "city", "district", "other", "everywhere"


def split_topic_id(topic_id: str) -> tuple[str | None, str]:
    """(plan key, the plan's own id): "bj2016:3.1" → ("bj2016", "3.1"); a bare "3.1" → (None, "3.1")."""
    key, sep, local = (topic_id or "").rpartition(SEPARATOR)
    return (key, local) if sep else (None, topic_id)


def plan_of(topic_id: str | None) -> str | None:
    """The key of the plan a namespaced topic id belongs to (None for a bare id)."""
    return split_topic_id(topic_id or "")[0]


@dataclass(frozen=True)
class PlanEntry:
    """One plan in force: its key, the plan as parsed (bare ids), where it binds."""

    key: str
    plan: Plan
    path: Path
    scope: str  # city | district | other (a place the registry does not know) | everywhere (no place stated)
    district: str | None = None  # the registry id of the district a district plan is for (dongcheng)
    names_districts: bool = False  # the plan gives duties to district governments (各区政府)

    def to_dict(self) -> dict[str, Any]:
        p = self.plan
        return {"key": self.key, "title": p.name, "year": p.year, "region": p.region, "issuer": p.issuer,
                "doc_number": p.doc_number, "issued_on": p.issued_on.isoformat() if p.issued_on else None,
                "scope": self.scope, "district": self.district, "path": str(self.path)}


class PlanUnion(Plan):
    """Several plans (topic ids namespaced) read as one: their topic trees side by side, every obligation."""

    def __init__(self, parts: list[Plan]):
        self.parts = parts
        super().__init__(title="；".join(p.title for p in parts), year=None, doc_number=None, issued_on=None,
                         topics=[t for p in parts for t in p.topics])
        for part in parts:
            if part.general is not None:
                self._index[part.general.id] = part.general

    def obligations(self, include_general: bool = True):
        return [pair for part in self.parts for pair in part.obligations(include_general)]

    def to_dict(self) -> dict[str, Any]:
        return {"plans": [p.to_dict() for p in self.parts]}


def _namespaced(plan: Plan, key: str) -> Plan:
    """A copy of the plan whose topic ids (and the topic ids of its obligations) read key:id."""
    topics, general = copy.deepcopy((plan.topics, plan.general))
    for topic in [t for root in topics for t in root.walk()] + ([general] if general else []):
        topic.id = f"{key}{SEPARATOR}{topic.id}"
        topic.parent_id = f"{key}{SEPARATOR}{topic.parent_id}" if topic.parent_id else None
        for ob in topic.obligations:
            ob.topic_id = f"{key}{SEPARATOR}{ob.topic_id}" if ob.topic_id else ob.topic_id
    fields = {k: v for k, v in plan.__dict__.items() if k not in ("topics", "general", "_index")}
    return Plan(**fields, topics=topics, general=general)


@dataclass
class PlanSet:
    """The plans in force, in the order given."""

    entries: list[PlanEntry]
    _views: dict[str | None, Plan] = field(default_factory=dict, repr=False)

    @property
    def namespaced(self) -> bool:
        return len(self.entries) > 1

    def keys(self) -> list[str]:
        return [e.key for e in self.entries]

    def entry(self, key: str) -> PlanEntry:
        for e in self.entries:
            if e.key == key:
                return e
        raise KeyError(f"no plan {key!r} in force (plans: {', '.join(self.keys())})")

    def files(self) -> list[Path]:
        return [e.path for e in self.entries]

    def topic_id(self, key: str, local_id: str) -> str:
        """The id a topic of plan `key` is stored under: key:id with several plans, the bare id with one."""
        return f"{key}{SEPARATOR}{local_id}" if self.namespaced else local_id

    def qualify(self, topic_id: str, key: str | None = None) -> list[str]:
        """The stored ids a topic id asked for (CLI --topic, API filters) stands for: itself when namespaced or
        when one plan is in force; a bare id under several plans: that id of plan `key`, else of every plan."""
        if not self.namespaced or split_topic_id(topic_id)[0] is not None:
            return [topic_id]
        return [self.topic_id(k, topic_id) for k in ([key] if key else self.keys())]

    def view(self, key: str | None = None) -> Plan:
        """One plan as the stages read it (ids namespaced when several are in force), or all of them as one
        (key None). With one plan in force both are the plan as parsed."""
        if key is not None and key not in self.keys():
            raise KeyError(f"no plan {key!r} in force (plans: {', '.join(self.keys())})")
        if not self.namespaced:
            return self.entries[0].plan
        if key not in self._views:
            if key is None:
                self._views[None] = PlanUnion([self.view(k) for k in self.keys()])
            else:
                self._views[key] = _namespaced(self.entry(key).plan, key)
        return self._views[key]

    def binding(self, agency: str | None, registry) -> list[str]:
        """Keys of the plans that bind an agency (a document's source agency), in order: a city's bureaus → the
        city's plans; a district's bodies → that district's plans, and a city plan that gives district
        governments duties; an unknown agency (news, a site outside the registry) → every plan."""
        found = registry.resolve(agency) if agency else None
        if not self.namespaced or found is None or found.is_group:
            return self.keys()
        district = _district_of(found)
        out = []
        for e in self.entries:
            if (e.scope == EVERYWHERE or (e.scope == DISTRICT and e.district == district)
                    or (e.scope == CITY and (district is None or e.names_districts))):
                out.append(e.key)
        return out


def _district_of(agency) -> str | None:
    """The registry id of the district an agency belongs to (None: a city-level body)."""
    if agency.kind == "district_government":
        return agency.id
    if agency.kind == "district_department":
        return agency.id.split("-", 1)[0]  # region files' ids are <district id>-<label>
    return None


@lru_cache(maxsize=1)
def _place_codes() -> dict[str, str]:
    with open(KEYS_PATH, encoding="utf-8") as fh:
        return dict((yaml.safe_load(fh) or {}).get("places") or {})


def _where(plan: Plan, registry) -> tuple[str, str | None, str | None]:
    """(scope, district id, place code) of a plan, from the place its header names."""
    places = places_of(plan.region or "")
    if not places:
        return EVERYWHERE, None, None
    code = _place_codes().get(places[-1])
    district = registry.resolve(places[-1]) if places[-1].endswith("区") else None
    if district is not None and district.kind == "district_government":
        return DISTRICT, district.id, code or district.id
    city = registry.resolve(places[0] + "政府") or registry.resolve(places[0] + "人民政府")
    if len(places) == 1 and city is not None and not city.is_group:
        return CITY, None, code
    return OTHER, None, code


def _names_districts(plan: Plan, registry) -> bool:
    from zwgk.agencies import looks_like_group

    for topic in plan.walk():
        for name in (*topic.lead_agencies, *topic.responsible_agencies):
            agency = registry.resolve(name)
            if (agency is not None and agency.kind == "district_government") or (looks_like_group(name) and "区" in name):
                return True
    return False


def plan_set(plans: list[tuple[Path, Plan]], registry=None) -> PlanSet:
    """A PlanSet of parsed plans (with the files they came from), keyed by place and year."""
    if registry is None:
        from zwgk.agencies import load_registry

        registry = load_registry()
    entries: list[PlanEntry] = []
    for path, plan in plans:
        scope, district, code = _where(plan, registry)
        base = f"{code or 'plan'}{plan.year or ''}"
        key, n = base, 1
        while key in {e.key for e in entries}:
            n += 1
            key = f"{base}-{n}"
        entries.append(PlanEntry(key, plan, Path(path), scope, district,
                                 scope == CITY and _names_districts(plan, registry)))
    return PlanSet(entries)


@lru_cache(maxsize=4)
def _load_cached(files: tuple[tuple[str, float], ...]) -> PlanSet:
    from zwgk.plan import load_plan

    return plan_set([(Path(path), load_plan(path)) for path, _mtime in files])


def load_plans(paths: list[str | Path] | None = None) -> PlanSet:
    """The plans in force (default settings.plan_paths(), env ZWGK_PLAN), parsed once per set of file versions."""
    files = [Path(p) for p in paths] if paths else settings.plan_paths()
    for path in files:
        if path.is_dir():
            raise PlanError(f"{path} is a folder without plan files (*.txt)")
    return _load_cached(tuple((str(p.resolve()), p.stat().st_mtime) for p in files))


def plan_choice(value: str | None) -> str | None:
    """A --plan / ?plan= value checked against the plans in force (None or "" for all); KeyError otherwise."""
    if not value:
        return None
    plans = load_plans()
    plans.entry(value)
    return value


__all__ = ["PlanEntry", "PlanSet", "PlanUnion", "load_plans", "plan_choice", "plan_of", "plan_set",
           "split_topic_id"]
