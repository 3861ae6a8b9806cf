// 告警: alert history and status (GET /api/alerts) and saved watchlists (GET /api/watchlists)
"use strict";
(() => {
  const { h, api, replace, table, link, showError, badge } = Z;
  const form = document.getElementById("alerts-form");
  const STATUS = { sent: "已发送", pending: "待发送", failed: "发送失败", suppressed: "已抑制", resolved: "已解除", open: "未处理" };
  let page = 1;
  let statusesFilled = false;

  async function load() {
    showError(null);
    const v = Z.formValues(form);
    if (page > 1) v.page = page;
    Z.urlFromValues(v);
    try {
      const d = await api("/api/alerts", v);
      if (!statusesFilled) {
        const sel = document.getElementById("status");
        for (const s of Object.keys(d.statuses)) sel.appendChild(h("option", { value: s }, (STATUS[s] || s) + "（" + d.statuses[s] + "）"));
        statusesFilled = true;
        Z.formFromUrl(form);
      }
      replace("alerts", table([
        { label: "时间", render: (r) => (r.created_at || "").replace("T", " ").slice(0, 16) },
        { label: "类型", render: (r) => r.kind === "weekly" ? "周报" : r.kind === "watchlist" ? "关注词" : r.kind },
        { label: "周", key: "week" },
        { label: "标题", key: "subject" },
        { label: "不合格网站", render: (r) => (r.failing_sites || []).join("、") },
        { label: "状态", render: (r) => badge(STATUS[r.status] || r.status || "", r.status === "sent" ? "ok" : r.status === "failed" ? "bad" : "warn") },
        { label: "发送", render: (r) => h("ul", {}, (r.deliveries || []).map((x) => h("li", {},
            x.channel + "：" + (STATUS[x.status] || x.status) + (x.attempts ? `（${x.attempts} 次）` : "") +
            (x.sent_at ? " " + x.sent_at.replace("T", " ").slice(0, 16) : "") + (x.error ? " " + x.error : "")))) },
      ], d.items, "没有告警记录"));
      replace("pager",
        d.page > 1 ? h("button", { type: "button", onclick: () => { page--; load(); } }, "上一页") : null,
        h("span", { class: "muted" }, `共 ${d.total} 条，第 ${d.page} / ${Math.max(d.pages, 1)} 页`),
        d.page < d.pages ? h("button", { type: "button", onclick: () => { page++; load(); } }, "下一页") : null);
      if (document.getElementById("watchlists")) {  // a viewer's page has none
        const w = await api("/api/watchlists");
        replace("watchlists", table([
          { label: "名称", key: "name" },
          { label: "查询", render: (r) => h("a", { href: "/search?" + Z.params(Object.assign({ q: r.query }, r.filters || {})).toString() }, r.query) },
          { label: "筛选", render: (r) => Object.entries(r.filters || {}).map(([k, v]) => k + "=" + v).join("，") },
          { label: "所有者", key: "owner" },
          { label: "创建", render: (r) => Z.day(r.created_at) },
        ], w.items, "还没有保存的监测"));
      }
    } catch (err) {
      showError(err);
    }
    Z.pageLoaded();
  }

  form.addEventListener("submit", (e) => { e.preventDefault(); page = 1; load(); });
  Z.formFromUrl(form);
  page = Number(new URLSearchParams(location.search).get("page") || 1);
  load();
})();
