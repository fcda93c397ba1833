"""Erasure (PIPL art. 47): staff or ops name a person (`person.erase`, from `python -m services
erase`); intake finds what it knows of them, removes their personal data from its own tables,
and tells every service by id (`person.erased`), which each answers with `erasure.done`.

What intake removes: the request's description, address, location and beneficiary (the request
stays, for its status and the statistics), a case's summary and parties, a volunteer's name,
phone, email and location, a key household's resident (name, phone) and address (its id,
community and tags stay, for the statistics; it is no longer visited); rejections of those
submissions; reasons and notes that name them."""
import logging
import uuid

import asyncpg

from services.intake.context import Intake
from services.intake.domain import phone_key
from shared.consumer import Envelope
from shared.events import ErasureDone, PersonErased, RequestRef, VolunteerRef
from shared.submissions import PersonErasure
from shared.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)
REQUEST_PERSONAL = ("description", "address", "location", "beneficiary")
CASE_PERSONAL = ("summary", "parties")
VOLUNTEER_PERSONAL = ("name", "phone", "email", "location")
HOUSEHOLD_PERSONAL = ("name", "phone")  # of its resident (the beneficiary); its address is a column


async def on_erase(intake: Intake, uow: UnitOfWork, envelope: Envelope) -> None:
    erasure = PersonErasure.model_validate_json(envelope.body)  # bad input is dead-lettered, saying where
    conn = uow.connection
    requests = await _requests_of(conn, erasure)
    phones = {phone_key(erasure.phone)} | {phone_key(r["phone"]) for r in requests if r["phone"]}
    cases = await _cases_of(conn, sorted(p for p in phones if p))
    households = await _households_of(conn, sorted(p for p in phones if p))
    volunteer = (await conn.fetchrow("SELECT volunteer_id, source, external_id, registration FROM volunteer "
                                     "WHERE source = $1 AND external_id = $2", erasure.volunteer.source,
                                     erasure.volunteer.external_id) if erasure.volunteer else None)
    said = _what_names_them(erasure, requests, cases, volunteer, households)
    changed = await _erase(conn, requests, cases, volunteer, households, said, intake.now())
    erased = PersonErased(
        correlation_id=envelope.correlation_id, occurred_at=intake.now(), erasure_id=uuid.uuid4(),
        requested_by=erasure.requested_by,
        requests=tuple(RequestRef(**{k: r[k] for k in ("request_id", "source", "external_id")}) for r in requests),
        case_ids=tuple(c["case_id"] for c in cases),
        volunteers=(VolunteerRef(**{k: volunteer[k] for k in ("volunteer_id", "source", "external_id")}),)
        if volunteer else (),
        household_ids=tuple(h["household_id"] for h in households),
        correlation_ids=tuple(dict.fromkeys(r["correlation_id"] for r in (*requests, *cases, *households))))
    await uow.emit(erased)
    await uow.emit(ErasureDone(correlation_id=erased.correlation_id, occurred_at=erased.occurred_at,
                               erasure_id=erased.erasure_id, service="intake", changed=changed))
    log.info("erasure %s (requested by %s): %d requests, %d cases, %d volunteers, %d households; intake changed %s",
             erased.erasure_id, erasure.requested_by, len(requests), len(cases), len(erased.volunteers),
             len(households), changed)


async def _requests_of(conn: asyncpg.Connection, erasure: PersonErasure) -> list[asyncpg.Record]:
    """The requests for the person: by their phone, or the named request and every other of its beneficiary's phone."""
    phone = phone_key(erasure.phone)
    if erasure.request:
        phone = await conn.fetchval("SELECT beneficiary_phone FROM service_request WHERE source = $1 AND "
                                    "external_id = $2", erasure.request.source, erasure.request.external_id)
    if erasure.volunteer:
        return []
    return await conn.fetch(
        "SELECT request_id, source, external_id, correlation_id, submission -> 'beneficiary' ->> 'phone' AS phone, "
        "submission -> 'beneficiary' ->> 'name' AS name FROM service_request "
        "WHERE ($1::text IS NOT NULL AND beneficiary_phone = $1) OR (source = $2 AND external_id = $3) "
        "FOR UPDATE", phone, erasure.request.source if erasure.request else None,
        erasure.request.external_id if erasure.request else None)


