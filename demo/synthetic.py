"""A large synthetic agency site in the same data format as demo/sites/*.yaml (for the crawl benchmark)."""

from __future__ import annotations

from typing import Any

TOPICS = ["空气质量", "供暖保障", "食品安全", "养老服务", "营商环境", "交通治理", "水务管理", "政务公开"]


def synthetic_site(n_articles: int, per_page: int = 20, site_id: str = "bulk") -> dict[str, Any]:
    """One site, one column, n_articles articles spread over the last n/20 days, script pagination."""
    items = [
        {
            "id": str(100000 + i),
            "days": i // 20,
            "time": f"{8 + i % 10:02d}:{i % 60:02d}",
            "title": f"关于{TOPICS[i % len(TOPICS)]}工作的第{i + 1}号通知",
            "doc_number": f"京演发〔2026〕{i + 1}号" if i % 5 == 0 else None,
            "policy": i % 5 == 0,
        }
        for i in range(n_articles)
    ]
    return {
        "id": site_id, "name": "演示批量网站", "agency": "北京市人民政府办公厅", "host_org": "北京市人民政府办公厅",
        "domain": "bulk.example.cn", "site_code": "1100009999", "icp": "京ICP备00000001号",
        "beian": "京公网安备11010000000001号", "encoding": "utf-8", "style": "view", "validators": True,
        "meta": True, "date_display": "line",
        "columns": [{"id": "tzgg", "name": "通知公告", "pagination": "script", "per_page": per_page, "items": items}],
    }
