"""How a burst of waiting tasks is staffed: together, so that the total score is best
(an assignment problem solved by scipy's linear_sum_assignment), rather than one by one.
`staff_greedily` is the one-by-one way, kept as the baseline the benchmark compares against."""
from collections import Counter
from dataclasses import dataclass
from uuid import UUID

import numpy as np
from scipy.optimize import linear_sum_assignment

from services.matching.domain.candidates import Limits
from services.matching.domain.model import Task, Volunteer
from services.matching.domain.pairing import paired_first
from services.matching.domain.scoring import Score, score

FORBIDDEN = -1e9
MAX_ROUNDS = 5


@dataclass(frozen=True)
class Demand:
    """A task, how many offers it should get now, the volunteers able to take it, and the
    volunteer paired with its household (结对), asked first (domain/pairing.py)."""

    task: Task
    offers: int
    candidates: tuple[Volunteer, ...]
    paired: UUID | None = None


@dataclass(frozen=True)
class Offer:
    task: Task
    volunteer: Volunteer
    score: Score


class _Bookings:
    """What this decision has already handed each volunteer, so no cap is overrun."""

    def __init__(self, limits: Limits):
        self.limits, self.count, self.hours, self.pairs = limits, Counter(), Counter(), set()

    def room(self, volunteer: Volunteer) -> int:
        return self.limits.max_open_assignments - volunteer.open_assignments - self.count[volunteer.volunteer_id]

    def fits(self, volunteer: Volunteer, task: Task) -> bool:
        return (self.room(volunteer) > 0 and (task.task_id, volunteer.volunteer_id) not in self.pairs
                and volunteer.week_hours + self.hours[volunteer.volunteer_id] + task.planned_hours
                <= volunteer.max_weekly_hours)

    def book(self, volunteer: Volunteer, task: Task) -> None:
        self.count[volunteer.volunteer_id] += 1
        self.hours[volunteer.volunteer_id] += task.planned_hours
        self.pairs.add((task.task_id, volunteer.volunteer_id))


def staff_batch(demands: list[Demand], limits: Limits) -> list[Offer]:
    """Offers for the whole batch, maximising the sum of scores. A household's paired volunteer
    is asked alone first (domain/pairing.py); a task whose paired volunteer the batch filled up
    with other tasks is then staffed as usual, rather than left without an offer."""
    bookings = _Bookings(limits)
    first = [paired_first(demand) for demand in demands]
    offers = _staff(first, bookings)
    staffed = {offer.task.task_id for offer in offers}
    others = [demand for demand, narrowed in zip(demands, first)
              if narrowed is not demand and demand.task.task_id not in staffed]
    return offers + _staff(others, bookings) if others else offers


def _staff(demands: list[Demand], bookings: _Bookings) -> list[Offer]:
    """A volunteer appears as one column per unit of spare capacity, each unit scored with the
    load the earlier ones add, so work spreads. Pairs the solver cannot see as conflicting (the
    same volunteer twice on one task, an hour cap shared across tasks) are dropped and their
    rows solved again."""
    offers = []
    wanted = {demand.task.task_id: demand.offers for demand in demands}
    for _ in range(MAX_ROUNDS):
        rows = [d for d in demands for _ in range(wanted[d.task.task_id])]
        columns = _capacity_units(rows, bookings)
        if not rows or not columns:
            break
        chosen = _solve(rows, columns, bookings)
        if not chosen:
            break
        for demand, volunteer, value in sorted(chosen, key=lambda c: -c[2].total):
            if bookings.fits(volunteer, demand.task):
                bookings.book(volunteer, demand.task)
                wanted[demand.task.task_id] -= 1
                offers.append(Offer(demand.task, volunteer, value))
    return offers


def _capacity_units(rows: list[Demand], bookings: _Bookings) -> list[tuple[Volunteer, int]]:
    volunteers = {v.volunteer_id: v for demand in rows for v in demand.candidates}
    return [(v, bookings.count[v.volunteer_id] + unit) for v in volunteers.values()
            for unit in range(min(bookings.room(v), len(rows)))]


def _solve(rows: list[Demand], columns: list[tuple[Volunteer, int]], bookings: _Bookings):
    values = np.full((len(rows), len(columns)), FORBIDDEN)
    scores = {}
    for i, demand in enumerate(rows):
        able = {v.volunteer_id for v in demand.candidates}
        for j, (volunteer, load) in enumerate(columns):
            if volunteer.volunteer_id in able and bookings.fits(volunteer, demand.task):
                scores[i, j] = score(volunteer, demand.task, added_load=load)
                values[i, j] = scores[i, j].total
    row_index, column_index = linear_sum_assignment(values, maximize=True)
    return [(rows[i], columns[j][0], scores[i, j]) for i, j in zip(row_index, column_index) if (i, j) in scores]


def staff_greedily(demands: list[Demand], limits: Limits) -> list[Offer]:
    """Each task in turn takes the best volunteer still free."""
    bookings, offers = _Bookings(limits), []
    for demand in demands:
        for _ in range(demand.offers):
            free = [v for v in demand.candidates if bookings.fits(v, demand.task)]
            if not free:
                break
            best = max(free, key=lambda v: (score(v, demand.task, bookings.count[v.volunteer_id]).total,
                                            -v.volunteer_id.int))
            bookings.book(best, demand.task)
            offers.append(Offer(demand.task, best, score(best, demand.task, bookings.count[best.volunteer_id] - 1)))
    return offers
