"""Who is told what an event means. No I/O: what the handler knew besides the event (the
resident it is about, the time) comes in a `Context`.

Free text from outside (description, address, reason, summary) is masked: residents write
their numbers in it, and the resident's name is masked too except in the messages that need
it (the volunteer who accepted, the resident themselves).

A reason travels as its English words and as data (a code and its parameters,
shared/reasons.py): the template renders it in the reader's language from the data, or shows
the words of an event that has none."""
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from uuid import UUID, uuid5

from services.notify.domain.reminders import offer_reminder, window_reminders
from services.notify.domain.routing import Contact
from shared.events import (AssignmentAccepted, AssignmentDeclined, AssignmentExpired, AssignmentOffered,
                           AssignmentWithdrawn, CaseAssigned, CaseEscalated, CaseFollowUpDue, Event, RequestAssigned,
                           RequestCancelled, RequestCompleted, RequestEscalated, RequestHandledByStaff,
                           RequestMissed)
from shared.privacy import mask_names, mask_phone_numbers
from shared.submissions import Urgency

OFFER, OFFER_REMINDER, CONFIRMATION, WINDOW_REMINDER = "offer", "offer_reminder", "confirmation", "window_reminder"
# The messages about one assignment, cancelled while still pending once they no longer apply.
ABOUT_THE_OFFER = (OFFER, OFFER_REMINDER)
ABOUT_THE_SERVICE = (CONFIRMATION, WINDOW_REMINDER)


@dataclass(frozen=True)
class Message:
    recipient: str
    kind: str  # its template
    fields: dict = field(compare=False)  # what fills the template
    urgent: bool = False  # goes at once, even in quiet hours
    private: bool = False  # personal details: never on a shared channel (the group webhook)
    send_at: datetime | None = None  # a reminder's time (None: now)
    deadline: datetime | None = None  # what a reminder reminds of; after it, it is pointless
    assignment_id: UUID | None = None  # cancelled if still pending when the assignment is settled

    @property
    def lead(self) -> timedelta | None:
        return self.deadline - self.send_at if self.send_at and self.deadline else None


@dataclass(frozen=True)
class Context:
    timezone: tzinfo
    now: datetime
    resident: Contact | None = None  # the beneficiary of the request the event is about, if known
    mediators: dict[str, str] = field(default_factory=dict)  # a case's level -> who mediated it there
    offer_reminder: timedelta | None = None  # before an offer expires; None: no reminder
    window_reminders: tuple[timedelta, ...] = ()  # before a service window starts
    texting: bool = True  # an SMS gateway is configured: residents can be reached on their phone


NOTIFICATIONS = UUID("6f1c3a52-3b0e-4f7e-9d7a-6c1e0b9a4e21")  # the namespace of notification ids


def notification_id(about_event_id: UUID, message: Message, channel: str) -> UUID:
    """The id of the message about an event on a channel, the same whoever computes it (another
    notify process, a redelivery, a re-publish): one fact, recipient and channel, one id."""
    lead = message.lead.total_seconds() if message.lead is not None else ""
    return uuid5(NOTIFICATIONS, f"{about_event_id}|{message.recipient}|{channel}|{message.kind}|{lead}")


def volunteer(ref) -> str:
    """A volunteer as a recipient, from anything that names their registration (source, external_id)."""
    return f"volunteer:{ref.source}:{ref.external_id}"


def staff(community_code: str) -> str:
    return f"staff:{community_code}"


def resident(source: str, external_id: str) -> str:
    return f"resident:{source}:{external_id}"


def messages_for(event: Event, context: Context) -> list[Message]:
    compose = COMPOSERS.get(type(event))
    return compose(event, context) if compose else []


def settled_by(event: Event) -> list[tuple[UUID, tuple[str, ...]]]:
    """(assignment, kinds of message) that the event makes pointless if they are still pending:
    an answered or expired offer needs no reminder; a withdrawn or finished assignment needs no
    reminder of its window."""
    if isinstance(event, (AssignmentAccepted, AssignmentDeclined, AssignmentExpired)):
        return [(event.assignment_id, ABOUT_THE_OFFER)]
    if isinstance(event, AssignmentWithdrawn):
        return [(event.assignment_id, ABOUT_THE_OFFER + ABOUT_THE_SERVICE)]
    if isinstance(event, (RequestCompleted, RequestMissed)):
        return [(staffed.assignment_id, ABOUT_THE_SERVICE) for staffed in event.volunteers]
    return []


def _masked(text: str | None, context: Context) -> str | None:
    """Numbers, and the resident's name, out of free text."""
    if text is None:
        return None
    names = (context.resident.name,) if context.resident and context.resident.name else ()
    return mask_names(mask_phone_numbers(text), names)


def _masked_reason(event: RequestEscalated | CaseEscalated, context: Context) -> dict:
    """The reason's words and its data, with the free text in both masked."""
    def masked(value):
        if isinstance(value, str):
            return _masked(value, context)
        return [masked(item) for item in value] if isinstance(value, list) else value
    return {"reason": _masked(event.reason, context), "reason_code": event.reason_code,
            "reason_params": {key: masked(value) for key, value in event.reason_params.items()}}


def _offer(event: AssignmentOffered, context: Context) -> list[Message]:
    fields = {"category": event.category, "community": event.community_code,
              "description": _masked(event.description, context), "address": _masked(event.address, context),
              "window_start": event.window_start, "expires_at": event.expires_at,
              "assignment_id": event.assignment_id}
    to = volunteer(event.volunteer)
    offer = Message(to, OFFER, fields, urgent=event.urgency == Urgency.EMERGENCY, assignment_id=event.assignment_id)
    at = offer_reminder(event.occurred_at, event.expires_at, context.offer_reminder, context.now)
    if at is None:
        return [offer]
    return [offer, Message(to, OFFER_REMINDER, fields, urgent=offer.urgent, send_at=at, deadline=event.expires_at,
                           assignment_id=event.assignment_id)]


