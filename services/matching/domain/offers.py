"""The offer cycle: an assignment's states, what an answer does to it, and how many offers a
task should have out."""
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from uuid import UUID

from shared.events import AssignmentResponded, CompletionReported, Staffed, VolunteerRef
from shared.quiet_hours import not_before
from shared.submissions import Urgency


class Status(StrEnum):
    OFFERED = "offered"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"
    COMPLETED = "completed"
    MISSED = "missed"


# States that hold a share of the volunteer's capacity.
HOLDING = frozenset({Status.OFFERED, Status.ACCEPTED})
# States that fill one of the task's places.
TAKEN = frozenset({Status.ACCEPTED, Status.COMPLETED})
MOVES = {
    Status.OFFERED: frozenset({Status.ACCEPTED, Status.DECLINED, Status.EXPIRED, Status.WITHDRAWN}),
    Status.ACCEPTED: frozenset({Status.COMPLETED, Status.WITHDRAWN, Status.MISSED}),
}


@dataclass(frozen=True)
class AssignmentState:
    """An offer or assignment as its row holds it, with the volunteer as the outside world knows them."""

    assignment_id: UUID
    task_id: UUID
    volunteer: VolunteerRef
    status: Status
    week: date  # the Monday of the city's week its hours are booked in
    planned_hours: float
    expires_at: datetime | None = None
    hours: float | None = None  # served, once reported
    people_served: int | None = None
    outcome: str | None = None  # a mediation session's
    answered_at: datetime | None = None  # when it was accepted, declined, expired or withdrawn
    kept_report: CompletionReported | None = None  # a report that came while the offer was open

    def staffed(self) -> Staffed:
        return Staffed(assignment_id=self.assignment_id, **self.volunteer.model_dump())


def places_held(held: Iterable[AssignmentState]) -> tuple[int, int]:
    """Of a task's assignments: places taken (accepted or served), and offers still pending."""
    statuses = [assignment.status for assignment in held]
    return sum(s in TAKEN for s in statuses), statuses.count(Status.OFFERED)


def can_move(current: Status, to: Status) -> bool:
    return to in MOVES.get(current, frozenset())


def refusal(current: Status, to: Status) -> str | None:
    """Why an assignment in `current` cannot become `to`, in words the volunteer can read."""
    if can_move(current, to):
        return None
    if current == Status.OFFERED:
        return f"the offer is still open: it must be accepted before it is {to}"
    return f"the offer was already {current}"


def offers_wanted(needed: int, accepted: int, pending: int, urgency: str, fan_out: int) -> int:
    """New offers a task should get now: one per unfilled place, or `fan_out` per place in an
    emergency (first to accept wins), less the offers still pending."""
    unfilled = needed - accepted
    if unfilled <= 0:
        return 0
    return max(0, unfilled * (fan_out if urgency == Urgency.EMERGENCY else 1) - pending)


def is_exhausted(needed: int, accepted: int, pending: int) -> bool:
    """After a decision made every offer it could: some place is held by nobody, not even by a
    pending offer. Escalate (the places already held stay held)."""
    return accepted + pending < needed


def answer_by(offered_at: datetime, timeout: timedelta, urgent: bool, timezone: tzinfo,
              quiet: tuple[time, time] | None) -> datetime:
    """When an offer expires. Its time runs from when the volunteer is told: notify holds an
    offer that can wait through the city's quiet hours, so one made at 23:00 runs from 07:00
    rather than expiring, unseen, down the whole roster overnight."""
    return not_before(offered_at, urgent, timezone, quiet) + timeout


def answer_refusal(assignment: AssignmentState | None, response: AssignmentResponded) -> str | None:
    """Why `response` cannot be taken: it is about no assignment, it comes from someone the
    offer was not made to, or the offer is no longer open. None if it can."""
    if assignment is None:
        return f"no assignment {response.assignment_id}"
    who = (response.source, response.volunteer_external_id)
    if (assignment.volunteer.source, assignment.volunteer.external_id) != who:
        return f"assignment {response.assignment_id} was not offered to {'/'.join(who)}"
    return refusal(assignment.status, Status.ACCEPTED if response.accept else Status.DECLINED)


def completion_refusal(assignment: AssignmentState | None, mediation: bool, report: CompletionReported) -> str | None:
    """Why `report` cannot be recorded: it is about no assignment, it comes from a source other
    than the volunteer's (or from none), a mediation session comes without its outcome, or the
    assignment was not accepted (or is over). None if it can."""
    return reporter_refusal(assignment, mediation, report) or refusal(assignment.status, Status.COMPLETED)


def reporter_refusal(assignment: AssignmentState | None, mediation: bool, report: CompletionReported) -> str | None:
    """Why `report` cannot be taken whatever the assignment's status: it is about no
    assignment, it comes from a source other than the volunteer's (or from none), or a
    mediation session comes without its outcome."""
    if assignment is None:
        return f"no assignment {report.assignment_id}"
    if report.reported_by != assignment.volunteer.source:
        return (f"assignment {report.assignment_id} is not of a volunteer of {report.reported_by!r}: only "
                f"{assignment.volunteer.source!r} reports it done" if report.reported_by else
                f"the report of assignment {report.assignment_id} does not say who published it (reported_by)")
    if mediation and report.outcome is None:
        return "a mediation session is reported with its outcome: agreement or no_agreement"
    return None
