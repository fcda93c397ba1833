"""The RabbitMQ broker of a service: connection, topology and event publishing."""
import logging

from faststream.rabbit import Channel, RabbitBroker

from shared.events import Event
from shared.topology import DEAD_LETTERS, EVENTS, EXCHANGES, dead_letter_queue

PUBLISH_TIMEOUT_SECONDS = 10


def create_broker(url: str, prefetch_count: int, *middlewares) -> RabbitBroker:
    # Per-message lines go to DEBUG: at INFO they cost throughput (STACK-NOTES).
    return RabbitBroker(
        url,
        default_channel=Channel(prefetch_count=prefetch_count, publisher_confirms=True),
        middlewares=middlewares,
        log_level=logging.DEBUG,
    )


async def declare_topology(broker: RabbitBroker, queue_names: list[str]) -> None:
    """Declare the exchanges and the dead-letter queue of each of the service's queues."""
    for exchange in EXCHANGES:
        await broker.declare_exchange(exchange)
    dlx = await broker.declare_exchange(DEAD_LETTERS)
    for name in queue_names:
        dlq = await broker.declare_queue(dead_letter_queue(name))
        await dlq.bind(dlx, routing_key=name)


async def publish_event(broker: RabbitBroker, routing_key: str, body: bytes,
                        event_id: str, correlation_id: str) -> None:
    """Publish one committed event: persistent, confirmed, message_id = event id.

    Not mandatory: anyone may bind to `linli.events`, and an event nobody listens to yet
    is not an error.
    """
    await broker.publish(
        body,
        exchange=EVENTS,
        routing_key=routing_key,
        persist=True,
        mandatory=False,
        message_id=event_id,
        correlation_id=correlation_id,
        content_type="application/json",
        timeout=PUBLISH_TIMEOUT_SECONDS,
    )


def encode(event: Event) -> bytes:
    return event.model_dump_json().encode()
