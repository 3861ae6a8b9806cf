"""Scrapy items: the core record dataclasses themselves (Scrapy handles dataclass items via itemadapter),
so what the spiders yield is exactly what every later stage reads."""

from zwgk.document import Attachment, ColumnSnapshot, Document, ListItem

__all__ = ["Attachment", "ColumnSnapshot", "Document", "ListItem"]
