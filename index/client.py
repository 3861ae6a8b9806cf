"""One way to get an Elasticsearch client: ES_URL, else the project's own node."""

from __future__ import annotations

from elasticsearch import Elasticsearch

REQUEST_TIMEOUT = 30  # seconds; bulk and aggregation requests on a laptop node stay well below


def get_client(
    url: str | None = None, *, request_timeout: float = REQUEST_TIMEOUT, max_retries: int = 3
) -> Elasticsearch:
    """A client for `url`, or ES_URL, or the local node (index.node.url())."""
    from index import node

    return Elasticsearch(
        url or node.url(),
        request_timeout=request_timeout,
        retry_on_timeout=True,
        max_retries=max_retries,
    )
