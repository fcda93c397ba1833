"""How every service consumes: its own quorum queue per handler, and one path for every
message: parse it, open a unit of work, claim the message id, hand the handler what it parsed
with the unit of work. A redelivered or re-published message reaches no handler.

Failures have one policy:
- What parsing means is the subscription's: an event is validated against its schema (a
  mismatch is dead-lettered at once: retrying cannot mend it); intake keeps the raw
  submission, and turns bad input into a rejection event.
- A body over the subscription's size limit is dead-lettered before anything reads it.
- A failure while PostgreSQL does not answer is an outage, not the message's fault
  (shared/outage.py): the consumer holds the message, waits for the database and tries again;
  consumption pauses for as long as the outage lasts and the delivery limit is not touched. So
  does a lost connection on a database that answers again (a restart), a few times.
- Any other failure (a bug, a poison message) is retried with backoff and dead-lettered to
  `<queue>.dlq` after the queue's delivery limit, so one poison message never blocks a queue.

Deliveries of one queue that arrive while its transactions are under way are handled together
(`Batches`): one transaction claims them all, runs their handlers in the order they came and
commits once. A batch that fails is undone whole and its messages are handled again one by one,
so that a failure stays the failing message's own. A subscription may `prepare` a batch before
its handlers run: the handlers of one message take their locks in the service's one order, but
a batch takes them message after message, so two batches can deadlock (which costs the
database's deadlock_timeout, a second, and the batch); taking the batch's locks first, sorted,
keeps the one order.

Every delivery a handler finishes with is counted once in `linli_handled_messages_total`, by
service, handler (the queue's name: what `linli status`, the DLQs and RabbitMQ's own series
call it) and outcome; a wait for the database is not an outcome, what follows it is.
"""
import asyncio
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from faststream.exceptions import RejectMessage
from faststream.rabbit import RabbitExchange, RabbitRouter
from faststream.rabbit.annotations import RabbitMessage
from prometheus_client import Counter, Histogram
from pydantic import ValidationError

from shared.events import Event
from shared.metrics import HANDLER_BUCKETS
from shared.outage import DatabaseWatch, is_connection_error
from shared.topology import DELIVERY_LIMIT, EVENTS, PERSONAL, service_queue
from shared.unit_of_work import UnitOfWork
from shared.validation import describe

log = logging.getLogger(__name__)
# outcome: done | duplicate (its id was claimed already) | retried (handed back for another try) |
# dead_lettered (its last delivery failed) | rejected (refused unread or unparsed: over the size
# limit, or not matching its schema; it goes to the DLQ at once)
HANDLED = Counter("linli_handled_messages_total", "Deliveries a consumer finished with, by handler and outcome",
                  ["service", "handler", "outcome"])
HANDLER_SECONDS = Histogram("linli_handler_duration_seconds",
                            "Seconds a handler took per message, from parsing it to the commit",
                            ["service", "handler"], buckets=HANDLER_BUCKETS)


@dataclass(frozen=True)
class Envelope:
    """An incoming message as handlers see it, free of the broker library."""

    queue: str
    routing_key: str
    message_id: str
    correlation_id: str
    body: bytes
    user_id: str | None = None  # the publisher's broker user, as RabbitMQ validated it


def envelope_of(queue: str, message: RabbitMessage) -> Envelope:
    raw = message.raw_message
    # A publisher that sends no message_id still gets exactly-once effects for exact re-sends.
    message_id = raw.message_id or "sha256:" + hashlib.sha256(message.body).hexdigest()
    return Envelope(queue=queue, routing_key=raw.routing_key or "", message_id=message_id,
                    correlation_id=raw.correlation_id or message_id, body=message.body, user_id=raw.user_id)


# handler(deps, uow, message): deps is what the service's context gives its handlers (it has a
# unit_of_work()); message is what the subscription's parse made of the envelope.
Handler = Callable[[Any, UnitOfWork, Any], Awaitable[None]]
# prepare(deps, uow, messages): before a batch's handlers, with the fresh messages of the batch
# (two or more), e.g. to take the locks they will take, in one order.
Prepare = Callable[[Any, UnitOfWork, list[Any]], Awaitable[None]]
Parse = Callable[[Envelope], Any]
# Tries of one delivery, uncounted, after a lost connection on a database that answers: a
# restart leaves stale connections in the pool, and a connection error that persists is a bug.
RECONNECT_TRIES = 3
# The largest event a service reads (events are a few KB); the broker's own max_message_size
# (1 MiB, scripts/ensure-servers.sh) bounds what reaches intake.
MAX_EVENT_BYTES = 256 * 1024


