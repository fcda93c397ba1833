"""matching's SQL. Every function takes the connection of the current unit of work."""
from uuid import UUID, uuid4

import asyncpg

from services.matching.domain import Candidate, Choice
from shared.events import RequestReceived, VolunteerRegistered

CANDIDATE_COLUMNS = "volunteer_id, source, external_id, community_code, skills, active, open_assignments"


async def save_volunteer(conn: asyncpg.Connection, event: VolunteerRegistered) -> None:
    """Add or update a roster entry; a registration older than the one applied is ignored."""
    await conn.execute(
        "INSERT INTO volunteer (volunteer_id, source, external_id, name, community_code, team, skills, "
        "registered_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
        "ON CONFLICT (volunteer_id) DO UPDATE SET name = EXCLUDED.name, "
        "community_code = EXCLUDED.community_code, team = EXCLUDED.team, skills = EXCLUDED.skills, "
        "registered_at = EXCLUDED.registered_at WHERE volunteer.registered_at <= EXCLUDED.registered_at",
        event.volunteer_id, event.source, event.external_id, event.name, event.community_code,
        event.team, list(event.skills), event.occurred_at)


async def request_known(conn: asyncpg.Connection, request_id: UUID) -> bool:
    return bool(await conn.fetchval("SELECT true FROM service_request WHERE request_id = $1", request_id))


async def lock_community(conn: asyncpg.Connection, community_code: str) -> None:
    """One decision at a time per community, across every matching process, until this
    transaction ends: each decision then sees the loads the one before it left, so two
    requests never both go to the volunteer who was idle, and none is escalated for want of
    a volunteer another decision merely had in view. Communities are still matched in parallel."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('matching.community:' || $1))", community_code)


async def candidates(conn: asyncpg.Connection, community_code: str, skills: tuple[str, ...],
                     limit: int) -> list[Candidate]:
    """The least loaded active volunteers of the community with one of `skills`."""
    rows = await conn.fetch(
        f"SELECT {CANDIDATE_COLUMNS} FROM volunteer "
        "WHERE community_code = $1 AND active AND skills && $2::text[] "
        "ORDER BY open_assignments, volunteer_id LIMIT $3",
        community_code, list(skills), limit)
    return [Candidate(**{**row, "skills": frozenset(row["skills"])}) for row in rows]


async def save_request(conn: asyncpg.Connection, event: RequestReceived, status: str,
                       reason: str | None = None) -> None:
    await conn.execute(
        "INSERT INTO service_request (request_id, source, external_id, category, community_code, urgency, "
        "status, reason, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        event.request_id, event.source, event.external_id, event.category, event.community_code,
        event.urgency.value, status, reason, event.occurred_at)


async def save_assignment(conn: asyncpg.Connection, request_id: UUID, choice: Choice) -> UUID:
    assignment_id = uuid4()
    await conn.execute(
        "INSERT INTO assignment (assignment_id, request_id, volunteer_id, reason) VALUES ($1, $2, $3, $4)",
        assignment_id, request_id, choice.volunteer.volunteer_id, choice.reason())
    await conn.execute("UPDATE volunteer SET open_assignments = open_assignments + 1 WHERE volunteer_id = $1",
                       choice.volunteer.volunteer_id)
    return assignment_id


async def roster(conn: asyncpg.Connection, community_code: str | None, limit: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT volunteer_id, source, external_id, name, community_code, team, skills, active, "
        "open_assignments, registered_at FROM volunteer WHERE $1::text IS NULL OR community_code = $1 "
        "ORDER BY community_code, name LIMIT $2", community_code, limit)


async def assignment(conn: asyncpg.Connection, assignment_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT a.assignment_id, a.request_id, a.status, a.reason, a.created_at, v.volunteer_id, "
        "v.source AS volunteer_source, v.external_id AS volunteer_external_id, v.name AS volunteer_name, "
        "r.category, r.community_code FROM assignment a JOIN volunteer v USING (volunteer_id) "
        "JOIN service_request r USING (request_id) WHERE a.assignment_id = $1", assignment_id)
