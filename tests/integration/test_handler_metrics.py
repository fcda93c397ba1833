"""Every handler's rate, failures and latency, as the consumers count them over the real broker
and database: a message done, a duplicate, a failure retried, a poison dead-lettered at its last
delivery, a body that does not parse and one over the size limit, each under its outcome."""
import pytest
from fastapi import APIRouter
from prometheus_client import REGISTRY

import shared.consumer
from shared.consumer import Consumers, Envelope, as_event
from shared.events import RequestEscalated
from shared.service import ServiceDefinition
from shared.topology import DELIVERY_LIMIT, EVENTS
from tests.support import eventually, publish, running

pytestmark = pytest.mark.integration

SERVICE = "metered"
failures: dict[str, int] = {}


async def works(runtime, uow, envelope: Envelope) -> None:
    pass


async def fails_once(runtime, uow, envelope: Envelope) -> None:
    failures[envelope.message_id] = failures.get(envelope.message_id, 0) + 1
    if failures[envelope.message_id] == 1:
        raise RuntimeError("a bug that the second try does not meet")


async def always_fails(runtime, uow, envelope: Envelope) -> None:
    raise RuntimeError("a poison message")


async def typed(runtime, uow, event: RequestEscalated) -> None:
    pass


consumers = Consumers()
consumers.add("metered.works", EVENTS, "metered.works", works)
consumers.add("metered.fails-once", EVENTS, "metered.fails-once", fails_once)
consumers.add("metered.always-fails", EVENTS, "metered.always-fails", always_fails)
consumers.add("metered.typed", EVENTS, "metered.typed", typed, as_event(RequestEscalated), max_bytes=1024)


@pytest.fixture(scope="module")
async def metered(settings, tmp_path_factory):
    definition = ServiceDefinition(name=SERVICE, consumers=consumers, api=APIRouter(),
                                   migrations=tmp_path_factory.mktemp("migrations"))
    async with running(definition, settings) as client:
        yield client


@pytest.fixture
def no_backoff(monkeypatch):
    """Retries at once: the outcomes, not the backoff (tested with the consumer), are under test."""
    monkeypatch.setattr(shared.consumer, "retry_delay", lambda attempts: 0.0)


def handled(handler: str, outcome: str) -> float:
    return REGISTRY.get_sample_value("linli_handled_messages_total",
                                     {"service": SERVICE, "handler": handler, "outcome": outcome}) or 0.0


def timed(handler: str) -> float:
    return REGISTRY.get_sample_value("linli_handler_duration_seconds_count",
                                     {"service": SERVICE, "handler": handler}) or 0.0


async def grown(read, before: float, by: float = 1) -> bool:
    return read() >= before + by


async def test_a_message_done_and_its_duplicate_are_counted_and_timed(metered, settings):
    done, duplicate, took = handled("metered.works", "done"), handled("metered.works", "duplicate"), timed("metered.works")
    message_id = await publish(settings, "metered.works", {"n": 1}, exchange="linli.events")
    await eventually(lambda: grown(lambda: handled("metered.works", "done"), done))
    await publish(settings, "metered.works", {"n": 1}, exchange="linli.events", message_id=message_id)
    await eventually(lambda: grown(lambda: handled("metered.works", "duplicate"), duplicate))
    assert handled("metered.works", "done") == done + 1
    assert timed("metered.works") == took + 2  # the duplicate's claim is a unit of work too


async def test_a_failure_is_retried_then_done(metered, settings, no_backoff):
    retried, done = handled("metered.fails-once", "retried"), handled("metered.fails-once", "done")
    await publish(settings, "metered.fails-once", {"n": 1}, exchange="linli.events")
    await eventually(lambda: grown(lambda: handled("metered.fails-once", "done"), done))
    assert handled("metered.fails-once", "retried") == retried + 1


async def test_a_poison_message_is_retried_to_the_delivery_limit_then_dead_lettered(metered, settings, no_backoff):
    retried, dead = handled("metered.always-fails", "retried"), handled("metered.always-fails", "dead_lettered")
    took = timed("metered.always-fails")
    await publish(settings, "metered.always-fails", {"n": 1}, exchange="linli.events")
    await eventually(lambda: grown(lambda: handled("metered.always-fails", "dead_lettered"), dead))
    assert handled("metered.always-fails", "retried") == retried + DELIVERY_LIMIT
    assert timed("metered.always-fails") == took  # nothing committed: no latency to tell


async def test_a_body_that_does_not_parse_and_one_too_large_are_rejected(metered, settings):
    rejected = handled("metered.typed", "rejected")
    await publish(settings, "metered.typed", {"event_id": "not a uuid"}, exchange="linli.events")
    await publish(settings, "metered.typed", {"padding": "x" * 2048}, exchange="linli.events")
    await eventually(lambda: grown(lambda: handled("metered.typed", "rejected"), rejected, by=2))
    assert handled("metered.typed", "done") == 0 and handled("metered.typed", "retried") == 0

