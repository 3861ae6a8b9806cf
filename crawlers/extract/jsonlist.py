"""Columns whose items come from a JSON endpoint the page's script calls. The endpoint and the fields
cannot be guessed reliably, so the site registry declares them (`json_api:`); `guess_api` proposes a
declaration from one answer, for `zwgk site probe` to print and a person to check."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urljoin

from crawlers.extract.dates import CST, parse_date
from crawlers.extract.paging import PageRef
from zwgk.document import ListItem

_HANZI = re.compile(r"[\u4e00-\u9fff]")


@dataclass
class JsonApi:
    """`json_api:` of a registry column. endpoint has a {page} placeholder; items, pages are dotted paths
    into the answer (data.list); fields maps title/url/date to the keys of one item."""

    endpoint: str
    items: str
    fields: dict[str, str] = field(default_factory=dict)
    pages: str | None = None  # path to the page count; without it, pages continue until one is empty
    first_page: int = 1

    def page_url(self, page: int) -> str:
        return self.endpoint.replace("{page}", str(page))


def _dig(data, path: str | None):
    for key in (path or "").split("."):
        if not key:
            continue
        if isinstance(data, list) and key.isdigit() and int(key) < len(data):
            data = data[int(key)]
        elif isinstance(data, dict):
            data = data.get(key)
        else:
            return None
    return data


def _date(value) -> str | None:
    """A JSON date: "2026-11-20 09:30:00", "2026年11月20日" or epoch seconds/milliseconds."""
    if isinstance(value, int | float) and value > 10**8:
        seconds = value / 1000 if value > 10**11 else value
        return datetime.fromtimestamp(seconds, CST).date().isoformat()
    dt = parse_date(str(value)) if value else None
    return dt.date().isoformat() if dt else None


def parse_json_list(raw: bytes | str, url: str, api: JsonApi, page: int) -> tuple[list[ListItem], list[PageRef]]:
    """(items, URLs of pages still to ask for) of the answer for `page`: every later page from the first
    answer when the count is declared, else the next page after each non-empty one."""
    data = json.loads(raw)
    rows = _dig(data, api.items) or []
    f = {"title": "title", "url": "url", "date": "date", **api.fields}
    items = []
    for row in rows if isinstance(rows, list) else []:
        link, title = _dig(row, f["url"]), _dig(row, f["title"])
        if not link or not title:
            continue
        items.append(ListItem(title=re.sub(r"\s+", " ", str(title)).strip(), url=urljoin(url, str(link)),
                              list_date=_date(_dig(row, f["date"]))))
    total = _dig(data, api.pages) if api.pages else None
    if isinstance(total, int | str) and str(total).isdigit():
        later = range(api.first_page + 1, api.first_page + int(total)) if page == api.first_page else range(0)
    else:  # no count: one more page after each non-empty one
        later = range(page + 1, page + 2) if items else range(0)
    return items, [PageRef(urljoin(url, api.page_url(n)), json_page=n) for n in later]


def _lists(data, path: str = ""):
    """Every list of objects in an answer, with its dotted path."""
    if isinstance(data, list) and data and all(isinstance(x, dict) for x in data):
        yield path, data
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _lists(value, f"{path}.{key}".lstrip("."))


def guess_api(data, endpoint: str) -> JsonApi | None:
    """A declaration for an endpoint from one answer: the longest list of objects, its link, date and
    title keys (by what their values look like) and a page count key next to it."""
    found = max(_lists(data), key=lambda pl: len(pl[1]), default=None)
    if not found:
        return None
    path, rows = found
    keys = [k for k in rows[0] if all(k in r for r in rows)]

    def share(test) -> dict[str, float]:
        return {k: sum(bool(test(r[k])) for r in rows) / len(rows) for k in keys}

    links = share(lambda v: isinstance(v, str) and re.search(r"^(?:https?://|/|\.\.?/)|\.s?html?$", v))
    dates = share(lambda v: _date(v) is not None and not (isinstance(v, str) and "/" in v and not re.search(r"\d-", v)))
    titles = {k: sum(len(_HANZI.findall(str(r[k]))) for r in rows) / len(rows) for k in keys}
    url_key = max(links, key=links.get, default=None)
    date_key = max(dates, key=dates.get, default=None)
    title_key = max((k for k in titles if k not in (url_key, date_key)), key=titles.get, default=None)
    if not url_key or links[url_key] < 0.8 or not title_key or titles[title_key] < 2:
        return None
    parent = _dig(data, path.rsplit(".", 1)[0]) if "." in path else data
    pages = None
    for holder, prefix in ((parent, path.rsplit(".", 1)[0] + "." if "." in path else ""), (data, "")):
        if isinstance(holder, dict):
            pages = next((prefix + k for k, v in holder.items() if re.fullmatch(r"(?i)(?:total)?_?pages?(?:count|num|total)?|pagecount|totalpage", k)
                          and isinstance(v, int)), None)
        if pages:
            break
    fields = {"title": title_key, "url": url_key}
    if date_key and dates[date_key] >= 0.8:
        fields["date"] = date_key
    return JsonApi(endpoint=endpoint, items=path, fields=fields, pages=pages)
