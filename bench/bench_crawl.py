"""Crawl benchmark: the local demo web plus a synthetic site (default 2,000 articles, script pagination)
crawled end to end by our spiders; pages/s and CPU ms per page for list and article pages; next to
`scrapy bench` (Scrapy's own local benchmark spider) on the same machine.

    python -m bench.bench_crawl [--articles 2000] [--polite] [--scrapy-seconds 8]

By default AutoThrottle is off and 16 requests may be in flight, to measure the crawler rather than
its politeness; --polite runs with the production settings (AutoThrottle, 2 per domain).
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def bench_registry(path: Path) -> Path:
    """The demo registry plus the synthetic 'bulk' site."""
    data = yaml.safe_load((ROOT / "crawlers/sites/demo.yaml").read_text(encoding="utf-8"))
    data["sites"].append({"id": "bulk", "agency": "北京市人民政府办公厅", "name": "演示批量网站", "base_url": "/bulk/",
                          "home": "index.html", "columns": [{"name": "通知公告", "type": "通知公告", "list_urls": ["tzgg/index.html"]}]})
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def crawl_end_to_end(articles: int, polite: bool) -> dict:
    from crawlers.run import crawl
    from demo.server import serve_demo

    pages_per_list = 20
    settings = {"ZWGK_MAX_LIST_PAGES": articles // pages_per_list + 5, "LOG_LEVEL": "WARNING"}
    if not polite:
        settings.update({"AUTOTHROTTLE_ENABLED": False, "CONCURRENT_REQUESTS_PER_DOMAIN": 16, "CONCURRENT_REQUESTS": 32})
    with tempfile.TemporaryDirectory() as tmp, serve_demo(today=date(2026, 11, 25), synthetic_articles=articles) as web:
        registry = bench_registry(Path(tmp) / "sites.yaml")
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        result = crawl(registry, out_dir=Path(tmp) / "out", state_dir=Path(tmp) / "state", base_url=web, settings=settings)
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        second_started = time.perf_counter()
        second = crawl(registry, out_dir=Path(tmp) / "out2", state_dir=Path(tmp) / "state", base_url=web, settings=settings)
        second_wall = time.perf_counter() - second_started
    pages = result.pages
    return {"wall_s": wall, "cpu_s": cpu, "pages": pages, "lists": result.stats.get("zwgk/list_pages", 0),
            "articles": result.stats.get("zwgk/articles", 0), "docs": len(result.documents()),
            "second_wall_s": second_wall, "second_304": second.not_modified, "second_requests": second.requests,
            "crawl_elapsed_s": result.stats.get("elapsed_time_seconds", wall)}


def extraction_cpu(articles: int) -> dict:
    """CPU ms per page of the pure extraction stages alone (list parsing; article extraction)."""
    from crawlers.extract.article import extract_article
    from crawlers.extract.encoding import decode_html
    from crawlers.extract.listing import parse_list
    from demo.render import load_site_data, render_routes
    from demo.synthetic import synthetic_site

    routes = render_routes(date(2026, 11, 25), "http://127.0.0.1:1", [*load_site_data(), synthetic_site(articles)])
    lists = [(p, r) for p, r in routes.items() if re.search(r"/index(_\d+)?\.html$", p) and r.status == 200]
    arts = [(p, r) for p, r in routes.items() if ("/t2026" in p or "/art_" in p)]
    t = time.process_time()
    for p, r in lists:
        parse_list(decode_html(r.body, r.content_type)[0], "http://127.0.0.1:1" + p)
    list_ms = (time.process_time() - t) * 1000 / max(1, len(lists))
    t = time.process_time()
    for p, r in arts:
        extract_article(r.body, "http://127.0.0.1:1" + p, r.content_type)
    art_ms = (time.process_time() - t) * 1000 / max(1, len(arts))
    return {"list_pages": len(lists), "list_ms": list_ms, "article_pages": len(arts), "article_ms": art_ms}


def scrapy_bench(seconds: float) -> dict:
    """Run `scrapy bench` for a few seconds; its pages/s from the final stats."""
    cmd = [sys.executable, "-m", "scrapy", "bench", "-s", f"CLOSESPIDER_TIMEOUT={seconds}", "-s", "LOG_LEVEL=INFO"]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60, cwd=tempfile.gettempdir())
    except subprocess.TimeoutExpired:
        return {"error": "timeout"}
    text = out.stdout + out.stderr
    rates = [int(x) for x in re.findall(r"at (\d+) pages/min", text)]
    count = re.search(r"'response_received_count': (\d+)", text)
    elapsed = re.search(r"'elapsed_time_seconds': ([\d.]+)", text)
    pages_s = int(count.group(1)) / float(elapsed.group(1)) if count and elapsed else None
    return {"pages_s": pages_s, "peak_pages_min": max(rates) if rates else None, "returncode": out.returncode}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=2000, help="articles on the synthetic site")
    parser.add_argument("--polite", action="store_true", help="production politeness settings")
    parser.add_argument("--scrapy-seconds", type=float, default=8.0, help="how long `scrapy bench` runs")
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON too")
    args = parser.parse_args(argv)

    e2e = crawl_end_to_end(args.articles, args.polite)
    ext = extraction_cpu(args.articles)
    sb = scrapy_bench(args.scrapy_seconds)
    mode = "polite (AutoThrottle, 2/domain)" if args.polite else "throughput (no AutoThrottle, 16/domain)"
    print(f"crawl benchmark: demo web + {args.articles} synthetic articles, {mode}")
    print(f"{'measure':<48}{'value':>14}")
    rows = [
        ("zwgk crawl: pages (list + article)", f"{e2e['pages']}"),
        ("  list pages / article pages", f"{e2e['lists']} / {e2e['articles']}"),
        ("  wall time incl. process start (s)", f"{e2e['wall_s']:.1f}"),
        ("  pages/s (wall)", f"{e2e['pages'] / e2e['wall_s']:.0f}"),
        ("  pages/s (Scrapy elapsed)", f"{e2e['pages'] / max(e2e['crawl_elapsed_s'], 1e-9):.0f}"),
        ("  crawler CPU ms per page (all stages)", f"{e2e['cpu_s'] * 1000 / max(1, e2e['pages']):.2f}"),
        ("extraction CPU ms per list page", f"{ext['list_ms']:.2f}"),
        ("extraction CPU ms per article page", f"{ext['article_ms']:.2f}"),
        ("second run: requests / 304s / wall s", f"{e2e['second_requests']} / {e2e['second_304']} / {e2e['second_wall_s']:.1f}"),
        ("scrapy bench: pages/s (avg)", f"{sb['pages_s']:.0f}" if sb.get("pages_s") else str(sb)),
        ("scrapy bench: peak pages/min", f"{sb.get('peak_pages_min')}"),
    ]
    for name, value in rows:
        print(f"{name:<48}{value:>14}")
    if args.json:
        print(json.dumps({"crawl": e2e, "extraction": ext, "scrapy_bench": sb}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
