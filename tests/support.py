"""Helpers for integration and end-to-end tests: publish as an outside system does (raw
aio-pika, as the source's broker user, with `user_id`), announce an event as the service that
owns it, listen to `linli.events` as the observer, run a service in this process, wait for an effect."""
import asyncio
import contextlib
import inspect
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import aio_pika
import httpx
import uvicorn
from prometheus_client.parser import text_string_to_metric_families

from services.deployment import SERVICES
from services.intake.sources import load_sources
from shared.broker_users import OBSERVER, load_passwords, url_as, user_of
from shared.clock import Clock
from shared.events import Event, public_body
from shared.service import ServiceDefinition, create_app
from shared.settings import Settings
from tests.e2e.processes import free_port
from tests.identities import OPS, as_recipient
from tests.servers import BROKER_USERS, CONNECT_TIMEOUT, SOURCES

TIMEOUT_SECONDS = 20.0
OWN = object()  # user_id: the publishing user's own name


async def eventually(check: Callable[[], Any], timeout: float = TIMEOUT_SECONDS, every: float = 0.1):
    """Poll `check` (plain or async) until it returns something truthy; fail with its last
    answer if it never does."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result or time.monotonic() > deadline:
            assert result, f"condition not met within {timeout}s (last answer: {result!r})"
            return result
        await asyncio.sleep(every)


def as_user(settings: Settings, user: str | None) -> str:
    """The broker URL of the test's vhost as `user` (tests/broker-users.json); None: the admin."""
    return url_as(settings.rabbitmq_url, user, load_passwords(str(BROKER_USERS))[user]) if user else settings.rabbitmq_url


def publisher_of(exchange: str, routing_key: str, body: bytes | dict) -> str | None:
    """Who publishes this by default: on linli.intake the body's source (or else the first source
    that may publish the key), on linli.events and linli.personal the service that owns the event."""
    if exchange in ("linli.events", "linli.personal"):
        return next((user_of(s.name) for s in SERVICES if routing_key in {e.routing_key for e in s.publishes}), None)
    sources = [s for s in load_sources(str(SOURCES), False).known.values() if routing_key in s.publishes]
    named = body.get("source") if isinstance(body, dict) else None
    return next((s.source for s in sources if s.source == named), sources[0].source if sources else None)


async def publish(settings: Settings, routing_key: str, body: bytes | dict, *, message_id: str | None = None,
                  exchange: str = "linli.intake", correlation_id: str | None = None, user: str | None = None,
                  user_id: Any = OWN) -> str:
    """Publish one message the way an outside system does; returns its message_id."""
    [message_id] = await publish_burst(settings, [(routing_key, body, message_id)], exchange=exchange,
                                       correlation_id=correlation_id, user=user, user_id=user_id)
    return message_id


