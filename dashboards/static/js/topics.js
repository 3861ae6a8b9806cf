// 规划议题: the plan's topic tree (GET /api/topics) and one topic's agencies and documents (GET /api/topics/{id})
"use strict";
(() => {
  const { h, api, replace, table, link, showError, badge } = Z;
  let selected = null;

  const DUTY_LABELS = { interpretation: "政策解读", press_conference: "新闻发布", penalty_disclosure: "处罚公开", website_update: "网站更新",
                        publish: "信息发布", response: "回应关切" };
  const UNIT_LABELS = { working_days: "个工作日", hours: "小时", days: "天" };
  const PERIOD_LABELS = { week: "每周", month: "每月", quarter: "每季度", half_year: "每半年", year: "每年" };

  function node(t) {
    const btn = h("button", { type: "button", "data-topic": t.id, onclick: () => open(t.id) },
      t.id + " " + t.title, h("span", { class: "count" }, String(t.count)));
    return h("li", {}, btn, t.children && t.children.length ? h("ul", {}, t.children.map(node)) : null);
  }

  async function init() {
    try {
      const d = await api("/api/topics");
      replace("plan-title", d.plan.title || "议题");
      replace("topic-tree", h("ul", {}, d.topics.map(node)));
      const wanted = new URLSearchParams(location.search).get("topic");
      if (wanted) await open(wanted, 1); else Z.pageLoaded();
    } catch (err) {
      showError(err);
      Z.pageLoaded();
    }
  }

  async function open(id, page) {
    showError(null);
    selected = id;
    for (const b of document.querySelectorAll(".tree button")) b.classList.toggle("selected", b.dataset.topic === id);
    Z.urlFromValues({ topic: id });
    try {
      const d = await api("/api/topics/" + encodeURIComponent(id), { page: page || 1 });
      if (selected !== id) return;
      const t = d.topic;
      replace("topic-title", t.id + " " + t.title);
      replace("topic-text", t.text || "");
      const agencies = [...t.lead_agencies.map((a) => [a, "牵头"]), ...t.responsible_agencies.map((a) => [a, "责任"])];
      replace("topic-agencies", agencies.length
        ? h("ul", {}, agencies.map(([a, role]) => h("li", {}, h("a", { href: "/agencies?agency=" + encodeURIComponent(a) }, a), " ", badge(role))))
        : h("p", { class: "muted" }, "未列出责任单位"));
      replace("topic-obligations", table([
        { label: "职责", render: (o) => DUTY_LABELS[o.duty] || o.duty },
        { label: "要求", render: (o) => o.amount ? `${o.amount} ${UNIT_LABELS[o.unit] || o.unit || ""}内` : (o.period ? `${PERIOD_LABELS[o.period] || o.period}${o.min_count ? " 至少 " + o.min_count + " 次" : ""}` : "") },
        { label: "原文", key: "text" },
      ], t.obligations, "没有可量化的职责"));
      const docs = d.documents;
      replace("topic-documents",
        h("p", { class: "muted" }, `共 ${docs.total} 篇`),
        table([
          { label: "日期", render: (r) => Z.day(r.published_at) },
          { label: "标题", render: (r) => link(r.title, r.url) },
          { label: "机构", key: "agency" },
          { label: "类别", key: "kind" },
        ], docs.items, "暂无匹配文件"),
        docs.pages > 1 ? h("nav", { class: "pager" },
          docs.page > 1 ? h("button", { type: "button", onclick: () => open(id, docs.page - 1) }, "上一页") : null,
          h("span", {}, `${docs.page} / ${docs.pages}`),
          docs.page < docs.pages ? h("button", { type: "button", onclick: () => open(id, docs.page + 1) }, "下一页") : null) : null);
    } catch (err) {
      showError(err);
    }
    Z.pageLoaded();
  }

  init();
})();
