"""A task: one occurrence of a request, or a mediation case at one level, as matching keeps
it; the statuses it goes through; and what the weighing of candidates reads of it."""
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from enum import StrEnum
from uuid import UUID

from services.matching.domain.model import Task
from shared.calendar import day_of, week_of
from shared.mediation import Level
from shared.submissions import Urgency


class TaskStatus(StrEnum):
    OPEN = "open"  # wants offers, or waits for answers
    ASSIGNED = "assigned"  # every place accepted
    COMPLETED = "completed"  # every volunteer reported the service done
    ESCALATED = "escalated"  # a request nobody (or not enough people) could take: the staff's now
    MISSED = "missed"  # the window ended before the service was reported done
    CANCELLED = "cancelled"  # the publisher withdrew the request
    MOVED_UP = "moved_up"  # a case gone to the level above
    CLOSED = "closed"  # a case settled, with its outcome


# A task whose window can still pass and whose request can still be cancelled.
UNDER_WAY = frozenset({TaskStatus.OPEN, TaskStatus.ASSIGNED})


class SeriesStatus(StrEnum):
    """A request as matching keeps it: a series of occurrences (one, unless it recurs)."""

    OPEN = "open"
    DONE = "done"  # its last occurrence was served or missed
    CANCELLED = "cancelled"
    DUPLICATE = "duplicate"  # staff linked it to another request of the same need


@dataclass(frozen=True)
class TaskState:
    """A task as its row holds it. Exactly one of `request_id` (with `occurrence`) and
    `case_id` (with `level`) is set."""

    task_id: UUID
    community_code: str
    status: TaskStatus
    skills: tuple[str, ...]
    needed: int
    urgency: Urgency
    planned_hours: float
    search_area: tuple[str, ...]  # the communities searched, the task's own first
    request_id: UUID | None = None
    occurrence: int | None = None
    case_id: UUID | None = None
    level: Level | None = None
    grid_code: str | None = None
    helpful_skills: tuple[str, ...] = ()
    window_start: datetime | None = None
    window_end: datetime | None = None
    location: tuple[float, float] | None = None
    language: str | None = None
    wait_until: datetime | None = None  # waiting for a busy volunteer to free a place, until then


def week_of_task(task: TaskState, now: datetime, timezone: tzinfo) -> date:
    """The city's week a task's hours count in: its window's, or, without one, this week."""
    return week_of(day_of(task.window_start or now, timezone))


def weighed(task: TaskState, offered: frozenset[UUID], paired: frozenset[UUID]) -> Task:
    """The task as candidates are weighed for it: who was offered it already (at any level of a
    case), and who served the series' last occurrence."""
    return Task(task_id=task.task_id, community_code=task.community_code, skills=task.skills, needed=task.needed,
                helpful_skills=task.helpful_skills, grid_code=task.grid_code,
                window=(task.window_start, task.window_end) if task.window_start else None,
                planned_hours=task.planned_hours, location=task.location, language=task.language,
                urgency=task.urgency, paired=paired, offered=offered)
