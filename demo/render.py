"""Render the demo agency web from its data (demo/sites/*.yaml) into a table of URL paths → responses.

Dates are day offsets from a "today", so freshness facts stay true whenever the demo runs. Rendering
happens once at server start; the server then only looks responses up.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from email.utils import format_datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from jinja2 import Environment, FileSystemLoader, select_autoescape

HERE = Path(__file__).parent
SITES_DIR = HERE / "sites"
CST = timezone(timedelta(hours=8))

# where each CMS style puts the article text (the containers real TRS/Hanweb/UCAP sites use)
CONTAINERS = {
    "trs": 'class="TRS_Editor"',
    "zoom": 'id="zoom"',
    "ucap": 'id="UCAP-CONTENT"',
    "pages": 'class="pages_content"',
    "news": 'class="article-content"',
    "view": 'class="view"',
}
ROBOTS_TXT = """User-agent: *
Disallow: /www/private/
Disallow: /trap/robots-only/
"""


@dataclass
class Resource:
    """One response the server can give."""

    body: bytes
    content_type: str = "text/html"
    status: int = 200
    last_modified: datetime | None = None  # None: the site sends no validators
    etag: str | None = None


@dataclass
class Attachment:
    name: str
    path: str


@dataclass
class Related:
    label: str
    path: str
    title: str


@dataclass
class Article:
    id: str
    title: str
    published: datetime
    path: str
    data: dict[str, Any]
    column_id: str
    source: str = ""
    meta: bool = True
    date_display: str = "line"
    paragraphs: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    related: list[Related] = field(default_factory=list)
    doc_number: str | None = None
    written: datetime | None = None
    status: int = 200

    def __getattr__(self, name: str) -> Any:  # template access to extra data keys
        try:
            return self.__dict__["data"][name]
        except KeyError:
            raise AttributeError(name) from None

    def list_date(self, column: Column) -> str:
        d = self.published.date()
        if column.list_date_format == "bracket":
            return f"[{d.isoformat()}]"
        if column.list_date_format == "cn":
            return f"{d.year}年{d.month:02d}月{d.day:02d}日"
        return d.isoformat()

    @property
    def visible_time(self) -> str:
        p = self.published
        if self.data.get("_style") == "trs":
            return p.strftime("%Y-%m-%d %H:%M")
        return f"{p.year}年{p.month}月{p.day}日 {p:%H:%M}"

    @property
    def rfc822(self) -> str:
        return format_datetime(self.published)

    @property
    def iso(self) -> str:
        return self.published.isoformat()


@dataclass
class Column:
    id: str
    name: str
    site: Site
    pagination: str = "none"
    per_page: int = 20
    list_dates: bool = True
    list_date_format: str = "iso"
    status: int = 200
    layout: str = "ul"  # ul | table | datastore (Hanweb jpage: items as CDATA records in a script)
    articles: list[Article] = field(default_factory=list)

    def list_path(self, page: int) -> str:
        base = f"{self.site.root}{self.id}/"
        return f"{base}index.html" if page == 0 else f"{base}index_{page}.html"

    @property
    def pages(self) -> int:
        if self.pagination == "none":
            return 1
        return max(1, -(-len(self.articles) // self.per_page))


@dataclass
class Site:
    id: str
    name: str
    data: dict[str, Any]
    columns: list[Column] = field(default_factory=list)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["data"].get(name, "")
        except KeyError:
            raise AttributeError(name) from None

    @property
    def root(self) -> str:
        return f"/{self.id}/"

    @property
    def container_attr(self) -> str:
        return CONTAINERS[self.data.get("style", "trs")]


def load_site_data(sites_dir: Path = SITES_DIR) -> list[dict[str, Any]]:
    """The demo sites' content, one YAML file per site."""
    return [yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted(sites_dir.glob("*.yaml"))]


def filler_paragraphs(title: str, source: str) -> list[str]:
    """Plain body text for list items that carry only a title in the data: the title and who issued it.
    No shared boilerplate paragraph: forty pages opening with the same 100 characters read as one story
    to the events grouping (events/signature.py compares title + lead), which no real site's pages are."""
    return [f"{title}。", f"（来源：{source or '本网'}）"]


