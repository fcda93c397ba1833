"""intake's SQL. Every function takes the connection of the current unit of work."""
from datetime import datetime, timedelta
from uuid import UUID, uuid4

import asyncpg

from services.intake.domain import OtherRequest, Rejection, body_excerpt, phone_key
from shared.deliveries import DeliveryTable
from shared.privacy import mask_raw_body
from shared.submissions import (
    AssignmentResponse,
    MediationCaseSubmission,
    RequestCancellation,
    ServiceCompletion,
    ServiceRequestSubmission,
    VolunteerRegistration,
)

REQUEST_COLUMNS = ("request_id, source, external_id, category, community_code, status, status_detail, "
                   "correlation_id, received_at, updated_at, household_id, campaign_id")


async def insert_request(conn: asyncpg.Connection, submission: ServiceRequestSubmission, correlation_id: str,
                         received_at: datetime, household_id: UUID | None = None,
                         campaign_id: UUID | None = None) -> UUID | None:
    """Store a new request received at `received_at` (for the household and campaign it is of)
    and return its request_id; None when (source, external_id) is already known."""
    return await conn.fetchval(
        "INSERT INTO service_request (request_id, source, external_id, category, community_code, "
        "submission, correlation_id, beneficiary_phone, received_at, updated_at, household_id, campaign_id) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, $11) "
        "ON CONFLICT (source, external_id) DO NOTHING RETURNING request_id",
        uuid4(), submission.source, submission.external_id, submission.category,
        submission.community_code, submission.model_dump(mode="json"), correlation_id,
        phone_key(submission.beneficiary.phone if submission.beneficiary else None), received_at,
        household_id, campaign_id)


async def request_by_key(conn: asyncpg.Connection, source: str, external_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(f"SELECT {REQUEST_COLUMNS} FROM service_request "
                               "WHERE source = $1 AND external_id = $2", source, external_id)


async def request_by_id(conn: asyncpg.Connection, request_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(f"SELECT {REQUEST_COLUMNS} FROM service_request WHERE request_id = $1",
                               request_id)


async def set_status(conn: asyncpg.Connection, request_id: UUID, status: str, detail: dict,
                     occurred_at: datetime) -> bool:
    """Move a request to `status`, unless a later change has already been recorded; False if it
    did not move. A cancelled request stays cancelled: matching may still report on it until it
    hears of the cancellation."""
    return bool(await conn.fetchval(
        "UPDATE service_request SET status = $2, status_detail = $3, updated_at = $4 "
        "WHERE request_id = $1 AND updated_at <= $4 AND status <> 'cancelled' RETURNING true",
        request_id, status, detail, occurred_at))


async def cancel_request(conn: asyncpg.Connection, source: str, external_id: str, detail: dict,
                         finished: frozenset[str], occurred_at: datetime) -> asyncpg.Record | None:
    """Cancel the request unless its status is one of `finished`; None when it is (or is unknown).
    One conditional update, so that of two cancels at once only one succeeds."""
    return await conn.fetchrow(
        "UPDATE service_request SET status = 'cancelled', status_detail = $3, "
        "updated_at = greatest(updated_at, $5) WHERE source = $1 AND external_id = $2 "
        f"AND status <> ALL($4::text[]) RETURNING {REQUEST_COLUMNS}",
        source, external_id, detail, sorted(finished), occurred_at)


async def wait_for_request(conn: asyncpg.Connection, cancellation: RequestCancellation, correlation_id: str,
                           message_id: str | None, held_at: datetime, until: datetime) -> None:
    """Keep a cancellation whose request has not arrived (at most one per request)."""
    await conn.execute(
        "INSERT INTO early_cancellation (source, external_id, reason, correlation_id, message_id, held_at, until) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7)", cancellation.source, cancellation.external_id, cancellation.reason,
        correlation_id, message_id, held_at, until)


async def is_cancellation_waiting(conn: asyncpg.Connection, source: str, external_id: str) -> bool:
    return bool(await conn.fetchval("SELECT true FROM early_cancellation WHERE source = $1 AND external_id = $2",
                                    source, external_id))


async def claim_waiting_cancellation(conn: asyncpg.Connection, source: str, external_id: str,
                                     arrived_at: datetime) -> asyncpg.Record | None:
    """The cancellation that waits for this request, if it still did when the request arrived;
    one past its time is left for refuse_expired to refuse."""
    return await conn.fetchrow(
        "DELETE FROM early_cancellation WHERE source = $1 AND external_id = $2 AND until > $3 "
        "RETURNING source, external_id, reason, correlation_id, message_id", source, external_id, arrived_at)


async def claim_expired_cancellations(conn: asyncpg.Connection, now: datetime, limit: int) -> list[asyncpg.Record]:
    """Cancellations whose request has not come by their time, taken so that no other intake
    process refuses them too."""
    return await conn.fetch(
        "DELETE FROM early_cancellation WHERE (source, external_id) IN (SELECT source, external_id "
        "FROM early_cancellation WHERE until <= $1 ORDER BY until LIMIT $2 FOR UPDATE SKIP LOCKED) "
        "RETURNING source, external_id, reason, correlation_id, message_id, held_at, until", now, limit)


async def upsert_volunteer(conn: asyncpg.Connection, registration: VolunteerRegistration) -> UUID:
    """Store a registration; a volunteer already known by (source, external_id) keeps their id."""
    return await conn.fetchval(
        "INSERT INTO volunteer (volunteer_id, source, external_id, registration) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (source, external_id) DO UPDATE SET registration = EXCLUDED.registration, "
        "updated_at = now() RETURNING volunteer_id",
        uuid4(), registration.source, registration.external_id, registration.model_dump(mode="json"))


def turn(*key: str) -> str:
    """A turn's name: submissions with the same key are decided one after the other, each seeing
    what the one before committed (a request's and its cancellations'; the same need's)."""
    return "intake:" + "\x1f".join(key)


async def take_turns(conn: asyncpg.Connection, turns: list[str]) -> None:
    """Wait until no other transaction holds `turns`, taken in the order given in one statement,
    and hold them until this one ends."""
    if turns:
        await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(t.turn, 0)) "
                           "FROM unnest($1::text[]) WITH ORDINALITY AS t(turn, n) ORDER BY t.n", turns)


