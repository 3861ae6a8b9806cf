"""The JSON API behind every page (`/api/...`, documented at /openapi.json and /docs).

Read-only over Elasticsearch, except POST /api/watchlists (saving a search as a watchlist) and the
accounts routes (dashboards.login, dashboards.admin). Roles: dashboards.auth.ROUTE_ROLES.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from dashboards import audit, auth, pages, searching
from zwgk.weeks import Week, check_day, parse_week, today

router = APIRouter(prefix="/api")


def _bad_param(name: str, exc: ValueError) -> HTTPException:
    """A well-formed value the measures cannot use: 400 in the validation handler's wording."""
    return HTTPException(400, f"参数错误: {name}: {exc}")


def as_of_day(
    as_of: Annotated[date | None, Query(description="evaluation date (default: today, Asia/Shanghai); "
                                        "the report covers the last complete ISO week")] = None,
) -> date:
    """Every route's as_of, checked once: a date near the calendar's ends would overflow the measures."""
    if as_of is None:
        return today()
    try:
        return check_day(as_of)
    except ValueError as exc:
        raise _bad_param("as_of", exc) from None


def iso_week(week: Annotated[str, Query(description="ISO week, e.g. 2026-W47")]) -> Week:
    """A week parameter, checked like as_of."""
    try:
        return parse_week(week)
    except ValueError as exc:
        raise _bad_param("week", exc) from None


AsOf = Annotated[date, Depends(as_of_day)]


def plan_key(
    plan: Annotated[str | None, Query(max_length=40, description="one plan's key (GET /api/plans), e.g. bj2016; "
                                      "default: every plan in force")] = None,
) -> str | None:
    """A plan filter, checked against the plans in force (zwgk.plans)."""
    from zwgk.plans import plan_choice

    try:
        return plan_choice(plan)
    except KeyError as exc:
        raise HTTPException(400, f"参数错误: plan: {exc.args[0]}") from None


PlanKey = Annotated[str | None, Depends(plan_key)]


def es(request: Request):
    """The app's Elasticsearch client (created on first use when the app was built without one)."""
    state = request.app.state
    if state.client is None:
        from zwgk.es import get_client

        state.client = get_client()
    return state.client


Client = Annotated[object, Depends(es)]


@router.get("/overview", summary="总览: this week's compliance at a glance", tags=["pages"])
def overview(client: Client, as_of: AsOf, plan: PlanKey) -> dict:
    return pages.overview.summary(client, as_of, plan)


@router.get("/freshness/heatmap", summary="更新热力图: updates per site and ISO week", tags=["pages"])
def freshness_heatmap(client: Client, as_of: AsOf) -> dict:
    return pages.freshness.heatmap(client, as_of)


@router.get("/freshness/snapshots", summary="Column snapshots of one site crawled in one ISO week", tags=["pages"])
def freshness_snapshots(
    client: Client,
    site_id: Annotated[str, Query(min_length=1, max_length=200)],
    week: Annotated[Week, Depends(iso_week)],
) -> dict:
    return pages.freshness.snapshots(client, site_id, week.label)


@router.get("/agencies", summary="机构: agencies with sites, documents or plan duties", tags=["pages"])
def agencies(client: Client, as_of: AsOf, plan: PlanKey) -> dict:
    return pages.agencies.listing(client, as_of, plan)


@router.get("/agencies/{agency}", summary="机构记分卡: one agency's sites, topics, timeliness and alerts", tags=["pages"])
def agency_scorecard(client: Client, agency: str, as_of: AsOf, plan: PlanKey) -> dict:
    card = pages.agencies.scorecard(client, agency, as_of, plan)
    if card is None:
        raise HTTPException(404, f"未知机构: {agency}")
    return card


@router.get("/plans", summary="The plans in force: key, title, year, region (the `plan` filter's values)", tags=["pages"])
def plans() -> dict:
    from zwgk.plans import load_plans

    found = load_plans()
    return {"namespaced": found.namespaced, "items": [e.to_dict() | {"path": e.path.name} for e in found.entries]}


@router.get("/topics", summary="规划议题: the plan's topic tree with responsible agencies and document counts", tags=["pages"])
def topics(client: Client, plan: PlanKey) -> dict:
    return pages.topics.tree(client, plan)


@router.get("/topics/{topic_id}", summary="One plan topic: text, agencies, obligations and matching documents", tags=["pages"])
def topic_detail(
    client: Client,
    topic_id: str,
    page: Annotated[int, Query(ge=1, le=searching.MAX_PAGE)] = 1,
    size: Annotated[int, Query(ge=1, le=searching.MAX_PAGE_SIZE)] = 20,
    plan: PlanKey = None,
) -> dict:
    detail = pages.topics.detail(client, topic_id, page, size, plan)
    if detail is None:
        raise HTTPException(404, f"未知议题: {topic_id}")
    return detail


