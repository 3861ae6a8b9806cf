"""Crash drill (issue 14 item 3): the pipeline on the demo web, one process SIGKILLed at a random point per run.

Each run crawls the bundled demo web, classifies, indexes, measures and sends the weekly alert into a fresh
index prefix and ZWGK_HOME of its own. One stage, the target, runs as a child process (the body of its DAG task:
`steps.run_step`, or `steps.alert_step` for the alert) and is SIGKILLed with its whole process group after a
random delay counted from the end of its imports, within the time that stage's work took in the undisturbed
reference run; then it is run again, as
Airflow's retries would (ZWGK_TASK_RETRIES). The `es` target kills a dedicated Elasticsearch node that the drill
starts on ports of its own (never the shared node) while the index, measure or alert stage talks to it, and
restarts it on the same data folder before the retry. The other stages run in this process.

After each run the dead letters are replayed and the invariants checked against the reference run:
every page of the demo web indexed exactly once with the reference's classification; the weekly alert
received exactly once per channel (a real SMTP server and a real webhook receiver on 127.0.0.1); no dead
letter left after replay; the stored freshness and timeliness reports identical.

    python -m bench.crash_drill --runs 100 [--seed 1] [--targets crawl classify index measure alert es]

prints the kills by target, every violation with its details, and the time to recover (from the kill to the
end of the successful retry, an Elasticsearch restart included): median and p95.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from bench.bench_pipeline import FAST_CRAWL

STAGES = ("crawl", "classify", "index", "measure", "alert")
TARGETS = (*STAGES, "es")
ES_STAGES = ("index", "measure", "alert")  # the stages talking to Elasticsearch when the node is killed
PORTS = range(9500, 9600)  # the drill's node: HTTP port p, transport p+100 (never the shared 9200)
REPO = Path(__file__).resolve().parent.parent
log = logging.getLogger("crash_drill")


# --- environment ------------------------------------------------------------------------------------


@contextmanager
def environ(values: dict[str, str | None]) -> Iterator[None]:
    """os.environ with these values (None: unset) while the block runs."""
    saved = {k: os.environ.get(k) for k in values}
    for key, value in values.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def free_ports() -> list[int]:
    """HTTP ports in PORTS whose transport port (+100) is free too, in a random order: two drills starting at
    once (their nodes bind late) rarely pick the same one, and the next is tried when one does."""
    from pipeline.demo import port_free

    ports = [p for p in PORTS if port_free(p) and port_free(p + 100)]
    random.Random(os.getpid()).shuffle(ports)
    if not ports:
        raise RuntimeError(f"no free port pair in {PORTS.start}..{PORTS.stop - 1} (+100) for the drill's node")
    return ports


# --- one stage, in this process or in a child --------------------------------------------------------


def pipeline_run(run_id: str, sites: str, base_url: str, day: str) -> Any:
    """The run as the DAG's tasks see it; the crawl unthrottled (every demo site is on 127.0.0.1)."""
    from pipeline import steps

    return steps.Run(run_id, sites, None, base_url, day, FAST_CRAWL)


def run_stage(stage: str, run: Any) -> dict[str, Any]:
    """What the DAG task of `stage` does: a per-shard step for every shard (the finished steps before it return
    their stored results, as the XComs would), measure once, or the weekly alert (zwgk_weekly_alert's task)."""
    from pipeline import steps

    if stage == "alert":
        return steps.alert_step(run.as_of)
    if stage == "measure":
        return steps.run_step("measure", run, {})
    results = []
    for shard in steps.plan_shards(run):
        shard_run, done = run.for_shard(shard), {}
        for step in steps.shard_steps():
            done[step.name] = steps.run_step(step.name, shard_run, done)
            if step.name == stage:
                break
        results.append(done[stage])
    return steps.combine(results)


# imported before the child says it is ready: the random kill lands in the stage's work, not in Python's imports
STAGE_MODULES = {"crawl": ("crawlers.run",), "classify": ("nlp.classify",), "index": ("index.store", "index.schema"),
                 "measure": ("measures.stored",), "alert": ("pipeline.alerting", "alerts.weekly")}


