"""Bulk writes against the real node: round trip, upsert, dead letters, ES down, replay."""

import json
import socket

import pytest

from index import schema, store
from index.search import SearchRequest, search
from tests.fixtures.tcp_proxy import TcpProxy
from zwgk.document import ColumnSnapshot, Document, ListItem, TopicScore
from zwgk.es import get_client


def _doc(n: int, **kw) -> Document:
    values = dict(
        url=f"http://sthjj.beijing.gov.cn/zwgk/{n}.html",
        site_id="sthjj",
        agency="北京市生态环境局",
        column="通知公告",
        column_type="通知公告",
        title=f"关于第{n}批大气污染防治项目的通知",
        body=f"为推进政务公开工作，现将第{n}批大气污染防治项目公开如下。",
        published_at=f"2026-03-{n % 28 + 1:02d}T09:00:00+08:00",
        fetched_at="2026-04-01T12:00:00+08:00",
    )
    values.update(kw)
    return Document(**values)


def _dead(path) -> list[dict]:
    return [json.loads(line) for line in open(path, encoding="utf-8")]


@pytest.fixture
def letters_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ZWGK_DEAD_LETTER_DIR", str(tmp_path / "dead"))
    return tmp_path / "dead"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_round_trip_and_reindex_does_not_duplicate(es, es_prefix, letters_dir):
    docs = [_doc(n) for n in range(5)]
    report = store.index_documents(es, docs, refresh=True)
    assert (report.indexed, report.failed, report.dead_letter_path) == (5, 0, None)
    stored = es.get(index=schema.alias("documents"), id=docs[0].id)["_source"]
    assert stored["url"] == docs[0].url and stored["title"] == docs[0].title
    assert stored["title_tokens"].split()[:2] == ["关于", "第"]
    assert stored["body_norm"].startswith("为推进政务公开工作,")  # NFKC full-width comma
    assert Document.from_dict(stored) == docs[0]  # _source is Document.to_dict() + index-only fields

    again = store.index_documents(es, docs + [_doc(0, title="关于第0批项目的更正通知")], refresh=True)
    assert again.indexed == 6 and again.failed == 0
    assert es.count(index=schema.alias("documents"))["count"] == 5
    assert (
        es.get(index=schema.alias("documents"), id=docs[0].id)["_source"]["title"]
        == "关于第0批项目的更正通知"
    )


def test_recrawl_without_nlp_fields_keeps_them(es, es_prefix, letters_dir):
    classified = _doc(1, topics=[TopicScore("3.1", 0.8)], kind="notice", agencies=["北京市生态环境局"])
    store.index_documents(es, [classified], refresh=True)
    store.index_documents(es, [_doc(1, title="新标题")], refresh=True)  # the crawler's fresh record
    src = es.get(index=schema.alias("documents"), id=classified.id)["_source"]
    assert src["title"] == "新标题"
    assert src["topic_ids"] == ["3.1"] and src["kind"] == "notice"


def test_malformed_document_goes_to_dead_letters_with_reason(es, es_prefix, letters_dir):
    bad = _doc(7, published_at="not a date").to_dict()
    records = [_doc(1), bad, {"title": "no url"}, _doc(2)]
    report = store.index_documents(es, records, refresh=True)
    assert report.indexed == 2 and report.failed == 2
    assert report.dead_letter_path.parent == letters_dir
    entries = _dead(report.dead_letter_path)
    by_url = {e["record"].get("url"): e for e in entries}
    assert "published_at" in by_url[bad["url"]]["reason"] and "not a date" in by_url[bad["url"]]["reason"]
    assert by_url[bad["url"]]["record"] == bad  # the original record, whole
    assert "no url" in by_url[None]["reason"]
    assert es.count(index=schema.alias("documents"))["count"] == 2


def test_es_down_puts_everything_in_dead_letters_and_replay_restores(es, es_prefix, letters_dir):
    down = get_client(f"http://127.0.0.1:{_closed_port()}", request_timeout=2, max_retries=1)
    docs = [_doc(n) for n in range(1200)]  # more than one bulk chunk
    with pytest.raises(store.StoreUnavailable, match="zwgk index --replay") as err:
        store.index_documents(down, docs)
    report = err.value.report
    assert report.indexed == 0 and report.failed == 1200
    entries = _dead(report.dead_letter_path)
    assert {e["record"]["url"] for e in entries} == {d.url for d in docs}
    assert all("unavailable" in e["reason"] for e in entries)

    replayed = store.replay_dead_letters(es, report.dead_letter_path, refresh=True)
    assert (replayed.indexed, replayed.failed) == (1200, 0)
    assert es.count(index=schema.alias("documents"))["count"] == 1200
    assert not report.dead_letter_path.exists()  # renamed *.replayed so it is not replayed twice


