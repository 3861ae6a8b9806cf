"""The node lifecycle and the index/search commands."""

import json
import os
import socket
import subprocess
import sys
import time

import pytest

from index import node


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_finds_a_java_21_or_newer():
    java = node.find_java()
    assert node._java_major(java) >= node.MIN_JAVA


def test_es_url_prefers_es_url(monkeypatch):
    monkeypatch.setenv("ES_URL", "http://es.example:9200")
    assert node.url() == "http://es.example:9200"
    assert "not stopping" in node.stop()  # an external cluster is never stopped
    monkeypatch.delenv("ES_URL")
    monkeypatch.setenv("ZWGK_ES_PORT", "9345")
    assert node.url() == "http://127.0.0.1:9345"


def test_version_warning_on_major_mismatch():
    assert node.version_warning("9.2.4") is None
    assert "8.15.0" in node.version_warning("8.15.0")


@pytest.mark.slow
def test_start_stop_a_node_in_a_fresh_home(tmp_path, monkeypatch):
    """Fetch (from the local Maven cache), unpack, configure, start, status, idempotent start, stop."""
    monkeypatch.delenv("ES_URL", raising=False)
    monkeypatch.setenv("ZWGK_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ZWGK_ES_PORT", str(_free_port()))
    try:
        started = time.monotonic()
        message = node.start(timeout=90)
        assert "started Elasticsearch 9." in message, message
        h = node.health()
        assert h.status in ("green", "yellow") and h.version.startswith("9.")
        config = (node.config_dir() / "elasticsearch.yml").read_text()
        assert "xpack.security.enabled: false" in config and f"http.port: {node.port()}" in config
        assert str(node.data_dir()) in config
        assert "already running" in node.start()
        status = subprocess.run(
            [sys.executable, "-m", "zwgk.cli", "es", "status"], capture_output=True, text=True, env=os.environ
        )
        assert status.returncode == 0 and ("green" in status.stdout or "yellow" in status.stdout), (
            status.stderr
        )
        print(f"node up in {time.monotonic() - started:.1f}s")
    finally:
        stopped = node.stop()
    assert "stopped" in stopped
    assert node.health() is None
    node.remove()


def _zwgk(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "zwgk.cli", *args], capture_output=True, text=True, env=env, timeout=120
    )


def test_cli_index_and_search(es, es_prefix, tmp_path):
    from zwgk.document import Document

    env = {**os.environ, "ES_URL": node.url(), "ZWGK_DEAD_LETTER_DIR": str(tmp_path / "dead")}
    path = tmp_path / "documents.jsonl"
    good = Document(url="http://jw.beijing.gov.cn/x/1.html", title="關於義務教育招生的通知", body="招生工作安排。",
                    published_at="2026-05-06T09:00:00+08:00", agency="北京市教育委员会")  # fmt: skip
    path.write_text(good.to_json() + "\nnot json\n", encoding="utf-8")
    out = _zwgk("index", "--in", str(path), env=env)
    assert out.returncode == 1 and "indexed 1, failed 1" in out.stdout  # failures → non-zero exit
    dead = next((tmp_path / "dead").glob("documents-*.jsonl"))
    assert "invalid JSON" in dead.read_text()

    hits = _zwgk("search", "义务教育", "--json", env=env)
    assert hits.returncode == 0, hits.stderr
    result = json.loads(hits.stdout)
    assert result["total"] == 1 and "<mark>义务教育</mark>" in result["hits"][0]["highlights"]["title"]
    from index.search import SearchHit

    assert list(result["hits"][0]) == list(SearchHit.__annotations__)  # the hit the API and export build on
    text = _zwgk("search", "義務教育", "--since", "2026-05-01", env=env)
    assert "[义务教育]" in text.stdout and good.url in text.stdout

    bad = _zwgk("search", '"unclosed', env=env)
    assert bad.returncode == 2 and "unbalanced quote" in bad.stderr and "Traceback" not in bad.stderr


def test_cli_index_reports_es_down(tmp_path):
    env = {
        **os.environ,
        "ES_URL": f"http://127.0.0.1:{_free_port()}",
        "ZWGK_DEAD_LETTER_DIR": str(tmp_path / "dead"),
    }
    path = tmp_path / "documents.jsonl"
    path.write_text('{"url": "http://a.gov.cn/1", "title": "x"}\n', encoding="utf-8")
    out = _zwgk("index", "--in", str(path), env=env)
    assert out.returncode == 1 and "not reachable" in out.stderr and "Traceback" not in out.stderr
