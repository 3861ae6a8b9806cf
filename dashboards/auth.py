"""Who may do what on the dashboard: when login is on, who the request is, and the role each route needs.

Login is off in the local demo (everything works as before, as one local admin) and on in production:
`ZWGK_ENV=production`, `ZWGK_DASHBOARD_LOGIN=1`, a leftover `ZWGK_DASHBOARD_TOKEN`, or `zwgk dashboard`
bound to a non-loopback address. Then a request proves who it is with the session cookie the login
form sets or `Authorization: Bearer <session token>` from POST /api/login (dashboards.login).

Roles are checked in one place: `authorize`, a dependency of every route, looks the route up in
ROUTE_ROLES (viewer < analyst < admin).
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, HTTPException, Request

from dashboards.accounts import ROLE_NAMES, Lockout, rank
from dashboards.sessions import Lifetime

COOKIE_NAME = "zwgk_session"
LEGACY_TOKEN_ENV = "ZWGK_DASHBOARD_TOKEN"  # the old shared token; set, it still means "login on"
LOOPBACK = ("127.0.0.1", "localhost", "::1")
# reachable without logging in: the login form and API, logout, the static CSS/JS the form needs, health
PUBLIC_PATHS = ("/login", "/api/login", "/logout", "/healthz")
PUBLIC_PREFIXES = ("/static/",)
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")

# (path prefix, least role); the first match wins. Anything else: viewer to read, admin to write, so a new
# page is open to every account and a new write is closed until it is listed here.
ROUTE_ROLES: tuple[tuple[str, str], ...] = (
    ("/api/admin", "admin"),
    ("/admin", "admin"),
    ("/api/search", "analyst"),  # search, its filter options and export
    ("/search", "analyst"),
    ("/api/watchlists", "analyst"),  # an analyst's own; an admin sees everyone's
    ("/api/me", "viewer"),
)


@dataclass(frozen=True)
class Policy:
    """Session lifetimes, the per-account lockout and the per-address limit on wrong passwords."""

    lifetime: Lifetime = field(default_factory=Lifetime)
    lockout: Lockout = field(default_factory=Lockout)
    address_failures: int = 30  # wrong logins from one address within address_window_seconds → 429
    address_window_seconds: int = 10 * 60

    @classmethod
    def from_env(cls) -> Policy:
        """ZWGK_SESSION_IDLE_MINUTES (default 120) and ZWGK_SESSION_HOURS (default 12)."""
        idle = int(os.environ.get("ZWGK_SESSION_IDLE_MINUTES") or 120) * 60
        absolute = int(os.environ.get("ZWGK_SESSION_HOURS") or 12) * 3600
        return cls(lifetime=Lifetime(idle_seconds=idle, absolute_seconds=absolute))


@dataclass(frozen=True)
class Principal:
    """The account a request acts as."""

    name: str
    role: str
    local: bool = False  # the demo's login-free user

    def can(self, role: str) -> bool:
        return rank(self.role) >= rank(role)


LOCAL = Principal("local", "admin", local=True)


def production(host: str | None = None) -> bool:
    """ZWGK_ENV=production, or serving on an address other machines can reach."""
    return os.environ.get("ZWGK_ENV", "").lower() == "production" or (host is not None and host not in LOOPBACK)


def login_wanted(explicit: bool | None = None, host: str | None = None) -> bool:
    """Whether the app asks for a login (explicit wins; else the environment and the address)."""
    if explicit is not None:
        return explicit
    flag = os.environ.get("ZWGK_DASHBOARD_LOGIN", "").lower() in ("1", "true", "yes", "on")
    return flag or bool(os.environ.get(LEGACY_TOKEN_ENV)) or production(host)


def is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or any(path.startswith(p) for p in PUBLIC_PREFIXES)


def required_role(path: str, method: str) -> str:
    for prefix, role in ROUTE_ROLES:
        if path == prefix or path.startswith(prefix + "/"):
            return role
    return "viewer" if method in SAFE_METHODS else "admin"


async def authorize(request: Request) -> Principal | None:
    """The dependency on every route: the request's account when its role may use the route, else 403."""
    path = request.url.path
    if is_public(path):
        return getattr(request.state, "user", None)
    user: Principal | None = getattr(request.state, "user", None)
    if user is None:  # the middleware lets no such request through; a route outside it must not either
        raise HTTPException(401, "需要登录")
    route = request.scope.get("route")
    need = required_role(getattr(route, "path", path), request.method)
    if not user.can(need):
        raise HTTPException(403, f"权限不足：需要「{ROLE_NAMES[need]}」角色（{need}）或更高")
    return user


CurrentUser = Annotated[Principal, Depends(authorize)]  # the same call as the app-wide dependency (cached)


def session_token(request: Request) -> str:
    """The session token a request carries: the bearer header first, then the cookie."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.cookies.get(COOKIE_NAME, "")


def client_address(request: Request) -> str:
    return request.client.host if request.client else ""


def same_origin(request: Request) -> bool:
    """False for a state-changing request a browser sent from another site (CSRF). Browsers say so in
    Sec-Fetch-Site; older ones only send Origin, compared with Host (or a proxy's X-Forwarded-Host).
    Clients that send neither (curl, scripts) are not browsers and pass."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site in ("same-origin", "none")
    origin = request.headers.get("origin")
    if origin is None:
        return True
    return urlsplit(origin).netloc in (request.headers.get("host"), request.headers.get("x-forwarded-host"))


def safe_next(target: str | None) -> str:
    """Only same-site relative redirects after login (no //host or scheme)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


class Throttle:
    """Failures per key (an address, or an unknown account name) within a window, in this process's memory;
    at `limit` the key waits until its oldest failure leaves the window."""

    SWEEP_EVERY = 1000

    def __init__(self, limit: int, window_seconds: float, clock=time.monotonic) -> None:
        self.limit, self.window, self.clock = limit, window_seconds, clock
        self._failures: dict[str, deque[float]] = {}
        self._calls = 0
        self._lock = threading.Lock()  # logins are checked in worker threads

    def _recent(self, key: str) -> deque[float]:
        now = self.clock()
        found = self._failures.get(key, deque())
        while found and found[0] <= now - self.window:
            found.popleft()
        return found

    def retry_after(self, key: str) -> int:
        """Seconds until `key` may try again (0: now)."""
        with self._lock:
            found = self._recent(key)
            if len(found) < self.limit:
                return 0
            return max(1, math.ceil(found[0] + self.window - self.clock()))

    def failed(self, key: str) -> int:
        """Note a failure; returns how many are in the window now."""
        with self._lock:
            self._calls += 1
            if self._calls % self.SWEEP_EVERY == 0:  # forget keys that went quiet, so memory stays bounded
                for k in [k for k in self._failures if not self._recent(k)]:
                    del self._failures[k]
            found = self._recent(key)
            found.append(self.clock())
            self._failures[key] = found
            return len(found)
