"""Who should take a task, among those who may: a weighted score whose parts are stored with
every assignment as its reason."""
from dataclasses import dataclass
from math import asin, cos, radians, sin, sqrt

import numpy as np

from services.matching.domain.columns import Coded, Columns
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


class Pairs:
    """Every (task, volunteer) pair of a burst as columns of numbers, so that `score`'s total is
    computed for hundreds of thousands of pairs at once (numpy) rather than one at a time.
    `totals` is `score(...).total` (tests/unit/test_matching_solver.py checks that they agree); an
    offer's reason still comes from `score`, with its parts. The parts that do not move with the
    load (`fixed`) are computed once."""

    def __init__(self, tasks: list[Task], volunteers: Columns, task_of: np.ndarray, volunteer_of: np.ndarray):
        self.task_of, self.volunteer_of = task_of, volunteer_of
        self.hours = np.array([t.planned_hours for t in tasks], dtype=float)[task_of]
        self.recent = volunteers.recent[volunteer_of].astype(float)
        self.open = volunteers.open[volunteer_of].astype(float)
        self.fixed = (WEIGHTS["skill_fit"] * _skill_fits(tasks, volunteers, task_of, volunteer_of)
                      + WEIGHTS["proximity"] * _proximities(tasks, volunteers, task_of, volunteer_of)
                      + WEIGHTS["language"] * _language_fits(tasks, volunteers, task_of, volunteer_of))

    def pair(self, pairs: np.ndarray) -> None:
        """Mark `pairs` as the task's paired volunteers (结对)."""
        self.fixed[pairs] += WEIGHTS["pairing"]

    def totals(self, pairs: np.ndarray, added_load: np.ndarray | int = 0) -> np.ndarray:
        fairness = 1.0 / (1.0 + (self.recent[pairs] + added_load * self.hours[pairs]) / FAIR_HOURS)
        load = 1.0 / (1.0 + self.open[pairs] + added_load)
        return self.fixed[pairs] + WEIGHTS["fairness"] * fairness + WEIGHTS["load"] * load


def _masks(sets, bits: dict) -> np.ndarray:
    """Each set of names as a bit mask, `bits` numbering the names as it goes."""
    masks = {}
    for names in set(sets):
        masks[names] = sum(1 << bits.setdefault(name, len(bits)) for name in names)
    return np.array([masks[names] for names in sets], dtype=np.int64)


def _of_volunteers(sets: Coded, bits: dict) -> np.ndarray:
    """The volunteers' sets of names as bit masks (each distinct set masked once)."""
    return _masks(sets.values, bits)[sets.codes] if sets.values else np.zeros(len(sets.codes), dtype=np.int64)


def _skill_fits(tasks, volunteers: Columns, task_of, volunteer_of) -> np.ndarray:
    bits = {}
    have = _of_volunteers(volunteers.skills, bits)
    wanted = [frozenset(t.skills) | frozenset(t.helpful_skills) for t in tasks]
    want = _masks(wanted, bits)
    count = np.array([len(w) for w in wanted], dtype=float)
    fits = np.bitwise_count(have[volunteer_of] & want[task_of]) / np.maximum(count[task_of], 1.0)
    return np.where(count[task_of] > 0, fits, 1.0)


def _language_fits(tasks, volunteers: Columns, task_of, volunteer_of) -> np.ndarray:
    bits = {}
    speak = _of_volunteers(volunteers.languages, bits)
    need = _masks([frozenset((t.language,)) if t.language else frozenset() for t in tasks], bits)
    spoken = (speak[volunteer_of] & need[task_of] > 0).astype(float)
    return np.where(need[task_of] == 0, 0.5, spoken)


def _codes_of(tasks: list[Task], coded: Coded, read) -> np.ndarray:
    """The tasks' values in the volunteers' coding; -1 for a value no volunteer has, or none."""
    numbers = {value: n for n, value in enumerate(coded.values) if value is not None}
    return np.array([numbers.get(read(t), -1) for t in tasks], dtype=np.intp)


def _proximities(tasks, volunteers: Columns, task_of, volunteer_of) -> np.ndarray:
    mine = _codes_of(tasks, volunteers.community, lambda t: t.community_code)[task_of]
    theirs = volunteers.community.codes[volunteer_of]
    grid = _codes_of(tasks, volunteers.grid, lambda t: t.grid_code)[task_of]
    same_grid = (grid >= 0) & (grid == volunteers.grid.codes[volunteer_of])
    by_area = np.where(mine != theirs, 0.2, np.where(same_grid, 1.0, 0.8))
    here = np.radians(np.array([t.location or (0.0, 0.0) for t in tasks], dtype=float).reshape(-1, 2))
    there = np.radians(volunteers.place)
    located = np.array([t.location is not None for t in tasks], dtype=bool)[task_of] & volunteers.located[volunteer_of]
    # each place's cosine once, not once per pair; latitudes and longitudes apart (one column
    # taken per pair, not rows of two: a third of the time for 270,000 pairs)
    here_lat, here_lon, there_lat, there_lon = here[:, 0], here[:, 1], there[:, 0].copy(), there[:, 1].copy()
    cosines = np.cos(here_lat)[task_of] * np.cos(there_lat)[volunteer_of]
    h = np.sin((there_lat[volunteer_of] - here_lat[task_of]) / 2) ** 2 \
        + cosines * np.sin((there_lon[volunteer_of] - here_lon[task_of]) / 2) ** 2
    near = np.maximum(0.0, 1.0 - 2 * 6371.0 * np.arcsin(np.sqrt(h)) / NEAR_KM)
    return np.where(located, near, by_area)
