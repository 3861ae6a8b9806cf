"""`zwgk run` (the pipeline once, in this process), `zwgk demo` (the whole job on the bundled demo web) and
`zwgk services` (Redis and PostgreSQL for Airflow's CeleryExecutor)."""

from __future__ import annotations

import argparse

from zwgk.cliargs import count, day, input_file

PORT = count(1, 65535)


def register(sub) -> None:
    """Add `run`, `demo` and `services` to `zwgk`."""
    run = sub.add_parser(
        "run",
        help="run crawl → classify → index → measure once, in this process",
        description="Run the whole pipeline once in this process: the same step functions the Airflow DAG "
        "calls, with files in between under $ZWGK_HOME/runs/<run-id>/. Progress goes to stderr.",
    )
    run.add_argument("--sites", help="site registry YAML (default: $ZWGK_SITES or crawlers/sites/beijing.yaml)")
    run.add_argument("--site", action="append", dest="site_ids", metavar="ID", help="only this site id (repeatable)")
    run.add_argument("--base-url", help="fetch every site from this base URL (e.g. a local demo web)")
    run.add_argument("--as-of", type=day, help="measure as of YYYY-MM-DD (default: today in Asia/Shanghai)")
    run.add_argument("--run-id", help="resume this run: finished steps are not redone (default: a new run)")
    run.set_defaults(func=cmd_run)

    demo = sub.add_parser(
        "demo",
        help="the whole job on the bundled demo sites: ES, demo web, Airflow pipeline DAG, reports, dashboard",
        description="Start Elasticsearch (unless ES_URL is set) and the bundled demo agency web, prepare the "
        "model, run the pipeline DAG with Airflow (dag.test, SQLite metadata DB under $ZWGK_HOME/airflow), "
        "print the weekly freshness report, the weekly alert, the week's hot events and the agencies' negative news, "
        "then start the dashboard (its 舆情 page shows events and spikes) and serve until "
        "Ctrl-C. A second run only fetches what changed.",
    )
    demo.add_argument("--no-serve", action="store_true", help="exit after printing (CI and tests)")
    demo.add_argument("--as-of", type=day, help="measure as of YYYY-MM-DD (default: today in Asia/Shanghai)")
    demo.add_argument("--demo-port", type=PORT, default=None, help="port of the demo web (default 8631; fixed so "
                      "document URLs stay the same between runs)")
    demo.add_argument("--port", type=PORT, default=None, help="dashboard port (default $ZWGK_DASHBOARD_PORT or 8000)")
    demo.set_defaults(func=cmd_demo)

    services = sub.add_parser(
        "services",
        help="Redis and PostgreSQL for Airflow's CeleryExecutor: start, stop, status, env",
        description="Run the project's own Redis (Celery's broker) and PostgreSQL (Airflow's metadata DB and "
        "Celery's results) from Debian's packages, on 127.0.0.1 (ZWGK_REDIS_PORT, ZWGK_PG_PORT), data under "
        "ZWGK_HOME/services. `eval \"$(zwgk services env)\"` then points Airflow at them (docs/deploy.md).",
    )
    action = services.add_subparsers(dest="services_command", metavar="ACTION", required=True)
    action.add_parser("start", help="install (apt) if needed, start both, wait until they answer (idempotent)")
    action.add_parser("stop", help="stop both")
    action.add_parser("status", help="up or down, port and data folder of each")
    action.add_parser("env", help="the Airflow settings for the CeleryExecutor, as export lines (holds passwords)")
    services.set_defaults(func=cmd_services)


def _quiet_libraries(args: argparse.Namespace) -> None:
    """One line per Elasticsearch request is noise on a progress display (kept with -v)."""
    import logging

    from zwgk.es import quiet_transport

    quiet_transport(bool(getattr(args, "verbose", False)), logging.WARNING,
                    ("elastic_transport", "elasticsearch", "httpx", "urllib3"))


def cmd_run(args: argparse.Namespace) -> int:
    from pipeline import runner

    _quiet_libraries(args)
    summary = runner.run_pipeline(
        sites_path=input_file(args.sites) if args.sites else None, site_ids=args.site_ids, base_url=args.base_url, as_of=args.as_of, run_id=args.run_id
    )
    runner.print_summary(summary)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from pipeline import demo

    _quiet_libraries(args)
    return demo.run_demo(
        serve=not args.no_serve,
        as_of=args.as_of,
        demo_port=args.demo_port,
        dashboard_port=args.port,
        verbose=bool(getattr(args, "verbose", False)),
    )


def cmd_services(args: argparse.Namespace) -> int:
    from pipeline import services

    if args.services_command == "env":
        print("\n".join(f"export {k}='{v}'" for k, v in services.env().items()))
        return 0
    lines = {"start": services.start, "stop": services.stop, "status": services.status}[args.services_command]()
    print("\n".join(lines))
    return 0
