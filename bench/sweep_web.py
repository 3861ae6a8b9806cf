"""A generated nation-sized agency web for the sweep bench (issue 18): N sites × C columns of static list
pages written to disk and served by Debian's nginx on loopback addresses only.

Each site gets its own address (127.1.a.b, all of 127.0.0.0/8 is loopback on Linux), so the crawler's
per-domain politeness (slots, AutoThrottle) applies per site as it would across real domains; nginx
serves the files with ETag/Last-Modified and answers conditional requests with 304 for free, like the
static publishing of the TRS/Hanweb sites the registry holds. Nothing listens on a public address.

A web is generated for one day: every column's list page shows its recent items (old ones, which the
bench marks as already crawled), and about 1 in `new_every` columns carries one new article that day.
`add_day` publishes the next day's new articles the same way, rewriting only those columns' list pages.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from html import escape
from pathlib import Path

import yaml

COLUMN_SET = [  # (name, column type): a county/district bureau's usual columns
    ("工作动态", "动态要闻"), ("通知公告", "通知公告"), ("政策文件", "政策文件"), ("政策解读", "政策解读"),
    ("新闻发布", "新闻发布"), ("互动回应", "互动回应"), ("行政处罚", "其他"), ("财政资金", "其他"),
    ("规划计划", "其他"), ("人事信息", "通知公告"), ("统计信息", "其他"), ("重点领域", "其他"),
    ("建议提案办理", "其他"), ("政府信息公开年报", "其他"), ("机构职能", "其他"), ("法定主动公开内容", "政策文件"),
    ("公共服务", "其他"), ("应急管理", "通知公告"), ("招标采购", "通知公告"), ("图片新闻", "动态要闻"),
]
AGENCIES = ["北京市生态环境局", "北京市市场监督管理局", "北京市民政局", "北京市财政局", "北京市人民政府办公厅",
            "北京市发展和改革委员会", "北京市教育委员会", "北京市卫生健康委员会"]
SUBJECTS = ["空气质量", "供暖保障", "食品安全", "养老服务", "营商环境", "交通治理", "水务管理", "政务公开",
            "社会救助", "预算公开", "安全生产", "垃圾分类", "义务教育", "医疗保障", "就业创业", "住房保障"]
FORMS = ["关于做好{s}工作的通知", "{s}专项行动情况通报", "关于印发{s}实施方案的通知", "《{s}管理办法》政策解读",
         "{s}新闻发布会召开", "关于{s}有关问题的答复", "{s}工作取得阶段性成效", "关于公开征求{s}意见的公告"]
# An article's story is its own: a lead naming its district, day and figures, then a few of these sentences
# in its own order. A shared template body would make every article one story, and the events step would
# compare each new article with all the others (one event of 5,000 members), which no real web does.
SENTENCES = [
    "各单位要加强组织领导，明确责任分工，细化工作措施，确保各项任务按时保质完成。",
    "会议听取了{s}工作进展情况汇报，研究部署下一阶段重点任务。",
    "截至目前，已累计检查点位{n}个，发现问题{m}项，已整改{k}项。",
    "下一步，将持续加大{s}投入力度，完善长效机制，回应群众关切。",
    "全年共安排资金{n}万元，惠及群众{m}人次。",
    "对工作推进不力的单位进行通报，并纳入年度绩效考核。",
    "现面向社会公开征求意见，征求意见截止时间为{d}。",
    "本办法自{d}起施行，有效期{k}年。",
    "发布会上，相关负责人介绍了{s}有关情况，并回答了记者提问。",
    "经查，当事人违反相关规定，依法给予警告并处罚款{n}元。",
    "活动现场发放宣传材料{n}余份，解答群众咨询{m}人次。",
    "专项行动期间，共出动执法人员{n}人次，立案查处{k}起。",
    "各街道乡镇要建立工作台账，每月{k}日前报送进展情况。",
    "目前，全区{s}示范点已达{m}个，覆盖居民{n}户。",
    "联系人：{s}科，联系电话：010-{p}。",
    "此次调研共走访企业{m}家，收集意见建议{k}条。",
]
PLACES = ["东街", "西园", "南苑", "北湖", "新城", "河畔", "山前", "桥东", "滨河", "花园", "光明", "和平", "团结",
          "安定", "永兴", "长青"]
DAY_STORY_EVERY = 20  # about 1 new article in 20 reposts the day's city-wide story (what the events step groups)


def _story(site: int, day: date, rng: random.Random) -> tuple[str, str]:
    """A new article's (title, body): its own, or on about 1 in DAY_STORY_EVERY the day's shared story."""
    if rng.randrange(DAY_STORY_EVERY) == 0:
        return _day_story(day)
    title = _title(rng)
    s = rng.choice(SUBJECTS)
    lead = (f"{day.month}月{day.day}日，第{site}号区{rng.choice(PLACES)}街道召开{s}工作推进会，"
            f"{title}相关工作第{rng.randrange(2, 40)}次调度，{rng.randrange(3, 90)}家单位参加。")
    picks = rng.sample(SENTENCES, 4)
    return title, lead + "".join(t.format(s=rng.choice(SUBJECTS), n=rng.randrange(10, 9000), m=rng.randrange(5, 900),
                                   k=rng.randrange(1, 30), d=f"{day.year}年{rng.randrange(1, 13)}月{rng.randrange(1, 29)}日",
                                   p=rng.randrange(10**7, 10**8)) for t in picks)


def _day_story(day: date) -> tuple[str, str]:
    """The city-wide story of `day` (title, body) that sites repost word for word."""
    rng = random.Random(f"day-story/{day}")
    s = rng.choice(SUBJECTS)
    return f"全市{s}工作情况新闻发布会召开", (f"{day.month}月{day.day}日，市政府召开{s}专题新闻发布会，通报全市{s}工作情况。"
            f"全市已完成{s}重点任务{rng.randrange(10, 99)}项，投入资金{rng.randrange(100, 9999)}万元，"
            f"惠及群众{rng.randrange(1000, 99999)}人次。下一步将完善长效机制，回应群众关切。")


@dataclass(frozen=True)
class SweepWeb:
    """Where a generated web lives and its shape."""

    root: Path  # <root>/<address>/<column>/index.html, articles beside them
    sites: int
    columns: int
    items_per_list: int
    port: int

    def address(self, site: int) -> str:
        return site_address(site)

    def base_url(self, site: int) -> str:
        return f"http://{site_address(site)}:{self.port}/"

    def registry(self) -> dict:
        """The site registry (crawlers/sites format) of the whole web."""
        sites = []
        for i in range(self.sites):
            sites.append({
                "id": f"s{i:05d}", "agency": AGENCIES[i % len(AGENCIES)], "name": f"第{i}号政务网站",
                "base_url": self.base_url(i), "home": "index.html",
                "columns": [{"name": name, "type": ctype, "list_urls": [f"c{j:02d}/index.html"]}
                            for j, (name, ctype) in enumerate(COLUMN_SET[:self.columns])],
            })
        return {"sites": sites}

    def write_registry(self, path: Path) -> Path:
        path.write_text(yaml.safe_dump(self.registry(), allow_unicode=True, sort_keys=False), encoding="utf-8")
        return path


def site_address(site: int) -> str:
    """The loopback address of site number `site` (up to 250 × 250 sites)."""
    return f"127.1.{site // 250}.{site % 250 + 1}"


def _title(rng: random.Random) -> str:
    return rng.choice(FORMS).format(s=rng.choice(SUBJECTS))


def _page(site: int, title: str, main: str, columns: int) -> str:
    nav = "".join(f'<li><a href="/c{j:02d}/index.html">{name}</a></li>' for j, (name, _) in enumerate(COLUMN_SET[:columns]))
    return (f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="SiteName" content="第{site}号政务网站">'
            f'<title>{escape(title)}_第{site}号政务网站</title><link rel="stylesheet" href="/css/style.css"></head><body>'
            f'<div class="header"><a href="/index.html">第{site}号政务网站</a><form action="/search/"><input name="q"></form></div>'
            f'<div class="nav"><ul><li><a href="/index.html">首页</a></li>{nav}</ul></div>{main}'
            f'<div class="footer"><p><a href="/index.html">网站地图</a> | <a href="/index.html">联系我们</a></p>'
            f'<p>主办单位：第{site}号政务网站办公室 网站标识码：11{site:08d}</p><p>京ICP备{site:08d}号</p></div></body></html>')


def _list_page(site: int, column: int, columns: int, items: list[tuple[str, str, str]]) -> str:
    """A column's list page: items (path, title, ISO date) newest first."""
    name = COLUMN_SET[column][0]
    rows = "".join(f'<li><a href="{p}" target="_blank" title="{escape(t)}">{escape(t)}</a><span class="date">{d}</span></li>'
                   for p, t, d in items)
    main = (f'<div class="position">当前位置：<a href="/index.html">首页</a> &gt; {name}</div>'
            f'<div class="list-box"><h3>{name}</h3><ul class="list">{rows}</ul></div>')
    return _page(site, name, main, columns)


