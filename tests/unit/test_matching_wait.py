"""The wait for a free volunteer (domain/search.waits_for_free): a request that is not urgent
and that nobody can take only because every able volunteer is busy waits, once, for
MATCHING_WAIT_FOR_FREE_SECONDS before it goes to the staff."""
import uuid
from collections import Counter
from dataclasses import replace
from datetime import timedelta

import pytest

from services.matching.domain.changes import MoveTask, WaitForFree
from services.matching.domain.search import after_offers, apart, waits_for_free
from services.matching.domain.tasks import TaskStatus
from shared.submissions import Urgency
from tests.unit.test_matching_lifecycle import NOW, POLICY, REQUEST, assignment, task

WAIT = timedelta(minutes=10)
WAITING = replace(POLICY, wait_for_free=WAIT)


@pytest.mark.parametrize(("urgency", "failures", "wait_until", "wait", "expected"), [
    # every able volunteer at a cap, or booked at the time: the wait begins
    (Urgency.NORMAL, Counter({"open_cap": 3}), None, WAIT, NOW + WAIT),
    (Urgency.NORMAL, Counter({"weekly_cap": 1}), None, WAIT, NOW + WAIT),
    (Urgency.NORMAL, Counter({"booked": 1, "lacks_skill": 4}), None, WAIT, NOW + WAIT),
    # woken before its end: the same wait goes on, it does not begin again
    (Urgency.NORMAL, Counter({"open_cap": 3}), NOW + timedelta(minutes=4), WAIT, NOW + timedelta(minutes=4)),
    # its wait is over: to the staff
    (Urgency.NORMAL, Counter({"open_cap": 3}), NOW, WAIT, None),
    (Urgency.NORMAL, Counter({"open_cap": 3}), NOW - timedelta(seconds=1), WAIT, None),
    # nobody with the skill, available or active: no place freed would help
    (Urgency.NORMAL, Counter({"lacks_skill": 4, "not_available": 1, "paused": 1}), None, WAIT, None),
    (Urgency.NORMAL, Counter(), None, WAIT, None),
    # urgent and emergency requests go to the staff at once
    (Urgency.HIGH, Counter({"open_cap": 3}), None, WAIT, None),
    (Urgency.EMERGENCY, Counter({"open_cap": 3}), None, WAIT, None),
    # MATCHING_WAIT_FOR_FREE_SECONDS=0: no wait
    (Urgency.NORMAL, Counter({"open_cap": 3}), None, timedelta(0), None),
])
def test_a_request_waits_for_a_busy_volunteer_only_when_a_freed_place_could_serve_it(urgency, failures, wait_until,
                                                                                       wait, expected):
    waiting = task(urgency=urgency, wait_until=wait_until)
    assert waits_for_free(waiting, failures, NOW, replace(POLICY, wait_for_free=wait)) == expected


@pytest.mark.parametrize(("needed", "held"), [(1, []), (2, [assignment(1)])])
def test_a_request_short_of_volunteers_who_are_all_busy_waits_instead_of_going_to_the_staff(needed, held):
    decision = after_offers(task(needed=needed), REQUEST, held, 0, 0, Counter({"open_cap": 2}), NOW, WAITING)
    assert (decision.changes, decision.events) == ((WaitForFree(uuid.UUID(int=100), NOW + WAIT),), ())


def test_a_request_whose_wait_is_over_goes_to_the_staff_with_the_reason_it_would_have_had():
    failures = Counter({"open_cap": 2})
    over = after_offers(task(wait_until=NOW), REQUEST, [], 0, 0, failures, NOW, WAITING)
    at_once = after_offers(task(), REQUEST, [], 0, 0, failures, NOW, POLICY)
    assert over.changes == at_once.changes
    assert [type(change) for change in over.changes] == [MoveTask]
    assert over.changes[0].status == TaskStatus.ESCALATED
    (event,) = over.events
    assert (event.routing_key, event.reason_code, event.reason) == ("request.escalated", "nobody_able",
                                                                     at_once.events[0].reason)


@pytest.mark.parametrize("areas, groups", [
    ([], []),
    ([("c-1",), ("c-2",), ("c-1",)], [[0, 2], [1]]),  # one community's tasks share its volunteers
    ([("c-1",), ("c-2",), ("c-3", "c-2"), ("c-3",)], [[0], [1, 2, 3]]),  # a street's search joins them
    ([("c-1", "c-2"), ("c-3",), ("c-2", "c-3")], [[0, 1, 2]]),  # through a third
])
def test_tasks_whose_areas_share_no_community_are_staffed_apart(areas, groups):
    assert apart(areas) == groups
