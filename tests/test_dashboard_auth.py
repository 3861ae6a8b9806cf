"""Accounts, roles, sessions and the login limits of the dashboard, against the real Elasticsearch and the
real app served by uvicorn over HTTP: what each role may do, watchlists per owner, 10 wrong passwords
lock an account, a throttled address, expired, revoked and logged-out sessions refused, cookie flags,
cross-site posts refused, the audit log, `zwgk user`, and production refusing to start without an admin."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher, profiles
from fastapi.testclient import TestClient

from dashboards import accounts, audit, auth
from dashboards.sessions import Lifetime
from index import store
from tests.fixtures.measures import doc
from tests.fixtures.serve import free_port, serve
from zwgk.es import alias

REPO = Path(__file__).resolve().parents[1]
PASSWORDS = {"root": "root-password-1", "ana": "analyst-pass-1", "bea": "analyst-pass-2", "vic": "viewer-pass-1"}
ROLES = {"root": "admin", "ana": "analyst", "bea": "analyst", "vic": "viewer"}


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch):
    """argon2's own test profile in this process (the CLI test below hashes with the real defaults)."""
    monkeypatch.setattr(accounts, "_hasher", PasswordHasher.from_parameters(profiles.CHEAPEST))
    monkeypatch.setattr(accounts, "_dummy_hash", None)


@pytest.fixture
def people(es, es_prefix, cheap_hashes):
    """Four accounts (one admin, two analysts, one viewer) and a few searchable documents."""
    for name, password in PASSWORDS.items():
        accounts.add_user(es, name, ROLES[name], password)
    docs = [doc(f"http://swj.example/tzgg/{i}.html", site="swj", column="通知公告", column_type="通知公告",
                published="2026-11-18", kind="notice", agency="北京市水务局", title=f"水务公告第{i}期",
                body="防汛与水务工作。") for i in range(3)]
    assert store.index_documents(es, docs, refresh=True).failed == 0
    return es


def _app(es, **policy):
    from dashboards.app import create_app

    return create_app(client=es, login=True, policy=auth.Policy(**policy) if policy else None)


@pytest.fixture
def site(people):
    with serve(_app(people)) as url:
        yield url


def _login(url: str, name: str, password: str | None = None) -> httpx.Client:
    """A client whose cookie jar holds `name`'s session (after the login form)."""
    client = httpx.Client(base_url=url)
    resp = client.post("/login", data={"username": name, "password": password or PASSWORDS[name], "next": "/"})
    assert resp.status_code == 303 and resp.headers["location"] == "/", resp.text
    assert client.cookies.get(auth.COOKIE_NAME)
    return client


def _bearer(url: str, name: str) -> dict[str, str]:
    resp = httpx.post(f"{url}/api/login", json={"username": name, "password": PASSWORDS[name]})
    assert resp.status_code == 200, resp.text
    assert resp.json()["role"] == ROLES[name]
    return {"Authorization": f"Bearer {resp.json()['token']}"}


# ---------------------------------------------------------------- roles


def test_a_viewer_sees_pages_but_cannot_search_export_or_read_watchlists(site):
    vic = _login(site, "vic")
    for path in ("/", "/alerts", "/topics", "/api/topics", "/api/alerts"):
        assert vic.get(path).status_code == 200, path
    assert vic.get("/api/me").json() == {"name": "vic", "role": "viewer", "login": True}
    for path in ("/search", "/api/search?q=水务", "/api/search/export?q=水务", "/api/search/options",
                 "/api/watchlists", "/api/admin/users", "/api/admin/audit", "/admin"):
        resp = vic.get(path)
        assert resp.status_code == 403, path
        assert "权限不足" in resp.json()["detail"] and resp.headers["x-frame-options"] == "DENY"
    assert vic.post("/api/watchlists", json={"name": "x", "query": "水务"}).status_code == 403
    page = vic.get("/alerts").text
    assert 'href="/search"' not in page and 'id="watchlists"' not in page and 'href="/admin"' not in page


