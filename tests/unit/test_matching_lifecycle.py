"""matching's lifecycle as pure decisions, with no servers: an offer made, accepted, declined,
expired, withdrawn; a service reported, a window missed, a request cancelled; a case climbing,
closing and falling due for its return visit; a request nobody can take; the search widened."""
import uuid
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.matching.domain.candidates import Limits
from services.matching.domain.changes import (AddAssignment, AddTask, CloseCase, Decision, FollowUpAnnounced,
                                              MoveAssignment, MoveCase, MoveTask, RecordService, RememberCancellation,
                                              SetSeries, SettleBooking, WantOffers)
from services.matching.domain.lifecycle import (CANCELLED, EVERY_PLACE_TAKEN, NOT_REPORTED, WINDOW_ENDED, Situation,
                                                accept, cancel, decline, expire, miss, offer, report, respond,
                                                withdraw)
from services.matching.domain.mediation import case_task, climb, follow_up_due, within_reach
from services.matching.domain.model import Volunteer
from services.matching.domain.offers import HOLDING, TAKEN, AssignmentState, Status, completion_refusal, places_held
from services.matching.domain.policy import Policy
from services.matching.domain.scoring import Score
from services.matching.domain.search import after_offers, wider_area
from services.matching.domain.series import next_occurrence, request_task
from services.matching.domain.staffing import Offer
from services.matching.domain.subjects import Case
from services.matching.domain.tasks import SeriesStatus, TaskState, TaskStatus, week_of_task, weighed
from shared.areas import Areas
from shared.events import AssignmentResponded, CompletionReported, RequestReceived, VolunteerRef
from shared.mediation import Level
from shared.reasons import Reason
from shared.settings import Settings
from shared.submissions import Urgency

NOBODY = Reason(code="nobody_able", params={"task": "case", "level": "grid", "places": ["c-north"], "failures": {}})
NOW = datetime(2026, 3, 2, 2, tzinfo=UTC)  # Monday 10:00 in the city
SHANGHAI = ZoneInfo("Asia/Shanghai")
STREET = Areas({"c-north": "s-1", "c-south": "s-1"}, {"s-1": ("c-north", "c-south")})
POLICY = Policy(limits=Limits(5, SHANGHAI), areas=STREET, offer_timeout=timedelta(minutes=30),
                emergency_offer_timeout=timedelta(minutes=5), emergency_fan_out=3, service_hours=2.0,
                widen_to_street=True, follow_up=timedelta(days=7))
REQUEST = RequestReceived(correlation_id="corr-1", request_id=uuid.UUID(int=1), source="hotline-12345",
                          external_id="h-1", category="elder_care.meals", description="独居老人需要助餐",
                          community_code="c-north", address="幸福路 1 号", occurred_at=NOW - timedelta(hours=1))
CASE = Case(case_id=uuid.UUID(int=2), correlation_id="corr-2", source="grid-platform", external_id="k-1",
            community_code="c-north", grid_code="g-7", dispute_type="noise", summary="楼上装修噪音扰民",
            level=Level.GRID)


def requested(**fields) -> RequestReceived:
    """REQUEST with other fields, validated as intake would have sent them."""
    return RequestReceived.model_validate({**REQUEST.model_dump(), **fields})


def task(**changes) -> TaskState:
    """An occurrence of REQUEST, open."""
    return replace(request_task(REQUEST, 1, POLICY.service_hours), **{"task_id": uuid.UUID(int=100), **changes})


def case_at(level: Level, **changes) -> TaskState:
    return replace(case_task(CASE, level, POLICY), task_id=uuid.UUID(int=200), **changes)


def assignment(n: int, status: Status = Status.OFFERED, **changes) -> AssignmentState:
    return AssignmentState(**{"assignment_id": uuid.UUID(int=1000 + n), "task_id": uuid.UUID(int=100),
                              "volunteer": VolunteerRef(volunteer_id=uuid.UUID(int=n), source="volunteer-app",
                                                        external_id=f"v-{n}"),
                              "status": status, "week": NOW.date(), "planned_hours": 2.0,
                              "expires_at": NOW + timedelta(minutes=30), **changes})


def keys(decision: Decision) -> list[str]:
    return [event.routing_key for event in decision.events]


