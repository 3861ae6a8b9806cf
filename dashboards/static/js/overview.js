// 总览: this week's compliance at a glance, from GET /api/overview
"use strict";
(() => {
  const { h, replace, table, kpi, pct, link, chart, esc, badge } = Z;
  const form = document.getElementById("asof-form");
  const STATUS = { sent: "已发送", pending: "待发送", failed: "发送失败" };

  function load() {
    return Z.loadInto("/api/overview", { as_of: document.getElementById("as_of").value }, render);
  }

  function render(d) {
    const f = d.freshness, t = d.timeliness;
    replace("week", `评估周 ${d.week.label}（${d.week.start} 至 ${d.week.end}）`);
    const weeklyShare = f.sites_total ? f.sites_meeting_weekly / f.sites_total : null;
    replace("kpis",
      kpi("按周更新达标网站", `${f.sites_meeting_weekly} / ${f.sites_total}`, pct(weeklyShare), tone(weeklyShare)),
      kpi("未更新网站", String(f.stale_sites.length), "本周没有新内容", f.stale_sites.length ? "bad" : "ok"),
      kpi("长期未更新栏目", String(f.stale_columns.length), "超过规定期限", f.stale_columns.length ? "warn" : "ok"),
      kpi("时效达标率", pct(t.compliance), `按时 ${t.on_time}，逾期 ${t.overdue}，待办 ${t.pending}`, tone(t.compliance)),
      kpi("本周新文件", String(d.documents.this_week), `库内共 ${d.documents.total} 篇`),
      kpi("新告警", String(d.alerts.count), "本周产生", d.alerts.count ? "warn" : "ok"),
    );
    replace("stale-sites", table([
      { label: "网站", render: (r) => h("a", { href: "/heatmap?site=" + encodeURIComponent(r.site_id) }, r.site_id) },
      { label: "机构", render: (r) => r.agency ? h("a", { href: "/agencies?agency=" + encodeURIComponent(r.agency) }, r.agency) : "" },
      { label: "本周更新", key: "updates_in_week", num: true },
      { label: "最近更新", render: (r) => r.last_update_url ? link(r.last_update || "链接", r.last_update_url) : (r.last_update || "无") },
      { label: "未达标规则", render: (r) => h("span", { class: "rule-label", title: r.failing_rules || "" }, r.failing_rules_label || "") },
    ], f.stale_sites, "所有网站本周均有更新"));
    replace("stale-columns", table([
      { label: "网站", key: "site_id" },
      { label: "栏目", render: (r) => r.list_url ? link(r.column, r.list_url) : r.column },
      { label: "类型", key: "column_type" },
      { label: "最近更新", render: (r) => r.last_update_url ? link(r.last_update || "—", r.last_update_url) : (r.last_update || "无") },
      { label: "天数", key: "age_days", num: true },
    ], f.stale_columns, "没有超期未更新的栏目"));
    const topics = d.topics.filter((x) => x.level === 1 || d.topics.length <= 20);
    chart("topic-chart", {
      grid: { left: 8, right: 24, top: 8, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis", formatter: (ps) => esc(ps[0].name) + "：" + esc(ps[0].value) + " 篇" },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", inverse: true, data: topics.map((x) => x.id + " " + x.title.slice(0, 14)) },
      series: [{ type: "bar", data: topics.map((x) => x.count), itemStyle: { color: "#c8102e" } }],
    });
    replace("new-alerts", table([
      { label: "时间", render: (r) => Z.day(r.created_at) },
      { label: "周", key: "week" },
      { label: "状态", render: (r) => badge(STATUS[r.status] || r.status || "", r.status === "sent" ? "ok" : r.status === "failed" ? "bad" : "warn") },
      { label: "标题", render: (r) => h("a", { href: "/alerts" }, r.subject || r.key) },
    ], d.alerts.items, "本周没有新告警"));
  }

  function tone(x) { return x === null || x === undefined ? null : x >= 0.9 ? "ok" : x >= 0.6 ? "warn" : "bad"; }

  Z.formFromUrl(form);
  form.addEventListener("submit", (e) => { e.preventDefault(); Z.urlFromValues(Z.formValues(form)); load(); });
  load();
})();
