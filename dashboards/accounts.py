"""The dashboard's accounts in Elasticsearch (alias "users", `_id` = name): roles, argon2 password
hashes, and the per-account lockout after repeated wrong passwords.

Kept in Elasticsearch so every dashboard process and `zwgk user` see the same accounts. Counters are
updated with optimistic concurrency (seq_no / primary_term), so two processes counting failures at
once do not lose one.
"""

from __future__ import annotations

import random
import re
import time
from dataclasses import dataclass, field
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from elasticsearch import ConflictError, Elasticsearch, NotFoundError

from zwgk.es import alias
from zwgk.weeks import now_iso

ROLES = ("viewer", "analyst", "admin")  # each role may do what the ones before it may
ROLE_NAMES = {"viewer": "查看", "analyst": "分析", "admin": "管理"}
NAME_PATTERN = re.compile(r"^[\w.@-]{1,64}$")
MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # argon2 hashes any length; a cap keeps one request from costing much more than another
STORE_KINDS = ("users", "sessions", "audit")
# writers of one account record that lost a race re-read and retry, after a random wait that grows: ten wrong
# passwords at once on a loaded 2-core box lost a writer 8 times in a row with immediate retries (CI 2026-12-03)
CONFLICT_RETRIES = 40
CONFLICT_WAIT_S = 0.005  # the first wait's upper bound; doubled per retry up to CONFLICT_WAIT_MAX_S
CONFLICT_WAIT_MAX_S = 0.2

_hasher = PasswordHasher()  # argon2id with the library's current defaults (RFC 9106 low-memory profile)
_dummy_hash: str | None = None
_ensured: set[str] = set()


class AccountError(ValueError):
    """An account that cannot be made or changed (message safe to show)."""


@dataclass
class User:
    name: str
    role: str
    created_at: str = ""
    last_login_at: str | None = None
    sessions_after_ms: int = 0  # sessions created before this were revoked
    failed: int = 0  # wrong passwords since failed_since_ms
    failed_since_ms: int = 0
    locked_until_ms: int = 0
    password_hash: str = field(default="", repr=False)

    def public(self) -> dict[str, Any]:
        """What an admin may see: everything but the hash."""
        return {"name": self.name, "role": self.role, "created_at": self.created_at,
                "last_login_at": self.last_login_at, "failed": self.failed, "locked_until_ms": self.locked_until_ms}


@dataclass(frozen=True)
class Lockout:
    """When repeated wrong passwords lock an account, and for how long."""

    after: int = 10
    window_seconds: int = 15 * 60
    lock_seconds: int = 15 * 60


@dataclass(frozen=True)
class LoginCheck:
    """The answer to a name and password: the user when right, else whether and how long it is locked."""

    user: User | None
    locked_for: int = 0  # seconds until the account may try again (0: not locked)
    known: bool = True  # False: no such account


def rank(role: str) -> int:
    return ROLES.index(role)


def ensure_store(client: Elasticsearch) -> None:
    """Create the users, sessions and audit indices once per process and prefix (never implicitly by a write)."""
    from index.schema import ensure_indices

    key = alias("users")
    if key not in _ensured:
        ensure_indices(client, STORE_KINDS)
        _ensured.add(key)


def check_name(name: str) -> str:
    if not NAME_PATTERN.match(name or ""):
        raise AccountError("a user name is 1–64 letters, digits, or . _ @ -")
    return name


def check_role(role: str) -> str:
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    return role


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"a password needs at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise AccountError(f"a password has at most {MAX_PASSWORD} characters")
    return password


def _user(source: dict[str, Any]) -> User:
    known = User.__dataclass_fields__
    return User(**{k: v for k, v in source.items() if k in known})


def _fetch(client: Elasticsearch, name: str) -> tuple[User, int, int] | None:
    """The user with its seq_no and primary_term (for a conditional write), or None."""
    try:
        resp = client.get(index=alias("users"), id=name)
    except NotFoundError:
        return None
    return _user(resp["_source"]), resp["_seq_no"], resp["_primary_term"]


def get_user(client: Elasticsearch, name: str) -> User | None:
    if not NAME_PATTERN.match(name or ""):
        return None
    found = _fetch(client, name)
    return found[0] if found else None


def list_users(client: Elasticsearch) -> list[User]:
    try:
        client.indices.refresh(index=alias("users"))  # role and lock changes are written without a refresh wait
        resp = client.search(index=alias("users"), size=1000, query={"match_all": {}}, sort=[{"name": "asc"}])
    except NotFoundError:
        return []
    return [_user(h["_source"]) for h in resp["hits"]["hits"]]


def count_admins(client: Elasticsearch) -> int:
    try:
        client.indices.refresh(index=alias("users"))  # a demotion a moment ago must count (the last-admin guard)
        return int(client.count(index=alias("users"), query={"term": {"role": "admin"}})["count"])
    except NotFoundError:
        return 0


