"""intake's HTTP API for staff (the staff console): the registry of key households (建档), visit
campaigns (走访慰问) and search. Staff act in their area (a community, or a street and its
communities); ops may read, not act. Phones are shown masked (households.masked_phone); a
household's address only on its own page."""
import json
from uuid import UUID, uuid4

from fastapi import APIRouter, Depends, Query, Request
from pydantic import ValidationError

from services.intake import household_store, registry
from services.intake.context import Intake
from services.intake.domain import MAX_BODY_BYTES, S
from services.intake.households import STAFF_SOURCE, CampaignStart, masked_phone, read_query
from shared.access import allow, areas, check_community, communities_of, narrowed, staff_ref
from shared.areas import Areas
from shared.http import read_body
from shared.identity import Caller, Refused, Role
from shared.privacy import mask_name
from shared.reasons import language_of
from shared.service import deps_of
from shared.submissions import HouseholdRegistration
from shared.validation import describe

STAFF = allow(Role.COMMUNITY_STAFF, Role.STREET_STAFF)
READERS = allow(Role.COMMUNITY_STAFF, Role.STREET_STAFF, Role.OPS)

router = APIRouter(prefix="/api/v1", tags=["intake: staff"])

# What staff read when refused, in their language (?lang= or the token's locale).
WORDING = {
    "no_household": ("household {id} not found", "未找到重点户 {id}"),
    "no_match": ("no household of {area} is filed (with consent) with any of the tags {tags}",
                 "{area} 没有带这些标签({tags})且已同意建档的重点户"),
    "source_given": ("source is not given: a household staff register is of source 'staff'",
                     "无需填写 source:工作人员建档的来源固定为 staff"),
    "unknown_street": ("unknown street {street!r}", "未知街道 {street}"),
    "other_street": ("street {street!r} is outside your area ({area})", "街道 {street} 不在您的辖区({area})内"),
}


def said(code: str, language: str, **params) -> str:
    english, chinese = WORDING[code]
    return (english if language == "en" else chinese).format(**params)


def language(request: Request, who: Caller) -> str:
    return language_of(request.query_params.get("lang") or who.language)


async def json_object(request: Request) -> dict:
    """The body as a JSON object, or a 422 that says what is wrong with it."""
    body = await read_body(request, MAX_BODY_BYTES)
    if len(body) > MAX_BODY_BYTES:
        raise Refused(422, f"body is larger than the limit of {MAX_BODY_BYTES} bytes")
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise Refused(422, f"body is not JSON: {error}") from error
    if not isinstance(data, dict):
        raise Refused(422, f"body must be a JSON object, not {type(data).__name__}")
    return data


def valid(model: type[S], data: dict) -> S:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise Refused(422, describe(error)) from error


def correlation_of(request: Request) -> str:
    return request.headers.get("x-correlation-id") or str(uuid4())


@router.post("/households")
async def register_household(request: Request, intake: Intake = Depends(deps_of), who: Caller = Depends(STAFF),
                             known: Areas = Depends(areas)):
    """File a key household (or update the file of the same 档案号, `external_id`; generated
    when absent), as `household.register` from a source would."""
    data = await json_object(request)
    if "source" in data:
        raise Refused(422, said("source_given", language(request, who)))
    registration = valid(HouseholdRegistration, {**data, "source": STAFF_SOURCE,
                                                 "external_id": data.get("external_id") or uuid4().hex})
    check_community(who, registration.community_code, known, f"household {registration.external_id}")
    stamp = {"correlation_id": correlation_of(request), "occurred_at": intake.now()}
    async with intake.unit_of_work() as uow:
        filed = await household_store.household_by_key(uow.connection, STAFF_SOURCE, registration.external_id)
        if filed is not None:  # moving a file out of another area's hands is theirs to do
            check_community(who, filed["community_code"], known, f"household {registration.external_id}")
        household_id = await registry.file_household(uow, registration, stamp, staff_ref(who))
    return {"done": "household.registered", "household_id": str(household_id),
            "external_id": registration.external_id}


