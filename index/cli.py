"""`zwgk es start|stop|status|url`, `zwgk index`, `zwgk search`."""

from __future__ import annotations

import json
import re
import sys

from zwgk.cliargs import input_file
from zwgk.es import display_url
from zwgk.jsonl import count_rows


def register(sub) -> None:
    """Add this stage's subcommands to `zwgk`."""
    es = sub.add_parser(
        "es",
        help="the Elasticsearch node(s): start, stop, status, url",
        description="Run the project's own Elasticsearch node, or a cluster of several with --nodes "
        "(fetched from Maven Central, data under ZWGK_HOME/es), or, with ES_URL set, check that cluster instead.",
    )
    es_sub = es.add_subparsers(dest="es_command", metavar="ACTION", required=True)
    start = es_sub.add_parser("start", help="start the node and wait until healthy (idempotent)")
    start.add_argument("--timeout", type=float, default=120, help="seconds to wait for health (default 120)")
    start.add_argument("--nodes", type=_node_count, default=1,
                       help="nodes of the local cluster (default 1): ports ZWGK_ES_PORT+0..N-1, transport +100")
    start.set_defaults(func=_es_start)
    es_sub.add_parser("stop", help="stop the project's node(s) (SIGTERM, wait)").set_defaults(func=_es_stop)
    es_sub.add_parser("status", help="health, version, nodes and document counts per alias").set_defaults(
        func=_es_status
    )
    es_sub.add_parser(
        "url", help="print the URL(s) to use without credentials, e.g. ES_URL=$(zwgk es url)"
    ).set_defaults(func=_es_url)

    idx = sub.add_parser(
        "index",
        help="load documents from JSON lines into Elasticsearch",
        description="Load the crawler's JSONL (one Document.to_dict() per line) into the documents index. "
        "Records that fail go to a dead-letter file (ZWGK_DEAD_LETTER_DIR) with their reason.",
    )
    idx.add_argument("--in", dest="infile", metavar="FILE.jsonl", help="documents to load")
    idx.add_argument("--snapshots", metavar="FILE.jsonl", help="column snapshots to load")
    idx.add_argument("--replay", metavar="DEADLETTER.jsonl", help="re-submit a dead-letter file")
    idx.set_defaults(func=_index)

    s = sub.add_parser(
        "search",
        help="keyword search with highlights",
        description='Search documents. Syntax: words (all must match), "phrases", OR, AND, NOT, -word, '
        "+word, parentheses; traditional and simplified characters find each other.",
    )
    s.add_argument(
        "query", nargs="?", default="", help='e.g. 政务公开 "权力清单" -广告, or (解读 OR 问答) 环保'
    )
    s.add_argument("--agency", action="append", help="agency (any name or alias); repeatable")
    s.add_argument("--site", action="append", help="site id; repeatable")
    s.add_argument("--topic", action="append", help="plan topic id, e.g. 1.2 (includes 1.2.x); repeatable")
    s.add_argument("--kind", action="append", help="document kind, e.g. policy, interpretation; repeatable")
    s.add_argument("--column-type", action="append", help="column type, e.g. 政策文件; repeatable")
    s.add_argument("--since", help="published on or after YYYY-MM-DD")
    s.add_argument("--until", help="published on or before YYYY-MM-DD")
    s.add_argument("--sort", choices=("relevance", "time"), default="relevance")
    s.add_argument("--size", type=int, default=10, help="hits per page (max 100)")
    s.add_argument("--page", type=int, default=1)
    s.add_argument("--json", action="store_true", help="print the result as JSON")
    s.set_defaults(func=_search)


def _node_count(value: str) -> int:
    import argparse

    if not value.isdigit() or not 1 <= int(value) <= 9:
        raise argparse.ArgumentTypeError(f"{value!r} is not a node count from 1 to 9")
    return int(value)


def _quiet_transport(args) -> None:
    """The client logs every request and a traceback per retry; keep that for -v."""
    from zwgk.es import quiet_transport

    quiet_transport(bool(getattr(args, "verbose", False)))


# --- es -----------------------------------------------------------------------------------------


def _es_start(args) -> int:
    from index import node

    _quiet_transport(args)
    try:
        print(node.start(timeout=args.timeout, nodes=args.nodes))
    except node.NodeError as exc:
        print(f"zwgk es start: {exc}", file=sys.stderr)
        return 1
    return 0


def _es_stop(args) -> int:
    from index import node

    _quiet_transport(args)
    try:
        print(node.stop())
    except node.NodeError as exc:
        print(f"zwgk es stop: {exc}", file=sys.stderr)
        return 1
    return 0


def _es_url(args) -> int:
    """ES_URL without its user:password (credentials stay in the environment), else the local node(s)."""
    from index import node
    from zwgk import settings
    from zwgk.es import display_url

    print(display_url(settings.es_url()) if settings.es_url() else node.local_urls())
    return 0


