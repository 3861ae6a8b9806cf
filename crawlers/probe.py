"""`zwgk site probe URL`: look at one column page (politely: robots.txt, our User-Agent, a pause between
requests) and say what the crawler will make of it — CMS family, pagination, items and pages, how list
dates are shown, whether a sample article has meta tags and a disclosure table — plus a site-registry
entry ready to paste. Everything that can go wrong ends in a ProbeError with a one-line message."""

from __future__ import annotations

import json
import re
import time
import urllib.robotparser
from dataclasses import asdict, dataclass, field
from urllib.parse import urljoin, urlsplit

from lxml import html as lhtml

from crawlers import settings as crawl_settings
from crawlers.extract import dates, gkml
from crawlers.extract.encoding import decode_html, looks_binary
from crawlers.extract.jpage import jpage_plan
from crawlers.extract.jsonlist import JsonApi, guess_api, parse_json_list
from crawlers.extract.listing import ListPage, parse_list
from zwgk.document import ListItem

FAMILY_NAMES = {
    "trs": "TRS (createPageHTML script pagination)",
    "hanweb": "Hanweb 大汉 jpage (embedded datastore + POST data proxy)",
    "gkml": "政府信息公开目录 catalogue table (索引号/文号/发布日期)",
    "links": "plain pager links (下一页 / index_N.html / ?page=N)",
    "json": "JSON endpoint called by the page's script",
    "static": "a single static list page (no pagination found)",
    "unknown": "unknown layout",
}
META_TAGS = ("ArticleTitle", "PubDate", "ContentSource", "ColumnName", "SiteName")
# "url: '/api/list?page=' + pageNo (+ '&x=1')", $.getJSON('…' + page), fetch("…" + n)
_SCRIPT_ENDPOINT = re.compile(
    r"""(?:url\s*:|getJSON\(|\$\.get\(|fetch\(|axios\.get\()\s*(['"])(?P<head>[^'"]+)\1\s*\+\s*(?P<var>\w+)"""
    r"""(?:\s*\+\s*(['"])(?P<tail>[^'"]*)\5)?""")
_SHOWN_DATE = [
    (re.compile(r"\[\d{4}-\d{1,2}-\d{1,2}\]"), "[YYYY-MM-DD]"),
    (re.compile(r"\d{4}-\d{1,2}-\d{1,2}"), "YYYY-MM-DD"),
    (re.compile(r"\d{4}年\d{1,2}月\d{1,2}日"), "YYYY年MM月DD日"),
    (re.compile(r"\d{4}[/.]\d{1,2}[/.]\d{1,2}"), "YYYY/MM/DD"),
    (re.compile(r"\[\d{1,2}-\d{1,2}\]"), "[MM-DD]"),
    (re.compile(r"(?<![\d-])\d{1,2}-\d{2}(?![\d-])"), "MM-DD"),
    (re.compile(r"\d{1,2}月\d{1,2}日"), "MM月DD日"),
]


class ProbeError(Exception):
    """The probe could not look at the page; the message is one line for the user."""


@dataclass
class ProbeReport:
    url: str
    family: str
    pagination: str
    items: int
    pages: int | None
    date_formats: list[str] = field(default_factory=list)
    encoding: str = ""
    sample_article: str | None = None
    meta_tags: list[str] = field(default_factory=list)
    disclosure_table: bool | None = None
    sample_date: str | None = None
    found: list[str] = field(default_factory=list)  # what was seen, for an unknown layout
    entry: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)

    def registry_yaml(self) -> str:
        import yaml

        return yaml.safe_dump({"sites": [self.entry]}, allow_unicode=True, sort_keys=False, width=120)

    def text(self) -> str:
        lines = [f"column:     {self.url}",
                 f"family:     {self.family} — {FAMILY_NAMES.get(self.family, '')}",
                 f"pagination: {self.pagination}",
                 f"items:      {self.items} on the first page; pages: {self.pages if self.pages else 'unknown'}",
                 f"dates:      {', '.join(self.date_formats) or 'none shown'}"
                 + (" (year taken from each article)" if any(f.startswith(("MM", "[MM")) for f in self.date_formats) else ""),
                 f"encoding:   {self.encoding}"]
        if self.sample_article:
            lines += [f"sample:     {self.sample_article}",
                      f"  meta tags: {', '.join(self.meta_tags) or 'none'}; disclosure table: {'yes' if self.disclosure_table else 'no'};"
                      f" publish date: {self.sample_date or 'not found'}"]
        if self.found:
            lines.append("found:      " + "; ".join(self.found))
        if self.entry:
            lines += ["", "# site-registry entry (check agency, names and column type):", self.registry_yaml().rstrip()]
        return "\n".join(lines)