async def same_need_around(conn: asyncpg.Connection, request_id: UUID, received_at: datetime, phone: str,
                           category: str, community_code: str, window: timedelta) -> list[OtherRequest]:
    """Other requests of the same beneficiary phone, category and community received within
    `window` of `received_at`, before or after it: of two taken at once by two processes, the one
    that committed first may carry the later time."""
    rows = await conn.fetch(
        "SELECT request_id, source, received_at FROM service_request "
        "WHERE beneficiary_phone = $3 AND category = $4 AND community_code = $5 AND request_id <> $1 "
        "AND duplicate_of IS NULL AND received_at BETWEEN $2::timestamptz - $6::interval "
        "AND $2::timestamptz + $6::interval",
        request_id, received_at, phone, category, community_code, window)
    return [OtherRequest(**row) for row in rows]


async def link_duplicate(conn: asyncpg.Connection, request_id: UUID, first: UUID) -> None:
    await conn.execute("UPDATE service_request SET duplicate_of = $2::uuid, status = 'duplicate', "
                       "status_detail = jsonb_build_object('duplicate_of', $2::uuid) WHERE request_id = $1",
                       request_id, first)


async def insert_case(conn: asyncpg.Connection, case: MediationCaseSubmission, level: str,
                      correlation_id: str, household_id: UUID | None = None) -> UUID | None:
    """Store a new case (with its parties' phones as compared, for search and erasure); None
    when (source, external_id) is already known."""
    phones = sorted({phone_key(party.phone) for party in case.parties if party.phone} - {None, ""})
    return await conn.fetchval(
        "INSERT INTO mediation_case (case_id, source, external_id, community_code, grid_code, dispute_type, "
        "severity, level, submission, correlation_id, household_id, party_phones) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) "
        "ON CONFLICT (source, external_id) DO NOTHING RETURNING case_id",
        uuid4(), case.source, case.external_id, case.community_code, case.grid_code, case.dispute_type.value,
        case.severity, level, case.model_dump(mode="json"), correlation_id, household_id, phones)


