"""Property-based tests (hypothesis) of the rules that make notify's end state independent of
the order its queues deliver in (services/notify/domain/ordering.py): whatever an event's
messages depend on that may come later is awaited, and what is told again only grows."""
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from services.notify.domain.messages import Context, messages_for, resident, settled_by, volunteer
from services.notify.domain.ordering import (arrived, assignment_turn, assignment_turns, awaited, backlog_turn,
                                             contact_of, mediator_of, turns)
from services.notify.domain.routing import EMAIL, INBOX, SMS, WEBHOOK, Contact, channels_for
from shared.events import (AssignmentAccepted, AssignmentOffered, AssignmentWithdrawn, CaseAssigned, CaseEscalated,
                           CaseFollowUpDue, RequestAssigned, RequestCancelled, RequestCompleted, RequestEscalated,
                           RequestHandledByStaff, RequestMissed, Staffed, StaffRef, VolunteerRef)

NOW = datetime(2026, 3, 1, 1, 0, tzinfo=UTC)
LEVELS = ("grid", "community", "street")
STAFF = StaffRef(subject="staff-1", role="community_staff", area="c-north")
NAME = "王秀英"  # the resident; free text below never names her, so masking changes nothing
words = st.text(alphabet="需要帮助老人电话 0123456789", min_size=1, max_size=30)
volunteers = st.builds(VolunteerRef, volunteer_id=st.uuids(), source=st.just("volunteer-app"),
                       external_id=st.sampled_from(["v-1", "v-2", "m-1"]))


def about(draw) -> dict:
    return {"correlation_id": "c", "request_id": draw(st.uuids()), "source": "hotline-12345",
            "external_id": draw(st.sampled_from(["h-1", "h-2"])), "category": "elder_care.meals",
            "community_code": "c-north", "occurred_at": NOW}


@st.composite
def events(draw):
    """Any event notify composes messages from, with fields drawn at random."""
    kind = draw(st.sampled_from(["offered", "accepted", "withdrawn", "assigned", "completed", "escalated", "missed",
                                 "case_assigned", "case_escalated", "follow_up", "handled", "cancelled"]))
    if kind.startswith("case") or kind == "follow_up":
        case = {"correlation_id": "c", "case_id": uuid.UUID(int=1), "source": "grid-platform", "external_id": "g-1",
                "community_code": "c-north", "occurred_at": NOW}
        level, to = draw(st.sampled_from(LEVELS)), draw(st.sampled_from(LEVELS))
        if kind == "case_assigned":
            return CaseAssigned(**case, level=level, assignment_id=draw(st.uuids()), volunteer=draw(volunteers),
                                dispute_type="noise", summary=draw(words))
        if kind == "case_escalated":
            return CaseEscalated(**case, level=to, from_level=level, reason=draw(words))
        return CaseFollowUpDue(**case, level=level, outcome="agreement", follow_up_at=NOW)
    request = about(draw)
    assignment = {**request, "assignment_id": draw(st.uuids()), "volunteer": draw(volunteers)}
    staffed = (Staffed(**draw(volunteers).model_dump(), assignment_id=draw(st.uuids())),)
    window = draw(st.none() | st.just(NOW + timedelta(days=2)))
    return {"offered": lambda: AssignmentOffered(**assignment, urgency=draw(st.sampled_from(["normal", "emergency"])),
                                                 description=draw(words), address=draw(words),
                                                 expires_at=NOW + timedelta(minutes=30)),
            "accepted": lambda: AssignmentAccepted(**assignment, address=draw(words), window_start=window),
            "withdrawn": lambda: AssignmentWithdrawn(**assignment, reason=draw(words)),
            "assigned": lambda: RequestAssigned(**request, volunteers=staffed),
            "completed": lambda: RequestCompleted(**request, volunteers=staffed, hours=1.0, people_served=1),
            "escalated": lambda: RequestEscalated(**request, reason=draw(words), urgency="normal"),
            "missed": lambda: RequestMissed(**request, volunteers=staffed, window_end=NOW),
            "handled": lambda: RequestHandledByStaff(**request, hours=1.0, people_served=1, staff=STAFF),
            "cancelled": lambda: RequestCancelled(**request, cancelled_by=draw(st.none() | st.just(STAFF)),
                                                  reason=draw(words))}[kind]()


