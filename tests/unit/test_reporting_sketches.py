"""The sketches' rules (domain.sketches), no servers: HyperLogLog counts within its error on
known sets and merges as a union; histogram percentiles stay within their bound of the exact
ones; what an event changes of an occurrence goes into the sketches once, whatever the order."""
import hashlib
import random
import uuid
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from services.reporting.domain.figures import percentile
from services.reporting.domain.sketches import (BUCKETS, GAMMA, RELATIVE_ERROR, STANDARD_ERROR, Cell, Histogram,
                                                Occurrence, bucket_of, distinct, duration_changes, people_served,
                                                registers_of, value_of)


def people(count: int, start: int = 0) -> list[str]:
    return [f"person-{n}" for n in range(start, start + count)]


def slot_of(person: str) -> tuple[int, int]:
    """A register and rank as SQL's hll_slot makes them, of another 64-bit hash (md5's first bits):
    the estimates depend on the hash being uniform, not on which one."""
    bits = int.from_bytes(hashlib.md5(person.encode()).digest()[:8], "big")
    rest = bits & ((1 << 52) - 1)
    return bits >> 52, 52 - rest.bit_length() + 1


@pytest.mark.parametrize("count", [1, 10, 100, 1_000, 10_000, 100_000])
def test_a_distinct_count_is_within_four_standard_errors(count):
    estimate = distinct(registers_of(map(slot_of, people(count))))
    assert abs(estimate - count) <= max(1, 4 * STANDARD_ERROR * count)


def test_small_sets_count_exactly():
    assert [distinct(registers_of(map(slot_of, people(n)))) for n in (0, 1, 2, 5, 40)] == [0, 1, 2, 5, 40]


def test_merged_registers_count_the_union_and_the_same_person_once():
    first, second = people(30_000), people(30_000, start=20_000)  # 10,000 in both
    stored = [registers_of(map(slot_of, part)).tobytes() for part in (first, second)]
    merged = registers_of((), stored)
    assert np.array_equal(merged, registers_of(map(slot_of, first + second)))
    assert np.array_equal(registers_of(map(slot_of, second[:10]), stored[:1]), registers_of(map(slot_of, first + second[:10])))
    assert abs(distinct(merged) - 50_000) <= 4 * STANDARD_ERROR * 50_000


@pytest.mark.parametrize("seconds", [1.5, 59, 3600, 86_400 * 3, 3e7])
def test_a_bucket_stands_for_its_durations_within_the_relative_error(seconds):
    assert abs(value_of(bucket_of(seconds)) - seconds) <= RELATIVE_ERROR * seconds


def test_durations_under_a_second_and_beyond_the_last_bucket():
    assert [bucket_of(s) for s in (-30, 0, 1)] == [0, 0, 0] and value_of(0) == 0
    assert bucket_of(GAMMA ** 2000) == BUCKETS - 1


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("fraction", [0.5, 0.9])
def test_a_percentile_from_the_histogram_is_within_its_bound_of_the_exact_one(seed, fraction):
    rng = random.Random(seed)
    seconds = [rng.lognormvariate(8, 2) for _ in range(rng.choice([1, 2, 7, 500, 20_000]))]
    exact, estimate = percentile(seconds, fraction), Histogram(seconds=seconds).percentile(fraction)
    assert abs(estimate - exact) <= RELATIVE_ERROR * exact + 1


def test_histograms_merge_by_adding_stored_counts():
    seconds = [30.0, 60.0, 90.0, 120.0, 7200.0]
    stored = [Histogram(seconds=part).counts.astype(">i4").tobytes() for part in (seconds[:2], seconds[2:])]
    assert np.array_equal(Histogram(stored).counts, Histogram(seconds=seconds).counts)
    assert len(Histogram(stored, [5.0])) == 6 and Histogram().percentile(0.5) is None


REQUEST = uuid.uuid4()
RECEIVED = datetime(2026, 3, 2, 2, tzinfo=UTC)


def occurrence(received=True, beneficiary="b-1", number=1, assigned=None, completed=None, handled=None) -> Occurrence:
    """An occurrence received at RECEIVED (or not yet), with steps `hours` after it."""
    def step(hours):
        return (None, None) if hours is None else (RECEIVED + timedelta(hours=hours),
                                                   (RECEIVED + timedelta(hours=hours)).date())
    (assigned_at, assigned_day), (completed_at, completed_day) = step(assigned), step(completed)
    return Occurrence(REQUEST, number, "c-1", "elder_care.meals", RECEIVED if received else None,
                      beneficiary if received else None, assigned_at, assigned_day, completed_at, completed_day,
                      step(handled)[1])


MARCH = Cell(date(2026, 3, 1), "c-1", "elder_care.meals")
APRIL = Cell(date(2026, 4, 1), "c-1", "elder_care.meals")


@pytest.mark.parametrize("before, after, served", [
    (None, occurrence(completed=2), [(MARCH, "b-1")]),                                    # received first
    (None, occurrence(received=False, completed=2), []),                                  # completed first ...
    (occurrence(received=False, completed=2), occurrence(completed=2), [(MARCH, "b-1")]),  # ... then received
    (occurrence(completed=2), occurrence(completed=2), []),                                # told again
    (occurrence(assigned=1), occurrence(assigned=1, completed=24 * 40), [(APRIL, "b-1")]),
    (None, occurrence(beneficiary=None, handled=3), [(MARCH, str(REQUEST))]),            # no one named: its own file
    (occurrence(received=False), occurrence(), []),                                       # not served yet
])
def test_a_case_file_counts_once_the_occurrence_is_served_and_its_receipt_known(before, after, served):
    assert people_served(before, after) == served


@pytest.mark.parametrize("before, after, changes", [
    (None, occurrence(assigned=1), [(MARCH, "assign", 3600.0, 1)]),
    (None, occurrence(received=False, assigned=1), []),                                          # receipt unknown
    (occurrence(received=False, assigned=1, completed=2), occurrence(assigned=1, completed=2),
     [(MARCH, "assign", 3600.0, 1), (MARCH, "complete", 7200.0, 1)]),                            # receipt came last
    (occurrence(assigned=2), occurrence(assigned=1), [(MARCH, "assign", 7200.0, -1), (MARCH, "assign", 3600.0, 1)]),
    (occurrence(assigned=1), occurrence(assigned=1, completed=2), [(MARCH, "complete", 7200.0, 1)]),
    (None, occurrence(number=2, assigned=1), []),                                                # first occurrences only
])
def test_a_duration_counts_once_both_ends_are_known_and_moves_with_an_earlier_time(before, after, changes):
    assert duration_changes(before, after) == changes
