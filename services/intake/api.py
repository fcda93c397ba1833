"""intake's HTTP API (port 8001): submit a request as JSON, follow its status, read rejections."""
from uuid import UUID, uuid4

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from services.intake import store
from services.intake.domain import MAX_BODY_BYTES, Rejection
from services.intake.context import Intake
from services.intake.submissions import CANCELLATION, REQUEST, Accepted, Kind, count, take, with_api_key
from shared.http import one_or_404, read_body
from shared.service import deps_of

router = APIRouter(prefix="/api/v1", tags=["intake"])


@router.post("/requests", status_code=202)
async def submit_request(request: Request, intake: Intake = Depends(deps_of)):
    """The same submission as `request.submit` on the broker, answered at once. The caller
    proves its source with its API key in `X-Api-Key`."""
    result = await _submitted(request, intake, REQUEST)
    if not isinstance(result, Accepted):
        return result
    return JSONResponse({"request_id": str(result.id), "duplicate": result.duplicate},
                        status_code=200 if result.duplicate else 202)


@router.post("/cancellations")
async def cancel_request(request: Request, intake: Intake = Depends(deps_of)):
    """The same submission as `request.cancel` on the broker ({source, external_id, reason?}),
    answered at once; `X-Api-Key` as for a request."""
    result = await _submitted(request, intake, CANCELLATION)
    if not isinstance(result, Accepted):
        return result
    return {"request_id": str(result.id), "status": result.outcome}


async def _submitted(request: Request, intake: Intake, kind: Kind) -> Accepted | JSONResponse:
    """Take the body as a submission of `kind`; a refusal is answered here (403 or 400 with the reason)."""
    sent_by = intake.sources.for_api_key(request.headers.get("x-api-key"))
    if sent_by is None and not intake.sources.accept_unknown:
        return JSONResponse({"error": "missing or unknown API key (X-Api-Key)"}, status_code=403)
    body = await read_body(request, MAX_BODY_BYTES)
    correlation_id = request.headers.get("x-correlation-id") or str(uuid4())
    async with intake.unit_of_work() as uow:
        result = await take(intake, uow, kind, body, correlation_id,
                            publisher=with_api_key(sent_by.source if sent_by else None))
    count(kind, result)
    if isinstance(result, Rejection):
        return JSONResponse({"error": result.reason}, status_code=400)
    return result


@router.get("/requests/{request_id}")
async def request_status(request_id: UUID, intake: Intake = Depends(deps_of)):
    return await one_or_404(intake.runtime.pool, f"request {request_id}", store.request_by_id, request_id)


@router.get("/requests")
async def request_by_key(source: str, external_id: str, intake: Intake = Depends(deps_of)):
    """Find a request by its publisher's own key."""
    return await one_or_404(intake.runtime.pool, f"request {source}/{external_id}", store.request_by_key,
                            source, external_id)


@router.get("/rejections")
async def rejections(limit: int = Query(100, ge=1, le=1000), source: str | None = None,
                     intake: Intake = Depends(deps_of)):
    """The most recent rejected submissions, newest first, with their reasons."""
    async with intake.runtime.pool.acquire() as conn:
        return [dict(row) for row in await store.recent_rejections(conn, limit, source)]
