"""The site registry: which sites and columns to crawl (YAML, so a new site is data, not code).

    sites:
      - id: sthjj                      # unique, [a-z0-9_-]
        agency: 北京市生态环境局          # resolved through zwgk.agencies to today's name
        name: 北京市生态环境局            # display name
        base_url: https://sthjj.beijing.gov.cn/   # relative URLs below resolve against it
        home: index.html               # optional: the home page, snapshotted with is_home
        kind: agency                   # agency (default) | news
        enabled: true                  # false: crawled only when named with --site
        columns:
          - name: 通知公告
            type: 通知公告               # one of zwgk.document.COLUMN_TYPES
            list_urls: [bjhrb/index.html]
            item_xpath: //ul[@class='list']/li/a   # optional, when the list heuristic needs help
            json_api:                    # optional: items come from a JSON endpoint the page's script calls
              endpoint: api/list?channelId=12&pageNo={page}
              items: data.list           # dotted path to the list of items in the answer
              fields: {title: title, url: linkUrl, date: publishTime}
              pages: data.totalPage      # optional: the page count (else: until an empty page)
        feeds: [rss.xml]               # RSS/Atom feeds (news spider)

In a registry whose base_url is relative (the demo), `load_sites(path, base_url=...)` anchors it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import yaml

from zwgk.document import COLUMN_TYPES

log = logging.getLogger(__name__)

SITES_DIR = Path(__file__).parent / "sites"
_ID = re.compile(r"^[a-z0-9][a-z0-9_\-]*$")


class SiteRegistryError(ValueError):
    """The site registry file is malformed; the message names the file, site and field."""


@dataclass
class Column:
    name: str
    type: str
    list_urls: list[str]
    item_xpath: str | None = None
    json_api: dict | None = None  # crawlers.extract.jsonlist.JsonApi fields, endpoint absolute


@dataclass
class Site:
    id: str
    agency: str
    name: str
    base_url: str
    columns: list[Column] = field(default_factory=list)
    feeds: list[str] = field(default_factory=list)
    home: str | None = None
    kind: str = "agency"
    enabled: bool = True

    @property
    def domain(self) -> str:
        return urlsplit(self.base_url).hostname or ""

    def to_dict(self) -> dict:
        from dataclasses import asdict

        return asdict(self)


def default_sites_path() -> Path:
    return SITES_DIR / "beijing.yaml"


def demo_sites_path() -> Path:
    return SITES_DIR / "demo.yaml"


def resolve_agency(name: str) -> str:
    """Today's canonical name of an agency from the core registry; the given name when unknown or absent."""
    if not name:
        return ""
    try:
        from zwgk.agencies import load_registry
    except ImportError:  # the registry is optional for crawling
        return name
    try:
        agency = load_registry().resolve(name)
    except Exception:  # noqa: BLE001 - a broken registry must not stop a crawl; keep the page's name
        return name
    return agency.name if agency is not None else name


def load_sites(path: str | Path | None = None, base_url: str | None = None, resolve: bool = True) -> list[Site]:
    """Read and validate a registry file; relative base URLs are anchored at base_url."""
    path = Path(path) if path else default_sites_path()
    return parse_sites(read_registry(path), base_url=base_url, source=str(path), resolve=resolve)


