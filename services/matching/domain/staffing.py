"""How a burst of waiting tasks is staffed: together, so that the total score is best (an
assignment problem), rather than one by one. `staff_greedily` is the one-by-one way: the
baseline the benchmark compares against, and the answer `staff_batch` gives whenever it is
better, so the batch is never worse than greedy in places filled nor in total score.

A burst can be large (1,000 tasks against 100,000 volunteers): a dense tasks × volunteers
matrix would not fit, so each task keeps only its best `KEEP` able candidates per offer it
wants (scored together, scoring.Pairs), and the reduced problem is solved as a sparse
minimum-weight matching (scipy.sparse.csgraph), a volunteer's column repeated per free place."""
from dataclasses import dataclass
from uuid import UUID

import lap
import numpy as np

from services.matching.domain.candidates import Limits
from services.matching.domain.columns import Candidates, Columns, keys
from services.matching.domain.model import Task, Volunteer
from services.matching.domain.pairing import paired_first
from services.matching.domain.scoring import WEIGHTS, Pairs, Score, score

MAX_ROUNDS = 5
# Candidates kept per offer a task wants: enough that caps shared between tasks rarely run
# the kept ones out (the comparison with greedy covers the rest).
KEEP = 5
# ... and never fewer than this many, so a small burst is solved whole.
KEEP_AT_LEAST = 20
# A matching cost below every offer's: each is COST - score, and leaving a row without an offer
# costs more than any set of offers, so the solver fills as many places as it can, then scores.
COST = sum(WEIGHTS.values()) + 1.0
# Up to this many cells (rows wanted × places and "no offer" columns, 8 bytes each), a burst's
# matching is solved dense in numpy; beyond, sparse with scipy.
DENSE_CELLS = 250_000


@dataclass(frozen=True)
class Demand:
    """A task, how many offers it should get now, the volunteers able to take it (columns, or
    any sequence of volunteers, read into columns), and the volunteer paired with its household
    (结对), asked first (domain/pairing.py)."""

    task: Task
    offers: int
    candidates: Candidates
    paired: UUID | None = None

    def __post_init__(self):
        if not isinstance(self.candidates, Candidates):
            object.__setattr__(self, "candidates", Candidates.of(tuple(self.candidates)))


@dataclass(frozen=True)
class Offer:
    task: Task
    volunteer: Volunteer
    score: Score


