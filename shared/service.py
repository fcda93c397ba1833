"""The bootstrap every service shares: migrations, pool, broker, outbox relay, background
tasks and HTTP (health, readiness, metrics, the service's own API), in one process.

Start-up waits for PostgreSQL and the broker (retrying with backoff, one clear line per try)
rather than exit; until both answer the service is not ready. Shutdown goes in the order that
loses nothing: the consumers stop taking messages and finish those they hold, the background
workers stop, the relay publishes what they committed, then the broker and pool close."""
import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import asyncpg
import uvicorn
from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from faststream.rabbit import RabbitBroker
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from shared.access import Access, allow, install, tokens_of
from shared.areas import Areas
from shared.asyncapi import document as asyncapi_document
from shared.asyncapi_html import page as asyncapi_page
from shared.broker import create_broker, declare_topology, publish_event
from shared.clock import Clock, SystemClock
from shared.consumer import Bound, Consumers
from shared.database import create_pool, migrate
from shared.identity import Caller, Role
from shared.events import Event
from shared.outage import DatabaseWatch, backoff
from shared.outbox import OutboxRelay
from shared.privacy import MaskingFormatter
from shared.retention import Prune, Retention
from shared.settings import Settings, get_settings
from shared.unit_of_work import UnitOfWork
from shared.workers import Worker

log = logging.getLogger(__name__)
READY_TIMEOUT_SECONDS = 2.0
# Seconds the relay keeps publishing at shutdown what the drained consumers committed.
FINAL_PUBLISH_SECONDS = 5.0


def _installed_version() -> str:
    """The linli package's version, which `/readyz` reports (`linli status` shows it)."""
    try:
        return version("linli")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


VERSION = _installed_version()


@dataclass(frozen=True)
class Runtime:
    """What the bootstrap hands a service: its settings, the I/O it may use, and its clock."""

    settings: Settings
    pool: asyncpg.Pool
    broker: RabbitBroker
    relay: OutboxRelay
    clock: Clock
    database: DatabaseWatch
    consumers: Bound = field(default_factory=Bound)  # what the consumers are handed at connect()

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self.pool, self.relay.wake)


@dataclass(frozen=True)
class ServiceContext:
    """What every service's context (its `context.py`) gives handlers and API alike: the
    runtime's settings, a unit of work, and the time on the runtime's clock (a test sets it)."""

    runtime: Runtime

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    def unit_of_work(self) -> UnitOfWork:
        return self.runtime.unit_of_work()

    def now(self) -> datetime:
        return self.runtime.clock.now()


@dataclass(frozen=True)
class ServiceDefinition:
    name: str  # also the name of its PostgreSQL schema
    consumers: Consumers
    api: APIRouter
    migrations: Path
    # Builds what the handlers are given (by default the runtime itself).
    make_deps: Callable[[Runtime], Any] = lambda runtime: runtime
    # The events it publishes (on linli.events, and linli.personal): its broker user may publish
    # only these (shared/broker_users.py).
    publishes: tuple[type[Event], ...] = ()
    # Long-running tasks beside the consumers, e.g. a delivery worker.
    background: Callable[[Any], list[Coroutine]] = field(default=lambda deps: [])
    # The systems' API keys (intake): (deps, key) -> the source's caller, or None for no key of ours.
    api_keys: Callable[[Any, str], Caller | None] | None = None
    # What the retention sweeper prunes besides the messaging tables (shared/retention.py).
    retention: tuple[Prune, ...] = ()


def deps_of(request: Request) -> Any:
    """FastAPI dependency: the service's handler dependencies."""
    return request.app.state.deps


async def until_up(what: str, attempt: Callable[[], Coroutine]) -> Any:
    """Run `attempt` until it succeeds: a server that is not there yet is waited for, never a crash."""
    tries = 0
    while True:
        try:
            return await attempt()
        except Exception as error:  # whatever keeps it from answering; the line says what
            delay = backoff(tries)
            log.warning("%s does not answer yet (%s: %s); not ready, trying again in %.1fs",
                        what, type(error).__name__, error, delay)
            tries += 1
            await asyncio.sleep(delay)


async def start_runtime(definition: ServiceDefinition, settings: Settings, clock: Clock) -> Runtime:
    if settings.database_migrate_on_start:
        await until_up("PostgreSQL (migrations)", lambda: asyncio.to_thread(
            migrate, settings.database_url, definition.name, definition.migrations,
            settings.database_password_of(definition.name), settings.database_manage_roles))
    pool = await until_up("PostgreSQL", lambda: create_pool(settings.database_url_of(definition.name), definition.name))
    broker = create_broker(settings.rabbitmq_url_of(definition.name), settings.prefetch_count)
    database = DatabaseWatch(pool, definition.name)
    bound = Bound(database=database)
    broker.include_router(definition.consumers.router(definition.name, bound, settings.consumer_batch_size))
    relay = OutboxRelay(pool, partial(publish_event, broker), settings.outbox_poll_seconds)
    return Runtime(settings, pool, broker, relay, clock, database, bound)


