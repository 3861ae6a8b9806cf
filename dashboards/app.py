"""The dashboard web application: `create_app()` builds the FastAPI app (pages, JSON API, accounts, headers).

Every page is a thin Jinja2 template; its script fetches the page's JSON API (`/api/...`) and builds
the DOM with textContent, so the API is the one source of what a page shows. Crawled text never
reaches innerHTML, and the Content-Security-Policy allows scripts from this origin only.
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote

import jinja2
from elasticsearch import ApiError, TransportError
from fastapi import Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from dashboards import auth
from dashboards.admin import router as admin_router
from dashboards.api import router as api_router
from dashboards.login import authenticate
from dashboards.login import router as login_router
from index.search import QueryError

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
ES_UNAVAILABLE = "检索服务暂不可用"
NO_ADMIN = "production needs an admin account first: zwgk user add NAME --role admin"

# (path, page id, Chinese title); the nav bar lists them in this order
PAGES = (
    ("/", "overview", "总览"),
    ("/heatmap", "heatmap", "更新热力图"),
    ("/agencies", "agency", "机构"),
    ("/topics", "topics", "规划议题"),
    ("/timeliness", "timeliness", "时效"),
    ("/search", "search", "检索"),
    ("/opinion", "opinion", "舆情"),
    ("/alerts", "alerts", "告警"),
)

SECURITY_HEADERS = {
    # scripts only from this origin; ECharts sets element styles through the CSSOM, which style-src
    # 'unsafe-inline' is needed for (no script can run from a style)
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def secured(response: Response) -> Response:
    """The response with SECURITY_HEADERS (those it sets itself are kept)."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def _templates() -> Jinja2Templates:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True)
    return Jinja2Templates(env=env)


def create_app(client=None, login: bool | None = None, *, auth_token: str | None = None,
               policy: auth.Policy | None = None) -> FastAPI:
    """Build the app. `client`: an Elasticsearch client (default: zwgk.es.get_client() on first use);
    `login`: ask for accounts (default: auth.login_wanted() from the environment; off = the local demo);
    `auth_token=""` is the old way of saying login=False, kept for callers written before accounts;
    `policy`: session lifetimes and login limits (default: auth.Policy.from_env())."""
    if auth_token:
        raise ValueError("the shared dashboard token is gone: create accounts with `zwgk user add`")
    app = FastAPI(
        title="zwgk-monitor 政务公开监测 API",
        version="1.0",
        description="The JSON API behind every dashboard page (read-only except watchlists and accounts).",
        docs_url=None,  # FastAPI's Swagger UI loads from a CDN; /docs is our own local page
        redoc_url=None,
        dependencies=[Depends(auth.authorize)],  # roles, checked in one place for every route
        lifespan=_needs_an_admin,
    )
    app.state.client = client
    app.state.login = auth.login_wanted(False if auth_token == "" else login)
    app.state.policy = policy or auth.Policy.from_env()
    app.state.address_throttle = auth.Throttle(app.state.policy.address_failures,
                                               app.state.policy.address_window_seconds)
    app.state.unknown_names = auth.Throttle(app.state.policy.lockout.after, app.state.policy.lockout.lock_seconds)
    templates = _templates()
    app.state.templates = templates
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(api_router)
    app.include_router(login_router)
    app.include_router(admin_router)

    @app.middleware("http")
    async def login_and_headers(request: Request, call_next):
        path = request.url.path
        try:
            user = await _who(request)
        except (ApiError, TransportError) as exc:  # sessions live in Elasticsearch too
            log.warning("elasticsearch error checking the session on %s: %s", path, exc)
            return secured(JSONResponse({"detail": ES_UNAVAILABLE}, status_code=503))
        request.state.user = user
        if request.method not in auth.SAFE_METHODS and not auth.same_origin(request):
            response: Response = JSONResponse({"detail": "拒绝跨站请求"}, status_code=403)
        elif user is None and not auth.is_public(path):
            if path.startswith("/api/") or path == "/openapi.json":
                response = JSONResponse({"detail": "需要登录"}, status_code=401)
                response.headers["WWW-Authenticate"] = "Bearer"
            else:
                target = path + (f"?{request.url.query}" if request.url.query else "")
                response = RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
        else:
            response = await call_next(request)
        return secured(response)

    _add_error_handlers(app)
    _add_pages(app, templates)
    return app


