"""Logging in and out: the login form (/login), the API's POST /api/login (a bearer token), /logout, and
`authenticate`, which the app's middleware asks who a request is.

Wrong passwords are limited twice: per account (dashboards.accounts: 10 within 15 minutes lock it
for 15 minutes, in Elasticsearch so every process agrees) and per client address (auth.Throttle,
30 within 10 minutes, in this process). Either answers 429 with Retry-After and says when to try
again. Every attempt lands in the audit log.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from dashboards import accounts, audit, auth, sessions
from zwgk.weeks import TZ

router = APIRouter()
MAX_FORM = 8192  # bytes of a login form; a name and a password fit many times over
NAME_KEPT = 100


def now_ms() -> int:
    return int(time.time() * 1000)


def _client(request: Request):
    from dashboards.api import es

    return es(request)


def authenticate(request: Request) -> auth.Principal | None:
    """The account of the request's session (cookie or bearer), None when absent, expired or revoked."""
    token = auth.session_token(request)
    if not token:
        return None
    state = request.app.state
    found = sessions.resolve(_client(request), token, now_ms(), state.policy.lifetime)
    return auth.Principal(found.user.name, found.user.role) if found else None


@dataclass(frozen=True)
class Attempt:
    """One login attempt's outcome: a session token, or the status and message to answer with."""

    token: str = ""
    user: accounts.User | None = None
    status: int = 200
    message: str = ""
    retry_after: int = 0
    expires_ms: int = 0


def _wait_message(seconds: int, locked: bool) -> str:
    until = datetime.fromtimestamp(time.time() + seconds, TZ).strftime("%H:%M")
    minutes = max(1, -(-seconds // 60))
    why = "该账户密码错误次数过多，已临时锁定" if locked else "登录失败次数过多"
    return f"{why}，请在 {minutes} 分钟后（{until} 以后）再试。"


def attempt(request: Request, name: str, password: str) -> Attempt:
    """Check a login (runs in a worker thread: argon2 and Elasticsearch block)."""
    name = name[:NAME_KEPT]  # longer is no account's name; the audit log and the throttle keep no more
    state = request.app.state
    client, policy, address = _client(request), state.policy, auth.client_address(request)
    accounts.ensure_store(client)
    wait = state.address_throttle.retry_after(address)
    if wait:
        audit.record(client, name, "login", outcome="throttled", address=address)
        return Attempt(status=429, message=_wait_message(wait, locked=False), retry_after=wait)
    check = accounts.check_login(client, name, password, now_ms(), policy.lockout)
    if not check.known:
        # unknown names lock like real ones (in memory), so the lockout does not tell which names exist
        unknown = state.unknown_names
        if unknown.retry_after(name) or unknown.failed(name) >= policy.lockout.after:
            check = accounts.LoginCheck(None, unknown.retry_after(name))
    if check.locked_for:
        audit.record(client, name, "login", outcome="locked", address=address)
        return Attempt(status=429, message=_wait_message(check.locked_for, locked=True), retry_after=check.locked_for)
    if check.user is None:
        state.address_throttle.failed(address)
        audit.record(client, name, "login", outcome="failed", address=address)
        return Attempt(status=401, message="用户名或密码不正确。")
    token, expires = sessions.create(client, check.user.name, now_ms(), policy.lifetime, address)
    audit.record(client, check.user.name, "login", address=address)
    return Attempt(token=token, user=check.user, expires_ms=expires)


def _login_page(request: Request, target: str, message: str = "", status: int = 200,
                retry_after: int = 0) -> Response:
    response = request.app.state.templates.TemplateResponse(
        request, "login.html",
        {"page": "login", "title": "登录", "pages": (), "user": None, "next": target, "message": message,
         "enabled": request.app.state.login},
        status_code=status)
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response


@router.get("/login", include_in_schema=False)
def login_form(request: Request, next: str = "/", error: str = "") -> HTMLResponse:
    return _login_page(request, auth.safe_next(next), "用户名或密码不正确。" if error else "")


@router.post("/login", include_in_schema=False)
async def login_submit(request: Request) -> Response:
    body = await request.body()
    form = parse_qs(body[:MAX_FORM].decode("utf-8", "replace"))
    target = auth.safe_next((form.get("next") or ["/"])[0])
    if not request.app.state.login:
        return RedirectResponse(target, status_code=303)
    name, password = (form.get("username") or [""])[0].strip(), (form.get("password") or [""])[0]
    result = await run_in_threadpool(attempt, request, name, password)
    if result.status == 429:
        return _login_page(request, target, result.message, 429, result.retry_after)
    if not result.token:  # post/redirect/get, so a reload does not send the password again
        return RedirectResponse(f"/login?error=1&next={quote(target, safe='')}", status_code=303)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(auth.COOKIE_NAME, result.token, max_age=request.app.state.policy.lifetime.absolute_seconds,
                        httponly=True, samesite="strict", secure=request.url.scheme == "https", path="/")
    return response


class Credentials(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=accounts.MAX_PASSWORD)


@router.post("/api/login", summary="Log in: a session token for `Authorization: Bearer`", tags=["accounts"])
async def api_login(request: Request, body: Credentials) -> Response:
    if not request.app.state.login:
        return JSONResponse({"detail": "本地演示未启用登录"}, status_code=404)
    result = await run_in_threadpool(attempt, request, body.username.strip(), body.password)
    if not result.token:
        response = JSONResponse({"detail": result.message}, status_code=result.status)
        if result.retry_after:
            response.headers["Retry-After"] = str(result.retry_after)
        return response
    expires = datetime.fromtimestamp(result.expires_ms / 1000, TZ).isoformat(timespec="seconds")
    return JSONResponse({"token": result.token, "user": result.user.name, "role": result.user.role,
                         "expires_at": expires})


@router.post("/logout", include_in_schema=False)
async def logout(request: Request) -> Response:
    """End the session the request carries (cookie or bearer) and drop the cookie."""
    token = auth.session_token(request)
    if request.app.state.login and token:
        await run_in_threadpool(sessions.end, _client(request), token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(auth.COOKIE_NAME, path="/")
    return response