def _article(site: int, columns: int, title: str, body: str, day: date, rng: random.Random) -> str:
    when = f"{day.isoformat()} {9 + rng.randrange(8):02d}:{rng.randrange(60):02d}"
    main = (f'<meta name="ArticleTitle" content="{escape(title)}"><meta name="PubDate" content="{when}">'
            f'<div class="article"><h1>{escape(title)}</h1><div class="info"><span>发布时间：{when}</span>'
            f'<span>来源：第{site}号政务网站</span></div><div class="TRS_Editor"><p>{body}</p></div></div>')
    return _page(site, title, main, columns)


def _column_items(web: SweepWeb, site: int, column: int, day: date) -> list[tuple[str, str, str]]:
    """The old items a column shows on `day` (deterministic per site and column)."""
    rng = random.Random(site * 1000 + column)
    out = []
    for k in range(web.items_per_list):
        d = day - timedelta(days=3 + k * (1 + column % 5) + rng.randrange(3))
        out.append((f"/c{column:02d}/t{d:%Y%m%d}_{site:05d}{column:02d}{k:03d}.html", _title(rng), d.isoformat()))
    return out


def _has_new(site: int, column: int, day: date, new_every: int) -> bool:
    return random.Random(f"{site}/{column}/{day}").randrange(new_every) == 0


