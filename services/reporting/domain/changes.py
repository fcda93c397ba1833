"""What a transaction's projections change of the cells that many events add to: the rollups'
counts, the people the reach sketches saw, the durations counted into or out of the histograms.

They are kept here while the events are projected and written once, just before the commit
(store.cells), every table in one order and each table's cells sorted: written event after event,
two transactions of a batch each took the same hot cells in their own order and deadlocked. The
projections never read these tables, so writing later changes nothing but the order.

A cell's increments are added up here, exactly: an hour count is numeric, and a float counts at
its exact binary value, as asyncpg sends it. A cell keeps every key it was given, even when its
changes cancel out, so that the same rows exist as when each change was written at once."""
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import MAX_PREC, Context, Decimal, Inexact

from services.reporting.domain.sketches import Cell as SketchCell

# Adds without rounding: an inexact sum raises instead.
_EXACT = Context(prec=MAX_PREC, traps=[Inexact])


@dataclass
class CellChanges:
    """The changes, by table and cell key (a rollup's key columns, as a tuple); a sketch cell's
    key is its month, community, category and kind (reach) or step (durations), at its own level:
    the writer adds the '*' cells."""

    counts: dict[str, dict[tuple, dict[str, Decimal]]] = field(default_factory=dict)
    people: dict[tuple, set[str]] = field(default_factory=dict)
    durations: dict[tuple, dict[float, int]] = field(default_factory=dict)

    def add(self, table: str, key: tuple, increments: Mapping[str, float | Decimal]) -> None:
        """Add the increments (count name → amount) to a rollup cell."""
        cell = self.counts.setdefault(table, {}).setdefault(key, {})
        for name, amount in increments.items():
            cell[name] = _EXACT.add(cell.get(name, Decimal(0)), Decimal(amount))

    def see(self, cell: SketchCell, kind: str, person: str) -> None:
        """A person of `kind` (volunteer, beneficiary) counts in a reach cell."""
        self.people.setdefault((cell.month, cell.community_code, cell.category, kind), set()).add(person)

    def move(self, cell: SketchCell, step: str, seconds: float, delta: int) -> None:
        """A duration to `step` counts into (delta 1) or out of (-1) a histogram cell."""
        moved = self.durations.setdefault((cell.month, cell.community_code, cell.category, step), {})
        moved[seconds] = moved.get(seconds, 0) + delta

    def rows(self, table: str, names: tuple[str, ...]) -> list[tuple]:
        """Each cell of a rollup: its key, then its sum of each count in `names` (0 if none)."""
        return [(*key, *(cell.get(name, 0) for name in names)) for key, cell in self.counts.get(table, {}).items()]

    def people_rows(self) -> list[tuple]:
        """(month, community, category, kind, person), once each."""
        return [(*key, person) for key, people in self.people.items() for person in sorted(people)]

    def duration_rows(self) -> list[tuple]:
        """(month, community, category, step, seconds, delta), the deltas of the same seconds added up."""
        return [(*key, seconds, delta) for key, moved in self.durations.items() for seconds, delta in moved.items()]
