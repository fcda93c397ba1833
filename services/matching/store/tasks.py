"""Requests, mediation cases and their tasks (an occurrence of a request, a case at a level).

The task statuses written here come from TaskStatus; those the queries filter on ('open',
'assigned': TaskStatus.OPEN and UNDER_WAY) stay literals, as the partial indexes of
migrations/0002 name them and the planner matches an index's predicate by its text."""
from datetime import datetime
from uuid import UUID

import asyncpg

from services.matching.domain.changes import (AddTask, CloseCase, FollowUpAnnounced, MoveCase, MoveTask,
                                              RememberCancellation, SetSeries, WaitForFree, WantOffers,
                                              WidenSearch)
from services.matching.store.setbacks import NOT_SET_ASIDE, SETBACK
from services.matching.domain.subjects import Case, Subject
from services.matching.domain.tasks import TaskState, TaskStatus
from shared.events import CaseReceived, RequestReceived
from shared.mediation import Level
from shared.submissions import Urgency


async def lock_community(conn: asyncpg.Connection, community: str) -> None:
    """One decision at a time per community, across every matching process, until the
    transaction ends: each decision sees the loads the one before left. Every path that
    changes a community's tasks takes this lock first, then row locks, so none deadlock (a
    batch of messages takes all its communities' first: lock_communities)."""
    await lock_communities(conn, [community])


async def lock_communities(conn: asyncpg.Connection, communities: list[str]) -> None:
    """lock_community for each, in the one order (by code), in one statement."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('matching.community:' || c)) FROM unnest($1::text[]) c",
                       sorted(set(communities)))


def request_lock(request_id: UUID) -> str:
    """The lock of a request's arrival and its cancellation, one at a time (the cancellation takes
    it after the community's lock; the arrival takes no other first, and its subject's erasure
    lock after it)."""
    return f"matching.request:{request_id}"


async def lock_request(conn: asyncpg.Connection, request_id: UUID) -> None:
    await take_locks(conn, [request_lock(request_id)])


async def take_locks(conn: asyncpg.Connection, locks: list[str]) -> None:
    """Transaction locks named by `locks` (request_lock, erasure.erasure_lock), in the order
    given, in one statement."""
    if locks:
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext(t.lock)) "
                           "FROM unnest($1::text[]) WITH ORDINALITY AS t(lock, n) ORDER BY t.n", locks)


async def save_request(conn: asyncpg.Connection, event: RequestReceived) -> bool:
    """Store the request once; False if it was already known."""
    return bool(await conn.fetchval(
        "INSERT INTO service_request (request_id, source, external_id, category, community_code, urgency, status, "
        "received_at, received) VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $8) ON CONFLICT DO NOTHING RETURNING true",
        event.request_id, event.source, event.external_id, event.category, event.community_code,
        event.urgency.value, event.occurred_at, event.model_dump(mode="json")))


async def remember_cancellation(conn: asyncpg.Connection, change: RememberCancellation) -> None:
    await conn.execute("INSERT INTO cancelled_early (request_id, reason, cancelled_at) VALUES ($1, $2, $3) "
                       "ON CONFLICT DO NOTHING", change.request_id, change.reason, change.at)


async def cancelled_early(conn: asyncpg.Connection, request_id: UUID) -> bool:
    """Whether the request's cancellation came before it."""
    return bool(await conn.fetchval("SELECT true FROM cancelled_early WHERE request_id = $1", request_id))


async def request(conn: asyncpg.Connection, request_id: UUID) -> RequestReceived | None:
    received = await conn.fetchval("SELECT received FROM service_request WHERE request_id = $1", request_id)
    return RequestReceived.model_validate(received) if received else None


async def set_series(conn: asyncpg.Connection, change: SetSeries) -> None:
    await conn.execute("UPDATE service_request SET status = $2 WHERE request_id = $1", change.request_id,
                       change.status)


