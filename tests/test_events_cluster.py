"""Events offline: the story fingerprint (both scripts, datelines, pinyin glosses, figures), the incremental
index (joins, template stories of another day, the window), `zwgk events cluster` on a file, and the
evaluation on the labelled real pairs against its targets."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from events.cluster import EventIndex, event_id_for
from events.evaluate import evaluate
from events.signature import decode, encode, fingerprint, story_text
from zwgk.cli import main
from zwgk.weeks import TZ

T0 = datetime(2021, 4, 17, 9, 0, tzinfo=TZ)
BULLETIN = ("4月16日0—24时,31个省(自治区、直辖市)和新疆生产建设兵团报告新增确诊病例15例,其中境外输入病例14例"
            "(上海3例,广东3例,天津2例,四川2例,陕西2例,内蒙古1例,浙江1例),本土病例1例(在云南);无新增死亡病例。")
# the same bulletin a day earlier: same template, other figures
BULLETIN_DAY_BEFORE = ("4月15日0—24时,31个省(自治区、直辖市)和新疆生产建设兵团报告新增确诊病例9例,其中境外输入病例8例"
                       "(广东4例,上海2例,四川1例,福建1例),本土病例1例(在云南);无新增死亡病例。")


def test_story_text_folds_script_dateline_and_pinyin_glosses():
    trad = story_text("李克強主持召開國務院常務會議", "新華社北京3月21日電 國務院總理李克強3月21日主持召開國務院常務會議")
    simp = story_text("李克强主持召开国务院常务会议", "央视网消息(新闻联播):国务院总理李克强3月21日主持召开国务院常务会议")
    assert trad == simp
    assert story_text("", "国(guo)务院(yuan)总理(li)李强") == "国务院总理李强"
    assert story_text("", "国家电网公司消息称") == "国家电网公司消息称"  # not a dateline


def test_fingerprint_round_trip_and_figures():
    fp = fingerprint("国家卫健委:4月16日新增确诊病例15例", BULLETIN)
    back = decode(*encode(fp))
    assert back.text_similarity(fp) == 1.0 and back.numbers == fp.numbers
    other = fingerprint("国家卫健委:4月15日新增确诊病例9例", BULLETIN_DAY_BEFORE)
    assert fp.text_similarity(other) > 0.3  # the wording alone would join them
    assert fp.number_agreement(other) < 0.4  # the figures do not
    assert fingerprint("", "") is None
    with pytest.raises(ValueError):
        decode("AAAA")


def test_index_joins_reposts_not_template_days_and_forgets_old_weeks():
    index = EventIndex()
    first = index.assign("a" * 40, fingerprint("截至4月16日24时新型冠状病毒肺炎疫情最新情况", BULLETIN), T0)
    assert first == event_id_for("a" * 40)
    repost = fingerprint("国家卫健委:4月16日新增确诊病例15例", "据国家卫健委网站消息," + BULLETIN)
    assert index.assign("b" * 40, repost, T0 + timedelta(hours=5)) == first
    trad = fingerprint("", "4月16日0—24時,31個省(自治區、直轄市)和新疆生產建設兵團報告新增確診病例15例,其中境外輸入病例14例"
                           "(上海3例,廣東3例,天津2例,四川2例,陝西2例,內蒙古1例,浙江1例),本土病例1例(在雲南);無新增死亡病例。")
    assert index.assign("c" * 40, trad, T0 + timedelta(days=1)) == first
    day_before = fingerprint("截至4月15日24时新型冠状病毒肺炎疫情最新情况", BULLETIN_DAY_BEFORE)
    assert index.assign("d" * 40, day_before, T0 - timedelta(days=1)) == event_id_for("d" * 40)
    assert index.assign("a" * 40, None, T0) == first  # a document keeps its event
    # ten days on, the week of the first bulletin has left the index: a copy now starts its own event
    late = fingerprint("截至4月16日24时新型冠状病毒肺炎疫情最新情况", BULLETIN)
    index.assign("e" * 40, fingerprint("另一条新闻", "北京市发布空气重污染橙色预警,停止土石方作业。"), T0 + timedelta(days=10))
    assert "a" * 40 not in index.members
    assert index.assign("f" * 40, late, T0 + timedelta(days=10)) == event_id_for("f" * 40)


def test_a_story_every_site_reposts_is_compared_by_its_newest_copies_only():
    index = EventIndex(representatives=8)
    copies = [fingerprint(f"第{k}号政务网站转载:全国新增确诊病例15例", BULLETIN) for k in range(60)]
    first = index.assign("x000", copies[0], T0)
    assert all(index.assign(f"x{k:03d}", fp, T0 + timedelta(minutes=k)) == first for k, fp in enumerate(copies))
    assert len(index) == 60  # every copy stays a member of the window, with its event
    assert len(index.lsh.query(copies[0].minhash)) == 8  # only the newest 8 are candidates for the next
    assert index.assign("y", fingerprint("国家卫健委:新增确诊病例15例", BULLETIN), T0 + timedelta(hours=2)) == first
    # the window moves on: old members leave, candidates or not, without touching the LSH twice
    index.assign("z", fingerprint("另一条新闻", "北京市发布空气重污染橙色预警,停止土石方作业。"), T0 + timedelta(days=10))
    assert len(index) == 1 and index.lsh.query(copies[0].minhash) == []


def _write(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def test_cluster_command_writes_event_ids_in_input_order(tmp_path, capsys):
    rows = [
        {"url": "http://b.example/2", "site_id": "b", "title": "國家衛健委:4月16日新增確診病例15例",
         "published_at": "2021-04-17T10:00:00+08:00", "source_type": "news",
         "body": "4月16日0—24時,31個省(自治區、直轄市)和新疆生產建設兵團報告新增確診病例15例,其中境外輸入病例14例"
                 "(上海3例,廣東3例,天津2例,四川2例,陝西2例,內蒙古1例,浙江1例),本土病例1例(在雲南);無新增死亡病例。"},
        {"url": "http://a.example/1", "site_id": "a", "title": "截至4月16日24时新型冠状病毒肺炎疫情最新情况",
         "published_at": "2021-04-17T08:00:00+08:00", "source_type": "news", "body": BULLETIN},
        {"url": "http://c.example/3", "site_id": "c", "title": "截至4月15日24时新型冠状病毒肺炎疫情最新情况",
         "published_at": "2021-04-16T08:00:00+08:00", "source_type": "news", "body": BULLETIN_DAY_BEFORE},
    ]
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    _write(src, rows)
    with src.open("a", encoding="utf-8") as fh:
        fh.write("{not json\n")
    assert main(["events", "cluster", "--in", str(src), "--out", str(out)]) == 1  # the bad line is reported
    written = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["url"] for r in written] == [r["url"] for r in rows]
    from zwgk.document import doc_id

    first = event_id_for(doc_id("http://a.example/1"))  # the earlier of the two copies names the event
    assert [r["event_id"] for r in written] == [first, first, event_id_for(doc_id("http://c.example/3"))]
    assert json.loads((tmp_path / "out.jsonl.errors.jsonl").read_text())["line"] == 4
    err = capsys.readouterr().err
    assert "3 of 4 documents in 2 events" in err and "Traceback" not in err
    # the same input again: the same ids
    assert main(["events", "cluster", "--in", str(src), "--out", str(tmp_path / "again.jsonl")]) == 1
    assert (tmp_path / "again.jsonl").read_text(encoding="utf-8") == out.read_text(encoding="utf-8")
    # never over its input
    assert main(["events", "cluster", "--in", str(src), "--out", str(src)]) == 2
    assert "is the input file" in capsys.readouterr().err


def test_evaluation_on_the_labelled_pairs_meets_the_targets_and_beats_the_baseline():
    result = evaluate()
    held = result["splits"]["heldout"]
    assert result["pairs"] >= 300 and result["traditional_items"] > 0
    assert held["pairs"]["same"] >= 20 and held["cross_script_same"] > 0
    method, baseline = held["method_shipped"], held["title_exact_baseline"]
    assert method["precision"] >= 0.95 and method["recall"] >= 0.85
    assert method["f1"] > baseline["f1"]
    assert result["chosen"]["text"] == result["shipped"]["text"]  # what ships is what dev chose


def test_candidates_are_scored_at_once_as_pair_by_pair():
    # match() scores a document's LSH candidates in one array operation: each score is the pairwise estimate,
    # and rows freed by documents leaving the LSH are reused without mixing documents up
    from events.cluster import Candidates

    stories = ["北京市生态环境局发布11月空气质量状况，优良天数为22天", "北京市生态环境局发布10月空气质量状况，优良天数为25天",
               "市民政局调整城乡低保标准，每人每月提高至1450元", "海淀区召开安全生产工作会议部署冬季防火"]
    fps = {f"d{i}": fingerprint(s, "") for i, s in enumerate(stories)}
    at = datetime(2026, 11, 20, 9, tzinfo=TZ)
    rows = Candidates(capacity=2)  # grows twice
    for i, (key, fp) in enumerate(fps.items()):
        rows.put(key, fp, at + timedelta(hours=i))
    rows.drop("d1")
    rows.put("d1", fps["d1"], at)  # back in the freed row
    keys = ["d3", "d0", "d1", "d2"]
    scores, times = rows.scores(keys, fps["d0"])
    assert scores.tolist() == [fps["d0"].text_similarity(fps[k]) for k in keys]
    assert scores[1] == 1.0 and 0.3 < scores[2] < 1 and times[2] == times[1]
    assert rows.scores([], fps["d0"])[0].shape == (0,)


def test_the_window_edge_is_exact():
    story = fingerprint("市民政局调整城乡低保标准", "每人每月提高至1450元")
    at = datetime(2026, 11, 20, 9, tzinfo=TZ)
    index = EventIndex(window_days=7)
    index.add("old", "ev-old", story, at)
    assert index.match(story, at + timedelta(days=7)) == ("ev-old", 1.0)
    assert index.match(story, at + timedelta(days=7, microseconds=1)) is None
    assert index.match(story, at - timedelta(days=7, microseconds=1)) is None
