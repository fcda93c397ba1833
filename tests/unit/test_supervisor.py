"""The supervisor's rules: how long it waits before starting a dead service again, and the names
and ports of the replicas it runs."""
import pytest

from services.supervisor import arguments, deaths_in_a_row, replicas_of, restart_delay


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


def test_one_process_of_each_service_keeps_the_services_names_and_ports():
    assert replicas_of(("intake", "matching"), 1, {"intake": 8001, "matching": 8002}) == \
           [("intake", "intake", 8001), ("matching", "matching", 8002)]


def test_replica_k_is_named_after_its_service_and_listens_ten_ports_further():
    assert replicas_of(("intake", "matching"), 3, {"intake": 8001, "matching": 8002}) == [
        ("intake", "intake-1", 8001), ("matching", "matching-1", 8002),
        ("intake", "intake-2", 8011), ("matching", "matching-2", 8012),
        ("intake", "intake-3", 8021), ("matching", "matching-3", 8022)]


@pytest.mark.parametrize("argv", [["--replicas", "0"], ["--replicas", "two"], ["billing"]])
def test_a_bad_command_line_is_refused_with_a_clear_message(argv, capsys):
    with pytest.raises(SystemExit) as refused:
        arguments(argv)
    assert refused.value.code == 2
    assert "python -m services run: error:" in capsys.readouterr().err


def test_the_command_line_names_services_and_replicas():
    args = arguments(["matching", "notify", "--replicas", "2"])
    assert (args.services, args.replicas) == (["matching", "notify"], 2)
