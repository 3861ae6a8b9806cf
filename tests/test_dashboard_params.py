"""Issue 14: the page APIs answer extreme and malformed dates and weeks with a 4xx and a message, not a 500, and
every response, a 500 included, carries the security headers (real app, real Elasticsearch)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from dashboards.app import SECURITY_HEADERS

AS_OF_ROUTES = ["/api/overview", "/api/freshness/heatmap", "/api/agencies", "/api/agencies/北京市水务局",
                "/api/timeliness"]
BAD_AS_OF = ["0001-01-01", "9999-12-31", "1899-12-31", "3000-01-01", "2026-02-30", "2026-13-01", "yesterday",
             "9" * 40, "2026-11-23T00:00:00<script>"]
BAD_WEEKS = ["9999-W52", "0001-W01", "1899-W52", "2025-W53", "2026-W00", "2026-W5", "W47", "", "2026-W47' OR 1=1"]


@pytest.fixture(scope="module")
def api(es, es_module_prefix):
    from dashboards.app import create_app

    # raise_server_exceptions=False: a 500 reaches the test as the user would see it
    with TestClient(create_app(client=es, auth_token=""), raise_server_exceptions=False) as client:
        yield client


def _refused(resp, param: str) -> None:
    assert resp.status_code in (400, 422), (resp.status_code, resp.text)
    assert param in resp.json()["detail"], resp.text
    _has_headers(resp)


def _has_headers(resp) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert resp.headers.get(name) == value, (resp.status_code, name)


@pytest.mark.parametrize("path", AS_OF_ROUTES)
def test_as_of_outside_the_range_or_malformed_is_a_4xx_with_headers(api, path):
    for value in BAD_AS_OF:
        _refused(api.get(path, params={"as_of": value}), "as_of")
    for value in ("1900-01-01", "2999-12-31", None):  # the range's ends and the default still answer
        resp = api.get(path, params={"as_of": value} if value else {})
        assert resp.status_code in (200, 404), (value, resp.text)
        _has_headers(resp)


def test_snapshots_week_outside_the_range_or_malformed_is_a_4xx_with_headers(api):
    for week in BAD_WEEKS:
        _refused(api.get("/api/freshness/snapshots", params={"site_id": "swj", "week": week}), "week")
    _refused(api.get("/api/freshness/snapshots", params={"week": "2026-W47"}), "site_id")
    for week in ("1900-W01", "2999-W52", "2026-W53"):
        resp = api.get("/api/freshness/snapshots", params={"site_id": "swj", "week": week})
        assert resp.status_code == 200 and resp.json()["week"] == week, resp.text
        _has_headers(resp)


def test_an_unexpected_500_carries_the_security_headers(api, monkeypatch):
    from dashboards import pages

    monkeypatch.setattr(pages, "overview", lambda client, as_of: 1 / 0)
    resp = api.get("/api/overview")
    assert resp.status_code == 500 and resp.json() == {"detail": "服务器内部错误"}
    _has_headers(resp)
