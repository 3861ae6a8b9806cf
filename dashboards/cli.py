"""`zwgk dashboard`: serve the web dashboard and its JSON API with uvicorn."""

from __future__ import annotations

from zwgk.cliargs import count


def register(sub) -> None:
    """Add `zwgk dashboard` to the command line."""
    p = sub.add_parser(
        "dashboard",
        help="serve the web dashboard (pages + JSON API) on http://HOST:PORT",
        description=(
            "Serve the monitoring dashboard: overview, freshness heat map, agency scorecards, plan topics, "
            "timeliness, search and alerts, each backed by a JSON API (/docs lists it). Reads Elasticsearch "
            "at ES_URL (or the project's node) and the indices of ZWGK_INDEX_PREFIX. Login is required when "
            "ZWGK_DASHBOARD_TOKEN is set. Charts need `make assets` (ECharts vendored from npm)."
        ),
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=count(1, 65535), default=8000, help="port to listen on (default 8000)")
    p.add_argument("--es-url", default=None, help="Elasticsearch URL (default: ES_URL or the local node)")
    p.set_defaults(func=run_dashboard)


def run_dashboard(args) -> int:
    import logging

    import uvicorn

    from dashboards.app import create_app
    from dashboards.assets import ECHARTS_VENDORED
    from zwgk.es import get_client

    log = logging.getLogger("zwgk.dashboard")
    if not ECHARTS_VENDORED.exists():
        log.warning("charts disabled: %s is missing — run `make assets` (python -m dashboards.assets)", ECHARTS_VENDORED)
    app = create_app(client=get_client(args.es_url))
    if not app.state.auth_token and args.host not in ("127.0.0.1", "localhost", "::1"):
        log.warning("listening on %s without login: set ZWGK_DASHBOARD_TOKEN in production", args.host)
    log.info("dashboard on http://%s:%d/ (API: /docs)", args.host, args.port)
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    return 0
