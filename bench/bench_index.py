"""Bulk indexing speed: our index_documents (normalise + jieba + doc-as-upsert + dead-letter bookkeeping)
next to plain `helpers.bulk` of the same synthetic Chinese documents.

    python -m bench.bench_index [--docs 5000] [--url URL]

Uses ES_URL or the project's node; writes into a throw-away prefix `zwgk-bench-index-<id>` and deletes it.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
import uuid
from collections.abc import Iterator

AGENCIES = [
    ("sthjj", "北京市生态环境局"), ("scjgj", "北京市市场监督管理局"), ("wjw", "北京市卫生健康委员会"),
    ("jw", "北京市教育委员会"), ("yjglj", "北京市应急管理局"), ("fgw", "北京市发展和改革委员会"),
    ("jxj", "北京市经济和信息化局"), ("zjw", "北京市住房和城乡建设委员会"), ("jtw", "北京市交通委员会"),
    ("mzj", "北京市民政局"), ("rsj", "北京市人力资源和社会保障局"), ("czj", "北京市财政局"),
]  # fmt: skip
COLUMNS = [("通知公告", "通知公告", "notice"), ("政策文件", "政策文件", "policy"), ("政策解读", "政策解读", "interpretation"),
           ("工作动态", "动态要闻", "news"), ("新闻发布会", "新闻发布", "press_conference"), ("行政处罚", "通知公告", "penalty_notice")]  # fmt: skip
TERMS = (
    "政务公开 信息公开 权力清单 责任清单 行政许可 行政处罚 大气污染防治 水污染防治 重污染天气 应急预案 食品安全 药品监管 "
    "安全生产 义务教育 招生入学 医疗卫生 公共卫生 疫情防控 住房保障 棚户区改造 交通拥堵 轨道交通 城市副中心 京津冀协同发展 "
    "营商环境 简政放权 放管服 双随机一公开 财政预算 决算公开 政府采购 社会救助 养老服务 就业创业 社会保险 最低工资 "
    "新闻发布会 政策解读 在线访谈 互动回应 舆情 民生实事 督查 绩效考核 标准化 规范化 数据开放 政府网站 人大建议 政协提案"
).split()
VERBS = "关于 进一步 加强 推进 做好 深化 开展 落实 规范 印发 公布 发布".split()
ENDINGS = ["的通知", "的公告", "的意见", "工作方案", "情况的通报", "政策解读", "实施细则", "的决定"]
FILLER = (
    "各区人民政府，市政府各委、办、局：为深入贯彻落实国家有关部署，切实提高工作水平，现就有关事项通知如下。"
    "一、提高认识，加强组织领导。二、明确责任，狠抓工作落实。三、强化监督，确保取得实效。各单位要按照职责分工，"
    "认真组织实施，及时报送工作进展情况。本通知自发布之日起施行。"
)


def synthetic_documents(n: int, seed: int = 2016) -> Iterator:
    """n realistic-looking agency documents (titles and bodies from government vocabulary), reproducible."""
    from zwgk.document import Document, TopicScore

    rng = random.Random(seed)
    for i in range(n):
        site_id, agency = rng.choice(AGENCIES)
        column, column_type, kind = rng.choice(COLUMNS)
        words = rng.sample(TERMS, 3)
        title = f"{rng.choice(VERBS)}{words[0]}{rng.choice(['和', '与', ''])}{words[1]}{rng.choice(ENDINGS)}"
        sentences = []
        for _ in range(rng.randint(4, 12)):
            a, b = rng.sample(TERMS, 2)
            sentences.append(f"{rng.choice(VERBS)}{a}工作，{rng.choice(['全面', '持续', '扎实'])}推动{b}。")
        body = (
            "".join(sentences[:2])
            + FILLER[: rng.randint(40, len(FILLER))]
            + "".join(sentences[2:])
            + words[2]
        )
        day = rng.randint(0, 3650)
        year, doy = 2016 + day // 365, day % 365
        month, mday = doy // 31 + 1, doy % 28 + 1
        yield Document(
            url=f"http://{site_id}.beijing.gov.cn/zwgk/{column_type}/{i}.html",
            site_id=site_id, agency=agency, column=column, column_type=column_type, kind=kind,
            title=title, body=body,
            published_at=f"{year}-{month:02d}-{mday:02d}T{rng.randint(8, 18):02d}:00:00+08:00",
            date_source="meta", fetched_at="2026-11-01T12:00:00+08:00",
            topics=[TopicScore(f"{rng.randint(1, 6)}.{rng.randint(1, 5)}", round(rng.random(), 3))],
        )  # fmt: skip


def _rate(n: int, seconds: float) -> str:
    return f"{n / seconds:>10,.0f}" if seconds > 0 else "-"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench_index", description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=5000, help="synthetic documents (default 5000)")
    parser.add_argument("--url", help="Elasticsearch URL (default ES_URL or the project's node)")
    args = parser.parse_args(argv)

    from elasticsearch import helpers

    from index import schema, store
    from zwgk import text
    from zwgk.es import get_client

    client = get_client(args.url, request_timeout=120)
    prefix = f"zwgk-bench-index-{uuid.uuid4().hex[:6]}"
    os.environ["ZWGK_INDEX_PREFIX"] = prefix
    docs = list(synthetic_documents(args.docs))
    chars = sum(len(d.title) + len(d.body) for d in docs)
    text.segment("预热 jieba")  # load the dictionary outside the timings
    rows = []
    try:
        schema.ensure_indices(client)
        index = schema.alias("documents")

        t = time.perf_counter()
        plain = [{"_index": index, "_id": d.id, "_source": d.to_dict()} for d in docs]
        helpers.bulk(client, plain, chunk_size=store.CHUNK_SIZE, refresh=True)
        rows.append(("helpers.bulk, Document.to_dict() only", time.perf_counter() - t))
        schema.drop_indices(client)
        schema.ensure_indices(client)

        t = time.perf_counter()
        enriched = [store.enrich(d) for d in docs]
        enrich_s = time.perf_counter() - t
        rows.append(("enrich only (normalise + jieba), no ES", enrich_s))

        t = time.perf_counter()
        helpers.bulk(client, ({"_index": index, "_id": s["id"], "_source": s} for s in enriched),
                     chunk_size=store.CHUNK_SIZE, refresh=True)  # fmt: skip
        rows.append(("helpers.bulk, pre-enriched sources", time.perf_counter() - t))
        schema.drop_indices(client)
        schema.ensure_indices(client)

        t = time.perf_counter()
        report = store.index_documents(client, docs, refresh=True)
        rows.append(("index_documents (enrich + upsert), new", time.perf_counter() - t))
        t = time.perf_counter()
        again = store.index_documents(client, docs, refresh=True)
        rows.append(("index_documents, re-run (all updates)", time.perf_counter() - t))
        assert report.failed == 0 and again.failed == 0, report.reasons
        assert client.count(index=index)["count"] == len(docs)
    finally:
        schema.drop_indices(client)

    print(f"bulk indexing: {len(docs):,} synthetic documents, {chars / len(docs):.0f} chars each")
    print(f"{'path':<42} {'seconds':>8} {'docs/s':>10}")
    print("-" * 62)
    for name, seconds in rows:
        print(f"{name:<42} {seconds:>8.2f} {_rate(len(docs), seconds)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