def the(decision: Decision, routing_key: str):
    [event] = [e for e in decision.events if e.routing_key == routing_key]
    return event


def released(a: AssignmentState, status: Status, reason: str | None) -> list:
    return [MoveAssignment(a.assignment_id, status, reason, NOW), SettleBooking(a.volunteer.volunteer_id, a.week,
                                                                                a.planned_hours, 0.0)]


def test_every_event_a_decision_emits_happened_now():
    offered = assignment(1)
    decisions = [accept(task(), REQUEST, [offered], offered, NOW), decline(task(), REQUEST, offered, None, NOW),
                 expire(task(), REQUEST, replace(offered, expires_at=NOW), NOW),
                 miss(task(window_end=NOW - timedelta(seconds=1)), REQUEST, [offered], NOW, POLICY),
                 climb(case_at(Level.GRID), CASE, NOBODY, NOW, POLICY),
                 follow_up_due(replace(CASE, outcome="agreement", follow_up_at=NOW), NOW)]
    events = [event for decision in decisions for event in decision.events]
    assert len(events) >= 6 and {event.occurred_at for event in events} == {NOW}


def test_events_carry_what_publishers_notify_and_reporting_follow_a_request_or_a_case_by():
    start = NOW + timedelta(days=1)
    occurrence = task(occurrence=2, window_start=start, window_end=start + timedelta(hours=2))
    offered = assignment(1)
    accepted = accept(occurrence, REQUEST, [offered], offered, NOW)
    about_request = {"correlation_id": "corr-1", "request_id": REQUEST.request_id, "source": "hotline-12345",
                     "external_id": "h-1", "category": "elder_care.meals", "community_code": "c-north",
                     "occurrence": 2}
    for event in accepted.events:
        assert about_request.items() <= event.model_dump().items(), event.routing_key
    assigned = the(accepted, "request.assigned")
    assert (assigned.window_start, assigned.window_end) == (start, start + timedelta(hours=2))
    session = assignment(1, task_id=uuid.UUID(int=200))
    about_the_case = {"correlation_id": "corr-2", "case_id": CASE.case_id, "source": "grid-platform",
                      "external_id": "k-1", "community_code": "c-north", "level": "grid"}
    case_accepted = accept(case_at(Level.GRID), CASE, [session], session, NOW)
    for event in case_accepted.events:
        assert about_the_case.items() <= event.model_dump().items(), event.routing_key
    assert the(case_accepted, "case.assigned").grid_code == "g-7"
    assert the(case_accepted, "assignment.accepted").category == "mediation"


# -- an offer ---------------------------------------------------------------------------------

def chosen(n: int = 1, *skills: str) -> Offer:
    volunteer = Volunteer(volunteer_id=uuid.UUID(int=n), source="volunteer-app", external_id=f"v-{n}",
                          community_code="c-south", skills=frozenset(skills or ("cooking", "legal")))
    return Offer(task=None, volunteer=volunteer, score=Score(5.0, {"pairing": 0.0}))


@pytest.mark.parametrize("urgency, expires_in", [(Urgency.NORMAL, timedelta(minutes=30)),
                                                 (Urgency.HIGH, timedelta(minutes=30)),
                                                 (Urgency.EMERGENCY, timedelta(minutes=5))])
def test_an_offer_books_the_volunteer_says_why_and_runs_for_its_urgency_s_time(urgency, expires_in):
    occurrence = task(urgency=urgency, search_area=("c-north", "c-south"))
    decision = offer(occurrence, REQUEST, chosen(), NOW.date(), NOW, POLICY)
    [added] = decision.changes
    assert isinstance(added, AddAssignment) and added.expires_at == NOW + expires_in
    assert (added.task_id, added.volunteer_id, added.planned_hours) == (occurrence.task_id, uuid.UUID(int=1), 2.0)
    assert added.reason["matched_skills"] == ["cooking"] and added.reason["volunteer_community"] == "c-south"
    assert added.reason["searched"] == ["c-north", "c-south"] and added.reason["total"] == 5.0
    event = the(decision, "assignment.offered")
    assert (event.assignment_id, event.expires_at, event.request_id) == (added.assignment_id, added.expires_at,
                                                                        REQUEST.request_id)
    assert (event.description, event.address, event.source, event.category) == (
        "独居老人需要助餐", "幸福路 1 号", "hotline-12345", "elder_care.meals")


