// 检索: keyword search with filters, highlights, sorting, paging, export and watchlists (GET /api/search)
"use strict";
(() => {
  const { h, api, post, replace, link, marked, showError, badge } = Z;
  const form = document.getElementById("search-form");
  let page = 1;
  let latest = 0; // only the newest request's answer is shown (typing and filter changes overlap)

  const KIND_LABELS = { policy: "政策文件", interpretation: "政策解读", press_conference: "新闻发布会", penalty_notice: "处罚公示",
                        notice: "通知公告", news: "新闻", other: "其他" };

  async function loadOptions() {
    const o = await api("/api/search/options");
    const fill = (id, items) => {
      const sel = document.getElementById(id);
      for (const it of items) sel.appendChild(h("option", { value: it.value }, it.label));
    };
    fill("f-agency", o.agencies.map((a) => ({ value: a, label: a })));
    fill("f-site", o.sites.map((s) => ({ value: s, label: s })));
    fill("f-column_type", o.column_types.map((c) => ({ value: c, label: c })));
    fill("f-topic", o.topics.map((t) => ({ value: t.id, label: "　".repeat(Math.max(0, t.level - 1)) + t.id + " " + t.title })));
    fill("f-kind", o.kinds.map((k) => ({ value: k, label: KIND_LABELS[k] || k })));
  }

  function query() {
    const v = Z.formValues(form);
    if (page > 1) v.page = page;
    return v;
  }

  function exportHref(fmt) {
    const p = Z.params(Object.assign(query(), { format: fmt }));
    p.delete("page");
    return "/api/search/export?" + p.toString();
  }

  async function run() {
    showError(null);
    const q = query();
    Z.urlFromValues(q);
    document.getElementById("export-csv").setAttribute("href", exportHref("csv"));
    document.getElementById("export-xlsx").setAttribute("href", exportHref("xlsx"));
    const mine = ++latest;
    try {
      const d = await api("/api/search", q);
      if (mine === latest) render(d);
    } catch (err) {
      if (mine !== latest) return;
      showError(err);
      replace("results");
      replace("pager");
      replace("summary", "");
    }
    Z.pageLoaded();
  }

  function render(d) {
    const results = document.getElementById("results");
    results.dataset.q = d.query.q || "";
    results.dataset.params = Z.params(d.query).toString();
    const grouped = d.groups === null || d.groups === undefined ? "" : `，合并为 ${d.groups} 条`;
    replace("summary", `共 ${d.total}${d.total_is_lower_bound ? "+" : ""} 条结果${grouped}，第 ${d.page} / ${Math.max(d.pages, 1)} 页，用时 ${d.took_ms} 毫秒`);
    replace("results", ...d.results.map((r) => h("li", { "data-id": r.id },
      h("div", { class: "title" }, h("a", { href: r.url, target: "_blank", rel: "noopener noreferrer" },
        r.title_parts && r.title_parts.length ? marked(r.title_parts) : r.title)),
      h("div", { class: "meta" },
        h("span", {}, Z.day(r.published_at) || "日期不详"),
        r.agency ? h("a", { href: "/agencies?agency=" + encodeURIComponent(r.agency) }, r.agency) : null,
        h("span", {}, [r.site_id, r.column].filter(Boolean).join(" · ")),
        r.column_type ? badge(r.column_type) : null,
        r.kind ? badge(KIND_LABELS[r.kind] || r.kind) : null,
        (r.topics || []).length ? h("span", {}, "议题 " + r.topics.join("、")) : null,
        eventNote(r)),
      (r.snippets || []).map((parts) => h("p", { class: "snippet" }, marked(parts))),
    )));
    if (!d.results.length) replace("results", h("li", { class: "muted" }, "没有找到匹配的文件"));
    renderFacets(d.facets || {});
    const pager = [];
    const go = (n) => () => { page = n; run(); };
    if (d.page > 1) pager.push(h("button", { type: "button", onclick: go(d.page - 1) }, "上一页"));
    const first = Math.max(1, d.page - 4), last = Math.min(d.pages, first + 8);
    for (let n = first; n <= last; n++) {
      pager.push(h("button", { type: "button", "aria-current": n === d.page ? "page" : null, onclick: go(n) }, String(n)));
    }
    if (d.page < d.pages) pager.push(h("button", { type: "button", onclick: go(d.page + 1) }, "下一页"));
    replace("pager", ...pager);
  }

  // collapsed by event: how many matching documents the one shown stands for, linked to the event on 舆情
  function eventNote(r) {
    if (!r.event_size || r.event_size < 2) return null;
    if (!r.event_id) return h("span", { class: "event-note muted" }, `另有 ${r.event_size - 1} 条未归入事件`);
    return h("a", { class: "event-note", href: "/opinion?event=" + encodeURIComponent(r.event_id) },
      `同一事件 ${r.event_size} 条`);
  }

  // counts per agency / kind / column type of the whole result set; a click applies (or clears) the filter
  const FACETS = [["agency", "f-agency", "机构", (k) => k], ["kind", "f-kind", "类别", (k) => KIND_LABELS[k] || k],
                  ["column_type", "f-column_type", "栏目", (k) => k]];
  function renderFacets(facets) {
    replace("facets", FACETS.map(([name, selectId, label, show]) => {
      const buckets = (facets[name] || []).slice(0, 8);
      if (!buckets.length) return null;
      const select = document.getElementById(selectId);
      return h("div", { class: "group" }, h("span", { class: "muted" }, label + "："), buckets.map((b) => {
        const on = select.value === String(b.key);
        return h("button", { type: "button", "aria-pressed": on ? "true" : "false", "data-facet": name,
          onclick: () => { setSelect(select, on ? "" : String(b.key)); page = 1; run(); } }, `${show(b.key)} ${b.count}`);
      }));
    }));
  }
  function setSelect(select, value) {
    if (value && ![...select.options].some((o) => o.value === value)) select.appendChild(h("option", { value }, value));
    select.value = value;
  }

  document.getElementById("save-watch").addEventListener("click", async () => {
    const status = document.getElementById("watch-status");
    const v = Z.formValues(form);
    const name = document.getElementById("watch-name").value.trim() || v.q || "";
    if (!v.q) { status.textContent = "请先输入关键词"; return; }
    try {
      const saved = await post("/api/watchlists", {
        name, query: v.q,
        filters: Object.fromEntries(Object.entries(v).filter(([k]) => !["q", "sort", "size", "page", "collapse"].includes(k))),
      });
      status.textContent = `已保存监测「${saved.name}」`;
    } catch (err) {
      status.textContent = "保存失败：" + err.message;
    }
  });

  form.addEventListener("submit", (e) => { e.preventDefault(); page = 1; run(); });
  form.addEventListener("change", (e) => { if (e.target.tagName === "SELECT" || e.target.type === "date") { page = 1; run(); } });

  loadOptions().catch(showError).finally(() => {
    Z.formFromUrl(form);
    page = Number(new URLSearchParams(location.search).get("page") || 1);
    if (Z.formValues(form).q || location.search) run(); else Z.pageLoaded();
  });
})();