def test_an_analyst_searches_exports_keeps_own_watchlists_and_cannot_manage_accounts(site, people):
    ana, bea = _login(site, "ana"), _login(site, "bea")
    assert ana.get("/api/search", params={"q": "水务"}).json()["total"] == 3
    export = ana.get("/api/search/export", params={"q": "水务", "format": "csv"})
    assert export.status_code == 200 and "水务公告第0期" in export.text
    # the same name for two analysts: two watchlists, each seen only by its owner
    assert ana.post("/api/watchlists", json={"name": "水务", "query": "水务"}).status_code == 201
    assert bea.post("/api/watchlists", json={"name": "水务", "query": "防汛 AND 水务"}).status_code == 201
    assert bea.post("/api/watchlists", json={"name": "只有贝", "query": "防汛"}).status_code == 201
    mine = ana.get("/api/watchlists").json()["items"]
    assert [(w["name"], w["query"], w["owner"]) for w in mine] == [("水务", "水务", "ana")]
    assert {w["name"] for w in bea.get("/api/watchlists").json()["items"]} == {"水务", "只有贝"}
    for method, path, body in (("GET", "/api/admin/users", None), ("GET", "/api/admin/audit", None),
                               ("POST", "/api/admin/users", {"name": "eve", "role": "admin", "password": "x" * 12}),
                               ("DELETE", "/api/admin/users/vic", None), ("POST", "/api/admin/users/root/revoke", None),
                               ("GET", "/admin", None)):
        assert ana.request(method, path, json=body).status_code == 403, path
    assert accounts.get_user(people, "eve") is None and accounts.get_user(people, "vic") is not None
    assert 'href="/search"' in ana.get("/").text and 'href="/admin"' not in ana.get("/").text


def test_an_admin_manages_accounts_sees_every_watchlist_and_the_audit_log(site, people):
    bea, root = _login(site, "bea"), _login(site, "root")
    bea.post("/api/watchlists", json={"name": "贝的", "query": "防汛"})
    bea.get("/api/search/export", params={"q": "防汛", "format": "csv"})
    assert [w["owner"] for w in root.get("/api/watchlists").json()["items"]] == ["bea"]
    assert {u["name"] for u in root.get("/api/admin/users").json()["items"]} == set(PASSWORDS)
    assert "password_hash" not in str(root.get("/api/admin/users").json())
    made = root.post("/api/admin/users", json={"name": "dan", "role": "viewer", "password": "dan-password-1"})
    assert made.status_code == 201 and made.json()["role"] == "viewer"
    assert root.post("/api/admin/users", json={"name": "dan", "role": "viewer", "password": "x" * 12}).status_code == 400
    assert root.post("/api/admin/users", json={"name": "sho", "role": "viewer", "password": "short"}).status_code == 400
    assert root.delete("/api/admin/users/root").status_code == 400  # the last admin stays
    assert root.delete("/api/admin/users/dan").status_code == 200 and accounts.get_user(people, "dan") is None
    people.indices.refresh(index=alias("audit"))
    entries = root.get("/api/admin/audit", params={"size": 100}).json()["items"]
    seen = {(e["actor"], e["action"], e["outcome"]) for e in entries}
    for expected in (("bea", "login", "ok"), ("bea", "watchlist.save", "ok"), ("bea", "export", "ok"),
                     ("root", "user.add", "ok"), ("root", "user.add", "refused"), ("root", "user.remove", "refused"),
                     ("root", "user.remove", "ok")):
        assert expected in seen, expected
    assert all(e["address"] == "127.0.0.1" for e in entries)
    only_exports = root.get("/api/admin/audit", params={"action": "export"}).json()["items"]
    assert only_exports and {e["action"] for e in only_exports} == {"export"}
    page = root.get("/admin")
    assert page.status_code == 200 and "审计日志" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]


def test_pages_and_api_need_a_session(site):
    anon = httpx.Client(base_url=site)
    assert anon.get("/api/overview").status_code == 401
    assert anon.get("/openapi.json").status_code == 401
    page = anon.get("/search?q=x")
    assert page.status_code == 303 and page.headers["location"].startswith("/login?next=")
    assert anon.get("/static/app.css").status_code == 200  # the login form's own assets
    assert anon.get("/login").status_code == 200
    assert anon.get("/api/me", headers={"Authorization": "Bearer not-a-session"}).status_code == 401
    assert anon.get("/api/me", headers=_bearer(site, "ana")).json()["name"] == "ana"
    wrong = anon.post("/login", data={"username": "ana", "password": "wrong-password", "next": "/search"})
    assert wrong.status_code == 303 and "error=1" in wrong.headers["location"]
    assert auth.COOKIE_NAME not in anon.cookies
    good = anon.post("/login", data={"username": "ana", "password": PASSWORDS["ana"], "next": "//evil.example/"})
    assert good.status_code == 303 and good.headers["location"] == "/"  # no open redirect