def test_an_offer_waits_out_the_quiet_hours_unless_it_is_an_emergency():
    night = replace(POLICY, quiet=(time(9), time(11)))  # NOW is 10:00 in the city
    [added] = offer(task(), REQUEST, chosen(), NOW.date(), NOW, night).changes
    assert added.expires_at == NOW + timedelta(hours=1, minutes=30)  # from 11:00
    [urgent] = offer(task(urgency=Urgency.EMERGENCY), REQUEST, chosen(), NOW.date(), NOW, night).changes
    assert urgent.expires_at == NOW + timedelta(minutes=5)


def test_a_case_offer_names_only_the_dispute_type():
    event = the(offer(case_at(Level.GRID), CASE, chosen(1, "mediation"), NOW.date(), NOW, POLICY),
                "assignment.offered")
    assert (event.case_id, event.level, event.category, event.urgency) == (CASE.case_id, "grid", "mediation", "high")
    assert event.description == "矛盾纠纷调解 (noise)" and event.address is None and event.request_id is None


# -- an answer --------------------------------------------------------------------------------

def answer(a: AssignmentState | None, accept_it: bool = True, **changes) -> AssignmentResponded:
    a = a or assignment(9)
    return AssignmentResponded(**{"correlation_id": "answer", "assignment_id": a.assignment_id, "accept": accept_it,
                                  "source": a.volunteer.source, "volunteer_external_id": a.volunteer.external_id,
                                  **changes})


@pytest.mark.parametrize("held, response, reason", [
    (None, {}, f"no assignment {assignment(9).assignment_id}"),
    (assignment(1), {"volunteer_external_id": "v-2"},
     f"assignment {assignment(1).assignment_id} was not offered to volunteer-app/v-2"),
    (assignment(1), {"source": "other-app"},
     f"assignment {assignment(1).assignment_id} was not offered to other-app/v-1"),
    (assignment(1, Status.EXPIRED), {}, "the offer was already expired"),
    (assignment(1, Status.WITHDRAWN), {"accept": False}, "the offer was already withdrawn"),
    (assignment(1, Status.ACCEPTED), {}, "the offer was already accepted"),
])
def test_only_the_volunteer_offered_may_answer_and_only_while_the_offer_is_open(held, response, reason):
    decision = respond(answer(held, **response), held and Situation(task(), REQUEST, (held,), held), NOW, POLICY)
    assert decision.changes == ()
    [refused] = decision.events
    assert (refused.routing_key, refused.reason, refused.submission) == ("response.rejected", reason,
                                                                         "assignment.respond")
    assert refused.correlation_id == "answer"


def test_an_answer_from_the_volunteer_offered_is_taken():
    offered = assignment(1)
    found = Situation(task(), REQUEST, (offered,), offered)
    assert keys(respond(answer(offered), found, NOW, POLICY))[0] == "assignment.accepted"
    declined = respond(answer(offered, False, reason="生病了"), found, NOW, POLICY)
    assert the(declined, "assignment.declined").reason == "生病了"


@pytest.mark.parametrize("needed, before, accepting, assigned, withdrawn", [
    (1, [Status.OFFERED], 1, [1], []),
    (2, [Status.OFFERED, Status.OFFERED], 1, None, []),
    (2, [Status.ACCEPTED, Status.OFFERED], 2, [1, 2], []),
    (1, [Status.OFFERED, Status.OFFERED, Status.OFFERED], 2, [2], [1, 3]),  # an emergency's fan-out
    (1, [Status.DECLINED, Status.OFFERED], 2, [2], []),
    (2, [Status.COMPLETED, Status.OFFERED], 2, [1, 2], []),  # the first already served when the last accepts
])
def test_accepting_takes_a_place_and_the_last_place_taken_assigns_the_request(needed, before, accepting, assigned,
                                                                               withdrawn):
    held = [assignment(n, status) for n, status in enumerate(before, 1)]
    occurrence = task(needed=needed)
    decision = accept(occurrence, REQUEST, held, held[accepting - 1], NOW)
    assert decision.changes[0] == MoveAssignment(held[accepting - 1].assignment_id, Status.ACCEPTED, None, NOW)
    assert the(decision, "assignment.accepted").address == "幸福路 1 号"
    for n in withdrawn:
        assert all(change in decision.changes for change in released(held[n - 1], Status.WITHDRAWN,
                                                                     EVERY_PLACE_TAKEN))
    assert [e.assignment_id for e in decision.events if e.routing_key == "assignment.withdrawn"] == [
        held[n - 1].assignment_id for n in withdrawn]
    if assigned is None:
        assert keys(decision) == ["assignment.accepted"] and len(decision.changes) == 1
        return
    assert MoveTask(occurrence.task_id, TaskStatus.ASSIGNED) in decision.changes
    event = the(decision, "request.assigned")
    assert [v.assignment_id for v in event.volunteers] == [held[n - 1].assignment_id for n in assigned]
    assert keys(decision)[-1] == "request.assigned"


