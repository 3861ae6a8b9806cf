"""`zwgk user add|remove|list|passwd|role|revoke|unlock`: the dashboard's accounts (dashboards.accounts).

Passwords are read from the terminal (asked twice) or, for scripts, one line from stdin with
--password-stdin; never from the command line, where `ps` and shell history would show them.
Every change is written to the audit log as `cli:<login name>`.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
import time

from zwgk.cliargs import UsageError

ROLES = ("viewer", "analyst", "admin")  # dashboards.accounts.ROLES, without importing argon2 for --help


DESCRIPTION = ("Accounts of the dashboard and its API, stored in Elasticsearch (ES_URL, ZWGK_INDEX_PREFIX). Roles: "
               "viewer (the pages), analyst (+ search, export, own watchlists), admin (+ accounts, audit log). "
               "Production (`ZWGK_ENV=production` or a non-loopback --host) refuses to start without an admin.")


def register(sub) -> None:
    """Add `zwgk user` to the command line."""
    user = sub.add_parser("user", help="dashboard accounts: add, remove, list, passwd, role, revoke, unlock",
                          description=DESCRIPTION)
    usub = user.add_subparsers(dest="user_command", metavar="COMMAND")
    add = usub.add_parser("add", help="add an account", description="Add an account; the password is asked for.")
    add.add_argument("name", help="user name (letters, digits, . _ @ -; at most 64)")
    add.add_argument("--role", choices=ROLES, required=True, help="viewer, analyst or admin")
    add.add_argument("--password-stdin", action="store_true", help="read the password as one line from stdin")
    add.set_defaults(func=_run(_change("user.add")))
    rm = usub.add_parser("remove", help="remove an account (its sessions end)")
    rm.add_argument("name")
    rm.set_defaults(func=_run(_change("user.remove")))
    ls = usub.add_parser("list", help="list accounts with role, last login and lockout")
    ls.add_argument("--json", action="store_true", help="print JSON")
    ls.set_defaults(func=_run(_list))
    pw = usub.add_parser("passwd", help="set a new password (the account's sessions end, a lockout is lifted)")
    pw.add_argument("name")
    pw.add_argument("--password-stdin", action="store_true", help="read the password as one line from stdin")
    pw.set_defaults(func=_run(_change("user.passwd")))
    role = usub.add_parser("role", help="change an account's role (its sessions end)")
    role.add_argument("name")
    role.add_argument("role", choices=ROLES)
    role.set_defaults(func=_run(_change("user.role")))
    rv = usub.add_parser("revoke", help="end every session of an account now")
    rv.add_argument("name")
    rv.set_defaults(func=_run(_change("user.revoke")))
    ul = usub.add_parser("unlock", help="lift a lockout after wrong passwords")
    ul.add_argument("name")
    ul.set_defaults(func=_run(_change("user.unlock")))
    user.set_defaults(func=lambda args: user.print_help() or 2)


def _run(command):
    """Elasticsearch trouble and refused changes: one line and exit 1."""

    def run(args: argparse.Namespace) -> int:
        from elastic_transport import TransportError
        from elasticsearch import ApiError

        from dashboards.accounts import AccountError

        try:
            return command(args)
        except AccountError as exc:
            print(f"zwgk user {args.user_command}: {exc}", file=sys.stderr)
            return 1
        except (TransportError, ApiError) as exc:
            print(f"zwgk user {args.user_command}: Elasticsearch unavailable or refused the request: {exc}",
                  file=sys.stderr)
            return 1

    return run


def _client():
    from dashboards.accounts import ensure_store
    from zwgk.es import get_client, quiet_transport

    quiet_transport()  # the transport's retry tracebacks would bury the one-line answer (-v shows them)
    client = get_client()
    ensure_store(client)
    return client


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _password(args: argparse.Namespace) -> str:
    from dashboards.accounts import check_password

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif sys.stdin.isatty():
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            raise UsageError("the two passwords differ")
    else:
        raise UsageError("no terminal to ask for the password: pass --password-stdin and pipe it in")
    return check_password(password)


# action → (change an account, what to print); args.password holds the password read for add and passwd
CHANGES = {
    "user.add": (lambda acc, client, args, now_ms: acc.add_user(client, args.name, args.role, args.password),
                 "added {name} ({role})"),
    "user.remove": (lambda acc, client, args, now_ms: acc.remove_user(client, args.name), "removed {name}"),
    "user.passwd": (lambda acc, client, args, now_ms: acc.set_password(client, args.name, args.password, now_ms),
                    "new password for {name}; its sessions ended"),
    "user.role": (lambda acc, client, args, now_ms: acc.set_role(client, args.name, args.role, now_ms),
                  "{name} is now {role}; its sessions ended"),
    "user.revoke": (lambda acc, client, args, now_ms: acc.revoke_sessions(client, args.name, now_ms),
                    "every session of {name} ended"),
    "user.unlock": (lambda acc, client, args, now_ms: acc.unlock(client, args.name), "{name} unlocked"),
}


def _change(action: str):
    """The command that applies CHANGES[action] to one account, audits it and says what it did."""

    def command(args: argparse.Namespace) -> int:
        from dashboards import accounts, audit

        if hasattr(args, "password_stdin"):  # asked before connecting, so a typo costs no round trip
            args.password = _password(args)
        client = _client()
        change, done = CHANGES[action]
        change(accounts, client, args, int(time.time() * 1000))
        audit.record(client, _actor(), action, target=args.name, address="cli")
        print(done.format(name=args.name, role=getattr(args, "role", "")))
        return 0

    return command


def _list(args) -> int:
    from dashboards.accounts import list_users

    users = [u.public() for u in list_users(_client())]
    if args.json:
        print(json.dumps(users, ensure_ascii=False, indent=2))
        return 0
    now_ms = time.time() * 1000
    for u in users:
        state = "locked" if u["locked_until_ms"] > now_ms else (f"{u['failed']} failed" if u["failed"] else "ok")
        print(f"{u['name']}\t{u['role']}\tlast login {u['last_login_at'] or 'never'}\t{state}")
    if not users:
        print("no accounts (zwgk user add NAME --role admin)", file=sys.stderr)
    return 0
