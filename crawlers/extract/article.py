"""One article page → the crawl fields of a Document (pure: bytes in, fields out)."""

from __future__ import annotations

from dataclasses import dataclass, field

from crawlers.extract import body as body_mod
from crawlers.extract import dates, meta
from crawlers.extract.encoding import decode_html
from zwgk.document import Attachment


@dataclass
class ArticleFields:
    title: str = ""
    published_at: str | None = None
    date_source: str | None = None
    source: str | None = None  # the publishing agency as the page names it
    column: str | None = None
    body: str = ""
    attachments: list[Attachment] = field(default_factory=list)
    doc_number: str | None = None
    related_urls: list[str] = field(default_factory=list)
    encoding: str = "utf-8"


def extract_article(raw: bytes | str, url: str, content_type: str | None = None,
                    list_date: str | None = None, feed_date: str | None = None) -> ArticleFields:
    """Every field of an article page; feed_date (ISO, from RSS/Atom) ranks just below the page's own dates."""
    if isinstance(raw, bytes):
        html, encoding = decode_html(raw, content_type)
    else:
        html, encoding = raw, "utf-8"
    tree = body_mod.parse(html)
    text, node = body_mod.extract_body(tree, html)
    published, source = dates.publish_time(tree, url, node, list_date=list_date, feed_date=feed_date)
    return ArticleFields(
        title=meta.extract_title(tree),
        published_at=published,
        date_source=source,
        source=meta.extract_source(tree),
        column=meta.extract_column(tree),
        body=text,
        attachments=meta.extract_attachments(tree, url),
        doc_number=meta.extract_doc_number(tree, text),
        related_urls=meta.extract_related(tree, url),
        encoding=encoding,
    )