def generate(root: Path, sites: int, columns: int = 20, items_per_list: int = 12, port: int = 0,
             day: date = date(2026, 11, 25), new_every: int = 50) -> tuple[SweepWeb, list[tuple[str, str]]]:
    """Write the web for `day`; returns it and the (url, site id) of every old article, which the bench marks as
    crawled before (a sweep in steady state fetches list pages and only the day's new articles)."""
    if root.exists():
        shutil.rmtree(root)
    web = SweepWeb(root, sites, columns, items_per_list, port)
    old: list[tuple[str, str]] = []
    for i in range(sites):
        site_dir = root / site_address(i)
        home_links = []
        for j in range(columns):
            items = _column_items(web, i, j, day)
            old += [(web.base_url(i) + p.lstrip("/"), f"s{i:05d}") for p, _, _ in items]
            (site_dir / f"c{j:02d}").mkdir(parents=True)
            _write_list(web, i, j, items)
            home_links += items[:1]
        _write_home(web, i, home_links)
        for j in range(columns):
            if _has_new(i, j, day, new_every):
                publish(web, i, j, day)
    return web, old


def _write_list(web: SweepWeb, site: int, column: int, items: list[tuple[str, str, str]]) -> None:
    path = web.root / site_address(site) / f"c{column:02d}" / "index.html"
    path.write_text(_list_page(site, column, web.columns, items), encoding="utf-8")


def _write_home(web: SweepWeb, site: int, items: list[tuple[str, str, str]]) -> None:
    rows = "".join(f'<li><a href="{p}">{escape(t)}</a><span>{d}</span></li>' for p, t, d in items[:10])
    (web.root / site_address(site) / "index.html").write_text(
        _page(site, "首页", f'<div class="home"><ul class="list">{rows}</ul></div>', web.columns), encoding="utf-8")


