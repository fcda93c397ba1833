"""What a lifecycle decision changes, as plain values the shell applies in its unit of work,
and the Decision that carries them with the events to emit."""
from dataclasses import dataclass, field
from datetime import date, datetime
from uuid import UUID

from services.matching.domain.offers import Status
from services.matching.domain.tasks import SeriesStatus, TaskState, TaskStatus
from shared.events import CompletionReported, Event
from shared.mediation import Level
from shared.reasons import Reason


@dataclass(frozen=True)
class AddAssignment:
    """An offer made: the volunteer's place and hours are already booked (the booking is a
    conditional write that the shell makes first, as two decisions may race for them)."""

    assignment_id: UUID
    task_id: UUID
    volunteer_id: UUID
    reason: dict  # the score's parts and what was searched: why this volunteer
    planned_hours: float
    week: date
    expires_at: datetime


@dataclass(frozen=True)
class MoveAssignment:
    """An offer accepted, declined, expired or withdrawn, or an assignment missed."""

    assignment_id: UUID
    status: Status
    reason: str | None
    at: datetime


@dataclass(frozen=True)
class RecordService:
    assignment_id: UUID
    hours: float
    people_served: int
    outcome: str | None  # a mediation session's: agreement | no_agreement
    at: datetime


@dataclass(frozen=True)
class SettleBooking:
    """The place an assignment held goes back, and its booked hours become those served (0
    when the offer fell away)."""

    volunteer_id: UUID
    week: date
    booked: float
    served: float


@dataclass(frozen=True)
class AddTask:
    task: TaskState


@dataclass(frozen=True)
class MoveTask:
    """A task that moves to another status wants no more offers."""

    task_id: UUID
    status: TaskStatus
    reason: str | None = None  # in English; the reason is kept when None
    reason_code: str | None = None  # the reason as data (shared/reasons.py), for staff to read it in theirs
    reason_params: dict | None = field(default=None, hash=False)

    @classmethod
    def because(cls, task_id: UUID, status: TaskStatus, why: Reason) -> "MoveTask":
        return cls(task_id, status, why.text("en"), why.code, why.params)


@dataclass(frozen=True)
class WaitForFree:
    """Every volunteer able to take the task is busy: it waits, wanting no offers, until a
    volunteer frees a place (then it is decided again) or `until` (then it is escalated)."""

    task_id: UUID
    until: datetime


@dataclass(frozen=True)
class WantOffers:
    """Whether the next decision should make the task offers (an offer fell away), or it has
    every offer it needs for now."""

    task_id: UUID
    wanted: bool


@dataclass(frozen=True)
class WidenSearch:
    task_id: UUID
    area: tuple[str, ...]


@dataclass(frozen=True)
class MoveCase:
    case_id: UUID
    level: Level


@dataclass(frozen=True)
class CloseCase:
    case_id: UUID
    outcome: str
    follow_up_at: datetime
    note: str | None = None  # staff's, when they closed it by hand


@dataclass(frozen=True)
class FollowUpAnnounced:
    case_id: UUID


@dataclass(frozen=True)
class SetSeries:
    request_id: UUID
    status: SeriesStatus


@dataclass(frozen=True)
class RememberCancellation:
    """A cancellation of a request matching has not received yet (its queue is another): the
    request, when it comes, is recorded as cancelled and never offered."""

    request_id: UUID
    reason: str | None
    at: datetime


@dataclass(frozen=True)
class KeepReport:
    """A report of service for an offer still open: the acceptance is on its way (another queue)."""

    assignment_id: UUID
    report: CompletionReported
    at: datetime


@dataclass(frozen=True)
class DropReport:
    """The kept report is used (the offer was accepted) or refused (the offer fell away)."""

    assignment_id: UUID


# --- what the staff's actions change (domain/staff.py) ----------------------------------------

@dataclass(frozen=True)
class BookPlace:
    """A place and the hours of an offer staff made: booked whatever the caps (staff's choice)."""

    volunteer_id: UUID
    week: date
    hours: float


@dataclass(frozen=True)
class AskAgain:
    """The task's ended offers (only `volunteer_id`'s, when set) no longer count as asked."""

    task_id: UUID
    volunteer_id: UUID | None = None


@dataclass(frozen=True)
class ReopenTask:
    """An escalated or missed occurrence wants offers again."""

    task_id: UUID
    at: datetime


@dataclass(frozen=True)
class RecordHandled:
    task_id: UUID
    staff_subject: str
    hours: float
    people_served: int
    at: datetime


@dataclass(frozen=True)
class LinkDuplicate:
    """The request is closed as a duplicate of `duplicate_of`."""

    request_id: UUID
    duplicate_of: UUID


@dataclass(frozen=True)
class RecordReturnVisit:
    case_id: UUID
    satisfaction: str
    note: str | None
    staff_subject: str
    at: datetime


Change = (AddAssignment | MoveAssignment | RecordService | SettleBooking | AddTask | MoveTask | WantOffers
          | WidenSearch | MoveCase | CloseCase | FollowUpAnnounced | SetSeries | RememberCancellation | KeepReport
          | DropReport | BookPlace | AskAgain | ReopenTask | RecordHandled | LinkDuplicate | RecordReturnVisit)


@dataclass(frozen=True)
class Decision:
    """The changes to apply, in order, and the events to emit, in order, in one unit of work."""

    changes: tuple[Change, ...] = ()
    events: tuple[Event, ...] = ()

    @classmethod
    def of(cls, *items: Change | Event) -> "Decision":
        return cls(tuple(item for item in items if not isinstance(item, Event)),
                   tuple(item for item in items if isinstance(item, Event)))

    def __add__(self, other: "Decision") -> "Decision":
        return Decision(self.changes + other.changes, self.events + other.events)