def build_sites(today: date, data: list[dict[str, Any]] | None = None) -> list[Site]:
    """Turn site data into Site/Column/Article objects with absolute dates."""
    sites = []
    for sd in data if data is not None else load_site_data():
        site = Site(id=sd["id"], name=sd["name"], data=sd)
        by_ref: dict[str, Article] = {}
        for cd in sd.get("columns", []):
            col = Column(
                id=cd["id"], name=cd["name"], site=site, pagination=cd.get("pagination", "none"),
                per_page=cd.get("per_page", 20), list_dates=cd.get("list_dates", True),
                list_date_format=cd.get("list_date_format", "iso"), status=cd.get("status", 200),
                layout=cd.get("list_layout", sd.get("list_layout", "ul")),
            )
            for item in cd.get("items") or []:
                art = _build_article(site, col, cd, item, today)
                col.articles.append(art)
                by_ref[f"{col.id}/{art.id}"] = art
            col.articles.sort(key=lambda a: a.published, reverse=True)
            site.columns.append(col)
        for col, cd in zip(site.columns, sd.get("columns", []), strict=True):
            for item in cd.get("items") or []:
                art = by_ref[f"{col.id}/{item['id']}"]
                art.related = [
                    Related(r["label"], by_ref[r["ref"]].path, by_ref[r["ref"]].title) for r in item.get("related", [])
                ]
        sites.append(site)
    return sites


def _build_article(site: Site, col: Column, cd: dict, item: dict, today: date) -> Article:
    sd = site.data
    day = today - timedelta(days=item["days"])
    hh, mm = (int(x) for x in str(item.get("time", "10:00")).split(":"))
    published = datetime.combine(day, time(hh, mm), tzinfo=CST)
    written = None
    if "written_days" in item:
        written = datetime.combine(today - timedelta(days=item["written_days"]), time(0, 0), tzinfo=CST)
    if item.get("path"):
        path = f"{site.root}{item['path']}"
    elif item.get("url_date", True):
        path = f"{site.root}{col.id}/{day:%Y%m}/t{day:%Y%m%d}_{item['id']}.html"
    else:
        path = f"{site.root}{col.id}/art_{item['id']}.html"
    source = item.get("source") or item.get("issuer") or sd.get("agency") or sd["name"]
    meta = item.get("meta", cd.get("meta", sd.get("meta", True)))
    display = item.get("date_display", cd.get("date_display", sd.get("date_display", "line")))
    if display == "line_only":
        meta = False
    paragraphs = [
        p.replace("{written_date}", f"{written.year}年{written.month}月{written.day}日" if written else "")
        for p in item.get("paragraphs") or filler_paragraphs(item["title"], source)
    ]
    data = dict(item)
    data["_style"] = sd.get("style", "trs")
    data.setdefault("encoding", sd.get("encoding", "utf-8"))
    return Article(
        id=str(item["id"]), title=item["title"], published=published, path=path, data=data, column_id=col.id,
        source=source, meta=meta, date_display=display, paragraphs=paragraphs,
        attachments=[Attachment(a["name"], f"{site.root}{col.id}/{day:%Y%m}/{a['file']}") for a in item.get("attachments", [])],
        doc_number=item.get("doc_number"), written=written, status=item.get("status", 200),
    )


@lru_cache(maxsize=1)
def _env() -> Environment:
    return Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html", "xml"]))


def _charset_label(encoding: str) -> str:
    return {"gbk": "gb2312", "big5": "big5", "utf-8": "utf-8"}.get(encoding, encoding)


def _encode(text: str, encoding: str) -> bytes:
    return text.encode(encoding, errors="xmlcharrefreplace")


def _etag(body: bytes) -> str:
    return '"' + hashlib.md5(body).hexdigest()[:16] + '"'


def _html_resource(site: Site, html: str, encoding: str, newest: datetime | None, start: datetime) -> Resource:
    body = _encode(html, encoding)
    # old CMSs send no charset in the header; the page's meta tag (right or wrong) is all a client gets
    ctype = "text/html; charset=utf-8" if encoding == "utf-8" and site.encoding == "utf-8" else "text/html"
    if not site.data.get("validators"):
        return Resource(body, ctype)
    return Resource(body, ctype, last_modified=newest or start, etag=_etag(body))


