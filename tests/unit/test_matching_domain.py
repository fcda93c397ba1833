"""matching's choice of volunteer, with no servers."""
from uuid import UUID

from services.matching.domain import Candidate, Choice, NobodyFits, can_take, choose_volunteer


def volunteer(n: int, *, skills=("cooking",), community="c1", active=True, load=0) -> Candidate:
    return Candidate(volunteer_id=UUID(int=n), source="app", external_id=f"v{n}", community_code=community,
                     skills=frozenset(skills), active=active, open_assignments=load)


def test_only_active_volunteers_of_the_community_with_a_needed_skill_can_take_a_request():
    assert can_take(volunteer(1), "c1", "elder_care.meals")
    assert not can_take(volunteer(1, active=False), "c1", "elder_care.meals")
    assert not can_take(volunteer(1, community="c2"), "c1", "elder_care.meals")
    assert not can_take(volunteer(1, skills=("legal",)), "c1", "elder_care.meals")
    assert can_take(volunteer(1, skills=("cleaning",)), "c1", "housekeeping")  # one of cleaning, cooking


def test_the_least_loaded_able_volunteer_is_chosen():
    busy, idle, unable = volunteer(1, load=3), volunteer(2, load=1), volunteer(3, skills=("legal",))
    choice = choose_volunteer([busy, unable, idle], "c1", "elder_care.meals")
    assert isinstance(choice, Choice) and choice.volunteer == idle
    assert choice.reason() == {"rule": "community, skill, lowest load", "matched_skills": ["cooking"],
                               "open_assignments": 1}


def test_ties_are_broken_the_same_way_every_time():
    first, second = volunteer(7), volunteer(5)
    assert choose_volunteer([first, second], "c1", "elder_care.meals").volunteer == second
    assert choose_volunteer([second, first], "c1", "elder_care.meals").volunteer == second


def test_matched_skills_are_those_the_service_needs():
    choice = choose_volunteer([volunteer(1, skills=("cooking", "legal", "cleaning"))], "c1", "housekeeping")
    assert choice.matched_skills == ("cleaning", "cooking")


def test_nobody_fits_says_why():
    decision = choose_volunteer([volunteer(1, skills=("legal",))], "c1", "health.rehab")
    assert isinstance(decision, NobodyFits)
    assert decision.reason == ("no active volunteer in community c1 has a skill that health.rehab "
                               "needs (medical, nursing)")
