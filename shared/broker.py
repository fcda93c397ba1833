"""The RabbitMQ broker of a service: connection, topology and event publishing."""
import logging

from faststream.rabbit import Channel, RabbitBroker

from shared.events import Event, public_body
from shared.topology import DEAD_LETTERS, EVENTS, EXCHANGES, PERSONAL, dead_letter_queue, service_queue

PUBLISH_TIMEOUT_SECONDS = 10
# A broker that takes the TCP connection but never completes the handshake fails the attempt
# (start-up then tries again: shared/service.py) instead of hanging it.
CONNECT_TIMEOUT_SECONDS = 10


def create_broker(url: str, prefetch_count: int) -> RabbitBroker:
    """A lean broker: no middleware of our own, no dependency injection per message (the
    consumers are handed what they need when they are wired: shared/consumer.py), per-message
    lines at DEBUG (at INFO they cost throughput: STACK-NOTES). Profiled under the full cycle,
    FastStream's Prometheus middleware and its injection took a fifth of a service's CPU;
    linli's own series count every delivery."""
    return RabbitBroker(
        url,
        timeout=CONNECT_TIMEOUT_SECONDS,
        default_channel=Channel(prefetch_count=prefetch_count, publisher_confirms=True),
        apply_types=False,
        log_level=logging.DEBUG,
    )


async def declare_topology(broker: RabbitBroker, queue_names: list[str],
                           moved_to_personal: list[tuple[str, str]] = ()) -> None:
    """Declare the exchanges and the dead-letter queue of each of the service's queues. A queue
    that now reads `linli.personal` (queue, routing key) loses its old `linli.events` binding:
    it would otherwise get the public copy of each event too, under the same message id."""
    for exchange in EXCHANGES:
        await broker.declare_exchange(exchange)
    dlx = await broker.declare_exchange(DEAD_LETTERS)
    for name in queue_names:
        dlq = await broker.declare_queue(dead_letter_queue(name))
        await dlq.bind(dlx, routing_key=name)
    events = await broker.declare_exchange(EVENTS)
    for name, routing_key in moved_to_personal:
        await (await broker.declare_queue(service_queue(name, routing_key))).unbind(events, routing_key)


async def publish_event(broker: RabbitBroker, routing_key: str, body: bytes,
                        event_id: str, correlation_id: str) -> bytes:
    """Publish one committed event: persistent, confirmed, message_id = event id; on
    `linli.events` without its personal fields, and whole on `linli.personal` if it has any.
    Returns the public form when it differs from `body` (the outbox then keeps only that once
    the event is out), else None.

    Not mandatory: anyone may bind to `linli.events`, and an event nobody listens to yet
    is not an error.
    """
    public = public_body(routing_key, body)
    for exchange, payload in ((EVENTS, public or body), (PERSONAL, body if public else None)):
        if payload is not None:
            await broker.publish(payload, exchange=exchange, routing_key=routing_key, persist=True, mandatory=False,
                                 message_id=event_id, correlation_id=correlation_id,
                                 content_type="application/json", timeout=PUBLISH_TIMEOUT_SECONDS)
    return public


def encode(event: Event) -> bytes:
    return event.model_dump_json().encode()