def test_a_mediator_who_accepts_is_given_the_case_s_summary():
    offered = assignment(1, task_id=uuid.UUID(int=200))
    decision = accept(case_at(Level.COMMUNITY), CASE, [offered], offered, NOW)
    assert keys(decision) == ["assignment.accepted", "case.assigned"]
    event = the(decision, "case.assigned")
    assert (event.level, event.summary, event.volunteer) == ("community", "楼上装修噪音扰民", offered.volunteer)
    assert the(decision, "assignment.accepted").address is None


@pytest.mark.parametrize("status, wants_offers", [(TaskStatus.OPEN, True), (TaskStatus.ESCALATED, False),
                                                  (TaskStatus.ASSIGNED, False)])
def test_a_declined_offer_gives_back_its_place_and_an_open_task_wants_another(status, wants_offers):
    offered = assignment(1)
    decision = decline(task(status=status), REQUEST, offered, "生病了", NOW)
    assert [*decision.changes] == released(offered, Status.DECLINED, "生病了") + (
        [WantOffers(uuid.UUID(int=100), True)] if wants_offers else [])
    assert keys(decision) == ["assignment.declined"]


@pytest.mark.parametrize("status, expires_at, expired", [
    (Status.OFFERED, NOW - timedelta(seconds=1), True),
    (Status.OFFERED, NOW, True),
    (Status.OFFERED, NOW + timedelta(seconds=1), False),
    (Status.ACCEPTED, NOW - timedelta(hours=1), False),
    (Status.DECLINED, NOW - timedelta(hours=1), False),
])
def test_an_offer_expires_once_its_time_is_up_unless_it_was_answered(status, expires_at, expired):
    offered = assignment(1, status, expires_at=expires_at)
    decision = expire(task(), REQUEST, offered, NOW)
    if not expired:
        assert decision == Decision()
        return
    assert [*decision.changes] == released(offered, Status.EXPIRED, None) + [WantOffers(uuid.UUID(int=100), True)]
    assert keys(decision) == ["assignment.expired"]
    assert the(decision, "assignment.expired").volunteer == offered.volunteer


def test_a_withdrawn_offer_or_assignment_gives_back_its_place_with_the_reason():
    for held in (assignment(1), assignment(1, Status.ACCEPTED)):
        decision = withdraw(task(), REQUEST, held, "because", NOW)
        assert [*decision.changes] == released(held, Status.WITHDRAWN, "because")
        assert the(decision, "assignment.withdrawn").reason == "because"


# -- a report of service ----------------------------------------------------------------------

def done(a: AssignmentState | None, hours: float = 1.5, people: int = 2, outcome: str | None = None,
         reported_by: str | None = "volunteer-app"):
    return CompletionReported(correlation_id="done", assignment_id=(a or assignment(9)).assignment_id, hours=hours,
                              people_served=people, outcome=outcome, reported_by=reported_by)


@pytest.mark.parametrize("held, on, outcome, reason", [
    (None, None, None, f"no assignment {assignment(9).assignment_id}"),
    (assignment(1, Status.DECLINED), "request", None, "the offer was already declined"),
    (assignment(1), "case", None, "a mediation session is reported with its outcome: agreement or no_agreement"),
    (assignment(1, Status.COMPLETED), "request", None, "the offer was already completed"),
    (assignment(1, Status.ACCEPTED), "case", None,
     "a mediation session is reported with its outcome: agreement or no_agreement"),
])
def test_a_report_is_refused_unless_the_assignment_was_accepted(held, on, outcome, reason):
    found = held and Situation({"request": task(), "case": case_at(Level.GRID)}[on], REQUEST, (held,), held)
    decision = report(done(held, outcome=outcome), found, NOW, POLICY)
    assert decision.changes == () and [(e.routing_key, e.reason) for e in decision.events] == [
        ("completion.rejected", reason)]


