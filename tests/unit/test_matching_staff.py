"""The staff's actions as pure decisions (services/matching/domain/staff.py), with no servers:
which state allows each action and what it decides, and the reason (Chinese or English) it is
refused with otherwise."""
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.matching.domain.candidates import Limits
from services.matching.domain.changes import (AddAssignment, AddTask, AskAgain, BookPlace, CloseCase, Decision,
                                              FollowUpAnnounced, LinkDuplicate, MoveTask,
                                              RecordHandled, RecordReturnVisit, ReopenTask, SetSeries, WantOffers)
from services.matching.domain.mediation import case_task
from services.matching.domain.offers import AssignmentState, Status
from services.matching.domain.policy import Policy
from services.matching.domain.series import request_task
from services.matching.domain.staff import (REFUSALS, Named, Refusal, assign, cancel_not_needed, choose, close,
                                            handle, link_duplicate, move_up, occurrence_refusal, refused, reopen,
                                            return_visit)
from services.matching.domain.subjects import Case
from services.matching.domain.tasks import SeriesStatus, TaskState, TaskStatus
from shared.areas import Areas
from shared.events import RequestReceived, StaffRef, VolunteerRef
from shared.mediation import Level

NOW = datetime(2026, 3, 2, 2, tzinfo=UTC)  # Monday 10:00 in the city
POLICY = Policy(limits=Limits(5, ZoneInfo("Asia/Shanghai")), areas=Areas({}, {}),
                offer_timeout=timedelta(minutes=30), emergency_offer_timeout=timedelta(minutes=5),
                emergency_fan_out=3, service_hours=2.0, widen_to_street=False, follow_up=timedelta(days=7))
STAFF = StaffRef(subject="staff-1", role="community_staff", area="c-north")
REQUEST = RequestReceived(correlation_id="corr-1", request_id=uuid.UUID(int=1), source="hotline-12345",
                          external_id="h-1", category="elder_care.meals", description="独居老人需要助餐",
                          community_code="c-north", address="幸福路 1 号", occurred_at=NOW - timedelta(hours=1))
CASE = Case(case_id=uuid.UUID(int=2), correlation_id="corr-2", source="grid-platform", external_id="k-1",
            community_code="c-north", grid_code="g-7", dispute_type="noise", summary="楼上装修噪音扰民",
            level=Level.COMMUNITY)
WINDOW = (NOW + timedelta(days=1), NOW + timedelta(days=1, hours=2))


def task(status: TaskStatus = TaskStatus.OPEN, **changes) -> TaskState:
    return replace(request_task(REQUEST, 1, POLICY.service_hours), status=status,
                   **{"task_id": uuid.UUID(int=100), **changes})


def assignment(n: int, status: Status = Status.OFFERED) -> AssignmentState:
    return AssignmentState(assignment_id=uuid.UUID(int=1000 + n), task_id=uuid.UUID(int=100),
                           volunteer=volunteer(n), status=status, week=NOW.date(), planned_hours=2.0,
                           expires_at=NOW + timedelta(minutes=30))


def volunteer(n: int) -> VolunteerRef:
    return VolunteerRef(volunteer_id=uuid.UUID(int=n), source="volunteer-app", external_id=f"v-{n}")


def keys(decision: Decision) -> list[str]:
    return [event.routing_key for event in decision.events]


def changes(decision: Decision) -> list[type]:
    return [type(change) for change in decision.changes]


# -- which occurrence each action takes ------------------------------------------------------