async def _who(request: Request) -> auth.Principal | None:
    """The request's account: the local admin in the demo, else its session's (None on public paths without one)."""
    if not request.app.state.login:
        return auth.LOCAL
    if auth.is_public(request.url.path) and not auth.session_token(request):
        return None
    return await run_in_threadpool(authenticate, request)


@asynccontextmanager
async def _needs_an_admin(app: FastAPI):
    """With login on, refuse to serve until an admin account exists (`zwgk dashboard` says so in one line first)."""
    if app.state.login:
        from dashboards.accounts import count_admins
        from dashboards.api import es

        client = app.state.client if app.state.client is not None else es(SimpleNamespace(app=app))
        if await run_in_threadpool(count_admins, client) == 0:
            raise RuntimeError(NO_ADMIN)
    yield


def _add_error_handlers(app: FastAPI) -> None:
    """Malformed input → 400 with a message; Elasticsearch trouble → 503; nothing internal leaks."""
    @app.exception_handler(QueryError)
    async def on_query_error(request: Request, exc: Exception):
        return JSONResponse({"detail": f"查询有误：{exc}" if str(exc) else "查询有误"}, status_code=400)

    @app.exception_handler(RequestValidationError)
    async def on_validation_error(request: Request, exc: RequestValidationError):
        problems = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err.get("loc", ())[1:]) or "request"
            problems.append(f"{where}: {err.get('msg', 'invalid')}")
        return JSONResponse({"detail": "参数错误: " + "; ".join(problems)}, status_code=400)

    @app.exception_handler(ApiError)
    @app.exception_handler(TransportError)
    async def on_es_error(request: Request, exc: Exception):
        log.warning("elasticsearch error on %s: %s", request.url.path, exc)
        return JSONResponse({"detail": ES_UNAVAILABLE}, status_code=503)

    @app.exception_handler(Exception)
    async def on_unexpected(request: Request, exc: Exception):
        log.exception("unexpected error on %s", request.url.path)
        # this handler answers outside the header middleware (Starlette's outermost layer), so it adds them
        return secured(JSONResponse({"detail": "服务器内部错误"}, status_code=500))


def _plan_choices() -> list[tuple[str, str]]:
    """(key, title) of each plan in force when there are several: the pages' plan filter (?plan=)."""
    from zwgk.plans import load_plans

    plans = load_plans()
    return [(e.key, e.plan.name) for e in plans.entries] if plans.namespaced else []


def _add_pages(app: FastAPI, templates: Jinja2Templates) -> None:
    def render(request: Request, page: str, title: str) -> HTMLResponse:
        user = request.state.user
        return templates.TemplateResponse(
            request,
            f"{page}.html",
            {"page": page, "title": title, "pages": [p for p in PAGES if user.can(auth.required_role(p[0], "GET"))],
             "login": app.state.login, "user": user, "plans": _plan_choices()},
        )

    for path, page, title in PAGES:

        def endpoint(request: Request, page: str = page, title: str = title) -> HTMLResponse:
            return render(request, page, title)

        app.add_api_route(path, endpoint, methods=["GET"], include_in_schema=False, name=f"page_{page}")

    @app.get("/docs", include_in_schema=False)
    def docs(request: Request) -> HTMLResponse:
        return render(request, "docs", "API 文档")

    @app.get("/admin", include_in_schema=False)
    def admin(request: Request) -> HTMLResponse:
        return render(request, "admin", "账户与审计")

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict:
        return {"ok": True}