class _Burst:
    """A burst as numbered pairs: each demand's candidates are a stretch of pairs (`stretch`), each
    volunteer numbered once however many tasks list them; and what this decision has handed
    each volunteer so far, so no cap is overrun. The batch and greedy share the numbering; both
    pick pairs (`book`), and only the answer's picks become offers."""

    def __init__(self, demands: list[Demand], limits: Limits):
        self.tasks = [demand.task for demand in demands]
        parts = list({id(d.candidates.columns): d.candidates.columns for d in demands}.values())
        joined, starts = Columns.joined(parts)
        start_of = {id(part): start for part, start in zip(parts, starts)}
        listed = np.concatenate([start_of[id(d.candidates.columns)] + d.candidates.rows for d in demands]
                                ).astype(np.intp)
        rows, self.volunteer_of, self.rank = _numbered(joined, listed, len(parts) > 1)
        self.volunteers = joined.take(rows)
        sizes = [len(demand.candidates) for demand in demands]
        self.start = np.concatenate([[0], np.cumsum(sizes)]).astype(np.intp)
        self.at = {demand.task.task_id: n for n, demand in enumerate(demands)}
        self.task_of = np.repeat(np.arange(len(demands)), sizes)
        self.pairs = Pairs(self.tasks, self.volunteers, self.task_of, self.volunteer_of)
        for n, task in enumerate(self.tasks):
            if task.paired:
                self.pairs.pair(self.of(self.stretch(n), keys(task.paired)))
        self.hours = self.pairs.hours
        self.unloaded = self.pairs.totals(np.arange(len(self.task_of)))
        self.room = limits.max_open_assignments - self.volunteers.open
        self.week = self.volunteers.spare_hours.astype(float)
        self.afresh()

    def of(self, pairs: np.ndarray, wanted: np.ndarray) -> np.ndarray:
        """Those of `pairs` whose volunteer has one of the `wanted` keys."""
        return pairs[np.isin(self.volunteers.key[self.volunteer_of[pairs]], wanted)]

    def afresh(self) -> "_Burst":
        """Nothing handed out yet."""
        self.count, self.hours_left = np.zeros(len(self.room), dtype=int), self.week.copy()
        self.taken = np.zeros(len(self.task_of), dtype=bool)
        return self

    def stretch(self, n: int) -> np.ndarray:
        return np.arange(self.start[n], self.start[n + 1])

    def among(self, demand: Demand) -> tuple[int, np.ndarray]:
        """The demand's task number and its candidates' pairs (a paired demand: fewer)."""
        n = self.at[demand.task.task_id]
        stretch = self.stretch(n)
        if len(demand.candidates) == len(stretch):
            return n, stretch
        return n, self.of(stretch, demand.candidates.columns.key[demand.candidates.rows])

    def fit(self, pairs: np.ndarray) -> np.ndarray:
        """Which `pairs` have a free place and the hours, and are not already booked."""
        volunteers = self.volunteer_of[pairs]
        return (self.room[volunteers] > self.count[volunteers]) & (self.hours_left[volunteers] >= self.hours[pairs]) \
            & ~self.taken[pairs]

    def fits(self, pair: int) -> bool:
        """`fit` for one pair (without building arrays for it)."""
        volunteer = self.volunteer_of[pair]
        return bool(self.room[volunteer] > self.count[volunteer] and self.hours_left[volunteer] >= self.hours[pair]
                    and not self.taken[pair])

    def totals(self, pairs: np.ndarray, unit: int = 0) -> np.ndarray:
        """The scores of `pairs`, each at its volunteer's load so far plus `unit`; those at no
        load from the scores worked out once for the whole burst."""
        loads = self.count[self.volunteer_of[pairs]] + unit
        if unit == 0 and not loads.any():
            return self.unloaded[pairs]
        return self.pairs.totals(pairs, loads)

    def book(self, pair: int) -> tuple[int, int]:
        """Hand the pair's volunteer the task: the pick (pair, the load it was scored at)."""
        row = self.volunteer_of[pair]
        pick = (int(pair), int(self.count[row]))
        self.count[row] += 1
        self.hours_left[row] -= self.hours[pair]
        self.taken[pair] = True
        return pick

    def total(self, picks: list[tuple[int, int]]) -> float:
        pairs, loads = np.array(picks, dtype=np.intp).reshape(-1, 2).T
        return float(self.pairs.totals(pairs, loads).sum())

    def offers(self, picks: list[tuple[int, int]]) -> list[Offer]:
        """The picks as offers, each with its score's parts (the offer's reason)."""
        offers = []
        for pair, load in picks:
            task, volunteer = self.tasks[self.task_of[pair]], self.volunteers.people[int(self.volunteer_of[pair])]
            offers.append(Offer(task, volunteer, score(volunteer, task, added_load=load)))
        return offers


