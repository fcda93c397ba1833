"""intake's SQL. Every function takes the connection of the current unit of work."""
from datetime import datetime
from uuid import UUID, uuid4

import asyncpg

from services.intake.domain import Rejection, body_excerpt
from shared.submissions import ServiceRequestSubmission, VolunteerRegistration

REQUEST_COLUMNS = ("request_id, source, external_id, category, community_code, status, status_detail, "
                   "correlation_id, received_at, updated_at")


async def insert_request(conn: asyncpg.Connection, submission: ServiceRequestSubmission,
                         correlation_id: str) -> UUID | None:
    """Store a new request; None when (source, external_id) is already known."""
    return await conn.fetchval(
        "INSERT INTO service_request (request_id, source, external_id, category, community_code, "
        "submission, correlation_id) VALUES ($1, $2, $3, $4, $5, $6, $7) "
        "ON CONFLICT (source, external_id) DO NOTHING RETURNING request_id",
        uuid4(), submission.source, submission.external_id, submission.category,
        submission.community_code, submission.model_dump(mode="json"), correlation_id)


async def request_by_key(conn: asyncpg.Connection, source: str, external_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(f"SELECT {REQUEST_COLUMNS} FROM service_request "
                               "WHERE source = $1 AND external_id = $2", source, external_id)


async def request_by_id(conn: asyncpg.Connection, request_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(f"SELECT {REQUEST_COLUMNS} FROM service_request WHERE request_id = $1",
                               request_id)


async def set_status(conn: asyncpg.Connection, request_id: UUID, status: str, detail: dict,
                     occurred_at: datetime) -> None:
    """Move a request to `status`, unless a later change has already been recorded."""
    await conn.execute(
        "UPDATE service_request SET status = $2, status_detail = $3, updated_at = $4 "
        "WHERE request_id = $1 AND updated_at <= $4", request_id, status, detail, occurred_at)


async def upsert_volunteer(conn: asyncpg.Connection, registration: VolunteerRegistration) -> UUID:
    """Store a registration; a volunteer already known by (source, external_id) keeps their id."""
    return await conn.fetchval(
        "INSERT INTO volunteer (volunteer_id, source, external_id, registration) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (source, external_id) DO UPDATE SET registration = EXCLUDED.registration, "
        "updated_at = now() RETURNING volunteer_id",
        uuid4(), registration.source, registration.external_id, registration.model_dump(mode="json"))


async def record_rejection(conn: asyncpg.Connection, submission: str, rejection: Rejection,
                           body: bytes, message_id: str | None) -> None:
    await conn.execute(
        "INSERT INTO rejection (submission, reason, source, external_id, message_id, body_excerpt) "
        "VALUES ($1, $2, $3, $4, $5, $6)", submission, rejection.reason, rejection.source,
        rejection.external_id, message_id, body_excerpt(body))


async def recent_rejections(conn: asyncpg.Connection, limit: int, source: str | None) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT id, submission, reason, source, external_id, message_id, body_excerpt, rejected_at "
        "FROM rejection WHERE $2::text IS NULL OR source = $2 ORDER BY id DESC LIMIT $1", limit, source)
