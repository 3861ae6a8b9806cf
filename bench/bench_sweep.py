"""Nation-sized sweep, simulated (issue 18): a generated web of N sites × 20 columns (default 14,000 sites,
280,000 list pages plus home pages) served by nginx on loopback addresses, swept end to end by the pipeline's
own shard steps (crawl → classify → index per shard, then events and measure once) with 1 and with 2 worker processes.

    python -m bench.bench_sweep [--sites 14000] [--workers 1 2] [--shard-sites 500] [--concurrency 64]

Per worker count: a fresh index prefix and crawl state; the old articles on every list page are marked as
crawled before (steady state: a daily sweep fetches list pages and only the day's new articles, about 1
column in 50); sweep 1 fetches every list page in full; the next day's articles are published; sweep 2 is
the incremental one (conditional requests, 304 for unchanged list pages). Printed: requests/s, crawl CPU ms
per list page, nginx CPU, Elasticsearch write rate, peak memory of a worker (its crawl child included), and
the time of each phase. Workers are processes running `pipeline.steps.run_step`, the task body of the
pipeline DAG's mapped shard tasks, taking shards round-robin as a Celery worker pool would; then the steps done
once (events, measure), each in its own process, as many at a time as there are workers (the DAG runs them side
by side).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
USUAL_HOME: Path | None = None  # the ZWGK_HOME the bench was started with (each worker count gets its own)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def worker(run_json: str, index: int, count: int, out: str) -> int:
    """One worker: the run's shards i with i % count == index, each through the per-shard steps."""
    from pipeline.steps import plan_shards, run_step, shard_steps

    run = _run_of(run_json)
    results = []
    for k, shard in enumerate(plan_shards(run)):
        if k % count != index:
            continue
        shard_run, done, handoff, times, cpu = run.for_shard(shard), {}, {}, {}, {}
        for step in shard_steps():
            started, before = time.perf_counter(), _cpu()
            done[step.name] = run_step(step.name, shard_run, done, handoff)
            times[step.name] = time.perf_counter() - started
            cpu[step.name] = _cpu() - before  # the crawl's is its Scrapy child's; the others' are this process's
        crawl, indexed = done["crawl"], done["index"]
        results.append({"shard": shard["name"], "times": times, "cpu": cpu, "requests": crawl["requests"],
                        "not_modified": crawl["not_modified"], "documents": crawl["document_count"],
                        "snapshots": crawl["snapshot_count"], "errors": crawl["errors"],
                        "indexed": {k: v.get("indexed") for k, v in indexed.items() if isinstance(v, dict)}})
    Path(out).write_text(json.dumps(results))
    return 0


def _run_of(run_json: str):
    """The sweep's pipeline.steps.Run from the JSON a worker process is started with."""
    from pipeline.steps import Run

    spec = json.loads(run_json)
    return Run(spec["run_id"], spec["sites_path"], as_of=spec["as_of"], scrapy_settings=spec["scrapy_settings"])


def once(run_json: str, name: str) -> int:
    """A step done once per run (events, measure) in its own process, as a worker takes its task."""
    from pipeline.steps import run_step

    run_step(name, _run_of(run_json), {})
    return 0


def run_once_steps(names: list[str], spec: str, workers: int, env: dict) -> dict[str, float]:
    """The steps done once, after every shard, on `workers` processes: side by side as the DAG runs them (they
    need nothing of each other) when there are two workers, one after the other with one. Their seconds each."""
    from concurrent.futures import ThreadPoolExecutor

    def timed(name: str) -> float:
        started = time.perf_counter()
        code = subprocess.call([sys.executable, "-m", "bench.bench_sweep", "--once", spec, name], cwd=ROOT, env=env)
        if code:
            raise SystemExit(f"the {name} step exited with {code}")
        return time.perf_counter() - started

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return dict(zip(names, pool.map(timed, names), strict=True))


