"""The paired volunteer first (结对) and the pure parts of the staff console's work queues,
with no servers."""
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from services.matching.domain.candidates import Limits, able
from services.matching.domain.columns import Candidates
from services.matching.domain.model import Task, Volunteer
from services.matching.domain.pairing import first_asked
from services.matching.domain.staffing import Demand, staff_batch
from services.matching.domain.work import (VisitState, is_expiring, progress, return_visit_due, steps,
                                           visit_state)

LIMITS = Limits(max_open_assignments=3)
NOW = datetime(2026, 12, 2, 8, tzinfo=UTC)


def volunteer(n: int, **fields) -> Volunteer:
    return Volunteer(volunteer_id=UUID(int=n), source="app", external_id=f"v{n}", community_code="c1",
                     skills=frozenset({"visiting"}), **fields)


def task(n: int = 100, **fields) -> Task:
    return Task(task_id=UUID(int=n), community_code="c1", skills=("visiting",), **fields)


PAIRED = UUID(int=2)


@pytest.mark.parametrize("candidates, offers, paired, expected", [
    ((1, 2, 3), 1, PAIRED, ((2,), 1)),  # the paired volunteer alone
    ((1, 2, 3), 3, PAIRED, ((2,), 1)),  # an emergency's fan-out too: one offer, to them
    ((1, 3), 1, PAIRED, ((1, 3), 1)),  # not able (declined, expired, at a cap…): everyone
    ((1, 3), 3, None, ((1, 3), 3)),  # no household, or no paired volunteer
    ((), 1, PAIRED, ((), 1)),
])
def test_the_paired_volunteer_is_asked_alone_while_able(candidates, offers, paired, expected):
    people = tuple(volunteer(n) for n in candidates)
    asked, count = first_asked(Candidates.of(people), offers, paired)
    assert ([v.volunteer_id.int for v in asked], count) == (list(expected[0]), expected[1])


def test_a_paired_volunteer_who_declined_is_not_able_so_the_others_are_asked():
    visit = task(offered=frozenset({PAIRED}))
    fit, _ = able([volunteer(1), volunteer(2), volunteer(3)], visit, LIMITS)
    asked, count = first_asked(Candidates.of(fit), 1, PAIRED)
    assert {v.volunteer_id.int for v in asked} == {1, 3} and count == 1


def test_a_batch_offers_a_household_s_visit_to_its_paired_volunteer_only():
    # the paired volunteer is the busiest: on score alone the others would be asked
    people = (volunteer(1), volunteer(2, open_assignments=2, recent_hours=30), volunteer(3))
    offers = staff_batch([Demand(task(100, urgency="emergency"), 3, people, PAIRED),
                          Demand(task(101), 1, people)], LIMITS)
    by_task = {}
    for offer in offers:
        by_task.setdefault(offer.task.task_id.int, []).append(offer.volunteer.volunteer_id.int)
    assert by_task[100] == [2]
    assert by_task[101] != [2] and len(by_task[101]) == 1


def test_a_visit_whose_paired_volunteer_the_batch_filled_is_offered_to_another():
    people = (volunteer(1), volunteer(2, open_assignments=2))  # room for one more offer
    offers = staff_batch([Demand(task(100), 1, people, PAIRED), Demand(task(101), 1, people, PAIRED)], LIMITS)
    asked = sorted((o.task.task_id.int, o.volunteer.volunteer_id.int) for o in offers)
    assert len(asked) == 2 and sum(v == 2 for _, v in asked) == 1  # one visit each, not left unoffered


@pytest.mark.parametrize("expires_in, expiring", [
    (timedelta(minutes=-1), True),  # past it: expiring until the clock expires it
    (timedelta(minutes=10), True),
    (timedelta(minutes=30), True),
    (timedelta(minutes=31), False),
])
def test_an_unanswered_offer_is_expiring_within_the_minutes(expires_in, expiring):
    assert is_expiring(NOW + expires_in, NOW, 30) is expiring


@pytest.mark.parametrize("follow_up_in, visited, due", [
    (timedelta(hours=-1), False, True),
    (timedelta(0), False, True),
    (timedelta(hours=1), False, False),
    (timedelta(hours=-1), True, False),  # recorded
    (None, False, False),  # not closed
])
def test_a_return_visit_is_due_from_its_date_until_recorded(follow_up_in, visited, due):
    follow_up_at = NOW + follow_up_in if follow_up_in is not None else None
    assert return_visit_due(follow_up_at, visited, NOW) is due


def test_a_case_s_steps_start_where_it_was_received_then_each_move_up():
    received = NOW - timedelta(days=2)
    moves = [{"case_id": 1, "level": "street", "from_level": "community", "at": NOW, "reason": "r2",
              "reason_code": "moved_up_by_staff", "reason_params": {}, "staff": {"subject": "s1"}},
             {"case_id": 1, "level": "community", "from_level": "grid", "at": NOW - timedelta(days=1),
              "reason": "r1", "reason_code": "no_agreement", "reason_params": {"level": "grid"}, "staff": None}]
    taken = steps("street", received, moves)
    assert [(s["level"], s["at"], s["reason"]) for s in taken] == [
        ("grid", received, None), ("community", NOW - timedelta(days=1), "r1"), ("street", NOW, "r2")]
    assert taken[2]["staff"] == {"subject": "s1"} and "case_id" not in taken[1]
    assert steps("community", received, []) == [{"level": "community", "at": received, "reason": None,
                                                 "reason_code": None, "reason_params": {}, "staff": None}]


@pytest.mark.parametrize("statuses, handled, accepted, state", [
    (["completed"], False, False, VisitState.VISITED),
    (["escalated"], True, False, VisitState.VISITED),  # handled by staff
    (["assigned"], False, True, VisitState.ASSIGNED),
    (["open"], False, True, VisitState.ASSIGNED),  # one of two places accepted
    (["open"], False, False, VisitState.NOT_YET),  # offered
    (["escalated"], False, False, VisitState.NOT_YET),
    (["missed", "open"], False, False, VisitState.NOT_YET),
    ([], False, False, VisitState.NOT_YET),  # the request not received yet
])
def test_a_visit_is_visited_assigned_or_not_yet(statuses, handled, accepted, state):
    assert visit_state(statuses, handled, accepted) == state


def test_a_campaign_s_progress_counts_every_visit_once():
    states = [VisitState.VISITED, VisitState.NOT_YET, VisitState.VISITED, VisitState.ASSIGNED]
    assert progress(states) == {"targeted": 4, "visited": 2, "assigned": 1, "not_yet": 1}
    assert progress([]) == {"targeted": 0, "visited": 0, "assigned": 0, "not_yet": 0}
