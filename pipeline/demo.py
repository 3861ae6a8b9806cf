"""`zwgk demo`: the whole job on the bundled demo web, end to end, with Airflow running the pipeline DAG.

Elasticsearch (the project's node unless ES_URL is set) → demo web on a fixed port (so document URLs,
hence ids, are the same on every run and a second run only upserts what changed) → model prepared →
the zwgk_pipeline DAG run with dag.test() → weekly freshness report, weekly alert, hot events and negative
news per agency printed →
dashboard served until Ctrl-C (or checked and stopped with --no-serve).
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import threading
import time
import urllib.request
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

from pipeline import dag_settings

log = logging.getLogger(__name__)

DEMO_PORT = 8631
DASHBOARD_PORT = 8000
DEMO_SITES = dag_settings.SITES_DIR / "demo.yaml"
SHOWN_FRESHNESS_COLUMNS = ("site_id", "agency", "updates_in_week", "last_update", "n_stale_columns",
                           "n_blank_columns", "failing_rules")


def say(message: str) -> None:
    """Progress for the person watching, on stderr (stdout carries the reports)."""
    print(f"[zwgk demo] {message}", file=sys.stderr, flush=True)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def ensure_elasticsearch() -> str:
    """Start the project's node (idempotent) or check ES_URL; return the message."""
    from index import node

    return node.start()


def run_pipeline_dag(base_url: str, as_of: date | None, sites_path: Path = DEMO_SITES, quiet: bool = True):
    """Run the zwgk_pipeline DAG once in this process with Airflow's dag.test(); return the DagRun."""
    from pipeline.airflow_home import ensure_airflow

    ensure_airflow(quiet=quiet)
    from dags.zwgk_pipeline import dag

    conf = {"sites": str(sites_path), "site_ids": [], "base_url": base_url, "as_of": as_of.isoformat() if as_of else None}
    return dag.test(run_conf=conf)


def task_results(dag_run) -> dict[str, object]:
    """The return value (XCom) of every step of a finished run, by step name (`crawl`, not the task id
    `shard.crawl`), a per-shard step's results combined over its shards (steps.combine)."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    from pipeline import steps

    with create_session() as session:
        rows = session.query(XComModel).filter_by(dag_id=dag_run.dag_id, run_id=dag_run.run_id, key="return_value")
        by_step: dict[str, list] = {}
        for row in rows.order_by(XComModel.task_id, XComModel.map_index):
            by_step.setdefault(row.task_id.rpartition(".")[2], []).append(XComModel.deserialize_value(row))
    return {name: steps.combine(values) if isinstance(values[0], dict) else values[0] for name, values in by_step.items()}


def print_freshness(as_of: date, file=None) -> None:
    """The weekly freshness table and the rules that fail."""
    file = file or sys.stdout  # looked up per call: a default bound at import outlives a swapped stdout
    import pandas as pd

    from measures import stored
    from zwgk.es import get_client

    report = stored.read(get_client(), "freshness", as_of)  # the one the pipeline's measure task stored
    table = report.table
    shown = [c for c in SHOWN_FRESHNESS_COLUMNS if c in table.columns] or list(table.columns)
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.max_colwidth", 60):
        print(f"\n=== 网站更新情况 weekly freshness, week {report.week.label} (as of {as_of}) ===", file=file)
        print(table[shown].to_string(index=False) if len(table) else "(no sites)", file=file)
        failing = report.failing()
        print(f"\n{len(failing)} failing rule(s)", file=file)
        for subject, rule in failing:
            url = rule.evidence[0].get("url", "") if rule.evidence else ""
            print(f"  ✗ {subject}: {rule.rule} = {rule.value} (threshold {rule.threshold}) {url}".rstrip(), file=file)


def print_alert(as_of: date, file=None) -> None:
    """Run the weekly alert (recorded in ES, sent once per week and channel) and print it and where it went."""
    file = file or sys.stdout  # looked up per call: a default bound at import outlives a swapped stdout
    from pipeline import steps

    result = steps.alert_step(as_of)
    outcome = result["outcome"]
    print(f"\n=== 每周告警 weekly alert ({outcome.get('week', '')}) ===", file=file)
    print(result["text"], file=file)
    deliveries = outcome.get("deliveries") or []
    if not deliveries:
        print("\n(no channel configured — set ZWGK_SMTP_HOST/ZWGK_SMTP_TO, ZWGK_WEBHOOK_URLS, "
              "ZWGK_DINGTALK_WEBHOOK or ZWGK_WECOM_WEBHOOK to send it; printed only)", file=file)
    for d in deliveries:
        print(f"  → {d.get('channel')}: {d.get('status')} {d.get('error') or ''}".rstrip(), file=file)


def print_spike_alerts(as_of: date, file=None) -> None:
    """Run the daily spike alert for the day before as_of (what the zwgk_spikes DAG does each morning) and
    print each spike's alert and where it went (recorded in ES, sent once per agency, day and channel)."""
    file = file or sys.stdout
    from pipeline.spike_alerts import run_spike_alerts, spike_message
    from zwgk.es import get_client

    day = as_of - timedelta(days=1)
    runs = run_spike_alerts(get_client(), day)
    print(f"\n=== 负面舆情突增告警 spike alerts ({day}) ===", file=file)
    if not runs:
        print("(no agency's negative news jumped that day)", file=file)
    for run in runs:
        print(spike_message(run.spike).text, file=file)
        for d in run.deliveries:
            print(f"  → {d.channel}: {d.status} {d.error or ''}".rstrip(), file=file)
    if runs and not any(run.deliveries for run in runs):
        print("(no channel configured: printed only, as the weekly alert above)", file=file)


