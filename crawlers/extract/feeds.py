"""RSS 2.0 and Atom feeds → list items with their publish times."""

from __future__ import annotations

from datetime import datetime
from email.utils import parsedate_to_datetime

from lxml import etree

from crawlers.extract.dates import CST, parse_date
from zwgk.document import ListItem

ATOM = "{http://www.w3.org/2005/Atom}"


def _when(text: str | None) -> datetime | None:
    if not text:
        return None
    text = text.strip()
    try:
        dt = parsedate_to_datetime(text)  # RFC 822 (RSS)
    except (TypeError, ValueError, IndexError):
        try:
            dt = datetime.fromisoformat(text.replace("Z", "+00:00"))  # RFC 3339 (Atom)
        except ValueError:
            return parse_date(text)
    return dt.astimezone(CST) if dt.tzinfo else dt.replace(tzinfo=CST)


def parse_feed(body: bytes, url: str = "") -> list[tuple[ListItem, datetime | None]]:
    """(item, published) for each entry of an RSS or Atom document; [] for anything unparsable."""
    try:
        root = etree.fromstring(body, parser=etree.XMLParser(recover=True, resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError:
        return []
    if root is None:
        return []
    out: list[tuple[ListItem, datetime | None]] = []
    if root.tag == f"{ATOM}feed":
        for entry in root.iter(f"{ATOM}entry"):
            link = entry.find(f"{ATOM}link")
            href = link.get("href") if link is not None else entry.findtext(f"{ATOM}id")
            when = _when(entry.findtext(f"{ATOM}published") or entry.findtext(f"{ATOM}updated"))
            title = (entry.findtext(f"{ATOM}title") or "").strip()
            if href:
                out.append((ListItem(title=title, url=href.strip(), list_date=when.date().isoformat() if when else None), when))
        return out
    for item in root.iter("item"):
        href = (item.findtext("link") or item.findtext("guid") or "").strip()
        when = _when(item.findtext("pubDate") or item.findtext("{http://purl.org/dc/elements/1.1/}date"))
        if href:
            title = (item.findtext("title") or "").strip()
            out.append((ListItem(title=title, url=href, list_date=when.date().isoformat() if when else None), when))
    return out