@pytest.mark.parametrize("reported_by, reason", [
    ("other-app", f"assignment {assignment(1).assignment_id} is not of a volunteer of 'other-app': only "
                  "'volunteer-app' reports it done"),
    (None, f"the report of assignment {assignment(1).assignment_id} does not say who published it (reported_by)"),
])
def test_a_source_reports_done_only_the_assignments_of_its_own_volunteers(reported_by, reason):
    held = assignment(1, Status.ACCEPTED)
    decision = report(done(held, reported_by=reported_by), Situation(task(), REQUEST, (held,), held), NOW, POLICY)
    assert decision.changes == () and [(e.routing_key, e.reason) for e in decision.events] == [
        ("completion.rejected", reason)]
    assert completion_refusal(held, False, done(held)) is None


def test_a_report_frees_the_place_and_books_the_hours_served_but_the_task_waits_for_the_others():
    first, second = assignment(1, Status.ACCEPTED), assignment(2, Status.ACCEPTED)
    decision = report(done(first, hours=1.5), Situation(task(needed=2), REQUEST, (first, second), first), NOW, POLICY)
    assert [*decision.changes] == [RecordService(first.assignment_id, 1.5, 2, None, NOW),
                                   SettleBooking(uuid.UUID(int=1), NOW.date(), 2.0, 1.5)]
    assert decision.events == ()


def test_the_last_report_completes_the_occurrence_with_everyone_s_hours_and_ends_the_series():
    first, second = assignment(1, Status.COMPLETED, hours=1.0, people_served=1), assignment(2, Status.ACCEPTED)
    decision = report(done(second, hours=1.5, people=2), Situation(task(needed=2), REQUEST, (first, second), second),
                      NOW, POLICY)
    assert MoveTask(uuid.UUID(int=100), TaskStatus.COMPLETED) in decision.changes
    assert SetSeries(REQUEST.request_id, SeriesStatus.DONE) in decision.changes
    event = the(decision, "request.completed")
    assert (event.hours, event.people_served, event.next_occurrence) == (2.5, 3, None)
    assert [v.assignment_id for v in event.volunteers] == [first.assignment_id, second.assignment_id]


@pytest.mark.parametrize("recurrence, occurrence, following", [
    (None, 1, None), ({"every": "week", "times": 3}, 1, 2), ({"every": "week", "times": 3}, 3, None),
    ({"every": "month", "times": 2}, 1, 2),
])
def test_a_series_goes_on_with_its_next_occurrence_until_its_last(recurrence, occurrence, following):
    start = datetime(2026, 1, 31, 1, tzinfo=UTC)
    request = requested(recurrence=recurrence, window={"start": start, "end": start + timedelta(hours=1)})
    decision, number = next_occurrence(task(occurrence=occurrence), request, POLICY.service_hours)
    assert number == following
    if following is None:
        assert [*decision.changes] == [SetSeries(REQUEST.request_id, SeriesStatus.DONE)]
        return
    [added] = decision.changes
    assert (added.task.occurrence, added.task.status, added.task.planned_hours) == (2, TaskStatus.OPEN, 1.0)
    moved = {"week": datetime(2026, 2, 7, 1, tzinfo=UTC), "month": datetime(2026, 2, 28, 1, tzinfo=UTC)}
    assert added.task.window_start == moved[recurrence["every"]]  # a month on, within February


def test_a_recurring_occurrence_reported_done_opens_the_next():
    request = requested(recurrence={"every": "week", "times": 2})
    served = assignment(1, Status.ACCEPTED)
    decision = report(done(served), Situation(task(), request, (served,), served), NOW, POLICY)
    [added] = [c for c in decision.changes if isinstance(c, AddTask)]
    assert added.task.occurrence == 2 and the(decision, "request.completed").next_occurrence == 2


# -- a mediation case -------------------------------------------------------------------------