# ---------------------------------------------------------------- login limits


def test_ten_wrong_passwords_lock_the_account_for_a_while(people):
    with serve(_app(people)) as url:
        client = httpx.Client(base_url=url)
        for i in range(9):
            resp = client.post("/login", data={"username": "ana", "password": f"wrong-{i}"})
            assert resp.status_code == 303 and "error=1" in resp.headers["location"], i
        tenth = client.post("/login", data={"username": "ana", "password": "wrong-9"})
        assert tenth.status_code == 429
        assert 14 * 60 < int(tenth.headers["retry-after"]) <= 15 * 60
        assert "已临时锁定" in tenth.text and "15 分钟后" in tenth.text
        right = client.post("/login", data={"username": "ana", "password": PASSWORDS["ana"]})
        assert right.status_code == 429 and auth.COOKIE_NAME not in client.cookies  # locked even for the owner
        api = httpx.post(f"{url}/api/login", json={"username": "ana", "password": PASSWORDS["ana"]})
        assert api.status_code == 429 and "retry-after" in api.headers and "分钟后" in api.json()["detail"]
        assert accounts.get_user(people, "ana").locked_until_ms > time.time() * 1000 + 14 * 60_000
        _login(url, "bea")  # another account is not affected
        accounts.unlock(people, "ana")
        _login(url, "ana")
        # an unknown name locks the same way, so the lockout does not tell which names exist
        for i in range(9):
            assert client.post("/login", data={"username": "nobody", "password": f"x{i}"}).status_code == 303
        assert client.post("/login", data={"username": "nobody", "password": "x9"}).status_code == 429
    people.indices.refresh(index=alias("audit"))
    outcomes = [e["outcome"] for e in audit.recent(people, actor="ana", action="login")]
    assert outcomes.count("failed") == 9 and outcomes.count("locked") >= 3 and "ok" in outcomes


def test_wrong_passwords_sent_at_once_are_all_counted(people):
    """Ten wrong passwords in parallel (worker threads writing one account record): none is lost, it locks."""
    from concurrent.futures import ThreadPoolExecutor

    with serve(_app(people)) as url, ThreadPoolExecutor(10) as pool:
        answers = list(pool.map(lambda i: httpx.post(f"{url}/api/login", json={"username": "bea", "password": f"no-{i}"},
                                                     timeout=60).status_code, range(10)))
    assert sorted(answers) == [401] * 9 + [429]  # the one counted tenth locks it and says so
    assert accounts.get_user(people, "bea").locked_until_ms > time.time() * 1000


def test_one_address_is_throttled_across_accounts(people):
    with serve(_app(people, address_failures=4, address_window_seconds=60)) as url:
        for name in ("ana", "bea", "vic", "nobody"):
            resp = httpx.post(f"{url}/api/login", json={"username": name, "password": "wrong-password"})
            assert resp.status_code == 401 and resp.json()["detail"] == "用户名或密码不正确。"
        blocked = httpx.post(f"{url}/api/login", json={"username": "root", "password": PASSWORDS["root"]})
        assert blocked.status_code == 429 and 0 < int(blocked.headers["retry-after"]) <= 60
        assert "登录失败次数过多" in blocked.json()["detail"]
        assert accounts.get_user(people, "root").locked_until_ms == 0  # the address waits, the account is not locked


# ---------------------------------------------------------------- sessions


def test_an_expired_session_is_refused(people):
    with serve(_app(people, lifetime=Lifetime(idle_seconds=2, absolute_seconds=6))) as url:
        idle = _login(url, "ana")
        assert idle.get("/api/me").status_code == 200
        time.sleep(2.5)
        assert idle.get("/api/me").status_code == 401  # idle too long
        assert idle.get("/alerts").headers["location"].startswith("/login")
        # The session's clock starts somewhere inside the login call: bound it on both sides so a slow
        # login (a loaded CI machine) cannot push the busy loop past the absolute limit.
        before_login = time.monotonic()
        busy = _login(url, "ana")
        after_login = time.monotonic()
        while time.monotonic() - before_login < 3.5:  # kept busy, it outlives the idle limit...
            assert busy.get("/api/me").status_code == 200
            time.sleep(0.3)
        time.sleep(max(0.0, 6.3 - (time.monotonic() - after_login)))
        assert busy.get("/api/me").status_code == 401  # ...but not the absolute one


