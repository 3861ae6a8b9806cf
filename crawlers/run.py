"""Run a crawl: `crawl(...)` starts Scrapy in a child process (`python -m crawlers.run ...`) so it can
be called again and again from one Python process (an Airflow task, the pipeline, tests) — Twisted's
reactor cannot be restarted in-process."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from crawlers.sites import Site, adhoc_site, load_sites, select_sites
from zwgk.jsonl import count_rows, json_line, read_jsonl

if TYPE_CHECKING:
    from scrapy.settings import Settings

    from crawlers.revalidate import Revalidation


@dataclass
class CrawlResult:
    documents_path: Path
    snapshots_path: Path
    stats: dict = field(default_factory=dict)
    returncode: int = 0
    log_path: Path | None = None

    @property
    def requests(self) -> int:
        return int(self.stats.get("downloader/request_count", 0))

    @property
    def pages(self) -> int:
        return int(self.stats.get("zwgk/list_pages", 0)) + int(self.stats.get("zwgk/articles", 0))

    @property
    def items(self) -> int:
        return int(self.stats.get("item_scraped_count", 0))

    @property
    def errors(self) -> int:
        return sum(int(v) for k, v in self.stats.items() if k.startswith("zwgk/errors/"))

    @property
    def not_modified(self) -> int:
        return int(self.stats.get("downloader/response_status_count/304", 0))

    def documents(self) -> list[dict]:
        return list(read_jsonl(self.documents_path))

    def snapshots(self) -> list[dict]:
        return list(read_jsonl(self.snapshots_path))

    def summary(self) -> str:
        return (f"{self.requests} requests, {self.pages} pages, {self.items} items "
                f"(the files hold {len(self.documents())} documents, {len(self.snapshots())} snapshots), "
                f"{self.not_modified} not modified (304), {self.errors} errors")


def output_paths(out: str | Path) -> tuple[Path, Path, Path]:
    """(documents, snapshots, work dir) for an output directory or a FILE.jsonl."""
    out = Path(out)
    if out.suffix == ".jsonl":
        return out, out.with_name(out.stem + ".snapshots.jsonl"), out.with_name(out.stem + ".crawl")
    return out / "documents.jsonl", out / "snapshots.jsonl", out / ".crawl"


def crawl(
    sites_path: str | Path | None = None,
    site_ids: list[str] | None = None,
    out_dir: str | Path = "crawl-out",
    state_dir: str | Path | None = None,
    base_url: str | None = None,
    urls: list[dict] | None = None,
    settings: dict | None = None,
    timeout: float | None = None,
    quiet: bool = True,
) -> CrawlResult:
    """Crawl registered sites (or ad-hoc columns: urls=[{"url", "agency", "column_type", "column"}]) into
    JSON lines; returns the files and Scrapy's stats. Raises SiteRegistryError for a bad registry.

    Records already in the output files are kept (documents once per URL, the new crawl's version first):
    the incremental state counts their pages as seen, so no later crawl would fetch them again."""
    if urls:
        sites: list[Site] = [adhoc_site(u["url"], u.get("agency", ""), u.get("column_type", "其他"), u.get("column", ""))
                             for u in urls]
    else:
        sites = select_sites(load_sites(sites_path, base_url=base_url), site_ids)
    # absolute before they reach Scrapy, which runs in the repository root: relative means the caller's cwd
    documents, snapshots, work = output_paths(Path(out_dir).absolute())
    state_dir = Path(state_dir).absolute() if state_dir else None
    work.mkdir(parents=True, exist_ok=True)
    earlier = set_aside_earlier_output(documents, snapshots, work)
    stats_path, log_path = work / "stats.json", work / "crawl.log"
    stats_path.unlink(missing_ok=True)
    settled = revalidate_first(sites, state_dir, settings or {}, snapshots, quiet) if not urls else None
    if settled is not None:
        sites = settled.remaining(sites)
    sites_json = work / "sites.json"
    sites_json.write_text(json.dumps([s.to_dict() for s in sites], ensure_ascii=False, indent=1), encoding="utf-8")
    if settled is not None and not any(s.columns or s.home or s.feeds for s in sites):
        merge_earlier_output(earlier, documents, snapshots)  # every list page answered 304: nothing to crawl
        return CrawlResult(documents, snapshots, dict(settled.stats), 0, None)
    overrides = {
        "ZWGK_SITES_JSON": str(sites_json), "ZWGK_DOCUMENTS_FILE": str(documents), "ZWGK_SNAPSHOTS_FILE": str(snapshots),
        "ZWGK_OUT_DIR": str(work), "LOG_FILE": str(log_path),
        **({"ZWGK_STATE_DIR": str(state_dir)} if state_dir else {}),
        **(settings or {}),
    }
    cmd = [sys.executable, "-m", "crawlers.run", "--stats", str(stats_path)]
    for key, value in overrides.items():
        cmd += ["-s", f"{key}={json.dumps(value) if not isinstance(value, str) else value}"]
    env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "crawlers.settings"}
    proc = subprocess.Popen(cmd, env=env, cwd=Path(__file__).resolve().parent.parent,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        stderr = _wait(proc, timeout, None if quiet else (documents, snapshots))
    finally:  # also after a timeout: what this attempt and the earlier ones wrote ends up in the files
        merge_earlier_output(earlier, documents, snapshots)
    stats = json.loads(stats_path.read_text()) if stats_path.exists() else {}
    for key, value in (settled.stats if settled is not None else {}).items():
        stats[key] = stats.get(key, 0) + value
    if proc.returncode != 0 and stderr:
        sys.stderr.write(stderr.decode("utf-8", "replace")[-4000:])
    return CrawlResult(documents, snapshots, stats, proc.returncode, log_path)


def crawl_settings(overrides: dict) -> Settings:
    """Scrapy's settings as the child will see them: crawlers/settings.py, then the caller's overrides read as
    `main` reads its -s values (so `-s ZWGK_REVALIDATE=False` is false here too)."""
    from scrapy.settings import Settings

    from crawlers import settings as defaults

    options = Settings()
    options.setmodule(defaults, priority="project")
    options.setdict({k: _parse_value(v) if isinstance(v, str) else v for k, v in overrides.items()}, priority="cmdline")
    return options


def revalidate_first(sites: list[Site], state_dir: Path | None, overrides: dict, snapshots: Path,
                     quiet: bool) -> Revalidation | None:
    """Settle unchanged columns with conditional GETs outside Scrapy (crawlers.revalidate) and write their
    snapshots; None when the pass is off (ZWGK_REVALIDATE false) or requests go through a proxy."""
    from crawlers.pipelines import CleanValidatePipeline
    from crawlers.revalidate import proxied, revalidate
    from crawlers.state import CrawlState

    options = crawl_settings(overrides)
    if not options.getbool("ZWGK_REVALIDATE", True) or proxied():
        return None
    state = CrawlState(state_dir or options.get("ZWGK_STATE_DIR"))
    try:
        result = revalidate(sites, state, options, progress=not quiet)
    finally:
        state.close()
    clean = CleanValidatePipeline()
    with snapshots.open("a", encoding="utf-8") as out:
        for snap in result.snapshots:
            out.write(json_line(clean.process_item(snap).to_dict()))
    return result


def set_aside_earlier_output(documents: Path, snapshots: Path, work: Path) -> list[Path]:
    """Move the output files' current records to <work>/earlier-N-<name> and start both files empty; returns
    every set-aside file, including any left by a crawl that was killed before it could merge them back."""
    for path in (documents, snapshots):
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists() and path.stat().st_size:
            n = len(list(work.glob("earlier-*.jsonl")))
            os.replace(path, work / f"earlier-{n}-{'documents' if path is documents else 'snapshots'}.jsonl")
        path.write_text("", encoding="utf-8")
    return sorted(work.glob("earlier-*.jsonl"), key=lambda p: int(p.name.split("-")[1]), reverse=True)


def merge_earlier_output(earlier: list[Path], documents: Path, snapshots: Path) -> None:
    """Append set-aside records to the new files (documents whose URL the new crawl, or a later set-aside
    file, did not write again; every snapshot), then delete the set-aside files."""
    if not earlier:
        return
    urls = {row.get("url") for row in read_jsonl(documents)}
    with documents.open("a", encoding="utf-8") as docs_out, snapshots.open("a", encoding="utf-8") as snaps_out:
        for part in earlier:  # newest first, so the latest version of a document wins
            is_documents = part.name.endswith("-documents.jsonl")
            for row in read_jsonl(part):
                if is_documents:
                    if row.get("url") in urls:
                        continue
                    urls.add(row.get("url"))
                (docs_out if is_documents else snaps_out).write(json_line(row))
    for part in earlier:
        part.unlink()


def _wait(proc: subprocess.Popen, timeout: float | None, progress: tuple[Path, Path] | None) -> bytes:
    """Wait for the child (killing it after timeout), showing a documents/snapshots counter on stderr."""
    import threading
    import time

    chunks: list[bytes] = []
    reader = threading.Thread(target=lambda: chunks.append(proc.stderr.read()), daemon=True)
    reader.start()
    deadline = time.monotonic() + timeout if timeout else None
    while proc.poll() is None:
        if deadline and time.monotonic() > deadline:
            proc.kill()
            proc.wait()
            raise subprocess.TimeoutExpired(proc.args, timeout)
        if progress:
            docs, snaps = (count_rows(p) for p in progress)
            sys.stderr.write(f"\rcrawling: {docs} documents, {snaps} column snapshots")
            sys.stderr.flush()
        time.sleep(0.5)
    if progress:
        sys.stderr.write("\n")
    reader.join(timeout=5)
    return b"".join(chunks)


def _parse_value(raw: str):
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw


def main(argv: list[str] | None = None) -> int:
    """Child-process entry: run the column and news spiders over ZWGK_SITES_JSON, dump stats."""
    parser = argparse.ArgumentParser(prog="python -m crawlers.run")
    parser.add_argument("-s", "--set", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--stats", required=True)
    args = parser.parse_args(argv)
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "crawlers.settings")
    from scrapy.crawler import CrawlerProcess
    from scrapy.utils.project import get_project_settings

    from crawlers.spiders.column import ColumnSpider
    from crawlers.spiders.news import NewsSpider

    settings = get_project_settings()
    for pair in args.set:
        key, _, value = pair.partition("=")
        settings.set(key, _parse_value(value), priority="cmdline")
    process = CrawlerProcess(settings)
    crawlers = [process.create_crawler(ColumnSpider), process.create_crawler(NewsSpider)]
    for c in crawlers:
        process.crawl(c)
    process.start()
    merged: dict = {}
    for c in crawlers:
        for key, value in (c.stats.get_stats() or {}).items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                # the spiders run side by side: times, rates and memory do not add up
                combine = max if ("elapsed" in key or "memusage" in key or "per_minute" in key) else (lambda a, b: a + b)
                merged[key] = combine(merged[key], value) if key in merged else value
    Path(args.stats).write_text(json.dumps(merged, indent=1, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

