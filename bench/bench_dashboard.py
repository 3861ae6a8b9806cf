"""Dashboard latency through the HTTP API: search with highlights (p50/p95) and the overview page's data.

    python -m bench.bench_dashboard [--docs 20000] [--runs 200] [--overview-runs 5] [--url URL]

Reuses bench_search's synthetic corpus and prefix (`zwgk-bench-<20k|100k|1m>`, loaded once and kept), serves
the real app with uvicorn on a free 127.0.0.1 port and times GET /api/search and GET /api/overview
over HTTP (keep-alive), so the numbers include FastAPI, JSON and the highlight sanitising. The
overview is timed cold (the measures' reports recomputed every time) and warm (reports cached).
Target: search p95 < 200 ms at --docs 1000000.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import sys
import threading
import time

from bench.bench_search import FILTERS, QUERIES, bench_prefix, load, merge, segment_count

FORM = {"since": "date_from", "site_id": "site"}  # SearchRequest names → the search form's names


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(client):
    """Start the app under uvicorn in a thread; returns (server, base URL)."""
    import uvicorn

    from dashboards.app import create_app

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(client=client, auth_token=""), host="127.0.0.1", port=port,
                                           log_level="warning", access_log=False))
    threading.Thread(target=server.run, daemon=True).start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    return server, f"http://127.0.0.1:{port}"


def _row(name: str, values: list[float]) -> str:
    return f"{name:<22} {len(values):>5} {statistics.median(values):>8.1f} {_pct(values, 0.95):>8.1f} {max(values):>8.1f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench_dashboard", description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=20000, help="synthetic documents (default 20000; e.g. 1000000)")
    parser.add_argument("--runs", type=int, default=200, help="timed searches (default 200)")
    parser.add_argument("--overview-runs", type=int, default=5, help="timed cold overviews (default 5)")
    parser.add_argument("--segments", type=int, default=1,
                        help="force-merge the bench index to this many segments first (default 1; 0 = leave)")
    parser.add_argument("--url", help="Elasticsearch URL (default ES_URL or the project's node)")
    args = parser.parse_args(argv)

    import httpx

    from dashboards import reports
    from zwgk.es import get_client

    os.environ["ZWGK_INDEX_PREFIX"] = bench_prefix(args.docs)
    client = get_client(args.url, request_timeout=300)
    load_s = load(client, args.docs)
    merge(client, args.segments)
    loads = [os.getloadavg()[0]]
    server, base = _serve(client)
    http = httpx.Client(base_url=base, timeout=120)

    cases = [(cat, q, {FORM.get(k, k): v for k, v in f.items()}) for cat, qs in QUERIES.items() for q in qs for f in FILTERS]
    for _cat, q, f in cases[:20]:  # warm caches and jieba
        http.get("/api/search", params={"q": q, **f}).raise_for_status()
    by_cat: dict[str, list[float]] = {}
    for i in range(args.runs):
        cat, q, f = cases[i % len(cases)]
        t = time.perf_counter()
        resp = http.get("/api/search", params={"q": q, "size": 20, **f})
        by_cat.setdefault(cat, []).append((time.perf_counter() - t) * 1000)
        resp.raise_for_status()

    cold, warm = [], []
    for _ in range(args.overview_runs):
        reports.clear()
        t = time.perf_counter()
        http.get("/api/overview").raise_for_status()
        cold.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        http.get("/api/overview").raise_for_status()
        warm.append((time.perf_counter() - t) * 1000)
    loads.append(os.getloadavg()[0])
    server.should_exit = True
    http.close()

    everything = [v for vs in by_cat.values() for v in vs]
    print(f"dashboard API over HTTP: {args.docs:,} documents, {args.runs} searches (20 hits/page, highlights, "
          f"5 facets), {args.overview_runs} overviews" + (f" (loaded in {load_s:.0f} s)" if load_s else " (index reused)")
          + f"; {segment_count(client)} segments; load average {min(loads):.1f}-{max(loads):.1f} on {os.cpu_count()} CPUs")
    print(f"{'request':<22} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    print("-" * 55)
    for cat, values in by_cat.items():
        print(_row(f"search: {cat}", values))
    print(_row("search: all", everything))
    print(_row("overview (cold)", cold))
    print(_row("overview (cached)", warm))
    p95 = _pct(everything, 0.95)
    print(f"search p95 {p95:.0f} ms — target < 200 ms at 1,000,000 documents: "
          + ("met" if p95 < 200 else "NOT met") + f" at {args.docs:,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