def test_revoked_logged_out_and_re_passworded_sessions_are_refused(site, people):
    cookie, bearer = _login(site, "ana"), _bearer(site, "ana")
    other = _login(site, "bea")
    accounts.revoke_sessions(people, "ana", int(time.time() * 1000))
    assert cookie.get("/api/me").status_code == 401 and httpx.get(f"{site}/api/me", headers=bearer).status_code == 401
    assert other.get("/api/me").status_code == 200
    # logout ends the session on the server, not just in the browser
    again = _login(site, "ana")
    token = again.cookies.get(auth.COOKIE_NAME)
    assert again.post("/logout").status_code == 303
    assert httpx.get(f"{site}/api/me", cookies={auth.COOKIE_NAME: token}).status_code == 401
    accounts.set_password(people, "bea", "a-new-password-2", int(time.time() * 1000))
    assert other.get("/api/me").status_code == 401
    # a removed account's sessions die with it; a role change applies at the next login
    vic = _login(site, "vic")
    accounts.set_role(people, "vic", "analyst", int(time.time() * 1000))
    assert vic.get("/api/me").status_code == 401
    assert _login(site, "vic").get("/api/search", params={"q": "水务"}).status_code == 200
    accounts.remove_user(people, "vic")
    assert _login(site, "root").get("/api/admin/users").status_code == 200


def test_session_cookie_is_random_http_only_strict_and_stored_hashed(site, people):
    first = httpx.post(f"{site}/login", data={"username": "ana", "password": PASSWORDS["ana"]})
    second = httpx.post(f"{site}/login", data={"username": "ana", "password": PASSWORDS["ana"]})
    header = first.headers["set-cookie"].lower()
    assert "httponly" in header and "samesite=strict" in header and "max-age=43200" in header and "path=/" in header
    assert "secure" not in header  # plain http on 127.0.0.1; https requests get Secure
    tokens = [first.cookies[auth.COOKIE_NAME], second.cookies[auth.COOKIE_NAME]]
    assert tokens[0] != tokens[1] and min(len(t) for t in tokens) >= 40
    people.indices.refresh(index=alias("sessions"))
    stored = people.search(index=alias("sessions"), query={"term": {"user": "ana"}})["hits"]["hits"]
    assert len(stored) == 2 and not {h["_id"] for h in stored} & set(tokens)
    assert all(t not in str(h["_source"]) for h in stored for t in tokens)