@pytest.mark.parametrize("level, outcome, climbs_to", [
    (Level.GRID, "no_agreement", Level.COMMUNITY), (Level.COMMUNITY, "no_agreement", Level.STREET),
    (Level.STREET, "no_agreement", None), (Level.GRID, "agreement", None), (Level.STREET, "agreement", None),
])
def test_a_session_without_agreement_climbs_and_one_with_it_or_at_the_street_closes(level, outcome, climbs_to):
    session = assignment(1, Status.ACCEPTED, task_id=uuid.UUID(int=200))
    decision = report(done(session, hours=3, outcome=outcome), Situation(case_at(level), CASE, (session,), session),
                      NOW, POLICY)
    if climbs_to:
        escalated = the(decision, "case.escalated")
        assert (escalated.from_level, escalated.level) == (level, climbs_to)
        assert escalated.reason == f"no agreement at {level} level"
        assert (escalated.reason_code, escalated.reason_params) == ("no_agreement", {"level": level})
        return
    follow_up_at = NOW + timedelta(days=7)
    assert [*decision.changes][2:] == [MoveTask(uuid.UUID(int=200), TaskStatus.CLOSED),
                                       CloseCase(CASE.case_id, outcome, follow_up_at)]
    closed = the(decision, "case.closed")
    assert (closed.outcome, closed.hours, closed.level, closed.follow_up_at) == (outcome, 3, level, follow_up_at)


@pytest.mark.parametrize("level, to, area", [
    (Level.GRID, Level.COMMUNITY, ("c-north",)), (Level.COMMUNITY, Level.STREET, ("c-north", "c-south")),
    (Level.STREET, Level.STREET_STAFF, None),
])
def test_a_case_climbs_a_level_and_past_the_street_goes_to_its_staff(level, to, area):
    decision = climb(case_at(level), CASE, NOBODY, NOW, POLICY)
    assert decision.changes[0] == MoveTask(uuid.UUID(int=200), TaskStatus.MOVED_UP, NOBODY.text("en"), "nobody_able",
                                           NOBODY.params)
    assert decision.changes[-1] == MoveCase(CASE.case_id, to)
    added = [c.task for c in decision.changes if isinstance(c, AddTask)]
    if area is None:
        assert added == []
    else:
        [new] = added
        assert (new.level, new.search_area, new.case_id, new.skills) == (to, area, CASE.case_id, ("mediation",))
    escalated = the(decision, "case.escalated")
    assert (escalated.from_level, escalated.level, escalated.reason, escalated.reason_code,
            escalated.reason_params) == (level, to, NOBODY.text("en"), "nobody_able", NOBODY.params)


def test_at_grid_level_only_the_grid_s_mediators_are_asked():
    def mediator(n: int, grid: str | None) -> Volunteer:
        return Volunteer(volunteer_id=uuid.UUID(int=n), source="app", external_id=str(n), community_code="c-north",
                         skills=frozenset({"mediation"}), grid_code=grid)
    people = [mediator(1, "g-7"), mediator(2, "g-1"), mediator(3, None)]
    assert within_reach(people, case_at(Level.GRID)) == people[:1]
    assert case_at(Level.GRID).grid_code == "g-7" and case_at(Level.COMMUNITY).grid_code is None
    assert within_reach(people, case_at(Level.COMMUNITY)) == people


@pytest.mark.parametrize("follow_up_at, announced, due", [
    (NOW - timedelta(minutes=1), False, True), (NOW, False, True), (NOW + timedelta(minutes=1), False, False),
    (NOW - timedelta(days=1), True, False), (None, False, False),
])
def test_a_closed_case_s_return_visit_falls_due_once(follow_up_at, announced, due):
    closed = replace(CASE, level=Level.COMMUNITY, outcome="agreement", follow_up_at=follow_up_at,
                     follow_up_announced=announced)
    decision = follow_up_due(closed, NOW)
    if not due:
        assert decision == Decision()
        return
    assert [*decision.changes] == [FollowUpAnnounced(CASE.case_id)]
    event = the(decision, "case.follow_up_due")
    assert (event.level, event.outcome, event.follow_up_at, event.grid_code) == ("community", "agreement",
                                                                                 follow_up_at, "g-7")


# -- a window missed, a request cancelled -----------------------------------------------------