class PoliteFetcher:
    """GETs that obey robots.txt, send our User-Agent and pause `delay` seconds between requests."""

    def __init__(self, delay: float = 1.0, timeout: float = 15.0, user_agent: str = crawl_settings.USER_AGENT):
        import requests

        self.session = requests.Session()
        self.session.headers["User-Agent"] = user_agent
        self.delay, self.timeout, self.user_agent = delay, timeout, user_agent
        self.robots: dict[str, urllib.robotparser.RobotFileParser] = {}
        self.last = 0.0
        self.count = 0

    def _get(self, url: str):
        import requests

        wait = self.last + self.delay - time.monotonic()
        if self.count and wait > 0:
            time.sleep(wait)
        self.count += 1
        try:
            return self.session.get(url, timeout=self.timeout, allow_redirects=True)
        except requests.exceptions.Timeout:
            raise ProbeError(f"{url}: timed out after {self.timeout:g} s") from None
        except requests.exceptions.ConnectionError as exc:
            reason = "connection refused" if "refused" in str(exc).lower() else "could not connect"
            raise ProbeError(f"{url}: {reason}") from None
        except requests.exceptions.RequestException as exc:
            raise ProbeError(f"{url}: {type(exc).__name__}") from None
        finally:
            self.last = time.monotonic()

    def allowed(self, url: str) -> bool:
        parts = urlsplit(url)
        root = f"{parts.scheme}://{parts.netloc}"
        if root not in self.robots:
            parser = urllib.robotparser.RobotFileParser()
            response = self._get(root + "/robots.txt")
            parser.parse(response.text.splitlines() if response.status_code == 200 else [])
            self.robots[root] = parser
        return self.robots[root].can_fetch(self.user_agent, url)

    def fetch(self, url: str) -> tuple[bytes, str]:
        """(body, content type) of a 200 answer; ProbeError for anything else."""
        if not self.allowed(url):
            raise ProbeError(f"{url}: disallowed by robots.txt")
        response = self._get(url)
        if response.status_code >= 400:
            raise ProbeError(f"{url}: HTTP {response.status_code}")
        if looks_binary(response.content):
            raise ProbeError(f"{url}: not a web page (binary content)")
        return response.content, response.headers.get("Content-Type", "")


def probe(url: str, fetcher: PoliteFetcher | None = None) -> ProbeReport:
    """Everything `zwgk site probe` reports about one column page."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ProbeError(f"{url!r} is not an http(s) URL")
    fetcher = fetcher or PoliteFetcher()
    body, ctype = fetcher.fetch(url)
    html, encoding = decode_html(body, ctype)
    page = parse_list(html, url)
    report = ProbeReport(url=url, family=page.family, pagination="", items=len(page.items), pages=None, encoding=encoding)
    items, shown_in, api = page.items, html, None
    if page.family == "gkml" and not page.items and page.page_urls:  # the catalogue is in an iframe
        frame_body, frame_type = fetcher.fetch(page.page_urls[0])
        shown_in, _ = decode_html(frame_body, frame_type)
        frame = parse_list(shown_in, page.page_urls[0])
        items = frame.items
        report.pagination = f"catalogue in an iframe ({page.page_urls[0]}); " + _pager(frame)
        report.pages = _page_count(frame)
    elif not page.items and (found := _script_endpoint(html, url)):
        api, items, pages = _probe_json(fetcher, *found)
        report.family, report.pagination, report.pages = "json", f"JSON endpoint {api.endpoint}", pages
        shown_in = ""
    elif page.family == "hanweb":
        plan = jpage_plan(html, url)
        report.pages = -(-plan.total // plan.per_page) if plan and plan.total and plan.per_page else None
        report.pagination = (f"{plan.embedded} records embedded; data proxy {plan.proxy_url} (POST, {plan.per_page} a page, "
                             f"{plan.total} records; form {', '.join(f'{k}={v}' for k, v in plan.form.items() if k in ('columnid', 'unitid', 'webid'))})")
    else:
        report.pagination = _pager(page)
        report.pages = _page_count(page)
    report.items = len(items)
    report.date_formats = _date_formats(items, shown_in) if shown_in else (["YYYY-MM-DD (JSON)"] if any(i.list_date for i in items) else [])
    if not items:
        report.family = "unknown"
        report.found = _what_was_found(lhtml.document_fromstring(html) if html.strip() else None, html)
        return report
    _sample(fetcher, items[0], report)
    report.entry = _entry(url, html, api)
    return report


def _pager(page: ListPage) -> str:
    if page.family == "trs":
        return f"createPageHTML script: {len(page.page_urls) + 1} pages (index.html, index_1.html, …)"
    if page.page_urls or page.next_url:
        shown = page.page_urls or [page.next_url]
        return f"pager links: {', '.join(urlsplit(u).path + ('?' + urlsplit(u).query if urlsplit(u).query else '') for u in shown[:4])}"
    return "none (one page)"


def _page_count(page: ListPage) -> int | None:
    """Pages the pager names (the first one included); None when only a 下一页 link is seen."""
    if page.page_urls:
        return len(page.page_urls) + 1
    return 1 if not page.next_url else None


def _script_endpoint(html: str, url: str) -> tuple[str, str] | None:
    """(endpoint with {page}, page-1 URL) from an inline script building `'…pageNo=' + pageNo`."""
    for m in _SCRIPT_ENDPOINT.finditer(html):
        if "page" in m.group("var").lower() or m.group("head").rstrip().endswith("="):
            endpoint = m.group("head") + "{page}" + (m.group("tail") or "")
            return endpoint, urljoin(url, endpoint.replace("{page}", "1"))
    return None


def _probe_json(fetcher: PoliteFetcher, endpoint: str, first: str) -> tuple[JsonApi, list[ListItem], int | None]:
    body, _ = fetcher.fetch(first)
    try:
        data = json.loads(body)
    except ValueError:
        raise ProbeError(f"{first}: the script's endpoint does not answer JSON") from None
    api = guess_api(data, endpoint)
    if api is None:
        raise ProbeError(f"{first}: JSON answer without a recognisable list of items (title and link)")
    items, later = parse_json_list(body, first, api, api.first_page)
    return api, items, (len(later) + 1 if api.pages else None)


def _date_formats(items: list[ListItem], html: str) -> list[str]:
    """How the list shows its dates: the first date-like text after each item's title."""
    found: list[str] = []
    for item in items[:20]:
        at = html.find(item.title)
        if at < 0:
            continue
        after = re.sub(r"<[^>]+>", " ", html[at + len(item.title): at + len(item.title) + 300])
        for pattern, name in _SHOWN_DATE:
            if pattern.search(after):
                if name not in found:
                    found.append(name)
                break
    return found


