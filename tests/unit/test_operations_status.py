"""`linli status`: what needs attention, from the facts alone; and the facts read from the
management API's queues and a service's Prometheus text."""
from dataclasses import replace

import pytest

from operations.reach import SERVICE_NAMES
from operations.status import (QueueStatus, ServiceStatus, concerns_of_queue, concerns_of_service, document, gauge,
                               queue_statuses)

HEALTHY = ServiceStatus("matching", "http://m", answers=True, ready=True, version="0.1.0", outbox_lag=0.0,
                        clock_lag=1.0)
BUSY = QueueStatus("matching.request-received", ready=3, unacked=1, consumers=1, publish_rate=2.0,
                   deliver_rate=2.0, dlq=0)


def test_a_ready_service_with_small_lags_needs_nothing():
    assert concerns_of_service(HEALTHY) == []


@pytest.mark.parametrize("change, concern", [
    ({"answers": False, "ready": False}, "matching does not answer at http://m"),
    ({"ready": False}, "matching is not ready"),
    ({"outbox_lag": 30.5}, "matching's outbox lags 30s (over 30s)"),
    ({"clock_lag": 61.0}, "matching's clock lags 61s (over 60s)"),
])
def test_a_service_needs_attention_when_down_not_ready_or_lagging(change, concern):
    assert concerns_of_service(replace(HEALTHY, **change)) == [concern]


def test_unknown_lags_are_not_a_concern_and_limits_are_not_crossed_at_the_limit():
    assert concerns_of_service(ServiceStatus("notify", "u", True, True, outbox_lag=None, clock_lag=None)) == []
    assert concerns_of_service(ServiceStatus("matching", "u", True, True, outbox_lag=30.0, clock_lag=60.0)) == []


def test_a_work_queue_needs_consumers_and_an_empty_dlq():
    assert concerns_of_queue(BUSY) == []
    idle = QueueStatus(BUSY.name, 0, 0, consumers=0, publish_rate=0, deliver_rate=0, dlq=2)
    assert concerns_of_queue(idle) == ["matching.request-received has no consumers",
                                       "matching.request-received.dlq holds 2 dead letter(s)"]


def test_an_unrouted_queue_needs_no_consumers_but_must_be_empty():
    assert concerns_of_queue(QueueStatus("linli.unrouted", 0, 0, 0, 0, 0, dlq=None)) == []
    assert concerns_of_queue(QueueStatus("linli.unrouted", 4, 0, 0, 0, 0, dlq=None)) == [
        "linli.unrouted holds 4 event(s) nobody was bound for"]


def test_each_dlq_sits_beside_its_queue_with_the_rates_in_and_out():
    listed = [{"name": "reporting.request-received.dlq", "messages": 5},
              {"name": "reporting.request-received", "messages_ready": 7, "messages_unacknowledged": 2,
               "consumers": 1, "message_stats": {"publish_details": {"rate": 4.5},
                                                 "deliver_get_details": {"rate": 4.0}}},
              {"name": "linli.unrouted", "messages_ready": 0, "consumers": 0}]
    assert queue_statuses(listed) == [
        QueueStatus("linli.unrouted", 0, 0, 0, 0.0, 0.0, None),
        QueueStatus("reporting.request-received", 7, 2, 1, 4.5, 4.0, 5)]


def test_a_gauge_is_read_from_prometheus_text_and_an_absent_one_is_unknown():
    text = ("# HELP linli_outbox_lag_seconds Age\n# TYPE linli_outbox_lag_seconds gauge\n"
            "linli_outbox_lag_seconds 42.5\n")
    assert gauge(text, "linli_outbox_lag_seconds") == 42.5
    assert gauge(text, "linli_matching_clock_lag_seconds") is None and gauge("", "x") is None


def test_the_json_document_has_the_same_facts_and_what_needs_attention():
    facts = document([HEALTHY], [QueueStatus("q", 0, 0, 0, 0, 0, dlq=1)])
    assert facts["services"][0]["version"] == "0.1.0" and facts["queues"][0]["dlq"] == 1
    assert facts["attention"] == ["q has no consumers", "q.dlq holds 1 dead letter(s)"]


def test_the_command_knows_every_service():
    from services.deployment import SERVICES
    assert SERVICE_NAMES == tuple(service.name for service in SERVICES)
