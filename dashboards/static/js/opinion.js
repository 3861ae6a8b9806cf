// 舆情: hot events (GET /api/opinion/hot) with a timeline chart, an event's documents (GET /api/opinion/events/{id}),
// an agency's negative-news share per day with its spike alerts (GET /api/opinion/trend). Every crawled string
// goes into the DOM as text (Z.h) and into ECharts tooltips escaped (Z.esc).
"use strict";
(() => {
  const { h, api, replace, table, link, showError, badge, chart, esc } = Z;
  const form = document.getElementById("opinion-form");
  const TONE = { negative: ["负面", "bad"], neutral: ["中性", ""], positive: ["正面", "ok"] };
  const TIMELINE_EVENTS = 8; // events drawn on the hot list's timeline

  function toneBadge(s) {
    const [label, cls] = TONE[s] || ["—", ""];
    return badge(label, cls);
  }
  function time(s) { return s ? String(s).replace("T", " ").slice(0, 16) : ""; }
  function days(from, to) {
    const out = [];
    for (let d = new Date(from + "T00:00:00Z"); d <= new Date(to + "T00:00:00Z"); d.setUTCDate(d.getUTCDate() + 1)) {
      out.push(d.toISOString().slice(0, 10));
    }
    return out;
  }
  function short(s, n) { s = String(s || ""); return s.length > n ? s.slice(0, n) + "…" : s; }

  // the hot list and its timeline: documents per day of each top event over the period (+ the days before it)
  function renderHot(d) {
    const events = d.events || [];
    const last = d.as_of;
    const first = new Date(last + "T00:00:00Z");
    first.setUTCDate(first.getUTCDate() - (d.period === "week" ? 6 : 2));
    const axis = days(first.toISOString().slice(0, 10), last);
    const top = events.slice(0, TIMELINE_EVENTS);
    chart("hot-chart", {
      tooltip: { trigger: "axis", formatter: (ps) => esc(ps[0].axisValue) + "<br>" +
        ps.map((p) => esc(short(top[p.seriesIndex].title, 24)) + "：" + esc(p.value)).join("<br>") },
      legend: { type: "scroll", bottom: 0, formatter: (name) => short(top[Number(name)].title, 14) },
      grid: { left: 40, right: 20, top: 20, bottom: 50 },
      xAxis: { type: "category", data: axis },
      yAxis: { type: "value", minInterval: 1, name: "报道数" },
      series: top.map((e, i) => ({ name: String(i), type: "line", smooth: false,
        data: axis.map((day) => (e.daily_counts || {})[day] || 0) })),
    });
    replace("hot", table([
      { label: "#", render: (e) => String(events.indexOf(e) + 1), num: true },
      { label: "事件", render: (e) => h("button", { type: "button", class: "linklike", "data-event": e.event_id,
          onclick: () => openEvent(e.event_id) }, e.title || e.event_id) },
      { label: "热度", key: "source_count", num: true },
      { label: "增长(24h)", key: "growth_24h", num: true },
      { label: "报道", key: "doc_count", num: true },
      { label: "首发", render: (e) => h("span", {}, link(e.first_source || "", e.first_url), " ", h("span", { class: "muted" }, time(e.first_published_at))) },
      { label: "来源", render: (e) => (e.sources || []).join("、") },
      { label: "倾向", render: (e) => toneBadge(e.sentiment) },
      { label: "涉及机构", render: (e) => (e.agencies || []).join("、") },
    ], events, "这一时段没有事件"));
  }

  async function openEvent(id) {
    const card = document.getElementById("event-card");
    const d = await api("/api/opinion/events/" + encodeURIComponent(id));
    card.hidden = false;
    card.dataset.event = d.event_id;
    replace("event-title", d.title || d.event_id);
    replace("event-summary",
      h("span", {}, "首发：", link(d.first_source || "", d.first_url), " ", time(d.first_published_at)),
      h("span", {}, `最近：${time(d.last_published_at)}`),
      h("span", {}, `来源 ${d.source_count || 0} 个，报道 ${d.doc_count || 0} 篇，负面 ${d.negative_count || 0} 篇`),
      toneBadge(d.sentiment));
    const counts = d.daily_counts || {};
    const keys = Object.keys(counts).sort();
    const axis = keys.length ? days(keys[0], keys[keys.length - 1]) : [];
    chart("event-chart", {
      tooltip: { trigger: "axis", formatter: (ps) => esc(ps[0].axisValue) + "：" + esc(ps[0].value) + " 篇" },
      grid: { left: 40, right: 20, top: 20, bottom: 30 },
      xAxis: { type: "category", data: axis },
      yAxis: { type: "value", minInterval: 1 },
      series: [{ type: "bar", data: axis.map((day) => counts[day] || 0) }],
    });
    const docs = d.documents || [];
    const bySource = {};
    for (const doc of docs) {
      const s = doc.site_id || "未知";
      bySource[s] = bySource[s] || { source: s, count: 0, first: doc.published_at };
      bySource[s].count++;
    }
    replace("event-sources", table([
      { label: "来源", key: "source" },
      { label: "报道", key: "count", num: true },
      { label: "最早", render: (r) => time(r.first) },
    ], Object.values(bySource).sort((a, b) => b.count - a.count), "无"));
    replace("event-docs", table([
      { label: "时间", render: (r) => time(r.published_at) },
      { label: "来源", key: "site_id" },
      { label: "标题", render: (r) => link(r.title || r.url, r.url) },
      { label: "倾向", render: (r) => typeof r.sentiment === "string" ? toneBadge(r.sentiment) : "" },
    ], docs, "没有报道"));
    const v = Z.formValues(form);
    v.event = d.event_id;
    Z.urlFromValues(v);
    card.scrollIntoView({ block: "start" });
  }

  // the negative share per day of one agency, spike days marked
  function renderTrend(d) {
    const sel = document.getElementById("trend-agency");
    replace(sel, (d.agencies || []).map((a) => h("option", { value: a.agency, selected: a.agency === d.agency },
      `${a.agency}（负面 ${a.negative} / ${a.news}）`)));
    sel.dataset.agency = d.agency || "";
    replace("trend-summary", d.agency ? `${d.agency}：近 ${d.days.length} 天新闻 ${d.news} 篇，负面 ${d.negative} 篇` : "没有新闻");
    const rows = d.days || [];
    const spikeDays = new Set(rows.filter((r) => r.spike).map((r) => r.day));
    chart("trend-chart", {
      tooltip: { trigger: "axis", formatter: (ps) => {
        const r = rows[ps[0].dataIndex];
        return esc(r.day) + "<br>负面 " + esc(r.negative) + " / " + esc(r.news) + " 篇" +
          (r.share === null ? "" : "（" + esc((r.share * 100).toFixed(0)) + "%）") + (spikeDays.has(r.day) ? "<br>负面突增" : "");
      } },
      legend: { bottom: 0 },
      grid: { left: 50, right: 50, top: 20, bottom: 50 },
      xAxis: { type: "category", data: rows.map((r) => r.day) },
      yAxis: [{ type: "value", name: "负面占比", min: 0, max: 1, axisLabel: { formatter: (x) => (x * 100).toFixed(0) + "%" } },
              { type: "value", name: "篇", minInterval: 1 }],
      series: [
        { name: "负面占比", type: "line", data: rows.map((r) => r.share), connectNulls: false,
          markPoint: { symbol: "pin", data: rows.filter((r) => spikeDays.has(r.day))
            .map((r) => ({ name: "突增", coord: [r.day, r.share === null ? 0 : r.share], value: r.negative })) } },
        { name: "负面报道", type: "bar", yAxisIndex: 1, data: rows.map((r) => r.negative), itemStyle: { color: "#e53e3e" } },
        { name: "全部新闻", type: "bar", yAxisIndex: 1, data: rows.map((r) => r.news), itemStyle: { color: "#cbd5e0" } },
      ],
    });
    replace("spikes", table([
      { label: "突增日期", key: "day" },
      { label: "机构", key: "agency" },
      { label: "负面报道", key: "count", num: true },
      { label: "此前28天中位数", key: "median", num: true },
      { label: "稳健 z 值", key: "z", num: true },
    ], d.spikes || [], "这一时段没有负面突增"));
  }

  async function load() {
    showError(null);
    const v = Z.formValues(form);
    const event = new URLSearchParams(location.search).get("event"); // a link from 检索 or a reload keeps the event open
    Z.urlFromValues(event ? Object.assign({ event }, v) : v);
    const trendAgency = document.getElementById("trend-agency").dataset.chosen || "";
    try {
      const [hot, trend] = await Promise.all([
        api("/api/opinion/hot", v),
        api("/api/opinion/trend", { as_of: v.as_of, agency: trendAgency }),
      ]);
      renderHot(hot);
      renderTrend(trend);
      if (event) await openEvent(event);
    } catch (err) {
      showError(err);
    }
    Z.pageLoaded();
  }

  document.getElementById("trend-agency").addEventListener("change", async (e) => {
    e.target.dataset.chosen = e.target.value;
    showError(null);
    try {
      renderTrend(await api("/api/opinion/trend", { as_of: Z.formValues(form).as_of, agency: e.target.value }));
    } catch (err) {
      showError(err);
    }
  });
  form.addEventListener("submit", (e) => { e.preventDefault(); load(); });
  Z.formFromUrl(form);
  load();
})();