async def insert_response(conn: asyncpg.Connection, response: AssignmentResponse) -> None:
    await conn.execute(
        "INSERT INTO assignment_response (assignment_id, source, volunteer_external_id, accept, reason) "
        "VALUES ($1, $2, $3, $4, $5)", response.assignment_id, response.source, response.volunteer_external_id,
        response.accept, response.reason)


async def insert_completion(conn: asyncpg.Connection, completion: ServiceCompletion) -> None:
    await conn.execute(
        "INSERT INTO service_completion (assignment_id, hours, people_served, note) VALUES ($1, $2, $3, $4)",
        completion.assignment_id, completion.hours, completion.people_served, completion.note)


async def queue_status_update(conn: asyncpg.Connection, source: str, url: str, body: bytes,
                              due_at: datetime) -> None:
    await conn.execute("INSERT INTO status_update (source, url, body, next_attempt_at) VALUES ($1, $2, $3, $4)",
                       source, url, body, due_at)


async def lock_due_status_updates(conn: asyncpg.Connection, now: datetime, stale: datetime, limit: int) -> list[asyncpg.Record]:
    """Status updates due by `now` (or left 'sending' before `stale` by a process that died mid-call), locked so
    that no other intake process sends them too. A source gets its
    updates in order: while an earlier one waits for a retry, the later ones wait behind it."""
    return await conn.fetch(
        "SELECT id, source, url, body, attempts, status, repeats, delivery_id FROM status_update u "
        f"WHERE {STATUS_UPDATES.due} AND NOT EXISTS (SELECT 1 FROM status_update earlier "
        "WHERE earlier.source = u.source AND earlier.status IN ('pending', 'sending') AND earlier.id < u.id) "
        "ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED", now, stale, limit)


STATUS_UPDATES = DeliveryTable("status_update", "id")


async def record_rejection(conn: asyncpg.Connection, submission: str, rejection: Rejection,
                           body: bytes, message_id: str | None) -> None:
    """The body is kept masked (shared/privacy.py): operators see what was wrong, not whom it named."""
    await conn.execute(
        "INSERT INTO rejection (submission, reason, source, external_id, message_id, body_excerpt) "
        "VALUES ($1, $2, $3, $4, $5, $6)", submission, rejection.reason, rejection.source,
        rejection.external_id, message_id, mask_raw_body(body_excerpt(body)))


async def recent_rejections(conn: asyncpg.Connection, limit: int, source: str | None) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT id, submission, reason, source, external_id, message_id, body_excerpt, rejected_at "
        "FROM rejection WHERE $2::text IS NULL OR source = $2 ORDER BY id DESC LIMIT $1", limit, source)


# Open311 (read-only): a request with the team of its (first) assigned volunteer, when intake knows them.
OPEN311_SELECT = (
    "SELECT r.request_id, r.source, r.category, r.community_code, r.status, r.status_detail, r.submission, "
    "r.received_at, r.updated_at, v.registration ->> 'team' AS team FROM service_request r "
    "LEFT JOIN volunteer v ON v.source = r.status_detail -> 'volunteers' -> 0 ->> 'source' "
    "AND v.external_id = r.status_detail -> 'volunteers' -> 0 ->> 'external_id' ")


async def open311_requests_by_id(conn: asyncpg.Connection, request_ids: list[UUID]) -> list[asyncpg.Record]:
    return await conn.fetch(OPEN311_SELECT + "WHERE r.request_id = ANY($1::uuid[]) "
                            "ORDER BY r.received_at DESC, r.request_id", request_ids)


async def open311_requests_received(conn: asyncpg.Connection, start: datetime, end: datetime,
                                    categories: list[str] | None, statuses: list[str] | None, among: bool,
                                    limit: int) -> list[asyncpg.Record]:
    """Requests received in [start, end], newest first, of `categories` (None: any) whose status
    is (`among`) or is not one of `statuses` (None: any)."""
    return await conn.fetch(
        OPEN311_SELECT + "WHERE r.received_at BETWEEN $1 AND $2 AND ($3::text[] IS NULL OR r.category = ANY($3)) "
        "AND ($4::text[] IS NULL OR (r.status = ANY($4)) = $5) ORDER BY r.received_at DESC, r.request_id LIMIT $6",
        start, end, categories, statuses, among, limit)
