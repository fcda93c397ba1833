"""A transaction's cell changes (services/reporting/domain/changes.py), with no servers: what
store.cells writes just before the commit, one row a cell."""
from datetime import date
from decimal import Decimal

import pytest

from services.reporting.domain.changes import CellChanges
from services.reporting.domain.sketches import Cell

DAY = (date(2026, 3, 2), "east-1", "elder_care.meals")
OTHER = (date(2026, 3, 2), "west-1", "elder_care.meals")
NAMES = ("received", "completed", "volunteer_hours")
MONTH = Cell(date(2026, 3, 1), "east-1", "elder_care.meals")
AT = (date(2026, 3, 1), "east-1", "elder_care.meals")


@pytest.mark.parametrize("increments, rows", [
    ([(DAY, {"received": 1}), (DAY, {"received": 1})], [(*DAY, 2, 0, 0)]),                 # one cell, added up
    ([(DAY, {"received": 1}), (OTHER, {"completed": 1})], [(*DAY, 1, 0, 0), (*OTHER, 0, 1, 0)]),
    ([(DAY, {"volunteer_hours": 0.1}), (DAY, {"volunteer_hours": 0.2})],                   # floats, exactly
     [(*DAY, 0, 0, Decimal("0.3000000000000000166533453693773481063544750213623046875"))]),
    ([(DAY, {"volunteer_hours": Decimal("1.25")}), (DAY, {"volunteer_hours": -0.5})],      # a report moves hours
     [(*DAY, 0, 0, Decimal("0.75"))]),
    ([(DAY, {"volunteer_hours": 1.5}), (DAY, {"volunteer_hours": -1.5})], [(*DAY, 0, 0, 0)]),  # the cell stays
    ([(DAY, {"received": 1, "volunteer_hours": 2.0}), (DAY, {"completed": 1})], [(*DAY, 1, 1, 2)]),
])
def test_a_rollup_cell_adds_up_its_increments_once_a_row(increments, rows):
    changes = CellChanges()
    for key, added in increments:
        changes.add("request_rollup", key, added)
    assert changes.rows("request_rollup", NAMES) == rows
    assert changes.rows("dispute_rollup", NAMES) == []


@pytest.mark.parametrize("seen, rows", [
    ([("volunteer", "v1"), ("volunteer", "v1")], [(*AT, "volunteer", "v1")]),              # a person once a cell
    ([("volunteer", "v2"), ("volunteer", "v1")], [(*AT, "volunteer", "v1"), (*AT, "volunteer", "v2")]),
    ([("volunteer", "p"), ("beneficiary", "p")], [(*AT, "volunteer", "p"), (*AT, "beneficiary", "p")]),
    ([], []),
])
def test_a_reach_cell_keeps_each_person_it_saw_once(seen, rows):
    changes = CellChanges()
    for kind, person in seen:
        changes.see(MONTH, kind, person)
    assert changes.people_rows() == rows


@pytest.mark.parametrize("moves, rows", [
    ([("assign", 60.0, 1), ("assign", 60.0, 1)], [(*AT, "assign", 60.0, 2)]),
    ([("assign", 60.0, -1), ("assign", 30.0, 1)], [(*AT, "assign", 60.0, -1), (*AT, "assign", 30.0, 1)]),
    ([("assign", 60.0, 1), ("assign", 60.0, -1)], [(*AT, "assign", 60.0, 0)]),            # the cell stays
    ([("assign", 60.0, 1), ("complete", 60.0, 1)], [(*AT, "assign", 60.0, 1), (*AT, "complete", 60.0, 1)]),
])
def test_a_histogram_cell_adds_up_the_moves_of_each_duration(moves, rows):
    changes = CellChanges()
    for step, seconds, delta in moves:
        changes.move(MONTH, step, seconds, delta)
    assert changes.duration_rows() == rows