residents = st.none() | st.builds(Contact, phone=st.none() | st.just("13912345678"), name=st.just(NAME),
                                  has_app=st.just(False))
mediators = st.dictionaries(st.sampled_from(LEVELS), st.sampled_from(["volunteer:volunteer-app:m-1",
                                                                      "volunteer:volunteer-app:m-2"]))


def context(resident_known: Contact | None, mediators_known: dict) -> Context:
    return Context(timezone=ZoneInfo("Asia/Shanghai"), now=NOW, resident=resident_known, mediators=mediators_known,
                   window_reminders=(timedelta(hours=24), timedelta(hours=1)))


def told(event, ctx: Context) -> set[tuple]:
    return {(m.recipient, m.kind, m.lead, tuple(sorted(map(str, m.fields.items())))) for m in messages_for(event, ctx)}


@given(events(), residents, mediators)
def test_every_person_an_event_tells_is_awaited_from_the_queue_that_brings_their_profile(event, known, cases):
    waits = awaited(event)
    for message in messages_for(event, context(known, cases)):
        if message.recipient.startswith("resident:"):
            assert contact_of(message.recipient) in waits.before
        elif message.recipient.startswith("volunteer:"):
            named = getattr(event, "volunteer", None)
            assert (named and message.recipient == volunteer(named) and contact_of(message.recipient) in waits.after) \
                or any(key.startswith(mediator_of(event.case_id, "")) for key in waits.after)


@given(events(), residents, mediators)
def test_what_the_resident_s_profile_changes_is_held_for_it(event, known, cases):
    """Told with the resident's profile or without, the same messages, unless the event waits for it."""
    if told(event, context(known, cases)) != told(event, context(None, cases)):
        assert contact_of(resident(event.source, event.external_id)) in awaited(event).before


@given(events(), residents, mediators, mediators)
def test_a_mediator_arriving_later_only_adds_messages(event, known, before, more):
    """Told again once a case's mediator is known: what was told before is all still there."""
    later = {**before, **more}
    assert told(event, context(known, before)) <= told(event, context(known, later)) or \
        any(before.get(level) != later.get(level) for level in before)


@given(events(), residents, mediators)
def test_the_turns_an_event_takes_first_are_every_turn_its_handler_takes(event, known, cases):
    """What a batch locks before its first message (shared/consumer.py's prepare) covers what
    each message's handler locks: its assignments' messages and settling, what it waits for and
    makes known, its community's backlog window."""
    taken = set(turns(event))
    waits = awaited(event)
    assert {*arrived(event), *waits.before, *waits.after} <= taken
    assert {assignment_turn(assignment_id) for assignment_id, _ in settled_by(event)} <= taken
    assert {assignment_turn(m.assignment_id) for m in messages_for(event, context(known, cases))
            if m.assignment_id} <= set(assignment_turns(event))  # what a held event released takes
    if isinstance(event, RequestEscalated):
        assert backlog_turn(event.community_code) in taken


@given(st.builds(Contact, email=st.none() | st.just("a@b.cn"), phone=st.none() | st.just("13900000002"),
                 has_app=st.booleans()),
       st.booleans(), st.booleans(), st.sets(st.sampled_from([WEBHOOK, EMAIL, SMS])))
def test_a_volunteer_s_profile_arriving_later_only_adds_channels(contact, urgent, private, configured):
    available = frozenset({INBOX, *configured})
    assert channels_for(None, urgent, private, available).items() <= channels_for(contact, urgent, private,
                                                                                 available).items()
