"""Two batches of one service at once (shared/consumer.py: up to two transactions a queue, each
handling the deliveries that came meanwhile), through the service's own subscriptions: each
batch waits after its first message for the other's first, so that batches touching the same
things in opposite orders would hold them crossed, and deadlock unless the batch takes its locks
first, in one order."""
import asyncio
import contextlib
import dataclasses
import uuid

from shared.consumer import Envelope
from shared.service import ServiceDefinition

CROSSING_SECONDS = 1.0  # how long a batch waits for the other's first message


def subscription(service: ServiceDefinition, kind):
    """The service's own subscription to `kind`'s routing key (an event type, an event, or an
    envelope of intake's submissions): its prepare and handler, as wired."""
    return next(s for s in service.consumers._subscriptions if s.routing_key == kind.routing_key)


def deliveries(queue: str, events: list) -> list[tuple[Envelope, object]]:
    """Each event with an envelope of its own; an envelope (intake's submissions) is its own message."""
    return [(event, event) if isinstance(event, Envelope) else
            (Envelope(queue=queue, routing_key="", message_id=str(uuid.uuid4()), correlation_id="c", body=b""), event)
            for event in events]


def waiting_after_the_first(handler, mine: asyncio.Event, theirs: asyncio.Event):
    """The handler, but after its batch's first message it tells so and waits for the other
    batch's first message (or CROSSING_SECONDS, if the other waits for this one's locks)."""
    async def handle(deps, uow, event):
        await handler(deps, uow, event)
        if not mine.is_set():
            mine.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(theirs.wait(), CROSSING_SECONDS)
    return handle


async def crossed(service: ServiceDefinition, deps, first: list, second: list) -> list:
    """The outcomes of handling the two batches at once, each through its events' subscription,
    crossing after their first messages (an exception for a batch that failed, e.g. deadlocked)."""
    told = asyncio.Event(), asyncio.Event()
    batches = [dataclasses.replace(subscribed := subscription(service, batch[0]),
                                   handler=waiting_after_the_first(subscribed.handler, mine, theirs))
               for batch, mine, theirs in ((first, *told), (second, *told[::-1]))]
    return await asyncio.wait_for(asyncio.gather(
        *(batch.handle(deps, deliveries(batch.queue, events)) for batch, events in zip(batches, (first, second))),
        return_exceptions=True), 30)
