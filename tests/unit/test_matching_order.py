"""Issue 13's rules of matching as pure decisions, with no servers: the same end state whatever
order a request's or a case's events arrive in across matching's queues (property-based, over
every interleaving hypothesis draws), a deadline for an accepted assignment without a window,
bookings that never overlap, when a timer row that raised is tried again, and what an erasure
handled before what it erases leaves of it."""
import uuid
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.matching.domain.bookings import booking_refusal, clash, overlaps
from services.matching.domain.candidates import unfit
from services.matching.domain.changes import (AddTask, Decision, DropReport, KeepReport, MoveAssignment, MoveTask,
                                              RecordService, RememberCancellation, SetSeries, SettleBooking)
from services.matching.domain.lifecycle import Situation, cancel, lapse, receive, report, respond
from services.matching.domain.model import Task, Volunteer
from services.matching.domain.offers import HOLDING, AssignmentState, Status
from services.matching.domain.setbacks import FIRST, LONGEST, retry_at
from services.matching.domain.subjects import Case
from services.matching.domain.tasks import UNDER_WAY, SeriesStatus, TaskStatus
from services.matching.erasure import as_erased
from shared.events import AssignmentResponded, CompletionReported
from shared.mediation import Level
from tests.builders.matching import case as dispute
from tests.builders.matching import registered
from tests.unit.test_matching_lifecycle import CASE, NOW, POLICY, REQUEST, assignment, case_at, requested, task

# -- a tiny world the decisions act on, as matching's store would --------------------------------


@dataclass
class World:
    """What matching keeps of one request or case, with every event it emitted (routing key and reason)."""

    subject: object
    tasks: dict = field(default_factory=dict)
    assignments: dict = field(default_factory=dict)
    kept: dict = field(default_factory=dict)
    cancelled_early: set = field(default_factory=set)
    received: bool = False
    series: SeriesStatus | None = None
    places: Counter = field(default_factory=Counter)  # held per volunteer
    said: Counter = field(default_factory=Counter)

    def apply(self, decision: Decision) -> None:
        for change in decision.changes:
            self._change(change)
        for event in decision.events:
            self.said[event.routing_key, getattr(event, "reason", None)] += 1

    def _change(self, change) -> None:
        match change:
            case AddTask(task=new):
                self.tasks[new.task_id] = new
            case MoveTask(task_id=task_id, status=status):
                self.tasks[task_id] = replace(self.tasks[task_id], status=status)
            case MoveAssignment(assignment_id=key, status=status, at=at):
                self.assignments[key] = replace(self.assignments[key], status=status, answered_at=at)
            case RecordService(assignment_id=key, hours=hours, people_served=people, outcome=outcome):
                self.assignments[key] = replace(self.assignments[key], status=Status.COMPLETED, hours=hours,
                                                people_served=people, outcome=outcome)
            case SettleBooking(volunteer_id=volunteer):
                self.places[volunteer] -= 1
            case KeepReport(assignment_id=key, report=kept):
                self.kept.setdefault(key, kept)
            case DropReport(assignment_id=key):
                del self.kept[key]
            case SetSeries(status=status):
                self.series = status
            case RememberCancellation(request_id=request_id):
                self.cancelled_early.add(request_id)

    def offer(self, task_id, n: int) -> AssignmentState:
        """What a decision would offer: volunteer n, their place booked."""
        made = assignment(n, task_id=task_id)
        self.assignments[made.assignment_id] = made
        self.places[made.volunteer.volunteer_id] += 1
        return made

    def situation(self, assignment_id) -> Situation | None:
        found = self.assignments.get(assignment_id)
        if found is None:
            return None
        task_ = self.tasks[found.task_id]
        held = tuple(replace(a, kept_report=self.kept.get(a.assignment_id)) for a in self.assignments.values()
                     if a.task_id == task_.task_id)
        return Situation(task_, self.subject, held, next(a for a in held if a.assignment_id == assignment_id))

    def end_state(self):
        """What must not depend on the order: every assignment's and task's status, the hours
        served, the places still held, the series, the reports still kept, and how many of
        each event were emitted (what was refused; a refusal's words tell the state it met)."""
        return (sorted((a.assignment_id, a.status, a.hours) for a in self.assignments.values()),
                sorted((t.task_id, t.status) for t in self.tasks.values()), +self.places, self.series,
                dict(self.kept), Counter(key for key, _ in self.said.elements()))


def answer(offered: AssignmentState, accept: bool) -> AssignmentResponded:
    return AssignmentResponded(correlation_id="answer", assignment_id=offered.assignment_id, accept=accept,
                               source="volunteer-app", volunteer_external_id=offered.volunteer.external_id)


