"""The audit log in Elasticsearch (alias "audit"): who logged in (or failed to), exported, saved a
watchlist, or changed an account, from where, and when. Admins read it on /admin and /api/admin/audit.
"""

from __future__ import annotations

import logging
from typing import Any

from elasticsearch import Elasticsearch, NotFoundError

from zwgk.es import alias
from zwgk.weeks import now

log = logging.getLogger(__name__)
MAX_DETAIL = 2000
MAX_LISTED = 1000


def record(client: Elasticsearch, actor: str, action: str, *, target: str = "", outcome: str = "ok",
           address: str = "", detail: str = "") -> None:
    """Append one entry. A failed write is logged, not raised: the action it records has already happened."""
    entry = {"at": now().isoformat(timespec="milliseconds"), "actor": actor, "action": action, "target": target, "outcome": outcome,
             "address": address, "detail": detail[:MAX_DETAIL]}
    try:
        client.index(index=alias("audit"), document=entry, require_alias=True)
    except Exception as exc:  # noqa: BLE001 - any transport or API error; the entry goes to the log instead
        log.error("audit entry not stored (%s): %s", exc.__class__.__name__, entry)


def recent(client: Elasticsearch, size: int = 200, actor: str | None = None, action: str | None = None) -> list[dict[str, Any]]:
    """The newest entries first, optionally of one actor or action."""
    filters = [{"term": {k: v}} for k, v in (("actor", actor), ("action", action)) if v]
    try:
        # entries are written without waiting for a refresh (a login should not wait on one): refresh here, on
        # the rare admin read, so an admin sees the login or change made a moment ago
        client.indices.refresh(index=alias("audit"))
        resp = client.search(index=alias("audit"), size=min(size, MAX_LISTED), query={"bool": {"filter": filters}},
                             sort=[{"at": "desc"}])
    except NotFoundError:
        return []
    return [h["_source"] for h in resp["hits"]["hits"]]
