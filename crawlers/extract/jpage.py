"""Hanweb (大汉) "jpage" lists: the column page embeds its first records as CDATA in
`<script type="text/xml"><datastore><recordset><record>…`, and the jpage script fetches later ranges by
POST to /module/web/jpage/dataproxy.jsp?startrecord=N&endrecord=M&perpage=P with a form of the column's
ids (columnid, unitid, webid, …). Everything the proxy needs is declared by the page itself."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

from crawlers.extract.paging import PageRef

RECORD_RE = re.compile(r"<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.S | re.I)
DEFAULT_PROXY = "/module/web/jpage/dataproxy.jsp"
# the form fields the data proxy reads; anything else the page declares is left out
FORM_KEYS = ("col", "appid", "webid", "path", "columnid", "sourceContentType", "unitid", "webname", "permissiontype")
_RANGE_KEYS = {"page", "startrecord", "endrecord", "perpage"}
_NEXTGROUP = re.compile(r"<nextgroup>\s*<!\[CDATA\[.*?href=['\"]([^'\"]+)['\"]", re.S | re.I)
_PROXY = re.compile(r"proxyUrl\s*[:=]\s*['\"]([^'\"]+)['\"]", re.I)
_PER_PAGE = re.compile(r"(?:perPage\s*[:=]\s*['\"]?|<perpage>\s*)(\d+)", re.I)
_TOTAL = re.compile(r"(?:totalRecord\s*[:=]\s*['\"]?|<totalrecord>\s*)(\d+)", re.I)
_JS_PARAM = re.compile(r"['\"]?(" + "|".join(FORM_KEYS) + r")['\"]?\s*:\s*(?:'([^']*)'|\"([^\"]*)\"|(\d+))", re.I)


@dataclass
class JpagePlan:
    proxy_url: str
    form: dict[str, str]
    per_page: int
    total: int | None
    embedded: int


def is_jpage(html: str) -> bool:
    return "<datastore" in html.lower() and bool(RECORD_RE.search(html))


def expand_datastore(html: str) -> str:
    """Make the datastore records real markup (a <ul> before </body>) so the links in them can be parsed."""
    records = RECORD_RE.findall(html)
    if not records:
        return html
    block = '<ul class="zwgk-datastore">' + "".join(records) + "</ul>"
    at = html.lower().rfind("</body>")
    return html[:at] + block + html[at:] if at >= 0 else html + block


def jpage_plan(html: str, url: str) -> JpagePlan | None:
    """The proxy, form, page size and record count a jpage column declares; None for other pages."""
    if not is_jpage(html) or "dataproxy" in urlsplit(url).path:
        return None  # a proxy answer is a range, not a plan
    form: dict[str, str] = {}
    proxy = None
    if m := _NEXTGROUP.search(html):  # <nextgroup><a href="/module/web/jpage/dataproxy.jsp?page=1&columnid=…">
        href = urljoin(url, m.group(1).replace("&amp;", "&"))
        proxy = href.split("?")[0]
        form.update((k, v) for k, v in parse_qsl(urlsplit(href).query, keep_blank_values=True) if k not in _RANGE_KEYS)
    for key, quoted1, quoted2, number in _JS_PARAM.findall(html):  # jpage({… columnid: 4584, unitid: '325' …})
        canonical = next(k for k in FORM_KEYS if k.lower() == key.lower())
        form.setdefault(canonical, quoted1 or quoted2 or number)
    if m := _PROXY.search(html):
        proxy = urljoin(url, m.group(1))
    per_page = int(m.group(1)) if (m := _PER_PAGE.search(html)) else 0
    total = int(m.group(1)) if (m := _TOTAL.search(html)) else None
    embedded = len(RECORD_RE.findall(html))
    return JpagePlan(proxy or urljoin(url, DEFAULT_PROXY), form, per_page or embedded, total, embedded)


def proxy_pages(plan: JpagePlan, max_pages: int) -> list[PageRef]:
    """The POSTs for the records after the embedded ones, one page (never more than per_page) each."""
    if not plan.total or plan.per_page <= 0 or "columnid" not in plan.form:
        return []  # without a count or the column's id the proxy cannot be asked politely
    pages = []
    for start in range(plan.embedded + 1, plan.total + 1, plan.per_page):
        if len(pages) >= max_pages:
            break
        end = min(start + plan.per_page - 1, plan.total)
        query = urlencode({"startrecord": start, "endrecord": end, "perpage": plan.per_page})
        pages.append(PageRef(f"{plan.proxy_url}?{query}", form=dict(plan.form)))
    return pages