def _cpu() -> float:
    """CPU seconds of this process and its waited-for children (user + system)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


class TreeSampler(threading.Thread):
    """Peak RSS of each worker's process tree (worker + its crawl child), sampled every 0.5 s."""

    def __init__(self, pids: list[int]):
        super().__init__(daemon=True)
        self.pids, self.peak, self.stop = pids, dict.fromkeys(pids, 0), threading.Event()

    def run(self) -> None:
        import psutil

        while not self.stop.is_set():
            for pid in self.pids:
                try:
                    proc = psutil.Process(pid)
                    rss = sum(p.memory_info().rss for p in [proc, *proc.children(recursive=True)])
                except psutil.Error:
                    continue
                self.peak[pid] = max(self.peak[pid], rss)
            self.stop.wait(0.5)


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of processes still running (nginx), from /proc."""
    import psutil

    total = 0.0
    for pid in pids:
        try:
            proc = psutil.Process(pid)
            for p in [proc, *proc.children(recursive=True)]:
                t = p.cpu_times()
                total += t.user + t.system
        except psutil.Error:
            pass
    return total


def es_indexing(client, prefix: str) -> tuple[int, int]:
    """(documents indexed, ms spent indexing) over the prefix's indices, from the node's own stats."""
    stats = client.indices.stats(index=f"{prefix}-*", metric="indexing")["_all"]["primaries"]["indexing"]
    return stats["index_total"], stats["index_time_in_millis"]


def sweep(label: str, run_id: str, sites_path: Path, as_of: date, workers: int, settings: dict, env: dict,
          nginx_pids: list[int], client, prefix: str, workdir: Path) -> dict:
    """One sweep with `workers` processes; the steps done once per run (events, measure) after them, on as many."""
    from measures import stored
    from pipeline.steps import Run, plan_shards, run_steps

    run = Run(run_id, str(sites_path), as_of=as_of.isoformat(), scrapy_settings=settings)
    started = time.perf_counter()
    shards = plan_shards(run)  # reads the whole registry once and writes each shard its slice: part of the sweep
    plan_s = time.perf_counter() - started
    spec = json.dumps({"run_id": run_id, "sites_path": str(sites_path), "as_of": as_of.isoformat(),
                       "scrapy_settings": settings})
    es_before, nginx_before = es_indexing(client, prefix), cpu_seconds(nginx_pids)
    cpu_before = os.times()
    outs = [workdir / f"{run_id}-w{i}.json" for i in range(workers)]
    procs = [subprocess.Popen([sys.executable, "-m", "bench.bench_sweep", "--worker", spec, str(i), str(workers), str(out)],
                              cwd=ROOT, env=env) for i, out in enumerate(outs)]
    sampler = TreeSampler([p.pid for p in procs])
    sampler.start()
    codes = [p.wait() for p in procs]
    sampler.stop.set()
    shard_wall = time.perf_counter() - started - plan_s
    cpu_workers = os.times()
    if any(codes):
        raise SystemExit(f"{label}: a worker exited with {codes}")
    once_s = run_once_steps([step.name for step in run_steps()], spec, workers, env)
    wall = time.perf_counter() - started
    cpu_after = os.times()
    fresh = stored.read(client, "freshness", as_of)  # what the measure saw: an empty week would show here
    es_after, nginx_after = es_indexing(client, prefix), cpu_seconds(nginx_pids)
    results = [r for out in outs for r in json.loads(out.read_text())]
    step_s = {name: sum(r["times"][name] for r in results) for name in ("crawl", "classify", "index")}
    step_cpu = {name: sum(r["cpu"][name] for r in results) for name in ("crawl", "classify", "index")}
    requests = sum(r["requests"] for r in results)
    snapshots = sum(r["snapshots"] for r in results)

    def children(a, b) -> float:
        return (b.children_user - a.children_user) + (b.children_system - a.children_system)

    children_cpu, once_cpu = children(cpu_before, cpu_workers), children(cpu_workers, cpu_after)
    return {
        "label": label, "workers": workers, "shards": len(shards), "wall_s": wall, "shard_wall_s": shard_wall,
        "once_wall_s": wall - plan_s - shard_wall,
        "plan_s": plan_s, "events_s": once_s["events"], "measure_s": once_s["measure"], "requests": requests, "not_modified": sum(r["not_modified"] for r in results),
        "documents": sum(r["documents"] for r in results), "snapshots": snapshots,
        "errors": sum(r["errors"] for r in results), "step_s": step_s,
        "requests_per_s": requests / shard_wall, "workers_cpu_s": children_cpu, "once_cpu_s": once_cpu,
        "step_cpu_s": step_cpu, "crawl_cpu_ms_per_list_page": step_cpu["crawl"] * 1000 / max(1, snapshots),
        "nginx_cpu_s": nginx_after - nginx_before,
        "es_writes": es_after[0] - es_before[0], "es_index_ms": es_after[1] - es_before[1],
        "es_writes_per_s": (es_after[0] - es_before[0]) / max(1e-9, step_s["index"] / workers),
        "peak_rss_mb": max(sampler.peak.values()) / 2**20, "load": os.getloadavg(),
        "measured_week": fresh.week.label, "measured_columns": len(fresh.columns),
        "columns_checked_in_week": int((fresh.columns["checks"] > 0).sum()) if "checks" in fresh.columns else 0,
        "failing_sites": int((fresh.sites["failing_rules"] != "").sum()) if "failing_rules" in fresh.sites else 0,
    }


def seed_seen(state_dir: Path, old: list[tuple[str, str]]) -> float:
    """Mark the old articles as crawled before (what yesterday's sweep left in the state)."""
    from crawlers.state import CrawlState

    started = time.perf_counter()
    state = CrawlState(state_dir)
    state.mark_seen_many(old)
    state.close()
    return time.perf_counter() - started


def shared_model_home(home: Path) -> Path:
    """A fresh ZWGK_HOME (runs, crawl state, classify cache) that reuses the converted model and the fitted
    heads of the usual one, so the sweep measures sweeping, not a first-time model setup."""
    from zwgk import settings

    home.mkdir(parents=True, exist_ok=True)
    usual = USUAL_HOME or settings.home()
    for part in ("models", "cache"):
        (usual / part).mkdir(parents=True, exist_ok=True)
        if not (home / part).exists():
            (home / part).symlink_to(usual / part)
    return home


def next_day(workers: int, args: argparse.Namespace, base: Path) -> list[dict]:
    """One more incremental sweep of a kept web (--again): the next day's articles published, then swept with
    the same home, crawl state and indices as the sweeps before (their run.json)."""
    from bench.sweep_web import SweepWeb, add_day, serve
    from zwgk.es import get_client

    meta_path = base / "run.json"
    if not meta_path.exists():
        raise SystemExit(f"--again: no kept sweep in {base} (run once with --dir {base.parent} --keep)")
    meta = json.loads(meta_path.read_text())
    home = shared_model_home(base / f"home-w{workers}")
    os.environ.update({"ZWGK_HOME": str(home), "ZWGK_INDEX_PREFIX": meta["prefix"],
                       "ZWGK_SHARD_SITES": str(args.shard_sites)})
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    web = SweepWeb(base / "web", meta["sites"], meta["columns"], meta["items"], meta["port"])
    day, n = date.fromisoformat(meta["last_day"]) + timedelta(days=1), meta["sweeps"] + 1
    settings = {"CONCURRENT_REQUESTS": args.concurrency, "LOG_LEVEL": "WARNING", "ZWGK_MAX_LIST_PAGES": 1}
    with serve(web, base / "nginx") as nginx_pid:
        new = add_day(web, day, args.new_every)
        row = sweep(f"incremental, day {n} (+{new} new)", f"sweep{n}-w{workers}", base / "sites.yaml",
                    date.fromisoformat(meta["measured"]), workers, settings, env, [nginx_pid], get_client(),
                    meta["prefix"], base)
    meta_path.write_text(json.dumps({**meta, "last_day": day.isoformat(), "sweeps": n}))
    print(_row(row), flush=True)
    return [row]


def bench_workers(workers: int, args: argparse.Namespace, base: Path) -> list[dict]:
    from bench.sweep_web import add_day, generate, serve
    from index.schema import drop_indices, ensure_indices
    from zwgk.es import get_client
    from zwgk.weeks import today, week_of

    home = shared_model_home(base / f"home-w{workers}")
    prefix = f"zwgk-sweep-{uuid.uuid4().hex[:8]}"
    os.environ.update({"ZWGK_HOME": str(home), "ZWGK_INDEX_PREFIX": prefix, "ZWGK_SHARD_SITES": str(args.shard_sites)})
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    # The web is dated by the real calendar: yesterday's articles, then today's. Snapshots carry the wall-clock
    # crawl time, and the measure evaluates the week holding today (as of its Sunday), so the week checks,
    # columns and last updates run over the sweep's own snapshots rather than an empty week.
    day = today() - timedelta(days=1)
    measured = week_of(today()).end
    started = time.perf_counter()
    web, old = generate(base / "web", args.sites, columns=args.columns, items_per_list=args.items, port=free_port(),
                        day=day, new_every=args.new_every)
    generate_s = time.perf_counter() - started
    sites_path = web.write_registry(base / "sites.yaml")
    from pipeline.steps import crawl_state_dir

    seed_s = seed_seen(crawl_state_dir(), old)
    print(f"[{workers} worker(s)] web of {args.sites} sites × {args.columns} columns written in {generate_s:.0f} s; "
          f"{len(old):,} old articles marked crawled in {seed_s:.0f} s", flush=True)
    client = get_client()
    ensure_indices(client)
    settings = {"CONCURRENT_REQUESTS": args.concurrency, "LOG_LEVEL": "WARNING", "ZWGK_MAX_LIST_PAGES": 1}
    rows = []
    try:
        with serve(web, base / "nginx") as nginx_pid:
            nginx_pids = [nginx_pid]
            first = sweep("full", f"sweep1-w{workers}", sites_path, measured, workers, settings, env, nginx_pids,
                          client, prefix, base)
            rows.append(first)
            print(_row(first), flush=True)
            new = add_day(web, day + timedelta(days=1), args.new_every)
            second = sweep(f"incremental (+{new} new)", f"sweep2-w{workers}", sites_path, measured, workers, settings,
                           env, nginx_pids, client, prefix, base)
            rows.append(second)
            print(_row(second), flush=True)
        if args.keep:  # what --again needs to sweep this web another day
            (base / "run.json").write_text(json.dumps({
                "prefix": prefix, "sites": args.sites, "columns": args.columns, "items": args.items, "port": web.port,
                "last_day": (day + timedelta(days=1)).isoformat(), "measured": measured.isoformat(), "sweeps": 2}))
    finally:
        if not args.keep:
            drop_indices(client)
    return rows


def _row(r: dict) -> str:
    return (f"{r['label']:<24}{r['workers']:>3}{r['wall_s']:>9.0f}{r['requests']:>10,}{r['not_modified']:>10,}"
            f"{r['requests_per_s']:>9.0f}{r['crawl_cpu_ms_per_list_page']:>9.2f}{r['nginx_cpu_s']:>8.1f}{r['documents']:>8,}"
            f"{r['es_writes_per_s']:>9.0f}{r['peak_rss_mb']:>9.0f}   plan {r['plan_s']:.0f} s, crawl/classify/index/events/measure "
            f"{r['step_s']['crawl']:.0f}/{r['step_s']['classify']:.0f}/{r['step_s']['index']:.0f}/{r['events_s']:.0f}/"
            f"{r['measure_s']:.0f} s (once-per-run wall {r['once_wall_s']:.0f} s) "
            f"(CPU {r['step_cpu_s']['crawl']:.0f}/{r['step_cpu_s']['classify']:.0f}/{r['step_cpu_s']['index']:.0f} s)"
            f"  load {r['load'][0]:.1f}; measured {r['measured_week']}: {r['measured_columns']:,} columns, "
            f"{r['columns_checked_in_week']:,} checked in the week, {r['failing_sites']:,} sites failing")


HEADER = (f"{'sweep':<24}{'wk':>3}{'wall s':>9}{'requests':>10}{'304':>10}{'req/s':>9}{'crawl ms':>9}{'nginx':>8}"
          f"{'new doc':>8}{'ES w/s':>9}{'peak MB':>9}")


def main(argv: list[str] | None = None) -> int:
    if argv is None and len(sys.argv) > 1 and sys.argv[1] == "--worker":
        _, spec, index, count, out = sys.argv[1:6]
        return worker(spec, int(index), int(count), out)
    if argv is None and len(sys.argv) > 1 and sys.argv[1] == "--once":
        return once(sys.argv[2], sys.argv[3])
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sites", type=int, default=14000, help="sites in the generated web (default 14,000)")
    parser.add_argument("--columns", type=int, default=20, help="columns per site (default 20)")
    parser.add_argument("--items", type=int, default=12, help="items on each list page (default 12)")
    parser.add_argument("--new-every", type=int, default=50, help="about one column in this many has a new article a day")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts to bench (default 1 2)")
    parser.add_argument("--shard-sites", type=int, default=500, help="sites per shard (ZWGK_SHARD_SITES)")
    parser.add_argument("--concurrency", type=int, default=64, help="CONCURRENT_REQUESTS of each crawl (2 per site)")
    parser.add_argument("--dir", type=Path, default=None, help="work folder, kept (default: a temporary one, removed)")
    parser.add_argument("--keep", action="store_true", help="keep the indices and files")
    parser.add_argument("--again", action="store_true",
                        help="sweep a web kept with --dir and --keep once more: the next day's articles, one incremental sweep")
    parser.add_argument("--json", action="store_true", help="print every row as JSON too")
    args = parser.parse_args(argv)
    if args.sites > 250 * 250:
        parser.error("--sites: at most 62,500 (one loopback address each)")
    os.environ.setdefault("ES_URL", "http://127.0.0.1:9200")
    from zwgk import settings

    global USUAL_HOME
    USUAL_HOME = settings.home()
    rows = []
    with contextlib.ExitStack() as stack:
        base = args.dir or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="zwgk-sweep-")))
        base.mkdir(parents=True, exist_ok=True)
        base.chmod(0o755)  # nginx's workers (not root) read the web under it
        for workers in args.workers:
            rows += (next_day if args.again else bench_workers)(workers, args, base / f"w{workers}")
    print(f"\nsweep bench: {args.sites:,} sites × {args.columns} columns ({args.sites * args.columns:,} list pages "
          f"+ {args.sites:,} home pages), shards of {args.shard_sites} sites, CONCURRENT_REQUESTS {args.concurrency}, "
          f"{os.cpu_count()} cores")
    print(HEADER)
    for r in rows:
        print(_row(r))
    if args.json:
        print(json.dumps(rows, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