def test_cross_site_posts_are_refused(site):
    ana = _login(site, "ana")
    evil = {"Origin": "http://evil.example"}
    assert ana.post("/api/watchlists", json={"name": "x", "query": "水务"}, headers=evil).status_code == 403
    assert ana.post("/api/watchlists", json={"name": "x", "query": "水务"},
                    headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403
    login_csrf = httpx.post(f"{site}/login", data={"username": "ana", "password": PASSWORDS["ana"]}, headers=evil)
    assert login_csrf.status_code == 403 and auth.COOKIE_NAME not in login_csrf.cookies
    same = {"Origin": site, "Sec-Fetch-Site": "same-origin"}
    assert ana.post("/api/watchlists", json={"name": "x", "query": "水务"}, headers=same).status_code == 201


# ---------------------------------------------------------------- modes


def test_the_local_demo_needs_no_login(people):
    from dashboards.app import create_app

    with serve(create_app(client=people, login=False)) as url:
        assert httpx.get(f"{url}/api/me").json() == {"name": "local", "role": "admin", "login": False}
        assert httpx.get(f"{url}/api/search", params={"q": "水务"}).status_code == 200
        assert "本地演示未启用登录" in httpx.get(f"{url}/login").text
        assert httpx.post(f"{url}/api/login", json={"username": "ana", "password": PASSWORDS["ana"]}).status_code == 404


def test_login_follows_the_environment(es, es_prefix, monkeypatch):
    for name in ("ZWGK_ENV", "ZWGK_DASHBOARD_LOGIN", auth.LEGACY_TOKEN_ENV):
        monkeypatch.delenv(name, raising=False)
    assert not auth.login_wanted() and not auth.login_wanted(host="127.0.0.1")
    assert auth.login_wanted(host="0.0.0.0")
    monkeypatch.setenv(auth.LEGACY_TOKEN_ENV, "an-old-token")  # an old deployment stays closed
    assert auth.login_wanted()
    monkeypatch.delenv(auth.LEGACY_TOKEN_ENV)
    monkeypatch.setenv("ZWGK_ENV", "production")
    assert auth.login_wanted() and not auth.login_wanted(False)
    from dashboards.app import NO_ADMIN, create_app

    with pytest.raises(RuntimeError, match="admin"), TestClient(create_app(client=es)):
        pass  # the app itself refuses to serve without an admin
    assert "zwgk user add" in NO_ADMIN


def _zwgk(*argv: str, stdin: str = "", env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    full = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    return subprocess.run([sys.executable, "-c", "from zwgk.cli import main; raise SystemExit(main())", *argv],
                          input=stdin, capture_output=True, text=True, env=full, cwd=REPO, timeout=120)


@pytest.mark.slow  # a dozen CLI processes, each hashing with the real argon2 cost: minutes on a busy machine
def test_production_refuses_to_start_without_an_admin_then_the_cli_makes_one(es, es_prefix):
    port = str(free_port())
    for argv, env in ((("dashboard", "--host", "0.0.0.0", "--port", port), {}),
                      (("dashboard", "--port", port), {"ZWGK_ENV": "production"})):
        done = _zwgk(*argv, env=env)
        assert done.returncode == 1, done.stderr
        assert done.stderr.strip().splitlines() == [
            "zwgk dashboard: production needs an admin account first: zwgk user add NAME --role admin"]
    # `zwgk user` with the real argon2 defaults
    added = _zwgk("user", "add", "boss", "--role", "admin", "--password-stdin", stdin="boss-password-1\n")
    assert added.returncode == 0, added.stderr
    assert accounts.get_user(es, "boss").password_hash.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert accounts.check_login(es, "boss", "boss-password-1", int(time.time() * 1000), accounts.Lockout()).user
    short = _zwgk("user", "add", "weak", "--role", "viewer", "--password-stdin", stdin="short\n")
    assert short.returncode == 1 and short.stderr.strip().count("\n") == 0 and "at least 10" in short.stderr
    no_tty = _zwgk("user", "passwd", "boss")
    assert no_tty.returncode == 2 and "--password-stdin" in no_tty.stderr and "Traceback" not in no_tty.stderr
    assert _zwgk("user", "remove", "boss").stderr.strip() == "zwgk user remove: 'boss' is the last admin; add another admin first"
    listed = _zwgk("user", "list")
    assert listed.returncode == 0 and listed.stdout.startswith("boss\tadmin\tlast login ")
    assert _zwgk("user", "role", "nobody", "viewer").returncode == 1
    assert _zwgk("user", "revoke", "boss").returncode == 0
    es.indices.refresh(index=alias("audit"))
    actions = [(e["action"], e["target"]) for e in audit.recent(es) if e["actor"].startswith("cli")]
    assert ("user.add", "boss") in actions and ("user.revoke", "boss") in actions


def test_elasticsearch_down_is_503_for_sessions_and_logins():
    from elasticsearch import Elasticsearch

    from dashboards.app import create_app

    dead = Elasticsearch("http://127.0.0.1:9", request_timeout=2, max_retries=0)  # nothing listens on port 9
    client = TestClient(create_app(client=dead, login=True), raise_server_exceptions=False)  # no lifespan: it would refuse
    me = client.get("/api/me", headers={"Authorization": "Bearer some-session"})
    assert me.status_code == 503 and me.json() == {"detail": "检索服务暂不可用"} and me.headers["x-frame-options"] == "DENY"
    login = client.post("/api/login", json={"username": "ana", "password": "whatever-it-is"})
    assert login.status_code == 503 and login.json() == {"detail": "检索服务暂不可用"}
    assert client.get("/login").status_code == 200  # the form itself still loads
    assert client.get("/api/topics").status_code == 401  # no session: asked to log in, nothing read
