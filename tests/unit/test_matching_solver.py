"""matching's burst solver, with no servers: the scores it weighs many pairs with are the
rule's own, and on any burst it is never worse than greedy, in places filled nor in total score,
and never overruns a cap."""
from collections import Counter
from unittest.mock import patch
from uuid import UUID

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from services.matching.domain.candidates import Limits
from services.matching.domain.columns import Columns
from services.matching.domain.model import Task, Volunteer
from services.matching.domain.scoring import Pairs, score
from services.matching.domain import staffing
from services.matching.domain.staffing import Demand, staff_batch, staff_greedily

SKILLS = ("cooking", "cleaning", "digital")
PLACES = st.one_of(st.none(), st.tuples(st.floats(24.45, 24.5), st.floats(118.08, 118.13)))

volunteers = st.builds(
    Volunteer, volunteer_id=st.integers(1, 40).map(lambda n: UUID(int=n)), source=st.just("app"),
    external_id=st.just("v"), community_code=st.sampled_from(("c1", "c2")),
    skills=st.frozensets(st.sampled_from(SKILLS), min_size=1), grid_code=st.sampled_from((None, "g1", "g2")),
    location=PLACES, languages=st.frozensets(st.sampled_from(("zh", "minnan", "en"))),
    open_assignments=st.integers(0, 2), recent_hours=st.sampled_from((0.0, 2.0, 8.0, 16.0)),
    week_hours=st.sampled_from((0.0, 2.0, 4.0)), max_weekly_hours=st.sampled_from((4.0, 8.0)))


def tasks(n: int):
    return st.builds(Task, task_id=st.just(UUID(int=1000 + n)), community_code=st.sampled_from(("c1", "c2")),
                     skills=st.lists(st.sampled_from(SKILLS), min_size=1, max_size=2, unique=True).map(tuple),
                     helpful_skills=st.sampled_from(((), ("digital",))), grid_code=st.sampled_from((None, "g1")),
                     location=PLACES, language=st.sampled_from((None, "zh", "minnan")),
                     planned_hours=st.sampled_from((1.0, 2.0)),
                     paired=st.frozensets(st.integers(1, 40).map(lambda n: UUID(int=n)), max_size=2))


@st.composite
def bursts(draw):
    """Tasks sharing a pool of volunteers (who may come as one object per task, as from the store)."""
    pool = {v.volunteer_id: v for v in draw(st.lists(volunteers, min_size=1, max_size=25))}
    demands = []
    for n in range(draw(st.integers(1, 12))):
        task = draw(tasks(n))
        chosen = draw(st.lists(st.sampled_from(sorted(pool)), unique=True, max_size=len(pool)))
        demands.append(Demand(task, draw(st.integers(1, 3)), tuple(pool[v] for v in chosen)))
    return demands, Limits(max_open_assignments=draw(st.integers(1, 4)))


@settings(max_examples=150, deadline=None)
@given(bursts())
def test_a_burst_is_never_worse_than_greedy_and_never_overruns_a_cap(burst):
    demands, limits = burst
    batch, greedy = staff_batch(demands, limits), staff_greedily(demands, limits)
    assert len(batch) >= len(greedy)
    assert sum(o.score.total for o in batch) >= sum(o.score.total for o in greedy) - 1e-9
    wanted = {d.task.task_id: d for d in demands}
    assert len({(o.task.task_id, o.volunteer.volunteer_id) for o in batch}) == len(batch)
    assert all(Counter(o.task.task_id for o in batch)[t] <= d.offers for t, d in wanted.items())
    assert all(o.volunteer in wanted[o.task.task_id].candidates for o in batch)
    held, hours = Counter(), Counter()
    for o in batch:
        held[o.volunteer.volunteer_id] += 1
        hours[o.volunteer.volunteer_id] += o.task.planned_hours
        v = o.volunteer
        assert v.open_assignments + held[v.volunteer_id] <= limits.max_open_assignments
        assert v.week_hours + hours[v.volunteer_id] <= v.max_weekly_hours


@settings(max_examples=100, deadline=None)
@given(st.lists(volunteers, min_size=1, max_size=20), st.lists(st.integers(0, 3), min_size=1, max_size=20),
       tasks(0))
