"""Domain events published on `linli.events`: facts that happened (CONTRACT.md section 1).

Every event carries `event_id` (also the AMQP message_id), `occurred_at` (UTC) and the
`correlation_id` of the submission that started its chain. Consumers ignore fields they do
not know, so adding a field is never a breaking change.
"""
from datetime import UTC, datetime
from typing import ClassVar
from uuid import UUID, uuid4

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared.submissions import (AssignmentResponse, MediationCaseSubmission, ServiceCompletion,
                                ServiceRequestSubmission, Urgency, VolunteerRegistration)


def utc_now() -> datetime:
    return datetime.now(UTC)


class Event(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    routing_key: ClassVar[str]

    event_id: UUID = Field(default_factory=uuid4)
    # With an offset always: a time without one would be read on each server's own clock.
    occurred_at: AwareDatetime = Field(default_factory=utc_now)
    correlation_id: str


class VolunteerRef(BaseModel):
    """A volunteer as the outside world knows them, beside linli's own id."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    volunteer_id: UUID
    source: str
    external_id: str


class RequestReceived(Event, ServiceRequestSubmission):
    """A valid request was stored: the submission as received, with linli's id for it."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    routing_key: ClassVar[str] = "request.received"
    request_id: UUID


class SubmissionRejected(Event):
    """A submission that could not be accepted, with a reason an operator can read."""

    reason: str
    submission: str  # the routing key it came on, e.g. "request.submit"
    source: str | None = None
    external_id: str | None = None
    community_code: str | None = None


class RequestRejected(SubmissionRejected):
    routing_key: ClassVar[str] = "request.rejected"


class VolunteerRejected(SubmissionRejected):
    routing_key: ClassVar[str] = "volunteer.rejected"


class CaseRejected(SubmissionRejected):
    routing_key: ClassVar[str] = "case.rejected"


class ResponseRejected(SubmissionRejected):
    routing_key: ClassVar[str] = "response.rejected"


class CompletionRejected(SubmissionRejected):
    routing_key: ClassVar[str] = "completion.rejected"


class CaseReceived(Event, MediationCaseSubmission):
    """A dispute was stored; it starts at `level` (grid or community)."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    routing_key: ClassVar[str] = "case.received"
    case_id: UUID
    level: str


class AssignmentResponded(Event, AssignmentResponse):
    """A volunteer's answer to an offer arrived; matching decides what it means."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    routing_key: ClassVar[str] = "assignment.responded"


class CompletionReported(Event, ServiceCompletion):
    """A volunteer reported a service done, with hours and people served."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    routing_key: ClassVar[str] = "completion.reported"


class VolunteerRegistered(Event, VolunteerRegistration):
    """A volunteer joined or updated their profile; `volunteer_id` is stable across updates."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    routing_key: ClassVar[str] = "volunteer.registered"
    volunteer_id: UUID


class RequestEvent(Event):
    """Something happened to a request; carries what lets its publisher and the statistics follow it."""

    request_id: UUID
    source: str
    external_id: str
    category: str
    community_code: str


class RequestDuplicate(RequestEvent):
    """The same need from another source: linked to the first request, not dispatched again."""

    routing_key: ClassVar[str] = "request.duplicate"
    duplicate_of: UUID


class AssignmentOffered(RequestEvent):
    routing_key: ClassVar[str] = "assignment.offered"
    assignment_id: UUID
    volunteer: VolunteerRef
    urgency: Urgency
    description: str
    address: str | None = None
    window_start: AwareDatetime | None = None


class RequestAssigned(RequestEvent):
    routing_key: ClassVar[str] = "request.assigned"
    assignment_id: UUID
    volunteer: VolunteerRef


class RequestEscalated(RequestEvent):
    """Nobody could take the request: it goes to the community's staff with the reason."""

    routing_key: ClassVar[str] = "request.escalated"
    reason: str
    urgency: Urgency


class NotificationSent(Event):
    routing_key: ClassVar[str] = "notification.sent"
    notification_id: UUID
    recipient: str
    channel: str
    about_event_id: UUID
    about: str  # the routing key of the event the notification tells of


class NotificationFailed(NotificationSent):
    routing_key: ClassVar[str] = "notification.failed"
    error: str
    attempts: int


EVENT_TYPES: dict[str, type[Event]] = {
    cls.routing_key: cls
    for cls in (RequestReceived, RequestRejected, RequestDuplicate, VolunteerRejected, VolunteerRegistered,
                CaseReceived, CaseRejected, AssignmentResponded, ResponseRejected, CompletionReported,
                CompletionRejected, AssignmentOffered, RequestAssigned, RequestEscalated, NotificationSent,
                NotificationFailed)
}
