"""Burst mode: the same bursts of waiting tasks staffed together (linear_sum_assignment) and
one by one (greedy), compared by the total score of the offers and the places filled."""
import random
import statistics
import time
import uuid

from services.matching.domain.candidates import Limits, able
from services.matching.domain.model import Task, Volunteer
from bench.sizes import sized
from services.matching.domain.staffing import Demand, staff_batch, staff_greedily

BURSTS = sized(200, 10)
TASKS, VOLUNTEERS = 30, 20
SKILLS = ("cooking", "cleaning", "companionship", "medical", "digital")
LIMITS = Limits(max_open_assignments=2)


def _place(rng: random.Random) -> tuple[float, float]:
    return 24.45 + rng.random() * 0.06, 118.08 + rng.random() * 0.06  # a few km across


def _burst(rng: random.Random) -> list[Demand]:
    volunteers = [Volunteer(volunteer_id=uuid.UUID(int=rng.getrandbits(128)), source="bench", external_id=str(n),
                            community_code="c", skills=frozenset(rng.sample(SKILLS, rng.randint(1, 3))),
                            location=_place(rng), recent_hours=rng.choice((0, 2, 4, 8, 16)),
                            languages=frozenset(rng.sample(("zh", "minnan", "en"), rng.randint(1, 2))))
                  for n in range(VOLUNTEERS)]
    demands = []
    for n in range(TASKS):
        task = Task(task_id=uuid.UUID(int=n), community_code="c", skills=tuple(rng.sample(SKILLS, rng.randint(1, 2))),
                    location=_place(rng), language=rng.choice((None, "minnan", "zh")), needed=rng.choice((1, 1, 2)))
        fit, _ = able(volunteers, task, LIMITS)
        demands.append(Demand(task, task.needed, tuple(fit)))
    return demands


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
    return {"bursts": BURSTS, "tasks_per_burst": TASKS, "volunteers_per_burst": VOLUNTEERS,
            "total_score_batch_to_greedy": {"mean": round(statistics.mean(ratios), 4), "min": round(min(ratios), 4),
                                            "max": round(max(ratios), 4)},
            "places_filled": {"greedy": sum(g[1] for g in greedy), "batch": sum(b[1] for b in batch)},
            "bursts_where_batch_scored_higher": sum(r > 1.0001 for r in ratios),
            "median_ms_per_burst": {"greedy": round(statistics.median(g[2] for g in greedy), 3),
                                    "batch": round(statistics.median(b[2] for b in batch), 3)}}