@pytest.mark.parametrize("action, status, allowed", [
    ("assigned", TaskStatus.OPEN, True), ("assigned", TaskStatus.ESCALATED, True),
    ("assigned", TaskStatus.ASSIGNED, "places_taken"), ("assigned", TaskStatus.MISSED, "occurrence_state"),
    ("assigned", TaskStatus.COMPLETED, "occurrence_state"),
    ("reopened", TaskStatus.ESCALATED, True), ("reopened", TaskStatus.MISSED, True),
    ("reopened", TaskStatus.OPEN, "occurrence_state"), ("reopened", TaskStatus.COMPLETED, "occurrence_state"),
    ("handled", TaskStatus.OPEN, True), ("handled", TaskStatus.ASSIGNED, True),
    ("handled", TaskStatus.ESCALATED, True), ("handled", TaskStatus.MISSED, True),
    ("handled", TaskStatus.COMPLETED, "occurrence_state"), ("handled", TaskStatus.CANCELLED, "occurrence_state"),
])
def test_each_action_takes_the_occurrences_whose_state_allows_it(action, status, allowed):
    why = occurrence_refusal(action, SeriesStatus.OPEN, task(status), last=1)
    assert (why is None) if allowed is True else (why.code == allowed)


@pytest.mark.parametrize("series, allowed", [(SeriesStatus.OPEN, True), (SeriesStatus.DONE, True),
                                             (SeriesStatus.CANCELLED, False), (SeriesStatus.DUPLICATE, False)])
def test_nothing_is_done_on_a_cancelled_or_duplicate_request(series, allowed):
    why = occurrence_refusal("reopened", series, task(TaskStatus.MISSED), last=1)
    assert (why is None) is allowed and (allowed or why.code == "series_over")


def test_a_missed_occurrence_whose_series_went_on_is_not_reopened():
    assert occurrence_refusal("reopened", SeriesStatus.OPEN, task(TaskStatus.MISSED), last=2) == refused(
        "series_went_on", following=2)


def test_without_an_occurrence_the_earliest_the_action_takes_is_chosen():
    done, escalated, waiting = (task(status, task_id=uuid.UUID(int=n), occurrence=n) for n, status in
                                ((1, TaskStatus.COMPLETED), (2, TaskStatus.ESCALATED), (3, TaskStatus.OPEN)))
    assert choose("assigned", SeriesStatus.OPEN, [waiting, escalated, done], None) == escalated
    assert choose("assigned", SeriesStatus.OPEN, [waiting, escalated, done], 3) == waiting
    assert choose("assigned", SeriesStatus.OPEN, [done], None).code == "no_occurrence"
    assert choose("assigned", SeriesStatus.OPEN, [done], 1).code == "occurrence_state"
    assert choose("assigned", SeriesStatus.OPEN, [done], 7).code == "no_occurrence"
    assert choose("handled", SeriesStatus.DONE, [done], None).code == "series_over"


# -- assign a named volunteer ----------------------------------------------------------------

def assigned(occurrence: TaskState, named: Named | None, agreed: bool = False, held=()) -> Decision | Refusal:
    return assign(occurrence, REQUEST, list(held), named, agreed, STAFF, NOW, NOW.date(), POLICY)


NAMED = Named(volunteer(7), active=True)


def test_staff_assign_an_escalated_occurrence_an_offer_that_expires_per_policy():
    decision = assigned(task(TaskStatus.ESCALATED), NAMED)
    assert keys(decision) == ["request.staff_assigned", "assignment.offered"]
    staffed, offered = decision.events
    assert (staffed.agreed, staffed.staff, staffed.volunteer) == (False, STAFF, NAMED.volunteer)
    assert offered.assigned_by == STAFF and offered.expires_at == NOW + timedelta(minutes=30)
    assert changes(decision) == [AskAgain, AddAssignment, BookPlace, MoveTask]
    assert decision.changes[3] == MoveTask(uuid.UUID(int=100), TaskStatus.OPEN)  # under way again
    assert decision.changes[2] == BookPlace(NAMED.volunteer.volunteer_id, NOW.date(), 2.0)


def test_an_assignment_agreed_by_phone_is_accepted_and_assigns_the_occurrence_once_every_place_is_taken():
    decision = assigned(task(TaskStatus.ESCALATED), NAMED, agreed=True, held=[assignment(1, Status.EXPIRED)])
    assert keys(decision) == ["request.staff_assigned", "assignment.accepted", "request.assigned"]
    assert decision.events[1].assigned_by == STAFF
    assert MoveTask(uuid.UUID(int=100), TaskStatus.ASSIGNED) in decision.changes


