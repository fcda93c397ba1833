"""The peer the benchmarks compare linli with: a bare FastStream pipeline over the same hops, one
process per service (`python -m bench.peer SERVICE`), written as FastStream's own examples write
a consumer that publishes: a subscriber per queue (durable quorum queues, bound to the same
routing keys as the linli service's own queues), a handler that takes the body as a dict and
publishes what the linli service would publish for it (persistent, confirmed), one message at a
time, with FastStream's defaults (its injection and middleware; per-message lines at DEBUG, as linli's). No database, no validation, no
outbox: what a message costs when nothing but the broker and the framework touch it.

Two differences, both in the peer's favour: an event is published once (linli publishes an event
that has personal fields twice, on `linli.events` without them and whole on `linli.personal`),
and notify's peer publishes one `notification.sent` for each event of a request's cycle it hears
(linli's notify sends one or two notifications per event, and records each)."""
import asyncio
import contextlib
import importlib
import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator

import aio_pika
from faststream.rabbit import Channel, ExchangeType, QueueType, RabbitBroker, RabbitExchange, RabbitQueue

INTAKE = RabbitExchange("peer.intake", type=ExchangeType.TOPIC, durable=True)
EVENTS = RabbitExchange("peer.events", type=ExchangeType.TOPIC, durable=True)
NOTIFIED = ("request.received", "assignment.offered", "assignment.accepted", "request.assigned", "request.completed")
# What each service publishes for what it takes, along a request's cycle (the rest it only acks).
NEXT = {
    "intake": {"request.submit": ("request.received",), "assignment.respond": ("assignment.responded",),
               "service.complete": ("completion.reported",)},
    "matching": {"request.received": ("assignment.offered",),
                 "assignment.responded": ("assignment.accepted", "request.assigned"),
                 "completion.reported": ("request.completed",)},
    "notify": dict.fromkeys(NOTIFIED, ("notification.sent",)),
    "reporting": {},
}


def bindings(service: str) -> list[tuple[str, str]]:
    """(exchange, routing key) of the linli service's queues (its app's consumers), the peer's
    exchange for each: its submissions' or its events'."""
    definition = importlib.import_module(f"services.{service}.app").SERVICE
    return sorted({(INTAKE if exchange == "linli.intake" else EVENTS, key)
                   for exchange, key in definition.consumers.bindings}, key=lambda binding: binding[1])


def peer_broker(url: str, service: str) -> RabbitBroker:
    # Per-message lines at DEBUG, as linli's (at INFO they cost throughput: STACK-NOTES).
    broker = RabbitBroker(url, default_channel=Channel(prefetch_count=32, publisher_confirms=True),
                          log_level=logging.DEBUG)
    for exchange, key in bindings(service):
        queue = RabbitQueue(f"peer.{service}.{key}", durable=True, queue_type=QueueType.QUORUM, routing_key=key)
        broker.subscriber(queue, exchange)(_hop(broker, NEXT[service].get(key, ())))
    return broker


def _hop(broker: RabbitBroker, publishes: tuple[str, ...]):
    async def hop(body: dict) -> None:
        for key in publishes:
            await broker.publish(body, exchange=EVENTS, routing_key=key, persist=True)
    return hop


async def serve(url: str, service: str) -> None:
    broker = peer_broker(url, service)
    await broker.start()
    print("ready", flush=True)
    sys.stdout.close()  # nobody reads further
    try:
        await asyncio.Event().wait()
    finally:
        await broker.stop()


@contextlib.contextmanager
def peers(url: str, services: tuple[str, ...]) -> Iterator[None]:
    """The peer's processes, one per service, until each says it is ready."""
    env = {**os.environ, "PEER_RABBITMQ_URL": url}
    processes = [subprocess.Popen([sys.executable, "-m", "bench.peer", service], env=env, stdout=subprocess.PIPE,
                                  text=True) for service in services]
    try:
        for process in processes:
            if "ready" not in (line.strip() for line in iter(process.stdout.readline, "")):  # after FastStream's
                raise RuntimeError(f"a peer process did not start (exit {process.poll()})")
        yield
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)


async def through_peer(url: str, services: tuple[str, ...], bodies: list[dict], until: str) -> dict:
    """The bodies as request.submit through the peer's services, volunteers answering at once
    (an offer accepted, an acceptance reported done), timed until each has its `until` event."""
    with peers(url, services):
        connection = await aio_pika.connect(url, timeout=10)
        async with connection:
            channel = await connection.channel(publisher_confirms=True)
            intake = await channel.get_exchange(INTAKE.name)
            answers = {"assignment.offered": "assignment.respond", "assignment.accepted": "service.complete"}
            done, seen = asyncio.Event(), set()

            async def publish(key: str, body: bytes) -> None:
                await intake.publish(aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                                     routing_key=key, timeout=10)

            async def hear(message: aio_pika.abc.AbstractIncomingMessage) -> None:
                async with message.process():
                    if message.routing_key == until:
                        seen.add(json.loads(message.body)["external_id"])
                        if len(seen) == len(bodies):
                            done.set()
                    elif message.routing_key in answers and until == "request.completed":
                        await publish(answers[message.routing_key], message.body)

            listener = await channel.declare_queue(exclusive=True, auto_delete=True)
            await listener.bind(await channel.get_exchange(EVENTS.name), routing_key="#")
            await listener.consume(hear)
            started = time.perf_counter()
            await asyncio.gather(*(publish("request.submit", json.dumps(body, ensure_ascii=False).encode())
                                   for body in bodies))
            await asyncio.wait_for(done.wait(), 900)
            elapsed = time.perf_counter() - started
    return {"requests": len(bodies), "seconds": round(elapsed, 2), "requests_per_second": round(len(bodies) / elapsed, 1)}


if __name__ == "__main__":
    asyncio.run(serve(os.environ["PEER_RABBITMQ_URL"], sys.argv[1]))