@pytest.mark.parametrize("status, window_end, missed", [
    (TaskStatus.OPEN, NOW - timedelta(seconds=1), True), (TaskStatus.ASSIGNED, NOW - timedelta(hours=1), True),
    (TaskStatus.ASSIGNED, NOW, False), (TaskStatus.OPEN, None, False),
    (TaskStatus.COMPLETED, NOW - timedelta(hours=1), False), (TaskStatus.ESCALATED, NOW - timedelta(hours=1), False),
])
def test_an_occurrence_still_under_way_when_its_window_ends_is_missed(status, window_end, missed):
    held = [assignment(1, Status.ACCEPTED), assignment(2), assignment(3, Status.DECLINED)]
    decision = miss(task(status=status, window_end=window_end), REQUEST, held, NOW, POLICY)
    if not missed:
        assert decision == Decision()
        return
    assert [*decision.changes] == (released(held[0], Status.MISSED, NOT_REPORTED)
                                   + released(held[1], Status.WITHDRAWN, WINDOW_ENDED)
                                   + [MoveTask(uuid.UUID(int=100), TaskStatus.MISSED),
                                      SetSeries(REQUEST.request_id, SeriesStatus.DONE)])
    assert keys(decision) == ["assignment.withdrawn", "request.missed"]
    event = the(decision, "request.missed")
    assert [v.assignment_id for v in event.volunteers] == [held[0].assignment_id] and event.next_occurrence is None


def test_a_cancelled_request_withdraws_what_is_held_in_its_occurrences_under_way():
    under_way = task()
    over = task(task_id=uuid.UUID(int=101), status=TaskStatus.COMPLETED)
    held = [assignment(1, Status.ACCEPTED), assignment(2), assignment(3, Status.EXPIRED)]
    decision = cancel(REQUEST.request_id, REQUEST, [(under_way, held), (over, [assignment(4, Status.COMPLETED)])],
                      NOW)
    assert [*decision.changes] == (released(held[0], Status.WITHDRAWN, CANCELLED)
                                   + released(held[1], Status.WITHDRAWN, CANCELLED)
                                   + [MoveTask(under_way.task_id, TaskStatus.CANCELLED),
                                      SetSeries(REQUEST.request_id, SeriesStatus.CANCELLED)])
    assert keys(decision) == ["assignment.withdrawn"] * 2
    assert cancel(REQUEST.request_id, None, [], NOW, "不需要了") == Decision.of(
        RememberCancellation(REQUEST.request_id, "不需要了", NOW))  # not received yet: remembered


# -- the search and what it leaves short ------------------------------------------------------

@pytest.mark.parametrize("status, holds_capacity, takes_a_place", [
    (Status.OFFERED, True, False), (Status.ACCEPTED, True, True), (Status.COMPLETED, False, True),
    (Status.DECLINED, False, False), (Status.EXPIRED, False, False), (Status.WITHDRAWN, False, False),
    (Status.MISSED, False, False),
])
def test_which_statuses_hold_a_volunteer_s_capacity_and_which_a_task_s_place(status, holds_capacity, takes_a_place):
    assert (status in HOLDING, status in TAKEN) == (holds_capacity, takes_a_place)
    assert places_held([assignment(1, status)]) == (int(takes_a_place), int(status == Status.OFFERED))


@pytest.mark.parametrize("found, wanted, on, widen, area", [
    (0, 1, "request", True, ("c-north", "c-south")), (1, 3, "request", True, ("c-north", "c-south")),
    (1, 1, "request", True, None), (0, 1, "request", False, None), (0, 1, "case", True, None),
    (0, 1, "lonely", True, None),
])
def test_a_request_s_search_widens_to_its_street_when_its_community_has_too_few(found, wanted, on, widen, area):
    occurrence = {"request": task(), "case": case_at(Level.COMMUNITY), "lonely": task(community_code="c-far")}[on]
    assert wider_area(occurrence, found, wanted, replace(POLICY, widen_to_street=widen)) == area


CAN_T = "1 lacks a needed skill"
SEARCHED = {"task": "elder_care.meals", "level": None, "places": ["c-north"]}


