"""Login for production: one shared token from ZWGK_DASHBOARD_TOKEN (off when unset, for the local demo).

A client proves it knows the token with `Authorization: Bearer <token>` or with the session cookie
the login form sets (an HMAC of the token, so the cookie never holds the token itself and changing
the token logs everyone out).
"""

from __future__ import annotations

import hashlib
import hmac
import os

from starlette.requests import Request

COOKIE_NAME = "zwgk_session"
TOKEN_ENV = "ZWGK_DASHBOARD_TOKEN"
# reachable without logging in: the login form itself and the static CSS/JS it needs
PUBLIC_PREFIXES = ("/login", "/static/", "/healthz")


def configured_token(explicit: str | None) -> str | None:
    """The token in force: the explicit one (an empty string turns login off), else the environment."""
    token = explicit if explicit is not None else os.environ.get(TOKEN_ENV)
    return token or None


def session_value(token: str) -> str:
    return hmac.new(token.encode("utf-8"), b"zwgk-dashboard-session", hashlib.sha256).hexdigest()


def is_authenticated(request: Request, token: str) -> bool:
    """True when the request carries the bearer token or a valid session cookie."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        given = header[7:].strip()
        if hmac.compare_digest(given.encode("utf-8"), token.encode("utf-8")):
            return True
    cookie = request.cookies.get(COOKIE_NAME, "")
    return bool(cookie) and hmac.compare_digest(cookie, session_value(token))


def is_public(path: str) -> bool:
    return path == "/login" or any(path.startswith(p) for p in PUBLIC_PREFIXES)


def safe_next(target: str | None) -> str:
    """Only same-site relative redirects after login (no //host or scheme)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
