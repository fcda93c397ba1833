"""Volunteers as columns of numbers, for a burst (domain/staffing.py): what the burst weighs
(scoring.Pairs) and the caps it keeps, read once per volunteer where the volunteers are read
(`Columns.of`), so that a burst whose tasks share their candidates (a community's roster,
read once) never walks them one object at a time. The objects are kept, and read only for the
volunteers offered."""
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from uuid import UUID

import numpy as np

from services.matching.domain.model import Volunteer

# A volunteer id's 16 bytes: numpy orders them as the ids' integers.
KEY = "V16"


def keys(ids: Iterable[UUID]) -> np.ndarray:
    return np.frombuffer(b"".join(i.bytes for i in ids), dtype=KEY)


@dataclass(frozen=True, eq=False)
class Coded:
    """A column of values as numbers: the same value, the same code; `values[code]` is the value."""

    codes: np.ndarray
    values: tuple

    @classmethod
    def of(cls, column: Iterable) -> "Coded":
        numbers = {}
        codes = np.array([numbers.setdefault(value, len(numbers)) for value in column], dtype=np.intp)
        return cls(codes, tuple(numbers))

    @classmethod
    def joined(cls, parts: Sequence["Coded"]) -> "Coded":
        """The parts one after another, coded alike."""
        numbers = {}
        codes = [np.array([numbers.setdefault(value, len(numbers)) for value in part.values] or [0],
                          dtype=np.intp)[part.codes] for part in parts]
        return cls(np.concatenate(codes), tuple(numbers))

    def take(self, rows: np.ndarray) -> "Coded":
        return Coded(self.codes[rows], self.values)


@dataclass(frozen=True, eq=False)
class Columns:
    """Volunteers (`people`, in rows) as the columns a burst reads."""

    people: Sequence[Volunteer]
    key: np.ndarray
    open: np.ndarray  # open assignments
    spare_hours: np.ndarray  # max_weekly_hours - week_hours
    recent: np.ndarray  # recent_hours
    place: np.ndarray  # (lat, lon) in degrees, 0 where unknown
    located: np.ndarray
    skills: Coded  # of frozensets
    languages: Coded  # of frozensets
    community: Coded
    grid: Coded

    @classmethod
    def of(cls, people: Sequence[Volunteer]) -> "Columns":
        def numbers(read, dtype=float) -> np.ndarray:
            return np.fromiter(map(read, people), dtype=dtype, count=len(people))

        places = [v.location for v in people]
        return cls(
            people, keys(v.volunteer_id for v in people), numbers(lambda v: v.open_assignments, np.int64),
            numbers(lambda v: v.max_weekly_hours - v.week_hours), numbers(lambda v: v.recent_hours),
            np.array([place or (0.0, 0.0) for place in places], dtype=float).reshape(-1, 2),
            np.array([place is not None for place in places], dtype=bool),
            Coded.of(v.skills for v in people), Coded.of(v.languages for v in people),
            Coded.of(v.community_code for v in people), Coded.of(v.grid_code for v in people))

    @classmethod
    def joined(cls, parts: Sequence["Columns"]) -> tuple["Columns", np.ndarray]:
        """The parts' rows one after another, and where each part starts; `people` stays with
        the parts (`Joined`)."""
        starts = np.cumsum([0] + [len(part.key) for part in parts])
        def stack(name):
            return np.concatenate([getattr(part, name) for part in parts])

        def coded(name):
            return Coded.joined([getattr(part, name) for part in parts])

        return cls(_Joined(parts, starts), stack("key"), stack("open"), stack("spare_hours"), stack("recent"),
                   stack("place").reshape(-1, 2), stack("located"), coded("skills"), coded("languages"),
                   coded("community"), coded("grid")), starts[:-1]

    def take(self, rows: np.ndarray) -> "Columns":
        """The volunteers of `rows`, in that order."""
        return Columns(_Taken(self.people, rows), self.key[rows], self.open[rows], self.spare_hours[rows],
                       self.recent[rows], self.place[rows], self.located[rows], self.skills.take(rows),
                       self.languages.take(rows), self.community.take(rows), self.grid.take(rows))


class _Joined(Sequence):
    """The people of several parts as one sequence, without copying them."""

    def __init__(self, parts: Sequence[Columns], starts: np.ndarray):
        self.parts, self.starts = parts, starts.tolist()

    def __len__(self) -> int:
        return self.starts[-1]

    def __getitem__(self, row: int) -> Volunteer:
        part = bisect_right(self.starts, row) - 1
        return self.parts[part].people[row - self.starts[part]]


class _Taken(Sequence):
    def __init__(self, people: Sequence[Volunteer], rows: np.ndarray):
        self.people, self.rows = people, rows

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, row: int) -> Volunteer:
        return self.people[int(self.rows[row])]


@dataclass(frozen=True, eq=False)
class Candidates:
    """Some rows of `columns`: the volunteers able to take one task."""

    columns: Columns
    rows: np.ndarray

    @classmethod
    def of(cls, people: Sequence[Volunteer]) -> "Candidates":
        return cls(Columns.of(people), np.arange(len(people)))

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[Volunteer]:
        return (self.columns.people[int(row)] for row in self.rows)

    def __contains__(self, volunteer: Volunteer) -> bool:
        return bool((self.columns.key[self.rows] == keys([volunteer.volunteer_id])[0]).any())

    def only(self, volunteer_id: UUID) -> "Candidates":
        """This volunteer alone, if among them (else none)."""
        return Candidates(self.columns, self.rows[self.columns.key[self.rows] == keys([volunteer_id])[0]])
