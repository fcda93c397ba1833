"""intake's HTTP API (port 8001): submit a request as JSON, follow its status, read rejections.

Who may call (shared/access.py): a system submits and cancels with its API key and reads only its
own requests and rejections; community and street staff read their area's requests; ops read
every request's status and every rejection. Rejections are shown masked (phone numbers, names)."""
import json
import re
from uuid import UUID, uuid4

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from services.intake import store
from services.intake.domain import MAX_BODY_BYTES, Rejection
from services.intake.context import Intake
from services.intake.submissions import CANCELLATION, REQUEST, Accepted, Kind, count, take, with_api_key
from shared.access import allow, areas, check_community
from shared.areas import Areas
from shared.http import one_or_404, read_body
from shared.identity import Caller, Refused, Role
from shared.privacy import mask_name, mask_phone_numbers
from shared.service import deps_of

READERS = allow(Role.SOURCE, Role.COMMUNITY_STAFF, Role.STREET_STAFF, Role.OPS)

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
    answered at once; `X-Api-Key` as for a request. 200 cancelled; 202 waiting, when the request
    has not arrived yet (it will be cancelled when it does, or the cancellation refused in time)."""
    result = await _submitted(request, intake, CANCELLATION)
    if not isinstance(result, Accepted):
        return result
    if result.id is None:
        return JSONResponse({"request_id": None, "status": result.outcome}, status_code=202)
    return {"request_id": str(result.id), "status": result.outcome}


async def _submitted(request: Request, intake: Intake, kind: Kind) -> Accepted | JSONResponse:
    """Take the body as a submission of `kind`; a refusal is answered here (401 or 400 with the reason)."""
    sent_by = intake.sources.for_api_key(request.headers.get("x-api-key"))
    if sent_by is None and not intake.sources.accept_unknown:
        raise Refused(401, "missing or unknown API key (X-Api-Key)")
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
async def request_status(request_id: UUID, intake: Intake = Depends(deps_of), who: Caller = Depends(READERS),
                         known: Areas = Depends(areas)):
    """A request's status: its source, the staff of its community (or street), ops."""
    row = await one_or_404(intake.runtime.pool, f"request {request_id}", store.request_by_id, request_id)
    return readable(who, row, known)


@router.get("/requests")
async def request_by_key(source: str, external_id: str, intake: Intake = Depends(deps_of),
                         who: Caller = Depends(READERS), known: Areas = Depends(areas)):
    """Find a request by its publisher's own key."""
    own_source(who, source)
    row = await one_or_404(intake.runtime.pool, f"request {source}/{external_id}", store.request_by_key,
                           source, external_id)
    return readable(who, row, known)


def own_source(who: Caller, source: str | None) -> None:
    if who.role == Role.SOURCE and source is not None and source != who.source:
        raise Refused(403, f"a system reads only its own requests and rejections ({who.source}), not {source!r}'s")


def readable(who: Caller, row: dict, known: Areas) -> dict:
    """The request, when the caller may see it: its source, staff of its area, ops."""
    if who.role == Role.SOURCE:
        own_source(who, row["source"])
    else:
        check_community(who, row["community_code"], known, f"request {row['request_id']}")
    return row


@router.get("/rejections")
async def rejections(limit: int = Query(100, ge=1, le=1000), source: str | None = None,
                     intake: Intake = Depends(deps_of), who: Caller = Depends(allow(Role.SOURCE, Role.OPS))):
    """The most recent rejected submissions, newest first, with their reasons, masked: ops see
    every source's, a system its own."""
    own_source(who, source)
    async with intake.runtime.pool.acquire() as conn:
        rows = await store.recent_rejections(conn, limit, who.source if who.role == Role.SOURCE else source)
    return [masked_rejection(dict(row)) for row in rows]


# A name in a submission's JSON ("name", the parties' names, Open311's first_name / last_name).
NAME_FIELD = re.compile(r'("(?:name|first_name|last_name)"\s*:\s*)"((?:[^"\\]|\\.)*)"')


def masked_rejection(row: dict) -> dict:
    """A rejection as the API shows it: phone numbers and names in its reason and body masked."""
    def mask(text: str | None) -> str | None:
        if text is None:
            return None
        named = NAME_FIELD.sub(lambda m: m[1] + json.dumps(mask_name(_unescaped(m[2])), ensure_ascii=False), text)
        return mask_phone_numbers(named)
    return {**row, "reason": mask(row["reason"]), "body_excerpt": mask(row["body_excerpt"])}


def _unescaped(text: str) -> str:
    try:
        return json.loads(f'"{text}"')
    except ValueError:
        return text