def test_an_occurrence_still_short_of_places_wants_offers_again():
    decision = assigned(task(TaskStatus.ESCALATED, needed=2), NAMED, agreed=True)
    assert keys(decision) == ["request.staff_assigned", "assignment.accepted"]
    assert decision.changes[-1] == WantOffers(uuid.UUID(int=100), True)


@pytest.mark.parametrize("named, held, window, code", [
    (None, (), None, "volunteer_unknown"),
    (replace(NAMED, active=False), (), None, "volunteer_paused"),
    (NAMED, (replace(assignment(1), volunteer=NAMED.volunteer),), None, "volunteer_holds_place"),
    (NAMED, (replace(assignment(1, Status.COMPLETED), volunteer=NAMED.volunteer),), None, "volunteer_holds_place"),
    (replace(NAMED, booked=((WINDOW[0] + timedelta(hours=1), WINDOW[1] + timedelta(hours=1)),)), (), WINDOW,
     "volunteer_booked"),
])
def test_the_staffs_choice_is_refused_for_an_unknown_paused_placed_or_booked_volunteer(named, held, window, code):
    occurrence = task(window_start=window[0], window_end=window[1]) if window else task()
    assert assigned(occurrence, named, held=held).code == code


def test_a_volunteer_who_declined_may_be_named_and_a_booking_next_to_the_window_is_no_clash():
    declined = replace(assignment(1, Status.DECLINED), volunteer=NAMED.volunteer)
    beside = replace(NAMED, booked=((WINDOW[1], WINDOW[1] + timedelta(hours=1)),))
    decision = assigned(task(window_start=WINDOW[0], window_end=WINDOW[1]), beside, held=[declined])
    assert decision.changes[0] == AskAgain(uuid.UUID(int=100), NAMED.volunteer.volunteer_id)


def test_an_overlapping_booking_is_refused_with_both_windows_in_the_citys_time():
    booked = replace(NAMED, booked=((WINDOW[0] + timedelta(hours=1), WINDOW[1] + timedelta(hours=1)),))
    why = assigned(task(window_start=WINDOW[0], window_end=WINDOW[1]), booked)
    assert why.text("en") == ("the volunteer is booked from 2026-03-03 11:00 to 2026-03-03 13:00, which overlaps "
                              "this window (2026-03-03 10:00 to 2026-03-03 12:00)")
    assert why.text("zh") == ("该志愿者 2026-03-03 11:00 至 2026-03-03 13:00 已有服务,"
                              "与本次时段(2026-03-03 10:00 至 2026-03-03 12:00)冲突")


# -- reopen, handled by staff -----------------------------------------------------------------

def test_reopen_asks_again_and_a_done_series_is_open_again():
    decision = reopen(task(TaskStatus.MISSED), REQUEST, SeriesStatus.DONE, STAFF, NOW)
    assert decision.changes == (AskAgain(uuid.UUID(int=100)), ReopenTask(uuid.UUID(int=100), NOW),
                                SetSeries(REQUEST.request_id, SeriesStatus.OPEN))
    assert keys(decision) == ["request.reopened"] and decision.events[0].staff == STAFF
    assert SetSeries not in changes(reopen(task(TaskStatus.ESCALATED), REQUEST, SeriesStatus.OPEN, STAFF, NOW))


