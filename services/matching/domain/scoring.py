"""Who should take a task, among those who may: a weighted score whose parts are stored with
every assignment as its reason."""
from dataclasses import dataclass
from math import asin, cos, radians, sin, sqrt

from services.matching.domain.model import Task, Volunteer

WEIGHTS = {"pairing": 4.0, "skill_fit": 2.0, "proximity": 2.0, "fairness": 2.0, "load": 1.0, "language": 1.0}
# Beyond this distance a volunteer earns nothing for being near.
NEAR_KM = 5.0
# Recent hours at which the fairness part halves.
FAIR_HOURS = 8.0


@dataclass(frozen=True)
class Score:
    total: float
    parts: dict[str, float]

    def reason(self) -> dict:
        return {"total": round(self.total, 4), "parts": {k: round(v, 4) for k, v in self.parts.items()},
                "weights": WEIGHTS}


def score(volunteer: Volunteer, task: Task, added_load: int = 0) -> Score:
    """Each part is in [0, 1]; `added_load` counts tasks the same decision already gave them."""
    parts = {
        "pairing": 1.0 if volunteer.volunteer_id in task.paired else 0.0,
        "skill_fit": skill_fit(volunteer, task),
        "proximity": proximity(volunteer, task),
        "fairness": 1.0 / (1.0 + (volunteer.recent_hours + added_load * task.planned_hours) / FAIR_HOURS),
        "load": 1.0 / (1.0 + volunteer.open_assignments + added_load),
        "language": language_fit(volunteer, task),
    }
    return Score(sum(WEIGHTS[name] * part for name, part in parts.items()), parts)


def skill_fit(volunteer: Volunteer, task: Task) -> float:
    """Every needed skill is a given among candidates; the helpful ones (legal, for a mediator) add."""
    wanted = set(task.skills) | set(task.helpful_skills)
    return len(wanted & volunteer.skills) / len(wanted) if wanted else 1.0


def proximity(volunteer: Volunteer, task: Task) -> float:
    """By distance when both places are known, else by area: same grid, same community, a neighbour."""
    if volunteer.location and task.location:
        return max(0.0, 1.0 - distance_km(volunteer.location, task.location) / NEAR_KM)
    if volunteer.community_code != task.community_code:
        return 0.2
    if task.grid_code and volunteer.grid_code == task.grid_code:
        return 1.0
    return 0.8


def language_fit(volunteer: Volunteer, task: Task) -> float:
    if task.language is None:
        return 0.5
    return 1.0 if task.language in volunteer.languages else 0.0


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance (haversine)."""
    lat1, lon1, lat2, lon2 = map(radians, (*a, *b))
    h = sin((lat2 - lat1) / 2) ** 2 + cos(lat1) * cos(lat2) * sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * asin(sqrt(h))