def render_routes(today: date, base_url: str, data: list[dict[str, Any]] | None = None) -> dict[str, Resource]:
    """Every path of the demo web → its Resource (404 for anything not listed)."""
    env = _env()
    start = datetime.combine(today, time(0, 0), tzinfo=CST)
    routes: dict[str, Resource] = {"/robots.txt": Resource(ROBOTS_TXT.encode(), "text/plain")}
    routes["/index.html"] = Resource(_portal_index(build_sites(today, data)).encode("utf-8"), "text/html; charset=utf-8")
    routes["/"] = routes["/index.html"]
    for site in build_sites(today, data):
        enc = site.data.get("encoding", "utf-8")
        common = {"site": site, "year": today.year, "declared_charset": _charset_label(enc)}
        blocks = [(c, [a for a in c.articles if a.status == 200][:5]) for c in site.columns if c.status == 200]
        newest = max((a.published for c in site.columns for a in c.articles), default=None)
        home = env.get_template("home.html").render(blocks=blocks, **common)
        routes[site.root + "index.html"] = _html_resource(site, home, enc, newest, start)
        routes[site.root] = routes[site.root + "index.html"]
        for col in site.columns:
            for page in range(col.pages):
                items = col.articles if col.pagination == "none" else col.articles[page * col.per_page:(page + 1) * col.per_page]
                html = env.get_template("list.html").render(column=col, items=items, page=page, pages=col.pages, **common)
                res = _html_resource(site, html, enc, max((a.published for a in items), default=None), start)
                if col.status != 200:
                    res = Resource(_error_page(col.status), "text/html; charset=utf-8", status=col.status)
                routes[col.list_path(page)] = res
            for art in col.articles:
                for f in art.attachments:
                    routes[f.path] = Resource(b"%PDF-1.4 demo attachment\n", "application/octet-stream")
                if art.status != 200:
                    continue  # a dead link: listed, never served
                a_enc = art.data.get("encoding", enc)
                declared = art.data.get("declared_charset") or _charset_label(a_enc)
                html = env.get_template("article.html").render(
                    a=art, column=col, **{**common, "declared_charset": declared}
                )
                if art.data.get("traditional"):
                    html = _to_traditional(html)
                res = _html_resource(site, html, a_enc, art.published, start)
                if a_enc != "utf-8":
                    res.content_type = "text/html"
                routes[art.path] = res
        for feed in site.data.get("feeds", []):
            col = site.columns[0]
            items = [a for a in col.articles if a.status == 200]
            items = [a for a in items if not a.data.get("traditional")] if feed == "atom" else items
            abs_items = [_absolute(a, base_url) for a in items]
            tpl = env.get_template("rss.xml" if feed == "rss" else "atom.xml")
            xml = tpl.render(site=_SiteView(site, base_url), column=col, items=abs_items,
                             updated=items[0].published.isoformat() if items else start.isoformat())
            ctype = "application/rss+xml; charset=utf-8" if feed == "rss" else "application/atom+xml; charset=utf-8"
            body = xml.encode("utf-8")
            routes[f"{site.root}{feed}.xml"] = Resource(body, ctype, last_modified=items[0].published if items else start,
                                                        etag=_etag(body))
    return routes


class _SiteView:
    """A site with absolute URLs, for feeds."""

    def __init__(self, site: Site, base_url: str):
        self._site, self.root = site, base_url.rstrip("/") + site.root

    def __getattr__(self, name: str) -> Any:
        return getattr(self._site, name)


def _absolute(art: Article, base_url: str) -> Article:
    copy = Article(**{k: v for k, v in art.__dict__.items()})
    copy.path = base_url.rstrip("/") + art.path
    return copy


@lru_cache(maxsize=1)
def _s2t():
    import opencc

    return opencc.OpenCC("s2t")


def _to_traditional(html: str) -> str:
    """A traditional-script page (the Big5 article), labels included (發佈時間, 來源)."""
    return re.sub(r"[\u4e00-\u9fff]+", lambda m: _s2t().convert(m.group(0)), html)


def _error_page(status: int) -> bytes:
    return f"<html><head><title>{status}</title></head><body><h1>{status} 服务器错误</h1></body></html>".encode()


def _portal_index(sites: list[Site]) -> str:
    links = "".join(f'<li><a href="{s.root}index.html">{s.name}</a></li>' for s in sites)
    return f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>演示政府网站群</title></head><body><h1>演示政府网站群</h1><ul>{links}</ul></body></html>'
