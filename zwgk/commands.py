"""Core subcommands: `zwgk topics` (the plan's topic tree), `zwgk plan check` (what a plan file parses to)
and `zwgk deadline` (working-day due dates)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, datetime

from zwgk.cliargs import UsageError, amount, count

# a deadline runs days to months after its start; ten years bounds a typo without overflowing a date
MAX_DAYS = 3660
PLANS_HELP = "the plans in force ($ZWGK_PLAN: a file, several separated by the path separator, or a folder)"
PLANS_DESCRIPTION = ("every stage reads them; each has the key its topic ids carry when several are in force "
                     "(bj2016:3.1) and that --plan / ?plan= take, and binds a city, a district or another place")


def register(sub) -> None:
    """Add the core subcommands to `zwgk`."""
    topics = sub.add_parser(
        "topics",
        help="print the work plan's topic tree with agencies and obligations",
        description="Parse the disclosure work plan (default: the packaged Beijing 2016 plan, or $ZWGK_PLAN) "
        "and print its topics with lead/responsible agencies and every deadline and cadence.",
    )
    topics.add_argument("--plan", metavar="FILE", help="plan text file (traditional or simplified script)")
    topics.add_argument("--json", action="store_true", help="print the whole plan as JSON")
    topics.add_argument("--text", action="store_true", help="also print each leaf topic's full text")
    topics.set_defaults(func=cmd_topics)

    plan = sub.add_parser(
        "plan",
        help="work plan files: check what a plan parses to",
        description="Commands on work plan files (any year, city or district; traditional or simplified).",
    )
    plan_sub = plan.add_subparsers(dest="plan_command", metavar="COMMAND")
    check = plan_sub.add_parser(
        "check",
        help="what a plan file parses to: topics, clauses, duties, due dates, unknown agencies, skipped lines",
        description="Parse FILE as a work plan and report topics per level, agency clauses read against the "
        "bracketed text that reads like a clause, obligations by duty, due dates, agencies the registry does not "
        "know and every line skipped with its reason. Exit 1 when FILE is not a plan (no topic found, HTML, PDF, "
        "empty, wrong encoding), with a one-line reason.",
    )
    check.add_argument("file", metavar="FILE", help="plan text file (UTF-8, GB18030 or Big5)")
    check.add_argument("--json", action="store_true", help="print the report as JSON")
    check.set_defaults(func=cmd_plan_check)
    listing = plan_sub.add_parser("list", help=PLANS_HELP, description=PLANS_HELP + ": " + PLANS_DESCRIPTION)
    listing.add_argument("--json", action="store_true", help="print the list as JSON")
    listing.set_defaults(func=cmd_plan_list)
    plan.set_defaults(func=lambda args: plan.print_help() or 2)

    deadline = sub.add_parser(
        "deadline",
        help="due date of a deadline in Chinese working days (or hours)",
        description="Add Chinese working days (State Council holidays and make-up workdays via chinesecalendar; "
        "years it lacks fall back to weekends plus the holiday file, which is then noted) or clock hours to DATE.",
    )
    deadline.add_argument(
        "date", metavar="DATE", help="start date YYYY-MM-DD (or YYYY-MM-DDTHH:MM with --hours)"
    )
    unit = deadline.add_mutually_exclusive_group(required=True)
    unit.add_argument("--workdays", type=count(0, MAX_DAYS), metavar="N", help="N working days after DATE (e.g. 3)")
    unit.add_argument("--hours", type=amount(0, MAX_DAYS * 24), metavar="N", help="N clock hours after DATE (e.g. 24)")
    unit.add_argument("--days", type=count(0, MAX_DAYS), metavar="N", help="N calendar days after DATE")
    deadline.add_argument("--json", action="store_true", help="print the result as JSON")
    deadline.set_defaults(func=cmd_deadline)


def _names(names: list[str]) -> str:
    return "、".join(names) if names else "—"


def _obligation_line(o) -> str:
    if o.kind == "deadline":
        when = f"{o.amount} {o.unit}" + (f" after {o.trigger}" if o.trigger else "")
    elif o.kind == "cadence":
        when = f"every {o.period}" + (f", at least {o.min_count}×" if o.min_count and o.min_count > 1 else "")
    elif o.kind == "due":
        when = " and ".join(filter(None, (f"by {o.due_on.isoformat()}" if o.due_on else None,
                                          "ongoing" if o.ongoing else None))) or "by a time not read as a date"
    else:
        when = "regularly (定期)"
    return f"[{o.duty}] {when}: {o.phrase} → {_names(o.agencies)}"


def cmd_topics(args: argparse.Namespace) -> int:
    from zwgk.plan import PlanError, load_plan
    from zwgk.plans import load_plans

    try:
        plan = load_plan(args.plan) if args.plan else load_plans().view()  # several in force: side by side
    except (OSError, PlanError) as exc:
        print(f"zwgk topics: cannot read the plan: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(plan.to_dict(), ensure_ascii=False, indent=2))
        return 0
    issued = plan.issued_on.isoformat() if plan.issued_on else "?"
    print(f"{plan.title}  ({plan.doc_number or 'no 文号'}, {issued}, year {plan.year})")
    for topic in plan.walk():
        indent = "  " * (topic.level - 1)
        print(f"{indent}{topic.id} {topic.title}")
        if topic.is_leaf:
            print(f"{indent}   牵头 lead: {_names(topic.lead_agencies)}")
            print(f"{indent}   负责 responsible: {_names(topic.responsible_agencies)}")
            if args.text:
                print(f"{indent}   {topic.text}")
        for o in topic.obligations:
            print(f"{indent}   • {_obligation_line(o)}")
    if plan.general is not None:
        print(f"{plan.general.id} (general requirements) {plan.general.title}")
        for o in plan.general.obligations:
            print(f"   • {_obligation_line(o)}")
    pairs = plan.obligations()
    print(f"\n{sum(1 for _ in plan.walk())} topics, {len(plan.leaves())} leaves, {len(pairs)} obligations")
    if plan.unresolved_agencies:
        print(f"agencies not in the registry: {_names(plan.unresolved_agencies)}", file=sys.stderr)
    return 0


def cmd_plan_list(args: argparse.Namespace) -> int:
    from zwgk.plan_model import PlanError
    from zwgk.plans import load_plans

    try:
        plans = load_plans()
    except (OSError, PlanError) as exc:
        print(f"zwgk plan list: cannot read the plans in force: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({"namespaced": plans.namespaced, "plans": [e.to_dict() for e in plans.entries]},
                         ensure_ascii=False, indent=2))
        return 0
    for e in plans.entries:
        where = e.scope + (f" {e.district}" if e.district else "") + (", 各区政府 too" if e.names_districts else "")
        print(f"{e.key}\t{e.plan.name}\t{where}\t{e.path}")
    if not plans.namespaced:
        print("one plan in force: topic ids are bare (3.1)", file=sys.stderr)
    return 0


def cmd_plan_check(args: argparse.Namespace) -> int:
    from pathlib import Path

    from zwgk.plan_check import check_plan, render
    from zwgk.plan_model import PlanError

    try:
        report = check_plan(args.file)
    except PlanError as exc:  # the message names the file when it is about the file's bytes
        where = "" if Path(args.file).name in str(exc) else f"{args.file}: "
        print(f"zwgk plan check: {where}{exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"zwgk plan check: cannot read {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # a plan the parser trips on: one line, the traceback only with -v
        if getattr(args, "verbose", False):
            raise
        print(f"zwgk plan check: {args.file}: the parser failed ({type(exc).__name__}: {exc}); -v shows where",
              file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(render(report))
    return 0


def _deadline_start(text: str) -> date | datetime:
    """DATE or DATE THH:MM of `zwgk deadline`, on a day within zwgk.weeks' range."""
    from zwgk.weeks import check_day

    try:
        start = datetime.fromisoformat(text) if "T" in text or " " in text else date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"not a date: {text!r} (use YYYY-MM-DD)") from None
    try:
        check_day(start.date() if isinstance(start, datetime) else start)
    except ValueError as exc:
        raise UsageError(f"start date {exc}") from None
    return start