def done(offered: AssignmentState, hours: float, outcome: str | None) -> CompletionReported:
    return CompletionReported(correlation_id=f"done-{hours}", assignment_id=offered.assignment_id, hours=hours,
                              people_served=1, outcome=outcome, reported_by="volunteer-app")


def interleavings(first: list, second: list):
    """Every order that keeps each queue's own order: which queue delivers next, at each step."""
    return st.permutations([0] * len(first) + [1] * len(second)).map(
        lambda picks: _merge(picks, list(first), list(second)))


def _merge(picks, first, second):
    return [(first if pick == 0 else second).pop(0) for pick in picks]


# -- order: an answer and a report of service, on two queues ------------------------------------

ANSWERS = {"accept": [True], "decline": [False], "accept twice": [True, True]}
REPORTS = {"one": [2.0], "two": [2.0, 3.0], "none": []}


def offered_world(on: str) -> tuple[World, AssignmentState]:
    """A request's occurrence, or a case at community level, offered to volunteer 1."""
    world = World(REQUEST if on == "request" else CASE)
    open_task = task() if on == "request" else case_at(Level.COMMUNITY)
    world.tasks[open_task.task_id] = open_task
    return world, world.offer(open_task.task_id, 1)


def deliver(world: World, offered: AssignmentState, message) -> None:
    kind, value = message
    if kind == "answer":
        world.apply(respond(answer(offered, value), world.situation(offered.assignment_id), NOW, POLICY))
    else:
        outcome = "agreement" if isinstance(world.subject, Case) else None
        world.apply(report(done(offered, value, outcome), world.situation(offered.assignment_id), NOW, POLICY))


def answered_and_reported(on: str, answers: str, reports: str):
    return [("answer", a) for a in ANSWERS[answers]], [("report", r) for r in REPORTS[reports]]


@st.composite
def answer_and_report_orders(draw):
    on = draw(st.sampled_from(["request", "case"]))
    answers, reports = answered_and_reported(on, draw(st.sampled_from(sorted(ANSWERS))),
                                             draw(st.sampled_from(sorted(REPORTS))))
    return on, answers, reports, draw(interleavings(answers, reports))


# No deadline per example: on a loaded machine a slow one is no failure of the rule.
@settings(deadline=None)
@given(answer_and_report_orders())
def test_an_answer_and_reports_of_service_end_the_same_in_any_order(drawn):
    """The order an answer first, then the reports is the one a volunteer makes them in."""
    on, answers, reports, order = drawn
    expected, offered = offered_world(on)
    for message in answers + reports:
        deliver(expected, offered, message)
    world, offered = offered_world(on)
    for message in order:
        deliver(world, offered, message)
    assert world.end_state() == expected.end_state()


def test_a_report_before_the_acceptance_is_kept_then_applied_with_it():
    world, offered = offered_world("request")
    deliver(world, offered, ("report", 2.0))
    assert [(key, kept.hours) for key, kept in world.kept.items()] == [(offered.assignment_id, 2.0)]
    assert not world.said  # nothing refused, nothing told
    deliver(world, offered, ("answer", True))
    assert world.kept == {} and world.assignments[offered.assignment_id].status == Status.COMPLETED
    assert world.assignments[offered.assignment_id].hours == 2.0 and +world.places == Counter()
    assert {key for key, _ in world.said} == {"assignment.accepted", "request.assigned", "request.completed"}


@pytest.mark.parametrize("falls_away, reason", [
    (lambda w, a: deliver(w, a, ("answer", False)), "the offer was already declined"),
    (lambda w, a: w.apply(cancel(REQUEST.request_id, REQUEST, [(w.tasks[a.task_id], tuple(
        w.situation(a.assignment_id).held))], NOW)), "the offer was already withdrawn"),
])
def test_a_kept_report_is_refused_when_its_offer_falls_away_instead(falls_away, reason):
    world, offered = offered_world("request")
    deliver(world, offered, ("report", 2.0))
    falls_away(world, offered)
    assert world.kept == {} and world.said["completion.rejected", reason] == 1


# -- order: a request and its cancellation, on two queues ---------------------------------------

def receive_request(world: World) -> None:
    """request.received, as matching handles it: stored once, then offered by the decision after it."""
    if world.received:
        return
    world.received = True
    world.apply(receive(REQUEST, REQUEST.request_id in world.cancelled_early, POLICY.service_hours))
    for waiting in [t for t in world.tasks.values() if t.status == TaskStatus.OPEN]:
        world.offer(waiting.task_id, 1)


