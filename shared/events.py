"""Domain events published on `linli.events`: facts that happened (CONTRACT.md section 1).

Every event carries `event_id` (also the AMQP message_id), `occurred_at` (UTC) and the
`correlation_id` of the submission that started its chain. Consumers ignore fields they do
not know, so adding a field is never a breaking change.

An event type's `personal` fields (names, phones, emails, addresses, exact locations, free
text about people) never reach `linli.events`: the outbox relay publishes the event there
without them (`public_body`), and whole on the restricted `linli.personal`, which only the
services that must reach people read. Every personal field is optional here, so that the
public form validates as the same type.
"""
import json
from datetime import UTC, datetime
from typing import ClassVar
from uuid import UUID, uuid4

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared.submissions import (AssignmentResponse, Beneficiary, HouseholdRegistration, MediationCaseSubmission, Name,
                                Party, Phone, ReturnVisitSatisfaction, ServiceCompletion, ServiceRequestSubmission, Text,
                                Urgency, VolunteerRegistration)


def utc_now() -> datetime:
    return datetime.now(UTC)


class Event(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    routing_key: ClassVar[str]
    # The fields left out on `linli.events`; a type with any is also published on `linli.personal`.
    personal: ClassVar[frozenset[str]] = frozenset()

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
    personal: ClassVar[frozenset[str]] = frozenset({"description", "address", "location", "beneficiary"})
    request_id: UUID
    description: Text | None = None
    # The registered household (建档) the request is for, resolved by intake from the
    # submission's `household_id` or `household_external_id`; a campaign's visits carry their campaign.
    household_id: UUID | None = None
    campaign_id: UUID | None = None


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


class HouseholdRejected(SubmissionRejected):
    routing_key: ClassVar[str] = "household.rejected"


class CancellationRejected(SubmissionRejected):
    routing_key: ClassVar[str] = "cancellation.rejected"


class ResponseRejected(SubmissionRejected):
    routing_key: ClassVar[str] = "response.rejected"


class CompletionRejected(SubmissionRejected):
    routing_key: ClassVar[str] = "completion.rejected"


class CaseReceived(Event, MediationCaseSubmission):
    """A dispute was stored; it starts at `level` (grid or community)."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    routing_key: ClassVar[str] = "case.received"
    personal: ClassVar[frozenset[str]] = frozenset({"summary", "parties"})
    case_id: UUID
    level: str
    summary: Text | None = None
    parties: tuple[Party, ...] = ()
    household_id: UUID | None = None


class AssignmentResponded(Event, AssignmentResponse):
    """A volunteer's answer to an offer arrived; matching decides what it means."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    routing_key: ClassVar[str] = "assignment.responded"


class CompletionReported(Event, ServiceCompletion):
    """A volunteer reported a service done, with hours and people served. `reported_by` is the
    source that published the report (its broker user): matching takes it only for that
    source's own volunteers."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    routing_key: ClassVar[str] = "completion.reported"
    personal: ClassVar[frozenset[str]] = frozenset({"note"})
    reported_by: str | None = None


class VolunteerRegistered(Event, VolunteerRegistration):
    """A volunteer joined or updated their profile; `volunteer_id` is stable across updates."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    routing_key: ClassVar[str] = "volunteer.registered"
    personal: ClassVar[frozenset[str]] = frozenset({"name", "phone", "email", "location"})
    volunteer_id: UUID
    name: Name | None = None
    phone: Phone | None = None


class StaffRef(BaseModel):
    """A member of staff who acted, as the city's sign-on names them (an id, never a name)."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    subject: str
    role: str  # community_staff | street_staff
    area: str  # their community or street code


class HouseholdRegistered(Event, HouseholdRegistration):
    """A key household was filed (建档) or its file updated; `household_id` is stable across
    updates. Registered by a source, or by staff (`source` "staff", `registered_by` set)."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    routing_key: ClassVar[str] = "household.registered"
    personal: ClassVar[frozenset[str]] = frozenset({"beneficiary", "address"})
    household_id: UUID
    beneficiary: Beneficiary | None = None
    registered_by: StaffRef | None = None


class CampaignVisit(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    household_id: UUID
    request_id: UUID


class CampaignStarted(Event):
    """Staff started a visit campaign (走访慰问): one visit (an `elder_care.home_visit` request,
    received like any other, with `campaign_id`) per household of the area with any of `tags`."""

    routing_key: ClassVar[str] = "campaign.started"
    campaign_id: UUID
    title: str  # e.g. 春节前走访
    community_codes: tuple[str, ...]
    street_code: str | None = None
    tags: tuple[str, ...]
    window_start: AwareDatetime
    window_end: AwareDatetime
    visits: tuple[CampaignVisit, ...]
    started_by: StaffRef


class RequestEvent(Event):
    """Something happened to a request; carries what lets its publisher and the statistics follow it."""

    request_id: UUID
    source: str
    external_id: str
    category: str
    community_code: str
    household_id: UUID | None = None
    campaign_id: UUID | None = None


class RequestDuplicate(RequestEvent):
    """The same need from another source: linked to the first request, not dispatched again."""

    routing_key: ClassVar[str] = "request.duplicate"
    duplicate_of: UUID
    linked_by: StaffRef | None = None  # staff linked it by hand (else intake found it)


class RequestCancelled(RequestEvent):
    """The publisher withdrew the request: its open offers are withdrawn."""

    routing_key: ClassVar[str] = "request.cancelled"
    reason: str | None = None
    # Staff cancelled it as not needed (else its publisher withdrew it), with the reason as data.
    cancelled_by: StaffRef | None = None
    reason_code: str | None = None
    reason_params: dict = Field(default_factory=dict)


class Staffed(VolunteerRef):
    """A volunteer who accepted, with the assignment they hold."""

    assignment_id: UUID


class OccurrenceEvent(RequestEvent):
    """Something happened to one occurrence of a request (always 1 unless it recurs)."""

    occurrence: int = 1
    window_start: AwareDatetime | None = None
    window_end: AwareDatetime | None = None


class RequestAssigned(OccurrenceEvent):
    """Every place of the occurrence is taken: the volunteers accepted."""

    routing_key: ClassVar[str] = "request.assigned"
    volunteers: tuple[Staffed, ...]


class RequestEscalated(OccurrenceEvent):
    """Nobody (or not enough people) could take the request: it goes to the community's staff."""

    routing_key: ClassVar[str] = "request.escalated"
    reason: str  # in English; staff read it rendered from the code and params (shared/reasons.py)
    urgency: Urgency
    needed: int = 1
    accepted: int = 0
    reason_code: str | None = None
    reason_params: dict = Field(default_factory=dict)


class RequestCompleted(OccurrenceEvent):
    """Every volunteer of the occurrence reported the service done."""

    routing_key: ClassVar[str] = "request.completed"
    hours: float
    people_served: int
    volunteers: tuple[Staffed, ...]
    next_occurrence: int | None = None  # the series goes on with this occurrence


class RequestMissed(OccurrenceEvent):
    """The occurrence's window ended before the service was reported done: staff should act."""

    routing_key: ClassVar[str] = "request.missed"
    volunteers: tuple[Staffed, ...]
    next_occurrence: int | None = None


class RequestStaffAssigned(OccurrenceEvent):
    """Staff named the volunteer for an occurrence: an offer (`agreed` False: it follows as
    `assignment.offered`), or an assignment they agreed by phone (`agreed`: it follows as
    `assignment.accepted`)."""

    routing_key: ClassVar[str] = "request.staff_assigned"
    assignment_id: UUID
    volunteer: VolunteerRef
    agreed: bool
    staff: StaffRef


class RequestReopened(OccurrenceEvent):
    """Staff put an escalated (or missed) occurrence back to be offered, e.g. after new
    volunteers registered; those already asked are asked again."""

    routing_key: ClassVar[str] = "request.reopened"
    staff: StaffRef


class RequestHandledByStaff(OccurrenceEvent):
    """Staff did the service themselves: the occurrence is done, with its hours and people served."""

    routing_key: ClassVar[str] = "request.handled_by_staff"
    personal: ClassVar[frozenset[str]] = frozenset({"note"})
    hours: float
    people_served: int
    note: str | None = None
    staff: StaffRef
    next_occurrence: int | None = None


class AssignmentEvent(Event):
    """Something happened to an offer. It is about a request (`request_id`, `occurrence`) or a
    mediation case (`case_id`, `level`); `category` is "mediation" for a case."""

    assignment_id: UUID
    volunteer: VolunteerRef
    request_id: UUID | None = None
    occurrence: int | None = None
    case_id: UUID | None = None
    level: str | None = None
    source: str
    external_id: str
    category: str
    community_code: str


class AssignmentOffered(AssignmentEvent):
    routing_key: ClassVar[str] = "assignment.offered"
    personal: ClassVar[frozenset[str]] = frozenset({"description", "address"})
    assigned_by: StaffRef | None = None  # staff named this volunteer
    urgency: Urgency
    description: str | None = None  # for a case, only its type: details go to the mediator who accepts
    address: str | None = None
    window_start: AwareDatetime | None = None
    window_end: AwareDatetime | None = None
    expires_at: AwareDatetime


class AssignmentAccepted(AssignmentEvent):
    """The volunteer took the offer; where and when the service is, for their reminders."""

    routing_key: ClassVar[str] = "assignment.accepted"
    personal: ClassVar[frozenset[str]] = frozenset({"address"})
    assigned_by: StaffRef | None = None  # staff agreed it with the volunteer by phone
    address: str | None = None
    window_start: AwareDatetime | None = None
    window_end: AwareDatetime | None = None


class AssignmentDeclined(AssignmentEvent):
    routing_key: ClassVar[str] = "assignment.declined"
    reason: str | None = None


class AssignmentExpired(AssignmentEvent):
    routing_key: ClassVar[str] = "assignment.expired"


class AssignmentWithdrawn(AssignmentEvent):
    """An offer taken back: another volunteer was first (emergency), or the request was cancelled
    or its window passed."""

    routing_key: ClassVar[str] = "assignment.withdrawn"
    reason: str


class CaseEvent(Event):
    case_id: UUID
    source: str
    external_id: str
    community_code: str
    grid_code: str | None = None
    level: str


class CaseAssigned(CaseEvent):
    """A mediator accepted the case at its level; the summary is for them."""

    routing_key: ClassVar[str] = "case.assigned"
    personal: ClassVar[frozenset[str]] = frozenset({"summary"})
    assignment_id: UUID
    volunteer: VolunteerRef
    dispute_type: str
    summary: str | None = None


class CaseEscalated(CaseEvent):
    """The case moves up from `from_level` to `level`; above the street (`level` "street_staff")
    the street's staff take it over."""

    routing_key: ClassVar[str] = "case.escalated"
    from_level: str
    reason: str
    reason_code: str | None = None
    reason_params: dict = Field(default_factory=dict)
    staff: StaffRef | None = None  # staff moved it up by hand


class CaseClosed(CaseEvent):
    routing_key: ClassVar[str] = "case.closed"
    outcome: str  # agreement | no_agreement
    hours: float
    follow_up_at: AwareDatetime  # the return visit (回访)
    staff: StaffRef | None = None  # staff closed it by hand


class CaseFollowUpDue(CaseEvent):
    """The return visit (回访) of a closed case is due."""

    routing_key: ClassVar[str] = "case.follow_up_due"
    outcome: str
    follow_up_at: AwareDatetime


class ReturnVisitRecorded(CaseEvent):
    """Staff called the parties back after the case closed (回访): the resident's satisfaction."""

    routing_key: ClassVar[str] = "case.return_visited"
    personal: ClassVar[frozenset[str]] = frozenset({"note"})
    satisfaction: ReturnVisitSatisfaction
    note: str | None = None
    staff: StaffRef


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


class RequestRef(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    request_id: UUID
    source: str
    external_id: str


class PersonErased(Event):
    """Staff or ops had a person's personal data erased (PIPL art. 47): what intake found of
    them, by id only. Every service removes or anonymises what it holds of these and says so
    with `erasure.done`; the statistics keep their (keyed) counts."""

    routing_key: ClassVar[str] = "person.erased"
    erasure_id: UUID
    requested_by: str
    requests: tuple[RequestRef, ...] = ()
    case_ids: tuple[UUID, ...] = ()
    volunteers: tuple[VolunteerRef, ...] = ()
    household_ids: tuple[UUID, ...] = ()  # the key households (建档) filed for them
    # The chains (correlation ids) of those requests and cases: what was said about them.
    correlation_ids: tuple[str, ...] = ()


class ErasureDone(Event):
    """One service has erased what it held of an erasure's person: how many rows it changed, per table."""

    routing_key: ClassVar[str] = "erasure.done"
    erasure_id: UUID
    service: str
    changed: dict[str, int] = Field(default_factory=dict)


EVENT_TYPES: dict[str, type[Event]] = {
    cls.routing_key: cls
    for cls in (RequestReceived, RequestRejected, RequestDuplicate, RequestCancelled, CancellationRejected,
                VolunteerRejected, VolunteerRegistered, CaseReceived, CaseRejected, AssignmentResponded,
                ResponseRejected, CompletionReported, CompletionRejected, AssignmentOffered, AssignmentAccepted,
                AssignmentDeclined, AssignmentExpired, AssignmentWithdrawn, RequestAssigned, RequestEscalated,
                RequestCompleted, RequestMissed, CaseAssigned, CaseEscalated, CaseClosed, CaseFollowUpDue,
                NotificationSent, NotificationFailed, PersonErased, ErasureDone, HouseholdRegistered,
                HouseholdRejected, CampaignStarted, RequestStaffAssigned, RequestReopened, RequestHandledByStaff,
                ReturnVisitRecorded)
}


def public_body(routing_key: str, body: bytes) -> bytes | None:
    """What `linli.events` carries of an event's body: without its type's personal fields, or
    None when the type has none (the body then goes out as it is, on `linli.events` only)."""
    event_type = EVENT_TYPES.get(routing_key)
    if event_type is None or not event_type.personal:
        return None
    fields = json.loads(body)
    return json.dumps({k: v for k, v in fields.items() if k not in event_type.personal},
                      ensure_ascii=False, separators=(",", ":")).encode()


def public_dump(event: Event) -> dict:
    """The event as `linli.events` carries it (what observers and reporting's archive see)."""
    return event.model_dump(mode="json", exclude=set(event.personal))
