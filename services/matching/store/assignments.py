"""Offers and assignments: who was offered which task, and what became of it."""
from datetime import datetime
from uuid import UUID

import asyncpg

from services.matching.domain.bookings import Window
from services.matching.domain.changes import AddAssignment, DropReport, KeepReport, MoveAssignment, RecordService
from services.matching.domain.offers import AssignmentState, Status
from services.matching.store.setbacks import NOT_SET_ASIDE, SETBACK
from shared.events import CompletionReported, VolunteerRef

# An assignment with the volunteer as the outside world knows them, and a report kept for it:
# the fields _assignment reads, and where each comes from.
_FIELDS = {"assignment_id": "a.assignment_id", "task_id": "a.task_id", "status": "a.status",
           "volunteer_id": "a.volunteer_id", "volunteer_source": "v.source", "volunteer_external_id": "v.external_id",
           "week": "a.week", "planned_hours": "a.planned_hours", "expires_at": "a.expires_at", "hours": "a.hours",
           "people_served": "a.people_served", "outcome": "a.outcome", "answered_at": "a.answered_at",
           "kept": "k.report"}
_FROM = "FROM assignment a JOIN volunteer v USING (volunteer_id) LEFT JOIN kept_report k USING (assignment_id) "
_JOINED = "SELECT " + ", ".join(f"{source} AS {name}" for name, source in _FIELDS.items()) + " " + _FROM
# A task's assignments, oldest first, as anonymous records (for an array in a bigger statement:
# store/waiting.py); `as_assignments` reads them.
OF_TASK = "SELECT ROW(" + ", ".join(_FIELDS.values()) + ") " + _FROM + "WHERE a.task_id = {task} ORDER BY a.created_at"


async def insert(conn: asyncpg.Connection, change: AddAssignment) -> None:
    await conn.execute(
        "INSERT INTO assignment (assignment_id, task_id, volunteer_id, reason, planned_hours, week, expires_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7)", change.assignment_id, change.task_id, change.volunteer_id,
        change.reason, change.planned_hours, change.week, change.expires_at)


async def community_of(conn: asyncpg.Connection, assignment_id: UUID) -> str | None:
    """The community of the assignment's task (None: no such assignment)."""
    return await conn.fetchval("SELECT t.community_code FROM assignment a JOIN task t USING (task_id) "
                               "WHERE a.assignment_id = $1", assignment_id)


async def places_of(conn: asyncpg.Connection, assignment_ids: list[UUID]) -> dict[UUID, tuple[str, UUID]]:
    """Each known assignment's task's community and its volunteer."""
    return {row["assignment_id"]: (row["community_code"], row["volunteer_id"]) for row in await conn.fetch(
        "SELECT a.assignment_id, t.community_code, a.volunteer_id FROM assignment a JOIN task t USING (task_id) "
        "WHERE a.assignment_id = ANY($1::uuid[])", assignment_ids)}


async def find(conn: asyncpg.Connection, assignment_id: UUID, *, lock: bool = False) -> AssignmentState | None:
    row = await conn.fetchrow(_JOINED + "WHERE a.assignment_id = $1" + (" FOR UPDATE OF a" if lock else ""),
                              assignment_id)
    return _assignment(row) if row else None


async def of_task(conn: asyncpg.Connection, task_id: UUID) -> tuple[AssignmentState, ...]:
    """Every assignment of the task, oldest first."""
    return tuple(map(_assignment, await conn.fetch(_JOINED + "WHERE a.task_id = $1 ORDER BY a.created_at", task_id)))


def as_assignments(records: list[tuple]) -> tuple[AssignmentState, ...]:
    """OF_TASK's records as assignments."""
    return tuple(_assignment(dict(zip(_FIELDS, record))) for record in records)


def _assignment(row: asyncpg.Record | dict) -> AssignmentState:
    return AssignmentState(
        assignment_id=row["assignment_id"], task_id=row["task_id"], status=Status(row["status"]),
        volunteer=VolunteerRef(volunteer_id=row["volunteer_id"], source=row["volunteer_source"],
                               external_id=row["volunteer_external_id"]),
        week=row["week"], planned_hours=float(row["planned_hours"]), expires_at=row["expires_at"],
        hours=float(row["hours"]) if row["hours"] is not None else None, people_served=row["people_served"],
        outcome=row["outcome"], answered_at=row["answered_at"],
        kept_report=CompletionReported.model_validate(row["kept"]) if row["kept"] else None)


