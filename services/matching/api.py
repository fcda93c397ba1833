"""matching's HTTP API (port 8002): the roster and the assignments, with their reasons."""
from uuid import UUID

from fastapi import APIRouter, Depends, Query

from services.matching import store
from shared.http import one_or_404
from shared.service import Runtime, deps_of

router = APIRouter(prefix="/api/v1", tags=["matching"])


@router.get("/volunteers")
async def volunteers(community: str | None = None, limit: int = Query(100, ge=1, le=1000),
                     runtime: Runtime = Depends(deps_of)):
    async with runtime.pool.acquire() as conn:
        return [dict(row) for row in await store.roster(conn, community, limit)]


@router.get("/assignments/{assignment_id}")
async def assignment(assignment_id: UUID, runtime: Runtime = Depends(deps_of)):
    return await one_or_404(runtime.pool, f"assignment {assignment_id}", store.assignment, assignment_id)