def test_handled_by_staff_withdraws_what_is_held_and_the_series_goes_on():
    weekly = RequestReceived.model_validate({**REQUEST.model_dump(), "recurrence": {"every": "week", "times": 3}})
    decision = handle(task(TaskStatus.ASSIGNED), weekly, [assignment(1, Status.ACCEPTED), assignment(2)], 1.5, 2,
                      "社工上门", STAFF, NOW, POLICY)
    assert keys(decision) == ["assignment.withdrawn", "assignment.withdrawn", "request.handled_by_staff"]
    handled = decision.events[-1]
    assert (handled.hours, handled.people_served, handled.note, handled.next_occurrence) == (1.5, 2, "社工上门", 2)
    assert RecordHandled(uuid.UUID(int=100), "staff-1", 1.5, 2, NOW) in decision.changes
    assert MoveTask(uuid.UUID(int=100), TaskStatus.COMPLETED, "handled by staff") in decision.changes
    assert AddTask in changes(decision)


def test_a_missed_occurrence_handled_by_staff_starts_no_other_its_series_went_on_when_missed():
    decision = handle(task(TaskStatus.MISSED), REQUEST, [], 1.0, 1, None, STAFF, NOW, POLICY)
    assert decision.events[-1].next_occurrence is None and SetSeries not in changes(decision)


# -- cancel as not needed, duplicate ----------------------------------------------------------

@pytest.mark.parametrize("series, allowed", [(SeriesStatus.OPEN, True), (SeriesStatus.DONE, False),
                                             (SeriesStatus.CANCELLED, False), (SeriesStatus.DUPLICATE, False)])
def test_only_an_open_request_is_cancelled_as_not_needed(series, allowed):
    decision = cancel_not_needed(REQUEST, series, [(task(), [assignment(1)])], "家属已接走", STAFF, NOW)
    if not allowed:
        assert decision == refused("series_over", status=series.value)
        return
    assert keys(decision) == ["assignment.withdrawn", "request.cancelled"]
    cancelled = decision.events[-1]
    assert (cancelled.cancelled_by, cancelled.reason_code, cancelled.reason_params) == (
        STAFF, "not_needed", {"note": "家属已接走"})
    assert cancelled.reason == "not needed: 家属已接走"
    assert SetSeries(REQUEST.request_id, SeriesStatus.CANCELLED) in decision.changes


FIRST = REQUEST.model_copy(update={"request_id": uuid.UUID(int=9)})


@pytest.mark.parametrize("series, first, first_of, code", [
    (SeriesStatus.OPEN, FIRST, None, None),
    (SeriesStatus.CANCELLED, FIRST, None, "series_over"),
    (SeriesStatus.OPEN, REQUEST, None, "duplicate_of_itself"),
    (SeriesStatus.OPEN, FIRST, uuid.UUID(int=8), "duplicate_of_duplicate"),
])
def test_a_request_is_linked_as_a_duplicate_of_a_first_one(series, first, first_of, code):
    decision = link_duplicate(REQUEST, series, [(task(TaskStatus.ESCALATED), [assignment(1, Status.ACCEPTED)]),
                                                (task(TaskStatus.COMPLETED, task_id=uuid.UUID(int=101)), [])],
                              first, first_of, STAFF, NOW)
    if code:
        assert decision.code == code
        return
    assert keys(decision) == ["assignment.withdrawn", "request.duplicate"]
    assert (decision.events[-1].duplicate_of, decision.events[-1].linked_by) == (FIRST.request_id, STAFF)
    assert [c for c in decision.changes if isinstance(c, (MoveTask, SetSeries, LinkDuplicate))] == [
        MoveTask(uuid.UUID(int=100), TaskStatus.CANCELLED, "the request is a duplicate of another"),
        SetSeries(REQUEST.request_id, SeriesStatus.DUPLICATE), LinkDuplicate(REQUEST.request_id, FIRST.request_id)]


# -- cases ------------------------------------------------------------------------------------

def case_task_at(level: Level) -> TaskState:
    return replace(case_task(CASE, level, POLICY), task_id=uuid.UUID(int=200))


CLOSED = replace(CASE, outcome="agreement", follow_up_at=NOW + timedelta(days=7))