def cancel_request(world: World) -> None:
    occurrences = [(t, tuple(world.situation(a).held if (a := next(
        (k for k, v in world.assignments.items() if v.task_id == t.task_id), None)) else ()))
        for t in world.tasks.values() if t.status in UNDER_WAY]
    world.apply(cancel(REQUEST.request_id, REQUEST if world.received else None, occurrences, NOW))


@settings(deadline=None)
@given(st.lists(st.sampled_from(["received", "cancelled"]), min_size=2).filter(
    lambda deliveries: {"received", "cancelled"} <= set(deliveries)))
def test_a_cancelled_request_is_never_left_dispatched_whatever_came_first(deliveries):
    """Any order, any redeliveries: the series is cancelled, nothing is under way, no place is held."""
    world = World(REQUEST)
    for delivery in deliveries:
        (receive_request if delivery == "received" else cancel_request)(world)
    assert world.series == SeriesStatus.CANCELLED
    assert all(t.status not in UNDER_WAY for t in world.tasks.values())
    assert all(a.status not in HOLDING for a in world.assignments.values()) and +world.places == Counter()


def test_a_request_whose_cancellation_came_first_is_recorded_cancelled_without_a_task():
    assert receive(REQUEST, True, 2.0) == Decision.of(SetSeries(REQUEST.request_id, SeriesStatus.CANCELLED))
    [add] = receive(REQUEST, False, 2.0).changes
    assert isinstance(add, AddTask) and add.task.status == TaskStatus.OPEN


# -- the deadline of an accepted assignment without a window ------------------------------------

DEADLINE = POLICY.accepted_deadline


@pytest.mark.parametrize("status, window_end, accepted_ago, lapses", [
    (Status.ACCEPTED, None, DEADLINE - timedelta(seconds=1), False),  # just before
    (Status.ACCEPTED, None, DEADLINE, True),
    (Status.ACCEPTED, None, DEADLINE + timedelta(days=1), True),
    (Status.ACCEPTED, NOW + timedelta(hours=1), DEADLINE * 2, False),  # a window: its end is the deadline
    (Status.OFFERED, None, DEADLINE * 2, False),
    (Status.COMPLETED, None, DEADLINE * 2, False),
])
def test_an_accepted_assignment_without_a_window_lapses_at_its_deadline(status, window_end, accepted_ago, lapses):
    held = assignment(1, status, answered_at=NOW - accepted_ago)
    decision = lapse(task(status=TaskStatus.ASSIGNED, window_end=window_end), REQUEST, [held], held, NOW, POLICY)
    assert bool(decision.changes) == lapses


def test_a_lapsed_assignment_releases_the_place_and_tells_the_staff():
    held = [assignment(1, Status.ACCEPTED, answered_at=NOW - DEADLINE), assignment(2, Status.ACCEPTED)]
    decision = lapse(task(needed=2, status=TaskStatus.ASSIGNED), REQUEST, held, held[0], NOW, POLICY)
    reason = "a volunteer accepted but not reported done within 72 hours"
    assert [*decision.changes] == [
        MoveAssignment(held[0].assignment_id, Status.MISSED, "accepted but not reported done within 72 hours", NOW),
        SettleBooking(held[0].volunteer.volunteer_id, held[0].week, held[0].planned_hours, 0.0),
        MoveTask(task().task_id, TaskStatus.ESCALATED, reason, "not_reported", {"hours": 72, "volunteer": True})]
    [escalated] = decision.events
    assert (escalated.routing_key, escalated.reason, escalated.reason_code, escalated.needed, escalated.accepted) == (
        "request.escalated", reason, "not_reported", 2, 1)
    # a task already with the staff: the place is released, nothing more
    again = lapse(task(needed=2, status=TaskStatus.ESCALATED), REQUEST, held, held[0], NOW, POLICY)
    assert len(again.changes) == 2 and again.events == ()


def test_a_mediator_s_lapsed_session_takes_the_case_up_a_level():
    held = assignment(1, Status.ACCEPTED, task_id=uuid.UUID(int=200), answered_at=NOW - DEADLINE)
    decision = lapse(case_at(Level.STREET, status=TaskStatus.ASSIGNED), CASE, [held], held, NOW, POLICY)
    [escalated] = decision.events
    assert (escalated.routing_key, escalated.level, escalated.from_level) == ("case.escalated", "street_staff",
                                                                              "street")
    assert (escalated.reason, escalated.reason_code, escalated.reason_params) == (
        "accepted but not reported done within 72 hours", "not_reported", {"hours": 72})


