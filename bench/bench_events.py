"""Events: grouping N generated news documents as they arrive, CPU per new document and peak memory.

    python -m bench.bench_events [--docs 100000]
    nice -n 10 python -m bench.bench_events --docs 1000000      # the 1M target: < 5 ms CPU per new document

Documents are generated one at a time in publish order (never all held at once) at a fixed rate of about
2,700 a day (1M documents ≈ one year); a story's sentences are drawn from the 40,000 most frequent words of
jieba's dictionary (so two unrelated stories share about as little wording as real ones), and each goes through exactly what the pipeline's events step runs
per document (events.group.group → fingerprint + EventIndex.assign, the index keeping the week around the
newest document). The stream mixes new stories (~58 %), reposts of a story of the last three days (~40 %:
same text in the other script, dateline dropped, a title rewritten, an intro prepended, a sentence cut or
a character changed, each with its own probability) and template stories (~2 %: the same daily bulletin
or alert with other dates and figures, which must not join). Every 100k documents (and at the end) a line
reports: CPU ms per document over the last 10k, events so far, documents in the window, peak RSS.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import time
from collections import deque
from collections.abc import Iterator
from datetime import datetime, timedelta
from functools import lru_cache

PLACES = ["北京市", "上海市", "广州市", "深圳市", "成都市", "武汉市", "西安市", "杭州市", "南京市", "重庆市",
          "天津市", "长沙市", "郑州市", "济南市", "昆明市", "兰州市", "福州市", "合肥市", "南宁市", "沈阳市"]
AGENCIES = ["生态环境局", "市场监督管理局", "民政局", "交通委员会", "水务局", "卫生健康委员会", "教育委员会",
            "住房和城乡建设委员会", "人力资源和社会保障局", "应急管理局", "公安局", "发展和改革委员会"]
ACTIONS = ["召开新闻发布会通报", "印发实施方案部署", "开展专项检查整治", "公布调查处理结果", "启动应急响应应对",
           "发布年度工作报告介绍", "举行座谈会研究", "推出便民服务措施推进", "通报典型案例曝光", "召开工作会议部署"]
TOPICS = ["大气污染防治", "食品安全监管", "养老服务体系建设", "轨道交通运营", "防汛抗旱", "营商环境优化",
          "义务教育招生", "保障性住房分配", "就业创业扶持", "安全生产检查", "政务公开", "垃圾分类"]
WORDS = 40_000  # most frequent words of jieba's dictionary the sentences are drawn from
INTROS = ["【今日关注】", "编者按：以下为相关报道全文。", "转自政务新媒体，内容如下。", "本网讯 综合报道。"]
SOURCES = [f"news{i:03d}" for i in range(400)]
RATE_PER_DAY = 2740
CHECKPOINT = 100_000
LAST = 10_000  # documents the CPU per document is averaged over at each checkpoint


@lru_cache(maxsize=1)
def _words() -> list[str]:
    """The most frequent Chinese words of jieba's bundled dictionary."""
    from pathlib import Path

    import jieba

    rows = []
    for line in (Path(jieba.__file__).parent / "dict.txt").read_text(encoding="utf-8").splitlines():
        word, freq, *_ = line.split(" ")
        if all("\u4e00" <= ch <= "\u9fff" for ch in word):
            rows.append((int(freq), word))
    return [w for _, w in sorted(rows, reverse=True)[:WORDS]]


def _sentence(rng: random.Random) -> str:
    return "".join(rng.choices(_words(), k=rng.randint(12, 22))) + "。"


@lru_cache(maxsize=1)
def _s2t():
    import opencc

    return opencc.OpenCC("s2t")


class Story:
    """A generated story: its title, lead sentences, figures and first time."""

    def __init__(self, rng: random.Random, at: datetime, template: str | None = None):
        self.at = at
        place, agency, topic = rng.choice(PLACES), rng.choice(AGENCIES), rng.choice(TOPICS)
        action = rng.choice(ACTIONS)
        n1, n2, n3 = rng.randint(2, 999), rng.randint(10, 9999), rng.randint(1, 99)
        day = f"{at.month}月{at.day}日"
        if template is None:
            self.title = f"{place}{agency}{action}{topic}{''.join(rng.choices(_words(), k=2))}"
            first = (f"{place}{agency}{day}{action}{topic}有关情况，{rng.randint(1, 30)}个部门参加，"
                     f"共涉及{n1}个单位、{n2}名群众，整改问题{n3}项。")
        else:  # the daily bulletin: same wording every day, other figures
            self.title = f"{place}{day}{template}情况通报"
            first = (f"{day}0时至24时，{place}{template}新增{n1}例，其中{rng.choice(PLACES)}{n3}例，"
                     f"累计{n2}例，{rng.randint(1, 30)}个区报告相关情况。")
        self.sentences = [first, *(_sentence(rng) for _ in range(3))]
        self.dateline = f"新华社{place[:-1]}{day}电 "