def _read_items(web: SweepWeb, site: int, column: int) -> list[tuple[str, str, str]]:
    import re

    text = (web.root / site_address(site) / f"c{column:02d}" / "index.html").read_text(encoding="utf-8")
    from html import unescape

    return [(p, unescape(t), d) for p, t, d in
            re.findall(r'<li><a href="([^"]+)" target="_blank" title="([^"]*)">[^<]*</a><span class="date">([^<]+)</span>', text)]


def publish(web: SweepWeb, site: int, column: int, day: date) -> str:
    """One new article in a column on `day`: its page written, the list page rewritten with it on top."""
    rng = random.Random(f"new/{site}/{column}/{day}")
    title, body = _story(site, day, rng)
    path = f"/c{column:02d}/t{day:%Y%m%d}_{site:05d}{column:02d}n{rng.randrange(10**6):06d}.html"
    (web.root / site_address(site) / path.lstrip("/")).write_text(
        _article(site, web.columns, title, body, day, rng), encoding="utf-8")
    items = [(path, title, day.isoformat()), *_read_items(web, site, column)][:web.items_per_list]
    _write_list(web, site, column, items)
    return web.base_url(site) + path.lstrip("/")


def add_day(web: SweepWeb, day: date, new_every: int = 50) -> int:
    """Publish `day`'s new articles (about 1 column in new_every); returns how many. Other files are untouched,
    so their Last-Modified and ETag stay as they were."""
    count = 0
    for i in range(web.sites):
        for j in range(web.columns):
            if _has_new(i, j, day, new_every):
                publish(web, i, j, day)
                count += 1
    return count


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)


def _check_served(web: SweepWeb) -> None:
    """A home page must come back 200: nginx's workers run as an unprivileged user, and a web written under a
    private folder (tempfile's are 0700) would answer 404 to every request while the bench measured nothing."""
    import urllib.error
    import urllib.request

    url = web.base_url(0) + "index.html"
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            if resp.status == 200:
                return
            status = resp.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    raise RuntimeError(f"nginx answers {status} for {url}: can its workers read {web.root}? "
                       "(every folder above it needs o+x)")


@contextlib.contextmanager
def serve(web: SweepWeb, workdir: Path) -> Iterator[int]:
    """nginx serving the web, one listening socket per site address (loopback only); yields the master's pid;
    stopped on exit."""
    binary = nginx_binary()
    if not binary:
        raise RuntimeError("the sweep bench needs Debian's nginx (apt-get install nginx-light)")
    workdir.mkdir(parents=True, exist_ok=True)
    listens = " ".join(f"listen {site_address(i)}:{web.port};" for i in range(web.sites))
    conf = workdir / "nginx.conf"
    conf.write_text(f"""
worker_processes 1;
worker_rlimit_nofile {web.sites * 2 + 4096};
pid {workdir}/nginx.pid;
error_log {workdir}/error.log error;
events {{ worker_connections {web.sites + 4096}; }}
http {{
  access_log off;
  server_tokens off;
  default_type text/html;
  charset utf-8;
  keepalive_requests 100000;
  server {{
    {listens}
    root {web.root}/$server_addr;
    location / {{ try_files $uri =404; }}
  }}
}}
""", encoding="utf-8")
    proc = subprocess.Popen([binary, "-c", str(conf), "-p", str(workdir), "-g", "daemon off;"],
                            stderr=subprocess.PIPE, start_new_session=True)
    try:
        for _ in range(100):
            if proc.poll() is not None:
                raise RuntimeError(f"nginx exited: {proc.stderr.read().decode(errors='replace')[-500:]}")
            with contextlib.suppress(OSError):
                import socket

                socket.create_connection((site_address(web.sites - 1), web.port), timeout=0.5).close()
                break
            time.sleep(0.1)
        _check_served(web)
        yield proc.pid
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
