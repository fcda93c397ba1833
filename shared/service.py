"""The bootstrap every service shares: migrations, pool, broker, outbox relay, background
tasks and HTTP (health, readiness, metrics, the service's own API), in one process."""
import asyncio
import logging
from collections.abc import Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import asyncpg
import uvicorn
from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from faststream.rabbit import RabbitBroker
from faststream.rabbit.prometheus import RabbitPrometheusMiddleware
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from shared.access import Access, allow, install, tokens_of
from shared.areas import Areas
from shared.asyncapi import document as asyncapi_document
from shared.broker import create_broker, declare_topology, publish_event
from shared.clock import Clock, SystemClock
from shared.consumer import Consumers
from shared.database import create_pool, migrate
from shared.identity import Caller, Role
from shared.events import Event
from shared.outbox import OutboxRelay
from shared.privacy import MaskingFormatter
from shared.retention import Prune, Retention
from shared.settings import Settings, get_settings
from shared.unit_of_work import UnitOfWork

READY_TIMEOUT_SECONDS = 2.0


@dataclass(frozen=True)
class Runtime:
    """What the bootstrap hands a service: its settings, the I/O it may use, and its clock."""

    settings: Settings
    pool: asyncpg.Pool
    broker: RabbitBroker
    relay: OutboxRelay
    clock: Clock

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


async def start_runtime(definition: ServiceDefinition, settings: Settings, clock: Clock) -> Runtime:
    if settings.database_migrate_on_start:
        await asyncio.to_thread(migrate, settings.database_url, definition.name, definition.migrations,
                                settings.database_password_of(definition.name), settings.database_manage_roles)
    pool = await create_pool(settings.database_url_of(definition.name), definition.name)
    broker = create_broker(settings.rabbitmq_url_of(definition.name), settings.prefetch_count,
                           RabbitPrometheusMiddleware(registry=REGISTRY, app_name=definition.name))
    broker.include_router(definition.consumers.router())
    relay = OutboxRelay(pool, partial(publish_event, broker), settings.outbox_poll_seconds)
    return Runtime(settings, pool, broker, relay, clock)


def create_app(definition: ServiceDefinition, settings: Settings | None = None,
               clock: Clock | None = None) -> FastAPI:
    """The service as an ASGI app; a test hands in its own settings and clock."""
    settings, clock = settings or get_settings(), clock or SystemClock()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        runtime = await start_runtime(definition, settings, clock)
        deps = definition.make_deps(runtime)
        runtime.broker.context.set_global("deps", deps)
        await runtime.broker.connect()
        await declare_topology(runtime.broker, definition.consumers.queue_names, definition.consumers.personal_queues)
        await runtime.broker.start()
        retention = Retention(runtime, definition.retention)
        jobs = (runtime.relay.run(), retention.run(), *definition.background(deps))
        tasks = [asyncio.create_task(job) for job in jobs]
        app.state.runtime, app.state.deps, app.state.retention = runtime, deps, retention
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await runtime.broker.stop()
            await runtime.pool.close()

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
        runtime: Runtime = request.app.state.runtime
        broker_ok = await runtime.broker.ping(timeout=READY_TIMEOUT_SECONDS)
        try:
            async with asyncio.timeout(READY_TIMEOUT_SECONDS):
                database_ok = await runtime.pool.fetchval("SELECT true")
        except Exception:  # whatever keeps the database from answering means: not ready
            database_ok = False
        checks = {"broker": bool(broker_ok), "database": bool(database_ok)}
        return JSONResponse({"ready": all(checks.values()), **checks}, status_code=200 if all(checks.values()) else 503)

    @router.get("/asyncapi.json")
    async def asyncapi():
        """The JSON Schemas of every submission and event (CONTRACT.md): open, it holds schemas, no data."""
        return asyncapi_document()

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
    uvicorn.run(create_app(definition, settings), host=settings.host, port=settings.port_of(definition.name),
                access_log=False, log_config=None)
