// 机构: an agency's scorecard (GET /api/agencies, /api/agencies/{name})
"use strict";
(() => {
  const { h, api, replace, table, kpi, pct, link, showError, badge } = Z;
  const form = document.getElementById("agency-form");
  const select = document.getElementById("agency-select");

  async function init() {
    try {
      const list = await api("/api/agencies");
      for (const a of list.items) {
        const extra = [a.sites ? a.sites + " 个网站" : "", a.documents ? a.documents + " 篇" : ""].filter(Boolean).join("，");
        select.appendChild(h("option", { value: a.name }, a.name + (extra ? "（" + extra + "）" : "")));
      }
    } catch (err) {
      showError(err);
    }
    Z.formFromUrl(form);
    if (select.value) await load(); else Z.pageLoaded();
  }

  function load() {
    return Z.loadInto("/api/agencies/" + encodeURIComponent(select.value),
      { as_of: document.getElementById("as_of").value }, render);
  }

  function statusBadge(s, label) {
    const labels = { pass: "达标", fail: "未达标", no_data: "无数据", on_time: "按时", late: "逾期完成", overdue: "逾期未办", pending: "期限内待办", met: "达标", missed: "未达标", in_progress: "进行中", unknown: "日期不详", done: "已完成", due_soon: "临近时限" };
    const tone = { pass: "ok", on_time: "ok", met: "ok", done: "ok", due_soon: "warn", fail: "bad", overdue: "bad", missed: "bad", late: "warn", pending: "warn" }[s];
    return badge(label || labels[s] || s || "", tone);  // the API's label (zwgk/data/labels.yaml) first
  }

  function render(d) {
    document.getElementById("scorecard").hidden = false;
    replace("agency-name", d.agency.name);
    const t = d.timeliness;
    replace("agency-kpis",
      kpi("网站", String(d.sites.length), d.sites.filter((s) => s.weekly_update === "pass").length + " 个本周按期更新"),
      kpi("本周更新", String(d.updates.this_week), `近 ${d.updates.weekly.length} 周共 ${d.updates.weekly.reduce((a, w) => a + w.count, 0)} 条`),
      kpi("库内文件", String(d.updates.documents_total)),
      kpi("负责议题", String(d.topics.length)),
      kpi("时效达标率", pct(t.compliance), `逾期 ${t.overdue}`, t.overdue ? "bad" : "ok"),
      kpi("告警", String(d.alerts.length), "", d.alerts.length ? "warn" : "ok"),
    );
    replace("agency-sites", table([
      { label: "网站", render: (r) => h("a", { href: "/heatmap?site=" + encodeURIComponent(r.site_id) }, r.site_id) },
      { label: "本周更新", key: "updates_in_week", num: true },
      { label: "最近更新", render: (r) => r.last_update_url ? link(r.last_update || "链接", r.last_update_url) : (r.last_update || "无") },
      { label: "超期栏目", key: "stale_columns", num: true },
      { label: "按周更新", render: (r) => statusBadge(r.weekly_update) },
    ], d.sites, "该机构没有监测中的网站"));
    replace("agency-topics", table([
      { label: "议题", render: (r) => h("a", { href: "/topics?topic=" + encodeURIComponent(r.id) }, r.id + " " + r.title) },
      { label: "角色", render: (r) => r.role === "lead" ? badge("牵头", "warn") : r.role === "group" ? badge("所属类别：" + r.group) : badge("责任") },
      { label: "文件", key: "documents", num: true },
    ], d.topics, "规划中未列出该机构"));
    replace("agency-timeliness", table([
      { label: "职责", render: (r) => h("span", { class: "rule-label", title: r.rule }, r.rule_label || r.duty_label) },
      { label: "事项", render: (r) => r.url ? link(r.title || r.url, r.url) : (r.title || "") },
      { label: "起算", render: (r) => Z.day(r.start) },
      { label: "期限", render: (r) => Z.day(r.due) },
      { label: "完成", render: (r) => Z.day(r.done_at) },
      { label: "时滞", render: (r) => r.lag === null || r.lag === undefined ? "" : r.lag + " " + (r.unit_label || ""), num: true },
      { label: "状态", render: (r) => statusBadge(r.status, r.status_label) },
      { label: "证据", render: (r) => h("span", {}, (r.evidence || []).map((u, i) => [i ? " " : "", link("[" + (i + 1) + "]", u)])) },
    ], t.items, "没有时效记录"));
    replace("agency-alerts", table([
      { label: "时间", render: (r) => Z.day(r.created_at) },
      { label: "周", key: "week" },
      { label: "规则", key: "rule" },
      { label: "状态", render: (r) => badge(r.status || "") },
      { label: "说明", key: "summary" },
    ], d.alerts, "没有告警"));
  }

  form.addEventListener("submit", (e) => { e.preventDefault(); Z.urlFromValues(Z.formValues(form)); load(); });
  init();
})();