def read_registry(path: Path):
    """A registry file's raw data: YAML (libyaml's C loader when PyYAML has it: a 14,000-site registry takes
    34 s instead of 93) or JSON (a shard's slice, written by the pipeline, well under a second)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SiteRegistryError(f"{path}: no such site registry") from None
    except UnicodeDecodeError as exc:
        raise SiteRegistryError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:  # a directory, no permission: one line from every caller, the DAG's plan included
        raise SiteRegistryError(f"{path}: cannot read the site registry: {exc.strerror or exc}") from None
    if path.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except ValueError as exc:
            raise SiteRegistryError(f"{path}: not valid JSON: {exc}") from None
    if len(text) < PARSED_CACHE_CHARS:
        return _load_yaml(text, path)
    return _cached_yaml(text, path)


PARSED_CACHE_CHARS = 1 << 20  # a registry this large keeps its parsed form (a nation's: 25 MB, 34 s to parse)


def _load_yaml(text: str, path: Path):
    try:
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise SiteRegistryError(f"{path}: not valid YAML: {exc}") from None


def _cached_yaml(text: str, path: Path):
    """A large YAML registry parsed once per content: its JSON form is kept under ZWGK_HOME, keyed by the
    text's digest, so the daily sweep of an unchanged registry reads JSON in a second. Data that JSON cannot
    hold exactly (YAML dates, non-string keys) is not cached."""
    from zwgk import settings

    digest = hashlib.sha256(text.encode()).hexdigest()[:32]
    try:  # an unusable ZWGK_HOME (a file, no permission) only means no cache
        cached = settings.home() / "cache" / "registries" / f"{digest}.json"
        return json.loads(cached.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    data = _load_yaml(text, path)
    try:
        cached = settings.home() / "cache" / "registries" / f"{digest}.json"
        dumped = json.dumps(data, ensure_ascii=False)
        if json.loads(dumped) == data:
            cached.parent.mkdir(parents=True, exist_ok=True)
            partial = cached.with_name(f"{cached.name}.{os.getpid()}.tmp")
            partial.write_text(dumped, encoding="utf-8")
            os.replace(partial, cached)
    except (TypeError, ValueError, OSError) as exc:  # a cache, never a reason to fail the read
        log.info("%s: parsed registry not cached: %s", path, exc)
    return data


def parse_sites(data, base_url: str | None = None, source: str = "<registry>", resolve: bool = True) -> list[Site]:
    """Validate registry data (a dict with `sites:` or a bare list) into Site objects."""
    entries = data.get("sites") if isinstance(data, dict) else data
    if not isinstance(entries, list) or not entries:
        raise SiteRegistryError(f"{source}: expected a non-empty `sites:` list")
    sites, ids = [], set()
    for i, entry in enumerate(entries):
        where = f"{source}: site #{i + 1}"
        if not isinstance(entry, dict):
            raise SiteRegistryError(f"{where}: expected a mapping, got {type(entry).__name__}")
        sid = str(entry.get("id") or "")
        where = f"{source}: site {sid or '#' + str(i + 1)}"
        if not _ID.match(sid):
            raise SiteRegistryError(f"{where}: id must match [a-z0-9][a-z0-9_-]*")
        if sid in ids:
            raise SiteRegistryError(f"{where}: duplicate id")
        ids.add(sid)
        unknown = set(entry) - {"id", "agency", "name", "base_url", "columns", "feeds", "home", "kind", "enabled", "note"}
        if unknown:
            raise SiteRegistryError(f"{where}: unknown field(s) {sorted(unknown)}")
        base = str(entry.get("base_url") or "")
        if not urlsplit(base).scheme:
            if base_url is None:
                raise SiteRegistryError(f"{where}: base_url {base!r} is relative; pass --base-url")
            base = urljoin(base_url.rstrip("/") + "/", base.lstrip("/"))
        if not base.endswith("/"):
            base += "/"
        kind = entry.get("kind", "agency")
        if kind not in ("agency", "news"):
            raise SiteRegistryError(f"{where}: kind must be agency or news, not {kind!r}")
        columns = []
        for j, col in enumerate(entry.get("columns") or []):
            cwhere = f"{where}: column #{j + 1}"
            if not isinstance(col, dict) or not col.get("name"):
                raise SiteRegistryError(f"{cwhere}: needs a name")
            ctype = col.get("type", "其他")
            if ctype not in COLUMN_TYPES:
                raise SiteRegistryError(f"{cwhere} ({col['name']}): unknown column type {ctype!r}; one of {', '.join(COLUMN_TYPES)}")
            urls = col.get("list_urls") or ([col["list_url"]] if col.get("list_url") else [])
            if not urls or not all(isinstance(u, str) and u for u in urls):
                raise SiteRegistryError(f"{cwhere} ({col['name']}): needs list_urls")
            columns.append(Column(name=col["name"], type=ctype, list_urls=[urljoin(base, u) for u in urls],
                                  item_xpath=col.get("item_xpath"), json_api=_json_api(col.get("json_api"), base, cwhere)))
        feeds = [urljoin(base, f) for f in entry.get("feeds") or []]
        if not columns and not feeds and not entry.get("home"):
            raise SiteRegistryError(f"{where}: nothing to crawl (no columns, feeds or home)")
        agency = str(entry.get("agency") or "")
        sites.append(Site(
            id=sid, agency=resolve_agency(agency) if resolve else agency, name=str(entry.get("name") or sid),
            base_url=base, columns=columns, feeds=feeds, home=urljoin(base, entry["home"]) if entry.get("home") else None,
            kind=kind, enabled=bool(entry.get("enabled", True)),
        ))
    return sites


_JSON_API_KEYS = {"endpoint", "items", "fields", "pages", "first_page"}


def _json_api(spec, base: str, where: str) -> dict | None:
    """A column's `json_api:` checked (endpoint with {page}, items path, fields among title/url/date)."""
    if spec is None:
        return None
    if not isinstance(spec, dict) or not spec.get("endpoint") or not spec.get("items"):
        raise SiteRegistryError(f"{where}: json_api needs endpoint and items")
    if unknown := set(spec) - _JSON_API_KEYS:
        raise SiteRegistryError(f"{where}: json_api: unknown field(s) {sorted(unknown)}")
    if "{page}" not in str(spec["endpoint"]):
        raise SiteRegistryError(f"{where}: json_api endpoint needs a {{page}} placeholder")
    fields = spec.get("fields") or {}
    if not isinstance(fields, dict) or set(fields) - {"title", "url", "date"}:
        raise SiteRegistryError(f"{where}: json_api fields maps title, url and date to the answer's keys")
    return {**spec, "endpoint": urljoin(base, str(spec["endpoint"])), "fields": dict(fields)}


def select_sites(sites: list[Site], site_ids: list[str] | None) -> list[Site]:
    """The named sites (all of them, disabled ones included, must exist), else every enabled site."""
    if not site_ids:
        return [s for s in sites if s.enabled]
    by_id = {s.id: s for s in sites}
    missing = [i for i in site_ids if i not in by_id]
    if missing:
        raise SiteRegistryError(f"unknown site id(s): {', '.join(missing)}; known: {', '.join(by_id)}")
    return [by_id[i] for i in site_ids]


def adhoc_site(list_url: str, agency: str = "", column_type: str = "其他", column_name: str = "") -> Site:
    """A one-column site for `zwgk crawl --url`, to try a column before registering it."""
    if column_type not in COLUMN_TYPES:
        raise SiteRegistryError(f"unknown column type {column_type!r}; one of {', '.join(COLUMN_TYPES)}")
    parts = urlsplit(list_url)
    if parts.scheme not in ("http", "https"):
        raise SiteRegistryError(f"--url must be an http(s) URL, not {list_url!r}")
    sid = "adhoc-" + re.sub(r"[^a-z0-9]+", "-", (parts.hostname or "site").lower()).strip("-")
    return Site(id=sid, agency=resolve_agency(agency), name=agency or parts.hostname or sid,
                base_url=f"{parts.scheme}://{parts.netloc}/", columns=[Column(column_name, column_type, [list_url])])