def add_user(client: Elasticsearch, name: str, role: str, password: str) -> User:
    """A new account; an existing name is refused (change it with set_password / set_role)."""
    check_name(name), check_role(role), check_password(password)
    ensure_store(client)
    now = now_iso()
    user = User(name=name, role=role, created_at=now, password_hash=_hasher.hash(password))
    try:
        client.create(index=alias("users"), id=name, document={**user.__dict__, "updated_at": now}, refresh="wait_for")
    except ConflictError:
        raise AccountError(f"user {name!r} exists already") from None
    return user


def _change(client: Elasticsearch, name: str, change) -> User:
    """Apply change(user) → fields and write them if the record did not move meanwhile (else re-read, retry)."""
    for attempt in range(CONFLICT_RETRIES):
        if attempt:
            time.sleep(random.uniform(0, min(CONFLICT_WAIT_S * 2 ** attempt, CONFLICT_WAIT_MAX_S)))
        found = _fetch(client, name)
        if found is None:
            raise AccountError(f"no user {name!r}")
        user, seq_no, term = found
        fields = change(user)
        if not fields:
            return user
        try:
            client.update(index=alias("users"), id=name, doc={**fields, "updated_at": now_iso()},
                          if_seq_no=seq_no, if_primary_term=term)  # gets are real-time: no refresh wait
        except ConflictError:
            continue
        for key, value in fields.items():
            setattr(user, key, value)
        return user
    raise AccountError(f"user {name!r} is being changed by someone else; try again")


def remove_user(client: Elasticsearch, name: str) -> None:
    """Delete an account (its sessions die with it: they are checked against the account on every request).
    The last admin cannot be removed: production would not start again."""
    user = get_user(client, name)
    if user is None:
        raise AccountError(f"no user {name!r}")
    if user.role == "admin" and count_admins(client) <= 1:
        raise AccountError(f"{name!r} is the last admin; add another admin first")
    client.delete(index=alias("users"), id=name, refresh="wait_for")


def set_password(client: Elasticsearch, name: str, password: str, now_ms: int) -> User:
    """New password; every session of the account ends and any lockout is lifted."""
    check_password(password)
    hashed = _hasher.hash(password)
    return _change(client, name, lambda u: {"password_hash": hashed, "sessions_after_ms": now_ms, "failed": 0,
                                            "failed_since_ms": 0, "locked_until_ms": 0})


def set_role(client: Elasticsearch, name: str, role: str, now_ms: int) -> User:
    """Another role; sessions end so the new role applies from the next login."""
    check_role(role)
    user = get_user(client, name)
    if user and user.role == "admin" and role != "admin" and count_admins(client) <= 1:
        raise AccountError(f"{name!r} is the last admin; add another admin first")
    return _change(client, name, lambda u: {"role": role, "sessions_after_ms": now_ms})


def revoke_sessions(client: Elasticsearch, name: str, now_ms: int) -> User:
    """End every session of the account (they are refused from now on, in every process)."""
    return _change(client, name, lambda u: {"sessions_after_ms": now_ms})


def unlock(client: Elasticsearch, name: str) -> User:
    return _change(client, name, lambda u: {"failed": 0, "failed_since_ms": 0, "locked_until_ms": 0})


def _burn_time(password: str) -> None:
    """Verify against a throwaway hash, so an unknown name takes as long as a wrong password."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = _hasher.hash("zwgk-no-such-account")
    try:
        _hasher.verify(_dummy_hash, password)
    except VerificationError:
        pass


def _verify(user: User, password: str) -> bool:
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def check_login(client: Elasticsearch, name: str, password: str, now_ms: int, lockout: Lockout) -> LoginCheck:
    """Check a name and password. A wrong password counts towards the lockout; `lockout.after` of them within
    the window lock the account for `lock_seconds` (a right password does not open it meanwhile)."""
    password = password[:MAX_PASSWORD]
    found = _fetch(client, name) if NAME_PATTERN.match(name or "") else None
    if found is None:
        _burn_time(password)
        return LoginCheck(None, known=False)
    user = found[0]
    if user.locked_until_ms > now_ms:
        return LoginCheck(None, _seconds(user.locked_until_ms - now_ms))
    if _verify(user, password):
        fields: dict[str, Any] = {"last_login_at": now_iso(), "failed": 0, "failed_since_ms": 0, "locked_until_ms": 0}
        if _hasher.check_needs_rehash(user.password_hash):
            fields["password_hash"] = _hasher.hash(password)
        return LoginCheck(_change(client, name, lambda u: fields))

    def count_failure(u: User) -> dict[str, Any]:
        if u.locked_until_ms > now_ms:  # another process locked it meanwhile
            return {}
        fresh = now_ms - u.failed_since_ms > lockout.window_seconds * 1000
        failed = 1 if fresh else u.failed + 1
        if failed >= lockout.after:
            return {"failed": 0, "failed_since_ms": 0, "locked_until_ms": now_ms + lockout.lock_seconds * 1000}
        return {"failed": failed, "failed_since_ms": now_ms if fresh else u.failed_since_ms}

    user = _change(client, name, count_failure)
    return LoginCheck(None, _seconds(user.locked_until_ms - now_ms) if user.locked_until_ms > now_ms else 0)


def _seconds(ms: int) -> int:
    return max(1, -(-ms // 1000))
