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
            "at ES_URL (or the project's node) and the indices of ZWGK_INDEX_PREFIX. On 127.0.0.1 (the local demo) "
            "no login is asked for; in production (ZWGK_ENV=production, ZWGK_DASHBOARD_LOGIN=1, or a non-loopback "
            "--host) every request needs an account (`zwgk user`), and the dashboard refuses to start without an "
            "admin. Charts need `make assets` (ECharts vendored from npm)."
        ),
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=count(1, 65535), default=8000, help="port to listen on (default 8000)")
    p.add_argument("--es-url", default=None, help="Elasticsearch URL (default: ES_URL or the local node)")
    p.set_defaults(func=run_dashboard)


def run_dashboard(args) -> int:
    import logging
    import sys

    import uvicorn
    from elastic_transport import TransportError
    from elasticsearch import ApiError

    from dashboards import auth
    from dashboards.accounts import count_admins
    from dashboards.app import NO_ADMIN, create_app
    from dashboards.assets import ECHARTS_VENDORED
    from zwgk.es import display_url, get_client, quiet_transport

    log = logging.getLogger("zwgk.dashboard")
    client = get_client(args.es_url)
    login = auth.login_wanted(host=args.host)
    if login:
        quiet_transport()  # ES down: one line below, not the transport's retry tracebacks first
        try:
            admins = count_admins(client)
        except (TransportError, ApiError) as exc:
            print(f"zwgk dashboard: cannot read the accounts at {display_url(args.es_url)}: {exc}", file=sys.stderr)
            return 1
        if not admins:
            print(f"zwgk dashboard: {NO_ADMIN}", file=sys.stderr)
            return 1
    if not ECHARTS_VENDORED.exists():
        log.warning("charts disabled: %s is missing — run `make assets` (python -m dashboards.assets)", ECHARTS_VENDORED)
    app = create_app(client=client, login=login)
    log.info("dashboard on http://%s:%d/ (API: /docs; %s)", args.host, args.port,
             "accounts required" if login else "local demo: no login")
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    return 0