def as_event(event_type: type[Event]) -> Parse:
    return lambda envelope: event_type.model_validate_json(envelope.body)


def retry_delay(delivery_count: int) -> float:
    """Seconds to hold a failed message before handing it back: 0.5, 1, 2, 4 … at most 10."""
    return min(0.5 * 2 ** delivery_count, 10.0)


@dataclass(frozen=True)
class _Subscription:
    queue: str
    exchange: RabbitExchange
    routing_key: str
    handler: Handler
    parse: Parse
    max_bytes: int | None = MAX_EVENT_BYTES
    prepare: Prepare | None = None

    async def handle(self, deps: Any, deliveries: list[tuple[Envelope, Any]]) -> list[str]:
        """Claim and handle parsed deliveries in one unit of work; the outcome of each: done, or
        duplicate."""
        async with deps.unit_of_work() as uow:
            claimed = await uow.claim_all([(e.message_id, e.queue, e.user_id or "") for e, _ in deliveries])
            fresh = [message for new, (_, message) in zip(claimed, deliveries) if new]
            if self.prepare is not None and len(fresh) > 1:
                await self.prepare(deps, uow, fresh)
            for message in fresh:
                await self.handler(deps, uow, message)
        return ["done" if new else "duplicate" for new in claimed]


@dataclass
class Bound:
    """What the consumers are given once the service is wired: its handlers' deps, and the
    watch on its database (None: no outage handling, as in a test of one handler)."""

    deps: Any = None
    database: DatabaseWatch | None = None