async def save_case(conn: asyncpg.Connection, event: CaseReceived, level: str) -> bool:
    return bool(await conn.fetchval(
        "INSERT INTO mediation_case (case_id, source, external_id, community_code, grid_code, dispute_type, summary, "
        "severity, correlation_id, level, received_at, household_id) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT DO NOTHING RETURNING true",
        event.case_id, event.source, event.external_id, event.community_code, event.grid_code,
        event.dispute_type.value, event.summary, event.severity, event.correlation_id, level, event.occurred_at,
        event.household_id))


async def case(conn: asyncpg.Connection, case_id: UUID, *, lock: bool = False) -> Case | None:
    row = await conn.fetchrow(f"SELECT * FROM mediation_case WHERE case_id = $1{' FOR UPDATE' if lock else ''}",
                              case_id)
    return _case(row) if row else None


def _case(row: asyncpg.Record) -> Case:
    return Case(case_id=row["case_id"], correlation_id=row["correlation_id"], source=row["source"],
                external_id=row["external_id"], community_code=row["community_code"], grid_code=row["grid_code"],
                dispute_type=row["dispute_type"], summary=row["summary"], level=Level(row["level"]),
                outcome=row["outcome"], follow_up_at=row["follow_up_at"],
                follow_up_announced=row["follow_up_announced"])


async def subject(conn: asyncpg.Connection, task: TaskState) -> Subject:
    """The request (as its request.received) or the case that `task` staffs."""
    return await request(conn, task.request_id) if task.request_id else await case(conn, task.case_id)


async def move_case(conn: asyncpg.Connection, change: MoveCase) -> None:
    await conn.execute("UPDATE mediation_case SET level = $2 WHERE case_id = $1", change.case_id, change.level)


async def close_case(conn: asyncpg.Connection, change: CloseCase) -> None:
    await conn.execute("UPDATE mediation_case SET status = 'closed', outcome = $2, follow_up_at = $3, "
                       "closing_note = $4 WHERE case_id = $1", change.case_id, change.outcome, change.follow_up_at,
                       change.note)


async def insert_task(conn: asyncpg.Connection, change: AddTask) -> None:
    task = change.task
    lat, lon = task.location or (None, None)
    await conn.execute(
        "INSERT INTO task (task_id, request_id, occurrence, case_id, level, community_code, grid_code, search_area, "
        "skills, helpful_skills, needed, urgency, window_start, window_end, planned_hours, lat, lon, language, "
        "status) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)",
        task.task_id, task.request_id, task.occurrence, task.case_id, task.level, task.community_code,
        task.grid_code, list(task.search_area), list(task.skills), list(task.helpful_skills), task.needed,
        task.urgency, task.window_start, task.window_end, task.planned_hours, lat, lon, task.language, task.status)


async def task(conn: asyncpg.Connection, task_id: UUID, *, lock: bool = False) -> TaskState:
    return _task(await conn.fetchrow(f"SELECT * FROM task WHERE task_id = $1{' FOR UPDATE' if lock else ''}",
                                     task_id))


def _task(row: asyncpg.Record) -> TaskState:
    return TaskState(
        task_id=row["task_id"], community_code=row["community_code"], status=TaskStatus(row["status"]),
        skills=tuple(row["skills"]), needed=row["needed"], urgency=Urgency(row["urgency"]),
        planned_hours=float(row["planned_hours"]), search_area=tuple(row["search_area"]),
        request_id=row["request_id"], occurrence=row["occurrence"], case_id=row["case_id"],
        level=Level(row["level"]) if row["level"] else None, grid_code=row["grid_code"],
        helpful_skills=tuple(row["helpful_skills"]), window_start=row["window_start"], window_end=row["window_end"],
        location=(row["lat"], row["lon"]) if row["lat"] is not None else None, language=row["language"],
        wait_until=row["wait_until"])


async def communities_waiting(conn: asyncpg.Connection, now: datetime, limit: int) -> list[asyncpg.Record]:
    """Communities with tasks that want offers (community_code, attempts), but those set aside."""
    return await conn.fetch(
        "SELECT DISTINCT t.community_code, s.attempts FROM task t " + SETBACK.format(key="t.community_code")
        + "WHERE t.wants_offers AND t.status = 'open' AND " + NOT_SET_ASIDE + " LIMIT $2", now, limit, "dispatch")


