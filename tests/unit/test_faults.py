"""The fault suite's own verdicts: what makes a run fail, what counts as the same fact, and which
replica a kill round kills."""
import pytest

from faults.chaos import victim
from faults.load import declines
from faults.measure import _fact, failures

CLEAN = {"requests_lost": 0, "cases_lost": 0, "duplicated_notifications": 0, "good_dead_lettered": 0,
         "places_staffed_twice": {"tasks_over_staffed": 0, "occurrences_with_two_staffed_tasks": 0},
         "deliveries_sent_again": {"sms": 1, "webhook": 0, "most_calls_of_one_id": 2},
         "recovery": [{"fault": "SIGKILL intake"}, {"fault": "SIGKILL intake-1", "others_kept_running": True}],
         "reporting": {"completed": {"reported": 3, "truth": 3}}}


@pytest.mark.parametrize(("change", "reason"), [
    ({"requests_lost": 2}, "requests_lost: 2"),
    ({"cases_lost": 1}, "cases_lost: 1"),
    ({"good_dead_lettered": 4}, "good_dead_lettered: 4"),
    ({"duplicated_notifications": 1}, "duplicated_notifications: 1"),
    ({"places_staffed_twice": {"tasks_over_staffed": 1, "occurrences_with_two_staffed_tasks": 0}},
     "places_staffed_twice"),
    ({"deliveries_sent_again": {"sms": 2, "webhook": 0, "most_calls_of_one_id": 3}},
     "deliveries_sent_again: one id sent 3 times"),
    ({"recovery": [{"fault": "PostgreSQL down", "not_recovered": "not ready after 120s: intake"}]},
     "not recovered: PostgreSQL down: not ready after 120s: intake"),
    ({"recovery": [{"fault": "SIGKILL matching-1", "others_kept_running": False}]},
     "SIGKILL matching-1: another replica of the service stopped"),
    ({"reporting": {"completed": {"reported": 2, "truth": 3}}}, "reporting completed: 2 reported, 3 true"),
])
def test_any_loss_duplicate_dead_letter_or_wrong_figure_fails_the_run(change, reason):
    """A delivery sent once again under its id (a crash mid-call) is allowed: the gateway drops it."""
    assert failures(CLEAN) == []
    [found] = failures({**CLEAN, **change})
    assert found.startswith(reason)


def test_two_events_about_one_assignment_are_one_fact_whatever_their_ids():
    offered = {"assignment_id": "a-1", "request_id": "r-1", "occurrence": 1}
    assert _fact("assignment.offered", offered, "e-1") == _fact("assignment.offered", offered, "e-2")
    assert _fact("assignment.offered", offered, "e-1") != _fact("assignment.accepted", offered, "e-1")
    assert _fact("request.assigned", None, "e-1") != _fact("request.assigned", None, "e-2")  # unheard: by its id


def test_the_simulated_volunteers_decline_a_steady_share():
    answers = [declines(f"assignment-{i}", 10) for i in range(2000)]
    assert 150 < sum(answers) < 250
    assert answers == [declines(f"assignment-{i}", 10) for i in range(2000)]  # the same on every replay


def test_each_kill_round_kills_the_next_replica_of_the_service():
    assert [victim(["matching-1", "matching-2"], round_) for round_ in range(3)] == ["matching-1", "matching-2",
                                                                                      "matching-1"]
    assert [victim(["matching"], round_) for round_ in range(2)] == ["matching", "matching"]
