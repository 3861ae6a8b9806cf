"""Elasticsearch as every stage reaches it: the cluster's address, one way to get a client, the
aliases' names, and the transport's per-request log lines kept quiet unless asked for."""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING

from zwgk import settings

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

DEFAULT_PORT = 9200
KINDS = ("documents", "snapshots", "alerts", "watchlists", "reports")  # one alias (and index) each
REQUEST_TIMEOUT = 30  # seconds; bulk and aggregation requests on a laptop node stay well below


def port() -> int:
    """Port of the project's own node (ZWGK_ES_PORT)."""
    return int(os.environ.get("ZWGK_ES_PORT") or DEFAULT_PORT)


def local_url() -> str:
    return f"http://127.0.0.1:{port()}"


def url() -> str:
    """The cluster every command uses: ES_URL, else the project's own node."""
    return settings.es_url() or local_url()


def alias(kind: str) -> str:
    """The name every reader and writer uses, e.g. `zwgk-documents` (prefix ZWGK_INDEX_PREFIX)."""
    if kind not in KINDS:
        raise ValueError(f"unknown index kind {kind!r}; one of {', '.join(KINDS)}")
    return f"{settings.index_prefix()}-{kind}"


def get_client(
    address: str | None = None, *, request_timeout: float = REQUEST_TIMEOUT, max_retries: int = 3
) -> Elasticsearch:
    """A client for `address`, or ES_URL, or the local node."""
    from elasticsearch import Elasticsearch

    return Elasticsearch(
        address or url(),
        request_timeout=request_timeout,
        retry_on_timeout=True,
        max_retries=max_retries,
    )


def quiet_transport(verbose: bool | None = None, level: int = logging.ERROR,
                    names: tuple[str, ...] = ("elastic_transport",)) -> None:
    """Silence the client's per-request lines and retry tracebacks (a command prints one error line).

    verbose=None: verbose when the root logger shows DEBUG (`zwgk -v`).
    """
    if verbose is None:
        verbose = logging.getLogger().getEffectiveLevel() <= logging.DEBUG
    if not verbose:
        for name in names:
            logging.getLogger(name).setLevel(level)
