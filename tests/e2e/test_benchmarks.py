"""Every benchmark of `make bench` runs to the end at its tiny size (BENCH_SIZE=tiny), as one
`python -m bench`, and says something sensible: positive rates, every request accounted for. The
run starts with the first test and goes on beside the others (tests/benchmark_run.py); these
checks come last."""
import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]  # waiting for the run's end

BENCHMARKS = {"pipeline", "full_cycle", "latency", "burst", "matching_decision", "matching_burst", "notify_delivery",
              "reporting_summary"}


@pytest.fixture(scope="module")
def report(benchmarks) -> dict:
    return benchmarks.report()


def accounted(run: dict, *ends: str) -> None:
    assert run["requests"] > 0 and run["requests_per_second"] > 0 and run["seconds"] > 0
    assert sum(run[end] for end in ends) == run["requests"], run


def test_every_benchmark_ran(report):
    assert set(report) == BENCHMARKS


def test_two_hops_offered_every_request_with_one_and_two_processes_and_the_peer(report):
    pipeline = report["pipeline"]
    for run in (pipeline["one_process_each"], pipeline["one_process_each_unbatched"], pipeline["two_processes_each"]):
        assert run["offered"] == run["requests"] > 0 and run["requests_per_second"] > 0
        assert all(0 < mb for mb in run["peak_rss_mb"].values())
        cpu = run["cpu_ms_per_request"]
        assert set(cpu) == {*run["peak_rss_mb"], "postgresql", "rabbitmq", "all"} and cpu["matching"] > 0
    assert pipeline["bare_faststream_peer"]["requests_per_second"] > 0
    assert pipeline["raw_broker_messages_per_second"] > 0 and pipeline["two_processes_to_one"] > 0
    assert 0 < pipeline["ratio_to_raw_broker"] and 0 < pipeline["ratio_to_peer"] and 0 < pipeline["batched_to_unbatched"]


def test_the_full_cycle_completed_or_escalated_every_request_with_one_process_each(report):
    """Two processes of each run at full size only (at tiny, the two-hop benchmark's do)."""
    cycle = report["full_cycle"]
    run = cycle["one_process_each"]
    accounted(run, "completed", "escalated")
    assert run["completed"] <= run["assigned"]
    assert set(run["peak_rss_mb"]) >= {"intake", "matching", "notify", "reporting"}
    assert set(run["cpu_ms_per_request"]) >= {"intake", "matching", "notify", "reporting", "postgresql", "all"}
    assert cycle["two_processes_each"] is None and cycle["two_processes_to_one"] is None
    assert cycle["ratio_to_peer"] > 0
    assert cycle["bare_faststream_peer"]["requests_per_second"] > 0


def test_latency_was_measured_for_every_request_and_every_published_event(report):
    latency = report["latency"]
    offered, confirmed = latency["submission_to_offered"], latency["outbox_commit_to_confirmed"]
    assert offered["count"] == latency["rate_per_second"] * latency["seconds"] and latency["not_offered_within_wait"] == 0
    assert latency["offered_per_second"] > 0
    assert confirmed["count"] >= offered["count"] * 2  # at least each request.received and its offer
    by_key = latency["outbox_commit_to_confirmed_by_routing_key"]
    assert by_key["request.received"]["count"] == by_key["assignment.offered"]["count"] == offered["count"]
    assert sum(figures["count"] for figures in by_key.values()) == confirmed["count"]
    for figures in (offered, confirmed):
        assert 0 <= figures["p50_ms"] <= figures["p99_ms"] <= figures["max_ms"]


def test_the_burst_decided_every_request_and_told_staff_of_a_backlog_not_of_each(report):
    burst = report["burst"]
    assert burst["assigned"] + burst["escalated"] == burst["requests"] and burst["escalated"] > 0
    told, held = burst["staff_messages"], burst["escalations_in_backlog_messages"]
    assert burst["staff_told_of_every_escalation"] and told.get("escalation", 0) + held == burst["escalated"]
    assert 0 < told.get("backlog", 0) and told["escalation"] + told["backlog"] < burst["escalated"] / 2


def test_the_matching_decision_was_timed_at_every_roster_size_reading_the_index(report):
    sizes = report["matching_decision"]["volunteers"]
    assert len(sizes) >= 2
    for size in sizes.values():
        assert 0 < size["median_ms"] <= size["p90_ms"] and size["uses_index"]


def test_burst_staffing_filled_places_both_ways(report):
    burst = report["matching_burst"]
    assert burst["places_filled"]["batch"] >= burst["places_filled"]["greedy"] > 0
    assert all(ms > 0 for ms in burst["median_ms_per_burst"].values())
    big = burst["big_burst"]
    assert big["places_filled"]["batch"] >= big["places_filled"]["greedy"] > 0
    assert big["total_score_batch_to_greedy"] >= 1 and all(ms > 0 for ms in big["ms"].values())


def test_notify_delivered_every_offer_on_every_channel(report):
    notify = report["notify_delivery"]
    assert notify["raw_broker_messages_per_second"] > 0
    for name in ("inbox", "inbox_and_webhook", "inbox_and_webhook_answering_in_0.2s"):
        run = notify[name]
        assert run["offers"] > 0 and run["offers_per_second"] > 0 and run["notifications"] >= run["offers"]
        assert 0 < run["notify_rss_mb"] <= run["notify_peak_rss_mb"] and run["notify_cpu_ms_per_offer"] > 0


def test_reporting_summed_every_size_from_the_rollup(report):
    reporting = report["reporting_summary"]
    assert len(reporting["services"]) == 2
    for size in reporting["services"].values():
        assert size["completed_in_year"] > 0 and size["rollup_rows"] > size["month_rollup_rows"] > 0
        assert "request_month_rollup" in size["headline_reads"]  # a year's whole months
        assert all("met" in size[name] for name in ("headline_year", "full_summary_year", "by_community_year"))
        assert all(size[name]["median_ms"] > 0 for name in ("headline_year", "full_summary_month"))