def cmd_deadline(args: argparse.Namespace) -> int:
    from zwgk import workdays

    start = _deadline_start(args.date)
    try:
        if args.workdays is not None:
            result = workdays.add_workdays(start, args.workdays)
            what = f"{args.workdays} working days"
        elif args.hours is not None:
            result = workdays.due(start, args.hours, "hours")
            what = f"{args.hours:g} hours"
        else:
            result = workdays.due(start, args.days, "days")
            what = f"{args.days} calendar days"
    except workdays.HolidayFileError as exc:
        print(f"zwgk deadline: {exc}", file=sys.stderr)
        return 1
    day = result.date() if isinstance(result, datetime) else result
    start_day = start.date() if isinstance(start, datetime) else start
    note = workdays.calendar_note(range(start_day.year, day.year + 1))
    kind = "working day" if workdays.is_workday(day) else "day off"
    festival = workdays.holiday_name(day)
    if festival and workdays.is_workday(day) and day.weekday() >= 5:
        kind = f"make-up working day ({festival})"
    elif festival and not workdays.is_workday(day):
        kind = f"holiday ({festival})"
    if args.json:
        print(
            json.dumps(
                {
                    "start": args.date,
                    "due": result.isoformat(),
                    "weekday": day.strftime("%a"),
                    "day": kind,
                    "calendar_note": note,
                },
                ensure_ascii=False,
            )
        )
    else:
        print(f"{args.date} + {what} → due {result.isoformat()} ({day.strftime('%a')}, {kind})")
        if note:
            print(f"note: {note}")
    return 0