def _repost(rng: random.Random, story: Story) -> tuple[str, str]:
    """A repost of story: (title, body) with the edits reposting sites make."""
    title, sentences = story.title, list(story.sentences)
    body_prefix = story.dateline if rng.random() < 0.5 else ""
    if rng.random() < 0.3:
        title = rng.choice(INTROS[:1]) + title[: max(6, len(title) - rng.randint(0, 6))]
    if rng.random() < 0.2:
        body_prefix = rng.choice(INTROS) + body_prefix
    if rng.random() < 0.3:
        sentences.pop(rng.randrange(1, len(sentences)))
    if rng.random() < 0.2:
        s = sentences[-1]
        k = rng.randrange(len(s))
        sentences[-1] = s[:k] + "该" + s[k + 1:]
    title, body = title, body_prefix + "".join(sentences)
    if rng.random() < 0.3:  # a traditional-script site
        title, body = _s2t().convert(title), _s2t().convert(body)
    return title, body


def generate(n: int, seed: int = 7) -> Iterator[tuple[str, str, str, datetime]]:
    """(doc id, title, body, time) for n documents in publish order; only the last three days of stories kept."""
    rng = random.Random(seed)
    start = datetime(2026, 1, 1, 8, 0).astimezone()
    step = timedelta(days=1) / RATE_PER_DAY
    recent: deque[Story] = deque()
    templates = [f"{t}监测" for t in TOPICS[:6]]
    for i in range(n):
        at = start + i * step
        while recent and recent[0].at < at - timedelta(days=3):
            recent.popleft()
        r = rng.random()
        if r < 0.40 and recent:
            title, body = _repost(rng, rng.choice(recent))
        else:
            story = Story(rng, at, rng.choice(templates) if r > 0.98 else None)
            recent.append(story)
            title, body = story.title, story.dateline + "".join(story.sentences)
        yield f"{i:040x}", title, body, at


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(n: int, out=sys.stdout) -> dict[str, float]:
    from events.cluster import EventIndex
    from events.group import Grouped, group
    from zwgk.document import Document

    index = EventIndex()
    events: set[str] = set()
    joined = 0
    cpu_window: deque[float] = deque(maxlen=LAST)
    wall = time.perf_counter()
    result: dict[str, float] = {}
    print(f"{'docs':>9} {'CPU ms/doc (last 10k)':>22} {'events':>9} {'joined':>9} {'window':>7} {'peak RSS MB':>12}",
          file=out)
    for k, (doc_id, title, body, at) in enumerate(generate(n), 1):
        doc = Document(url=f"http://bench.example/{doc_id}", site_id=SOURCES[k % len(SOURCES)], title=title,
                       body=body, published_at=at.isoformat(), source_type="news")
        c = time.process_time()
        grouped: Grouped = next(group(index, [doc]))  # what the events step does for one arriving document
        cpu_window.append(time.process_time() - c)
        events.add(grouped.event_id)
        joined += grouped.event_id != f"ev-{doc.id[:24]}"
        if k % CHECKPOINT == 0 or k == n:
            ms = 1000 * sum(cpu_window) / len(cpu_window)
            result = {"docs": k, "cpu_ms_per_doc": ms, "events": len(events), "joined": joined,
                      "window": len(index), "peak_rss_mb": peak_rss_mb(), "wall_s": time.perf_counter() - wall}
            print(f"{k:>9} {ms:>22.3f} {len(events):>9} {joined:>9} {len(index):>7} {peak_rss_mb():>12.0f}",
                  file=out, flush=True)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_events", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=100_000, help="documents to generate and group (default 100000)")
    args = parser.parse_args(argv)
    print(f"bench_events: {args.docs} generated news documents, load average {os.getloadavg()[0]:.1f}")
    res = run(args.docs)
    print(f"done: {res['docs']} documents in {res['events']} events ({res['joined']} joined one), "
          f"{res['cpu_ms_per_doc']:.3f} ms CPU per new document over the last {LAST}, window {res['window']} "
          f"documents, peak RSS {res['peak_rss_mb']:.0f} MB, {res['wall_s']:.0f} s wall, "
          f"load average {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
