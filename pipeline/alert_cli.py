"""`zwgk alert weekly` and `zwgk watchlist add|list|remove|run`: the alert stage over the measures' reports
and the index's search, composed."""

from __future__ import annotations

import json
import sys

from zwgk.cliargs import day, plan_key

NO_CHANNEL = "no channel configured (set ZWGK_SMTP_* / ZWGK_WEBHOOK_URLS / ZWGK_DINGTALK_WEBHOOK / ZWGK_WECOM_WEBHOOK)"


def _es_errors(func):
    """Elasticsearch down or refusing: one clear line and exit status 1, not a traceback."""
    import functools

    @functools.wraps(func)
    def run(args) -> int:
        from elastic_transport import TransportError
        from elasticsearch import ApiError

        try:
            return func(args)
        except (TransportError, ApiError) as exc:
            print(f"error: Elasticsearch unavailable or refused the request: {exc}", file=sys.stderr)
            return 1

    return run


def register(sub) -> None:
    """Add `alert` and `watchlist` to `zwgk`."""
    alert = sub.add_parser("alert", help="send alerts (email, webhooks, DingTalk, WeCom; settings from ZWGK_* env)",
                           description="Channels are configured by environment variables: ZWGK_SMTP_HOST/PORT/USER/"
                                       "PASSWORD/FROM/TO (+ZWGK_SMTP_STARTTLS=1), ZWGK_WEBHOOK_URLS, "
                                       "ZWGK_DINGTALK_WEBHOOK (+ZWGK_DINGTALK_SECRET), ZWGK_WECOM_WEBHOOK.")
    asub = alert.add_subparsers(dest="alert", metavar="ALERT", required=True)
    weekly = asub.add_parser("weekly", help="the weekly freshness alert (idempotent per week and channel)",
                             description="Build the alert for the last complete week before --as-of, record it in "
                                         "Elasticsearch and send it once per channel; failed sends are retried now "
                                         "and on later runs.")
    weekly.add_argument("--as-of", type=day, default=None, help="run date YYYY-MM-DD (default: today, Beijing)")
    weekly.add_argument("--dry-run", action="store_true", help="print the alert; send and record nothing")
    weekly.add_argument("--plan", type=plan_key, default=None, metavar="KEY",
                        help="one plan's duties only, as its own alert (keys: `zwgk plan list`; default every plan's)")
    weekly.set_defaults(func=_es_errors(_weekly))
    spikes = asub.add_parser("spikes", help="negative-news spikes per agency (idempotent per agency, day and channel)",
                             description="Count each agency's negative news on --day against its own previous 28 days "
                                         "(robust z-score: median and MAD; a spike needs at least 3 items and z ≥ 3.5, "
                                         "docs/measures.md) and alert each spike once per channel, with the day's "
                                         "negative news and their events as evidence.")
    spikes.add_argument("--day", type=day, default=None,
                        help="the day to check, YYYY-MM-DD (default: yesterday, Beijing)")
    spikes.add_argument("--dry-run", action="store_true", help="print the spikes; send and record nothing")
    spikes.set_defaults(func=_es_errors(_spikes))

    wl = sub.add_parser("watchlist", help="saved keyword queries that alert on new matching documents",
                        description="Query syntax is `zwgk search`'s: words, \"phrases\", OR, NOT, parentheses.")
    wsub = wl.add_subparsers(dest="watchlist", metavar="ACTION", required=True)
    add = wsub.add_parser("add", help="save a watchlist (replaces one with the same name)")
    add.add_argument("name")
    add.add_argument("query")
    for f in ("agency", "site-id", "column-type", "topic", "kind"):
        add.add_argument(f"--{f}", action="append", help=f"filter on {f} (repeatable)")
    add.add_argument("--owner", default="", help="the dashboard account it belongs to (default: none; "
                                                 "only admins see it in the dashboard)")
    add.set_defaults(func=_es_errors(_wl_add))
    wsub.add_parser("list", help="list watchlists").set_defaults(func=_es_errors(_wl_list))
    rm = wsub.add_parser("remove", help="delete a watchlist")
    rm.add_argument("name")
    rm.add_argument("--owner", default=None, help="the account it belongs to, when several have one of that name")
    rm.set_defaults(func=_es_errors(_wl_remove))
    run = wsub.add_parser("run", help="check every watchlist now and alert new matches")
    run.add_argument("--dry-run", action="store_true", help="show matches; send nothing, move no checkpoints")
    run.set_defaults(func=_es_errors(_wl_run))


