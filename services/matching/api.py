"""matching's HTTP API (port 8002): the roster with each volunteer's history, the teams, and
the requests, cases and assignments with the reasons of every choice.

Who may call (shared/access.py): community staff see their community's roster, requests, cases
and assignments, street staff their street's; a volunteer sees their own profile and
assignments; ops see every record but no person (names and places left out); report viewers
see the teams (counts, no people)."""
from uuid import UUID

from fastapi import APIRouter, Depends, Query

from services.matching import staff_api
from services.matching import work_api
from services.matching.context import Matching
from services.matching.store import assignments, roster, tasks
from shared.access import allow, areas, check_community, is_own_volunteer, narrowed, without
from shared.areas import Areas
from shared.http import one_or_404
from shared.identity import Caller, Refused, Role
from shared.service import deps_of

router = APIRouter(prefix="/api/v1", tags=["matching"])

STAFF_OR_OPS = allow(Role.COMMUNITY_STAFF, Role.STREET_STAFF, Role.OPS)
PEOPLE_OF_MATCHING = allow(Role.VOLUNTEER, Role.COMMUNITY_STAFF, Role.STREET_STAFF, Role.OPS)
# What ops do not see of a volunteer: who and where they are.
PERSON = ("name", "volunteer_name", "lat", "lon")


def shown(who: Caller, row: dict) -> dict:
    """A record as the caller sees it: ops without the person's name and place."""
    return without(row, PERSON) if who.role == Role.OPS else row


async def volunteers_record(matching: Matching, who: Caller, known: Areas, what: str, fetch, key: UUID,
                            source: str, external_id: str) -> dict:
    """The record `fetch` finds (404 if none), for the volunteer it is about (its `source` and
    `external_id` fields), staff of its community, or ops (without the person); else Refused(403)."""
    found = await one_or_404(matching.runtime.pool, what, fetch, key)
    if who.role == Role.VOLUNTEER:
        if not is_own_volunteer(who, found[source], found[external_id]):
            raise Refused(403, f"a volunteer sees only their own profile and assignments, not {what}")
    else:
        check_community(who, found["community_code"], known, what)
    return shown(who, found)


@router.get("/volunteers")
async def volunteers(community: str | None = None, team: str | None = None, limit: int = Query(100, ge=1, le=1000),
                     matching: Matching = Depends(deps_of), who: Caller = Depends(PEOPLE_OF_MATCHING),
                     known: Areas = Depends(areas)):
    """The roster of the caller's area (a volunteer: only themself)."""
    own = (who.source, who.subject) if who.role == Role.VOLUNTEER else None
    communities = ([community] if community else None) if own else narrowed(who, known, community)
    async with matching.runtime.pool.acquire() as conn:
        return [shown(who, dict(row)) for row in await roster.roster(conn, communities, team, limit, own)]


@router.get("/volunteers/{volunteer_id}")
async def volunteer(volunteer_id: UUID, matching: Matching = Depends(deps_of),
                    who: Caller = Depends(PEOPLE_OF_MATCHING), known: Areas = Depends(areas)):
    """The profile, hours per week, and every offer and assignment, newest first."""
    return await volunteers_record(matching, who, known, f"volunteer {volunteer_id}", roster.profile, volunteer_id,
                                   "source", "external_id")


@router.get("/teams")
async def teams(community: str | None = None, matching: Matching = Depends(deps_of),
                who: Caller = Depends(allow(Role.COMMUNITY_STAFF, Role.STREET_STAFF, Role.OPS, Role.REPORT_VIEWER)),
                known: Areas = Depends(areas)):
    """Each team's members and specialities (counts and skills, no people)."""
    communities = ([community] if community else None) if who.role == Role.REPORT_VIEWER else (
        narrowed(who, known, community))
    async with matching.runtime.pool.acquire() as conn:
        return [dict(row) for row in await roster.teams(conn, communities)]


@router.get("/assignments/{assignment_id}")
async def assignment(assignment_id: UUID, matching: Matching = Depends(deps_of),
                     who: Caller = Depends(PEOPLE_OF_MATCHING), known: Areas = Depends(areas)):
    """An offer or assignment with the reason it went to this volunteer."""
    return await volunteers_record(matching, who, known, f"assignment {assignment_id}", assignments.detail,
                                   assignment_id, "volunteer_source", "volunteer_external_id")


@router.get("/requests/{request_id}")
async def request(request_id: UUID, matching: Matching = Depends(deps_of), who: Caller = Depends(STAFF_OR_OPS),
                  known: Areas = Depends(areas)):
    """The request's occurrences, each with its offers and what became of them."""
    found = await one_or_404(matching.runtime.pool, f"request {request_id}", tasks.request_view, request_id)
    check_community(who, found["community_code"], known, f"request {request_id}")
    return found


@router.get("/cases/{case_id}")
async def case(case_id: UUID, matching: Matching = Depends(deps_of), who: Caller = Depends(STAFF_OR_OPS),
               known: Areas = Depends(areas)):
    """The case's levels, each with the mediators offered, and its outcome."""
    found = await one_or_404(matching.runtime.pool, f"case {case_id}", tasks.case_view, case_id)
    check_community(who, found["community_code"], known, f"case {case_id}")
    return found


router.include_router(staff_api.router)  # the staff's actions and the assign picker
router.include_router(work_api.router)
