"""reporting's HTTP API (port 8004): the figures as JSON, CSV or XLSX, a live stream of changes,
and the dashboard.

Who may call (shared/access.py): report viewers and ops read every figure; community staff their
community's, street staff their street's (a report without a community is narrowed to theirs).
Figures name no one; the per-volunteer table does: staff of the area see it with names, ops
without, report viewers not at all. The dashboard asks for a login (dashboard.py)."""
import dataclasses
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Literal

import asyncpg
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from services.reporting import tables
from services.reporting.context import Reporting
from services.reporting.domain.figures import FIGURES
from services.reporting.domain.increments import MEDIATION
from services.reporting.domain.scope import BadQuery, Scope, check_group
from services.reporting.exports import respond
from services.reporting.login import log_in, page_or_login, signed_out
from services.reporting.store import sketches
from shared.access import allow, areas, narrowed
from shared.areas import Areas
from shared.catalogue import SERVICES, service_name
from shared.identity import Caller, Refused, Role
from shared.service import deps_of

router = APIRouter(tags=["reporting"])
DASHBOARD = Path(__file__).parent / "dashboard"
# A stream ends after this many seconds without a change; the browser's EventSource reconnects
# at once. Short streams keep a server's shutdown from waiting on open dashboards.
STREAM_SECONDS = 15.0
Format = Literal["json", "csv", "xlsx"]


FIGURE_READERS = allow(Role.REPORT_VIEWER, Role.OPS, Role.COMMUNITY_STAFF, Role.STREET_STAFF)


def _asked_scope(reporting: Reporting = Depends(deps_of),
           first: date | None = Query(None, alias="from", description="first city day, YYYY-MM-DD, inclusive"),
           last: date | None = Query(None, alias="to", description="last city day, YYYY-MM-DD, inclusive"),
           community: str | None = Query(None, description="one community"),
           street: str | None = Query(None, description="the communities of one street (LINLI_AREAS_FILE)"),
           category: str | None = Query(None, description="a catalogue code, or mediation"),
           team: str | None = Query(None, description="a volunteer team, e.g. 康乃馨")) -> Scope:
    """The scope of a report; anything that cannot be is refused (422) with the reason."""
    try:
        if category is not None and category not in SERVICES and category != MEDIATION:
            raise BadQuery(f"unknown category {category!r}; see the catalogue")
        if street is not None and street not in reporting.areas.communities_of_street:
            raise BadQuery(f"unknown street {street!r}; known: {', '.join(reporting.areas.communities_of_street)}")
        if community is not None and street is not None and reporting.areas.street(community) != street:
            raise BadQuery(f"community {community!r} is not in street {street!r}")
        communities = (community,) if community else (
            reporting.areas.communities_of_street[street] if street else None)
        return Scope(first, last, communities, category, team)
    except BadQuery as error:
        raise HTTPException(status_code=422, detail=str(error)) from error


def seen_scope(scope: Scope, who: Caller, known: Areas) -> Scope:
    """The scope narrowed to the caller's area: staff see their communities only (Refused(403)
    for a community outside it); report viewers and ops see every one."""
    if who.role in (Role.REPORT_VIEWER, Role.OPS):
        return scope
    if scope.communities is None:
        return dataclasses.replace(scope, communities=tuple(narrowed(who, known, None) or ()))
    for community in scope.communities:
        narrowed(who, known, community)
    return scope


def _scope(who: Caller = Depends(FIGURE_READERS), scope: Scope = Depends(_asked_scope),
           known: Areas = Depends(areas)) -> Scope:
    """The scope of a report, as the caller may see it."""
    return seen_scope(scope, who, known)


async def _shared(reporting: Reporting, question: tuple, build: Callable[[asyncpg.Connection], Awaitable]):
    """What `build` answers on a connection of its own, shared with the identical questions asked
    meanwhile (the open dashboards all redraw at the same tick)."""
    async def compute():
        async with reporting.runtime.pool.acquire() as conn:
            return await build(conn)
    return await reporting.answers.answer(question, compute)


def _asked(request: Request) -> dict:
    return dict(request.query_params)


@router.get("/api/v1/reports/summary")
async def summary(request: Request, scope: Scope = Depends(_scope), format: Format = "json",
                  reporting: Reporting = Depends(deps_of)) -> Response:
    """Every figure for the scope, in one row; `estimates` names the figures estimated from sketches
    (a period of whole months, or open) with their error bounds."""
    figures = await _shared(reporting, ("summary", scope), lambda conn: tables.summary(conn, reporting, scope))
    if format == "json":
        return respond(tables.Table("summary", (), []), format, query=_asked(request), figures=figures,
                       estimates=sketches.estimates("all", scope))
    return respond(tables.Table("summary", tuple(FIGURES), [figures]), format)


@router.get("/api/v1/reports/groups/{group}")
async def by_group(request: Request, group: str, scope: Scope = Depends(_scope), format: Format = "json",
                   reporting: Reporting = Depends(deps_of)) -> Response:
    """Every figure per community, street, team, category, day, week or month; `estimates` as for the summary."""
    try:
        check_group(group, scope)
    except BadQuery as error:
        raise HTTPException(status_code=422, detail=str(error)) from error
    table = await _shared(reporting, (group, scope), lambda conn: tables.figures(conn, reporting, group, scope))
    return respond(table, format, query=_asked(request), group=group, estimates=sketches.estimates(group, scope))