async def publish_burst(settings: Settings, messages: list[tuple[str, bytes | dict, str | None]], *,
                        exchange: str = "linli.intake", correlation_id: str | None = None, user: str | None = None,
                        user_id: Any = OWN) -> list[str]:
    """Publish (routing_key, body, message_id or None) messages back to back on one channel,
    so that they reach the consumers together; returns their message ids. Each is sent as
    `user` (by default its publisher_of), with `user_id` that user's name (None: no user_id)."""
    ids, targets = [], {}
    async with contextlib.AsyncExitStack() as stack:
        for routing_key, body, message_id in messages:
            sender = user or publisher_of(exchange, routing_key, body)
            if sender not in targets:
                connection = await aio_pika.connect(as_user(settings, sender), timeout=CONNECT_TIMEOUT)
                await stack.enter_async_context(connection)
                # passive: publishers do not declare exchanges
                targets[sender] = await (await connection.channel()).get_exchange(exchange)
            ids.append(message_id or str(uuid.uuid4()))
            payload = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
            await targets[sender].publish(aio_pika.Message(
                payload, content_type="application/json", message_id=ids[-1], correlation_id=correlation_id,
                user_id=sender if user_id is OWN else user_id, delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                routing_key=routing_key)
    return ids


async def announce(settings: Settings, event: Event, message_id: str | None = None) -> None:
    """Publish an event as a service's outbox relay does: on `linli.events` without its personal
    fields, and whole on `linli.personal` if it has any."""
    body, message_id = event.model_dump_json().encode(), message_id or str(event.event_id)
    public = public_body(event.routing_key, body)
    await publish(settings, event.routing_key, public or body, exchange="linli.events", message_id=message_id)
    if public is not None:
        await publish(settings, event.routing_key, body, exchange="linli.personal", message_id=message_id)


async def announced_and_handled(client: httpx.AsyncClient, service: str, settings: Settings, event: Event) -> None:
    """Announce the event and wait until the service's queue for its routing key has dealt with it
    (whichever exchange the service reads it from)."""
    async def done() -> float:
        return await handled(client, service, handler=f"{service}.{event.routing_key.replace('.', '-')}")
    before = await done()
    await announce(settings, event)
    await eventually(lambda: _more(done, before))


async def _more(count: Callable[[], Any], before: float) -> bool:
    return await count() > before


async def notification_of(notify: httpx.AsyncClient, event: Event, channel: str) -> dict | None:
    """What notify's API says of the notification about `event` on `channel`, if there is one."""
    rows = (await notify.get("/api/v1/notifications", params={"about_event_id": str(event.event_id)})).json()
    return next((row for row in rows if row["channel"] == channel), None)


async def sent(notify: httpx.AsyncClient, event: Event, channel: str) -> dict | None:
    """The notification about `event` on `channel` once it is sent."""
    row = await notification_of(notify, event, channel)
    return row if row and row["status"] == "sent" else None


async def waiting_on_a_lock(pool) -> bool:
    """Some transaction on the test's database waits for another's lock."""
    async with pool.acquire() as conn:
        return await conn.fetchval("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                   "AND wait_event_type = 'Lock'") > 0


async def racing(notifier, handle, first: Event, second: Event) -> None:
    """`handle` `first` in a transaction, and `second` in another begun meanwhile, which waits for
    a lock the first holds until it commits."""
    async def later() -> None:
        async with notifier.runtime.unit_of_work() as uow:
            await handle(notifier, uow, second)
    async with notifier.runtime.unit_of_work() as uow:
        await handle(notifier, uow, first)
        waiting = asyncio.create_task(later())
        await eventually(lambda: waiting_on_a_lock(notifier.pool))  # the second is inside, waiting
    await waiting


async def swept(notify: httpx.AsyncClient) -> None:
    """One sweep of notify's delivery worker, now: what is due goes, what is not stays."""
    await notify.app.state.deps.worker.deliver_due()


async def metric(client: httpx.AsyncClient, name: str, **labels) -> float:
    """The sum of the samples of `name` that carry `labels`, as the service's /metrics shows them."""
    text = (await client.get("/metrics")).text
    return sum(sample.value for family in text_string_to_metric_families(text) for sample in family.samples
               if sample.name == name and labels.items() <= sample.labels.items())


async def handled(client: httpx.AsyncClient, service: str, **labels: str) -> float:
    """Messages the service's consumers have finished with, handled or found a duplicate
    (narrowed by labels, e.g. handler="intake.request-submit", the queue). Each queue works on
    several at once, so this, not the order of publishing, tells that a copy has been dealt with."""
    return sum([await metric(client, "linli_handled_messages_total", service=service, outcome=outcome, **labels)
                for outcome in ("done", "duplicate")])


async def until_handled(client: httpx.AsyncClient, service: str, before: float, count: int,
                        timeout: float = TIMEOUT_SECONDS, **labels: str) -> None:
    """Wait until the service has finished `count` more messages than `before`."""
    async def done():
        return await handled(client, service, **labels) - before >= count
    await eventually(done, timeout)


@dataclass
class Heard:
    routing_key: str
    message_id: str | None
    body: dict
    correlation_id: str | None
    persistent: bool


@dataclass
class EventTap:
    """Everything published on `linli.events` while the tap is open."""

    heard: list[Heard] = field(default_factory=list)

    def of(self, routing_key: str) -> list[dict]:
        return [h.body for h in self.heard if h.routing_key == routing_key]

    async def wait_for(self, routing_key: str, count: int = 1, timeout: float = TIMEOUT_SECONDS) -> list[dict]:
        async def enough():
            return len(self.of(routing_key)) >= count
        await eventually(enough, timeout)
        return self.of(routing_key)


@contextlib.asynccontextmanager
async def event_tap(settings: Settings, exchange: str = "linli.events",
                    user: str | None = OBSERVER) -> AsyncIterator[EventTap]:
    """What the read-only observer sees on `linli.events`; what a service sees on `linli.personal`
    (`exchange="linli.personal"`: the observer may not bind it, so the tap is the admin's)."""
    if exchange != "linli.events":
        user = None
    tap = EventTap()
    connection = await aio_pika.connect(as_user(settings, user), timeout=CONNECT_TIMEOUT)
    async with connection:
        channel = await connection.channel()
        events = await channel.get_exchange(exchange)
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        await queue.bind(events, routing_key="#")

        async def hear(message: aio_pika.abc.AbstractIncomingMessage):
            async with message.process():
                tap.heard.append(Heard(message.routing_key, message.message_id, json.loads(message.body),
                                       message.correlation_id,
                                       message.delivery_mode == aio_pika.DeliveryMode.PERSISTENT))

        await queue.consume(hear)
        yield tap


# --- who the clients are (tests/identities.py) ---
@contextlib.asynccontextmanager
async def running(definition: ServiceDefinition, settings: Settings,
                  clock: Clock | None = None, headers: dict | None = None) -> AsyncIterator[httpx.AsyncClient]:
    """Run a service in this process against the real servers (on `clock`, the wall clock by
    default); yields an HTTP client for its API, signed in as ops unless `headers` say otherwise
    ({} for nobody). The client's `app` attribute gives the app (and `app.state.deps` the
    handlers' dependencies)."""
    app = create_app(definition, settings, clock)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test",
                                     headers=OPS if headers is None else headers) as client:
            client.app = app
            yield client


@contextlib.asynccontextmanager
async def on_a_port(app) -> AsyncIterator[str]:
    """`app` (already started by `running`) also on a real port, for a client that needs a URL
    (georeport, schemathesis); yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning"))
    task = asyncio.create_task(server.serve())
    await eventually(lambda: server.started)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def inbox_of(notify: httpx.AsyncClient, recipient: str, **params) -> httpx.Response:
    """notify's inbox of `recipient`, read as its owner (the volunteer, or the community's staff)."""
    return await notify.get(f"/api/v1/inbox/{recipient}", params=params, headers=as_recipient(recipient))
# --- end of who the clients are ---


async def enrol(matching: httpx.AsyncClient, settings: Settings, *volunteers: Event) -> None:
    """Register the volunteers (volunteer.registered) and wait until matching knows every one
    of them (communities like east-1 are shared by several tests, so their size says nothing)."""
    for volunteer in volunteers:
        await announce(settings, volunteer)

    async def all_known():
        for volunteer in volunteers:
            if (await matching.get(f"/api/v1/volunteers/{volunteer.volunteer_id}")).status_code != 200:
                return False
        return True
    await eventually(all_known)


async def roster_of(matching: httpx.AsyncClient, community: str, size: int) -> list[dict]:
    """matching's roster of `community`, once it has `size` volunteers."""
    async def complete():
        rows = (await matching.get("/api/v1/volunteers", params={"community": community})).json()
        return rows if len(rows) == size else None
    return await eventually(complete)
