"""The revalidation pass (crawlers/revalidate.py) against a raw HTTP/1.1 server on 127.0.0.1 that answers as
real servers do (chunked robots.txt, keep-alive 304s, a 200 with a body, a dropped connection): it settles
only columns whose every list page answered 304 and leaves everything else to the Scrapy crawl."""

from __future__ import annotations

import socket
import threading

import pytest

from crawlers.revalidate import revalidate
from crawlers.run import crawl_settings
from crawlers.sites import Column, Site
from crawlers.state import CrawlState
from zwgk.document import ListItem

ROBOTS = b"User-agent: *\nDisallow: /private/\n"


class RawServer(threading.Thread):
    """Answers GETs by path from `routes` (path → "304", "200", "drop"); logs (connection no., path, headers)."""

    def __init__(self, routes: dict[str, str]):
        super().__init__(daemon=True)
        self.routes, self.log, self.connections = routes, [], 0
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]

    def run(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self.serve, args=(conn, self.connections), daemon=True).start()

    def serve(self, conn: socket.socket, number: int) -> None:
        buffer = b""
        with conn:
            while True:
                while b"\r\n\r\n" not in buffer:
                    chunk = conn.recv(4096)
                    if not chunk:
                        return
                    buffer += chunk
                head, buffer = buffer.split(b"\r\n\r\n", 1)
                line, *fields = head.decode("latin-1").split("\r\n")
                path = line.split(" ")[1]
                headers = {k.lower(): v.strip() for k, _, v in (f.partition(":") for f in fields)}
                self.log.append((number, path, headers))
                if path == "/robots.txt":
                    chunks = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (ROBOTS[:10], ROBOTS[10:]))
                    conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks + b"0\r\n\r\n")
                elif self.routes.get(path) == "304":
                    conn.sendall(b'HTTP/1.1 304 Not Modified\r\nETag: "v1"\r\n\r\n')
                elif self.routes.get(path) == "drop":
                    return
                elif self.routes.get(path) == "304, then close":  # as a server whose keep-alive timed out
                    conn.sendall(b'HTTP/1.1 304 Not Modified\r\nETag: "v1"\r\n\r\n')
                    return
                else:
                    body = "<html><body>新的列表</body></html>".encode()
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def web(request):
    server = RawServer(request.param)
    server.start()
    yield server
    server.close()


def _site(base: str, state: CrawlState, pages: dict[str, list[str]], unseen: tuple[str, ...] = ()) -> Site:
    """A site with one column per list page; every list page stored with a validator, its articles seen."""
    columns = []
    for name, (path, *more) in pages.items():
        items = [ListItem(title=f"{name}{k}", url=f"{base}/{name}/t{k}.html", list_date=f"2026-11-{10 + k}")
                 for k in range(3)]
        state.save_list_page(f"{base}{path}", "s1", '"v1"', None, items[:2] if more else items,
                             [f"{base}{p}" for p in more], None)
        for p in more:
            state.save_list_page(f"{base}{p}", "s1", '"v1"', None, items[2:], [], None)
        state.mark_seen_many([(i.url, "s1") for i in items if i.url not in unseen])
        columns.append(Column(name, "通知公告", [f"{base}{path}"]))
    return Site(id="s1", agency="某局", name="某局", base_url=base, columns=columns)


ROUTES = {"/a.html": "304", "/a_1.html": "304", "/b.html": "200", "/c.html": "304", "/e.html": "304",
          "/private/d.html": "304"}


@pytest.mark.parametrize("web", [ROUTES], indirect=True)
def test_only_columns_whose_every_page_answered_304_are_settled(web, tmp_path):
    base = f"http://127.0.0.1:{web.port}"
    state = CrawlState(tmp_path)
    site = _site(base, state, {"a": ["/a.html", "/a_1.html"], "b": ["/b.html"], "c": ["/c.html"],
                               "d": ["/private/d.html"], "e": ["/e.html"]}, unseen=(f"{base}/e/t1.html",))
    result = revalidate([site], state, crawl_settings({}))

    assert {k.split("|")[1] for k in result.settled} == {"a", "c"}
    snaps = {s.column: s for s in result.snapshots}
    assert snaps["a"].http_status == 304 and snaps["a"].relisted and snaps["a"].item_count == 3  # both pages
    assert [i.list_date for i in snaps["c"].items] == ["2026-11-10", "2026-11-11", "2026-11-12"]
    # b changed (200), d is disallowed by robots.txt, e lists an article not yet fetched: the crawl's
    assert [c.name for c in result.remaining([site])[0].columns] == ["b", "d", "e"]
    paths = [p for _, p, _ in web.log]
    assert paths[0] == "/robots.txt" and "/private/d.html" not in paths
    assert not any("/t" in p for p in paths)  # no article is fetched here
    asked = {p: h for _, p, h in web.log}
    assert asked["/a.html"]["if-none-match"] == '"v1"' and asked["/a.html"]["user-agent"].startswith("zwgk-monitor")
    # keep-alive: robots.txt, a, a_1 and b on one connection; b's unread body closes it; c and e on a second
    assert web.connections == 2 and [n for n, p, _ in web.log if p == "/c.html"] == [2]
    assert result.stats["downloader/response_status_count/304"] == 4


@pytest.mark.parametrize("web", [{**ROUTES, "/b.html": "drop"}], indirect=True)
def test_a_site_that_drops_the_connection_is_left_to_the_crawl(web, tmp_path):
    base = f"http://127.0.0.1:{web.port}"
    state = CrawlState(tmp_path)
    site = _site(base, state, {"a": ["/a.html"], "b": ["/b.html"], "c": ["/c.html"]})
    result = revalidate([site], state, crawl_settings({"DOWNLOAD_TIMEOUT": 2}))
    assert {k.split("|")[1] for k in result.settled} == {"a"}
    assert result.stats["zwgk/revalidate/site_stopped"] == 1
    assert [c.name for c in result.remaining([site])[0].columns] == ["b", "c"]
    assert "/c.html" not in [p for _, p, _ in web.log]  # nothing more asked of a failing site


@pytest.mark.parametrize("web", [{**ROUTES, "/a.html": "304, then close"}], indirect=True)
def test_a_keep_alive_connection_the_server_closed_is_opened_again(web, tmp_path):
    base = f"http://127.0.0.1:{web.port}"
    state = CrawlState(tmp_path)
    site = _site(base, state, {"a": ["/a.html"], "c": ["/c.html"]})
    result = revalidate([site], state, crawl_settings({"DOWNLOAD_TIMEOUT": 2}))
    assert {k.split("|")[1] for k in result.settled} == {"a", "c"}
    assert "zwgk/revalidate/site_stopped" not in result.stats
    assert [n for n, p, _ in web.log] == [1, 1, 2] and [p for _, p, _ in web.log][1:] == ["/a.html", "/c.html"]


def test_the_pass_reads_settings_as_the_scrapy_child_does():
    """`zwgk crawl -s ZWGK_REVALIDATE=False` hands crawl() a string: false for the pass as for Scrapy."""
    for value in ("False", "false", "0", False):
        assert crawl_settings({"ZWGK_REVALIDATE": value}).getbool("ZWGK_REVALIDATE", True) is False
    options = crawl_settings({"DOWNLOAD_TIMEOUT": "2", "ZWGK_REVALIDATE_SITES": "8"})
    assert options.getfloat("DOWNLOAD_TIMEOUT") == 2.0 and options.getint("ZWGK_REVALIDATE_SITES") == 8
    assert options.get("USER_AGENT").startswith("zwgk-monitor")
