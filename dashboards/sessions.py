"""Login sessions in Elasticsearch (alias "sessions"): a random token per login, stored only as its
SHA-256, with an idle and an absolute expiry, revocable one by one (logout) or per account.

A session is valid while: its record exists, it is younger than the absolute limit, it was used within
the idle limit, its account exists, and it was created after the account's `sessions_after_ms`
(set by `zwgk user revoke|passwd|role`). Every dashboard process reads the same records.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from elasticsearch import Elasticsearch, NotFoundError, helpers

from dashboards import accounts
from zwgk.es import alias

TOKEN_BYTES = 32
MAX_TOKEN = 100  # token_urlsafe(32) is 43 characters; anything much longer is not one of ours


@dataclass(frozen=True)
class Lifetime:
    idle_seconds: int = 2 * 3600
    absolute_seconds: int = 12 * 3600

    @property
    def touch_ms(self) -> int:
        """How stale `seen_ms` may get before a request writes it again (not on every request)."""
        return min(60_000, self.idle_seconds * 1000 // 4)


@dataclass(frozen=True)
class Session:
    user: accounts.User
    expires_ms: int  # the absolute end


def _sid(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create(client: Elasticsearch, user: str, now_ms: int, lifetime: Lifetime, address: str = "") -> tuple[str, int]:
    """A new session for `user`: (token for the cookie or bearer header, absolute expiry in epoch ms)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    expires = now_ms + lifetime.absolute_seconds * 1000
    client.index(index=alias("sessions"), id=_sid(token), op_type="create",
                 document={"user": user, "created_ms": now_ms, "seen_ms": now_ms, "expires_ms": expires,
                           "address": address})
    _purge_expired(client, user, now_ms, lifetime)
    return token, expires


def resolve(client: Elasticsearch, token: str, now_ms: int, lifetime: Lifetime) -> Session | None:
    """The session of `token` when still valid (and its last use noted), else None."""
    if not token or len(token) > MAX_TOKEN:
        return None
    try:
        record = client.get(index=alias("sessions"), id=_sid(token))["_source"]
    except NotFoundError:
        return None
    if now_ms >= record["expires_ms"] or now_ms - record["seen_ms"] > lifetime.idle_seconds * 1000:
        return None
    user = accounts.get_user(client, record["user"])
    # <=: a session made in the same millisecond as a revocation does not outlive it
    if user is None or record["created_ms"] <= user.sessions_after_ms:
        return None
    if now_ms - record["seen_ms"] > lifetime.touch_ms:
        client.update(index=alias("sessions"), id=_sid(token), doc={"seen_ms": now_ms})
    return Session(user, record["expires_ms"])


def end(client: Elasticsearch, token: str) -> None:
    """Log out: the session's record is deleted."""
    if token and len(token) <= MAX_TOKEN:
        try:
            client.delete(index=alias("sessions"), id=_sid(token))
        except NotFoundError:
            pass


def _purge_expired(client: Elasticsearch, user: str, now_ms: int, lifetime: Lifetime) -> None:
    """Delete the user's dead session records (no delete_by_query in this distribution: search, then bulk)."""
    stale = {"bool": {"filter": [{"term": {"user": user}}], "should": [
        {"range": {"expires_ms": {"lte": now_ms}}},
        {"range": {"seen_ms": {"lt": now_ms - lifetime.idle_seconds * 1000}}}], "minimum_should_match": 1}}
    hits = client.search(index=alias("sessions"), query=stale, size=500, source=False)["hits"]["hits"]
    if hits:
        helpers.bulk(client, ({"_op_type": "delete", "_index": h["_index"], "_id": h["_id"]} for h in hits),
                     raise_on_error=False)
