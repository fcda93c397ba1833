"""matching's rules, with no servers: who may take a task, who should, how a burst is staffed,
the offer cycle, mediation levels and recurring windows."""
from datetime import UTC, datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest

from services.matching.domain.candidates import Limits, able, available, nobody_reason, unfit
from services.matching.domain.model import Slot, Task, Volunteer
from services.matching.domain.offers import Status, answer_by, is_exhausted, offers_wanted, refusal
from services.matching.domain.scoring import distance_km, score
from services.matching.domain.series import occurrence_window
from shared.mediation import next_level, starting_level
from services.matching.domain.staffing import Demand, staff_batch, staff_greedily
from shared.quiet_hours import quiet_hours
from shared.reasons import RULES

LIMITS = Limits(max_open_assignments=3)
# Monday 2026-11-23, 09:00-11:00 in Shanghai
MONDAY_MORNING = (datetime(2026, 11, 23, 1, tzinfo=UTC), datetime(2026, 11, 23, 3, tzinfo=UTC))


def volunteer(n: int, *skills: str, **fields) -> Volunteer:
    return Volunteer(volunteer_id=UUID(int=n), source="app", external_id=f"v{n}",
                     community_code=fields.pop("community", "c1"), skills=frozenset(skills or ("cooking",)), **fields)


def task(n: int = 100, *skills: str, **fields) -> Task:
    return Task(task_id=UUID(int=n), community_code=fields.pop("community", "c1"), skills=skills or ("cooking",),
                **fields)


def test_each_hard_rule_says_why_a_volunteer_cannot_take_a_task():
    meals = task(window=MONDAY_MORNING)
    sunday = (Slot(6, time(9), time(17)),)
    cases = [(volunteer(1), meals, None), (volunteer(1, active=False), meals, "paused"),
             (volunteer(1, "cleaning"), task(100, "cleaning", "cooking"), "lacks_skill"),
             (volunteer(1, availability=sunday), meals, "not_available"),
             (volunteer(1, week_hours=7, max_weekly_hours=8), meals, "weekly_cap"),
             (volunteer(1, open_assignments=3), meals, "open_cap"),
             (volunteer(1), task(offered=frozenset({UUID(int=1)})), "already_offered")]
    for candidate, wanted, rule in cases:
        assert unfit(candidate, wanted, LIMITS) == rule
        assert rule is None or rule in RULES  # each rule is worded, in English and Chinese


def test_availability_is_read_in_the_city_s_local_time_and_needs_the_service_s_hours():
    zone = LIMITS.timezone
    monday_nine_to_ten = (Slot(0, time(9), time(10)),)
    assert available((Slot(0, time(8), time(12)),), MONDAY_MORNING, 2, zone)
    assert not available(monday_nine_to_ten, MONDAY_MORNING, 2, zone)  # one hour of the two
    assert available(monday_nine_to_ten, MONDAY_MORNING, 1, zone)
    assert available((), MONDAY_MORNING, 2, zone)  # no slots: any time
    late = (datetime(2026, 11, 23, 15, tzinfo=UTC), datetime(2026, 11, 23, 17, tzinfo=UTC))  # 23:00-01:00
    assert available((Slot(0, time(22), time.max), Slot(1, time(0), time(6))), late, 2, zone)
    assert not available((Slot(0, time(22), time.max),), late, 2, zone)


def test_nobody_reason_counts_the_rules_that_failed():
    fit, failures = able([volunteer(1, active=False), volunteer(2, "legal"), volunteer(3, "legal")],
                         task(), LIMITS)
    assert fit == []
    why = nobody_reason("elder_care.meals", ("c1",), failures)
    assert (why.code, why.params) == ("nobody_able", {"task": "elder_care.meals", "level": None, "places": ["c1"],
                                                      "failures": {"paused": 1, "lacks_skill": 2}})
    assert why.text("en") == "nobody in community c1 can take elder_care.meals: 2 lacks a needed skill, 1 paused"
    assert why.text("zh") == "社区 c1 无人能接助餐(elder_care.meals):2人缺少所需技能、1人暂停服务"
    assert nobody_reason("x", ("c1",), failures.__class__()).text("en").startswith("no active volunteer")


