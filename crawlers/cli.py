"""`zwgk crawl` and `zwgk site probe`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from zwgk.cliargs import input_file, output_dir, output_file


def register(sub) -> None:
    """Add this stage's subcommands to `zwgk`."""
    p = sub.add_parser(
        "crawl",
        help="crawl registered agency sites and news into JSON lines",
        description="Crawl the sites of a registry (default: crawlers/sites/beijing.yaml) or one ad-hoc column "
        "(--url), writing documents.jsonl and snapshots.jsonl. Incremental: seen articles are not fetched "
        "again and unchanged list pages answer 304.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--sites", help="site registry YAML (default: crawlers/sites/beijing.yaml; the demo: crawlers/sites/demo.yaml)")
    p.add_argument("--site", action="append", dest="site_ids", metavar="ID", help="crawl only this site (repeatable)")
    p.add_argument("--base-url", help="anchor for a registry with relative base URLs (the demo web's address)")
    p.add_argument("--out", default="crawl-out", help="output directory, or FILE.jsonl (snapshots go to FILE.snapshots.jsonl); "
                   "records already there are kept, since their pages count as seen")
    p.add_argument("--state-dir", help="directory of crawl-state.sqlite (default: $ZWGK_HOME)")
    p.add_argument("--url", help="ad-hoc: crawl this one list page (column) instead of a registry")
    p.add_argument("--agency", default="", help="ad-hoc: the agency the column belongs to")
    p.add_argument("--column-type", default="其他", help="ad-hoc: column type (动态要闻/通知公告/政策文件/政策解读/新闻发布/互动回应/其他)")
    p.add_argument("--column", default="", help="ad-hoc: column name (default: from the pages)")
    p.add_argument("--reset-site", metavar="ID", help="forget one site's seen URLs and list validators, then exit")
    p.add_argument("-s", "--set", action="append", default=[], metavar="NAME=VALUE", help="override a Scrapy setting")
    p.set_defaults(func=run_crawl)

    site = sub.add_parser("site", help="onboard a site: probe a column page for the crawler",
                          description="Tools for adding sites to the registry.")
    site_sub = site.add_subparsers(dest="site_command", metavar="SUBCOMMAND")
    probe = site_sub.add_parser(
        "probe", help="report a column's CMS family, pagination and dates; print a registry entry",
        description="Fetch one column page (obeying robots.txt, pausing between requests) and a sample article; "
        "report the CMS family and pagination found, items and pages, list date formats, meta tags and the "
        "disclosure table, and print a site-registry entry. Exit 0: recognised; 1: unknown layout; 2: could not fetch.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    probe.add_argument("url", help="a column list page")
    probe.add_argument("--json", action="store_true", help="print the report as JSON")
    probe.add_argument("--delay", type=float, default=1.0, help="seconds between requests to the site")
    probe.add_argument("--timeout", type=float, default=15.0, help="seconds to wait for an answer")
    probe.set_defaults(func=run_probe)


def run_crawl(args) -> int:
    from crawlers.run import crawl
    from crawlers.sites import SiteRegistryError
    from crawlers.state import CrawlState

    state_dir = output_dir(args.state_dir) if args.state_dir else None
    if args.reset_site:
        state = CrawlState(state_dir)
        articles, pages = state.reset_site(args.reset_site)
        print(f"reset {args.reset_site}: forgot {articles} article URLs and {pages} list pages ({state.path})")
        return 0
    settings = {}
    for pair in args.set:
        key, sep, value = pair.partition("=")
        if not sep:
            print(f"error: -s expects NAME=VALUE, got {pair!r}", file=sys.stderr)
            return 2
        settings[key] = value
    urls = [{"url": args.url, "agency": args.agency, "column_type": args.column_type, "column": args.column}] if args.url else None
    sites = input_file(args.sites) if args.sites else None
    out = output_file(args.out) if Path(args.out).suffix == ".jsonl" else output_dir(args.out)
    try:
        result = crawl(sites, args.site_ids, out, state_dir, args.base_url, urls=urls,
                       settings=settings, quiet=False)
    except SiteRegistryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(result.summary(), file=sys.stderr)
    print(f"documents: {result.documents_path}\nsnapshots: {result.snapshots_path}")
    return result.returncode



def run_probe(args) -> int:
    import json

    from crawlers.probe import PoliteFetcher, ProbeError, probe

    try:
        report = probe(args.url, PoliteFetcher(delay=args.delay, timeout=args.timeout))
    except ProbeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - a page nobody foresaw: one line, never a traceback
        print(f"error: {args.url}: could not read the page ({type(exc).__name__}: {str(exc)[:200]})", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({**report.to_dict(), "registry_yaml": report.registry_yaml() if report.entry else None},
                         ensure_ascii=False, indent=1))
    else:
        print(report.text())
    return 0 if report.family != "unknown" else 1
