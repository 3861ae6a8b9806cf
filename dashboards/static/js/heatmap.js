// 更新热力图: site × week update counts (GET /api/freshness/heatmap); a cell opens that site's column
// snapshots of the week (GET /api/freshness/snapshots)
"use strict";
(() => {
  const { h, api, replace, table, link, showError, chart, esc, badge } = Z;
  const form = document.getElementById("heatmap-form");

  function load() {
    return Z.loadInto("/api/freshness/heatmap", { as_of: document.getElementById("as_of").value }, render);
  }

  function level(n, max) {
    if (!n) return 0;
    return Math.min(4, 1 + Math.floor((3 * n) / Math.max(max, 1)));
  }

  function render(d) {
    const max = Math.max(1, ...d.cells.map((c) => c[2]));
    const c = chart("heatmap-chart", {
      grid: { left: 8, right: 16, top: 8, bottom: 56, containLabel: true },
      tooltip: { formatter: (p) => esc(d.sites[p.value[1]].site_id) + "<br>" + esc(d.weeks[p.value[0]].label) + "：" + esc(p.value[2]) + " 条更新" },
      xAxis: { type: "category", data: d.weeks.map((w) => w.label), splitArea: { show: true } },
      yAxis: { type: "category", data: d.sites.map((s) => s.site_id), splitArea: { show: true } },
      visualMap: { min: 0, max, calculable: true, orient: "horizontal", left: "center", bottom: 0, inRange: { color: ["#f7f9fb", "#f8b4b4", "#9b1c1c"] } },
      series: [{ type: "heatmap", data: d.cells.map((x) => [x[1], x[0], x[2]]), label: { show: d.sites.length <= 40 } }],
    });
    const box = document.getElementById("heatmap-chart");
    box.style.height = Math.max(320, 60 + 26 * d.sites.length) + "px";
    if (c) {
      c.resize();
      c.off("click");
      c.on("click", (p) => openCell(d.sites[p.value[1]].site_id, d.weeks[p.value[0]]));
    }
    const counts = new Map(d.cells.map((x) => [x[0] + ":" + x[1], x[2]]));
    const head = h("tr", {}, h("th", {}, "网站"), h("th", {}, "机构"), d.weeks.map((w) => h("th", { class: "num" }, w.label.slice(5))));
    const rows = d.sites.map((s, i) => h("tr", {},
      h("td", {}, s.site_id, " ", badge(s.status === "pass" ? "达标" : "未达标", s.status === "pass" ? "ok" : "bad")),
      h("td", {}, s.agency || ""),
      d.weeks.map((w, j) => {
        const n = counts.get(i + ":" + j) || 0;
        return h("td", { class: "h" + level(n, max) },
          h("button", { type: "button", title: `${s.site_id} ${w.label}`, "data-site": s.site_id, "data-week": w.label,
                        onclick: () => openCell(s.site_id, w) }, String(n)));
      })));
    replace("heatmap-table", d.sites.length ? h("table", { class: "heat" }, h("thead", {}, head), h("tbody", {}, rows))
                                            : h("p", { class: "muted" }, "暂无网站数据"));
    const wanted = new URLSearchParams(location.search);
    if (wanted.get("site") && wanted.get("week")) openCell(wanted.get("site"), { label: wanted.get("week") });
  }

  async function openCell(site, week) {
    const card = document.getElementById("snapshots-card");
    card.hidden = false;
    replace("snapshots-title", `栏目快照：${site} · ${week.label}`);
    try {
      const d = await api("/api/freshness/snapshots", { site_id: site, week: week.label });
      replace("snapshots", table([
        { label: "抓取时间", render: (r) => (r.crawled_at || "").replace("T", " ").slice(0, 16) },
        { label: "栏目", render: (r) => link(r.column, r.list_url) },
        { label: "类型", key: "column_type" },
        { label: "状态", render: (r) => r.error ? badge(r.error, "bad") : badge(String(r.http_status || ""), "ok") },
        { label: "条目", key: "item_count", num: true },
        { label: "最新日期", key: "newest_date" },
        { label: "本周条目", render: (r) => h("ul", {}, (r.items || []).map((it) => h("li", {}, it.list_date ? it.list_date + " " : "", link(it.title, it.url)))) },
      ], d.snapshots, "这一周没有该网站的快照"));
      card.scrollIntoView({ block: "nearest" });
    } catch (err) {
      showError(err);
    }
  }

  Z.formFromUrl(form);
  form.addEventListener("submit", (e) => { e.preventDefault(); Z.urlFromValues(Z.formValues(form)); load(); });
  load();
})();
