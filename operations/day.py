"""A city's day, decided without I/O: who the volunteers are, when requests come (the daily
curve), what they ask for (the request mix, disputes among them), and how a volunteer answers an
offer. Every choice takes its random source as an argument, so one seed gives one day."""
import math
import random
from dataclasses import dataclass
from typing import Literal

DAY_SECONDS = 24 * 3600

# Requests per hour of the city's day, relative: few at night, a morning peak (8-11, the
# hotline's busiest hours), a lull at noon, a second peak in the late afternoon (15-18).
HOURLY_WEIGHTS = (1, 1, 0.5, 0.5, 0.5, 1, 3, 6, 10, 12, 11, 8, 5, 5, 7, 9, 10, 9, 6, 4, 3, 2, 1.5, 1)

# (category, relative share, hours the service takes): meals and cleaning for the elderly most.
MIX = (("elder_care.meals", 30, 1.0), ("elder_care.cleaning", 20, 2.0), ("elder_care.companionship", 15, 1.5),
       ("elder_care.home_visit", 10, 1.0), ("health.checkup", 8, 1.0), ("digital.assistance", 7, 1.0),
       ("legal.consultation", 5, 1.0), ("child.tutoring", 5, 2.0))
SKILL_SETS = (("cooking", "cleaning"), ("cooking", "companionship"), ("cleaning", "companionship"),
              ("medical", "companionship"), ("digital", "tutoring"), ("legal", "companionship"))
MEDIATION_HOURS = 2.0
DISPUTES = ("neighbour", "noise", "parking", "property_management", "family")
TEAMS = ("康乃馨", "映山红", "君子兰", "巾帼志愿")


@dataclass(frozen=True)
class City:
    """The communities of the day, each with its volunteers and mediators."""

    communities: tuple[str, ...] = ("C-xinghe", "C-taihe", "C-lianhua", "C-jinshan", "C-hubin")
    volunteers_per_community: int = 8
    mediators_per_community: int = 2

    def grid_of(self, community: str) -> str:
        return f"{community}-g1"


@dataclass(frozen=True)
class AnswerPolicy:
    """Shares of offers accepted and declined (the rest are never answered and expire), and the
    median delay of an answer in the city's real time (seconds to minutes: a log-normal)."""

    accept: float = 0.8
    decline: float = 0.1
    median_seconds: float = 90.0
    spread: float = 1.0  # the log-normal's sigma: most answers within a few times the median

    def __post_init__(self):
        if not (0 <= self.accept and 0 <= self.decline and self.accept + self.decline <= 1):
            raise ValueError("the shares of offers accepted and declined must be between 0 and 1 "
                             "and add up to 1 at most")


AT_ONCE = AnswerPolicy(accept=1.0, decline=0.0, median_seconds=0.0)  # the benchmarks' volunteers


@dataclass(frozen=True)
class Answer:
    kind: Literal["accept", "decline", "ignore"]
    after_seconds: float  # of the city's time (scale it by the compression)


def answer(policy: AnswerPolicy, rng: random.Random) -> Answer:
    """How one volunteer answers one offer, and after how long (city time)."""
    draw = rng.random()
    kind = "accept" if draw < policy.accept else "decline" if draw < policy.accept + policy.decline else "ignore"
    delay = policy.median_seconds * math.exp(rng.gauss(0.0, policy.spread)) if policy.median_seconds else 0.0
    return Answer(kind, delay)


def schedule(count: int, rng: random.Random) -> list[float]:
    """`count` submission times in seconds of the city's day (0 is midnight), sorted, following
    HOURLY_WEIGHTS."""
    hours = rng.choices(range(24), weights=HOURLY_WEIGHTS, k=count)
    return sorted(hour * 3600 + rng.random() * 3600 for hour in hours)


def service_hours(category: str) -> float:
    return next(hours for code, _, hours in MIX if code == category)


def volunteers(city: City, rng: random.Random, source: str) -> list[dict]:
    """Every community's volunteers and mediators as the volunteer app registers them (made-up
    names and numbers: nothing here is a real person)."""
    people, number = [], 0
    for community in city.communities:
        for index in range(city.volunteers_per_community + city.mediators_per_community):
            number += 1
            mediator = index >= city.volunteers_per_community
            people.append({
                "source": source, "external_id": f"sim-{'m' if mediator else 'v'}-{number:05d}",
                "name": "调解员" if mediator else "志愿者", "phone": f"139{number:08d}", "community_code": community,
                "grid_code": city.grid_of(community), "team": rng.choice(TEAMS),
                "skills": ["mediation", "legal"] if mediator else list(rng.choice(SKILL_SETS)),
                "max_weekly_hours": 40})
    return people


def agreed(rng: random.Random, share: float = 0.85) -> bool:
    """Whether a mediation session ends in agreement (else the case moves up a level)."""
    return rng.random() < share


@dataclass(frozen=True)
class Submission:
    """One thing an outside system publishes at `at` seconds of the day: a request (the hotline)
    or a dispute (the grid platform)."""

    at: float
    routing_key: Literal["request.submit", "case.submit"]
    body: dict


def submissions(city: City, count: int, case_share: float, rng: random.Random, hotline: str,
                grid: str) -> list[Submission]:
    """The day's `count` submissions on the daily curve, a `case_share` of them disputes."""
    if not 0 <= case_share <= 1:
        raise ValueError("the share of disputes must be between 0 and 1")
    day = []
    for number, at in enumerate(schedule(count, rng), start=1):
        community = rng.choice(city.communities)
        if rng.random() < case_share:
            day.append(Submission(at, "case.submit", _case(number, community, city, rng, grid)))
        else:
            day.append(Submission(at, "request.submit", _request(number, community, rng, hotline)))
    return day


def _request(number: int, community: str, rng: random.Random, source: str) -> dict:
    [category] = rng.choices([code for code, _, _ in MIX], weights=[share for _, share, _ in MIX])
    return {"source": source, "external_id": f"sim-r-{number:05d}", "category": category,
            "description": "模拟请求:居民需要志愿服务", "community_code": community,
            "urgency": "high" if rng.random() < 0.05 else "normal",
            "beneficiary": {"phone": f"138{number:08d}", "tags": ["elderly"]}}


def _case(number: int, community: str, city: City, rng: random.Random, source: str) -> dict:
    return {"source": source, "external_id": f"sim-c-{number:05d}", "community_code": community,
            "grid_code": city.grid_of(community), "dispute_type": rng.choice(DISPUTES),
            "summary": "模拟纠纷:邻里之间的矛盾", "severity": "serious" if rng.random() < 0.1 else "minor",
            "parties": [{"name": "甲方", "role": "applicant"}, {"name": "乙方", "role": "respondent"}]}
