"""matching's HTTP API (port 8002): the roster with each volunteer's history, the teams, and
the requests, cases and assignments with the reasons of every choice."""
from uuid import UUID

from fastapi import APIRouter, Depends, Query

from services.matching.context import Matching
from services.matching.store import assignments, roster, tasks
from shared.http import one_or_404
from shared.service import deps_of

router = APIRouter(prefix="/api/v1", tags=["matching"])


@router.get("/volunteers")
async def volunteers(community: str | None = None, team: str | None = None, limit: int = Query(100, ge=1, le=1000),
                     matching: Matching = Depends(deps_of)):
    async with matching.runtime.pool.acquire() as conn:
        return [dict(row) for row in await roster.roster(conn, community, team, limit)]


@router.get("/volunteers/{volunteer_id}")
async def volunteer(volunteer_id: UUID, matching: Matching = Depends(deps_of)):
    """The profile, hours per week, and every offer and assignment, newest first."""
    return await one_or_404(matching.runtime.pool, f"volunteer {volunteer_id}", roster.profile, volunteer_id)


@router.get("/teams")
async def teams(community: str | None = None, matching: Matching = Depends(deps_of)):
    async with matching.runtime.pool.acquire() as conn:
        return [dict(row) for row in await roster.teams(conn, community)]


@router.get("/assignments/{assignment_id}")
async def assignment(assignment_id: UUID, matching: Matching = Depends(deps_of)):
    return await one_or_404(matching.runtime.pool, f"assignment {assignment_id}", assignments.detail, assignment_id)


@router.get("/requests/{request_id}")
async def request(request_id: UUID, matching: Matching = Depends(deps_of)):
    """The request's occurrences, each with its offers and what became of them."""
    return await one_or_404(matching.runtime.pool, f"request {request_id}", tasks.request_view, request_id)


@router.get("/cases/{case_id}")
async def case(case_id: UUID, matching: Matching = Depends(deps_of)):
    """The case's levels, each with the mediators offered, and its outcome."""
    return await one_or_404(matching.runtime.pool, f"case {case_id}", tasks.case_view, case_id)