def _quiet_transport() -> None:
    """Per-request lines and retry tracebacks drown the output; the command prints one error line. -v shows all."""
    import logging

    if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
        logging.getLogger("elastic_transport").setLevel(logging.ERROR)


def _client():
    _quiet_transport()
    from index.schema import ensure_indices
    from zwgk.es import get_client

    client = get_client()
    ensure_indices(client, ("alerts", "watchlists"))
    return client


def _weekly(args) -> int:
    from pipeline.alerting import run_weekly_alert

    out = run_weekly_alert(_client(), args.as_of, dry_run=args.dry_run, plan=args.plan)
    if args.dry_run:
        print(out.message.text)
    if not out.deliveries and not args.dry_run:
        print(NO_CHANNEL, file=sys.stderr)
    for d in out.retried + out.deliveries:
        print(f"{d.key}\t{d.channel}\t{d.status}" + (f"\t{d.error}" if d.error else ""))
    return 1 if out.failed else 0


def _spikes(args) -> int:
    from index.schema import ensure_indices
    from pipeline.spike_alerts import run_spike_alerts

    client = _client()
    ensure_indices(client, ("documents",))  # a store with no documents yet has no spike, not an error
    runs = run_spike_alerts(client, args.day, dry_run=args.dry_run)
    if not runs:
        print("no spike", file=sys.stderr)
    elif not args.dry_run and not any(run.deliveries for run in runs):
        print(NO_CHANNEL, file=sys.stderr)
    for run in runs:
        s = run.spike
        print(f"{s.day}\t{s.agency}\t{s.count} negative (median {s.median:g}, z {s.z:g})\t"
              + (", ".join(s.event_ids) or "-"))
        for d in run.deliveries:
            print(f"  {d.channel}\t{d.status}" + (f"\t{d.error}" if d.error else ""))
    return 1 if any(d.status == "failed" for run in runs for d in run.deliveries) else 0


def _wl_add(args) -> int:
    from pipeline.watchlists import WatchlistError, add_watchlist

    filters = {"agency": args.agency, "site_id": args.site_id, "column_type": args.column_type, "topic": args.topic,
               "kind": args.kind}
    try:
        rec = add_watchlist(_client(), args.name, args.query, filters, owner=args.owner)
    except WatchlistError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"saved watchlist {rec['name']!r}")
    return 0


def _wl_list(args) -> int:
    from pipeline.watchlists import list_watchlists

    for w in list_watchlists(_client()):
        print(f"{w['name']}\t{w['query']}\t{json.dumps(w.get('filters') or {}, ensure_ascii=False)}\t"
              f"{w.get('owner', '')}\tlast checked {w.get('last_checked_at')}")
    return 0


def _wl_remove(args) -> int:
    from pipeline.watchlists import WatchlistError, remove_watchlist

    try:
        removed = remove_watchlist(_client(), args.name, args.owner)
    except WatchlistError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if removed:
        print(f"removed {args.name!r}")
        return 0
    print(f"no watchlist named {args.name!r}", file=sys.stderr)
    return 1


def _wl_run(args) -> int:
    from pipeline.watchlists import run_watchlists

    failed = 0
    for run in run_watchlists(_client(), dry_run=args.dry_run):
        status = run.error or ", ".join(f"{d.channel}={d.status}" for d in run.deliveries) or "-"
        print(f"{run.name}\t{len(run.new)} new\t{status}")
        for d in run.new if args.dry_run else []:
            print(f"  {d.get('published_at') or ''}\t{d['url']}\t{d.get('title') or ''}")
        failed += bool(run.error) + sum(d.status == "failed" for d in run.deliveries)
    return 1 if failed else 0
