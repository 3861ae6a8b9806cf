"""Agency registry: 2016 names, abbreviations and aliases (either script) → today's Beijing agency.

The data is the reviewed file zwgk/data/agencies.yaml (simplified script only); traditional
variants are generated with OpenCC at load time, and every lookup normalises its input with
`zwgk.text.normalize`, so 市環保局, 市环保局 and 北京市环保局 all resolve to 北京市生态环境局.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
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


class AgencyRegistry:
    """All agencies of one registry file; lookups by any name, in either script."""

    def __init__(self, agencies: list[Agency]):
        self._agencies = agencies
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
        keys = sorted((k for k in self._by_key if len(k) >= 2), key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(k) for k in keys)) if keys else None

    def all(self) -> list[Agency]:
        return list(self._agencies)

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


def read_registry(path: str | Path) -> AgencyRegistry:
    """Parse one registry YAML file (uncached)."""
    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    entries = data.get("agencies") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise RegistryError(f"{path}: expected a top-level 'agencies' list")
    return AgencyRegistry([_agency_from_entry(e) for e in entries])


@lru_cache(maxsize=4)
def _cached(path: str) -> AgencyRegistry:
    return read_registry(path)


def load_registry(path: str | Path | None = None) -> AgencyRegistry:
    """The registry (cached per path); path defaults to settings.agencies_path() (env ZWGK_AGENCIES)."""
    return _cached(str(path or settings.agencies_path()))


# collective terms the plan uses for "all districts", "the members of group X", "related units" …
_GROUP_PATTERN = re.compile(
    r"^(各|相关|有关)|各(成员单位|部门|单位|区|委|办|局)|(相关|有关)(部门|单位|区)|成员单位$"
)


def looks_like_group(name: str) -> bool:
    """True for a collective term (各区政府, …领导小组各成员单位, 相关区政府) rather than one agency."""
    return bool(_GROUP_PATTERN.search(_key(name)))