@pytest.mark.parametrize("case, level, code", [
    (CASE, Level.COMMUNITY, None), (CLOSED, Level.COMMUNITY, "case_closed"),
    (replace(CASE, level=Level.STREET_STAFF), None, "case_at_top"),
])
def test_staff_move_a_case_up_unless_it_is_closed_or_with_the_streets_staff(case, level, code):
    decision = move_up(case, case_task_at(level) if level else None, [assignment(1)], "涉及多户", STAFF, NOW, POLICY)
    if code:
        assert decision.code == code
        return
    assert keys(decision) == ["assignment.withdrawn", "case.escalated"]
    moved = decision.events[-1]
    assert (moved.from_level, moved.level, moved.staff) == ("community", "street", STAFF)
    assert (moved.reason_code, moved.reason_params, moved.reason) == (
        "moved_up_by_staff", {"note": "涉及多户"}, "moved up by staff: 涉及多户")


@pytest.mark.parametrize("case, level, code", [(CASE, Level.COMMUNITY, None),
                                               (replace(CASE, level=Level.STREET_STAFF), None, None),
                                               (CLOSED, None, "case_closed")])
def test_staff_close_an_open_case_and_its_return_visit_falls_due_as_after_any_closing(case, level, code):
    decision = close(case, case_task_at(level) if level else None, [], "no_agreement", 2.0, "双方未达成", STAFF, NOW,
                     POLICY)
    if code:
        assert decision.code == code
        return
    closed = decision.events[-1]
    assert (closed.routing_key, closed.outcome, closed.hours, closed.staff) == ("case.closed", "no_agreement", 2.0,
                                                                                 STAFF)
    assert closed.follow_up_at == NOW + POLICY.follow_up
    assert CloseCase(CASE.case_id, "no_agreement", NOW + POLICY.follow_up, "双方未达成") in decision.changes
    assert (MoveTask in changes(decision)) is bool(level)


@pytest.mark.parametrize("case, visited, code", [(CLOSED, False, None), (CASE, False, "case_open"),
                                                 (CLOSED, True, "visit_recorded")])
def test_a_closed_cases_return_visit_is_recorded_once(case, visited, code):
    decision = return_visit(case, visited, "satisfied", "已电话回访", STAFF, NOW)
    if code:
        assert decision.code == code
        return
    assert keys(decision) == ["case.return_visited"] and decision.events[0].satisfaction == "satisfied"
    assert decision.changes == (RecordReturnVisit(CASE.case_id, "satisfied", "已电话回访", "staff-1", NOW),
                                FollowUpAnnounced(CASE.case_id))


# -- the reasons ------------------------------------------------------------------------------

@pytest.mark.parametrize("code", sorted(REFUSALS))
def test_every_refusal_reads_in_chinese_and_english(code):
    params = {"status": "cancelled", "action": "reopened", "occurrence": 2, "following": 3, "duplicate_of": "r-2",
              "first": "r-1", "booked_start": "a", "booked_end": "b", "start": "c", "end": "d"}
    why = Refusal(code, params)
    assert why.text("en") != why.text("zh") and "{" not in why.text("zh") + why.text("en")


def test_the_events_of_a_campaigns_visit_carry_its_household_and_campaign():
    visit = RequestReceived.model_validate({**REQUEST.model_dump(), "household_id": uuid.UUID(int=5),
                                            "campaign_id": uuid.UUID(int=6)})
    decisions = [handle(task(), visit, [], 1.0, 1, None, STAFF, NOW, POLICY),
                 reopen(task(TaskStatus.ESCALATED), visit, SeriesStatus.OPEN, STAFF, NOW),
                 assign(task(), visit, [], NAMED, True, STAFF, NOW, NOW.date(), POLICY),
                 cancel_not_needed(visit, SeriesStatus.OPEN, [], "不需要", STAFF, NOW)]
    events = [e for d in decisions for e in d.events if e.routing_key.startswith("request.")]
    assert len(events) == 5 and {(e.household_id, e.campaign_id) for e in events} == {
        (uuid.UUID(int=5), uuid.UUID(int=6))}
