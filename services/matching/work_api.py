"""The staff console's reads in matching (issue 15): the work queues, a household's history
and the visit campaigns' progress. Staff see their community's (street staff their street's),
ops every one without the volunteers' names; reasons are rendered in the caller's language
(`?lang=zh|en` overrides the token's)."""
from uuid import UUID

from fastapi import APIRouter, Depends, Query

from services.matching.context import Matching
from services.matching.domain.work import expiring_before, progress, steps, visit_state
from services.matching.store import households, work
from shared.access import allow, areas, check_community, narrowed, sees_community, without
from shared.areas import Areas
from shared.catalogue import service_name
from shared.http import one_or_404
from shared.identity import Caller, Refused, Role
from shared.reasons import language_of, rendered
from shared.service import deps_of

router = APIRouter()

STAFF_OR_OPS = allow(Role.COMMUNITY_STAFF, Role.STREET_STAFF, Role.OPS)
# Rows per queue; `counts` are the whole queues'.
QUEUE_LIMIT = 200
LANG = Query(None, pattern="^(zh|en)$", description="the language reasons are rendered in (default: the token's)")


def _language(who: Caller, lang: str | None) -> str:
    return language_of(lang) if lang else who.language


def _named(row: dict) -> dict:
    """A row with its category's Chinese name (a code the catalogue lacks is shown as it is)."""
    try:
        return {**row, "category_name": service_name(row["category"])}
    except KeyError:
        return {**row, "category_name": row["category"]}


def _with_reason(row: dict, language: str) -> dict:
    return {**row, "reason": rendered(row, language), "reason_params": row.get("reason_params") or {}}


def _queue(rows) -> tuple[list[dict], int]:
    """The rows without their window count, and the queue's length (the count, past the limit)."""
    listed = [without(dict(row), ("total",)) for row in rows]
    return listed, rows[0]["total"] if rows else 0


@router.get("/work")
async def work_queues(community: str | None = None, lang: str | None = LANG, matching: Matching = Depends(deps_of),
                      who: Caller = Depends(STAFF_OR_OPS), known: Areas = Depends(areas)):
    """What the staff have to act on: escalated and missed occurrences, offers about to expire,
    open cases with their steps and due return visits, each newest (or most pressing) first."""
    communities, language, now = narrowed(who, known, community), _language(who, lang), matching.now()
    before = expiring_before(now, matching.settings.matching_expiring_minutes)
    async with matching.runtime.pool.acquire() as conn:
        escalated, escalated_count = _queue(await work.escalated(conn, communities, QUEUE_LIMIT))
        missed, missed_count = _queue(await work.missed(conn, communities, QUEUE_LIMIT))
        expiring, expiring_count = _queue(await work.expiring(conn, communities, before, QUEUE_LIMIT))
        cases, cases_count = _queue(await work.open_cases(conn, communities, QUEUE_LIMIT))
        moves = await work.steps_of(conn, [case["case_id"] for case in cases])
        visits, visits_count = _queue(await work.return_visits_due(conn, communities, now, QUEUE_LIMIT))
    return {"escalated": [_with_reason(_named(row), language) for row in escalated],
            "missed": [_named(row) for row in missed],
            "expiring": [without(row, ("volunteer_name",)) if who.role == Role.OPS else row for row in expiring],
            "cases": [_case_with_steps(case, moves, language) for case in cases],
            "return_visits": visits,
            "counts": {"escalated": escalated_count, "missed": missed_count, "expiring": expiring_count,
                       "cases": cases_count, "return_visits": visits_count}}


def _case_with_steps(case: dict, moves, language: str) -> dict:
    own = [dict(move) for move in moves if move["case_id"] == case["case_id"]]
    return {**case, "steps": [_with_reason(step, language) for step in steps(case["level"], case["received_at"], own)]}


@router.get("/households/{household_id}/history")
async def household_history(household_id: UUID, matching: Matching = Depends(deps_of),
                            who: Caller = Depends(STAFF_OR_OPS), known: Areas = Depends(areas)):
    """A key household's services (its visits are those with a campaign) and cases, newest first."""
    found = await one_or_404(matching.runtime.pool, f"household {household_id}", households.household, household_id)
    check_community(who, found["community_code"], known, f"household {household_id}")
    async with matching.runtime.pool.acquire() as conn:
        services = await households.services_of(conn, household_id)
        cases = await households.cases_of(conn, household_id)
    return {**found, "services": [_named(dict(row)) for row in services], "cases": [_case(dict(row)) for row in cases]}


def _case(row: dict) -> dict:
    visit = {"satisfaction": row.pop("satisfaction"), "visited_at": row.pop("visited_at")}
    return {**row, "return_visit": visit if visit["satisfaction"] else None}


@router.get("/campaigns")
async def campaigns(community: str | None = None, matching: Matching = Depends(deps_of),
                    who: Caller = Depends(STAFF_OR_OPS), known: Areas = Depends(areas)):
    """The visit campaigns of the caller's area, newest first, each with its progress."""
    communities = narrowed(who, known, community)
    async with matching.runtime.pool.acquire() as conn:
        found = [dict(row) for row in await households.campaigns(conn, communities)]
        visits = await households.visits(conn, [campaign["campaign_id"] for campaign in found])
    return [{**campaign, **progress(visit_state(v["statuses"], v["handled"], v["accepted"])
                                    for v in visits if v["campaign_id"] == campaign["campaign_id"])}
            for campaign in found]


@router.get("/campaigns/{campaign_id}")
async def campaign(campaign_id: UUID, matching: Matching = Depends(deps_of), who: Caller = Depends(STAFF_OR_OPS),
                   known: Areas = Depends(areas)):
    """A campaign's progress and each household's visit: visited, assigned or not yet."""
    found = await one_or_404(matching.runtime.pool, f"campaign {campaign_id}", households.campaign, campaign_id)
    if not any(sees_community(who, code, known) for code in found["community_codes"]):
        raise Refused(403, f"campaign {campaign_id} is in {', '.join(found['community_codes'])}, outside your area "
                           f"({who.area})")
    async with matching.runtime.pool.acquire() as conn:
        rows = await households.visits(conn, [campaign_id])
    states = [visit_state(row["statuses"], row["handled"], row["accepted"]) for row in rows]
    return {**found, **progress(states),
            "visits": [{"household_id": row["household_id"], "request_id": row["request_id"], "state": state,
                        **({} if who.role == Role.OPS else {"volunteer_name": row["volunteer_name"]})}
                       for row, state in zip(rows, states)]}