class Batches:
    """One queue's deliveries, handled `size` at most per transaction and at most `parallel`
    transactions at a time. A delivery that finds a free transaction goes at once (alone, at
    low load); those that arrive meanwhile wait for the next, which takes them together."""

    def __init__(self, subscription: _Subscription, bound: Bound, size: int, parallel: int = 2):
        self.subscription, self._bound = subscription, bound
        self._size, self._parallel = size, parallel
        self._waiting: list[tuple[Envelope, Any, asyncio.Future]] = []
        self._running: set[asyncio.Task] = set()

    async def handle(self, envelope: Envelope, message: Any) -> str:
        """The delivery's outcome (done, duplicate), or the exception that its own try raised."""
        future = asyncio.get_running_loop().create_future()
        self._waiting.append((envelope, message, future))
        if len(self._running) < self._parallel:
            task = asyncio.create_task(self._drain())
            self._running.add(task)
            task.add_done_callback(self._running.discard)
        return await future

    async def _drain(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[:self._size], self._waiting[self._size:]
            try:
                await self._run(batch)
            finally:  # cancelled (the loop stopping): nobody waits forever
                for *_, future in batch:
                    if not future.done():
                        future.cancel()

    async def _run(self, batch: list[tuple[Envelope, Any, asyncio.Future]]) -> None:
        deps = self._bound.deps
        if len(batch) > 1:
            try:
                outcomes = await self.subscription.handle(deps, [(e, m) for e, m, _ in batch])
            except Exception as error:  # undone whole: each is tried again alone, below
                log.warning("%s: a batch of %d deliveries failed (%s); each is tried alone",
                            self.subscription.queue, len(batch), type(error).__name__)
            else:
                for (*_, future), outcome in zip(batch, outcomes):
                    future.set_result(outcome)
                return
        for envelope, message, future in batch:
            try:
                [outcome] = await self.subscription.handle(deps, [(envelope, message)])
            except Exception as error:
                future.set_exception(error)
            else:
                future.set_result(outcome)


class Consumers:
    """The queues of one service and the handler behind each. Each broker gets routers of its
    own (`router()`): subscribers are stateful, and two apps of one service in one process
    (tests) must not stop each other's."""

    def __init__(self) -> None:
        self._subscriptions: list[_Subscription] = []

    @property
    def queue_names(self) -> list[str]:
        return [subscription.queue for subscription in self._subscriptions]

    @property
    def personal_queues(self) -> list[tuple[str, str]]:
        """(queue, routing key) of the queues that read `linli.personal`."""
        return [(s.queue, s.routing_key) for s in self._subscriptions if s.exchange is PERSONAL]

    @property
    def bindings(self) -> list[tuple[str, str]]:
        """(exchange, routing key) of each queue: what the service's broker user may bind."""
        return [(subscription.exchange.name, subscription.routing_key) for subscription in self._subscriptions]

    def add(self, queue: str, exchange: RabbitExchange, routing_key: str, handler: Handler,
            parse: Parse = lambda envelope: envelope, max_bytes: int | None = MAX_EVENT_BYTES,
            prepare: Prepare | None = None) -> None:
        """Listen on `queue`; by default the handler is given the envelope itself. A body over
        `max_bytes` is dead-lettered unread (None: the parse bounds the size itself)."""
        self._subscriptions.append(_Subscription(queue, exchange, routing_key, handler, parse, max_bytes, prepare))

    def on_event(self, service: str, event_type: type[Event], handler: Handler, personal: bool = False,
                 prepare: Prepare | None = None) -> None:
        """Listen to `event_type` on `linli.events` through the service's own queue,
        named `<service>.<routing-key>` (e.g. `notify.assignment-offered`); the handler is
        given the event, validated. `personal`: the whole event, from `linli.personal` (if
        its type has personal fields), for a service that must reach or place people.
        `prepare`: what a batch of them does first (see Prepare)."""
        routing_key = event_type.routing_key
        exchange = PERSONAL if personal and event_type.personal else EVENTS
        self.add(f"{service}.{routing_key.replace('.', '-')}", exchange, routing_key, handler, as_event(event_type),
                 prepare=prepare)

    def router(self, service: str, bound: Bound, batch_size: int) -> RabbitRouter:
        """The subscribers, their metrics labelled with `service` (the ServiceDefinition's name),
        handling up to `batch_size` deliveries of a queue per transaction."""
        router = RabbitRouter()
        for subscription in self._subscriptions:
            _subscribe(router, Batches(subscription, bound, batch_size), bound, service)
        return router


async def _the_message(message) -> Any:
    """The decoder: the handler takes the broker's message itself (its body, headers, ids)."""
    return message


def _subscribe(router: RabbitRouter, batches: Batches, bound: Bound, service: str) -> None:
    subscription = batches.subscription
    queue = subscription.queue
    took = HANDLER_SECONDS.labels(service, queue)

    def count(outcome: str) -> None:
        HANDLED.labels(service, queue, outcome).inc()

    @router.subscriber(service_queue(queue, subscription.routing_key), subscription.exchange,
                       decoder=_the_message, title=queue)
    async def consume(message: RabbitMessage) -> None:
        body, database = message.body, bound.database
        if subscription.max_bytes is not None and len(body) > subscription.max_bytes:
            # Size and queue only: the content of an oversized body is never read, nor logged.
            log.error("%s: a message of %d bytes is over the limit of %d bytes, dead-lettered unread",
                      queue, len(body), subscription.max_bytes)
            count("rejected")
            raise RejectMessage(requeue=False)
        envelope = envelope_of(queue, message)
        reconnects = 0
        while True:
            try:
                started = time.perf_counter()
                outcome = await batches.handle(envelope, subscription.parse(envelope))
                took.observe(time.perf_counter() - started)
                return count(outcome)
            except ValidationError as error:
                log.error("%s: message %s does not match its schema, dead-lettered: %s",
                          queue, envelope.message_id, describe(error))
                count("rejected")
                raise RejectMessage(requeue=False) from error
            except Exception as error:
                if database is not None and not await database.answers():
                    await database.back()  # an outage: the message waits, uncounted
                    continue
                if database is not None and is_connection_error(error) and reconnects < RECONNECT_TRIES:
                    reconnects += 1  # a connection left stale by a restart of a database that answers again
                    log.warning("%s: message %s failed on a lost database connection (%s); tried again, uncounted",
                                queue, envelope.message_id, type(error).__name__)
                    continue
                raise await _handed_back(queue, envelope.message_id, message, count) from error


async def _handed_back(queue: str, message_id: str, message: RabbitMessage,
                       count: Callable[[str], None]) -> RejectMessage:
    """A failed try (while its exception is handled), handed back: retried after a backoff, or,
    at its last delivery, at once, for the broker to dead-letter (reason `delivery_limit`)."""
    attempts = int((message.headers or {}).get("x-delivery-count", 0))
    if attempts >= DELIVERY_LIMIT:
        log.exception("%s: message %s failed (delivery %d, the last), dead-lettered", queue, message_id, attempts + 1)
        count("dead_lettered")
    else:
        log.exception("%s: message %s failed (delivery %d), will retry", queue, message_id, attempts + 1)
        count("retried")
        await asyncio.sleep(retry_delay(attempts))
    return RejectMessage(requeue=True)