def _es_status(args) -> int:
    from index import node

    _quiet_transport(args)
    address = node.url()
    try:
        h = node.health(address)
    except node.NodeError as exc:
        print(f"zwgk es status: {exc}", file=sys.stderr)
        return 1
    if not h:
        print(f"Elasticsearch at {display_url(address)}: not answering", file=sys.stderr)
        return 1
    print(f"Elasticsearch {h.version} at {display_url(address)}: {h.status} (cluster {h.cluster_name}, "
          f"{h.nodes} node{'s' if h.nodes > 1 else ''})")
    warning = node.version_warning(h.version)
    if warning:
        print(f"WARNING: {warning}")
    for row in node.nodes_table(address):
        master = "master" if row.get("master") == "*" else ""
        print(f"  node {row.get('name', '?'):<16} {row.get('http_address') or '-':<22} roles {row.get('node.role', '?'):<12}"
              f" heap {row.get('heap.percent', '?'):>3}% {master}")
    _print_aliases(address)
    return 0


def _print_aliases(address: str) -> None:
    from index import schema
    from zwgk.es import get_client

    client = get_client(address)
    for kind in schema.KINDS:
        name = schema.alias(kind)
        if client.indices.exists_alias(name=name):
            count = client.count(index=name)["count"]
            print(f"  {name:<32} → {schema.current_index(client, kind):<36} {count:>10} docs")
        else:
            print(f"  {name:<32}   (not created yet)")


# --- index --------------------------------------------------------------------------------------


def _index(args) -> int:
    from elastic_transport import TransportError
    from elasticsearch import AuthenticationException, AuthorizationException

    from index import schema, store
    from zwgk.es import get_client

    _quiet_transport(args)
    if not (args.infile or args.snapshots or args.replay):
        print(
            "zwgk index: give --in FILE.jsonl, --snapshots FILE.jsonl or --replay DEADLETTER.jsonl",
            file=sys.stderr,
        )
        return 2
    # each file is checked (and made absolute) before anything reaches Elasticsearch
    infile, snapshots, replay = (input_file(p) if p else None for p in (args.infile, args.snapshots, args.replay))
    client = get_client()
    try:
        schema.ensure_indices(client)
        failed = 0
        for path, kind in ((infile, store.DOCUMENTS), (snapshots, store.SNAPSHOTS)):
            if not path:
                continue
            letters = store.DeadLetters(kind.name)
            records = store.load_jsonl(path, letters)
            report = store.index_records(
                client, kind, records, dead_letters=letters, refresh=True, progress=True, total=count_rows(path)
            )
            letters.close()
            print(f"{kind.name}: {report.summary()}")
            for reason in report.reasons[:3]:
                print(f"  e.g. {reason[:300]}", file=sys.stderr)
            failed += report.failed
        if replay:
            report = store.replay_dead_letters(client, replay, refresh=True)
            print(f"replay: {report.summary()}")
            failed += report.failed
    except (store.DeadLetterError, store.StoreUnavailable, FileNotFoundError) as exc:
        print(f"zwgk index: {exc}", file=sys.stderr)
        return 1
    except (TransportError, AuthenticationException, AuthorizationException) as exc:  # refused before the first bulk
        print(f"zwgk index: {_unreachable(client, exc)}", file=sys.stderr)
        return 1
    return 1 if failed else 0


def _unreachable(client, exc) -> str:
    """One line: credentials or certificate refused (what to set), else not reachable."""
    from index import node

    refused = node.refusal(node.url(), exc)
    if refused:
        return str(refused)
    return (
        f"Elasticsearch at {display_url(node.url())} is not reachable ({exc.__class__.__name__}); "
        "start it with `zwgk es start` or set ES_URL"
    )


# --- search -------------------------------------------------------------------------------------


def _terminal(html_text: str) -> str:
    """Highlight HTML → terminal text: <mark> in bold (or [brackets] when not a TTY), entities decoded."""
    import html

    bold = sys.stdout.isatty()
    text = html_text.replace("<mark>", "\033[1m" if bold else "[").replace(
        "</mark>", "\033[0m" if bold else "]"
    )
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def _search(args) -> int:
    from index.search import QueryError, SearchRequest, search
    from zwgk.es import get_client

    _quiet_transport(args)
    req = SearchRequest(
        query=args.query,
        agency=args.agency,
        site_id=args.site,
        column_type=args.column_type,
        topic=args.topic,
        kind=args.kind,
        since=args.since,
        until=args.until,
        sort=args.sort,
        page=args.page,
        size=args.size,
    )
    from elastic_transport import TransportError
    from elasticsearch import AuthenticationException, AuthorizationException

    client = get_client()
    try:
        result = search(client, req)
    except QueryError as exc:
        print(f"zwgk search: {exc}", file=sys.stderr)
        return 2
    except (TransportError, AuthenticationException, AuthorizationException) as exc:
        print(f"zwgk search: {_unreachable(client, exc)}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        return 0
    print(f"{result.total} documents ({result.took_ms} ms)")
    for n, hit in enumerate(result.hits, start=(result.page - 1) * result.size + 1):
        date = (hit["published_at"] or "")[:10] or "----------"
        print(f"\n{n:>3}. {_terminal(hit['highlights']['title'])}")
        print(
            f"     {date}  {hit['agency'] or hit['site_id'] or ''}  {hit['column_type'] or ''}  {hit['kind'] or ''}"
        )
        if hit["highlights"]["body"]:
            print(f"     {_terminal(hit['highlights']['body'])}")
        print(f"     {hit['url']}")
    return 0