@router.get("/timeliness", summary="时效: lag distributions per duty and the overdue list", tags=["pages"])
def timeliness(client: Client, as_of: AsOf, plan: PlanKey) -> dict:
    return pages.timeliness.lags_and_overdue(client, as_of, plan)


@router.get("/search", summary="检索: keyword search with filters, highlights, sorting and paging", tags=["search"])
def search(client: Client, params: Annotated[searching.SearchParams, Depends()]) -> dict:
    return searching.run_search(client, params)


@router.get("/search/options", summary="Filter choices for the search form", tags=["search"])
def search_options(client: Client) -> dict:
    return searching.options(client)


@router.get(
    "/search/export",
    summary=f"Export search results as CSV or Excel (at most {searching.MAX_EXPORT} rows)",
    tags=["search"],
    response_class=Response,
    responses={200: {"content": {"text/csv": {}, searching.XLSX_TYPE: {}}}},
)
def search_export(
    request: Request,
    client: Client,
    user: auth.CurrentUser,
    params: Annotated[searching.SearchParams, Depends()],
    format: Annotated[Literal["csv", "xlsx"], Query(description="csv or xlsx")] = "csv",
    limit: Annotated[int, Query(ge=1, le=searching.MAX_EXPORT, description="rows to export")] = searching.DEFAULT_EXPORT,
) -> Response:
    response = searching.export_response(client, params, format, limit)
    audit.record(client, user.name, "export", target=params.q or "", address=auth.client_address(request),
                 detail=f"{format} {limit} rows max; {request.url.query}")
    return response


@router.get("/opinion/hot", summary="热点事件: events ranked by heat (distinct sources) per day or week", tags=["opinion"])
def opinion_hot(
    client: Client,
    as_of: AsOf,
    period: Annotated[Literal["day", "week"], Query(description="the day as_of, or the 7 days ending with it")] = "day",
    topic: Annotated[str | None, Query(max_length=50, description="plan topic id, e.g. 3.1")] = None,
    agency: Annotated[str | None, Query(max_length=200)] = None,
    size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> dict:
    from measures.opinion import hot_events

    return hot_events(client, as_of, period, topic=topic or None, agency=agency or None, size=size)


@router.get("/opinion/events/{event_id}", summary="One event and its documents, oldest first", tags=["opinion"])
def opinion_event(client: Client, event_id: Annotated[str, Path(max_length=100)]) -> dict:
    from measures.opinion import event_documents

    event = event_documents(client, event_id)
    if event is None:
        raise HTTPException(404, f"未知事件: {event_id}")
    return event


@router.get("/opinion/trend", summary="负面舆情趋势: an agency's negative-news share per day, with its spike alerts",
            tags=["opinion"])
def opinion_trend(
    client: Client,
    as_of: AsOf,
    agency: Annotated[str | None, Query(max_length=200, description="agency concerned (default: the most negative)")] = None,
    days: Annotated[int, Query(ge=7, le=180, description="days ending with as_of")] = pages.opinion.TREND_DAYS,
) -> dict:
    return pages.opinion.trend(client, agency or None, days, as_of)


@router.get("/alerts", summary="告警: alert history and status", tags=["alerts"])
def alerts(
    client: Client,
    status: Annotated[str | None, Query(max_length=50)] = None,
    agency: Annotated[str | None, Query(max_length=200)] = None,
    page: Annotated[int, Query(ge=1, le=searching.MAX_PAGE)] = 1,
    size: Annotated[int, Query(ge=1, le=searching.MAX_PAGE_SIZE)] = 50,
) -> dict:
    return pages.alerts.listing(client, status=status or None, agency=agency or None, page=page, size=size)


class WatchlistIn(BaseModel):
    """A saved search: its name, the query string and the filters of the search form."""

    name: str = Field(min_length=1, max_length=100)
    query: str = Field(min_length=1, max_length=searching.MAX_QUERY_LENGTH)
    filters: dict[str, str] = Field(default_factory=dict, max_length=20)


def _owner(user: auth.Principal) -> str:
    """Whose watchlists a request reads and writes: its account's; "" (everyone's) in the login-free demo."""
    return "" if user.local else user.name


@router.get("/watchlists", summary="Saved searches (watchlists): your own; an admin sees everyone's", tags=["alerts"])
def watchlists(client: Client, user: auth.CurrentUser) -> dict:
    owner = None if user.local or user.can("admin") else user.name
    return {"items": pages.alerts.watchlists(client, owner)}


@router.post("/watchlists", status_code=201, summary="Save a search as your watchlist", tags=["alerts"])
def save_watchlist(request: Request, client: Client, user: auth.CurrentUser, body: WatchlistIn) -> dict:
    saved = pages.alerts.save_watchlist(client, body.name, body.query, body.filters, owner=_owner(user))
    audit.record(client, user.name, "watchlist.save", target=body.name, address=auth.client_address(request),
                 detail=body.query)
    return saved
