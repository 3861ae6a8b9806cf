// API 文档: the endpoints of /openapi.json, listed locally (no Swagger UI from a CDN)
"use strict";
(async () => {
  const { h, api, replace, showError } = Z;
  try {
    const spec = await api("/openapi.json");
    const items = [];
    for (const [path, ops] of Object.entries(spec.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const params = (op.parameters || []).map((p) => h("li", {}, h("code", {}, p.name), ` (${p.in}${p.required ? "，必填" : ""})`, p.description ? "：" + p.description : ""));
        items.push(h("section", { class: "card" },
          h("h2", {}, h("code", {}, method.toUpperCase() + " " + path)),
          h("p", {}, op.summary || ""),
          op.description ? h("p", { class: "muted" }, op.description) : null,
          params.length ? h("ul", {}, params) : null,
          op.requestBody ? h("p", { class: "muted" }, "请求体：JSON（见 /openapi.json）") : null));
      }
    }
    replace("endpoints", h("p", {}, `${spec.info.title} ${spec.info.version}`), ...items);
  } catch (err) {
    showError(err);
  }
  Z.pageLoaded();
})();