async def move_task(conn: asyncpg.Connection, change: MoveTask) -> None:
    """A move with a reason replaces the reason whole (its words, code and parameters); one
    without keeps it."""
    await conn.execute(
        "UPDATE task SET status = $2, wants_offers = false, wait_until = NULL, reason = COALESCE($3, reason), "
        "reason_code = CASE WHEN $3::text IS NULL THEN reason_code ELSE $4 END, "
        "reason_params = CASE WHEN $3::text IS NULL THEN reason_params ELSE $5::jsonb END "
        "WHERE task_id = $1", change.task_id, change.status, change.reason, change.reason_code, change.reason_params)


async def widen(conn: asyncpg.Connection, change: WidenSearch) -> None:
    await conn.execute("UPDATE task SET search_area = $2 WHERE task_id = $1", change.task_id, list(change.area))


async def wait_for_free(conn: asyncpg.Connection, change: WaitForFree) -> None:
    await conn.execute("UPDATE task SET wants_offers = false, wait_until = $2 WHERE task_id = $1",
                       change.task_id, change.until)


async def wake_waiting(conn: asyncpg.Connection, volunteer_id: UUID) -> None:
    """The volunteer freed a place: the tasks waiting for one in an area they serve (their
    community in the task's search area) want offers again, for the next decision there."""
    await conn.execute(
        "UPDATE task SET wants_offers = true WHERE wait_until IS NOT NULL AND status = 'open' AND NOT wants_offers "
        "AND (SELECT community_code FROM volunteer WHERE volunteer_id = $1) = ANY(search_area)", volunteer_id)


async def wait_over(conn: asyncpg.Connection, now: datetime) -> int:
    """The tasks whose wait for a free volunteer is over want offers again: the next decision
    offers them or escalates them. Returns how many."""
    return int((await conn.execute(
        "UPDATE task SET wants_offers = true WHERE wait_until <= $1 AND status = 'open' AND NOT wants_offers",
        now)).split()[-1])


async def want_offers_all(conn: asyncpg.Connection, changes: list[WantOffers]) -> None:
    """Tasks with every offer they need end their wait for a free volunteer, if they had one;
    in one statement (of two changes to one task, the later holds)."""
    wanted = {change.task_id: change.wanted for change in changes}
    await conn.execute("UPDATE task t SET wants_offers = c.wanted, wait_until = CASE WHEN c.wanted THEN wait_until END "
                       "FROM unnest($1::uuid[], $2::bool[]) AS c(task_id, wanted) WHERE t.task_id = c.task_id",
                       list(wanted), list(wanted.values()))


# Who served the latest earlier occurrence of a series (the pairing to keep); and who was
# offered a case, at any level. Formatted with the request, occurrence or case they are of: a
# parameter, or a column of a bigger statement (store/waiting.py).
PAIRED = ("SELECT a.volunteer_id FROM assignment a JOIN task t USING (task_id) WHERE t.request_id = {request} "
          "AND t.occurrence = (SELECT max(p.occurrence) FROM task p JOIN assignment pa USING (task_id) "
          "  WHERE p.request_id = {request} AND p.occurrence < {occurrence} AND pa.status = 'completed') "
          "AND a.status = 'completed'")
OFFERED_FOR_CASE = "SELECT a.volunteer_id FROM assignment a JOIN task t USING (task_id) WHERE t.case_id = {case}"


async def paired(conn: asyncpg.Connection, request_id: UUID, occurrence: int) -> frozenset[UUID]:
    rows = await conn.fetch(PAIRED.format(request="$1", occurrence="$2"), request_id, occurrence)
    return frozenset(row["volunteer_id"] for row in rows)


async def open_tasks_of_request(conn: asyncpg.Connection, request_id: UUID) -> list[TaskState]:
    return [_task(row) for row in await conn.fetch(
        "SELECT * FROM task WHERE request_id = $1 AND status IN ('open', 'assigned') FOR UPDATE", request_id)]