def _accepted(event: AssignmentAccepted, context: Context) -> list[Message]:
    """The volunteer who took a request now needs whom to call and where to go; a mediator
    hears the case's details from case.assigned."""
    if event.request_id is None:
        return []
    who = context.resident
    fields = {"category": event.category, "community": event.community_code, "address": event.address,
              "window_start": event.window_start, "assignment_id": event.assignment_id,
              "resident_name": who.name if who else None, "resident_phone": who.phone if who else None,
              "by_staff": event.assigned_by is not None}  # staff agreed it with them by phone
    to = volunteer(event.volunteer)
    confirmation = Message(to, CONFIRMATION, fields, private=True, assignment_id=event.assignment_id)
    return [confirmation] + [
        Message(to, WINDOW_REMINDER, {**fields, "lead": lead}, private=True, send_at=at,
                deadline=event.window_start, assignment_id=event.assignment_id)
        for at, lead in window_reminders(event.window_start, context.window_reminders, context.now)]


def _withdrawal(event: AssignmentWithdrawn, context: Context) -> list[Message]:
    return [Message(volunteer(event.volunteer), "withdrawal", {
        "category": event.category, "community": event.community_code, "assignment_id": event.assignment_id,
        "reason": event.reason})]


def _to_resident(kind: str) -> Callable[[RequestAssigned | RequestCompleted, Context], list[Message]]:
    """The resident is told on the phone their request gave; without one (or without an SMS
    gateway), the community's staff are, to pass it on (they filed the request or know them)."""
    def compose(event, context: Context) -> list[Message]:
        fields = {"category": event.category, "community": event.community_code, "request_id": event.request_id,
                  "external_id": event.external_id, "occurrence": event.occurrence,
                  "window_start": event.window_start, "volunteers": len(event.volunteers),
                  "relay": not (context.texting and context.resident and context.resident.phone)}
        recipient = staff(event.community_code) if fields["relay"] else resident(event.source, event.external_id)
        return [Message(recipient, kind, fields, private=True)]
    return compose


def _told_by_staff(event: RequestHandledByStaff | RequestCancelled, kind: str, fields: dict,
                   context: Context) -> list[Message]:
    """The resident hears what staff did with their request on the phone it gave; without one
    nobody is told: the staff who acted are the ones who would pass it on."""
    if not (context.texting and context.resident and context.resident.phone):
        return []
    return [Message(resident(event.source, event.external_id), kind, {
        "category": event.category, "community": event.community_code, "request_id": event.request_id,
        **fields}, private=True)]


def _handled_by_staff(event: RequestHandledByStaff, context: Context) -> list[Message]:
    return _told_by_staff(event, "handled_by_staff", {"occurrence": event.occurrence}, context)


def _not_needed(event: RequestCancelled, context: Context) -> list[Message]:
    """Staff closed the request as not needed; one its publisher withdrew tells nobody (they know)."""
    return _told_by_staff(event, "not_needed", {}, context) if event.cancelled_by else []


def _escalation(event: RequestEscalated, context: Context) -> list[Message]:
    return [Message(staff(event.community_code), "escalation", {
        "category": event.category, "community": event.community_code, **_masked_reason(event, context),
        "request_id": event.request_id}, urgent=event.urgency == Urgency.EMERGENCY)]


def _missed(event: RequestMissed, context: Context) -> list[Message]:
    return [Message(staff(event.community_code), "missed", {
        "category": event.category, "community": event.community_code, "request_id": event.request_id,
        "occurrence": event.occurrence, "window_end": event.window_end})]


def _case_assigned(event: CaseAssigned, context: Context) -> list[Message]:
    """The case's details go to the mediator who took it, and to nobody else."""
    return [Message(volunteer(event.volunteer), "case_assigned", {
        "dispute_type": event.dispute_type, "community": event.community_code, "level": event.level,
        "case_id": event.case_id, "summary": mask_phone_numbers(event.summary)}, private=True)]


def _case_escalated(event: CaseEscalated, context: Context) -> list[Message]:
    """Staff take the case up; the mediator who had it at the level it leaves hears where it went."""
    fields = {"community": event.community_code, "case_id": event.case_id, "level": event.level,
              "from_level": event.from_level, **_masked_reason(event, context)}
    mediator = context.mediators.get(event.from_level)
    return [Message(staff(event.community_code), "case_escalated", fields)] + (
        [Message(mediator, "case_handed_on", fields)] if mediator else [])


def _follow_up(event: CaseFollowUpDue, context: Context) -> list[Message]:
    """The return visit is the staff's and the mediator's who closed the case."""
    fields = {"community": event.community_code, "case_id": event.case_id, "outcome": event.outcome}
    recipients = dict.fromkeys((staff(event.community_code), context.mediators.get(event.level)))
    return [Message(recipient, "follow_up", fields) for recipient in recipients if recipient]


COMPOSERS: dict[type[Event], Callable[[Event, Context], list[Message]]] = {
    AssignmentOffered: _offer, AssignmentAccepted: _accepted, AssignmentWithdrawn: _withdrawal,
    RequestAssigned: _to_resident("assigned"), RequestCompleted: _to_resident("completed"),
    RequestEscalated: _escalation, RequestMissed: _missed, CaseAssigned: _case_assigned,
    CaseEscalated: _case_escalated, CaseFollowUpDue: _follow_up,
    RequestHandledByStaff: _handled_by_staff, RequestCancelled: _not_needed}
# Events that tell nobody anything but settle what was pending.
SETTLING = (AssignmentDeclined, AssignmentExpired)