def test_the_score_prefers_the_pairing_then_the_nearer_and_less_busy_volunteer():
    pair, stranger = volunteer(1, recent_hours=20), volunteer(2)
    series = task(paired=frozenset({pair.volunteer_id}))
    assert score(pair, series).total > score(stranger, series).total
    near = volunteer(3, location=(24.48, 118.09))
    far = volunteer(4, location=(24.60, 118.09))
    here = task(location=(24.481, 118.091))
    assert score(near, here).parts["proximity"] > 0.9 and score(far, here).parts["proximity"] == 0.0
    rested, tired = volunteer(5), volunteer(6, recent_hours=16)
    assert score(rested, task()).parts["fairness"] == 1.0 and score(tired, task()).parts["fairness"] == 1 / 3
    speaker = volunteer(7, languages=frozenset({"minnan"}))
    assert score(speaker, task(language="minnan")).parts["language"] == 1.0
    assert score(volunteer(8), task(language="minnan")).parts["language"] == 0.0
    mediator, lawyer = volunteer(9, "mediation"), volunteer(10, "mediation", "legal")
    case = task(100, "mediation", helpful_skills=("legal",))
    assert score(lawyer, case).parts["skill_fit"] == 1.0 and score(mediator, case).parts["skill_fit"] == 0.5
    assert set(score(lawyer, case).reason()) == {"total", "parts", "weights"}
    assert 860 < distance_km((39.9, 116.4), (31.2, 121.5)) * 1 < 1100  # Beijing-Shanghai


def test_a_neighbouring_community_s_volunteer_counts_as_further_away():
    assert score(volunteer(1, community="c2"), task()).parts["proximity"] < score(volunteer(2), task()).parts[
        "proximity"]
    in_grid = volunteer(3, grid_code="g1")
    assert score(in_grid, task(grid_code="g1")).parts["proximity"] == 1.0


def test_a_burst_is_staffed_for_the_best_total_where_greedy_is_not():
    # The first task's best volunteer is the only one the second task can use.
    both, only_first = volunteer(1, "cooking", "cleaning", recent_hours=0), volunteer(2, recent_hours=4)
    limits = Limits(max_open_assignments=1)
    meals, housekeeping = task(100), task(101, "cleaning", "cooking")
    demands = [Demand(meals, 1, (both, only_first)), Demand(housekeeping, 1, (both,))]
    greedy = staff_greedily(demands, limits)
    batch = staff_batch(demands, limits)
    assert [(o.task.task_id, o.volunteer.volunteer_id) for o in greedy] == [(meals.task_id, both.volunteer_id)]
    assert {(o.task.task_id, o.volunteer.volunteer_id) for o in batch} == {
        (meals.task_id, only_first.volunteer_id), (housekeeping.task_id, both.volunteer_id)}


def test_a_batch_never_overruns_a_cap_nor_puts_one_volunteer_twice_on_a_task():
    people = [volunteer(n, max_weekly_hours=4) for n in range(1, 4)]
    tasks = [task(100 + n, needed=2) for n in range(5)]
    offers = staff_batch([Demand(t, 2, tuple(people)) for t in tasks], Limits(max_open_assignments=10))
    per_volunteer = {p.volunteer_id: sum(o.volunteer == p for o in offers) for p in people}
    assert per_volunteer == {p.volunteer_id: 2 for p in people}  # 4 h cap, 2 h each
    assert len({(o.task.task_id, o.volunteer.volunteer_id) for o in offers}) == len(offers) == 6