async def _cases_of(conn: asyncpg.Connection, phones: list[str]) -> list[asyncpg.Record]:
    """Cases in which one of the parties gave one of these phones."""
    if not phones:
        return []
    return await conn.fetch(
        "SELECT case_id, correlation_id, submission -> 'parties' AS parties FROM mediation_case c WHERE EXISTS ("
        "SELECT 1 FROM jsonb_array_elements(c.submission -> 'parties') p "
        "WHERE regexp_replace(p ->> 'phone', '\\D', '', 'g') = ANY($1::text[]) "
        "OR regexp_replace(p ->> 'phone', '\\D', '', 'g') = ANY(SELECT '86' || unnest($1::text[]))) FOR UPDATE",
        phones)


async def _households_of(conn: asyncpg.Connection, phones: list[str]) -> list[asyncpg.Record]:
    """The key households filed for a resident of one of these phones."""
    if not phones:
        return []
    return await conn.fetch(
        "SELECT household_id, source, external_id, correlation_id, beneficiary ->> 'phone' AS phone, "
        "beneficiary ->> 'name' AS name FROM household WHERE phone_digits = ANY($1::text[]) FOR UPDATE", phones)


def _what_names_them(erasure: PersonErasure, requests, cases, volunteer, households) -> list[str]:
    """The names and numbers free text may quote them by (names of one character are too common to look for)."""
    said = {erasure.phone, *(r["phone"] for r in (*requests, *households)),
            *(r["name"] for r in (*requests, *households))}
    for case in cases:
        said |= {party.get("name") for party in case["parties"] or () if party.get("phone") and
                 phone_key(party["phone"]) in {phone_key(p) for p in said if p}}
    if volunteer:
        said |= {volunteer["registration"].get(key) for key in ("name", "phone", "email")}
    return sorted(text for text in said if text and len(text) > 1)


async def _erase(conn: asyncpg.Connection, requests, cases, volunteer, households, said: list[str],
                 at) -> dict[str, int]:
    """Remove what intake holds of them; returns the rows changed per table (0 when erased before)."""
    def count(status: str) -> int:
        return int(status.split()[-1])
    request_ids = [r["request_id"] for r in requests]
    keys = [(r["source"], r["external_id"]) for r in requests]
    if volunteer:
        keys.append((volunteer["source"], volunteer["external_id"]))
    keys += [(h["source"], h["external_id"]) for h in households]
    patterns = [f"%{text}%" for text in said]
    changed = {
        "service_request": count(await conn.execute(
            "UPDATE service_request SET submission = submission - $2::text[], beneficiary_phone = NULL "
            "WHERE request_id = ANY($1::uuid[])", request_ids, list(REQUEST_PERSONAL))),
        "mediation_case": count(await conn.execute(
            "UPDATE mediation_case SET submission = submission - $2::text[], party_phones = '{}' "
            "WHERE case_id = ANY($1::uuid[])",
            [c["case_id"] for c in cases], list(CASE_PERSONAL))),
        "volunteer": count(await conn.execute(
            "UPDATE volunteer SET registration = registration - $2::text[] WHERE volunteer_id = $1",
            volunteer["volunteer_id"] if volunteer else None, list(VOLUNTEER_PERSONAL))),
        "household": count(await conn.execute(
            "UPDATE household SET beneficiary = beneficiary - $2::text[], phone_digits = NULL, address = NULL, "
            "erased_at = coalesce(erased_at, $3) WHERE household_id = ANY($1::uuid[])",
            [h["household_id"] for h in households], list(HOUSEHOLD_PERSONAL), at)),
        "rejection": count(await conn.execute(
            "DELETE FROM rejection WHERE (source, external_id) IN (SELECT * FROM unnest($1::text[], $2::text[])) "
            "OR body_excerpt LIKE ANY($3::text[])", [k[0] for k in keys], [k[1] for k in keys], patterns)),
        "assignment_response": count(await conn.execute(
            "UPDATE assignment_response SET reason = NULL WHERE reason LIKE ANY($1::text[]) "
            "OR (source = $2 AND volunteer_external_id = $3 AND reason IS NOT NULL)", patterns,
            volunteer["source"] if volunteer else None, volunteer["external_id"] if volunteer else None)),
        "service_completion": count(await conn.execute(
            "UPDATE service_completion SET note = NULL WHERE note LIKE ANY($1::text[])", patterns)),
    }
    return {table: n for table, n in changed.items() if n}
