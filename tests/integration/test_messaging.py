"""The foundation against the real RabbitMQ and PostgreSQL: outbox, idempotent claims, and
what a consumer does with a message that fails."""
import asyncio
import uuid

import aio_pika
import pytest
from fastapi import APIRouter

from shared.consumer import Consumers, Envelope, as_event
from shared.events import RequestEscalated
from shared.database import create_pool, migrate
from shared.outbox import OutboxRelay
from shared.service import ServiceDefinition
from shared.topology import DELIVERY_LIMIT, EVENTS
from shared.unit_of_work import UnitOfWork
from tests.support import event_tap, eventually, publish, running
from tests.servers import CONNECT_TIMEOUT

pytestmark = pytest.mark.integration

seen: dict[str, list[str]] = {"flaky": [], "broken": [], "typed": []}


async def flaky(runtime, uow, envelope: Envelope) -> None:
    """Fails the first two deliveries of each message, then works."""
    seen["flaky"].append(envelope.message_id)
    if seen["flaky"].count(envelope.message_id) <= 2:
        raise ConnectionError("database went away")


async def broken(runtime, uow, envelope: Envelope) -> None:
    seen["broken"].append(envelope.message_id)
    raise RuntimeError("a bug")


async def typed(runtime, uow, event: RequestEscalated) -> None:
    seen["typed"].append(str(event.event_id))


consumers = Consumers()
consumers.add("probe.flaky", EVENTS, "probe.flaky", flaky)
consumers.add("probe.broken", EVENTS, "probe.broken", broken)
consumers.add("probe.typed", EVENTS, "probe.typed", typed, as_event(RequestEscalated))


@pytest.fixture(scope="module")
async def probe(settings, tmp_path_factory):
    """A service with the shared messaging tables and no migrations of its own."""
    probe = ServiceDefinition(name="probe", consumers=consumers, api=APIRouter(),
                              migrations=tmp_path_factory.mktemp("migrations"))
    async with running(probe, settings) as client:
        yield client.app.state.runtime


def escalation(**changes) -> RequestEscalated:
    return RequestEscalated(correlation_id="corr-1", request_id=uuid.uuid4(), source="s", external_id="e",
                            category="housekeeping", community_code="c1", reason="nobody", urgency="normal",
                            **changes)


async def test_committed_events_are_published_persistent_with_the_event_id(probe, settings):
    event = escalation()
    async with event_tap(settings) as tap:
        async with probe.unit_of_work() as uow:
            await uow.emit(event)
        [heard] = [h for h in await _wait_heard(tap, "request.escalated") if h.body["event_id"] == str(event.event_id)]
    assert heard.message_id == str(event.event_id)
    assert heard.correlation_id == "corr-1" and heard.persistent
    assert RequestEscalated.model_validate(heard.body) == event


async def _wait_heard(tap, routing_key):
    await tap.wait_for(routing_key)
    return [h for h in tap.heard if h.routing_key == routing_key]


async def test_an_event_of_a_rolled_back_transaction_is_never_published(probe, settings):
    lost, kept = escalation(), escalation()
    async with event_tap(settings) as tap:
        with pytest.raises(ZeroDivisionError):
            async with probe.unit_of_work() as uow:
                await uow.emit(lost)
                1 / 0
        async with probe.unit_of_work() as uow:
            await uow.emit(kept)
        await eventually(lambda: _heard_id(tap, kept))
    assert not _heard_id(tap, lost)
    async with probe.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM outbox WHERE event_id = $1", lost.event_id) == 0


def _heard_id(tap, event) -> bool:
    return any(h.body.get("event_id") == str(event.event_id) for h in tap.heard)


async def test_events_committed_while_the_relay_was_away_go_out_when_it_sweeps(probe, settings):
    event = escalation()
    async with event_tap(settings) as tap:
        async with probe.pool.acquire() as conn:  # as if the process died right after the commit
            await conn.execute("INSERT INTO outbox (event_id, routing_key, body, correlation_id) "
                               "VALUES ($1, $2, $3, $4)", event.event_id, event.routing_key,
                               event.model_dump_json().encode(), event.correlation_id)
        await eventually(lambda: _heard_id(tap, event))  # no wake-up: the periodic sweep finds it
    async with probe.pool.acquire() as conn:
        assert await conn.fetchval("SELECT published_at IS NOT NULL FROM outbox WHERE event_id = $1",
                                   event.event_id)


async def test_a_message_is_claimed_once(probe):
    message_id = str(uuid.uuid4())
    async with probe.unit_of_work() as uow:
        assert await uow.claim(message_id, "q")
    async with probe.unit_of_work() as uow:
        assert not await uow.claim(message_id, "q")


async def test_a_claim_is_scoped_to_its_queue_and_publisher(probe):
    """Two systems that number their messages alike do not silence each other, nor do two queues."""
    async with probe.unit_of_work() as uow:
        assert await uow.claim("1", "q", "hotline-12345")
        assert await uow.claim("1", "q", "grid-platform")
        assert await uow.claim("1", "other-q", "hotline-12345")
        assert not await uow.claim("1", "q", "grid-platform")


