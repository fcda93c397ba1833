"""The staff console's work queues (GET /api/v1/work), and what they need of each decision's
events: when an occurrence was escalated, missed or handled by staff, when a case moved up (and
why, and who moved it) and when it closed. `note` runs in the decision's unit of work
(decisions.apply), so whoever decides (a timer, a handler, a member of staff) fills them in.

Each queue is read for a list of communities (None: the whole city, for ops) through its index:
  escalated      task_escalated_of_community (community_code, escalated_at) WHERE status = 'escalated'
  missed         task_missed_of_community (community_code, missed_at) WHERE status = 'missed'
  expiring       assignment_expiring (expires_at) WHERE status = 'offered': the city's offers that
                 expire within the next minutes, few at any time, then narrowed to the communities
  cases          case_open_of_community (community_code, received_at) WHERE status = 'open',
                 their steps by case_step's primary key (case_id, level)
  return_visits  case_closed_of_community (community_code, follow_up_at) WHERE status = 'closed',
                 less those with a return_visit (its primary key, case_id)
The statuses stay literals, as the indexes' predicates name them (see store/tasks.py)."""
from datetime import datetime

import asyncpg

from shared.events import CaseClosed, CaseEscalated, Event, RequestEscalated, RequestMissed

_NOTES = {
    RequestEscalated: ("UPDATE task SET escalated_at = $3 WHERE request_id = $1 AND occurrence = $2",
                       lambda e: (e.request_id, e.occurrence, e.occurred_at)),
    RequestMissed: ("UPDATE task SET missed_at = $3 WHERE request_id = $1 AND occurrence = $2",
                    lambda e: (e.request_id, e.occurrence, e.occurred_at)),
    CaseEscalated: ("INSERT INTO case_step (case_id, level, from_level, at, reason, reason_code, reason_params, staff) "
                    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (case_id, level) DO NOTHING",
                    lambda e: (e.case_id, e.level, e.from_level, e.occurred_at, e.reason, e.reason_code,
                               e.reason_params, e.staff.model_dump() if e.staff else None)),
    CaseClosed: ("UPDATE mediation_case SET closed_at = $2 WHERE case_id = $1", lambda e: (e.case_id, e.occurred_at)),
}


async def note(conn: asyncpg.Connection, events: tuple[Event, ...]) -> None:
    for event in events:
        if found := _NOTES.get(type(event)):
            sql, args = found
            await conn.execute(sql, *args(event))


def _area(column: str, communities: list[str] | None) -> str:
    """The filter on $1: the communities asked, or (None) none, in a form each index's planner matches."""
    return f"{column} = ANY($1::text[])" if communities is not None else "$1::text[] IS NULL"


async def escalated(conn: asyncpg.Connection, communities: list[str] | None, limit: int) -> list[asyncpg.Record]:
    """Escalated occurrences of requests not cancelled, newest first, with their reason as data."""
    return await conn.fetch(
        "SELECT t.request_id, t.occurrence, r.category, t.community_code, t.urgency, t.window_start, t.window_end, "
        "t.needed, (SELECT count(*) FROM assignment a WHERE a.task_id = t.task_id "
        "  AND a.status IN ('accepted', 'completed')) AS accepted, t.escalated_at, t.reason, "
        "t.reason_code, t.reason_params, "
        "r.household_id, r.campaign_id, count(*) OVER () AS total "
        "FROM task t JOIN service_request r ON r.request_id = t.request_id "
        f"WHERE t.status = 'escalated' AND r.status <> 'cancelled' AND {_area('t.community_code', communities)} "
        "ORDER BY t.escalated_at DESC NULLS LAST, t.created_at DESC LIMIT $2", communities, limit)


async def missed(conn: asyncpg.Connection, communities: list[str] | None, limit: int) -> list[asyncpg.Record]:
    """Missed occurrences (since neither handled nor reopened: either moves the task on) of
    requests not cancelled, newest first."""
    return await conn.fetch(
        "SELECT t.request_id, t.occurrence, r.category, t.community_code, t.window_start, t.window_end, t.missed_at, "
        "count(*) OVER () AS total FROM task t JOIN service_request r ON r.request_id = t.request_id "
        f"WHERE t.status = 'missed' AND r.status <> 'cancelled' AND {_area('t.community_code', communities)} "
        "ORDER BY t.missed_at DESC NULLS LAST LIMIT $2", communities, limit)


async def expiring(conn: asyncpg.Connection, communities: list[str] | None, before: datetime,
                   limit: int) -> list[asyncpg.Record]:
    """Offers nobody answered that expire before `before`, soonest first."""
    return await conn.fetch(
        "SELECT a.assignment_id, t.request_id, t.case_id, t.occurrence, COALESCE(r.category, 'mediation') AS category, "
        "t.community_code, a.volunteer_id, v.name AS volunteer_name, a.expires_at, count(*) OVER () AS total "
        "FROM assignment a JOIN task t ON t.task_id = a.task_id JOIN volunteer v ON v.volunteer_id = a.volunteer_id "
        "LEFT JOIN service_request r ON r.request_id = t.request_id "
        f"WHERE a.status = 'offered' AND a.expires_at <= $2 AND {_area('t.community_code', communities)} "
        "ORDER BY a.expires_at LIMIT $3", communities, before, limit)


async def open_cases(conn: asyncpg.Connection, communities: list[str] | None, limit: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT case_id, community_code, grid_code, dispute_type, level, status, received_at, count(*) OVER () AS total "
        f"FROM mediation_case WHERE status = 'open' AND {_area('community_code', communities)} "
        "ORDER BY received_at DESC LIMIT $2", communities, limit)


async def steps_of(conn: asyncpg.Connection, case_ids: list) -> list[asyncpg.Record]:
    return await conn.fetch("SELECT * FROM case_step WHERE case_id = ANY($1::uuid[]) ORDER BY at", case_ids)


async def return_visits_due(conn: asyncpg.Connection, communities: list[str] | None, now: datetime,
                            limit: int) -> list[asyncpg.Record]:
    """Closed cases whose return visit is due and not recorded (matching.return_visit), the longest due first."""
    return await conn.fetch(
        "SELECT c.case_id, c.community_code, c.outcome, c.closed_at, c.follow_up_at, count(*) OVER () AS total "
        "FROM mediation_case c WHERE c.status = 'closed' AND c.follow_up_at <= $2 "
        f"AND {_area('c.community_code', communities)} "
        "AND NOT EXISTS (SELECT 1 FROM return_visit v WHERE v.case_id = c.case_id) "
        "ORDER BY c.follow_up_at LIMIT $3", communities, now, limit)
