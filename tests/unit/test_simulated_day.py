"""The simulated day's decisions (operations/day.py): the daily curve, the request mix, the
volunteers, and how a volunteer answers an offer."""
import random
from collections import Counter

import pytest

from operations import day
from shared.catalogue import SERVICES, skills_for
from shared.submissions import MediationCaseSubmission, ServiceRequestSubmission, VolunteerRegistration

CITY = day.City()


def test_the_curve_has_few_requests_at_night_and_peaks_in_the_morning_and_late_afternoon():
    hours = Counter(int(at // 3600) for at in day.schedule(20_000, random.Random(1)))
    night = sum(hours[h] for h in range(0, 6))
    morning = sum(hours[h] for h in range(8, 11))
    noon = sum(hours[h] for h in range(12, 14))
    afternoon = sum(hours[h] for h in range(15, 18))
    assert morning > 5 * night and afternoon > 4 * night
    assert noon < morning and noon < afternoon


def test_the_schedule_is_sorted_within_the_day_and_the_same_for_the_same_seed():
    times = day.schedule(500, random.Random(7))
    assert times == sorted(times) and 0 <= times[0] and times[-1] < day.DAY_SECONDS
    assert times == day.schedule(500, random.Random(7)) != day.schedule(500, random.Random(8))


def test_submissions_are_valid_as_the_contract_says_and_a_share_of_them_are_disputes():
    subs = day.submissions(CITY, 2000, 0.1, random.Random(3), "hotline-12345", "grid-platform-3")
    cases = [s for s in subs if s.routing_key == "case.submit"]
    requests = [s for s in subs if s.routing_key == "request.submit"]
    assert 150 < len(cases) < 250 and len(cases) + len(requests) == 2000
    for s in requests:
        ServiceRequestSubmission.model_validate(s.body)
        assert s.body["source"] == "hotline-12345"
    for s in cases:
        MediationCaseSubmission.model_validate(s.body)
        assert s.body["source"] == "grid-platform-3"
    assert len({s.body["external_id"] for s in subs}) == 2000
    # different beneficiaries, so that intake links none of them as the same need
    assert len({s.body["beneficiary"]["phone"] for s in requests}) == len(requests)
    assert Counter(s.body["category"] for s in requests).most_common(1)[0][0] == "elder_care.meals"


def test_a_share_of_disputes_outside_zero_to_one_is_refused():
    with pytest.raises(ValueError, match="share of disputes"):
        day.submissions(CITY, 10, 1.5, random.Random(1), "h", "g")


def test_every_category_of_the_mix_has_volunteers_with_its_skills_in_every_community():
    people = day.volunteers(CITY, random.Random(2), "volunteer-app")
    for person in people:
        VolunteerRegistration.model_validate(person)
    assert len(people) == len(CITY.communities) * (CITY.volunteers_per_community + CITY.mediators_per_community)
    offered = {skill for skills in day.SKILL_SETS for skill in skills}
    for code, _, hours in day.MIX:
        assert code in SERVICES and set(skills_for(code)) <= offered and hours > 0
    for community in CITY.communities:
        mediators = [p for p in people if p["community_code"] == community and "mediation" in p["skills"]]
        assert len(mediators) == CITY.mediators_per_community
        assert {p["grid_code"] for p in mediators} == {CITY.grid_of(community)}


def test_answers_follow_the_policys_shares():
    policy = day.AnswerPolicy(accept=0.7, decline=0.2, median_seconds=60)
    rng = random.Random(5)
    kinds = Counter(day.answer(policy, rng).kind for _ in range(10_000))
    assert 6700 < kinds["accept"] < 7300 and 1800 < kinds["decline"] < 2200 and 800 < kinds["ignore"] < 1200


def test_answer_delays_are_seconds_to_minutes_around_the_median():
    policy = day.AnswerPolicy(median_seconds=90)
    delays = sorted(day.answer(policy, random.Random(n)).after_seconds for n in range(2001))
    assert 70 < delays[1000] < 110  # the median
    assert delays[0] > 1 and delays[1900] < 15 * 60  # from seconds to a quarter of an hour for 95%


def test_the_benchmarks_volunteers_accept_everything_at_once():
    assert {day.answer(day.AT_ONCE, random.Random(n)) for n in range(100)} == {day.Answer("accept", 0.0)}


@pytest.mark.parametrize("accept, decline", [(0.9, 0.2), (-0.1, 0.5), (0.5, -0.1)])
def test_shares_that_do_not_add_up_are_refused(accept, decline):
    with pytest.raises(ValueError, match="shares"):
        day.AnswerPolicy(accept=accept, decline=decline)


def test_most_mediation_sessions_end_in_agreement():
    outcomes = Counter(day.agreed(random.Random(n)) for n in range(1000))
    assert 800 < outcomes[True] < 900
