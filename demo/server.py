"""Serve the demo agency web on 127.0.0.1: `serve_demo()` for tests and the demo,
`python -m demo.server --port 8765 [--today 2026-11-25]` (or `zwgk demo-web`) by hand.

Besides the sites it serves trap endpoints that a robust crawler must survive:
/trap/hang (answers only after `hang_seconds`), /trap/garbage (binary bytes labelled text/html),
/trap/loop (redirects to itself forever), /trap/huge (a response larger than any sane max size).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from demo.render import Resource, load_site_data, render_routes
from demo.synthetic import synthetic_site
from zwgk import weeks

log = logging.getLogger(__name__)
HUGE_BYTES = 24 * 1024 * 1024
GARBAGE = random.Random(7).randbytes(64 * 1024)
# a dynamic route: (method, query, form) → response; for endpoints whose answer depends on what is asked
Handler = Callable[[str, dict[str, str], dict[str, str]], Resource]


def demo_today(today: date | str | None = None) -> date:
    """The demo's "today": the argument, else ZWGK_DEMO_TODAY, else today in Asia/Shanghai."""
    if isinstance(today, date):
        return today
    value = today or os.environ.get("ZWGK_DEMO_TODAY")
    if value:
        return date.fromisoformat(value)
    return weeks.today()


class DemoWeb(str):
    """The base URL (a str), carrying the server's request log and the date it renders for."""

    today: date
    requests: list[tuple[str, str, int]]  # (method, path, status) in arrival order
    routes: dict[str, Resource]

    def paths(self, status: int | None = None) -> list[str]:
        return [p for _, p, s in list(self.requests) if status is None or s == status]

    def count(self, path: str) -> int:
        return sum(1 for _, p, _ in list(self.requests) if p == path)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    routes: dict[str, Resource]
    handlers: dict[str, Handler]
    hang_seconds: float
    log: list[tuple[str, str, int]]


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    server_version = "TRS-WCM/7.0"  # what gov sites announce; harmless here

    def log_message(self, fmt, *args):  # quiet: the request log is kept in memory instead
        log.debug(fmt, *args)

    def do_HEAD(self):
        self.do_GET(head=True)

    def do_GET(self, head: bool = False):
        path = urlsplit(self.path).path
        status = self._serve(path, head)
        self.server.log.append((self.command, path, status))

    def do_POST(self):
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        form = dict(parse_qsl(self.rfile.read(length).decode("utf-8", "replace"), keep_blank_values=True))
        handler = self.server.handlers.get(parts.path)
        if handler is None:
            status = self._send(405, b"method not allowed", "text/plain")
        else:
            res = handler("POST", dict(parse_qsl(parts.query)), form)
            status = self._send(res.status, res.body, res.content_type)
        self.server.log.append((self.command, parts.path, status))

    def _serve(self, path: str, head: bool) -> int:
        if path.startswith("/trap/"):
            return self._trap(path)
        if handler := self.server.handlers.get(path):
            res = handler(self.command, dict(parse_qsl(urlsplit(self.path).query)), {})
            return self._send(res.status, res.body, res.content_type, head=head)
        res = self.server.routes.get(path)
        if res is None:
            return self._send(404, b"<html><body><h1>404 Not Found</h1><p>\xe9\xa1\xb5\xe9\x9d\xa2\xe4\xb8\x8d\xe5\xad\x98\xe5\x9c\xa8</p></body></html>",
                              "text/html; charset=utf-8", head=head)
        headers = {}
        if res.etag:
            headers["ETag"] = res.etag
        if res.last_modified:
            headers["Last-Modified"] = format_datetime(res.last_modified.astimezone(UTC), usegmt=True)
        if res.status == 200 and self._not_modified(res):
            self.send_response(304)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return 304
        return self._send(res.status, res.body, res.content_type, headers, head)

    def _not_modified(self, res: Resource) -> bool:
        inm = self.headers.get("If-None-Match")
        if inm and res.etag:
            return res.etag in [t.strip() for t in inm.split(",")]
        ims = self.headers.get("If-Modified-Since")
        if ims and res.last_modified:
            with contextlib.suppress(TypeError, ValueError):
                return res.last_modified.replace(microsecond=0) <= parsedate_to_datetime(ims)
        return False

    def _send(self, status: int, body: bytes, ctype: str, headers: dict | None = None, head: bool = False) -> int:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if not head:
            self.wfile.write(body)
        return status

    def _trap(self, path: str) -> int:
        name = path.rstrip("/").rsplit("/", 1)[-1]
        if name == "hang":
            time.sleep(self.server.hang_seconds)
            with contextlib.suppress(OSError):
                return self._send(200, b"<html><body>too late</body></html>", "text/html")
            return 200
        if name == "garbage":
            return self._send(200, GARBAGE, "text/html")
        if name == "loop":
            self.send_response(302)
            self.send_header("Location", "/trap/loop")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return 302
        if name == "huge":
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(HUGE_BYTES))
            self.end_headers()
            chunk = b"<p>" + "大".encode() * 340 + b"</p>\n"
            sent = 0
            with contextlib.suppress(OSError):  # the client hangs up once it sees the size
                while sent < HUGE_BYTES:
                    piece = chunk[: HUGE_BYTES - sent]
                    self.wfile.write(piece)
                    sent += len(piece)
            return 200
        return self._send(404, b"no such trap", "text/plain")


@contextlib.contextmanager
def serve_demo(
    port: int = 0, today: date | str | None = None, *, hang_seconds: float = 30.0, synthetic_articles: int = 0
) -> Iterator[DemoWeb]:
    """Serve the demo web on 127.0.0.1:port (0: a free port) in a background thread; yield its base URL."""
    day = demo_today(today)
    data = load_site_data()
    if synthetic_articles:
        data.append(synthetic_site(synthetic_articles))
    with serve_routes(lambda base: render_routes(day, base, data), port, hang_seconds=hang_seconds) as web:
        web.today = day
        yield web


@contextlib.contextmanager
def serve_routes(
    make_routes: Callable[[str], dict[str, Resource]], port: int = 0, *, handlers: dict[str, Handler] | None = None,
    hang_seconds: float = 30.0,
) -> Iterator[DemoWeb]:
    """Serve any table of routes (built from the base URL once the port is known) plus dynamic handlers
    on 127.0.0.1:port; yield the base URL with the request log."""
    server = _Server(("127.0.0.1", port), _Handler)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    server.routes = make_routes(base)
    server.handlers = handlers or {}
    server.hang_seconds = hang_seconds
    server.log = []
    web = DemoWeb(base)
    web.requests, web.routes = server.log, server.routes
    thread = threading.Thread(target=server.serve_forever, name="demo-web", daemon=True)
    thread.start()
    try:
        yield web
    finally:
        server.shutdown()
        server.server_close()


def register_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (default 8765; 0 = any free port)")
    parser.add_argument("--today", help="render dates relative to this day (YYYY-MM-DD; default: today in Beijing)")
    parser.add_argument("--synthetic", type=int, default=0, metavar="N", help="add a synthetic site with N articles")


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted."""
    with serve_demo(args.port, args.today, synthetic_articles=args.synthetic) as base:
        print(f"demo agency web at {base}/ (today = {base.today}); Ctrl-C stops", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demo.server", description="Serve the bundled demo agency web.")
    register_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