def test_the_scores_weighed_together_are_the_rule_s_own(people, loads, task):
    loads = np.array((loads * len(people))[:len(people)])
    pairs = Pairs([task], Columns.of(people), np.zeros(len(people), dtype=np.intp), np.arange(len(people)))
    pairs.pair(np.array([n for n, v in enumerate(people) if v.volunteer_id in task.paired], dtype=np.intp))
    expected = [score(v, task, added_load=int(load)).total for v, load in zip(people, loads)]
    assert np.allclose(pairs.totals(np.arange(len(people)), loads), expected, rtol=0, atol=1e-9)


def test_an_empty_burst_gets_no_offers():
    assert staff_batch([], Limits()) == staff_greedily([], Limits()) == []


@settings(max_examples=50, deadline=None)
@given(bursts())
def test_a_burst_too_big_to_solve_dense_is_never_worse_than_greedy_either(burst):
    demands, limits = burst
    with patch.object(staffing, "DENSE_CELLS", 0):  # scipy's sparse matching, as for a big burst
        sparse = staff_batch(demands, limits)
    greedy = staff_greedily(demands, limits)
    assert len(sparse) >= len(greedy)
    assert sum(o.score.total for o in sparse) >= sum(o.score.total for o in greedy) - 1e-9


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 25), st.integers(1, 30), st.integers(0, 2**32 - 1))
def test_the_dense_and_the_sparse_matching_are_equally_good(height, places, seed):
    """lap's LAPJV (a small burst) and scipy's sparse matching (a big one) solve the same
    problem: as many rows matched, and the same total of the edges' values."""
    rng = np.random.default_rng(seed)
    edges = rng.random((height, places)) < 0.4
    rows, columns = np.nonzero(edges)
    values = rng.random(len(rows)) * (staffing.COST - 1)  # a score, under the cost of a place
    dense = staffing._match(height, rows, columns, values)
    with patch.object(staffing, "DENSE_CELLS", 0):
        sparse = staffing._match(height, rows, columns, values)
    assert len(set(rows[dense])) == len(dense) and len(set(columns[dense])) == len(dense)  # one place per row
    assert len(dense) == len(sparse)
    assert np.isclose(values[dense].sum(), values[sparse].sum())


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 8), st.integers(1, 10)), min_size=1, max_size=6), st.integers(0, 2**32 - 1))
def test_a_big_matching_solved_part_by_part_is_as_good_as_solved_whole(blocks, seed):
    """Rows that share no place (tasks of communities apart) are matched part by part once the
    whole is too big to solve dense: as many rows matched, the same total, as the whole solved
    dense; some parts dense and some sparse alike."""
    rng = np.random.default_rng(seed)
    rows, columns, height, width = [], [], 0, 0
    for block_height, block_width in blocks:
        edges = rng.random((block_height, block_width)) < 0.5
        block_rows, block_columns = np.nonzero(edges)
        rows.append(block_rows + height)
        columns.append(block_columns + width)
        height, width = height + block_height, width + block_width
    rows, columns = np.concatenate(rows), np.concatenate(columns)
    values = rng.random(len(rows)) * (staffing.COST - 1)
    whole = staffing._match(height, rows, columns, values)
    largest = max(h * (w + h) for h, w in blocks)
    for dense_cells in (largest // 2, largest):  # the biggest part sparse, or every part dense
        with patch.object(staffing, "DENSE_CELLS", min(dense_cells, height * (width + height) - 1)):
            parts = staffing._match(height, rows, columns, values)
        assert len(set(rows[parts])) == len(parts) and len(set(columns[parts])) == len(parts)
        assert len(parts) == len(whole)
        assert np.isclose(values[parts].sum(), values[whole].sum())


@settings(max_examples=30, deadline=None)
@given(bursts())
def test_with_room_for_a_thousand_offers_each_a_volunteer_has_no_more_places_than_the_burst_has_rows(burst):
    """A volunteer can take one place per row at most: the places past that are left out (with
    room for 1,000 each, 4 rows once had 20,000 columns, which LAPJV squares)."""
    demands, _ = burst
    limits, solved = Limits(max_open_assignments=1000), []

    def recorded(height, rows, places, values):
        solved.append((height, len(np.unique(places))))
        return real(height, rows, places, values)
    real = staffing._match
    with patch.object(staffing, "_match", recorded):
        batch = staff_batch(demands, limits)
    people = {v.volunteer_id for d in demands for v in d.candidates}
    assert all(columns <= height * len(people) for height, columns in solved)
    greedy = staff_greedily(demands, limits)
    assert len(batch) >= len(greedy)
    assert sum(o.score.total for o in batch) >= sum(o.score.total for o in greedy) - 1e-9