async def connect(runtime: Runtime, definition: ServiceDefinition, deps: Any) -> None:
    broker = runtime.broker
    runtime.consumers.deps = deps
    await until_up("RabbitMQ", broker.connect)
    await until_up("RabbitMQ (topology)", lambda: declare_topology(
        broker, definition.consumers.queue_names, definition.consumers.personal_queues))
    await broker.start()


async def stop(runtime: Runtime, workers: list[Worker]) -> None:
    """Drain the consumers, stop the workers, let the relay publish what was committed, then close."""
    await asyncio.gather(*(subscriber.stop() for subscriber in runtime.broker.subscribers), return_exceptions=True)
    relay, others = workers[0], workers[1:]
    for worker in others:
        worker.task.cancel()
    await asyncio.gather(*(worker.task for worker in others), return_exceptions=True)
    runtime.relay.sweeper.finish()
    try:  # the broker or database may be gone: what is left is published at the next start
        await asyncio.wait_for(relay.task, FINAL_PUBLISH_SECONDS)
    except Exception:  # TimeoutError included
        relay.task.cancel()
        await asyncio.gather(relay.task, return_exceptions=True)
    await runtime.broker.stop()
    await runtime.pool.close()


def create_app(definition: ServiceDefinition, settings: Settings | None = None,
               clock: Clock | None = None) -> FastAPI:
    """The service as an ASGI app; a test hands in its own settings and clock."""
    settings, clock = settings or get_settings(), clock or SystemClock()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        runtime = await start_runtime(definition, settings, clock)
        deps = definition.make_deps(runtime)
        await connect(runtime, definition, deps)
        retention = Retention(runtime, definition.retention)
        # The relay first: stop() tells it from the others.
        workers = [Worker.start(job) for job in (runtime.relay.run(), retention.run(), *definition.background(deps))]
        app.state.runtime, app.state.deps, app.state.retention = runtime, deps, retention
        app.state.workers = workers
        try:
            yield
        finally:
            await stop(runtime, workers)

    app = FastAPI(title=f"linli {definition.name}", lifespan=lifespan)
    keys = definition.api_keys
    install(app, Access(tokens_of(settings), Areas.load(settings.areas_file),
                        (lambda key: keys(app.state.deps, key)) if keys else None))
    app.include_router(_operations_api())
    app.include_router(definition.api)
    return app


def _operations_api() -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz")
    async def healthz():
        return {"status": "ok"}

    @router.get("/readyz")
    async def readyz(request: Request):
        """Ready when the broker and PostgreSQL answer and no background worker is dead or stuck."""
        runtime: Runtime = request.app.state.runtime
        broker_ok = bool(await runtime.broker.ping(timeout=READY_TIMEOUT_SECONDS))
        database_ok = await runtime.database.answers()
        workers = {worker.heartbeat.name: worker.state() for worker in request.app.state.workers}
        ready = broker_ok and database_ok and all(state in ("ok", "finished") for state in workers.values())
        return JSONResponse({"ready": ready, "broker": broker_ok, "database": database_ok, "workers": workers,
                             "version": VERSION},
                            status_code=200 if ready else 503)

    @router.get("/asyncapi.json")
    async def asyncapi():
        """The JSON Schemas of every submission and event (CONTRACT.md): open, it holds schemas, no data."""
        return asyncapi_document()

    @router.get("/asyncapi.html", response_class=HTMLResponse)
    async def asyncapi_html():
        """The same document as one readable page that loads nothing from elsewhere: open too."""
        return asyncapi_page()

    @router.get("/metrics", dependencies=[Depends(allow(Role.OPS))])
    async def metrics():
        """Prometheus text; ops only (Prometheus scrapes with an ops token: `authorization` in its scrape config)."""
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    return router


def serve(definition: ServiceDefinition) -> None:
    """Run one service until SIGINT/SIGTERM, then stop it cleanly."""
    settings = get_settings()
    handler = logging.StreamHandler()
    handler.setFormatter(MaskingFormatter(f"%(asctime)s {definition.name} %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    for chatty in ("httpx", "httpcore"):  # a line per request at INFO (every SMS, every webhook): warnings only
        logging.getLogger(chatty).setLevel(logging.WARNING)
    uvicorn.run(create_app(definition, settings), host=settings.host, port=settings.port_of(definition.name),
                access_log=False, log_config=None, loop="uvloop")
