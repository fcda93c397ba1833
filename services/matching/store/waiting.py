"""A community's waiting tasks with everything their decision reads (dispatch.py), in one
statement rather than six round trips per task: the task, what it staffs, its assignments, who
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
    "FROM task w LEFT JOIN service_request sr ON sr.request_id = w.request_id "
    "LEFT JOIN mediation_case mc ON mc.case_id = w.case_id "
    "WHERE w.community_code = $1 AND w.wants_offers AND w.status = 'open' "
    "ORDER BY w.created_at LIMIT $2 FOR UPDATE OF w")


async def waiting(conn: asyncpg.Connection, community: str, limit: int) -> list[Waiting]:
    """The community's tasks that want offers, oldest first (the caller holds the community's lock)."""
    return [_waiting(row) for row in await conn.fetch(_WAITING, community, limit)]


def _waiting(row: asyncpg.Record) -> Waiting:
    subject = RequestReceived.model_validate(row["received"]) if row["request_id"] \
        else tasks._case(row["mediation_case"])
    return Waiting(tasks._task(row), subject, assignments.as_assignments(row["held"]), frozenset(row["paired"]),
                   frozenset(row["offered"]), row["household_paired"])