@pytest.mark.parametrize("needed, held, failures, reason, code, found", [
    (1, [], Counter(), "no active volunteer in community c-north has every skill that elder_care.meals needs",
     "nobody_able", {}),
    (1, [Status.DECLINED], Counter({"lacks_skill": 1}),
     f"nobody in community c-north can take elder_care.meals: {CAN_T}", "nobody_able", {}),
    (3, [Status.ACCEPTED, Status.OFFERED], Counter({"lacks_skill": 1}),
     f"found 2 of 3 volunteers; nobody in community c-north can take elder_care.meals: {CAN_T}", "short_staffed",
     {"found": 2, "needed": 3}),
    (2, [Status.OFFERED, Status.DECLINED], Counter({"lacks_skill": 1}),
     f"found 1 of 2 volunteers; nobody in community c-north can take elder_care.meals: {CAN_T}", "short_staffed",
     {"found": 1, "needed": 2}),
])
def test_a_request_with_a_place_nobody_holds_goes_to_the_staff_with_the_reason(needed, held, failures, reason, code,
                                                                               found):
    offers = [assignment(n, status) for n, status in enumerate(held, 1)]
    decision = after_offers(task(needed=needed), REQUEST, offers, 0, 0, failures, NOW, POLICY)
    params = {**SEARCHED, "failures": dict(failures), **found}
    assert [*decision.changes] == [MoveTask(uuid.UUID(int=100), TaskStatus.ESCALATED, reason, code, params)]
    event = the(decision, "request.escalated")
    assert (event.reason, event.reason_code, event.reason_params, event.needed, event.accepted, event.urgency) == (
        reason, code, params, needed, held.count(Status.ACCEPTED), "normal")


def test_a_task_with_every_offer_it_needs_waits_and_one_that_lost_a_race_wants_more():
    pending = [assignment(1)]
    assert after_offers(task(), REQUEST, pending, 1, 1, Counter(), NOW, POLICY) == Decision.of(
        WantOffers(uuid.UUID(int=100), False))
    assert after_offers(task(), REQUEST, [], 1, 0, Counter(), NOW, POLICY) == Decision()


def test_a_case_nobody_can_take_at_its_level_climbs_with_the_reason():
    street = case_at(Level.STREET)
    decision = after_offers(street, CASE, [], 0, 0, Counter({"already_offered": 1}), NOW, POLICY)
    escalated = the(decision, "case.escalated")
    assert (escalated.from_level, escalated.level) == ("street", "street_staff")
    assert escalated.reason == ("nobody in street level (c-north, c-south) can take the case: "
                                "1 already offered this task (declined, expired or pending)")
    assert (escalated.reason_code, escalated.reason_params) == ("nobody_able", {
        "task": "case", "level": "street", "places": ["c-north", "c-south"], "failures": {"already_offered": 1}})


# -- what a task is weighed and booked as -----------------------------------------------------

def test_a_task_s_hours_count_in_the_city_s_week_of_its_window_or_of_now():
    sunday_night_utc = datetime(2026, 3, 1, 17, tzinfo=UTC)  # Monday 01:00 in the city
    assert week_of_task(task(window_start=None), sunday_night_utc, SHANGHAI).isoformat() == "2026-03-02"
    assert week_of_task(task(window_start=NOW + timedelta(days=7)), sunday_night_utc,
                        SHANGHAI).isoformat() == "2026-03-09"


def test_a_task_is_weighed_with_who_was_offered_it_and_who_served_the_series():
    offered, paired = frozenset({uuid.UUID(int=1)}), frozenset({uuid.UUID(int=2)})
    weighing = weighed(task(location=(24.4, 118.1), window_start=NOW, window_end=NOW + timedelta(hours=1)),
                       offered, paired)
    assert (weighing.offered, weighing.paired, weighing.skills, weighing.location) == (offered, paired, ("cooking",),
                                                                                       (24.4, 118.1))
    assert weighing.window == (NOW, NOW + timedelta(hours=1)) and weighed(task(), offered, paired).window is None


def test_the_policy_reads_the_settings():
    policy = Policy.of(Settings(matching_offer_timeout_seconds=60, matching_follow_up_days=2,
                                notify_quiet_hours="22:00-07:00"), STREET)
    assert (policy.offer_timeout, policy.follow_up, policy.limits.timezone) == (
        timedelta(seconds=60), timedelta(days=2), ZoneInfo("Asia/Shanghai"))
    assert policy.quiet == (time(22), time(7))