async def missed(conn: asyncpg.Connection, now: datetime, limit: int) -> list[asyncpg.Record]:
    """Occurrences whose window ended before they were served (task_id, community_code, attempts,
    due), but those set aside and those staff reopened after it ended."""
    return await conn.fetch(
        "SELECT t.task_id, t.community_code, s.attempts, t.window_end AS due FROM task t "
        + SETBACK.format(key="t.task_id")
        + "WHERE t.status IN ('open', 'assigned') AND t.window_end < $1 AND t.request_id IS NOT NULL "
        # reopened by staff after its window ended: it is not missed twice
        "AND (t.reopened_at IS NULL OR t.window_end > t.reopened_at) AND "
        + NOT_SET_ASIDE + " ORDER BY t.window_end LIMIT $2", now, limit, "miss")


async def follow_ups_due(conn: asyncpg.Connection, now: datetime, limit: int) -> list[asyncpg.Record]:
    """Closed cases whose return visit is due (case_id, attempts, due), but those set aside."""
    return await conn.fetch(
        "SELECT c.case_id, s.attempts, c.follow_up_at AS due FROM mediation_case c "
        + SETBACK.format(key="c.case_id")
        + "WHERE NOT c.follow_up_announced AND c.follow_up_at <= $1 AND " + NOT_SET_ASIDE
        + " ORDER BY c.follow_up_at LIMIT $2", now, limit, "follow_up")


async def follow_up_announced(conn: asyncpg.Connection, change: FollowUpAnnounced) -> None:
    await conn.execute("UPDATE mediation_case SET follow_up_announced = true WHERE case_id = $1", change.case_id)


async def request_view(conn: asyncpg.Connection, request_id: UUID) -> dict | None:
    """A request as matching sees it: its occurrences and their assignments."""
    row = await conn.fetchrow("SELECT request_id, source, external_id, category, community_code, urgency, status, "
                              "received_at FROM service_request WHERE request_id = $1", request_id)
    if row is None:
        return None
    return {**dict(row), "occurrences": await _tasks_with_assignments(conn, "request_id", request_id)}


async def case_view(conn: asyncpg.Connection, case_id: UUID) -> dict | None:
    row = await conn.fetchrow("SELECT case_id, source, external_id, community_code, grid_code, dispute_type, "
                              "severity, level, status, outcome, follow_up_at, received_at FROM mediation_case "
                              "WHERE case_id = $1", case_id)
    if row is None:
        return None
    return {**dict(row), "levels": await _tasks_with_assignments(conn, "case_id", case_id)}


async def _tasks_with_assignments(conn: asyncpg.Connection, key: str, value: UUID) -> list[dict]:
    rows = await conn.fetch(
        "SELECT t.task_id, t.occurrence, t.level, t.status, t.reason, t.reason_code, t.reason_params, t.needed, "
        "t.window_start, t.window_end, "
        "t.search_area, COALESCE(json_agg(json_build_object('assignment_id', a.assignment_id, 'volunteer_id', "
        "a.volunteer_id, 'status', a.status, 'hours', a.hours, 'outcome', a.outcome) ORDER BY a.created_at) "
        "FILTER (WHERE a.assignment_id IS NOT NULL), '[]') AS assignments "
        f"FROM task t LEFT JOIN assignment a USING (task_id) WHERE t.{key} = $1 "
        "GROUP BY t.task_id ORDER BY t.created_at", value)
    return [{**dict(row), "assignments": row["assignments"]} for row in rows]


async def escalation_backlog(conn: asyncpg.Connection) -> int:
    """Occurrences of requests with the community's staff: escalated, and since neither completed
    (by the volunteers who held places) nor cancelled (an escalated task keeps its status, its
    series is cancelled)."""
    return await conn.fetchval(
        "SELECT count(*) FROM task t JOIN service_request r USING (request_id) "
        "WHERE t.status = 'escalated' AND r.status <> 'cancelled'")