# -- bookings -----------------------------------------------------------------------------------

def at(hour: int) -> datetime:
    return datetime(2026, 3, 2, hour, tzinfo=UTC)


@pytest.mark.parametrize("one, other, overlap", [
    ((at(1), at(3)), (at(2), at(4)), True),
    ((at(1), at(4)), (at(2), at(3)), True),  # inside
    ((at(1), at(2)), (at(2), at(3)), False),  # one ends as the other starts
    ((at(1), at(2)), (at(3), at(4)), False),
])
def test_windows_overlap_when_they_share_a_moment(one, other, overlap):
    assert overlaps(one, other) == overlaps(other, one) == overlap


def test_a_window_clashes_with_the_first_booking_it_overlaps_and_no_window_with_none():
    booked = ((at(1), at(2)), (at(5), at(7)))
    assert clash((at(6), at(8)), booked) == (at(5), at(7)) and clash((at(2), at(5)), booked) is None
    assert clash(None, booked) is None and booking_refusal(None, booked) is None


def test_an_offer_is_not_made_to_a_volunteer_booked_in_an_overlapping_window():
    volunteer = Volunteer(volunteer_id=uuid.UUID(int=1), source="s", external_id="v", community_code="c",
                          skills=frozenset({"cooking"}), booked=((at(1), at(3)),))
    wanted = Task(task_id=uuid.UUID(int=9), community_code="c", skills=("cooking",), window=(at(2), at(4)))
    assert unfit(volunteer, wanted, POLICY.limits) == "booked"
    assert unfit(volunteer, replace(wanted, window=(at(3), at(5))), POLICY.limits) is None
    assert unfit(volunteer, replace(wanted, window=None), POLICY.limits) is None


def test_accepting_an_offer_that_overlaps_an_accepted_window_is_refused():
    windowed = task(window_start=at(2), window_end=at(4))
    offered = assignment(1)
    found = Situation(windowed, REQUEST, (offered,), offered, booked=((at(3), at(5)),))
    [refused] = respond(answer(offered, True), found, NOW, POLICY).events
    assert (refused.routing_key, refused.reason) == (
        "response.rejected", "the volunteer already accepted an assignment from 2026-03-02T03:00:00+00:00 to "
                             "2026-03-02T05:00:00+00:00, which this window overlaps")
    declined = respond(answer(offered, False), found, NOW, POLICY)  # declining is always possible
    assert [e.routing_key for e in declined.events] == ["assignment.declined"]
    elsewhere = replace(found, booked=((at(4), at(5)),))
    assert respond(answer(offered, True), elsewhere, NOW, POLICY).events[0].routing_key == "assignment.accepted"


# -- a timer row that raised --------------------------------------------------------------------

@pytest.mark.parametrize("attempts, after", [(1, FIRST), (2, FIRST * 2), (3, FIRST * 4), (8, LONGEST),
                                             (1000, LONGEST)])
def test_a_row_that_failed_is_tried_again_later_each_time(attempts, after):
    assert retry_at(attempts, NOW) == NOW + after


# -- an erasure handled before what it erases -----------------------------------------------------

def test_what_happened_before_an_erasure_handled_first_is_kept_as_the_erasure_leaves_it():
    erased_at = REQUEST.occurred_at + timedelta(days=1)
    request = requested(address="幸福路 1 号", location={"lat": 31.2, "lon": 121.4},
                        beneficiary={"name": "王奶奶", "phone": "13900000000", "language": "wuu"})
    kept = as_erased(request, erased_at)
    assert (kept.description, kept.address, kept.location, kept.beneficiary) == (None, None, None, None)
    assert (kept.request_id, kept.category, kept.community_code) == (REQUEST.request_id, REQUEST.category,
                                                                   REQUEST.community_code)
    assert as_erased(request, None) is request
    case_kept = as_erased(dispute("c-north", None), datetime.now(UTC) + timedelta(seconds=1))
    assert (case_kept.summary, case_kept.parties) == ("", ())
    volunteer = registered("c-north", "cooking", location={"lat": 31.2, "lon": 121.4})
    gone = as_erased(volunteer, volunteer.occurred_at)
    assert (gone.name, gone.location, gone.active) == ("", None, False)
    rejoined = volunteer.model_copy(update={"occurred_at": volunteer.occurred_at + timedelta(days=30)})
    assert as_erased(rejoined, volunteer.occurred_at) is rejoined  # joined again after the erasure