def listed(row, who: Caller) -> dict:
    """A household as lists show it: the resident's name (masked for ops, who read no one's),
    the phone masked, no address."""
    resident = row["beneficiary"] or {}
    name = resident.get("name")
    return {"household_id": str(row["household_id"]), "source": row["source"], "external_id": row["external_id"],
            "community_code": row["community_code"], "grid_code": row["grid_code"], "tags": list(row["tags"]),
            "languages": list(row["languages"]),
            "name": mask_name(name) if name and who.role == Role.OPS else name,
            "phone": masked_phone(resident.get("phone")), "consent": row["consent"],
            "paired_volunteer": row["paired_volunteer"], "registered_at": row["registered_at"].isoformat(),
            "erased": row["erased_at"] is not None}


@router.get("/households")
async def list_households(community: str | None = None, tag: str | None = None,
                          limit: int = Query(100, ge=1, le=1000), intake: Intake = Depends(deps_of),
                          who: Caller = Depends(READERS), known: Areas = Depends(areas)):
    """The key households of the caller's area (or of `community` in it), newest first."""
    communities = narrowed(who, known, community)
    async with intake.runtime.pool.acquire() as conn:
        rows = await household_store.households(conn, communities, tag, limit)
    return [listed(row, who) for row in rows]


@router.get("/households/{household_id}")
async def household(request: Request, household_id: UUID, intake: Intake = Depends(deps_of),
                    who: Caller = Depends(READERS), known: Areas = Depends(areas)):
    """One household's file, with its address: for the staff of its community (or street);
    ops read it without the address."""
    async with intake.runtime.pool.acquire() as conn:
        row = await household_store.household_by_id(conn, household_id)
    if row is None:
        raise Refused(404, said("no_household", language(request, who), id=household_id))
    check_community(who, row["community_code"], known, f"household {household_id}")
    return {**listed(row, who), "address": None if who.role == Role.OPS else row["address"]}


def campaign_area(who: Caller, known: Areas, start: CampaignStart, lang: str) -> list[str]:
    """The communities a campaign covers, within the caller's area (Refused(403) outside it)."""
    if start.community is not None:
        check_community(who, start.community, known, f"community {start.community!r}")
        return [start.community]
    if start.street not in known.communities_of_street:
        raise Refused(422, said("unknown_street", lang, street=start.street))
    if who.role != Role.STREET_STAFF or who.area != start.street:
        raise Refused(403, said("other_street", lang, street=start.street, area=who.area))
    return sorted(known.communities_of_street[start.street])


@router.post("/campaigns")
async def start_campaign(request: Request, intake: Intake = Depends(deps_of), who: Caller = Depends(STAFF),
                         known: Areas = Depends(areas)):
    """Start a visit campaign: one home visit per household of the area with any of the tags,
    each received as a request; 422 when no household matches."""
    lang = language(request, who)
    start = valid(CampaignStart, await json_object(request))
    communities = campaign_area(who, known, start, lang)
    async with intake.unit_of_work() as uow:
        started = await registry.start_campaign(uow, start.title, communities, start.street, start.tags,
                                                start.window, staff_ref(who), correlation_of(request), intake.now())
    if started is None:
        raise Refused(422, said("no_match", lang, area=start.community or start.street, tags=", ".join(start.tags)))
    return {"done": "campaign.started", "campaign_id": str(started.campaign_id), "targeted": started.targeted}


@router.get("/search")
async def search(q: str = Query(min_length=1, max_length=128), intake: Intake = Depends(deps_of),
                 who: Caller = Depends(READERS), known: Areas = Depends(areas)):
    """Requests, cases and households by id, external id, phone (digits compared) or community
    code (its newest 50): only the caller's area; phones masked."""
    query, seen = read_query(q), communities_of(who, known)
    communities = None if seen is None else sorted(seen)
    async with intake.runtime.pool.acquire() as conn:
        requests = await household_store.search_requests(conn, query, communities)
        cases = await household_store.search_cases(conn, query, communities)
        households = await household_store.search_households(conn, query, communities)
    return {
        "requests": [{**dict(row), "request_id": str(row["request_id"]), "received_at": row["received_at"].isoformat(),
                      "phone": masked_phone(row["phone"])} for row in requests],
        "cases": [{**dict(row), "case_id": str(row["case_id"]), "received_at": row["received_at"].isoformat()}
                  for row in cases],
        "households": [{key: listed(row, who)[key] for key in ("household_id", "community_code", "name", "phone",
                                                               "tags")}
                       for row in households]}