def child_main(args: argparse.Namespace) -> int:
    """The child process of the target stage; creates args.ready once its modules are imported."""
    import importlib

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    for module in ("pipeline.steps", *STAGE_MODULES[args.child]):
        importlib.import_module(module)
    if args.ready:
        Path(args.ready).touch()
    try:
        run_stage(args.child, pipeline_run(args.run_id, args.sites, args.base_url, args.day))
    except Exception as exc:  # noqa: BLE001 - a failed task: the harness retries it
        print(f"{args.child} failed: {exc.__class__.__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


# --- the drill's fixed parts --------------------------------------------------------------------------


@dataclass
class Observed:
    """What a run left behind: the indexed pages, the reports, the alert as received."""

    pages: list[tuple[str, str, tuple[str, ...]]]  # (url, kind, topic ids) per indexed document
    reports: dict[str, str]  # name → stored body
    received: dict[str, list[tuple[str, str]]]  # channel → (delivery id, subject) of every arrival during the run
    dead_letters: list[str]  # files left after replay


@dataclass
class RunResult:
    n: int
    target: str
    stage: str
    delay: float
    killed: bool = False
    tries: int = 1
    recover_s: float | None = None
    violations: list[str] = field(default_factory=list)
    seconds: float = 0.0
    resent: int = 0  # alert copies received again with the same delivery id (killed between send and record)


@dataclass
class Drill:
    """The parts every run shares: the drill's home with its Elasticsearch node, the demo web, the sinks."""

    root: Path
    base_url: str
    es_port: int
    smtp: Any
    webhook: Any
    sites: str
    model: str
    day: date  # the demo web's today and the day measured
    durations: dict[str, float] = field(default_factory=dict)  # reference run: seconds per stage as a child
    finished: dict[str, list[float]] = field(default_factory=dict)  # seconds of each stage a kill missed
    reference: Observed | None = None
    cache_seed: Path | None = None  # the reference run's classify cache
    run_seed: Path | None = None  # the reference run's folder (its crawl and classify outputs), copied
    run_seed_origin: str = ""  # where it was (the paths in its files name it)
    expected_urls: set[str] = field(default_factory=set)

    @property
    def es_url(self) -> str:
        return f"http://127.0.0.1:{self.es_port}"

    def kill_window(self, stage: str) -> float:
        """The span a kill delay is drawn in: the reference's stage time until kills miss, then the median time
        the missed stage took. The reference's classify loads and warms the model cold, and beside other drills it
        took 6 times a disturbed run's: most kills drawn in that time landed after the stage had ended."""
        missed = self.finished.get(stage, [])[-5:]
        return min(self.durations[stage], statistics.median(missed)) if missed else self.durations[stage]

    def node_env(self) -> dict[str, str | None]:
        return {"ZWGK_HOME": str(self.root), "ZWGK_ES_PORT": str(self.es_port), "ZWGK_ES_HEAP": "512m",
                "ES_URL": None, "ZWGK_INDEX_PREFIX": None}

    def run_env(self, home: Path, prefix: str) -> dict[str, str | None]:
        return {"ZWGK_HOME": str(home), "ES_URL": self.es_url, "ZWGK_INDEX_PREFIX": prefix, "ZWGK_MODEL": self.model,
                "ZWGK_DEAD_LETTER_DIR": None, "ZWGK_WEBHOOK_URLS": f"{self.webhook.url}/hook",
                "ZWGK_DINGTALK_WEBHOOK": None, "ZWGK_WECOM_WEBHOOK": None, "HF_HUB_OFFLINE": "1",
                "TRANSFORMERS_OFFLINE": "1", **self.smtp.env()}

    def run_home(self, name: str) -> Path:
        """A ZWGK_HOME for one run: its own runs, crawl state, classify cache and dead letters; the model and
        the fitted topic head shared (links)."""
        home = self.root / "runs" / name
        shutil.rmtree(home, ignore_errors=True)
        home.mkdir(parents=True)
        (home / "models").symlink_to(Path(self.model).parent)
        (home / "cache").symlink_to(self.root / "cache")
        return home


@contextmanager
def drill_setup(keep: bool = False) -> Iterator[Drill]:
    """The drill's home (a temporary folder), its own Elasticsearch node, the demo web, an SMTP server and
    a webhook receiver; everything stopped and removed afterwards (`keep`: the folder stays)."""
    from demo.server import serve_demo
    from index import node
    from nlp.model import prepare_model
    from pipeline.dag_settings import SITES_DIR
    from tests.fixtures.alert_sinks import running_smtp_sink, running_webhook_sink
    from zwgk import settings
    from zwgk.weeks import today

    model = str(prepare_model())
    shared_home = settings.home()
    root = Path(tempfile.mkdtemp(prefix="zwgk-crash-drill-"))
    root.chmod(0o755)  # as root the node runs as the service user, which must reach its folder
    (root / "es").mkdir()
    if (shared_home / "es" / "dist").is_dir():  # the distribution zip, not fetched again
        (root / "es" / "dist").symlink_to(shared_home / "es" / "dist")
    if (shared_home / "cache").is_dir():  # the fitted topic head, not fitted again by every run
        shutil.copytree(shared_home / "cache", root / "cache")
    else:
        (root / "cache").mkdir()
    day = today()  # the measures and the alert look at the weeks before the crawl: the demo web's today is ours
    with running_smtp_sink() as smtp, running_webhook_sink() as webhook, serve_demo(port=0, today=day) as web:
        drill = Drill(root, str(web), 0, smtp, webhook, str(SITES_DIR / "demo.yaml"), model, day)
        drill.expected_urls = demo_article_urls(str(web), day)
        try:
            for port in free_ports()[:3]:
                drill.es_port = port
                try:
                    with environ(drill.node_env()):
                        node.start(timeout=300)
                    break
                except node.NodeError as exc:  # taken meanwhile (another drill's node): the next port
                    if "Address already in use" not in str(exc):
                        raise
                    log.warning("port %d taken while the node started; trying another", port)
                    shutil.rmtree(root / "es" / "node", ignore_errors=True)
            else:
                raise RuntimeError("the drill's Elasticsearch node found no free port (3 tried)")
            yield drill
        finally:
            with environ(drill.node_env()):
                node.stop(timeout=60)
            if not keep:
                shutil.rmtree(root, ignore_errors=True)


def demo_article_urls(base_url: str, day: date) -> set[str]:
    """Every article a complete crawl of the demo web reaches, as absolute URLs: served with 200, listed on a
    list page that answers 200, not disallowed by robots.txt."""
    from demo.render import ROBOTS_TXT, build_sites, load_site_data

    disallowed = [line.split(":", 1)[1].strip() for line in ROBOTS_TXT.splitlines() if line.startswith("Disallow:")]
    return {base_url.rstrip("/") + a.path for site in build_sites(day, load_site_data()) for c in site.columns
            if c.status == 200 for a in c.articles
            if a.status == 200 and not any(a.path.startswith(prefix) for prefix in disallowed)}


# --- killing and restarting ---------------------------------------------------------------------------


def spawn(drill: Drill, stage: str, run_id: str, log_path: Path, ready: Path | None = None) -> subprocess.Popen:
    """The stage's task as a child in its own process group (so the crawl's Scrapy child dies with it); it
    creates `ready` when its imports are done."""
    cmd = [sys.executable, "-m", "bench.crash_drill", "--child", stage, "--run-id", run_id, "--sites", drill.sites,
           "--base-url", drill.base_url, "--day", drill.day.isoformat(), *(["--ready", str(ready)] if ready else [])]
    with log_path.open("a") as out:
        return subprocess.Popen(cmd, cwd=REPO, env=dict(os.environ), stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


def wait_ready(proc: subprocess.Popen, ready: Path, timeout: float = 600) -> None:
    """Until the child has imported its stage (or exited)."""
    deadline = time.monotonic() + timeout
    while not ready.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)


def kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def kill_pid(pid: int) -> None:
    """SIGKILL a process and wait until it is gone (or a zombie nobody has reaped yet: dead all the same)."""
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
        try:
            if "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]:
                return
        except OSError:
            return
        time.sleep(0.05)


def kill_node(drill: Drill) -> None:
    """SIGKILL the drill's Elasticsearch node (never the shared one: its pid file is under the drill's home)."""
    from index import node

    with environ(drill.node_env()):
        kill_pid(int(node.pid_file().read_text().strip()))
        node.pid_file().unlink(missing_ok=True)  # a crash leaves it behind


def restart_node(drill: Drill) -> None:
    """Start the node again on the same data folder and wait until every index has recovered."""
    from index import node
    from zwgk.es import get_client

    with environ(drill.node_env()):
        node.start(timeout=300)
    get_client(drill.es_url).cluster.health(wait_for_status="yellow", wait_for_no_initializing_shards=True,
                                            timeout="120s")


def node_alive(drill: Drill) -> bool:
    from index import node

    with environ(drill.node_env()):
        return node.health(drill.es_url) is not None


def retries() -> int:
    from pipeline.dag_settings import default_args

    return int(default_args()["retries"])


def killed_stage(drill: Drill, result: RunResult, run_id: str, home: Path) -> None:
    """Run the target stage as a child, SIGKILL it (or the node) after result.delay, then retry it like the DAG."""
    log_path, ready = home / f"{result.stage}.log", home / f"{result.stage}.ready"
    proc = spawn(drill, result.stage, run_id, log_path, ready)
    wait_ready(proc, ready)
    killed_at, started = None, time.monotonic()
    try:
        rc = proc.wait(timeout=result.delay)
        if rc == 0:  # done before the kill: its time narrows the next kills' window
            drill.finished.setdefault(result.stage, []).append(time.monotonic() - started)
    except subprocess.TimeoutExpired:
        killed_at = time.monotonic()
        if result.target == "es":
            kill_node(drill)
            try:
                rc = proc.wait(timeout=300)
            except subprocess.TimeoutExpired:  # hangs instead of failing: counted, then killed like a stuck task
                result.violations.append(f"{result.stage} still running 300 s after the node was killed")
                kill_group(proc)
                rc = -9
            restart_node(drill)
        else:
            kill_group(proc)
            rc = -9
    result.killed = killed_at is not None
    if result.target == "es" and not result.killed and not node_alive(drill):
        restart_node(drill)
    while rc != 0 and result.tries <= retries():
        result.tries += 1
        proc = spawn(drill, result.stage, run_id, log_path)
        try:
            rc = proc.wait(timeout=600)
        except subprocess.TimeoutExpired:
            kill_group(proc)
            rc = -9
    if rc != 0:
        tail = log_path.read_text(errors="replace")[-600:] if log_path.exists() else ""
        result.violations.append(f"{result.stage} did not recover in {result.tries} tries: …{tail}")
    elif killed_at is not None:
        result.recover_s = time.monotonic() - killed_at


# --- invariants ---------------------------------------------------------------------------------------


def replay_all(home: Path) -> list[str]:
    """Replay every dead letter of the run (documents, snapshots, alert records); the files left afterwards."""
    from alerts import delivery
    from index import store
    from zwgk.es import get_client

    client = get_client()
    directory = home / "dead-letter"
    delivery.replay_dead_letters(client)
    for path in sorted(directory.glob("*.jsonl")) if directory.is_dir() else []:
        if path.name != "alerts.jsonl":
            store.replay_dead_letters(client, path, refresh=True)
    return sorted(str(p.relative_to(home)) for p in directory.glob("*.jsonl")) if directory.is_dir() else []


def observe(home: Path, smtp_from: int, hook_from: int, drill: Drill) -> Observed:
    """The run's indexed pages, stored reports and received alerts (after the dead letters are replayed)."""
    from elasticsearch import helpers

    from measures import stored
    from zwgk.es import alias, get_client

    letters = replay_all(home)
    client = get_client()
    client.indices.refresh(index=alias("documents"))
    pages = [(h["_source"].get("url"), h["_source"].get("kind") or "", tuple(sorted(h["_source"].get("topic_ids") or [])))
             for h in helpers.scan(client, index=alias("documents"), query={"query": {"match_all": {}}},
                                   _source=["url", "kind", "topic_ids"])]
    reports = {}
    for name in ("freshness", "timeliness"):
        record = stored.stored_record(client, name, drill.day)
        reports[name] = comparable(record["body"]) if record else ""
    received = {"email": [(str(m["Message-ID"] or ""), str(m["Subject"])) for m in drill.smtp.messages[smtp_from:]],
                "webhook": [(body.get("id") or "", body.get("subject", "")) for _, body in drill.webhook.requests[hook_from:]]}
    return Observed(pages, reports, received, letters)


VOLATILE = ("crawled_at", "fetched_at", "indexed_at", "response_ms", "computed_at")  # differ by when, not what


def comparable(body: str) -> str:
    """A stored report without what differs between two identical runs (crawl times, response times)."""
    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            if {"columns", "rows"} <= value.keys():  # a stored table: drop the volatile columns
                keep = [i for i, c in enumerate(value["columns"]) if c not in VOLATILE]
                return {**value, "columns": [value["columns"][i] for i in keep],
                        "dtypes": [value["dtypes"][i] for i in keep] if "dtypes" in value else None,
                        "rows": [[strip(row[i]) for i in keep] for row in value["rows"]]}
            return {k: strip(v) for k, v in value.items() if k not in VOLATILE}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return json.dumps(strip(json.loads(body)), ensure_ascii=False, sort_keys=True)


def first_difference(a: str, b: str) -> str:
    """Where two texts part, with a little context."""
    i = next((k for k, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    return f"at {i}: …{a[max(0, i - 60):i + 60]}… vs …{b[max(0, i - 60):i + 60]}…"


def violations(seen: Observed, reference: Observed, expected_urls: set[str]) -> list[str]:
    """Every invariant the run broke, one line each (empty: none)."""
    out = []
    counts = Counter(url for url, _, _ in seen.pages)
    out += [f"page indexed {n} times: {url}" for url, n in counts.items() if n > 1]
    missing = sorted(expected_urls - set(counts))
    if missing:
        out.append(f"{len(missing)} pages of the demo web not indexed, e.g. {missing[:3]}")
    extra = sorted(set(counts) - {u for u, _, _ in reference.pages})
    if extra:
        out.append(f"{len(extra)} documents the reference run did not index, e.g. {extra[:3]}")
    want = {url: (kind, topics) for url, kind, topics in reference.pages}
    wrong = sorted(url for url, kind, topics in seen.pages if url in want and want[url] != (kind, topics))
    if wrong:
        out.append(f"{len(wrong)} pages classified differently from the reference, e.g. {wrong[:3]}")
    for channel, arrivals in seen.received.items():
        # one alert per week and channel: one delivery id (a copy resent after a crash carries the same one)
        ids = {i for i, _ in arrivals}
        if len(ids) != 1 or "" in ids:
            out.append(f"weekly alert received as {len(ids)} different deliveries on {channel} "
                       f"({len(arrivals)} arrivals)")
        elif {s for _, s in arrivals} != {s for _, s in reference.received[channel]}:
            out.append(f"weekly alert on {channel} differs from the reference: {arrivals[0][1][:80]}")
    if seen.dead_letters:
        out.append(f"dead letters left after replay: {seen.dead_letters}")
    for name, body in seen.reports.items():
        if body != reference.reports[name]:
            out.append(f"{name} report differs from the reference run's {first_difference(body, reference.reports[name])}")
    return out


# --- runs ---------------------------------------------------------------------------------------------


def cleanup(home: Path, keep: bool) -> None:
    from index.schema import drop_indices
    from zwgk.es import get_client

    drop_indices(get_client())
    if not keep:
        shutil.rmtree(home, ignore_errors=True)


def reference_run(drill: Drill) -> None:
    """The undisturbed run every other run is compared with; each stage as a child, timed."""
    home = drill.run_home("reference")
    smtp_from, hook_from = len(drill.smtp.messages), len(drill.webhook.requests)
    with environ(drill.run_env(home, "crash-ref")):
        for stage in STAGES:
            ready = home / f"{stage}.ready"
            proc = spawn(drill, stage, "reference", home / f"{stage}.log", ready)
            wait_ready(proc, ready)
            started = time.monotonic()  # the stage's work, its imports done: the window the kills are drawn in
            rc = proc.wait(timeout=900)
            if rc != 0:
                raise RuntimeError(f"the reference run's {stage} failed: {(home / f'{stage}.log').read_text()[-2000:]}")
            drill.durations[stage] = time.monotonic() - started
        drill.reference = observe(home, smtp_from, hook_from, drill)
        problems = violations(drill.reference, drill.reference, drill.expected_urls)
        if problems:
            raise RuntimeError(f"the undisturbed reference run breaks the invariants: {problems}")
        drill.cache_seed = drill.root / "seed" / "classify-cache"
        shutil.copytree(home / "classify-cache", drill.cache_seed)
        drill.run_seed = drill.root / "seed" / "reference"
        shutil.copytree(home / "runs" / "reference", drill.run_seed)
        drill.run_seed_origin = str(home / "runs" / "reference")
        cleanup(home, keep=False)


SEEDED = {"classify": ("crawl",), "index": ("crawl", "classify"), "measure": ("crawl", "classify"),
          "alert": ("crawl", "classify"), "es": ("crawl", "classify")}  # what a run of each target takes as done


def seed_run(drill: Drill, run_dir: Path, done: tuple[str, ...]) -> None:
    """Give a run the reference run's finished earlier steps (their files and done markers), as if it had run
    them: the stages before the target do not change between runs, so they are not redone."""
    assert drill.run_seed is not None
    run_dir.mkdir(parents=True, exist_ok=True)
    for name in ("shards.json", "shards.json.done"):
        shutil.copy2(drill.run_seed / name, run_dir / name)
    for shard in (p for p in drill.run_seed.iterdir() if p.is_dir()):
        target = run_dir / shard.name
        if "crawl" in done:
            shutil.copytree(shard / "crawl", target / "crawl")
            summary = target / "crawl" / "summary.json"  # its paths name the reference's folder
            summary.write_text(summary.read_text().replace(drill.run_seed_origin, str(run_dir)))
        if "classify" in done:
            for name in ("classified.jsonl", "classified.jsonl.done"):
                shutil.copy2(shard / name, target / name)


def one_run(drill: Drill, n: int, target: str, rng: random.Random, keep: bool = False) -> RunResult:
    """One run of the pipeline with `target` killed once at a random point; its invariants checked."""
    started = time.monotonic()
    stage = rng.choice(ES_STAGES) if target == "es" else target
    result = RunResult(n, target, stage, rng.uniform(0.0, drill.kill_window(stage)))
    name = f"run-{n:05d}"
    home = drill.run_home(name)
    if stage != "classify" and drill.cache_seed:  # only a classify run loads the model: the others reuse results
        shutil.copytree(drill.cache_seed, home / "classify-cache")
    if SEEDED.get(target):
        seed_run(drill, home / "runs" / name, SEEDED[target])
    smtp_from, hook_from = len(drill.smtp.messages), len(drill.webhook.requests)
    with environ(drill.run_env(home, f"crash-{n:05d}")):
        run = pipeline_run(name, drill.sites, drill.base_url, drill.day.isoformat())
        try:
            for current in STAGES:
                if current == stage:
                    killed_stage(drill, result, name, home)
                    if result.violations:
                        break
                else:
                    run_stage(current, run)
            else:
                seen = observe(home, smtp_from, hook_from, drill)
                assert drill.reference is not None
                result.violations += violations(seen, drill.reference, drill.expected_urls)
                result.resent = sum(len(a) - len({i for i, _ in a}) for a in seen.received.values())
        except Exception as exc:  # noqa: BLE001 - a stage that fails after recovery is a finding, not a crash
            result.violations.append(f"{exc.__class__.__name__}: {str(exc)[:500]}")
        finally:
            if not node_alive(drill):
                restart_node(drill)
            cleanup(home, keep=keep or bool(result.violations))
    result.seconds = time.monotonic() - started
    return result


def plan_targets(runs: int, targets: list[str], rng: random.Random) -> list[str]:
    """`runs` targets cycling through every given target (shuffled each round), so each gets its share."""
    out: list[str] = []
    while len(out) < runs:
        round_ = list(targets)
        rng.shuffle(round_)
        out += round_
    return out[:runs]


def drill(runs: int, seed: int = 0, targets: list[str] | None = None, keep: bool = False,
          progress: bool = True, max_minutes: float | None = None,
          json_path: str | None = None) -> tuple[list[RunResult], dict[str, Any]]:
    """Set up, run the reference, then `runs` disturbed runs (fewer when max_minutes is up: no run is started
    after it); (results, facts about the drill). json_path gets each run's result as it finishes."""
    from tqdm import tqdm

    from zwgk.es import quiet_transport

    quiet_transport(False, logging.WARNING, ("elastic_transport", "elasticsearch", "urllib3"))
    logging.getLogger("pipeline").setLevel(logging.WARNING)
    rng = random.Random(seed)
    results: list[RunResult] = []
    started = time.monotonic()
    with drill_setup(keep=keep) as d:
        setup_s = time.monotonic() - started
        reference_run(d)
        facts = {"setup_s": setup_s, "reference_s": sum(d.durations.values()), "durations": dict(d.durations),
                 "pages": len(d.expected_urls), "es_port": d.es_port, "root": str(d.root), "asked": runs}
        out = open(json_path, "w", encoding="utf-8") if json_path else None  # noqa: SIM115 - one line per run
        try:
            for n, target in enumerate(tqdm(plan_targets(runs, targets or list(TARGETS), rng), desc="crash drill",
                                            unit="run", file=sys.stderr, disable=not progress or None)):
                if max_minutes is not None and time.monotonic() - started > max_minutes * 60:
                    break
                results.append(one_run(d, n, target, rng, keep=keep))
                if out:
                    out.write(json.dumps(results[-1].__dict__, ensure_ascii=False) + "\n")
                    out.flush()
        finally:
            if out:
                out.close()
        facts["windows"] = {stage: d.kill_window(stage) for stage in d.durations}
    facts["total_s"] = time.monotonic() - started
    return results, facts


# --- the report ---------------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(q * (len(values) - 1))))]


def report(results: list[RunResult], facts: dict[str, Any]) -> str:
    stopped = f" (of {facts['asked']} asked: time budget used up)" if facts.get("asked", len(results)) > len(results) else ""
    lines = [f"crash drill: {len(results)} runs{stopped} on the demo web ({facts['pages']} pages), own Elasticsearch on port "
             f"{facts['es_port']}; setup {facts['setup_s']:.0f} s, reference run {facts['reference_s']:.0f} s "
             f"({', '.join(f'{k} {v:.1f}' for k, v in facts['durations'].items())}); kill windows at the end "
             f"({', '.join(f'{k} {v:.1f}' for k, v in facts.get('windows', {}).items())}); total {facts['total_s']:.0f} s; "
             f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs",
             f"{'target':<10}{'runs':>6}{'killed':>8}{'missed':>8}{'retries':>9}{'violations':>12}"
             f"{'recover p50 s':>15}{'p95 s':>8}{'run s':>8}{'resent':>8}"]
    for target in [*TARGETS, "all"]:
        rs = [r for r in results if target in ("all", r.target)]
        if not rs:
            continue
        rec = [r.recover_s for r in rs if r.recover_s is not None]
        lines.append(f"{target:<10}{len(rs):>6}{sum(r.killed for r in rs):>8}{sum(not r.killed for r in rs):>8}"
                     f"{sum(r.tries - 1 for r in rs):>9}{sum(bool(r.violations) for r in rs):>12}"
                     f"{(statistics.median(rec) if rec else float('nan')):>15.1f}"
                     f"{(percentile(rec, 0.95) if rec else float('nan')):>8.1f}"
                     f"{statistics.mean(r.seconds for r in rs):>8.1f}{sum(r.resent for r in rs):>8}")
    bad = [r for r in results if r.violations]
    lines.append("resent: alert copies received again with the same delivery id (Message-ID / Idempotency-Key) "
                 "after a kill between sending and recording; the receiver can drop them")
    lines.append(f"violations: {sum(len(r.violations) for r in bad)} in {len(bad)} runs")
    for r in bad:
        for v in r.violations:
            lines.append(f"  run {r.n} ({r.target}: {r.stage} killed after {r.delay:.2f} s): {v}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.crash_drill", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=12, help="disturbed runs (one kill each; default 12)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (targets, delays, stages)")
    parser.add_argument("--targets", nargs="+", choices=TARGETS, default=list(TARGETS), metavar="TARGET",
                        help=f"what may be killed (default all: {' '.join(TARGETS)})")
    parser.add_argument("--keep", action="store_true", help="keep the drill's folder (runs with violations always are)")
    parser.add_argument("--json", metavar="FILE", help="also write every run's result as JSON lines, as it finishes")
    parser.add_argument("--max-minutes", type=float, metavar="M",
                        help="start no run after M minutes (the report then says how many of --runs were done)")
    parser.add_argument("--child", choices=STAGES, help=argparse.SUPPRESS)
    parser.add_argument("--run-id", help=argparse.SUPPRESS)
    parser.add_argument("--sites", help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    parser.add_argument("--day", help=argparse.SUPPRESS)
    parser.add_argument("--ready", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child_main(args)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    logging.basicConfig(level=logging.WARNING)
    results, facts = drill(args.runs, args.seed, args.targets, keep=args.keep, max_minutes=args.max_minutes,
                           json_path=args.json)
    print(report(results, facts))
    return 1 if any(r.violations for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