def test_replay_of_a_dead_letter_file_cut_mid_line_keeps_the_cut_line(es, es_prefix, letters_dir, tmp_path):
    """A process killed while writing dead letters leaves half a line: the rest is replayed, the half line
    goes to the new dead-letter file as it stands, and the old file is not marked replayed."""
    import json

    good = {"kind": "documents", "reason": "x", "record": _doc(7).to_dict()}
    cut = json.dumps({"kind": "documents", "reason": "x", "record": _doc(8).to_dict()}, ensure_ascii=False)[:60]
    path = tmp_path / "documents-cut.jsonl"
    path.write_text(json.dumps(good, ensure_ascii=False) + "\n" + cut, encoding="utf-8")
    replayed = store.replay_dead_letters(es, path, refresh=True)
    assert (replayed.indexed, replayed.failed) == (1, 1) and path.exists()
    (kept,) = _dead(replayed.dead_letter_path)
    assert kept["record"] == cut and kept["reason"].startswith("unreadable line 2 of documents-cut.jsonl")


def test_load_jsonl_sends_bad_lines_to_dead_letters(es, es_prefix, letters_dir, tmp_path):
    path = tmp_path / "documents.jsonl"
    path.write_text(
        _doc(1).to_json() + "\n{broken json\n[1, 2]\n\n" + _doc(2).to_json() + "\n", encoding="utf-8"
    )
    letters = store.DeadLetters("documents")
    report = store.index_documents(es, store.load_jsonl(path, letters), dead_letters=letters, refresh=True)
    letters.close()
    assert report.indexed == 2 and report.failed == 2
    reasons = [e["reason"] for e in _dead(report.dead_letter_path)]
    assert any(":2: invalid JSON" in r for r in reasons) and any(
        ":3: not a JSON object" in r for r in reasons
    )


def test_unwritable_dead_letter_dir_is_a_clear_error(es, tmp_path, monkeypatch):
    """Checked before anything is sent, so no record can be lost for want of a dead-letter file."""
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("ZWGK_DEAD_LETTER_DIR", str(blocker / "dead"))
    with pytest.raises(store.DeadLetterError, match="not writable"):
        store.index_documents(es, [_doc(1)])


def test_snapshots_round_trip(es, es_prefix, letters_dir):
    snap = ColumnSnapshot(
        site_id="sthjj",
        column="通知公告",
        column_type="通知公告",
        list_url="http://sthjj.beijing.gov.cn/tzgg/",
        crawled_at="2026-04-01T12:00:00+08:00",
        http_status=200,
        response_ms=85.0,
        items=[ListItem("通知", "http://sthjj.beijing.gov.cn/tzgg/1.html", "2026-03-30")],
        item_count=1,
        newest_date="2026-03-30",
    )
    failed = ColumnSnapshot(
        site_id="x",
        column="c",
        column_type="其他",
        list_url="http://x/",
        crawled_at="2026-04-01T12:00:00+08:00",
        error="timeout",
    )
    report = store.index_snapshots(es, [snap, failed, snap], refresh=True)
    assert report.indexed == 3 and report.failed == 0
    assert es.count(index=schema.alias("snapshots"))["count"] == 2
    src = es.get(index=schema.alias("snapshots"), id=snap.id)["_source"]
    assert ColumnSnapshot.from_dict(src) == snap
    stale = es.search(index=schema.alias("snapshots"), query={"range": {"newest_date": {"lt": "2026-03-31"}}})
    assert stale["hits"]["total"]["value"] == 1


def test_ensure_indices_is_idempotent_and_uses_versioned_aliases(es, es_prefix):
    first = schema.ensure_indices(es)
    assert schema.ensure_indices(es) == first
    assert first["documents"] == f"{es_prefix}-documents-v{schema.VERSIONS['documents']}"
    assert schema.current_index(es, "documents") == first["documents"]
    assert schema.alias("alerts") == f"{es_prefix}-alerts"


