"""What the staff console's work queues count (pure): which offers are about to expire, which
return visits are due, the steps a case went through, and how far a campaign's visits are."""
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from services.matching.domain.tasks import TaskStatus


def expiring_before(now: datetime, minutes: float) -> datetime:
    """Offers nobody answered that expire before this moment are "expiring" (MATCHING_EXPIRING_MINUTES):
    those already past it too, until the clock expires them."""
    return now + timedelta(minutes=minutes)


def is_expiring(expires_at: datetime, now: datetime, minutes: float) -> bool:
    return expires_at <= expiring_before(now, minutes)


def return_visit_due(follow_up_at: datetime | None, visited: bool, now: datetime) -> bool:
    """A closed case's return visit (回访) is due from its follow_up_at until one is recorded."""
    return follow_up_at is not None and not visited and follow_up_at <= now


def steps(level_at_start: str, received_at: datetime, moves: Iterable[Mapping[str, Any]]) -> list[dict]:
    """Each level a case was at, oldest first: where it started (when received, no reason) and
    each move up (`moves`: case_step rows, with `at`, `level`, `from_level`, the reason and the staff)."""
    moves = sorted(moves, key=lambda move: move["at"])
    start = moves[0]["from_level"] if moves else level_at_start
    first = {"level": start, "at": received_at, "reason": None, "reason_code": None, "reason_params": {},
             "staff": None}
    return [first, *({key: move.get(key) for key in first} for move in moves)]


class VisitState(StrEnum):
    VISITED = "visited"  # served, by a volunteer or by staff
    ASSIGNED = "assigned"  # a volunteer accepted
    NOT_YET = "not_yet"  # anything else (not received yet, offered, escalated, missed…)


def visit_state(task_statuses: Iterable[str], handled_by_staff: bool, accepted: bool) -> VisitState:
    """A campaign visit's state from its request's occurrences (a visit has one)."""
    statuses = set(task_statuses)
    if handled_by_staff or TaskStatus.COMPLETED in statuses:
        return VisitState.VISITED
    if accepted or TaskStatus.ASSIGNED in statuses:
        return VisitState.ASSIGNED
    return VisitState.NOT_YET


def progress(states: Iterable[VisitState]) -> dict[str, int]:
    """A campaign's counts: targeted (every visit), visited, assigned, not_yet."""
    states = list(states)
    return {"targeted": len(states), **{state.value: states.count(state) for state in VisitState}}
