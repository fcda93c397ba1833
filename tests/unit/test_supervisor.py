"""The supervisor's backoff: how long it waits before starting a dead service again."""
import pytest

from services.supervisor import deaths_in_a_row, restart_delay


@pytest.mark.parametrize(("deaths", "seconds"), [(1, 1.0), (2, 2.0), (3, 4.0), (5, 16.0), (6, 30.0), (40, 30.0)])
def test_the_delay_doubles_up_to_its_cap(deaths, seconds):
    assert restart_delay(deaths, base=1.0, cap=30.0) == seconds


@pytest.mark.parametrize(("before", "uptime", "after"), [
    (0, 0.5, 1),    # the first death
    (3, 2.0, 4),    # died again soon after its restart: the backoff grows
    (3, 30.0, 1),   # had run for the stable time: a fresh start
    (7, 600.0, 1),
])
def test_a_service_that_stayed_up_starts_its_backoff_anew(before, uptime, after):
    assert deaths_in_a_row(before, uptime, stable=30.0) == after
