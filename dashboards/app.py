"""The dashboard web application: `create_app()` builds the FastAPI app (pages, JSON API, login, headers).

Every page is a thin Jinja2 template; its script fetches the page's JSON API (`/api/...`) and builds
the DOM with textContent, so the API is the one source of what a page shows. Crawled text never
reaches innerHTML, and the Content-Security-Policy allows scripts from this origin only.
"""

from __future__ import annotations

import hmac
import logging
from pathlib import Path
from urllib.parse import parse_qs, quote

import jinja2
from elasticsearch import ApiError, TransportError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from dashboards import auth
from dashboards.api import router as api_router
from index.search import QueryError

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
ES_UNAVAILABLE = "检索服务暂不可用"

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


def create_app(client=None, auth_token: str | None = None) -> FastAPI:
    """Build the app. `client`: an Elasticsearch client (default: zwgk.es.get_client() on first use);
    `auth_token`: login token (default: env ZWGK_DASHBOARD_TOKEN; unset or "" = no login)."""
    app = FastAPI(
        title="zwgk-monitor 政务公开监测 API",
        version="1.0",
        description="The JSON API behind every dashboard page (read-only except saving a watchlist).",
        docs_url=None,  # FastAPI's Swagger UI loads from a CDN; /docs is our own local page
        redoc_url=None,
    )
    app.state.client = client
    app.state.auth_token = auth.configured_token(auth_token)
    templates = _templates()
    app.state.templates = templates
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(api_router)

    @app.middleware("http")
    async def login_and_headers(request: Request, call_next):
        token = app.state.auth_token
        path = request.url.path
        if token and not auth.is_public(path) and not auth.is_authenticated(request, token):
            if path.startswith("/api/") or path == "/openapi.json":
                response: Response = JSONResponse({"detail": "需要登录"}, status_code=401)
                response.headers["WWW-Authenticate"] = "Bearer"
            else:
                target = path + (f"?{request.url.query}" if request.url.query else "")
                response = RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
        else:
            response = await call_next(request)
        return secured(response)

    _add_error_handlers(app)
    _add_pages(app, templates)
    _add_login(app, templates)
    return app


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


def _add_pages(app: FastAPI, templates: Jinja2Templates) -> None:
    def render(request: Request, page: str, title: str) -> HTMLResponse:
        return templates.TemplateResponse(
            request,
            f"{page}.html",
            {"page": page, "title": title, "pages": PAGES, "login": bool(app.state.auth_token)},
        )

    for path, page, title in PAGES:

        def endpoint(request: Request, page: str = page, title: str = title) -> HTMLResponse:
            return render(request, page, title)

        app.add_api_route(path, endpoint, methods=["GET"], include_in_schema=False, name=f"page_{page}")

    @app.get("/docs", include_in_schema=False)
    def docs(request: Request) -> HTMLResponse:
        return render(request, "docs", "API 文档")

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict:
        return {"ok": True}


def _add_login(app: FastAPI, templates: Jinja2Templates) -> None:
    @app.get("/login", include_in_schema=False)
    def login_form(request: Request, next: str = "/", error: str = "") -> HTMLResponse:
        return templates.TemplateResponse(
            request,
            "login.html",
            {"page": "login", "title": "登录", "pages": (), "login": True, "next": auth.safe_next(next),
             "error": bool(error), "enabled": bool(app.state.auth_token)},
        )

    @app.post("/login", include_in_schema=False)
    async def login_submit(request: Request) -> Response:
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        given = (form.get("token") or [""])[0]
        target = auth.safe_next((form.get("next") or ["/"])[0])
        token = app.state.auth_token
        if not token:
            return RedirectResponse(target, status_code=303)
        if not given or not hmac.compare_digest(auth.session_value(given), auth.session_value(token)):
            return RedirectResponse(f"/login?error=1&next={quote(target, safe='')}", status_code=303)
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            auth.COOKIE_NAME, auth.session_value(token), httponly=True, samesite="strict",
            secure=request.url.scheme == "https",
        )
        return response

    @app.post("/logout", include_in_schema=False)
    def logout() -> Response:
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(auth.COOKIE_NAME)
        return response
