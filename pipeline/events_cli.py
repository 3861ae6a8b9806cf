"""`zwgk events`: group documents into events (offline on a file, or into Elasticsearch) and list hot events."""

from __future__ import annotations

import argparse
import json
import sys

from zwgk.cliargs import UsageError, count, input_file, output_file


def register(sub) -> None:
    """Add `zwgk events cluster|build|hot`."""
    events = sub.add_parser(
        "events",
        help="events: the same story across sources (near-duplicates grouped by MinHash LSH), hot events",
        description="Documents that carry the same story (reposts, lightly edited copies, traditional or "
        "simplified) are one event; an event's heat is how many distinct sources carried it (docs/events.md).",
    )
    events_sub = events.add_subparsers(dest="events_command", metavar="ACTION")
    cluster = events_sub.add_parser(
        "cluster",
        help="write a JSON-lines file of documents with each one's event_id (offline, no Elasticsearch)",
        description="Reads Document dicts (documents.jsonl or classified.jsonl) and writes them, in their order, "
        "with event_id set: documents are taken by publish time and join the event of an earlier document "
        "whose title and lead are near-duplicates. Bad lines are kept in OUT.errors.jsonl.",
    )
    cluster.add_argument("--in", dest="in_path", required=True, help="input JSON-lines file")
    cluster.add_argument("--out", dest="out_path", required=True, help="output JSON-lines file (not the input)")
    cluster.set_defaults(func=_cluster)

    build = events_sub.add_parser(
        "build",
        help="group a file's documents (already indexed) into the events of Elasticsearch",
        description="What the pipeline's events step does: the documents of FILE (indexed already) join the "
        "events stored in Elasticsearch or start new ones; the events they touch are stored. Re-running "
        "changes nothing.",
    )
    build.add_argument("--in", dest="in_path", required=True, help="JSON-lines file of indexed documents")
    build.add_argument("--json", action="store_true", help="print the report as JSON")
    build.set_defaults(func=_build)

    hot = events_sub.add_parser(
        "hot",
        help="hot events of a day or week, ranked by heat (distinct sources), then growth in the last 24 h",
        description="Events with a document published in the day (default) or the 7 days ending AS_OF, from "
        "Elasticsearch, filtered by plan topic id and agency concerned.",
    )
    period = hot.add_mutually_exclusive_group()
    period.add_argument("--day", dest="period", action="store_const", const="day", help="the day AS_OF (default)")
    period.add_argument("--week", dest="period", action="store_const", const="week", help="the 7 days ending AS_OF")
    hot.add_argument("--as-of", default=None, metavar="YYYY-MM-DD", help="the day (default: today, Asia/Shanghai)")
    hot.add_argument("--topic", default=None, help="plan topic id, e.g. 3.1 (its sub-topics count too)")
    hot.add_argument("--agency", default=None, help="agency concerned (current name)")
    hot.add_argument("--size", type=count(1, 1000), default=20, help="events to list (default 20)")
    hot.add_argument("--json", action="store_true", help="print the result as JSON")
    hot.set_defaults(func=_hot, period="day")
    ev = events_sub.add_parser(
        "eval",
        help="same-story precision and recall on the labelled real news pairs, beside the title-exact baseline",
        description="Scores the events grouping on events/data/pairs.jsonl (real news items read and labelled by "
        "hand, both scripts, near-miss negatives): thresholds chosen on the dev pairs, reported on the held-out "
        "pairs, beside a title-only exact-match baseline in the same run (docs/events.md).",
    )
    ev.add_argument("--items", default=None, help="items JSON-lines file (default: the bundled set)")
    ev.add_argument("--pairs", default=None, help="pairs JSON-lines file (default: the bundled set)")
    ev.add_argument("--json", action="store_true", help="print the full result as JSON")
    ev.set_defaults(func=_eval)
    events.set_defaults(func=lambda args: (events.print_help(), 2)[1])


def _cluster(args: argparse.Namespace) -> int:
    from events.file import cluster_file

    in_path = input_file(args.in_path)
    out_path = output_file(args.out_path, in_path)
    report = cluster_file(in_path, out_path)
    print(f"{report.written} of {report.read} documents in {report.events} events ({report.multi} with more than "
          f"one document) → {args.out_path}", file=sys.stderr)
    if report.errors:
        print(f"{report.errors} bad lines kept in {report.errors_path}", file=sys.stderr)
    return 0 if not report.errors else 1


def _eval(args: argparse.Namespace) -> int:
    from events.evaluate import DATA, evaluate, format_table

    items = input_file(args.items) if args.items else DATA / "items.jsonl"
    pairs = input_file(args.pairs) if args.pairs else DATA / "pairs.jsonl"
    try:
        result = evaluate(items, pairs)
    except (OSError, ValueError, KeyError) as exc:
        print(f"zwgk events eval: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result, ensure_ascii=False, indent=1) if args.json else format_table(result))
    return 0


def _build(args: argparse.Namespace) -> int:
    from pipeline.events import build_events_in_order, documents_in_arrival_order
    from zwgk.es import get_client

    in_path = input_file(args.in_path)
    report = build_events_in_order(get_client(), documents_in_arrival_order([in_path]))
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=1))
    else:
        print(f"{report.documents} documents: {report.joined} joined an event, {report.new_events} new events, "
              f"{report.kept} kept theirs; {report.events_written} events written, {report.failed} failed")
    return 0 if not report.failed else 1


def _hot(args: argparse.Namespace) -> int:
    from elastic_transport import ConnectionError as ESConnectionError

    from measures.opinion import hot_events
    from zwgk.es import display_url, get_client
    from zwgk.weeks import parse_day, today

    try:
        day = parse_day(args.as_of) if args.as_of else today()
    except ValueError as exc:
        raise UsageError(f"--as-of: {exc}") from None
    try:
        result = hot_events(get_client(), day, args.period, topic=args.topic, agency=args.agency, size=args.size)
    except ESConnectionError:
        print(f"zwgk events hot: Elasticsearch at {display_url()} is not reachable", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=1))
        return 0
    print(f"hot events, {result['period']} ending {result['as_of']}: {result['total']} events")
    for rank, e in enumerate(result["events"], 1):
        print(f"{rank:>3}. {e.get('source_count', 0):>3} sources  +{e['growth_24h']:<3} 24h  {e.get('doc_count', 0):>4} docs"
              f"  {e.get('title', '')}  (first {e.get('first_source')} {(e.get('first_published_at') or '')[:16]})")
    return 0
