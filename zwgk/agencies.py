"""Agency registry: 2016 names, abbreviations and aliases (either script) → today's Beijing agency.

The data is the reviewed file zwgk/data/agencies.yaml (simplified script only); traditional
variants are generated with OpenCC at load time, and every lookup normalises its input with
`zwgk.text.normalize`, so 市環保局, 市环保局 and 北京市环保局 all resolve to 北京市生态环境局.

Districts' own bodies live in one file per region (zwgk/data/agencies/<district id>.yaml). The
registry knows them by their full and district-qualified names (北京市东城区财政局, 东城区财政局);
`for_district(id)` adds the names a district's own plan uses for them (区财政局, 财政局).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import yaml

from zwgk import settings
from zwgk.text import normalize

KINDS = (
    "portal",
    "municipal_department",
    "party_office",
    "central_branch",
    "district_government",
    "district_department",
    "group",
)
_CITY = "北京市"


@dataclass(frozen=True)
class Predecessor:
    """An earlier agency merged or renamed into the current one."""

    name: str
    short: tuple[str, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class Agency:
    id: str
    name: str  # current full name (simplified)
    kind: str
    aliases: tuple[str, ...] = ()  # every other name it answers to, both scripts
    short: tuple[str, ...] = ()
    predecessors: tuple[Predecessor, ...] = ()
    domain: str | None = None
    domain_verified: bool = False
    extra_domains: tuple[str, ...] = ()
    note: str = ""

    @property
    def is_group(self) -> bool:
        return self.kind == "group"

    def names(self) -> tuple[str, ...]:
        """Name, short names, aliases and predecessor names (both scripts)."""
        return (self.name, *self.aliases)

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "kind": self.kind,
            "short": list(self.short),
            "aliases": list(self.aliases),
            "predecessors": [
                {"name": p.name, "short": list(p.short), "note": p.note} for p in self.predecessors
            ],
            "domain": self.domain,
            "domain_verified": self.domain_verified,
            "extra_domains": list(self.extra_domains),
            "note": self.note,
        }


class RegistryError(ValueError):
    """The registry file is malformed (duplicate id, unknown kind, a name claimed twice)."""


@lru_cache(maxsize=1)
def _s2t():
    import opencc

    return opencc.OpenCC("s2t")


def _key(name: str) -> str:
    """Lookup key: normalised (simplified, half-width) without spaces or brackets' width."""
    return normalize(name).replace(" ", "")


def _variants(name: str) -> list[str]:
    """A name plus its 北京市/北京 forms (for 市… short names) and its traditional spelling."""
    out = [name]
    if name.startswith("市委"):
        out.append("北京" + name)
    elif name.startswith("市") and not name.startswith("市、"):
        out += [_CITY + name[1:], "北京" + name[1:]]
    elif name.startswith(_CITY) and len(name) > 5:
        out.append("市" + name[len(_CITY) :])
    trad = [_s2t().convert(n) for n in out]
    return list(dict.fromkeys(out + trad))


@dataclass(frozen=True)
class Region:
    """A district's own bodies: the names its plans use for them (区财政局, 财政局) → agency id."""

    id: str  # file stem = the district government's id in agencies.yaml (dongcheng)
    district: str  # the district as written in names (东城区)
    local: tuple[tuple[str, str], ...] = ()  # (name as the district's plans write it, agency id)


