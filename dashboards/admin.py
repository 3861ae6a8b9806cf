"""The accounts API: who am I (/api/me, any account) and, for admins, the accounts and the audit log
(/api/admin/...), which the /admin page shows. Every change is written to the audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, Field

from dashboards import accounts, audit, auth
from dashboards.api import Client
from dashboards.login import now_ms

router = APIRouter(prefix="/api")


@router.get("/me", summary="The account this request acts as, and its role", tags=["accounts"])
def me(request: Request, user: auth.CurrentUser) -> dict:
    return {"name": user.name, "role": user.role, "login": request.app.state.login}


@router.get("/admin/users", summary="Accounts (admin)", tags=["accounts"])
def users(client: Client) -> dict:
    return {"items": [u.public() for u in accounts.list_users(client)]}


class NewUser(BaseModel):
    name: str = Field(min_length=1, max_length=64)
    role: str = Field(min_length=1, max_length=20)
    password: str = Field(min_length=1, max_length=accounts.MAX_PASSWORD)


def _account_change(request: Request, client, user: auth.Principal, action: str, name: str, change) -> dict:
    """Run an account change, audit it, and answer 400 with the reason when it is refused."""
    address = auth.client_address(request)
    try:
        changed = change()
    except accounts.AccountError as exc:
        audit.record(client, user.name, action, target=name, outcome="refused", address=address, detail=str(exc))
        raise HTTPException(400, str(exc)) from None
    audit.record(client, user.name, action, target=name, address=address)
    return changed.public() if isinstance(changed, accounts.User) else {"name": name}


@router.post("/admin/users", status_code=201, summary="Add an account (admin)", tags=["accounts"])
def add_user(request: Request, client: Client, user: auth.CurrentUser, body: NewUser) -> dict:
    accounts.ensure_store(client)
    return _account_change(request, client, user, "user.add", body.name,
                           lambda: accounts.add_user(client, body.name, body.role, body.password))


@router.delete("/admin/users/{name}", summary="Remove an account (admin); its sessions end", tags=["accounts"])
def remove_user(request: Request, client: Client, user: auth.CurrentUser, name: str) -> dict:
    return _account_change(request, client, user, "user.remove", name, lambda: accounts.remove_user(client, name))


@router.post("/admin/users/{name}/revoke", summary="End every session of an account (admin)", tags=["accounts"])
def revoke(request: Request, client: Client, user: auth.CurrentUser, name: str) -> dict:
    return _account_change(request, client, user, "user.revoke", name,
                           lambda: accounts.revoke_sessions(client, name, now_ms()))


@router.get("/admin/audit", summary="The audit log, newest first (admin)", tags=["accounts"])
def audit_log(
    client: Client,
    size: Annotated[int, Query(ge=1, le=audit.MAX_LISTED)] = 200,
    actor: Annotated[str | None, Query(max_length=64)] = None,
    action: Annotated[str | None, Query(max_length=40)] = None,
) -> dict:
    return {"items": audit.recent(client, size, actor or None, action or None)}
