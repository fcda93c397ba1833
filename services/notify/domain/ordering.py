"""What an event's messages depend on that travels on another queue, and so may come after it.

notify hears each kind of event on a queue of its own, so a message can be handled before what
it needs: an offer before its volunteer's registration (their email and phone), a request's
steps before `request.received` (whether the resident has a phone to text, whom the volunteer
who accepted is to call), a case's escalation before `case.assigned` named the mediator to hand
it on from. The end state must not depend on that order:

- an event whose messages change with the resident's profile (who is told, what the confirmation
  says) is held until `request.received` arrives ("before"), for at most HOLD_AT_MOST, then told
  with what is known (a profile that never comes cannot hold a message for ever);
- an event whose messages only grow once a volunteer's profile or a case's mediator is known (an
  email, an SMS, the mediator told) is told at once and told again when it arrives ("after"),
  within the same bound: a notification's id follows from what it is, so telling again adds only
  what was missing.

What telling again cannot change is a message already delivered: an inbox message written before
the volunteer's profile named English stays in Chinese (its email, added later, is in English)."""
from dataclasses import dataclass
from datetime import timedelta

from services.notify.domain.messages import COMPOSERS, resident, settled_by, volunteer
from shared.events import (AssignmentAccepted, CaseAssigned, CaseEscalated, CaseFollowUpDue, Event, RequestAssigned,
                           RequestCancelled, RequestCompleted, RequestEscalated, RequestHandledByStaff, RequestReceived,
                           VolunteerRef, VolunteerRegistered)

HOLD_AT_MOST = timedelta(seconds=60)


@dataclass(frozen=True)
class Awaited:
    before: tuple[str, ...] = ()  # held until these are known
    after: tuple[str, ...] = ()  # told again once these are known


def contact_of(recipient: str) -> str:
    """The key of a person's profile (contact) having arrived."""
    return f"contact:{recipient}"


def mediator_of(case_id, level: str) -> str:
    """The key of a case's mediator at `level` having arrived (case.assigned)."""
    return f"mediator:{case_id}:{level}"


def awaited(event: Event) -> Awaited:
    """What `event`'s messages wait for (none for an event that tells nobody)."""
    if type(event) not in COMPOSERS:
        return Awaited()
    before = ()
    if _told_as_the_resident_s_profile_says(event):
        before = (contact_of(resident(event.source, event.external_id)),)  # them or their staff; their phone
    after = ()
    if isinstance(getattr(event, "volunteer", None), VolunteerRef):  # their email, and phone if it is urgent
        after = (contact_of(volunteer(event.volunteer)),)
    if isinstance(event, CaseEscalated):
        after += (mediator_of(event.case_id, event.from_level),)
    elif isinstance(event, CaseFollowUpDue):
        after += (mediator_of(event.case_id, event.level),)
    return Awaited(before, after)


def _told_as_the_resident_s_profile_says(event: Event) -> bool:
    """A request's step the resident (or their staff) hears of, or whose confirmation names them."""
    if isinstance(event, RequestCancelled):
        return event.cancelled_by is not None  # staff closed it; its publisher's withdrawal tells nobody
    about_a_request = (RequestAssigned, RequestCompleted, RequestHandledByStaff, AssignmentAccepted)
    return isinstance(event, about_a_request) and event.request_id is not None


def arrived(event: Event) -> tuple[str, ...]:
    """What `event` makes known, that held events may wait for."""
    if isinstance(event, VolunteerRegistered):
        return (contact_of(volunteer(event)),)
    if isinstance(event, RequestReceived):
        return (contact_of(resident(event.source, event.external_id)),)
    if isinstance(event, CaseAssigned):
        return (mediator_of(event.case_id, event.level),)
    return ()


def assignment_turn(assignment_id) -> str:
    """The key an assignment's messages take turns on: adding one and settling them."""
    return f"assignment:{assignment_id}"


def backlog_turn(community_code: str) -> str:
    """The key a community's escalations take turns on, so one backlog window opens at a time."""
    return f"backlog:{community_code}"


def assignment_turns(event: Event) -> tuple[str, ...]:
    """The turns of the assignments `event`'s messages are about, or whose messages it settles."""
    assignments = [assignment_id for assignment_id, _ in settled_by(event)]
    if getattr(event, "assignment_id", None):
        assignments.append(event.assignment_id)
    return tuple(map(assignment_turn, assignments))


def turns(event: Event) -> tuple[str, ...]:
    """Every key whose turn handling `event` takes (store.take_turns): taken together first, in
    one order, by a message or by a batch of them, so that no two transactions wait for each other."""
    waits = awaited(event)
    backlog = (backlog_turn(event.community_code),) if isinstance(event, RequestEscalated) else ()
    return (*assignment_turns(event), *arrived(event), *waits.before, *waits.after, *backlog)
