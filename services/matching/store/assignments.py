"""Offers and assignments: who was offered which task, and what became of it."""
from datetime import date, datetime
from uuid import UUID

import asyncpg

# An assignment with its task and the volunteer as the outside world knows them.
_JOINED = ("SELECT a.*, t.community_code, t.request_id, t.occurrence, t.case_id, t.level, "
           "v.source AS volunteer_source, v.external_id AS volunteer_external_id "
           "FROM assignment a JOIN task t USING (task_id) JOIN volunteer v USING (volunteer_id) ")


async def insert(conn: asyncpg.Connection, assignment_id: UUID, task_id: UUID, volunteer_id: UUID, reason: dict,
                 planned_hours: float, week: date, expires_at: datetime) -> None:
    await conn.execute(
        "INSERT INTO assignment (assignment_id, task_id, volunteer_id, reason, planned_hours, week, expires_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7)",
        assignment_id, task_id, volunteer_id, reason, planned_hours, week, expires_at)


async def find(conn: asyncpg.Connection, assignment_id: UUID, *, lock: bool = False) -> asyncpg.Record | None:
    return await conn.fetchrow(_JOINED + "WHERE a.assignment_id = $1" + (" FOR UPDATE OF a" if lock else ""),
                               assignment_id)


async def of_task(conn: asyncpg.Connection, task_id: UUID) -> list[asyncpg.Record]:
    return await conn.fetch(_JOINED + "WHERE a.task_id = $1 ORDER BY a.created_at", task_id)


async def answer(conn: asyncpg.Connection, assignment_id: UUID, status: str, reason: str | None = None) -> None:
    await conn.execute("UPDATE assignment SET status = $2, answered_at = now(), answer_reason = $3 "
                       "WHERE assignment_id = $1", assignment_id, status, reason)


async def complete(conn: asyncpg.Connection, assignment_id: UUID, hours: float, people_served: int,
                   outcome: str | None) -> None:
    await conn.execute("UPDATE assignment SET status = 'completed', completed_at = now(), hours = $2, "
                       "people_served = $3, outcome = $4 WHERE assignment_id = $1",
                       assignment_id, hours, people_served, outcome)


async def expired(conn: asyncpg.Connection, now: datetime, limit: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT a.assignment_id, t.community_code FROM assignment a JOIN task t USING (task_id) "
        "WHERE a.status = 'offered' AND a.expires_at <= $1 ORDER BY a.expires_at LIMIT $2", now, limit)


async def detail(conn: asyncpg.Connection, assignment_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT a.assignment_id, t.request_id, t.occurrence, t.case_id, t.level, a.status, a.reason, a.created_at, "
        "a.expires_at, a.answered_at, a.answer_reason, a.planned_hours, a.hours, a.people_served, a.outcome, "
        "a.completed_at, v.volunteer_id, v.source AS volunteer_source, v.external_id AS volunteer_external_id, "
        "v.name AS volunteer_name, v.team, t.community_code, t.search_area "
        "FROM assignment a JOIN task t USING (task_id) JOIN volunteer v USING (volunteer_id) "
        "WHERE a.assignment_id = $1", assignment_id)
