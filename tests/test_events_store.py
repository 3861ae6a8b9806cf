"""Events against the real Elasticsearch: a repost arriving a day later (in a later run, the other script)
joins the event, a same-template story with other facts does not, a re-run changes nothing, and the hot
events read back ranked and filtered (measures/opinion.py, `/api/opinion/hot`)."""

from __future__ import annotations

import json
from datetime import date

from fastapi.testclient import TestClient

from events.cluster import EventIndex, event_id_for
from index import store
from measures.opinion import event_documents, hot_events
from pipeline import events as events_stage
from pipeline.events import build_events, build_events_in_order, documents_in_arrival_order
from zwgk.document import Document, TopicScore
from zwgk.es import alias

# a real wire story (2018-03-21) as two outlets carried it, one in traditional script, and the same meeting
# template two weeks later with other facts
ORIGINAL = Document(
    url="http://news-a.example/2018/0321/1.html", site_id="xinhua", source_type="news",
    title="李克强主持召开国务院常务会议 确定《政府工作报告》重点任务分工",
    body="新华社北京3月21日电 国务院总理李克强3月21日主持召开国务院常务会议，确定《政府工作报告》重点任务分工。"
         "新一届国务院开始全面履职。会议指出，昨天闭幕的十三届全国人大一次会议表决通过了《政府工作报告》。",
    published_at="2018-03-21T19:20:00+08:00", topics=[TopicScore("3.1", 0.8)], agencies=["北京市人民政府办公厅"],
    sentiment=0.1,
)
REPOST = Document(
    url="http://big5.news-b.example/gate/big5/2018/03/22/VIDE.shtml", site_id="cctv-big5", source_type="news",
    title="[視頻]李克強主持召開國務院常務會議",
    body="央視網消息(新聞聯播)：國務院總理李克強3月21日主持召開國務院常務會議，確定《政府工作報告》重點任務分工。"
         "新一屆國務院開始全面履職。會議指出，昨天閉幕的十三屆全國人大一次會議表決通過了《政府工作報告》。",
    published_at="2018-03-22T09:43:00+08:00", agencies=["北京市发展和改革委员会"], sentiment=0.7,
)
OTHER = Document(
    url="http://news-a.example/2018/0404/2.html", site_id="xinhua", source_type="news",
    title="李克强主持召开国务院常务会议 部署进一步压缩企业开办时间",
    body="新华社北京4月4日电 国务院总理李克强4月4日主持召开国务院常务会议，部署进一步压缩企业开办时间，"
         "决定推出一批简政减税举措，为企业减负。",
    published_at="2018-04-04T18:00:00+08:00", topics=[TopicScore("2.1", 0.7)],
)


def _index(es, *docs: Document) -> None:
    report = store.index_documents(es, list(docs), refresh=True)
    assert report.failed == 0


def _event_of(es, doc: Document) -> str | None:
    return es.get(index=alias("documents"), id=doc.id)["_source"].get("event_id")


def _versions(es) -> dict[str, int]:
    es.indices.refresh(index=alias("events"))
    hits = es.search(index=alias("events"), query={"match_all": {}}, version=True, size=100)["hits"]["hits"]
    return {h["_id"]: h["_version"] for h in hits}


def test_repost_a_day_later_joins_and_rerun_changes_nothing(es, es_prefix):
    # run 1: the original alone
    _index(es, ORIGINAL)
    first = build_events(es, [ORIGINAL], EventIndex())
    assert (first.new_events, first.joined, first.events_written) == (1, 0, 1)
    event_id = event_id_for(ORIGINAL.id)
    assert _event_of(es, ORIGINAL) == event_id

    # run 2, a day later, a new process (a fresh EventIndex loaded from the store): the traditional repost joins
    _index(es, REPOST)
    second = build_events(es, [REPOST], EventIndex())
    assert second.loaded == 1 and (second.joined, second.new_events) == (1, 0)
    assert _event_of(es, REPOST) == event_id
    event = es.get(index=alias("events"), id=event_id)["_source"]
    assert event["doc_ids"] == [ORIGINAL.id, REPOST.id] and event["doc_count"] == 2
    assert event["sources"] == ["cctv-big5", "xinhua"] and event["source_count"] == 2
    assert event["first_source"] == "xinhua" and event["first_url"] == ORIGINAL.url
    assert event["first_published_at"] == ORIGINAL.published_at and event["last_published_at"] == REPOST.published_at
    assert event["daily_counts"] == {"2018-03-21": 1, "2018-03-22": 1}
    assert event["topics"] == ["3.1"] and event["agencies"] == ["北京市人民政府办公厅", "北京市发展和改革委员会"]
    assert event["negative_count"] == 1

    # run 3: the same template with other facts two weeks later is another event
    _index(es, OTHER)
    third = build_events(es, [OTHER], EventIndex())
    assert third.new_events == 1 and _event_of(es, OTHER) == event_id_for(OTHER.id) != event_id

    # re-running everything: same ids, same counts, no record rewritten
    versions = _versions(es)
    again = build_events(es, [ORIGINAL, REPOST, OTHER], EventIndex())
    assert (again.kept, again.joined, again.new_events, again.events_written) == (3, 0, 0, 0)
    assert [_event_of(es, d) for d in (ORIGINAL, REPOST, OTHER)] == [event_id, event_id, event_id_for(OTHER.id)]
    assert _versions(es) == versions and len(versions) == 2

    # a re-index of the document without an event (a re-crawl) keeps the one stored
    _index(es, Document.from_dict({**REPOST.to_dict(), "event_id": None}))
    assert _event_of(es, REPOST) == event_id