def print_opinion(as_of: date, file=None, size: int = 8) -> None:
    """The week's hot events (the same story across sources) and the agencies' negative news with their spikes."""
    file = file or sys.stdout
    from dashboards.pages.opinion import trend
    from measures.opinion import hot_events
    from zwgk.es import get_client

    client = get_client()
    hot = hot_events(client, as_of, "week", size=size)
    print(f"\n=== 热点事件 hot events, 7 days ending {as_of}: {hot['total']} events ===", file=file)
    for rank, e in enumerate(hot["events"], 1):
        first = f"{e.get('first_source')} {(e.get('first_published_at') or '')[:16].replace('T', ' ')}"
        print(f"{rank:>3}. heat {e.get('source_count', 0)} ({'、'.join(e.get('sources') or [])}), "
              f"{e.get('doc_count', 0)} docs, +{e['growth_24h']} in 24h, tone {e.get('sentiment') or '—'}: "
              f"{e.get('title', '')}  [first: {first}]", file=file)
    panel = trend(client, None, 14, as_of)  # the 舆情 page's trend panel: the agency with a spike, else the most negative
    print(f"\n=== 负面舆情 negative news, 14 days ending {as_of} ===", file=file)
    for a in panel["agencies"][:size]:
        print(f"  {a['agency']}: {a['negative']} of {a['news']} news items negative", file=file)
    found = ", ".join(f"{s['day']} ({s['count']} negative, z {s['z']})" for s in panel["spikes"]) or "none"
    print(f"  spikes of {panel['agency']}: {found}", file=file)


@contextmanager
def serve_dashboard(port: int | None = None):
    """Run the dashboard with uvicorn in a background thread; yield its address."""
    import uvicorn

    from dashboards.app import create_app

    port = port or int(os.environ.get("ZWGK_DASHBOARD_PORT") or DASHBOARD_PORT)
    if not _port_free(port):
        say(f"port {port} is taken; the dashboard uses a free port instead")
        port = 0
    config = uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="dashboard", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the dashboard did not start (see the log above)")
        time.sleep(0.05)
    bound = server.servers[0].sockets[0].getsockname()[1]
    address = f"http://127.0.0.1:{bound}/"
    with urllib.request.urlopen(address + "healthz", timeout=10) as resp:
        resp.read()
    try:
        yield address
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def run_demo(
    serve: bool = True,
    as_of: str | None = None,
    demo_port: int | None = None,
    dashboard_port: int | None = None,
    verbose: bool = False,
) -> int:
    """The README's first command; returns the exit status."""
    from demo.server import serve_demo
    from nlp.model import prepare_model
    from pipeline import steps

    day = steps.parse_as_of(as_of)
    started = time.monotonic()
    say(ensure_elasticsearch())
    demo_port = demo_port or int(os.environ.get("ZWGK_DEMO_PORT") or DEMO_PORT)
    if not _port_free(demo_port):
        say(f"port {demo_port} is in use (another `zwgk demo`?); stop it or pass --demo-port")
        return 1
    say(f"model ready at {prepare_model()}")
    with serve_demo(port=demo_port) as base_url:
        say(f"demo web at {base_url}")
        say("running the zwgk_pipeline DAG with Airflow (dag.test) …")
        dag_run = run_pipeline_dag(base_url, as_of=day if as_of else None, quiet=not verbose)
        state = str(getattr(dag_run, "state", ""))
        results = task_results(dag_run)
        crawl, classify, index = (results.get(k) or {} for k in ("crawl", "classify", "index"))
        say(
            f"DAG run {dag_run.run_id}: {state}; crawled {crawl.get('document_count', '?')} new/changed documents, "
            f"classified {classify.get('classified', '?')}, indexed "
            f"{(index.get('documents') or {}).get('indexed', '?')} in {time.monotonic() - started:.0f}s"
        )
        if not state.endswith("success"):
            say("the pipeline DAG failed; run again with -v for Airflow's task logs")
            return 1
        print_freshness(day)
        print_alert(day)
        print_spike_alerts(day)
        print_opinion(day)
        # the demo web keeps serving with the dashboard: its document links point there
        with serve_dashboard(dashboard_port) as address:
            print(f"\ndashboard: {address}", flush=True)
            print(f"舆情 (hot events, negative trend): {address}opinion?as_of={day.isoformat()}&period=week", flush=True)
            if not serve:
                return 0
            say("serving the dashboard and the demo web; Ctrl-C to stop")
            # Airflow's task runner leaves its own SIGINT/SIGTERM handlers behind: Ctrl-C and `kill` stop us again
            signal.signal(signal.SIGINT, signal.default_int_handler)
            signal.signal(signal.SIGTERM, _interrupt)
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                say("stopped")
    return 0