def _sample(fetcher: PoliteFetcher, item: ListItem, report: ProbeReport) -> None:
    from crawlers.extract.article import extract_article

    report.sample_article = item.url
    try:
        body, ctype = fetcher.fetch(item.url)
    except ProbeError as exc:
        report.found.append(f"sample article not fetched ({exc})")
        return
    html, _ = decode_html(body, ctype)
    tree = lhtml.document_fromstring(html)
    names = {(el.get("name") or "").lower() for el in tree.iter("meta")}
    report.meta_tags = [t for t in META_TAGS if t.lower() in names]
    report.disclosure_table = dates.table_date(tree) is not None or gkml.is_catalogue(tree) or "索引号" in tree.text_content()
    fields = extract_article(body, item.url, ctype, list_date=item.list_date)
    report.sample_date = fields.published_at


def _what_was_found(tree: lhtml.HtmlElement | None, html: str) -> list[str]:
    if tree is None:
        return ["an empty page"]
    links = [a for a in tree.iter("a") if a.get("href")]
    scripts = [s for s in tree.iter("script")]
    return [f"{len(links)} links", f"{len(scripts)} scripts ({sum(1 for s in scripts if s.get('src'))} external)",
            f"{len(list(tree.iter('iframe')))} iframes", f"{len(list(tree.iter('table')))} tables",
            f"{len(html)} characters", "no list of dated article links, no known pagination or data endpoint"]


def _names(html: str) -> tuple[str, str]:
    """(site name, column name) from SiteName/ColumnName meta tags, else the <title>."""
    tree = lhtml.document_fromstring(html)
    meta = {(el.get("name") or "").lower(): (el.get("content") or "").strip() for el in tree.iter("meta")}
    title = (tree.findtext(".//title") or "").strip()
    parts = [p.strip() for p in re.split(r"[_|\-—–]| - |\s{1,}", title) if p.strip()]
    column = meta.get("columnname") or (parts[0] if parts else "")
    site = meta.get("sitename") or (parts[-1] if len(parts) > 1 else "")
    return site, column


def _entry(url: str, html: str, api: JsonApi | None) -> dict:
    parts = urlsplit(url)
    host = (parts.hostname or "site").lower()
    slug = re.sub(r"[^a-z0-9]+", "-", re.sub(r"^www\.|\.gov\.cn$|\.(?:com|cn|org)$", "", host)).strip("-") or "site"
    if parts.port:
        slug += f"-{parts.port}"
    site_name, column_name = _names(html)
    column: dict = {"name": column_name or "栏目", "type": "其他",
                    "list_urls": [parts.path.lstrip("/") + (f"?{parts.query}" if parts.query else "")]}
    if api:
        base = f"{parts.scheme}://{parts.netloc}/"
        column["json_api"] = {"endpoint": urljoin(url, api.endpoint).removeprefix(base), "items": api.items,
                              "fields": api.fields, **({"pages": api.pages} if api.pages else {})}
    return {"id": slug, "agency": site_name, "name": site_name or host, "base_url": f"{parts.scheme}://{parts.netloc}/",
            "columns": [column]}
