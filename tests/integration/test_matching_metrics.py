"""matching's metrics over the real servers, on a clock the test moves: how late its timers run
and when it last looked, the escalation backlog, and a request's stage latencies, observed once
per request and stage however often a message comes; and its /metrics serves them all."""
from datetime import timedelta

import pytest
from prometheus_client import REGISTRY

from services.matching import timers
from services.matching.app import SERVICE
from services.matching.timers import tick
from shared.events import RequestCancelled
from shared.metrics import Pace
from tests.builders.matching import answer, community, done, received, registered
from tests.clock import SetClock
from tests.support import announce, announced_and_handled, enrol, event_tap, running

pytestmark = pytest.mark.integration

TIMEOUT = timedelta(seconds=60)


def quiet_clock(settings):
    """Timers that look once at the start and then only when the test calls `tick`."""
    return settings.model_copy(update={"matching_offer_timeout_seconds": TIMEOUT.total_seconds(),
                                       "matching_clock_seconds": 3600.0})


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_the_clock_s_lag_its_last_look_and_the_escalation_backlog(fresh_settings, monkeypatch):
    monkeypatch.setattr(timers, "BACKLOG_PACE", Pace(0))  # counted at every look, for the test
    settings, clock, place = quiet_clock(fresh_settings), SetClock(), community()
    async with running(SERVICE, settings, clock=clock) as client, event_tap(settings) as tap:
        matching = client.app.state.deps
        await enrol(client, settings, registered(place, "cooking"))
        await announce(settings, received(place, "elder_care.meals"))
        await tap.wait_for("assignment.offered")
        looked = value("linli_matching_clock_tick_timestamp_seconds")
        await tick(matching)
        assert value("linli_matching_clock_lag_seconds") == 0.0  # the offer runs for a minute yet
        assert value("linli_matching_clock_tick_timestamp_seconds") > looked
        assert value("linli_escalation_backlog") == 0
        clock.advance(TIMEOUT + timedelta(seconds=30))
        await tick(matching)  # finds the offer 30 s overdue, expires it, and nobody else can take it
        assert value("linli_matching_clock_lag_seconds") == 30.0
        [escalated] = await tap.wait_for("request.escalated")
        await tick(matching)
        assert value("linli_matching_clock_lag_seconds") == 0.0
        assert value("linli_escalation_backlog") == 1
        await announced_and_handled(client, "matching", settings, RequestCancelled(
            correlation_id="cancel", request_id=escalated["request_id"], source=escalated["source"],
            external_id=escalated["external_id"], category=escalated["category"], community_code=place))
        await tick(matching)
        assert value("linli_escalation_backlog") == 0  # the staff need not act on it any more


def duplicate_answers() -> tuple[float, float]:
    return tuple(value("linli_handled_messages_total", service="matching", handler=handler, outcome="duplicate")
                 for handler in ("matching.assignment-responded", "matching.completion-reported"))


async def test_a_request_s_stage_latencies_are_observed_once_each(fresh_settings):
    settings, clock, place = quiet_clock(fresh_settings), SetClock(), community()
    stages = ("received_to_offered", "offered_to_accepted", "accepted_to_completed")
    count = {stage: value("linli_request_stage_seconds_count", stage=stage) for stage in stages}
    total = {stage: value("linli_request_stage_seconds_sum", stage=stage) for stage in stages}
    async with running(SERVICE, settings, clock=clock) as client, event_tap(settings) as tap:
        await enrol(client, settings, registered(place, "cooking"))
        await announce(settings, received(place, "elder_care.meals", occurred_at=clock.now() - timedelta(minutes=2)))
        [offer] = await tap.wait_for("assignment.offered")
        clock.advance(timedelta(minutes=10))
        accepted = answer(offer, accept=True)
        await announced_and_handled(client, "matching", settings, accepted)
        clock.advance(timedelta(hours=1))
        reported = done(offer)
        await announced_and_handled(client, "matching", settings, reported)
        await tap.wait_for("request.completed")
        duplicates = duplicate_answers()
        for again in (accepted, reported):  # redelivered: claimed already, nothing observed
            await announced_and_handled(client, "matching", settings, again)
        assert duplicate_answers() == (duplicates[0] + 1, duplicates[1] + 1)
        served = (await client.get("/metrics")).text
    assert {stage: value("linli_request_stage_seconds_count", stage=stage) - count[stage] for stage in stages} == \
        dict.fromkeys(stages, 1)
    assert {stage: value("linli_request_stage_seconds_sum", stage=stage) - total[stage] for stage in stages} == \
        {"received_to_offered": 120.0, "offered_to_accepted": 600.0, "accepted_to_completed": 3600.0}
    for name in ("linli_handled_messages_total", "linli_handler_duration_seconds_bucket",
                 "linli_matching_clock_lag_seconds", "linli_matching_clock_tick_timestamp_seconds",
                 "linli_request_stage_seconds_bucket", "linli_escalation_backlog", "linli_outbox_lag_seconds"):
        assert f"\n{name}" in served, name
