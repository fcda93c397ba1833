"""The figures that cannot be added up from counts, kept so that they can be merged: distinct
people as HyperLogLog registers, durations as log-spaced histograms (migration 0008 keeps them
per city month, community and category, with the same constants as here).

Both are estimates, with these bounds:
- a distinct count (active volunteers, case files, households visited) has a standard error of
  1.04 / √4096 = 1.6% (within 3.3% 19 times in 20); under about 10,000 people the registers count
  by linear counting, whose error is smaller still (about 1% at 1,000), and a few dozen people come
  out exact unless two of them fall in the same register;
- a duration percentile lies within 1% of the exact one (PostgreSQL's percentile_cont over the
  same durations), or within 1 s for durations under a second.

Which occurrences and people they count, and how events that arrive in any order change them
(`people_served`, `duration_changes`), is decided here from an occurrence before and after an event."""
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np

PRECISION = 12
REGISTERS = 1 << PRECISION
STANDARD_ERROR = 1.04 / math.sqrt(REGISTERS)
_ALPHA = 0.7213 / (1 + 1.079 / REGISTERS)

RELATIVE_ERROR = 0.01
GAMMA = (1 + RELATIVE_ERROR) / (1 - RELATIVE_ERROR)
BUCKETS = 870  # the last holds everything from GAMMA ** 868 s, about 400 days

# What each estimated figure is, for the reader of a report.
ESTIMATES = {
    name: f"HyperLogLog estimate, standard error {STANDARD_ERROR:.1%}"
    for name in ("active_volunteers", "case_files", "households_visited")
} | {
    f"{kind}_minutes_to_{step}": f"from a histogram: within {RELATIVE_ERROR:.0%} of the exact value (or 1 s)"
    for kind in ("median", "p90") for step in ("assign", "complete")
}


def registers_of(slots: Iterable[Sequence[int]], merged: Iterable[bytes] = ()) -> np.ndarray:
    """The registers of the people in `slots` ({register, rank} each, as SQL's hll_slot gives them)
    and of the sketches `merged`."""
    registers = np.zeros(REGISTERS, dtype=np.uint8)
    for sketch in merged:
        np.maximum(registers, np.frombuffer(sketch, dtype=np.uint8), out=registers)
    pairs = np.asarray(list(slots), dtype=np.int64).reshape(-1, 2)
    np.maximum.at(registers, pairs[:, 0], pairs[:, 1].astype(np.uint8))
    return registers


def distinct(registers: np.ndarray) -> int:
    """HyperLogLog's estimate of how many people the registers saw (linear counting while many
    registers are empty; 64-bit hashes need no correction at the top)."""
    empty = int(np.count_nonzero(registers == 0))
    raw = _ALPHA * REGISTERS * REGISTERS / float(np.sum(np.exp2(-registers.astype(np.float64))))
    if raw <= 2.5 * REGISTERS and empty:
        return round(REGISTERS * math.log(REGISTERS / empty))
    return round(raw)


def bucket_of(seconds: float) -> int:
    """The histogram bucket of a duration, as SQL's duration_bucket."""
    if seconds <= 1:
        return 0
    return min(math.ceil(math.log(seconds) / math.log(GAMMA)), BUCKETS - 1)


def value_of(bucket: int) -> float:
    """The value a bucket stands for: 0 for the first, else the middle that is within
    RELATIVE_ERROR of every duration the bucket holds."""
    return 0.0 if bucket == 0 else 2 * GAMMA ** bucket / (GAMMA + 1)


class Histogram:
    """How many durations fell in each bucket; merged by adding."""

    def __init__(self, counts: Iterable[bytes] = (), seconds: Iterable[float] = ()) -> None:
        self.counts = np.zeros(BUCKETS, dtype=np.int64)
        for stored in counts:
            self.counts += np.frombuffer(stored, dtype=">i4")
        np.add.at(self.counts, [bucket_of(value) for value in seconds], 1)

    def __len__(self) -> int:
        return int(self.counts.sum())

    def percentile(self, fraction: float) -> float | None:
        """As domain.figures.percentile (interpolated between the two nearest ranks), each rank's
        value read as its bucket's value; None when empty."""
        total = len(self)
        if not total:
            return None
        rank = fraction * (total - 1)
        ends = np.cumsum(self.counts)
        low, high = (value_of(int(np.searchsorted(ends, r, side="right"))) for r in (math.floor(rank), math.ceil(rank)))
        return low + (high - low) * (rank - math.floor(rank))


@dataclass(frozen=True)
class Occurrence:
    """What the sketches need of an occurrence (a row of occurrence_fact)."""

    request_id: object
    occurrence: int
    community_code: str
    category: str
    received_at: datetime | None
    beneficiary: str | None
    assigned_at: datetime | None = None
    assigned_day: date | None = None
    completed_at: datetime | None = None
    completed_day: date | None = None
    handled_day: date | None = None

    def person(self) -> str:
        """The case file it serves: its beneficiary, else the request itself."""
        return self.beneficiary or str(self.request_id)


@dataclass(frozen=True)
class Cell:
    month: date
    community_code: str
    category: str


def _cell(occurrence: Occurrence, day: date) -> Cell:
    return Cell(day.replace(day=1), occurrence.community_code, occurrence.category)


def people_served(before: Occurrence | None, after: Occurrence) -> list[tuple[Cell, str]]:
    """The case files to add once an event changed an occurrence: on each day it was served
    (completed, handled by staff), once its request's receipt is known, which ever came first.
    A person is never taken out of a month (registers only grow): an occurrence told served on
    two days counts on both."""
    if after.received_at is None:
        return []
    known = before is not None and before.received_at is not None
    return [(_cell(after, day), after.person()) for step in ("completed_day", "handled_day")
            if (day := getattr(after, step)) is not None and not (known and getattr(before, step) == day)]


STEPS = {"assign": "assigned", "complete": "completed"}


def _duration(occurrence: Occurrence | None, step: str) -> tuple[Cell, float] | None:
    at = None if occurrence is None else getattr(occurrence, f"{STEPS[step]}_at")
    if at is None or occurrence.received_at is None or occurrence.occurrence != 1:
        return None
    return _cell(occurrence, getattr(occurrence, f"{STEPS[step]}_day")), (at - occurrence.received_at).total_seconds()


def duration_changes(before: Occurrence | None, after: Occurrence) -> list[tuple[Cell, str, float, int]]:
    """What to count out of (-1) and into (+1) the histograms when an event changed a first
    occurrence: the seconds from receipt to each step, once both are known; an earlier time told
    later moves the duration."""
    changes = []
    for step in STEPS:
        old, new = _duration(before, step), _duration(after, step)
        if old == new:
            continue
        if old is not None:
            changes.append((old[0], step, old[1], -1))
        if new is not None:
            changes.append((new[0], step, new[1], 1))
    return changes
