"""`zwgk report freshness|timeliness|weekly`: the measures as tables, JSON, CSV, Excel and HTML."""

from __future__ import annotations

import sys

from zwgk.cliargs import day, output_dir, output_file, plan_key


def register(sub) -> None:
    """Add `report` to `zwgk`."""
    report = sub.add_parser("report", help="freshness and timeliness reports (tables, JSON, CSV, Excel, weekly HTML)",
                            description="Measures computed from Elasticsearch. Weeks are ISO weeks in Asia/Shanghai; "
                                        "a report evaluates the last complete week on or before --as-of.")
    rsub = report.add_subparsers(dest="report", metavar="REPORT", required=True)
    for name, text in (("freshness", "website update frequency per site and column, with each inspection rule"),
                       ("timeliness", "the plan's response duties per agency (working days, hours, periods)")):
        p = rsub.add_parser(name, help=text, description=text)
        p.add_argument("--as-of", type=day, default=None, help="report date YYYY-MM-DD (default: today, Beijing)")
        p.add_argument("--format", choices=("table", "json", "csv", "xlsx"), default="table",
                       help="table (default), json (every site/agency with rule status and evidence URLs), csv, xlsx")
        p.add_argument("--out", help="write to this file instead of stdout (required for xlsx)")
        if name == "timeliness":
            p.add_argument("--plan", type=plan_key, default=None, metavar="KEY",
                           help="one plan's duties only (keys: `zwgk plan list`; default every plan in force)")
        p.set_defaults(func=_run_one, kind=name)
    weekly = rsub.add_parser("weekly", help="the weekly report: HTML, Excel and the 通报 (.docx)",
                             description="Write weekly-<week>.html, weekly-<week>.xlsx and tongbao-<week>.docx "
                                         "into --out.")
    weekly.add_argument("--as-of", type=day, default=None, help="report date YYYY-MM-DD (default: today)")
    weekly.add_argument("--out", required=True, help="output directory")
    weekly.add_argument("--plan", type=plan_key, default=None, metavar="KEY", help="one plan's duties only")
    weekly.set_defaults(func=_run_weekly)


def _client():
    from zwgk.es import get_client, quiet_transport

    quiet_transport()
    return get_client()


def _build(kind: str, client, as_of, plan: str | None = None):
    """The stored report the alert and the dashboard show; computed when none is stored for as_of (timeliness:
    only plan `plan`'s duties when given)."""
    from measures import stored
    from zwgk.weeks import today

    report = stored.read(client, kind, as_of or today())
    return report.for_plan(plan) if kind == "timeliness" else report


def _run_one(args) -> int:
    from elastic_transport import TransportError

    from measures.export import render

    if args.format == "xlsx" and not args.out:
        print("error: --format xlsx needs --out FILE", file=sys.stderr)
        return 2
    out = output_file(args.out) if args.out else None  # before the measures run, not after
    try:
        report = _build(args.kind, _client(), args.as_of, getattr(args, "plan", None))
    except TransportError as exc:
        print(f"error: Elasticsearch unavailable: {exc}", file=sys.stderr)
        return 1
    text = render(report, args.format, out)
    if text is not None:
        print(text)
    else:
        print(f"wrote {args.out}", file=sys.stderr)
    return 0


def _run_weekly(args) -> int:
    from elastic_transport import TransportError

    from measures.digest import previous_week
    from measures.export import write_weekly
    from zwgk.weeks import today

    out = output_dir(args.out)
    try:
        client = _client()
        print("freshness …", file=sys.stderr)
        fresh = _build("freshness", client, args.as_of)
        print("timeliness …", file=sys.stderr)
        timely = _build("timeliness", client, args.as_of, args.plan)
        print("last week …", file=sys.stderr)  # for the agencies that improved
        as_of = args.as_of or today()
        previous = (_build("freshness", client, previous_week(as_of)), _build("timeliness", client, previous_week(as_of), args.plan))
    except TransportError as exc:
        print(f"error: Elasticsearch unavailable: {exc}", file=sys.stderr)
        return 1
    for kind, path in write_weekly(fresh, timely, out, previous).items():
        print(f"{kind}: {path}")
    return 0
