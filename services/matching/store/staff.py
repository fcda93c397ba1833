"""What the staff's actions read and write (domain/staff.py, staff_api.py)."""
from datetime import date
from uuid import UUID

import asyncpg

from services.matching.domain.changes import (AskAgain, BookPlace, LinkDuplicate, RecordHandled, RecordReturnVisit,
                                              ReopenTask)
from services.matching.domain.model import Volunteer
from services.matching.domain.staff import Named
from services.matching.domain.tasks import SeriesStatus, TaskState
from services.matching.store import roster, tasks
from shared.events import VolunteerRef

ENDED = ("declined", "expired", "withdrawn", "missed")


async def book_place(conn: asyncpg.Connection, change: BookPlace) -> None:
    """As roster.book, without the caps: settled like any other offer's booking."""
    await conn.execute("UPDATE volunteer SET open_assignments = open_assignments + 1 WHERE volunteer_id = $1",
                       change.volunteer_id)
    await conn.execute(
        "INSERT INTO volunteer_week AS w (volunteer_id, week, hours) VALUES ($1, $2, $3::numeric) "
        "ON CONFLICT (volunteer_id, week) DO UPDATE SET hours = w.hours + EXCLUDED.hours",
        change.volunteer_id, change.week, change.hours)


async def ask_again(conn: asyncpg.Connection, change: AskAgain) -> None:
    await conn.execute("UPDATE assignment SET ask_again = true WHERE task_id = $1 AND status = ANY($2::text[]) "
                       "AND ($3::uuid IS NULL OR volunteer_id = $3) AND NOT ask_again",
                       change.task_id, list(ENDED), change.volunteer_id)


# The volunteers a task was offered to (and not to be asked again since it was reopened),
# formatted with the task: a parameter, or a column of a bigger statement (store/waiting.py).
ASKED = "SELECT volunteer_id FROM assignment WHERE task_id = {task} AND NOT ask_again"


async def asked(conn: asyncpg.Connection, task_id: UUID) -> frozenset[UUID]:
    rows = await conn.fetch(ASKED.format(task="$1"), task_id)
    return frozenset(row["volunteer_id"] for row in rows)


async def reopen_task(conn: asyncpg.Connection, change: ReopenTask) -> None:
    await conn.execute("UPDATE task SET status = 'open', wants_offers = true, reopened_at = $2 WHERE task_id = $1",
                       change.task_id, change.at)


async def record_handled(conn: asyncpg.Connection, change: RecordHandled) -> None:
    await conn.execute("INSERT INTO staff_handled (task_id, staff_subject, hours, people_served, handled_at) "
                       "VALUES ($1, $2, $3, $4, $5)", change.task_id, change.staff_subject, change.hours,
                       change.people_served, change.at)


async def link_duplicate(conn: asyncpg.Connection, change: LinkDuplicate) -> None:
    await conn.execute("UPDATE service_request SET duplicate_of = $2 WHERE request_id = $1", change.request_id,
                       change.duplicate_of)


async def record_return_visit(conn: asyncpg.Connection, change: RecordReturnVisit) -> None:
    await conn.execute("INSERT INTO return_visit (case_id, satisfaction, note, staff_subject, visited_at) "
                       "VALUES ($1, $2, $3, $4, $5)", change.case_id, change.satisfaction, change.note,
                       change.staff_subject, change.at)


async def return_visited(conn: asyncpg.Connection, case_id: UUID) -> bool:
    return bool(await conn.fetchval("SELECT true FROM return_visit WHERE case_id = $1", case_id))


async def series(conn: asyncpg.Connection, request_id: UUID) -> asyncpg.Record | None:
    """The request's community, status and what it duplicates (None: matching has not received it)."""
    return await conn.fetchrow("SELECT community_code, status, duplicate_of FROM service_request "
                               "WHERE request_id = $1 AND received IS NOT NULL", request_id)


async def request_community(conn: asyncpg.Connection, request_id: UUID) -> str | None:
    return await conn.fetchval("SELECT community_code FROM service_request WHERE request_id = $1 "
                               "AND received IS NOT NULL", request_id)


def series_status(row: asyncpg.Record) -> SeriesStatus:
    """The stored status as a series': v1's rows were 'assigned' or 'escalated', i.e. open."""
    return SeriesStatus(row["status"]) if row["status"] in set(SeriesStatus) else SeriesStatus.OPEN


async def occurrences(conn: asyncpg.Connection, request_id: UUID, *, lock: bool = True) -> list[TaskState]:
    """Every occurrence of the request, in order (locked, unless only read)."""
    return [tasks._task(row) for row in await conn.fetch(
        f"SELECT * FROM task WHERE request_id = $1 ORDER BY occurrence{' FOR UPDATE' if lock else ''}", request_id)]


async def case_community(conn: asyncpg.Connection, case_id: UUID) -> str | None:
    return await conn.fetchval("SELECT community_code FROM mediation_case WHERE case_id = $1", case_id)


async def case_task(conn: asyncpg.Connection, case_id: UUID, level: str) -> TaskState | None:
    """The case's task at its level while under way, locked (none past the street)."""
    row = await conn.fetchrow("SELECT * FROM task WHERE case_id = $1 AND level = $2 AND status IN ('open', 'assigned') "
                              "FOR UPDATE", case_id, level)
    return tasks._task(row) if row else None


async def named(conn: asyncpg.Connection, volunteer_id: UUID) -> Named | None:
    """The volunteer staff named, with the windows they accepted (read under their lock)."""
    row = await conn.fetchrow("SELECT volunteer_id, source, external_id, active FROM volunteer WHERE volunteer_id = $1",
                              volunteer_id)
    if row is None:
        return None
    await roster.lock_volunteer(conn, volunteer_id)
    booked = await conn.fetch(
        "SELECT t.window_start, t.window_end FROM assignment a JOIN task t USING (task_id) "
        "WHERE a.volunteer_id = $1 AND a.status = 'accepted' AND t.window_start IS NOT NULL ORDER BY t.window_start",
        volunteer_id)
    return Named(VolunteerRef(volunteer_id=row["volunteer_id"], source=row["source"], external_id=row["external_id"]),
                 row["active"], tuple((b["window_start"], b["window_end"]) for b in booked))


async def area_volunteers(conn: asyncpg.Connection, communities: list[str],
                          week: date) -> list[tuple[Volunteer, str, str | None]]:
    """Every volunteer of `communities` (paused ones too) as a candidate, with their name and team."""
    rows = await conn.fetch(
        "SELECT v.volunteer_id, v.source, v.external_id, v.name, v.team, v.community_code, v.grid_code, v.skills, "
        "v.availability, v.max_weekly_hours, v.lat, v.lon, v.languages, v.active, v.open_assignments, "
        "COALESCE(w.hours, 0) AS week_hours, 0 AS recent_hours, "
        "COALESCE((SELECT array_agg(tstzrange(t.window_start, t.window_end)) FROM assignment a JOIN task t "
        "          USING (task_id) WHERE a.volunteer_id = v.volunteer_id AND a.status = 'accepted' "
        "          AND t.window_start IS NOT NULL), '{}') AS booked "
        "FROM volunteer v LEFT JOIN volunteer_week w ON w.volunteer_id = v.volunteer_id AND w.week = $2 "
        "WHERE v.community_code = ANY($1::text[]) ORDER BY v.community_code, v.name", communities, week)
    return [(roster._volunteer(row), row["name"], row["team"]) for row in rows]
