"""Agencies a document concerns: its source agency plus registry agencies its title and body name,
as today's names (2016 names and abbreviations in either script resolve through the registry)."""

from __future__ import annotations

from zwgk.agencies import AgencyRegistry, load_registry
from zwgk.document import Document

MAX_BODY_CHARS = 2000  # agencies named deep in a long page are rarely what it is about


def document_agencies(doc: Document, registry: AgencyRegistry | None = None) -> list[str]:
    """Current names: the source agency first, then the agencies mentioned (groups such as 各区政府 left out)."""
    registry = registry or load_registry()
    names: list[str] = []
    source = registry.resolve(doc.agency) if doc.agency else None
    if source is not None and not source.is_group:
        names.append(source.name)
    text = f"{doc.title}\n{(doc.body or '')[:MAX_BODY_CHARS]}"
    for agency in registry.mentions(text, include_groups=False):
        if agency.name not in names:
            names.append(agency.name)
    return names
