"""Burst mode: the same bursts of waiting tasks staffed together (staff_batch) and one by one
(greedy), compared by the total score of the offers and the places filled: 200 small bursts, and
one big burst of 1,000 tasks against 100,000 volunteers (each task able to take hundreds)."""
import random
import statistics
import time
import uuid

import numpy as np

from services.matching.domain.candidates import Limits, able
from services.matching.domain.columns import Candidates, Columns
from services.matching.domain.model import Task, Volunteer
from bench.sizes import sized
from services.matching.domain.staffing import Demand, staff_batch, staff_greedily

BURSTS = sized(200, 10)
TASKS, VOLUNTEERS = 30, 20
SKILLS = ("cooking", "cleaning", "companionship", "medical", "digital")
LIMITS = Limits(max_open_assignments=2)
BIG_TASKS, BIG_VOLUNTEERS = sized(1_000, 100), sized(100_000, 5_000)
BIG_COMMUNITIES = sized(100, 10)
BIG_RUNS = sized(5, 1)


def _place(rng: random.Random) -> tuple[float, float]:
    return 24.45 + rng.random() * 0.06, 118.08 + rng.random() * 0.06  # a few km across


def _volunteer(rng: random.Random, n: int, community: str = "c", open_assignments: int = 0) -> Volunteer:
    return Volunteer(volunteer_id=uuid.UUID(int=rng.getrandbits(128)), source="bench", external_id=str(n),
                     community_code=community, skills=frozenset(rng.sample(SKILLS, rng.randint(1, 3))),
                     location=_place(rng), recent_hours=rng.choice((0, 2, 4, 8, 16)),
                     languages=frozenset(rng.sample(("zh", "minnan", "en"), rng.randint(1, 2))),
                     open_assignments=open_assignments)


def _task(rng: random.Random, n: int, community: str = "c") -> Task:
    return Task(task_id=uuid.UUID(int=n), community_code=community, skills=tuple(rng.sample(SKILLS, rng.randint(1, 2))),
                location=_place(rng), language=rng.choice((None, "minnan", "zh")), needed=rng.choice((1, 1, 2)))


def _burst(rng: random.Random) -> list[Demand]:
    volunteers = [_volunteer(rng, n) for n in range(VOLUNTEERS)]
    demands = []
    for n in range(TASKS):
        task = _task(rng, n)
        fit, _ = able(volunteers, task, LIMITS)
        demands.append(Demand(task, task.needed, tuple(fit)))
    return demands


def _big_burst(rng: random.Random) -> tuple[list[Demand], float]:
    """Tasks spread over communities, each able to take every volunteer of its community with
    its skills (hundreds), as dispatch reads them by (community, skill); each community's roster
    read into columns once (domain/columns.py), and how long that took (ms)."""
    communities = [f"c-{n}" for n in range(BIG_COMMUNITIES)]
    roster = {c: [] for c in communities}
    for n in range(BIG_VOLUNTEERS):
        community = communities[n % BIG_COMMUNITIES]
        roster[community].append(_volunteer(rng, n, community, open_assignments=rng.choice((0, 0, 1))))
    started = time.perf_counter()
    columns = {c: Columns.of(people) for c, people in roster.items()}
    read_ms = (time.perf_counter() - started) * 1000
    row_of = {c: {id(v): n for n, v in enumerate(people)} for c, people in roster.items()}
    demands = []
    for n in range(BIG_TASKS):
        task = _task(rng, n, communities[n % BIG_COMMUNITIES])
        fit, _ = able(roster[task.community_code], task, LIMITS)
        rows = np.array([row_of[task.community_code][id(v)] for v in fit], dtype=np.intp)
        demands.append(Demand(task, task.needed, Candidates(columns[task.community_code], rows)))
    return demands, read_ms


def _median_of(runs: int, staff, demands) -> tuple[float, int, float]:
    """The run of median time among `runs` (one run's time is the machine's noise as much as the burst's)."""
    return sorted((_timed(staff, demands) for _ in range(runs)), key=lambda run: run[2])[runs // 2]


def _timed(staff, demands) -> tuple[float, int, float]:
    started = time.perf_counter()
    offers = staff(demands, LIMITS)
    return sum(o.score.total for o in offers), len(offers), (time.perf_counter() - started) * 1000


async def main() -> dict:
    rng = random.Random(11)
    greedy, batch = [], []
    for _ in range(BURSTS):
        demands = _burst(rng)
        greedy.append(_timed(staff_greedily, demands))
        batch.append(_timed(staff_batch, demands))
    ratios = [b[0] / g[0] for b, g in zip(batch, greedy) if g[0]]
    return {**_small(BURSTS, greedy, batch, ratios), "big_burst": _big(rng)}


def _big(rng: random.Random) -> dict:
    demands, read_ms = _big_burst(rng)
    first = _timed(staff_batch, demands)  # the first big burst in a process imports scipy
    greedy, batch = (_median_of(BIG_RUNS, staff, demands) for staff in (staff_greedily, staff_batch))
    return {"tasks": BIG_TASKS, "runs_timed_median_of": BIG_RUNS, "volunteers": BIG_VOLUNTEERS, "places_wanted": sum(d.offers for d in demands),
            "candidate_pairs": sum(len(d.candidates) for d in demands),
            "ms": {"greedy": round(greedy[2], 1), "batch": round(batch[2], 1),
                   "batch_first_in_process_with_scipy_import": round(first[2], 1),
                   "rosters_into_columns_untimed": round(read_ms, 1)},
            "total_score_batch_to_greedy": round(batch[0] / greedy[0], 4),
            "places_filled": {"greedy": greedy[1], "batch": batch[1]}}


def _small(bursts, greedy, batch, ratios) -> dict:
    return {"bursts": bursts, "tasks_per_burst": TASKS, "volunteers_per_burst": VOLUNTEERS,
            "total_score_batch_to_greedy": {"mean": round(statistics.mean(ratios), 4), "min": round(min(ratios), 4),
                                            "max": round(max(ratios), 4)},
            "places_filled": {"greedy": sum(g[1] for g in greedy), "batch": sum(b[1] for b in batch)},
            "bursts_where_batch_scored_higher": sum(r > 1.0001 for r in ratios),
            "median_ms_per_burst": {"greedy": round(statistics.median(g[2] for g in greedy), 3),
                                    "batch": round(statistics.median(b[2] for b in batch), 3)}}
