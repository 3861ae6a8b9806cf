"""Elasticsearch as every stage reaches it: the cluster's address, one way to get a client, the
aliases' names, and the transport's per-request log lines kept quiet unless asked for.

Secure clusters: ES_URL may be https and list several nodes (comma-separated); credentials come from
the URL's user:password, ZWGK_ES_USER/ZWGK_ES_PASSWORD or ZWGK_ES_API_KEY, and a private CA from
ZWGK_ES_CA_CERTS. Anything shown to a person goes through display_url()/redact(), never the raw URL.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit, urlunsplit

from zwgk import settings

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

DEFAULT_PORT = 9200
KINDS = ("documents", "snapshots", "alerts", "watchlists", "reports", "events",  # one alias (and index) each
         "users", "sessions", "audit")  # the dashboard's accounts, login sessions and audit log
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


class ESConfigError(ValueError):
    """The connection settings contradict each other or name a missing file; the message says which."""


@dataclass(frozen=True)
class Connection:
    """Where and how to connect; repr shows no secret (the client gets them, nobody else)."""

    hosts: tuple[str, ...]
    basic_auth: tuple[str, str] | None = field(default=None, repr=False)
    api_key: str | tuple[str, str] | None = field(default=None, repr=False)
    ca_certs: str | None = None

    def client_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {"hosts": list(self.hosts)}
        if self.basic_auth:
            options["basic_auth"] = self.basic_auth
        if self.api_key:
            options["api_key"] = self.api_key
        if self.ca_certs:
            options["ca_certs"] = self.ca_certs
        return options


def _strip_userinfo(address: str) -> tuple[str, tuple[str, str] | None]:
    """(the URL without user:password@, the decoded credentials or None)."""
    parts = urlsplit(address if "://" in address else f"http://{address}")
    if parts.username is None and parts.password is None:
        return address, None
    netloc = parts.hostname or ""
    if ":" in netloc:  # IPv6 literal
        netloc = f"[{netloc}]"
    if parts.port:
        netloc += f":{parts.port}"
    plain = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return plain, (unquote(parts.username or ""), unquote(parts.password or ""))


def _api_key() -> str | tuple[str, str] | None:
    """ZWGK_ES_API_KEY: the encoded key Elasticsearch returns, or id:api_key."""
    key = os.environ.get("ZWGK_ES_API_KEY") or None
    if key and ":" in key:
        key_id, _, secret = key.partition(":")
        return key_id, secret
    return key


def connection(address: str | None = None) -> Connection:
    """The hosts, credentials and CA of `address` (default: ES_URL or the local node) and the environment."""
    hosts, from_url = [], None
    for part in (address or url()).split(","):
        if part.strip():
            plain, creds = _strip_userinfo(part.strip())
            hosts.append(plain.rstrip("/"))
            from_url = from_url or creds
    user, password = os.environ.get("ZWGK_ES_USER"), os.environ.get("ZWGK_ES_PASSWORD")
    basic = from_url or ((user, password or "") if user else None)
    api_key = _api_key()
    if basic and api_key:
        raise ESConfigError("both a user/password and ZWGK_ES_API_KEY are set: keep one of them")
    ca = os.environ.get("ZWGK_ES_CA_CERTS") or None
    if ca and not Path(ca).is_file():
        raise ESConfigError(f"ZWGK_ES_CA_CERTS={ca} is not a readable file")
    return Connection(tuple(hosts), basic, api_key, ca)


def _secrets() -> list[str]:
    """Every secret the settings hold, longest first (so a password inside a URL is caught whole)."""
    found = [os.environ.get(name) or "" for name in ("ZWGK_ES_PASSWORD", "ZWGK_ES_API_KEY")]
    for part in (settings.es_url() or "").split(","):
        userinfo = urlsplit(part.strip()).netloc.rpartition("@")[0]
        if userinfo:
            raw = userinfo.partition(":")[2]
            found += [raw, unquote(raw)]  # as written and decoded
    key = os.environ.get("ZWGK_ES_API_KEY") or ""
    if ":" in key:
        found.append(key.partition(":")[2])
    return sorted({s for s in found if len(s) >= 3}, key=len, reverse=True)


def redact(text: str) -> str:
    """text with every configured password and API key replaced by ***."""
    for secret in _secrets():
        text = text.replace(secret, "***")
    return text


def display_url(address: str | None = None) -> str:
    """The cluster's address(es) for messages: no user:password."""
    return ",".join(_strip_userinfo(p.strip())[0] for p in (address or url()).split(",") if p.strip())


def get_client(
    address: str | None = None, *, request_timeout: float = REQUEST_TIMEOUT, max_retries: int = 3
) -> Elasticsearch:
    """A client for `address`, or ES_URL, or the local node, with the configured credentials and CA.

    Several comma-separated URLs make the client fail over between nodes when one stops answering.
    """
    from elasticsearch import Elasticsearch

    return Elasticsearch(
        **connection(address).client_options(),
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