def test_a_batch_spreads_work_rather_than_loading_the_best_volunteer():
    people = (volunteer(1), volunteer(2))
    offers = staff_batch([Demand(task(100 + n), 1, people) for n in range(4)], Limits(max_open_assignments=10))
    assert sorted(sum(o.volunteer == p for o in offers) for p in people) == [2, 2]


def test_offers_wanted_fills_places_and_fans_out_in_an_emergency():
    assert offers_wanted(needed=1, accepted=0, pending=0, urgency="normal", fan_out=3) == 1
    assert offers_wanted(needed=3, accepted=1, pending=1, urgency="high", fan_out=3) == 1
    assert offers_wanted(needed=1, accepted=0, pending=0, urgency="emergency", fan_out=3) == 3
    assert offers_wanted(needed=1, accepted=1, pending=2, urgency="emergency", fan_out=3) == 0
    assert is_exhausted(needed=2, accepted=1, pending=0)
    assert is_exhausted(needed=2, accepted=0, pending=1)  # one place has nobody
    assert not is_exhausted(needed=2, accepted=1, pending=1)
    assert not is_exhausted(needed=1, accepted=0, pending=1)  # an emergency short of its fan-out
    assert not is_exhausted(needed=1, accepted=1, pending=0)


def test_an_answer_is_refused_unless_the_offer_is_still_open():
    assert refusal(Status.OFFERED, Status.ACCEPTED) is None
    assert refusal(Status.EXPIRED, Status.ACCEPTED) == "the offer was already expired"
    assert refusal(Status.WITHDRAWN, Status.DECLINED) == "the offer was already withdrawn"
    assert refusal(Status.ACCEPTED, Status.COMPLETED) is None
    assert refusal(Status.OFFERED, Status.COMPLETED).startswith("the offer is still open")


@pytest.mark.parametrize("grid, severity, placed, level", [
    ("g-1", "minor", "grid", "grid"), ("g-1", "serious", "grid", "community"), (None, "minor", "grid", "community"),
    ("g-1", "serious", "street", "street"), ("g-1", "minor", None, "grid"), ("g-1", "serious", None, "community")])
def test_a_case_starts_where_it_was_placed_but_never_below_what_its_severity_and_grid_allow(grid, severity, placed,
                                                                                          level):
    assert starting_level(grid, severity, placed) == level


def test_mediation_climbs_grid_community_street_then_the_street_s_staff():
    assert [next_level("grid"), next_level("community"), next_level("street")] == [
        "community", "street", "street_staff"]


def test_occurrences_move_on_by_weeks_or_months_and_keep_their_length():
    start = datetime(2026, 1, 31, 1, tzinfo=UTC)
    window = (start, start + timedelta(hours=2))
    assert occurrence_window(window, start, "month", 2) == (datetime(2026, 2, 28, 1, tzinfo=UTC),
                                                            datetime(2026, 2, 28, 3, tzinfo=UTC))
    assert occurrence_window(window, start, "week", 3)[0] == start + timedelta(weeks=2)
    assert occurrence_window(None, start, "week", 1) == (start, start + timedelta(weeks=1))
    assert occurrence_window(window, start, None, 1) == window
    assert occurrence_window(None, start, None, 1) is None


def test_an_offer_made_in_the_quiet_hours_gives_its_full_time_from_the_morning():
    city, night, half_hour = ZoneInfo("Asia/Shanghai"), quiet_hours("22:00-07:00"), timedelta(minutes=30)
    eleven_pm = datetime(2026, 3, 1, 15, tzinfo=UTC)  # 23:00 in the city
    assert answer_by(eleven_pm, half_hour, False, city, night) == datetime(2026, 3, 2, 7, 30, tzinfo=city)
    assert answer_by(eleven_pm, half_hour, True, city, night) == eleven_pm + half_hour  # an emergency wakes them
    noon = datetime(2026, 3, 1, 4, tzinfo=UTC)
    assert answer_by(noon, half_hour, False, city, night) == noon + half_hour
    assert answer_by(eleven_pm, half_hour, False, city, None) == eleven_pm + half_hour
