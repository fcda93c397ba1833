"""The waiting tasks of some communities with everything their decision reads (dispatch.py),
in one statement rather than six round trips per task: the task, what it staffs, its assignments, who
served the series' last occurrence, who was offered the case, who was asked before staff
reopened it, and the household's paired volunteer."""
from dataclasses import dataclass
from uuid import UUID

import asyncpg

from services.matching.domain.offers import AssignmentState
from services.matching.domain.subjects import Subject
from services.matching.domain.tasks import TaskState
from services.matching.store import assignments, households, staff, tasks
from shared.events import RequestReceived


@dataclass(frozen=True)
class Waiting:
    task: TaskState
    subject: Subject
    held: tuple[AssignmentState, ...]
    paired: frozenset[UUID]  # served the series' last occurrence
    offered: frozenset[UUID]  # offered the case at any level, or asked before staff reopened the task
    household_paired: UUID | None

# The task is `w`; what it staffs, `sr` (a request) or `mc` (a case).
_WAITING = (
    "SELECT w.*, sr.received, mc AS mediation_case, "
    f"ARRAY({assignments.OF_TASK.format(task='w.task_id')}) AS held, "
    f"ARRAY({tasks.PAIRED.format(request='w.request_id', occurrence='w.occurrence')}) AS paired, "
    f"ARRAY({tasks.OFFERED_FOR_CASE.format(case='w.case_id')} UNION {staff.ASKED.format(task='w.task_id')}) "
    "  AS offered, "
    f"({households.PAIRED_VOLUNTEER.format(request='w.request_id')}) AS household_paired "
    "FROM unnest($1::text[]) AS c(code) CROSS JOIN LATERAL ("
    "  SELECT * FROM task t WHERE t.community_code = c.code AND t.wants_offers AND t.status = 'open' "
    "  ORDER BY t.created_at LIMIT $2 FOR UPDATE) w "
    "LEFT JOIN service_request sr ON sr.request_id = w.request_id "
    "LEFT JOIN mediation_case mc ON mc.case_id = w.case_id "
    "ORDER BY c.code, w.created_at")


async def waiting(conn: asyncpg.Connection, communities: list[str], limit: int) -> list[Waiting]:
    """The tasks that want offers in each of `communities` (at most `limit` of each, its oldest),
    community by community, oldest first (the caller holds the communities' locks)."""
    return [_waiting(row) for row in await conn.fetch(_WAITING, communities, limit)]


def _waiting(row: asyncpg.Record) -> Waiting:
    subject = RequestReceived.model_validate(row["received"]) if row["request_id"] \
        else tasks._case(row["mediation_case"])
    return Waiting(tasks._task(row), subject, assignments.as_assignments(row["held"]), frozenset(row["paired"]),
                   frozenset(row["offered"]), row["household_paired"])
