"""What a service does when PostgreSQL or the broker is not there: it waits at start-up, pauses
its consumers through an outage without dead-lettering anything, reports dead workers as not
ready, and drains its consumers before its relay stops. The servers are taken away from the
service alone, through a proxy (tests/proxy.py)."""
import asyncio
import contextlib
import logging
import uuid

import aio_pika
import pytest
from fastapi import APIRouter

from shared.consumer import Consumers, Envelope
from shared.events import RequestEscalated
from shared.service import ServiceDefinition
from shared.topology import EVENTS
from tests.proxy import proxy_to
from tests.servers import CONNECT_TIMEOUT, check_answers
from tests.support import event_tap, eventually, publish, running

pytestmark = pytest.mark.integration

handled: list[str] = []
slow_started = asyncio.Event()


async def work(runtime, uow, envelope: Envelope) -> None:
    await uow.connection.execute("SELECT 1")
    handled.append(envelope.message_id)


async def slow(runtime, uow, envelope: Envelope) -> None:
    slow_started.set()
    await asyncio.sleep(1.5)
    await uow.emit(RequestEscalated(correlation_id=envelope.message_id, request_id=uuid.uuid4(), source="s",
                                    external_id="e", category="housekeeping", community_code="c1",
                                    reason="drained", urgency="normal"))


async def dies() -> None:
    raise RuntimeError("a worker's bug")


consumers = Consumers()
consumers.add("outage.work", EVENTS, "outage.work", work)
consumers.add("outage.slow", EVENTS, "outage.slow", slow)


def probe(tmp_path, background=lambda deps: []) -> ServiceDefinition:
    return ServiceDefinition(name="outage", consumers=consumers, api=APIRouter(), migrations=tmp_path,
                             background=background)


def through(settings, database=None, broker=None):
    return settings.model_copy(update={
        "database_url": database.url(settings.database_url) if database else settings.database_url,
        "rabbitmq_url": broker.url(settings.rabbitmq_url) if broker else settings.rabbitmq_url})


async def test_consumers_wait_through_a_database_outage_longer_than_the_retry_budget(settings, tmp_path):
    """20 s down: the retries of a failure (about 15 s to the delivery limit) would dead-letter them."""
    async with proxy_to(settings.database_url, 5432) as database, \
            running(probe(tmp_path), through(settings, database)) as client:
        await database.down()
        ids = [await publish(settings, "outage.work", {"n": n}, exchange="linli.events") for n in range(5)]
        await asyncio.sleep(20)
        assert not set(ids) & set(handled)
        assert (await client.get("/readyz")).json()["database"] is False
        await database.up()
        await eventually(lambda: set(ids) <= set(handled), timeout=60)
    assert sorted(handled.count(i) for i in ids) == [1] * 5
    assert await _dead_letters(settings, "outage.work") == 0


async def test_a_service_started_before_its_servers_waits_for_them_and_becomes_ready(settings, tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="shared.service")
    async with proxy_to(settings.database_url, 5432, start_up=False) as database, \
            proxy_to(settings.rabbitmq_url, 5672, start_up=False) as broker:
        ready = asyncio.Event()

        async def serve():
            async with running(probe(tmp_path), through(settings, database, broker)) as client:
                assert (await client.get("/readyz")).status_code == 200
                ready.set()
                await asyncio.sleep(3600)

        task = asyncio.create_task(serve())
        try:
            await eventually(lambda: "PostgreSQL (migrations) does not answer yet" in caplog.text)
            await database.up()
            await eventually(lambda: "RabbitMQ does not answer yet" in caplog.text)
            assert not task.done()  # waiting, not crashed
            await broker.up()
            await asyncio.wait_for(ready.wait(), timeout=60)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def test_readiness_fails_when_a_background_worker_died(settings, tmp_path):
    async with running(probe(tmp_path, background=lambda deps: [dies()]), settings) as client:
        async def reported():
            response = await client.get("/readyz")
            return response if response.json()["workers"].get("dies") == "dead" else None
        response = await eventually(reported)
    assert response.status_code == 503
    assert response.json()["workers"]["outbox relay"] == "ok" and response.json()["broker"] is True


async def test_shutdown_drains_the_consumers_before_the_relay_stops(settings, tmp_path):
    """The event a message in hand commits while the service stops is published on the way out."""
    async with event_tap(settings) as tap:
        async with running(probe(tmp_path), settings):
            message_id = await publish(settings, "outage.slow", {"n": 1}, exchange="linli.events")
            await asyncio.wait_for(slow_started.wait(), timeout=30)

        def drained():
            return [e for e in tap.of("request.escalated") if e["correlation_id"] == message_id]
        found = await eventually(drained, timeout=10)
        assert len(found) == 1


async def _dead_letters(settings, queue: str) -> int:
    async with await aio_pika.connect(settings.rabbitmq_url, timeout=CONNECT_TIMEOUT) as connection:
        dlq = await (await connection.channel()).declare_queue(f"{queue}.dlq", passive=True)
        return dlq.declaration_result.message_count


async def test_a_broker_that_never_completes_its_handshake_stops_the_run_naming_it(settings):
    """As the local RabbitMQ 3.10 did after many vhost cycles: TCP accepted, then silence."""
    silent = await asyncio.start_server(lambda reader, writer: None, "127.0.0.1", 0)
    port = silent.sockets[0].getsockname()[1]
    try:
        with pytest.raises(RuntimeError, match=rf"RabbitMQ at 127.0.0.1:{port} did not complete an AMQP handshake"):
            await asyncio.to_thread(check_answers, settings.database_url, f"amqp://guest:guest@127.0.0.1:{port}/")
    finally:
        silent.close()
