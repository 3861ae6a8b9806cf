// 账户与审计: accounts (GET /api/admin/users) and the audit log (GET /api/admin/audit), as text only
"use strict";

(() => {
  const { h, replace, api, showError, table } = Z;
  const ROLE = { viewer: "查看", analyst: "分析", admin: "管理" };
  const OUTCOME = { ok: "成功", failed: "失败", locked: "已锁定", throttled: "限流", refused: "被拒绝" };
  const form = document.getElementById("audit-form");
  const when = (s) => (s ? String(s).replace("T", " ").slice(0, 19) : "");

  async function load() {
    showError(null);
    try {
      const users = await api("/api/admin/users");
      replace("users", table([
        { label: "用户", key: "name" },
        { label: "角色", render: (u) => ROLE[u.role] || u.role },
        { label: "创建", render: (u) => when(u.created_at) },
        { label: "上次登录", render: (u) => when(u.last_login_at) },
        { label: "状态", render: (u) => u.locked_until_ms > Date.now()
            ? h("span", { class: "badge bad" }, "锁定至 " + new Date(u.locked_until_ms).toLocaleTimeString("zh-CN"))
            : (u.failed ? `连续失败 ${u.failed} 次` : "正常") },
      ], users.items, "还没有账户（zwgk user add NAME --role admin）"));
      const log = await api("/api/admin/audit", Z.formValues(form));
      replace("audit", table([
        { label: "时间", render: (e) => when(e.at) },
        { label: "用户", key: "actor" },
        { label: "操作", key: "action" },
        { label: "对象", key: "target" },
        { label: "结果", render: (e) => OUTCOME[e.outcome] || e.outcome },
        { label: "地址", key: "address" },
        { label: "详情", key: "detail" },
      ], log.items, "没有审计记录"));
    } catch (err) {
      showError(err);
    }
    Z.pageLoaded();
  }

  form.addEventListener("submit", (e) => { e.preventDefault(); load(); });
  load();
})();
