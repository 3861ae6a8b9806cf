// Shared helpers for every page. Page data is untrusted crawled text: it only ever enters the DOM
// through textContent / createTextNode (never innerHTML), and links only keep http(s) or same-site URLs.
"use strict";

const Z = (() => {
  function safeHref(url) {
    if (typeof url !== "string" || !url) return null;
    if (url.startsWith("/") && !url.startsWith("//")) return url;
    try {
      const u = new URL(url);
      return u.protocol === "http:" || u.protocol === "https:" ? u.href : null;
    } catch (e) {
      return null;
    }
  }

  // h("a", {href, class}, child...) — children are nodes or text; attributes set one by one
  function h(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "href") {
        const href = safeHref(String(value));
        if (href) node.setAttribute("href", href);
      } else if (key.startsWith("on") && typeof value === "function") {
        node.addEventListener(key.slice(2), value);
      } else {
        node.setAttribute(key, value === true ? "" : String(value));
      }
    }
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      node.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function link(text, url, external) {
    const href = safeHref(url);
    if (!href) return document.createTextNode(text || url || "");
    const attrs = { href };
    if (external !== false && !href.startsWith("/")) Object.assign(attrs, { target: "_blank", rel: "noopener noreferrer" });
    return h("a", attrs, text || url);
  }

  // highlight parts [{text, mark}] from the API → text nodes and <mark> elements
  function marked(parts) {
    const span = h("span", { class: "snippet" });
    for (const part of parts || []) {
      span.appendChild(part.mark ? h("mark", {}, part.text) : document.createTextNode(part.text));
    }
    return span;
  }

  function replace(target, ...nodes) {
    const el = typeof target === "string" ? document.getElementById(target) : target;
    el.replaceChildren(...nodes.flat(Infinity).filter((n) => n !== null && n !== undefined && n !== false));
    return el;
  }

  function params(obj) {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(obj || {})) if (v !== "" && v !== null && v !== undefined) p.set(k, v);
    return p;
  }

  // several plans in force: the page's ?plan= goes with every API call and every page link
  const plan = new URLSearchParams(location.search).get("plan") || "";
  document.addEventListener("DOMContentLoaded", () => {
    const choice = document.getElementById("plan-choice");
    if (!choice) return;
    choice.value = plan;
    choice.addEventListener("change", () => {
      const p = new URLSearchParams(location.search);
      if (choice.value) p.set("plan", choice.value); else p.delete("plan");
      location.search = p.toString();
    });
    if (plan) for (const a of document.querySelectorAll(".topbar nav a")) a.href += (a.href.includes("?") ? "&" : "?") + "plan=" + encodeURIComponent(plan);
  });

  async function api(path, query) {
    const qs = params(plan && path.startsWith("/api/") ? Object.assign({ plan }, query) : query).toString();
    const resp = await fetch(path + (qs ? "?" + qs : ""), { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (resp.status === 401) {
      location.href = "/login?next=" + encodeURIComponent(location.pathname + location.search);
      throw new Error("需要登录");
    }
    let body = null;
    try { body = await resp.json(); } catch (e) { body = null; }
    if (!resp.ok) throw new Error((body && typeof body.detail === "string" && body.detail) || "请求失败 (" + resp.status + ")");
    return body;
  }

  async function post(path, data) {
    const resp = await fetch(path, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(data),
    });
    let body = null;
    try { body = await resp.json(); } catch (e) { body = null; }
    if (!resp.ok) throw new Error((body && typeof body.detail === "string" && body.detail) || "请求失败 (" + resp.status + ")");
    return body;
  }

  function showError(err) {
    const box = document.getElementById("error");
    if (!err) { box.hidden = true; box.textContent = ""; return; }
    box.textContent = err.message || String(err);
    box.hidden = false;
  }

  // a table from columns [{key|render, label, num}] and rows; empty → a muted note
  function table(columns, rows, empty) {
    if (!rows || rows.length === 0) return h("p", { class: "muted" }, empty || "暂无数据");
    const head = h("tr", {}, columns.map((c) => h("th", { class: c.num ? "num" : null }, c.label)));
    const body = rows.map((row) =>
      h("tr", {}, columns.map((c) => {
        const value = c.render ? c.render(row) : row[c.key];
        return h("td", { class: c.num ? "num" : null }, value === null || value === undefined ? "" : value);
      }))
    );
    return h("div", { class: "scroll" }, h("table", {}, h("thead", {}, head), h("tbody", {}, body)));
  }

  function kpi(label, value, sub, tone) {
    return h("div", { class: "kpi" + (tone ? " " + tone : "") },
      h("div", { class: "label" }, label), h("div", { class: "value" }, value), sub ? h("div", { class: "sub" }, sub) : null);
  }

  function pct(x) { return x === null || x === undefined ? "—" : (x * 100).toFixed(1) + "%"; }
  function day(s) { return s ? String(s).slice(0, 10) : ""; }
  function badge(text, tone) { return h("span", { class: "badge" + (tone ? " " + tone : "") }, text); }

  const charts = [];
  function chart(id, option) {
    const el = document.getElementById(id);
    if (!window.echarts) {
      replace(el, h("p", { class: "muted" }, "图表组件未安装（运行 make assets）"));
      return null;
    }
    let c = window.echarts.getInstanceByDom(el);
    if (!c) { c = window.echarts.init(el); charts.push(c); }
    c.setOption(Object.assign({ animation: false }, option), true);
    return c;
  }
  window.addEventListener("resize", () => charts.forEach((c) => c.resize()));

  // ECharts tooltips are HTML: escape every value we put into one
  function esc(s) {
    return String(s === null || s === undefined ? "" : s).replace(/[&<>"']/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[ch]));
  }

  // keep a form's fields and the page URL's query string in step (bookmarkable views)
  function formFromUrl(form) {
    const p = new URLSearchParams(location.search);
    for (const el of form.elements) if (el.name && p.has(el.name)) el.value = p.get(el.name);
  }
  function formValues(form) {
    const out = {};
    for (const el of form.elements) if (el.name && el.value !== "") out[el.name] = el.value;
    return out;
  }
  function urlFromValues(values) {
    const qs = params(plan ? Object.assign({ plan }, values) : values).toString();
    history.replaceState(null, "", location.pathname + (qs ? "?" + qs : ""));
  }

  function pageLoaded() { document.body.dataset.loaded = "1"; }

  // a page's main request: clear the error box, GET path with query, hand the JSON to render (or show the
  // error), then mark the page loaded for the browser tests
  async function loadInto(path, query, render) {
    showError(null);
    try {
      render(await api(path, query));
    } catch (err) {
      showError(err);
    }
    pageLoaded();
  }

  return { h, link, marked, replace, api, post, showError, table, kpi, pct, day, badge, chart, esc, safeHref,
           params, formFromUrl, formValues, urlFromValues, pageLoaded, loadInto };
})();
