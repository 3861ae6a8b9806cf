// 时效: lag distributions per duty and the overdue list (GET /api/timeliness)
"use strict";
(() => {
  const { h, replace, table, kpi, pct, link, chart, esc, badge } = Z;
  const form = document.getElementById("asof-form");
  const SHOWN = 100;

  function load() {
    return Z.loadInto("/api/timeliness", { as_of: document.getElementById("as_of").value }, render);
  }

  function render(d) {
    const s = d.summary;
    replace("kpis",
      kpi("时效达标率", pct(s.compliance), `共 ${s.total} 项`, s.compliance === null ? null : s.compliance >= 0.9 ? "ok" : "bad"),
      kpi("按时", String(s.on_time), "", "ok"),
      kpi("逾期完成", String(s.late), "", s.late ? "warn" : "ok"),
      kpi("逾期未办", String(s.overdue), "", s.overdue ? "bad" : "ok"),
      kpi("期限内待办", String(s.pending)),
    );
    // one stacked bar per duty: how many items took 0, 1, 2, … working days (or hours)
    const charted = d.duties.filter((x) => x.histogram.length);
    const buckets = [...new Set(charted.flatMap((x) => x.histogram.map((b) => b.bucket)))];
    chart("lag-chart", {
      grid: { left: 8, right: 16, top: 40, bottom: 8, containLabel: true },
      legend: { top: 0, data: charted.map((x) => x.label) },
      tooltip: { trigger: "axis", formatter: (ps) => esc("时滞 " + ps[0].name) + "<br>" + ps.map((p) => esc(p.seriesName) + "：" + esc(p.value)).join("<br>") },
      xAxis: { type: "category", name: "时滞", data: buckets },
      yAxis: { type: "value", name: "事项数", minInterval: 1 },
      series: charted.map((x) => {
        const m = new Map(x.histogram.map((b) => [b.bucket, b.count]));
        return { type: "bar", name: x.label, data: buckets.map((b) => m.get(b) || 0) };
      }),
    });
    replace("lag-table", table([
      { label: "职责", key: "label" },
      { label: "事项", key: "count", num: true },
      { label: "期限", key: "limit_label" },
      { label: "中位时滞", key: "p50", num: true },
      { label: "90% 分位", key: "p90", num: true },
      { label: "最长", key: "max", num: true },
      { label: "达标率", render: (r) => pct(r.compliance), num: true },
    ], d.duties, "没有时效事项"));
    replace("overdue", table([
      { label: "职责", render: (r) => h("span", { class: "rule-label", title: r.rule }, r.rule_label || r.duty_label) },
      { label: "机构", render: (r) => r.agency ? h("a", { href: "/agencies?agency=" + encodeURIComponent(r.agency) }, r.agency) : "" },
      { label: "事项", render: (r) => r.url ? link(r.title || r.url, r.url) : (r.title || "") },
      { label: "起算", render: (r) => Z.day(r.start) },
      { label: "期限", render: (r) => Z.day(r.due) },
      { label: "已过", render: (r) => r.lag === null || r.lag === undefined ? "" : r.lag + " " + (r.unit_label || ""), num: true },
      { label: "状态", render: (r) => badge(r.status_label || r.status, r.status === "late" ? "warn" : "bad") },
      { label: "证据", render: (r) => h("span", {}, (r.evidence || []).map((u, i) => [i ? " " : "", link("[" + (i + 1) + "]", u)])) },
    ], d.overdue.slice(0, SHOWN), "没有逾期事项"),
      d.overdue.length > SHOWN ? h("p", { class: "muted" }, `仅显示前 ${SHOWN} 项，共 ${d.overdue.length} 项`) : null);
  }

  Z.formFromUrl(form);
  form.addEventListener("submit", (e) => { e.preventDefault(); Z.urlFromValues(Z.formValues(form)); load(); });
  load();
})();
