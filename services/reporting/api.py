"""reporting's HTTP API (port 8004)."""
from datetime import date

from fastapi import APIRouter, Depends, HTTPException, Query

from services.reporting import store
from services.reporting.domain import totals
from shared.service import Runtime, deps_of

router = APIRouter(prefix="/api/v1/reports", tags=["reporting"])


@router.get("/summary")
async def summary(community: str | None = None,
                  first: date | None = Query(None, alias="from", description="first day, YYYY-MM-DD, inclusive"),
                  last: date | None = Query(None, alias="to", description="last day, YYYY-MM-DD, inclusive"),
                  runtime: Runtime = Depends(deps_of)):
    """Requests received, assigned, escalated, completed and rejected, per community and city day."""
    if first and last and first > last:
        raise HTTPException(status_code=422, detail=f"from ({first}) is after to ({last})")
    async with runtime.pool.acquire() as conn:
        rows = [dict(row) for row in await store.daily_counts(conn, community, first, last)]
    return {"from": first, "to": last, "community": community, "totals": totals(rows), "by_community_day": rows}
