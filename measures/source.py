"""Reading the indices the measures are computed from: alias names, mapping probes, paged aggregations."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from elasticsearch import BadRequestError, Elasticsearch, NotFoundError

from zwgk.batches import batches
from zwgk.prefetch import Prefetch

log = logging.getLogger(__name__)

# Buckets per page of a composite aggregation. Elasticsearch visits every matching document for each page (its
# early termination needs a match_all query or an index sorted on the sources), so the pages' count multiplies the
# cost: on a 294,000-column sweep, the weekly freshness took 135 s in pages of 2,000 and 101 s in pages of 10,000.
# A page's buckets and its sub-aggregations' buckets count against the cluster's search.max_buckets (65,536 by
# default): a page the cluster refuses is asked again at half the size.
COMPOSITE_PAGE = 10_000


def field_type(client: Elasticsearch, index: str, path: str) -> str | None:
    """Mapping type of a field path ('items' → 'nested' or 'object'); None when unmapped."""
    try:
        mappings = client.indices.get_mapping(index=index)
    except NotFoundError:
        return None
    for body in mappings.body.values():
        props: dict[str, Any] = body.get("mappings", {}).get("properties", {})
        node: dict[str, Any] | None = None
        for part in path.split("."):
            node = props.get(part)
            if node is None:
                break
            props = node.get("properties", {})
        if node is not None:
            return node.get("type", "object")
    return None


def composite(
    client: Elasticsearch,
    index: str,
    sources: list[dict[str, Any]],
    query: dict[str, Any] | None = None,
    aggs: dict[str, Any] | None = None,
    nested_path: str | None = None,
    nested_filter: dict[str, Any] | None = None,
    size: int = COMPOSITE_PAGE,
) -> Iterator[dict[str, Any]]:
    """Every bucket of a composite aggregation, paged with after_key (scales to any number of buckets).

    With nested_path the composite runs inside a nested aggregation (optionally filtered), so sources
    and sub-aggregations can use the nested objects' fields together. A page larger than the cluster's bucket
    limit is asked again at half the size.
    """
    after: dict[str, Any] | None = None
    while True:
        comp: dict[str, Any] = {"size": size, "sources": sources}
        if after:
            comp["after"] = after
        inner: dict[str, Any] = {"composite": comp}
        if aggs:
            inner["aggs"] = aggs
        root: dict[str, Any] = {"c": inner}
        if nested_filter is not None:
            root = {"f": {"filter": nested_filter, "aggs": root}}
        if nested_path:
            root = {"n": {"nested": {"path": nested_path}, "aggs": root}}
        try:
            resp = client.search(index=index, size=0, query=query or {"match_all": {}}, aggs=root,
                                 ignore_unavailable=True, allow_no_indices=True)
        except BadRequestError as exc:
            if "search.max_buckets" not in f"{exc} {exc.body}" or size <= 1:
                raise
            size //= 2
            log.warning("%s: a composite page is over the cluster's search.max_buckets; asking in pages of %d",
                        index, size)
            continue
        node = resp.body.get("aggregations")
        if not node:
            return
        if nested_path:
            node = node["n"]
        if nested_filter is not None:
            node = node["f"]
        node = node["c"]
        yield from node["buckets"]
        after = node.get("after_key")
        if not after or len(node["buckets"]) < size:
            return


def scan_sources(
    client: Elasticsearch, index: str, query: dict[str, Any], fields: list[str], page: int = 2000
) -> Iterator[dict[str, Any]]:
    """Every matching document's selected _source fields, paged on _doc order. The next page is fetched and
    decoded in a thread while the caller reads this one: on a 2,000-site sweep's snapshots the node's time
    was a third of the read, the caller's loop the rest."""
    from elasticsearch import helpers

    hits = helpers.scan(client, index=index, query={"query": query, "_source": fields}, size=page,
                        ignore_unavailable=True)
    pages = Prefetch(batches(hits, page), depth=2, name="zwgk-scan-prefetch")
    try:
        for batch in pages:
            for hit in batch:
                yield hit["_source"]
    finally:
        pages.close()
        hits.close()  # ends the scroll on the node even when the caller stopped early