def _numbered(joined: Columns, listed: np.ndarray, several: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each volunteer's row (in `joined`), each listed row's volunteer number, and where each
    volunteer is first listed (which orders the solver's columns: the same burst, the same
    offers). Rows are numbered without sorting; a volunteer in `several` parts (one object per
    task that read them, as from the store) is found by their key and numbered once."""
    first = np.full(len(joined.key), len(listed), dtype=np.intp)
    np.minimum.at(first, listed, np.arange(len(listed)))
    rows = np.flatnonzero(first < len(listed))
    number = np.zeros(len(joined.key), dtype=np.intp)
    number[rows] = np.arange(len(rows))
    volunteer_of, rank = number[listed], first[rows]
    if several and _repeated(joined.key[rows]):
        _, kept, folded = np.unique(joined.key[rows], return_index=True, return_inverse=True)
        folded = folded.reshape(-1)
        volunteer_of, rows, ranks = folded[volunteer_of], rows[kept], rank
        rank = np.full(len(kept), len(listed), dtype=np.intp)
        np.minimum.at(rank, folded, ranks)
    return rows, volunteer_of, rank


def _repeated(key: np.ndarray) -> bool:
    """Whether a key may come twice: their 64-bit hashes are sorted, not the keys (a collision
    only costs the exact fold)."""
    halves = key.view("<u8").reshape(-1, 2)
    hashed = np.sort(halves[:, 0] * np.uint64(0x9E3779B97F4A7C15) ^ halves[:, 1])
    return bool((hashed[1:] == hashed[:-1]).any())  # sorted: 2.6 ms for 100,000, np.unique's hashing 48 ms


def staff_batch(demands: list[Demand], limits: Limits) -> list[Offer]:
    """Offers for the whole batch, filling as many places as it can, then maximising the sum of
    scores; greedy's offers instead when the batch's fill fewer places or score less (`_better`).
    When no volunteer is listed by two tasks, greedy's offers are the best there are (each task
    takes its best volunteers, who are nobody else's), and the solver is not run."""
    if not demands:
        return []
    if len(demands) == 1:
        return _alone(demands[0], limits)
    burst = _Burst(demands, limits)
    if len(burst.volunteers.key) == len(burst.task_of):
        return burst.offers(_paired_first(demands, burst, _greedily))
    batch = _paired_first(demands, burst, _staff)
    greedy = _paired_first(demands, burst.afresh(), _greedily)
    return burst.offers(batch if _better(burst, batch, greedy) else greedy)


def _alone(demand: Demand, limits: Limits) -> list[Offer]:
    """A task alone in its decision (most decisions): greedy's answer, which is the best there
    is, scored one volunteer at a time rather than numbered as a burst (cheaper for a few)."""
    first = paired_first(demand) if demand.paired else demand
    return _best_free(first, limits) or (_best_free(demand, limits) if first is not demand else [])


def _best_free(demand: Demand, limits: Limits) -> list[Offer]:
    """The demand's best volunteers with a free place and the hours (of equal scores, the lowest id)."""
    task = demand.task
    free = [v for v in demand.candidates if v.open_assignments < limits.max_open_assignments
            and v.week_hours + task.planned_hours <= v.max_weekly_hours]
    scored = sorted(((score(v, task), v) for v in free), key=lambda sv: (-sv[0].total, sv[1].volunteer_id.int))
    return [Offer(task, volunteer, chosen) for chosen, volunteer in scored[:demand.offers]]


def _paired_first(demands: list[Demand], burst: _Burst, staff) -> list[tuple[int, int]]:
    """A household's paired volunteer is asked alone first (domain/pairing.py); a task whose
    paired volunteer the burst filled up with other tasks is then staffed as usual, rather than
    left without an offer. Without pairings, this is `staff` itself."""
    first = [paired_first(demand) if demand.paired else demand for demand in demands]
    picks = staff(first, burst)
    staffed = {int(burst.task_of[pair]) for pair, _ in picks}
    others = [demand for demand, narrowed in zip(demands, first)
              if narrowed is not demand and burst.at[demand.task.task_id] not in staffed]
    return picks + staff(others, burst) if others else picks


def _better(burst: _Burst, batch: list[tuple[int, int]], greedy: list[tuple[int, int]]) -> bool:
    """Whether the batch is no worse than greedy in places filled and in total score."""
    return len(batch) >= len(greedy) and burst.total(batch) >= burst.total(greedy)


def _staff(demands: list[Demand], burst: _Burst) -> list[tuple[int, int]]:
    """Pairs the solver cannot see as conflicting (an hour cap shared across tasks) are dropped
    and their rows solved again."""
    picks, wanted, allowed = [], np.zeros(len(burst.tasks), dtype=int), np.zeros(len(burst.task_of), dtype=bool)
    for demand in demands:
        n, pairs = burst.among(demand)
        wanted[n] = demand.offers
        allowed[pairs] = True
    for _ in range(MAX_ROUNDS):
        chosen = _solve(np.flatnonzero(allowed & (wanted[burst.task_of] > 0)), wanted, burst)
        if not len(chosen):
            break
        for pair in chosen:
            if burst.fits(pair):
                wanted[burst.task_of[pair]] -= 1
                picks.append(burst.book(pair))
    return picks


def _solve(pairs: np.ndarray, wanted: np.ndarray, burst: _Burst) -> np.ndarray:
    """One round: a row per offer wanted, a column per free place of each volunteer kept (the
    n-th place scored with the load of the n - 1 before it, so work spreads; no more places than
    rows, which is all a volunteer could take: with room for 1,000 open offers each, 4 rows had
    20,000 columns, and LAPJV squares its matrix); the chosen pairs, best first."""
    pairs = pairs[burst.fit(pairs)]
    keep = np.maximum(KEEP * wanted[burst.task_of[pairs]], KEEP_AT_LEAST)
    kept = _best(pairs, burst.totals(pairs), burst.task_of[pairs], keep)
    tasks, volunteers = burst.task_of[kept], burst.volunteer_of[kept]
    free = burst.room[volunteers] - burst.count[volunteers]
    first_row = np.concatenate([[0], np.cumsum(wanted)])
    units = int(burst.room.max(initial=0)) + 1
    edges, rows, places, values = [], [], [], []
    for unit in range(min(int(free.max(initial=0)), int(first_row[-1]))):
        at_unit = free > unit
        value = burst.totals(kept[at_unit], unit)
        for copy in range(int(wanted.max(initial=0))):
            on = wanted[tasks[at_unit]] > copy
            edges.append(kept[at_unit][on])
            rows.append(first_row[tasks[at_unit][on]] + copy)
            places.append(burst.rank[volunteers[at_unit][on]] * units + unit)
            values.append(value[on])
    if not edges:
        return np.zeros(0, dtype=np.intp)
    edges, values = np.concatenate(edges), np.concatenate(values)
    chosen = _match(int(first_row[-1]), np.concatenate(rows), np.concatenate(places), values)
    return edges[chosen][np.argsort(-values[chosen], kind="stable")]


def _best(pairs: np.ndarray, totals: np.ndarray, groups: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Each group's `keep` best pairs (a task's pairs, or a row's edges), `keep` given per pair.
    A partial sort of each group (a burst lists each task's pairs together, which the stable sort
    by group finds at once): 21 ms for 1,000 tasks of 270 pairs, against 35 ms sorting them all."""
    order = np.argsort(groups, kind="stable")
    bounds = np.flatnonzero(np.diff(groups[order])) + 1
    best = []
    for group in np.split(order, bounds) if len(order) else []:
        wanted = int(keep[group[0]])
        best.append(group if len(group) <= wanted else group[np.argpartition(-totals[group], wanted - 1)[:wanted]])
    return pairs[np.sort(np.concatenate(best))] if best else pairs[:0]


def _match(height: int, rows: np.ndarray, places: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The minimum-cost matching of every row to a place or to its own 'no offer' column: the
    edges chosen (their indices). A small burst (one community's decision) is solved dense with
    lap's LAPJV (a C++ extension of 0.2 MB); only a bigger one imports scipy, a third of the
    service's memory, and is solved part by part (`_parts`), each part dense if it is small
    enough, else sparse: 1,357 rows of 100 communities, 50,641 edges, took 82 ms sparse as a
    whole and take 41 ms so, for the same total."""
    columns, column_of = np.unique(places, return_inverse=True)
    column_of = column_of.reshape(-1)
    if height * (len(columns) + height) <= DENSE_CELLS:
        return _matched(height, len(columns), rows, column_of, values)
    chosen = [part[_matched(*_renumbered(rows[part], column_of[part]), values[part])]
              for part in _parts(height, len(columns), rows, column_of, values)]
    return np.concatenate(chosen) if chosen else np.zeros(0, dtype=np.intp)


def _parts(height: int, width: int, rows: np.ndarray, column_of: np.ndarray, values: np.ndarray) -> list[np.ndarray]:
    """The edges of each connected part of the rows-and-places graph (rows that share no place:
    tasks of communities whose candidates do not overlap), whose best matchings together are the
    whole's; and of each row only its h best edges, h the rows of its part: the others in its
    part take h - 1 places at most, so one of its h best is always free for it (a row's edges
    go to places of their own)."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    size = height + width
    graph = csr_matrix((np.ones(len(rows), dtype=np.int8), (rows, height + column_of)), shape=(size, size))
    _, label = connected_components(graph, directed=False)
    rows_in_part = np.bincount(label[:height])[label[:height]]
    kept = _best(np.arange(len(rows)), values, rows, rows_in_part[rows])
    part_of = label[rows[kept]]
    by_part = np.argsort(part_of, kind="stable")
    kept, part_of = kept[by_part], part_of[by_part]
    return np.split(kept, np.flatnonzero(np.diff(part_of)) + 1) if len(kept) else []


def _renumbered(rows: np.ndarray, column_of: np.ndarray) -> tuple[int, int, np.ndarray, np.ndarray]:
    """A part's rows and places numbered from 0: (height, width, rows, columns)."""
    kept_rows, local_rows = np.unique(rows, return_inverse=True)
    kept_columns, local_columns = np.unique(column_of, return_inverse=True)
    return len(kept_rows), len(kept_columns), local_rows.reshape(-1), local_columns.reshape(-1)


def _matched(height: int, width: int, rows: np.ndarray, column_of: np.ndarray, values: np.ndarray) -> np.ndarray:
    """`_match` of rows and places already numbered from 0: dense if it is small enough."""
    if height * (width + height) <= DENSE_CELLS:
        cost = np.full((height, width), np.inf)
        cost[rows, column_of] = COST - values
        edge = np.full((height, width), -1, dtype=np.intp)
        edge[rows, column_of] = np.arange(len(rows))
        return edge[_dense_match(cost)]
    return _sparse_match(height, width + height, rows, column_of, values, width)


def _dense_match(cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The (row, column) cells of the most cells matched, then the least cost (inf: no edge),
    by LAPJV with a 'nobody' column of its own for each row. The shorter side is made the rows:
    with more rows than columns (more offers wanted than places: everyone busy) LAPJV took 2 s
    for 1,000 rows and 100 places, against 7 ms the other way round, for the same matching."""
    flipped = cost.shape[0] > cost.shape[1]
    short = cost.T if flipped else cost
    height, width = short.shape
    extended = np.full((height, width + height), np.inf)
    extended[:, :width] = short
    extended[np.arange(height), width + np.arange(height)] = COST * (height + 1)  # more than any matching's cost
    _, column_of_row, _ = lap.lapjv(extended, extend_cost=True)
    matched = np.flatnonzero(column_of_row < width)
    cells = (matched, column_of_row[matched])
    return cells[::-1] if flipped else cells


def _sparse_match(height: int, width: int, rows: np.ndarray, column_of: np.ndarray, values: np.ndarray,
                  places: int) -> np.ndarray:
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import min_weight_full_bipartite_matching

    nobody = np.arange(height)
    matrix = csr_matrix((np.concatenate([COST - values, np.full(height, COST * (height + 1))]),
                         (np.concatenate([rows, nobody]), np.concatenate([column_of, places + nobody]))),
                        shape=(height, width))
    row_index, column_index = min_weight_full_bipartite_matching(matrix)
    matched = column_index < places
    keys = rows.astype(np.int64) * width + column_of
    order = np.argsort(keys)
    return order[np.searchsorted(keys, row_index[matched].astype(np.int64) * width + column_index[matched],
                                 sorter=order)]


def staff_greedily(demands: list[Demand], limits: Limits) -> list[Offer]:
    """Each task in turn takes the best volunteer still free."""
    if not demands:
        return []
    burst = _Burst(demands, limits)
    return burst.offers(_greedily(demands, burst))


def _greedily(demands: list[Demand], burst: _Burst) -> list[tuple[int, int]]:
    """Booking a volunteer changes only their own score and room, and they are then on the task:
    a task's candidates are weighed once for all its offers. Of equal scores, the volunteer
    with the lowest id (the lowest number) wins."""
    picks = []
    for demand in demands:
        _, pairs = burst.among(demand)
        free = pairs[burst.fit(pairs)]
        totals = burst.totals(free)
        for _ in range(min(demand.offers, len(free))):
            best = np.flatnonzero(totals == totals.max())
            pick = best[0] if len(best) == 1 else min(
                best, key=lambda at: burst.volunteers.key[burst.volunteer_of[free[at]]].tobytes())
            picks.append(burst.book(int(free[pick])))
            totals[pick] = -np.inf
    return picks