def _table(path: str, build: Callable[[asyncpg.Connection, Scope], Awaitable[tables.Table]]) -> None:
    """GET `path`: the table `build` makes for the scope (its docstring says what it holds)."""
    async def table(request: Request, scope: Scope = Depends(_scope), format: Format = "json",
                    reporting: Reporting = Depends(deps_of)) -> Response:
        try:
            answer = await _shared(reporting, (path, scope), lambda conn: build(conn, scope))
        except BadQuery as error:
            raise HTTPException(status_code=422, detail=str(error)) from error
        return respond(answer, format, query=_asked(request))
    router.add_api_route(path, table, methods=["GET"], name=build.__name__, description=build.__doc__)


_table("/api/v1/reports/disputes", tables.disputes)
_table("/api/v1/reports/staff-actions", tables.staff_actions)
_table("/api/v1/reports/campaigns", tables.campaigns)


@router.get("/api/v1/reports/escalations")
async def escalations(request: Request, scope: Scope = Depends(_scope), format: Format = "json",
                      lang: Literal["zh", "en"] | None = Query(None, description="the reasons' language: zh or en "
                                                                                 "(default: the caller's)"),
                      who: Caller = Depends(FIGURE_READERS), reporting: Reporting = Depends(deps_of)) -> Response:
    """The escalation backlog: occurrences with the community's staff, oldest first, each with
    its reason in the reader's language."""
    language = lang or who.language
    table = await _shared(reporting, ("escalations", scope, language),
                          lambda conn: tables.escalations(conn, scope, language))
    return respond(table, format, query=_asked(request))


@router.get("/api/v1/reports/volunteers")
async def volunteers(request: Request, scope: Scope = Depends(_scope), format: Format = "json",
                     reporting: Reporting = Depends(deps_of),
                     who: Caller = Depends(allow(Role.COMMUNITY_STAFF, Role.STREET_STAFF, Role.OPS))) -> Response:
    """Each volunteer's participations and hours, most first, with how evenly hours are spread:
    staff of the area with names, ops without (report viewers read figures, not people)."""
    table, fairness = await _shared(reporting, ("volunteers", scope), lambda conn: tables.volunteers(conn, scope))
    if who.role == Role.OPS:
        table = tables.Table(table.name, tuple(c for c in table.columns if c != "name"),
                             [{k: v for k, v in row.items() if k != "name"} for row in table.rows])
    return respond(table, format, query=_asked(request), fairness=fairness)


@router.get("/api/v1/reports/labels", dependencies=[Depends(FIGURE_READERS)])
async def labels(reporting: Reporting = Depends(deps_of)) -> dict:
    """The Chinese names of the figures, categories and streets, and the city's clock, for the dashboard."""
    categories = {code: service_name(code) for code in (*SERVICES, MEDIATION)}
    return {"figures": FIGURES, "categories": categories, "streets": reporting.areas.street_names,
            "timezone": reporting.city_timezone}


@router.get("/api/v1/reports/stream", dependencies=[Depends(FIGURE_READERS)])
async def stream(request: Request, reporting: Reporting = Depends(deps_of)) -> StreamingResponse:
    """Server-Sent Events: `changed` with a version number each time a projection commits."""
    async def changes():
        seen = reporting.changes.version
        yield f"retry: 1000\nevent: hello\ndata: {seen}\n\n"
        while not await request.is_disconnected():
            version = await reporting.changes.after(seen, STREAM_SECONDS)
            if version == seen:
                return
            seen = version
            yield f"event: changed\ndata: {version}\n\n"
    return StreamingResponse(changes(), media_type="text/event-stream", headers={"Cache-Control": "no-store"})


@router.get("/", include_in_schema=False)
async def home() -> RedirectResponse:
    return RedirectResponse("/dashboard")


@router.get("/dashboard", response_class=HTMLResponse)
async def dashboard(request: Request, reporting: Reporting = Depends(deps_of)) -> HTMLResponse:
    """The station's dashboard (数据看板): headline figures, trends, breakdowns, the backlog, live.
    Without a valid session, the login page (401)."""
    return page_or_login(request, reporting.settings.linli_token_issuer, FIGURE_READERS, DASHBOARD / "index.html")


@router.post("/dashboard/login", include_in_schema=False)
async def dashboard_login(request: Request, reporting: Reporting = Depends(deps_of)) -> Response:
    """Check the pasted token; a good one becomes the session cookie, a bad one shows why."""
    return await log_in(request, reporting.settings.linli_token_issuer, FIGURE_READERS)


@router.post("/dashboard/logout", include_in_schema=False)
async def dashboard_logout() -> Response:
    return signed_out()


@router.get("/dashboard/{asset}", include_in_schema=False)
async def dashboard_asset(asset: Literal["dashboard.js", "dashboard.css"]) -> Response:
    media_type = "text/javascript" if asset.endswith(".js") else "text/css"
    return Response((DASHBOARD / asset).read_bytes(), media_type=f"{media_type}; charset=utf-8")