def test_migrate_copies_and_swaps_alias(es, es_prefix, letters_dir, monkeypatch):
    store.index_documents(es, [_doc(1), _doc(2)], refresh=True)
    monkeypatch.setitem(schema.VERSIONS, "documents", schema.VERSIONS["documents"] + 1)
    new = f"{es_prefix}-documents-v{schema.VERSIONS['documents']}"
    assert schema.migrate(es, "documents") == new
    assert schema.current_index(es, "documents") == new
    assert es.count(index=schema.alias("documents"))["count"] == 2
    assert search(es, SearchRequest(query="大气污染")).total == 2


def test_an_older_documents_index_is_migrated_with_its_tone_score_kept(es, es_prefix, letters_dir, monkeypatch):
    """v1 held the lexicon's score in `sentiment`; ensure_indices moves the alias to v2, the score to
    `sentiment_score`, and a tone label can then be written."""
    schema.drop_indices(es)  # this test's prefix only: start from a v1 store
    with monkeypatch.context() as v1:
        v1.setitem(schema.VERSIONS, "documents", 1)
        v1.setitem(schema.MAPPINGS["documents"]["properties"], "sentiment", {"type": "float"})
        assert schema.ensure_indices(es, ("documents",))["documents"] == f"{es_prefix}-documents-v1"
        es.index(index=schema.alias("documents"), id="old", document={"url": "http://x.example/old", "sentiment": 0.63},
                 refresh=True)
    schema.ensure_indices(es, ("documents",))
    assert schema.current_index(es, "documents") == f"{es_prefix}-documents-v2"
    source = es.get(index=schema.alias("documents"), id="old")["_source"]
    assert source["sentiment"] is None and source["sentiment_score"] == 0.63
    rep = store.index_documents(es, [_doc(3, source_type="news", sentiment="negative", sentiment_score=0.7)],
                                refresh=True)
    assert not rep.failed
    assert es.count(index=schema.alias("documents"), query={"term": {"sentiment": "negative"}})["count"] == 1


def test_es_going_down_mid_run_loses_nothing(es, es_prefix, letters_dir):
    """Kill the connection to ES once some documents are in: every record is acknowledged or in the dead
    letters. (A chunk ES applied but whose response was lost is in both: replay upserts, so no duplicates.)"""
    import threading
    import time
    from urllib.parse import urlsplit

    from index import node

    proxy = TcpProxy(urlsplit(node.url()).port)
    client = get_client(f"http://127.0.0.1:{proxy.port}", request_timeout=5, max_retries=1)
    docs = [_doc(n) for n in range(4000)]
    docs_alias = schema.alias("documents")

    def kill_when_some_are_in():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            es.indices.refresh(index=docs_alias)
            if es.count(index=docs_alias)["count"] >= 500:
                proxy.kill()
                return
            time.sleep(0.02)

    killer = threading.Thread(target=kill_when_some_are_in)
    killer.start()
    with pytest.raises(store.StoreUnavailable) as err:
        store.index_documents(client, docs)
    killer.join()
    report = err.value.report
    es.indices.refresh(index=docs_alias)
    stored = {h["_id"] for h in es.search(index=docs_alias, size=4000, source=False)["hits"]["hits"]}
    dead_urls = [e["record"]["url"] for e in _dead(report.dead_letter_path)]
    all_ids = {d.id for d in docs}
    dead_ids = {d.id for d in docs if d.url in set(dead_urls)}
    assert 500 <= report.indexed <= len(stored) < len(docs)
    assert len(dead_urls) == report.failed == len(docs) - report.indexed  # each unacknowledged record once
    assert all_ids - stored <= dead_ids  # nothing lost
    replayed = store.replay_dead_letters(es, report.dead_letter_path, refresh=True)
    assert replayed.failed == 0
    assert es.count(index=docs_alias)["count"] == len(docs)  # and nothing twice


def test_a_document_given_is_made_a_dict_once(es, es_prefix, letters_dir, monkeypatch):
    """The ES source is its one conversion; the copy kept for a dead letter is made only if it fails."""
    docs = [_doc(n) for n in range(3)] + [_doc(9, published_at="not a date")]
    calls = []
    to_dict = Document.to_dict

    def spy(self):
        calls.append(self.url)
        return to_dict(self)

    monkeypatch.setattr(Document, "to_dict", spy)
    report = store.index_documents(es, docs, refresh=True)
    assert (report.indexed, report.failed) == (3, 1)
    assert sorted(calls) == sorted([d.url for d in docs] + [docs[-1].url])  # + the failed one's dead letter
    (entry,) = _dead(report.dead_letter_path)
    assert entry["record"] == to_dict(docs[-1])