class AgencyRegistry:
    """All agencies of one registry file (and the region files beside it); lookups by any name, in either script."""

    def __init__(self, agencies: list[Agency], regions: dict[str, Region] | None = None,
                 local: Region | None = None):
        self._agencies = agencies
        self._regions = regions or {}
        self.region = local  # the district whose local names this registry also resolves
        self._by_id: dict[str, Agency] = {}
        self._by_key: dict[str, Agency] = {}
        for agency in agencies:
            if agency.id in self._by_id:
                raise RegistryError(f"duplicate agency id {agency.id!r}")
            self._by_id[agency.id] = agency
            for name in agency.names():
                key = _key(name)
                other = self._by_key.get(key)
                if other is not None and other.id != agency.id:
                    raise RegistryError(f"name {name!r} claimed by {other.id} and {agency.id}")
                self._by_key[key] = agency
        for name, agency_id in local.local if local else ():  # inside the district's plan its own names win
            if agency_id not in self._by_id:
                raise RegistryError(f"region {local.id}: {name!r} names unknown agency {agency_id!r}")
            self._by_key[_key(name)] = self._by_id[agency_id]
        keys = sorted((k for k in self._by_key if len(k) >= 2), key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(k) for k in keys)) if keys else None

    def all(self) -> list[Agency]:
        return list(self._agencies)

    def regions(self) -> list[str]:
        """Ids of the districts with a region file."""
        return sorted(self._regions)

    def for_district(self, district_id: str) -> AgencyRegistry:
        """This registry plus the names a district's own plan uses (区城管执法局 → that district's); itself when
        the district has no region file."""
        region = self._regions.get(district_id)
        if region is None:
            return self
        key = (id(self), district_id)
        if key not in _LOCAL:
            _LOCAL[key] = AgencyRegistry(self._agencies, self._regions, region)
        return _LOCAL[key]

    def get(self, agency_id: str) -> Agency | None:
        return self._by_id.get(agency_id)

    def resolve(self, name: str) -> Agency | None:
        """Today's agency for any name, alias, 2016 name or abbreviation (either script); None if unknown."""
        if not name:
            return None
        return self._by_key.get(_key(name))

    def canonical(self, name: str) -> str | None:
        """Current name (or group term) for a name; None if unknown."""
        agency = self.resolve(name)
        return agency.name if agency else None

    def mentions(self, text: str, include_groups: bool = True) -> list[Agency]:
        """Agencies named in a text, in order of first mention; the longest name wins at each place."""
        if not text or self._pattern is None:
            return []
        found: dict[str, Agency] = {}
        for match in self._pattern.finditer(_key(text)):
            agency = self._by_key[match.group(0)]
            if include_groups or not agency.is_group:
                found.setdefault(agency.id, agency)
        return list(found.values())

    def by_domain(self, host: str) -> Agency | None:
        """The agency whose site a host belongs to (exact host or a sub-domain of it)."""
        host = (host or "").lower().split(":")[0]
        best: Agency | None = None
        best_len = 0
        for agency in self._agencies:
            for domain in filter(None, (agency.domain, *agency.extra_domains)):
                if (host == domain or host.endswith("." + domain)) and len(domain) > best_len:
                    best, best_len = agency, len(domain)
        return best


def _agency_from_entry(entry: dict) -> Agency:
    for required in ("id", "name", "kind"):
        if not entry.get(required):
            raise RegistryError(f"agency entry without {required}: {entry!r}")
    if entry["kind"] not in KINDS:
        raise RegistryError(f"agency {entry['id']}: unknown kind {entry['kind']!r} (one of {KINDS})")
    predecessors = tuple(
        Predecessor(name=p["name"], short=tuple(p.get("short") or ()), note=p.get("note") or "")
        for p in entry.get("predecessors") or ()
    )
    raw_names: list[str] = [*(entry.get("short") or ()), *(entry.get("aliases") or ())]
    for p in predecessors:
        raw_names += [p.name, *p.short]
    names: list[str] = []
    if entry["kind"] == "group":
        names = [n for raw in raw_names for n in (raw, _s2t().convert(raw))]
        names += [_s2t().convert(entry["name"])]
    else:
        for raw in [entry["name"], *raw_names]:
            names += _variants(str(raw))
    aliases = tuple(n for n in dict.fromkeys(names) if n != entry["name"])
    return Agency(
        id=str(entry["id"]),
        name=entry["name"],
        kind=entry["kind"],
        aliases=aliases,
        short=tuple(entry.get("short") or ()),
        predecessors=predecessors,
        domain=entry.get("domain") or None,
        domain_verified=bool(entry.get("domain_verified", False)),
        extra_domains=tuple(entry.get("extra_domains") or ()),
        note=entry.get("note") or "",
    )