def test_both_scripts_in_one_batch_join(es, es_prefix):
    _index(es, REPOST, ORIGINAL)
    report = build_events(es, [REPOST, ORIGINAL], EventIndex())  # taken in publish order, not file order
    assert (report.new_events, report.joined) == (1, 1)
    assert _event_of(es, ORIGINAL) == _event_of(es, REPOST) == event_id_for(ORIGINAL.id)


def test_a_runs_shards_are_grouped_as_one_batch_in_arrival_order(es, es_prefix, tmp_path, monkeypatch):
    # the repost's shard comes first and the original's second, as a worker might finish them; a broken line and
    # a shard with no file are left out; one document per chunk, so the grouping spans chunks
    shard_a, shard_b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    shard_a.write_text(json.dumps(REPOST.to_dict(), ensure_ascii=False) + "\n{\"url\": \n", encoding="utf-8")
    shard_b.write_text("".join(json.dumps(d.to_dict(), ensure_ascii=False) + "\n" for d in (OTHER, ORIGINAL)),
                       encoding="utf-8")
    ordered = documents_in_arrival_order([shard_a, tmp_path / "none.jsonl", shard_b])
    assert [d.url for d in documents_in_arrival_order([shard_a, shard_b])] == [ORIGINAL.url, REPOST.url, OTHER.url]

    _index(es, ORIGINAL, REPOST, OTHER)
    monkeypatch.setattr(events_stage, "CHUNK", 1)
    report = build_events_in_order(es, ordered)
    assert (report.documents, report.new_events, report.joined, report.events_written) == (3, 2, 1, 2)
    # the event is named after the story's first document, not after the shard that was grouped first
    assert _event_of(es, ORIGINAL) == _event_of(es, REPOST) == event_id_for(ORIGINAL.id)
    assert report.loaded == 0 and _versions(es) == {event_id_for(ORIGINAL.id): 1, event_id_for(OTHER.id): 1}


def test_hot_events_rank_filter_and_api(es, es_prefix):
    from dashboards.app import create_app

    _index(es, ORIGINAL, REPOST, OTHER)
    build_events(es, [ORIGINAL, REPOST, OTHER], EventIndex())
    day = hot_events(es, date(2018, 3, 22), "day")
    assert [e["event_id"] for e in day["events"]] == [event_id_for(ORIGINAL.id)]
    assert day["events"][0]["growth_24h"] == 1 and day["events"][0]["period_count"] == 1
    week = hot_events(es, date(2018, 4, 4), "week")
    assert [e["event_id"] for e in week["events"]] == [event_id_for(OTHER.id)]
    assert hot_events(es, date(2018, 3, 27), "week")["events"][0]["source_count"] == 2
    assert hot_events(es, date(2018, 3, 22), "day", topic="3")["total"] == 1  # 3.1 is under 3
    assert hot_events(es, date(2018, 3, 22), "day", topic="2.1")["total"] == 0
    assert hot_events(es, date(2018, 3, 22), "day", agency="北京市发展和改革委员会")["total"] == 1
    detail = event_documents(es, event_id_for(ORIGINAL.id))
    assert [d["url"] for d in detail["documents"]] == [ORIGINAL.url, REPOST.url]
    assert event_documents(es, "ev-none") is None

    api = TestClient(create_app(es))
    got = api.get("/api/opinion/hot", params={"as_of": "2018-03-27", "period": "week"}).json()
    assert [e["event_id"] for e in got["events"]] == [event_id_for(ORIGINAL.id)]
    assert api.get("/api/opinion/hot", params={"period": "month"}).status_code in (400, 422)
    assert api.get(f"/api/opinion/events/{event_id_for(OTHER.id)}").json()["doc_count"] == 1
    assert api.get("/api/opinion/events/ev-none").status_code == 404