async def move(conn: asyncpg.Connection, change: MoveAssignment) -> None:
    await conn.execute("UPDATE assignment SET status = $2, answered_at = $3, answer_reason = $4 "
                       "WHERE assignment_id = $1", change.assignment_id, change.status, change.at, change.reason)


async def record_service(conn: asyncpg.Connection, change: RecordService) -> None:
    await conn.execute("UPDATE assignment SET status = $2, completed_at = $3, hours = $4, people_served = $5, "
                       "outcome = $6 WHERE assignment_id = $1", change.assignment_id, Status.COMPLETED, change.at,
                       change.hours, change.people_served, change.outcome)


async def keep_report(conn: asyncpg.Connection, change: KeepReport) -> None:
    await conn.execute("INSERT INTO kept_report (assignment_id, report, kept_at) VALUES ($1, $2, $3) "
                       "ON CONFLICT DO NOTHING", change.assignment_id, change.report.model_dump(mode="json"), change.at)


async def drop_report(conn: asyncpg.Connection, change: DropReport) -> None:
    await conn.execute("DELETE FROM kept_report WHERE assignment_id = $1", change.assignment_id)


async def expired(conn: asyncpg.Connection, now: datetime, limit: int) -> list[asyncpg.Record]:
    """Offers unanswered at `now` (assignment_id, attempts, due), but those set aside."""
    return await conn.fetch(
        "SELECT a.assignment_id, s.attempts, a.expires_at AS due FROM assignment a "
        + SETBACK.format(key="a.assignment_id")
        + "WHERE a.status = 'offered' AND a.expires_at <= $1 AND " + NOT_SET_ASIDE
        + " ORDER BY a.expires_at LIMIT $2", now, limit, "expire")


async def lapsed(conn: asyncpg.Connection, now: datetime, accepted_before: datetime,
                 limit: int) -> list[asyncpg.Record]:
    """Accepted assignments of tasks without a window, accepted by `accepted_before` (assignment_id,
    attempts, due: when their deadline passed)."""
    return await conn.fetch(
        "SELECT a.assignment_id, s.attempts, a.answered_at + ($1::timestamptz - $4::timestamptz) AS due "
        "FROM assignment a JOIN task t USING (task_id) "
        + SETBACK.format(key="a.assignment_id") + "WHERE a.status = 'accepted' AND a.answered_at <= $4 "
        "AND t.window_end IS NULL AND " + NOT_SET_ASIDE + " ORDER BY a.answered_at LIMIT $2",
        now, limit, "lapse", accepted_before)


async def booked(conn: asyncpg.Connection, volunteer_id: UUID, besides: UUID) -> tuple[Window, ...]:
    """The windows of the assignments the volunteer accepted and holds, but `besides`."""
    rows = await conn.fetch(
        "SELECT t.window_start, t.window_end FROM assignment a JOIN task t USING (task_id) "
        "WHERE a.volunteer_id = $1 AND a.status = 'accepted' AND a.assignment_id <> $2 "
        "AND t.window_start IS NOT NULL ORDER BY t.window_start", volunteer_id, besides)
    return tuple((row["window_start"], row["window_end"]) for row in rows)


async def detail(conn: asyncpg.Connection, assignment_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT a.assignment_id, t.request_id, t.occurrence, t.case_id, t.level, a.status, a.reason, a.created_at, "
        "a.expires_at, a.answered_at, a.answer_reason, a.planned_hours, a.hours, a.people_served, a.outcome, "
        "a.completed_at, v.volunteer_id, v.source AS volunteer_source, v.external_id AS volunteer_external_id, "
        "v.name AS volunteer_name, v.team, t.community_code, t.search_area "
        "FROM assignment a JOIN task t USING (task_id) JOIN volunteer v USING (volunteer_id) "
        "WHERE a.assignment_id = $1", assignment_id)