_LOCAL: dict[tuple[int, str], AgencyRegistry] = {}


def _entries(path: Path) -> tuple[dict, list[dict]]:
    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    entries = data.get("agencies") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise RegistryError(f"{path}: expected a top-level 'agencies' list")
    return data, entries


def _region_from_file(path: Path, districts: dict[str, Agency]) -> tuple[Region, list[Agency]]:
    """One district's file: its agencies (known everywhere by full and 东城区… names) and its local names."""
    data, entries = _entries(path)
    district = districts.get(path.stem)
    if district is None:
        raise RegistryError(f"{path}: no district government with id {path.stem!r} in the registry")
    place = str(data.get("district") or "")
    if not place.endswith("区"):
        raise RegistryError(f"{path}: 'district' must name the district as written (东城区)")
    agencies, local = [], []
    for entry in entries:
        entry = dict(entry, kind=entry.get("kind") or "district_department")
        if not str(entry.get("id", "")).startswith(path.stem + "-"):
            raise RegistryError(f"{path}: agency id {entry.get('id')!r} must start with {path.stem}-")
        predecessors = entry.get("predecessors") or ()
        # short and local names (区财政局, 财政局) are the district's own: global only as 东城区财政局 (+ 北京市 form)
        names = [*(entry.get("short") or ()), *(entry.get("local") or ()), *(n for p in predecessors for n in p.get("short") or ())]
        qualified = [place + n[1:] for n in names if n.startswith("区")]
        entry["aliases"] = [*(entry.get("aliases") or ()), *qualified, *(_CITY + q for q in qualified)]
        agency = _agency_from_entry(dict(entry, short=[], predecessors=[dict(p, short=[]) for p in predecessors]))
        whole = _agency_from_entry(dict(entry, aliases=[]))
        agencies.append(replace(agency, short=whole.short, predecessors=whole.predecessors))
        local += [(v, entry["id"]) for n in names for v in dict.fromkeys((n, _s2t().convert(n)))]
    return Region(id=path.stem, district=place, local=tuple(local)), agencies


def read_registry(path: str | Path, regions_dir: str | Path | None = None) -> AgencyRegistry:
    """Parse one registry YAML file and the region files of regions_dir (uncached)."""
    _data, entries = _entries(Path(path))
    agencies = [_agency_from_entry(e) for e in entries]
    regions: dict[str, Region] = {}
    if regions_dir is not None and Path(regions_dir).is_dir():
        districts = {a.id: a for a in agencies if a.kind == "district_government"}
        for file in sorted(Path(regions_dir).glob("*.yaml")):
            region, more = _region_from_file(file, districts)
            regions[region.id] = region
            agencies += more
    return AgencyRegistry(agencies, regions)


@lru_cache(maxsize=4)
def _cached(path: str, regions_dir: str) -> AgencyRegistry:
    return read_registry(path, regions_dir)


def load_registry(path: str | Path | None = None) -> AgencyRegistry:
    """The registry (cached per path); path defaults to settings.agencies_path() (env ZWGK_AGENCIES), with the
    region files of settings.agency_regions_path() (env ZWGK_AGENCY_REGIONS)."""
    return _cached(str(path or settings.agencies_path()), str(settings.agency_regions_path()))


# collective terms the plan uses for "all districts", "the members of group X", "related units" …
_GROUP_PATTERN = re.compile(
    r"^(各|相关|有关)|各(成员单位|部门|单位|区|委|办|局)|(相关|有关)(部门|单位|区)|成员单位$"
)


def looks_like_group(name: str) -> bool:
    """True for a collective term (各区政府, …领导小组各成员单位, 相关区政府) rather than one agency."""
    return bool(_GROUP_PATTERN.search(_key(name)))