async def test_a_failing_message_is_retried_until_it_works(probe, settings):
    message_id = await publish(settings, "probe.flaky", {"n": 1}, exchange="linli.events")

    async def third_delivery():
        return seen["flaky"].count(message_id) == 3
    await eventually(third_delivery)
    assert await _dead_letters(settings, "probe.flaky") == []


async def test_a_message_that_always_fails_is_dead_lettered_and_the_queue_goes_on(probe, settings):
    poison = await publish(settings, "probe.broken", {"n": 1}, exchange="linli.events")

    async def in_dead_letters():
        return await _dead_letters(settings, "probe.broken")
    [dead] = await eventually(in_dead_letters, timeout=60)
    assert dead.message_id == poison
    assert seen["broken"].count(poison) == DELIVERY_LIMIT + 1  # the first delivery and its redeliveries
    after = await publish(settings, "probe.broken", {"n": 2}, exchange="linli.events")
    await eventually(lambda: after in seen["broken"])


async def test_an_event_that_does_not_match_its_schema_is_dead_lettered_at_once(probe, settings):
    bad = await publish(settings, "probe.typed", {"event_id": "not a uuid"}, exchange="linli.events")
    good = escalation()
    await publish(settings, "probe.typed", good.model_dump(mode="json"), exchange="linli.events",
                  message_id=str(good.event_id))
    await eventually(lambda: str(good.event_id) in seen["typed"])
    [dead] = await eventually(lambda: _dead_letters(settings, "probe.typed"))
    assert dead.message_id == bad


@pytest.fixture
async def outbox_alone(settings, tmp_path):
    """A schema with the messaging tables and no service running on it: no relay but the test's."""
    await asyncio.to_thread(migrate, settings.database_url, "relay_alone", tmp_path)
    pool = await create_pool(settings.database_url, "relay_alone")
    yield pool
    await pool.close()


async def test_one_event_that_fails_to_publish_holds_back_no_other(outbox_alone):
    """Each row has its own attempts and backoff: the others of its batch are published."""
    stuck, others = escalation(), [escalation() for _ in range(3)]
    async with UnitOfWork(outbox_alone, lambda: None) as uow:
        for event in (stuck, *others):
            await uow.emit(event)
    published, broker_refuses = [], True

    async def publish(routing_key, body, event_id, correlation_id):
        if event_id == str(stuck.event_id) and broker_refuses:
            raise ConnectionError("the broker refused it")
        published.append(event_id)

    relay = OutboxRelay(outbox_alone, publish)
    await relay.publish_pending()
    assert {str(e.event_id) for e in others} <= set(published)
    query = "SELECT published_at, attempts, next_attempt_at > now() AS later, last_error FROM outbox WHERE event_id = $1"
    async with outbox_alone.acquire() as conn:
        row = await conn.fetchrow(query, stuck.event_id)
        assert row["published_at"] is None and row["attempts"] == 1 and row["later"]
        assert "refused" in row["last_error"]
        broker_refuses = False
        await relay.publish_pending()  # not due yet: not tried again
        assert (await conn.fetchrow(query, stuck.event_id))["attempts"] == 1
        await conn.execute("UPDATE outbox SET next_attempt_at = now() WHERE event_id = $1", stuck.event_id)
        await relay.publish_pending()
        assert (await conn.fetchrow(query, stuck.event_id))["published_at"] is not None
    assert published.count(str(stuck.event_id)) == 1


class Unheard(RequestEscalated):
    routing_key = "probe.nobody-listens"


async def test_an_event_no_queue_is_bound_for_is_kept_in_linli_unrouted(probe, settings):
    event = Unheard(**escalation().model_dump())
    async with probe.unit_of_work() as uow:
        await uow.emit(event)
    await eventually(lambda: _published(probe, event))
    connection = await aio_pika.connect(settings.rabbitmq_url, timeout=CONNECT_TIMEOUT)
    async with connection:
        unrouted = await (await connection.channel()).get_queue("linli.unrouted")

        async def kept():  # past what earlier tests of the session left unrouted, in one go
            while message := await unrouted.get(fail=False):
                if message.message_id == str(event.event_id):
                    return message
            return None
        kept_message = await eventually(kept)
    assert kept_message.routing_key == "probe.nobody-listens"


async def _published(probe, event) -> bool:
    async with probe.pool.acquire() as conn:
        return await conn.fetchval("SELECT published_at IS NOT NULL FROM outbox WHERE event_id = $1", event.event_id)


async def _dead_letters(settings, queue: str) -> list[aio_pika.abc.AbstractIncomingMessage]:
    connection = await aio_pika.connect(settings.rabbitmq_url, timeout=CONNECT_TIMEOUT)
    async with connection:
        channel = await connection.channel()
        dlq = await channel.get_queue(f"{queue}.dlq")
        messages = []
        while message := await dlq.get(fail=False, no_ack=False):
            messages.append(message)
        for message in messages:
            await message.nack(requeue=True)
        return messages
